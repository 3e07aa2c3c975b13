"""Misspecified wiring and what users read: recovery when the student's mask is wrong.

What it measures
----------------
For every cell -- task (classification, regression, survival) × protocol
(``practice``: the estimators' defaults; ``converged``: full-batch L-BFGS
to tolerance with restarts, :func:`sklearn_binn.study.protocol_params`) ×
student wiring × seed -- a teacher BINN with known random weights on a
synthetic Reactome-like hierarchy (:func:`make_pathway_mask`) generates 10
training samples per edge and held-out samples; a student is trained on a
mask that differs from the teacher's in its gene → pathway layer:

- ``true``: the teacher's own mask (the study's usual setting);
- ``perturbed-F``: a fraction ``F`` of the gene → pathway edges missing and
  as many false edges added (:func:`sklearn_binn.perturb_mask`);
- ``rewired``: the gene → pathway layer rewired keeping every degree
  (:func:`sklearn_binn.randomize_mask`), the extreme.

Per pathway layer it reports the output fit (held-out R² of the raw output
against the teacher's, excess loss), recovery on the edges both masks
share, activation recovery, the share of the student's weight on false
edges next to the share of false edges, and the ROC AUC with which false
edges can be told from true ones by |weight| and by attribution
(:func:`sklearn_binn.misspecification_report`); and the student's
pathway-importance ranking against the teacher's (Spearman, top-10 and
top-10 % overlap, rank recovery) for integrated gradients, DeepLIFT and
gradient × input, beside untrained students
(:func:`sklearn_binn.importance_recovery`).

How to run
----------
From the repository root::

    python benchmarks/misspecified.py --quick              # minutes on 2 cores
    python benchmarks/misspecified.py --n-jobs 2           # the full grid

Results go to ``--out`` (default ``./misspecified/``): ``misspecified.csv``
(one row per cell × layer × attribution method; rerunning skips finished
cells), ``summary.csv`` and ``summary.txt`` (means and sd over seeds); the
summary table is printed last.

What passes
-----------
The script checks its own reference point and exits with status 1 if it
fails: on the ``true`` wiring there are no false and no missing edges.
Everything else is the measurement.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import build_parser, print_summary, run_cells  # noqa: E402
from sklearn_binn import (  # noqa: E402
    BINNClassifier,
    BINNRegressor,
    BINNSurvival,
    TeacherDataset,
    importance_recovery,
    misspecification_report,
    output_fit,
    perturb_mask,
    randomize_mask,
)
from sklearn_binn.datasets import make_pathway_mask  # noqa: E402
from sklearn_binn.study import protocol_params  # noqa: E402

TASKS = ("classification", "regression", "survival")
PROTOCOLS = ("practice", "converged")
METHODS = ("integrated_gradients", "deeplift", "gradient_x_input")
FULL = {"wirings": ["true", "perturbed-0.1", "perturbed-0.3", "rewired"], "seeds": 3,
        "n_genes": 100}
QUICK = {"wirings": ["true", "perturbed-0.2", "rewired"], "seeds": 1, "n_genes": 30}
KEY_COLUMNS = ["task", "protocol", "wiring", "n_genes", "depth", "samples_per_edge",
               "n_test", "seed"]
_ESTIMATORS = {"classification": BINNClassifier, "regression": BINNRegressor,
               "survival": BINNSurvival}


def student_mask(mask, wiring, seed):
    """The student's wiring for ``wiring`` ("true", "perturbed-F" or "rewired").

    Examples
    --------
    >>> mask = make_pathway_mask(30, depth=2, random_state=0)
    >>> student_mask(mask, "true", 0) is mask
    True
    >>> wrong = student_mask(mask, "perturbed-0.2", 0)
    >>> wrong.n_edges - mask.n_edges
    0
    """
    if wiring == "true":
        return mask
    if wiring == "rewired":
        return randomize_mask(mask, random_state=seed, layers=[0])
    fraction = float(wiring.split("-", 1)[1])
    return perturb_mask(mask, missing=fraction, false=fraction, random_state=seed).mask


def worker(cell):
    """Train one student on the cell's wiring; rows per pathway layer and attribution method."""
    seed = int(cell["seed"])
    mask = make_pathway_mask(int(cell["n_genes"]), depth=int(cell["depth"]), random_state=seed)
    teacher = TeacherDataset(mask, cell["task"], random_state=seed)
    n_train = int(round(float(cell["samples_per_edge"]) * mask.n_edges))
    X, y = teacher.sample(n_train, random_state=seed + 1)
    X_test, y_test = teacher.sample(int(cell["n_test"]), random_state=seed + 2)
    wrong = student_mask(mask, cell["wiring"], seed + 3)
    params = protocol_params(cell["protocol"])
    student = _ESTIMATORS[cell["task"]](wrong, random_state=seed + 4, **params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        student.fit(X, y)
    fit_time = time.perf_counter() - start
    fit = output_fit(student, teacher, X_test, y_test)
    report = misspecification_report(student, teacher, X_test)
    rows = []
    for method in METHODS:
        ranking = importance_recovery(student, teacher, X_test, method=method, chance=True,
                                      n_chance_draws=3, random_state=seed, n_steps=20)
        for k, layer in report.layers.iterrows():
            rank = ranking.layers.loc[k]
            rows.append({
                "layer": int(k), "method": method, "converged": bool(student.converged_),
                "n_iter": int(student.n_iter_), "fit_time_s": fit_time,
                "r2_vs_teacher": fit["r2_vs_teacher"], "excess_loss": fit["excess_loss"],
                **{c: layer[c] for c in report.layers.columns},
                **{f"importance_{c}": rank[c] for c in (
                    "spearman", "spearman_chance", "top_k_overlap", "top_k_overlap_chance",
                    "top_fraction_overlap", "top_fraction_overlap_chance",
                    "rank_recovered", "rank_recovered_chance")},
            })
    return rows


SUMMARY_COLUMNS = ["r2_vs_teacher", "shared_recovery", "activation_recovery",
                   "false_edge_fraction", "false_weight_share", "weight_auc",
                   "attribution_auc", "importance_spearman", "importance_spearman_chance",
                   "importance_top_k_overlap", "importance_rank_recovered"]


def summarise(table):
    """Means (and sd over seeds) per task, protocol, wiring, layer and method.

    Examples
    --------
    >>> rows = pd.DataFrame({"task": "regression", "protocol": "converged",
    ...                      "wiring": "true", "layer": 0, "method": "deeplift",
    ...                      "seed": [0, 1], "converged": True,
    ...                      **{c: [0.5, 1.0] for c in SUMMARY_COLUMNS}})
    >>> summarise(rows)["shared_recovery"].tolist()
    [0.75]
    """
    keys = ["task", "protocol", "wiring", "layer", "method"]
    grouped = table.groupby(keys, sort=False)
    means = grouped[SUMMARY_COLUMNS].mean()
    means.insert(0, "n_seeds", grouped.size())
    means.insert(1, "converged", grouped["converged"].mean())
    sds = grouped[["shared_recovery", "importance_spearman"]].std(ddof=1)
    means["shared_recovery_sd"] = sds["shared_recovery"]
    means["importance_spearman_sd"] = sds["importance_spearman"]
    return means


def main(argv=None):
    parser = build_parser(__file__, __doc__)
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=list(PROTOCOLS))
    parser.add_argument("--wirings", nargs="+", metavar="W",
                        help="student wirings: true, perturbed-F (F a fraction), rewired")
    parser.add_argument("--seeds", type=int, help="seeds per cell")
    parser.add_argument("--n-genes", type=int, help="genes of the synthetic hierarchy")
    args = parser.parse_args(argv)
    grid = QUICK if args.quick else FULL
    wirings = args.wirings or grid["wirings"]
    seeds = args.seeds or grid["seeds"]
    n_genes = args.n_genes or grid["n_genes"]
    cells = [
        {"task": task, "protocol": protocol, "wiring": wiring, "n_genes": n_genes,
         "depth": 2, "samples_per_edge": 10.0, "n_test": 500, "seed": seed}
        for task in args.tasks for protocol in args.protocols for wiring in wirings
        for seed in range(seeds)
    ]
    start = time.perf_counter()
    table = run_cells(cells, worker, args.out / "misspecified.csv", KEY_COLUMNS,
                      n_jobs=args.n_jobs, backend=args.backend, scheduler=args.scheduler)
    table = table.copy()  # the CSV is read back as text
    for column in ["layer", "seed", *SUMMARY_COLUMNS, "n_false", "n_missing"]:
        table[column] = pd.to_numeric(table[column].replace("", np.nan))
    table["converged"] = table["converged"].astype(str).str.lower() == "true"
    summary = summarise(table)
    summary.to_csv(args.out / "summary.csv")
    elapsed = time.perf_counter() - start
    print_summary(summary.reset_index(), title=f"Misspecified wiring ({len(cells)} cells, this run "
                  f"{elapsed:.0f} s)", out_dir=args.out)
    true_rows = table[table["wiring"] == "true"]
    ok = bool((true_rows["n_false"] == 0).all() and (true_rows["n_missing"] == 0).all())
    if not ok:
        print("FAILED: the true wiring has false or missing edges", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
