"""Do the teacher-free signals predict true recovery? Per node, across small teacher–student cells.

What it measures
----------------
A user with real data has no teacher. What they can compute from the data
and their fitted BINN alone is the stability audit
(:func:`sklearn_binn.stability_report`: agreement of refits with other
seeds, top-k frequency of a node's importance, a p-value against fits on
randomly rewired masks) and the local identifiability diagnostic
(:func:`sklearn_binn.identifiability_diagnostic` at the fitted student on
the training data). This script asks, node by node, whether those signals
tell a recovered node from an unrecovered one.

For every cell -- task (regression, classification) × hierarchy (pyramid,
tree) × samples per edge × seed -- a teacher BINN with known weights
(:func:`sklearn_binn.study.build_teacher` on
:func:`sklearn_binn.study.build_mask`) generates training and held-out
samples; a student with the teacher's wiring is trained with the cell's
protocol (:func:`sklearn_binn.study.protocol_params`). Per pathway node it
records

- the **truth**: the student's weight and activation recovery against the
  teacher on held-out data (:func:`sklearn_binn.recovery_report`);
  a node is *recovered* when its weight recovery is >= 0.9
  (:data:`sklearn_binn.study.RECOVERY_THRESHOLD`);
- the **signals**, computed without the teacher: from
  ``stability_report(student, X, y, n_repeats, n_null)`` the node's
  ``weight_agreement``, ``activation_agreement``, ``top_k_frequency``,
  ``importance_cv``, ``p_value`` and ``p_adjusted``; from
  ``identifiability_diagnostic(student, X)`` its ``null_fraction`` and
  ``identifiable`` flag.

Per signal (oriented so that larger means "more reassuring") it then
reports, pooled over all nodes, per task and per samples-per-edge level
(within one regime, where the regime itself cannot carry the signal): the ROC AUC for recovered vs
not (:func:`sklearn.metrics.roc_auc_score`), the Spearman correlation with
weight recovery (:func:`scipy.stats.spearmanr`) and the **false
reassurance** of the signal's own reading (``weight_agreement >= 0.9``,
``activation_agreement >= 0.9``, ``top_k_frequency >= 0.9``,
``importance_cv <= 0.5``, ``p_value <= 0.05``, ``p_adjusted <= 0.05``,
``identifiable``): among the nodes the signal reassures about, how many are
not recovered, with counts.

Outputs (in ``--out``)
----------------------
``signals_nodes.csv``
    One row per cell × pathway node (written as cells finish; a rerun skips
    finished cells).
``signals_summary.csv``
    Per group (``all``, each task, each samples-per-edge level) and signal: ``n_nodes``,
    ``n_recovered``, ``auc``, ``spearman``, ``n_reassured``,
    ``n_false_reassured``, ``false_reassurance`` (the share of reassured
    nodes that are not recovered), ``missed`` (the share of recovered nodes
    the signal does not reassure about).
``run_time.csv``
    The command, number of cells, wall time of this run and the date.

How to run
----------
From the repository root::

    python benchmarks/signals.py --quick               # < 10 minutes on 2 cores
    python benchmarks/signals.py --n-jobs 2            # the full grid

``--docs`` also copies the three CSVs into
``docs/_static/signals/`` (what ``docs/signals.rst`` includes).
"""

from __future__ import annotations

import datetime
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import build_parser, print_summary, run_cells  # noqa: E402
from sklearn_binn import (  # noqa: E402
    BINNClassifier,
    BINNRegressor,
    identifiability_diagnostic,
    recovery_report,
    stability_report,
)
from sklearn_binn.study import (  # noqa: E402
    RECOVERY_THRESHOLD,
    build_mask,
    build_teacher,
    make_cell,
    protocol_params,
)

TASKS = ("regression", "classification")
_ESTIMATORS = {"regression": BINNRegressor, "classification": BINNClassifier}
FULL = {"hierarchies": ["pyramid", "tree"], "samples_per_edge": [1.0, 3.0, 10.0],
        "seeds": 3, "n_genes": 40, "n_repeats": 5, "n_null": 19}
QUICK = {"hierarchies": ["pyramid", "tree"], "samples_per_edge": [1.0, 10.0],
         "seeds": 3, "n_genes": 24, "n_repeats": 4, "n_null": 9}
KEY_COLUMNS = ["task", "hierarchy", "n_genes", "depth", "samples_per_edge", "protocol",
               "max_epochs", "n_init", "n_repeats", "n_null", "seed"]
DOCS_DIR = Path(__file__).resolve().parents[1] / "docs" / "_static" / "signals"

#: signal -> (orientation: +1 larger is more reassuring, -1 smaller is,
#:            the reading that reassures, as a function of the column)
SIGNALS = {
    "weight_agreement": (1, lambda s: s >= 0.9),
    "activation_agreement": (1, lambda s: s >= 0.9),
    "top_k_frequency": (1, lambda s: s >= 0.9),
    "importance_cv": (-1, lambda s: s <= 0.5),
    "p_value": (-1, lambda s: s <= 0.05),
    "p_adjusted": (-1, lambda s: s <= 0.05),
    "null_fraction": (-1, lambda s: s <= 1e-6),
    "identifiable": (1, lambda s: s >= 0.5),
}
SUMMARY_COLUMNS = ["group", "signal", "n_nodes", "n_recovered", "auc", "spearman",
                   "n_reassured", "n_false_reassured", "false_reassurance", "missed"]


# ------------------------------------------------------------------ metrics
def signal_metrics(signal, recovery, reassured, *, direction=1, threshold=RECOVERY_THRESHOLD):
    """How well one teacher-free signal predicts per-node recovery.

    Parameters
    ----------
    signal : array-like of float
        The signal per node; NaN rows (and NaN ``recovery``) are left out.
    recovery : array-like of float
        The node's true weight recovery.
    reassured : array-like of bool
        Whether the signal's own reading calls the node stable/identifiable.
    direction : {1, -1}, default=1
        ``1`` if larger signal values are more reassuring, ``-1`` if smaller.
    threshold : float, default=0.9
        A node is *recovered* when ``recovery >= threshold``.

    Returns
    -------
    dict
        ``n_nodes``, ``n_recovered``, ``auc`` (ROC AUC of ``direction *
        signal`` for recovered vs not; NaN if only one class),
        ``spearman`` (of ``direction * signal`` with ``recovery``; NaN if
        either is constant), ``n_reassured``, ``n_false_reassured``
        (reassured, not recovered), ``false_reassurance``
        (``n_false_reassured / n_reassured``) and ``missed`` (the share of
        recovered nodes not reassured).

    Examples
    --------
    >>> m = signal_metrics([0.1, 0.5, 0.95, 0.99], [0.2, 0.95, 0.5, 0.97],
    ...                    [False, False, True, True])
    >>> m["auc"], m["n_false_reassured"], m["false_reassurance"], m["missed"]
    (0.75, 1, 0.5, 0.5)
    """
    if direction not in (1, -1):
        raise ValueError(f"direction must be 1 or -1; got {direction!r}.")
    signal = np.asarray(signal, dtype=float)
    recovery = np.asarray(recovery, dtype=float)
    reassured = np.asarray(reassured, dtype=bool)
    if not signal.shape == recovery.shape == reassured.shape or signal.ndim != 1:
        raise ValueError("signal, recovery and reassured must be 1-d and of equal length; got "
                         f"shapes {signal.shape}, {recovery.shape}, {reassured.shape}.")
    keep = np.isfinite(signal) & np.isfinite(recovery)
    score, recovery, reassured = direction * signal[keep], recovery[keep], reassured[keep]
    recovered = recovery >= threshold
    n, n_rec, n_re = len(score), int(recovered.sum()), int(reassured.sum())
    false = int((reassured & ~recovered).sum())
    auc = (float(roc_auc_score(recovered, score)) if 0 < n_rec < n else np.nan)
    rho = (float(spearmanr(score, recovery).statistic)
           if n > 2 and np.ptp(score) > 0 and np.ptp(recovery) > 0 else np.nan)
    return {
        "n_nodes": n, "n_recovered": n_rec, "auc": auc, "spearman": rho,
        "n_reassured": n_re, "n_false_reassured": false,
        "false_reassurance": false / n_re if n_re else np.nan,
        "missed": int((recovered & ~reassured).sum()) / n_rec if n_rec else np.nan,
    }


def summarise(nodes, threshold=RECOVERY_THRESHOLD):
    """Per group (``all``, each task, each samples per edge) and signal, :func:`signal_metrics`.

    Parameters
    ----------
    nodes : pandas.DataFrame
        Rows of ``signals_nodes.csv``: ``task``, ``weight_recovery`` and the
        columns of :data:`SIGNALS` present.
    threshold : float, default=0.9

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`.

    Examples
    --------
    >>> nodes = pd.DataFrame({"task": ["regression"] * 4,
    ...                       "weight_recovery": [0.2, 0.95, 0.5, 0.97],
    ...                       "weight_agreement": [0.1, 0.5, 0.95, 0.99]})
    >>> summarise(nodes)[["group", "signal", "auc"]].values.tolist()
    [['all', 'weight_agreement', 0.75], ['regression', 'weight_agreement', 0.75]]
    """
    rows = []
    groups = [("all", nodes)] + [(task, frame) for task, frame in nodes.groupby("task")]
    if "samples_per_edge" in nodes:  # within one regime: what is left besides the regime
        spe = pd.to_numeric(nodes["samples_per_edge"])
        groups += [(f"samples_per_edge={v:g}", nodes[spe == v]) for v in sorted(spe.unique())]
    for group, frame in groups:
        for signal, (direction, reading) in SIGNALS.items():
            if signal not in frame:
                continue
            values = pd.to_numeric(frame[signal].replace({"": np.nan, "True": 1.0,
                                                          "False": 0.0, True: 1.0,
                                                          False: 0.0}), errors="coerce")
            values = values.astype(float).to_numpy()
            with np.errstate(invalid="ignore"):
                reassured = reading(values) & np.isfinite(values)
            recovery = pd.to_numeric(frame["weight_recovery"], errors="coerce").to_numpy(float)
            rows.append({"group": group, "signal": signal,
                         **signal_metrics(values, recovery, reassured, direction=direction,
                                          threshold=threshold)})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


# ------------------------------------------------------------------- worker
def worker(cell):
    """One cell: train the student, score it against the teacher, compute the signals.

    Returns one row per pathway node (see the module docstring).
    """
    seed = int(cell["seed"])
    study_cell = make_cell(task=cell["task"], hierarchy=cell["hierarchy"],
                           n_genes=int(cell["n_genes"]), depth=int(cell["depth"]),
                           samples_per_edge=float(cell["samples_per_edge"]),
                           protocol=cell["protocol"], seed=seed)
    mask = build_mask(study_cell)
    teacher = build_teacher(study_cell, mask)
    n_train = max(20, int(round(float(cell["samples_per_edge"]) * mask.n_edges)))
    X, y = teacher.sample(n_train, random_state=seed + 1)
    X_test, _ = teacher.sample(int(cell["n_test"]), random_state=seed + 2)
    params = protocol_params(cell["protocol"], max_epochs=int(cell["max_epochs"]))
    if "n_init" in params:  # the converged protocol's restarts, cut for time (--n-init)
        params["n_init"] = int(cell["n_init"])
    student = _ESTIMATORS[cell["task"]](mask, random_state=seed + 3, **params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        student.fit(X, y)
        truth = recovery_report(student, teacher, X_test).nodes
        audit = stability_report(student, X, y, n_repeats=int(cell["n_repeats"]),
                                 n_null=int(cell["n_null"]), random_state=seed + 4,
                                 n_steps=20).nodes
        diagnosis = identifiability_diagnostic(student, X, random_state=seed + 5).nodes
    audit = audit[["layer", "node", "weight_agreement", "activation_agreement",
                   "weight_agreement_chance", "activation_agreement_chance",
                   "top_k_frequency", "importance_cv",
                   *[c for c in ("p_value", "p_adjusted") if c in audit]]]
    diagnosis = diagnosis[["layer", "node", "null_fraction", "identifiable"]].copy()
    diagnosis["identifiable"] = diagnosis["identifiable"].astype("float")  # NA -> NaN
    table = (truth.merge(audit, on=["layer", "node"], how="left", validate="1:1")
             .merge(diagnosis, on=["layer", "node"], how="left", validate="1:1"))
    table["n_train"] = n_train
    table["converged"] = bool(getattr(student, "converged_", False))
    table["cell_time_s"] = time.perf_counter() - start
    return table


def build_cells(args, grid):
    """The cells of the grid the command line asks for.

    Examples
    --------
    >>> parser = build_arg_parser()
    >>> cells = build_cells(parser.parse_args(["--quick"]), QUICK)
    >>> len(cells), cells[0]["task"], cells[0]["protocol"]
    (24, 'regression', 'converged')
    """
    return [
        {"task": task, "hierarchy": hierarchy, "n_genes": args.n_genes or grid["n_genes"],
         "depth": 2, "samples_per_edge": spe, "protocol": args.protocol,
         "n_repeats": grid["n_repeats"], "n_null": grid["n_null"], "seed": seed,
         "max_epochs": args.max_epochs, "n_init": args.n_init, "n_test": 500}
        for task in args.tasks for hierarchy in grid["hierarchies"]
        for spe in grid["samples_per_edge"] for seed in range(args.seeds or grid["seeds"])
    ]


def build_arg_parser():
    """The shared command line plus this script's options.

    Examples
    --------
    >>> build_arg_parser().parse_args(["--quick"]).protocol
    'converged'
    """
    parser = build_parser(__file__, __doc__)
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--protocol", choices=("practice", "converged"), default="converged",
                        help="how students and refits are trained (default: converged)")
    parser.add_argument("--max-epochs", type=int, default=200,
                        help="epoch (L-BFGS iteration) budget per fit (default: 200)")
    parser.add_argument("--n-init", type=int, default=1,
                        help="L-BFGS restarts per fit with --protocol converged (default: 1; "
                             "each refit of the audit is already a restart)")
    parser.add_argument("--seeds", type=int, help="seeds per cell")
    parser.add_argument("--n-genes", type=int, help="genes of the synthetic hierarchy")
    parser.add_argument("--docs", action="store_true",
                        help="copy the three CSVs to docs/_static/signals/")
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_arg_parser().parse_args(argv)
    grid = QUICK if args.quick else FULL
    cells = build_cells(args, grid)
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    done = args.out / "signals_nodes.csv"
    existing = (set(map(tuple, pd.read_csv(done, dtype=str)[KEY_COLUMNS].to_numpy()))
                if done.exists() else set())
    n_todo = sum(tuple(str(c[k]) for k in KEY_COLUMNS) not in existing for c in cells)
    nodes = run_cells(cells, worker, args.out / "signals_nodes.csv", KEY_COLUMNS,
                      n_jobs=args.n_jobs, backend=args.backend, scheduler=args.scheduler)
    elapsed = time.perf_counter() - start
    summary = summarise(nodes)
    summary.to_csv(args.out / "signals_summary.csv", index=False, float_format="%.3g")
    run_time = pd.DataFrame([{
        "command": " ".join(["python benchmarks/signals.py", *argv]),
        "cells": len(cells), "cells_run_this_run": n_todo, "nodes": len(nodes),
        "cell_time_s_total": round(float(pd.to_numeric(nodes.groupby(KEY_COLUMNS)[
            "cell_time_s"].first()).sum()), 1),
        "wall_time_s_this_run": round(elapsed, 1),
        "recovered_threshold": RECOVERY_THRESHOLD,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
    }])
    run_time.to_csv(args.out / "run_time.csv", index=False)
    if args.docs:
        DOCS_DIR.mkdir(parents=True, exist_ok=True)
        for name in ("signals_nodes.csv", "signals_summary.csv", "run_time.csv"):
            shutil.copyfile(args.out / name, DOCS_DIR / name)
    print_summary(summary, title=f"Teacher-free signals vs recovery ({len(cells)} cells, "
                  f"this run {elapsed:.0f} s)", out_dir=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
