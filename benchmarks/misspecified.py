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
    python benchmarks/misspecified.py --docs full          # ... and copy it to the docs
    python benchmarks/misspecified.py --render-only        # draw what the CSV holds

Results go to ``--out`` (default ``./misspecified/``): ``misspecified.csv``
(one row per cell × layer × attribution method; rerunning skips finished
cells), ``summary.csv`` (means and sd over seeds per task, protocol,
wiring, layer and method), ``wiring.csv`` (:func:`wiring_table`: output fit
and the wiring's traces in the gene -> pathway layer, mean and sd over
seeds), ``ranking.csv`` (:func:`ranking_table`: where the importance
ranking is recovered while the weights are not, and the reverse),
``run_time.csv`` (:func:`run_time_table`), ``misspecified.png``
(:func:`plot_misspecified`) and ``summary.txt``; the summary is printed
last. ``--docs NAME`` copies them to ``docs/_static/misspecified_NAME_*``
(the rows as ``..._rows.csv``), which ``docs/misspecified.rst`` includes.

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

from _common import (  # noqa: E402
    build_parser,
    headless_pyplot,
    print_summary,
    run_cells,
    run_command,
)
from _common import copy_to_docs as _copy_to_docs  # noqa: E402
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
from sklearn_binn.study import (  # noqa: E402
    RANKING_THRESHOLD,
    RECOVERY_THRESHOLD,
    protocol_params,
    ranking_vs_weights,
)

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

#: A student's weights count as recovered on a layer when the mean cosine of
#: its weights with the teacher's over the shared edges reaches this
#: (:data:`sklearn_binn.study.RECOVERY_THRESHOLD`, as in the other studies).
WEIGHT_THRESHOLD = RECOVERY_THRESHOLD
#: The layer whose edges the wirings change (the gene -> pathway layer).
PERTURBED_LAYER = 0
#: The numbers :func:`wiring_table` keeps per cell (seed), averaged over seeds.
WIRING_COLUMNS = {"r2_vs_teacher": "r2", "excess_loss": "excess_loss",
                  "shared_recovery": "shared_recovery",
                  "false_edge_fraction": "false_edges", "false_weight_share": "false_weight",
                  "weight_auc": "weight_auc", "attribution_auc": "attribution_auc"}
#: Run file -> its name in the docs (``misspecified_<name>_<this>``).
DOCS_FILES = {"misspecified.csv": "rows.csv", "summary.csv": "summary.csv",
              "wiring.csv": "wiring.csv", "ranking.csv": "ranking.csv",
              "run_time.csv": "run_time.csv", "summary.txt": "summary.txt",
              "misspecified.png": "misspecified.png"}
SCRIPT = "benchmarks/misspecified.py"


def make_grid(args):
    """The cells a parsed command line asks for (task × protocol × wiring × seed).

    Examples
    --------
    >>> args = build_arg_parser().parse_args(["--quick", "--tasks", "regression"])
    >>> [(c["protocol"], c["wiring"]) for c in make_grid(args)][:3]
    [('practice', 'true'), ('practice', 'perturbed-0.2'), ('practice', 'rewired')]
    >>> len(make_grid(build_arg_parser().parse_args([])))
    72
    """
    grid = QUICK if args.quick else FULL
    wirings = args.wirings or grid["wirings"]
    seeds = args.seeds or grid["seeds"]
    n_genes = args.n_genes or grid["n_genes"]
    return [
        {"task": task, "protocol": protocol, "wiring": wiring, "n_genes": n_genes,
         "depth": 2, "samples_per_edge": 10.0, "n_test": 500, "seed": seed}
        for task in args.tasks for protocol in args.protocols for wiring in wirings
        for seed in range(seeds)
    ]


def read_rows(table):
    """A run's rows as read back from its CSV, with numbers as numbers.

    Examples
    --------
    >>> rows = read_rows(pd.DataFrame({"layer": ["0"], "seed": ["1"], "converged": ["True"],
    ...                                "weight_auc": [""]}))
    >>> rows["layer"].tolist(), rows["converged"].tolist(), rows["weight_auc"].isna().tolist()
    ([0], [True], [True])
    """
    table = table.copy()
    numeric = ["layer", "seed", "n_genes", "depth", "samples_per_edge", "n_test", "fit_time_s",
               "n_iter", "excess_loss", "n_true", "n_false", "n_missing", *SUMMARY_COLUMNS,
               *[c for c in table.columns if c.startswith("importance_")]]
    for column in dict.fromkeys(numeric):
        if column in table:
            table[column] = pd.to_numeric(table[column].replace("", np.nan))
    if "converged" in table:
        table["converged"] = table["converged"].astype(str).str.lower() == "true"
    return table


def select_rows(table, cells):
    """The rows of ``table`` that belong to ``cells`` (a CSV may hold other runs' cells).

    Examples
    --------
    >>> cells = [{"task": "regression", "seed": s} for s in range(2)]
    >>> table = pd.DataFrame({"task": "regression", "seed": [0, 1, 2], "value": [1, 2, 3]})
    >>> select_rows(table, cells)["value"].tolist()
    [1, 2]
    """
    if table.empty:
        return table
    keys = list(cells[0])
    wanted = set(_key_text(pd.DataFrame(cells), keys))
    return table[_key_text(table, keys).isin(wanted).to_numpy()].reset_index(drop=True)


def _key_text(frame, keys):
    """One text per row of its key columns, numbers written alike whether read or made."""
    parts = []
    for key in keys:
        numbers = pd.to_numeric(frame[key], errors="coerce")
        if numbers.notna().all():
            parts.append(numbers.astype(float).map(repr))
        else:
            parts.append(frame[key].astype(str))
    return pd.concat(parts, axis=1).agg("|".join, axis=1)


def _order(frame, keys):
    """Sort rows by task, protocol, wiring (true, perturbed by fraction, rewired), layer."""
    def rank(column):
        if column.name == "task":
            return column.map({t: i for i, t in enumerate(TASKS)})
        if column.name == "protocol":
            return column.map({p: i for i, p in enumerate(PROTOCOLS)})
        if column.name == "wiring":
            return column.map(_wiring_rank)
        return column
    return frame.sort_values(keys, key=rank, kind="stable").reset_index(drop=True)


def _wiring_rank(wiring):
    if wiring == "true":
        return -1.0
    if wiring == "rewired":
        return 2.0
    return float(str(wiring).split("-", 1)[1])


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


def wiring_table(table, layer=PERTURBED_LAYER):
    """Output fit and the wiring's traces in one layer: mean and sd over seeds per wiring.

    One number per cell (seed) and column -- they do not depend on the
    attribution method, so the first method's row is read -- then, per
    task × protocol × wiring, the mean and the sd over seeds (``ddof=1``;
    NaN with one seed):

    - ``r2``: held-out R² of the student's raw output against the
      teacher's (``r2_vs_teacher``), the output fit; ``excess_loss``: the
      student's held-out loss less the teacher's own on the same samples;
    - ``shared_recovery``: mean over ``layer``'s nodes of the aligned cosine
      of the student's and the teacher's weights over the edges both masks
      have;
    - ``false_edges``: the share of the student's edges in ``layer`` the
      teacher does not have (no sd: fixed by the wiring); ``false_weight``:
      the share of the student's absolute weight on them -- equal to
      ``false_edges`` when the student puts as much weight on a false edge
      as on a true one;
    - ``weight_auc`` and ``attribution_auc``: ROC AUC for telling true from
      false edges by |weight| and by attribution (0.5: no better than a coin;
      NaN on the true wiring, which has no false edge).

    ``converged`` is the share of the cells' students that converged.

    Parameters
    ----------
    table : pandas.DataFrame
        The run's rows (:func:`read_rows`).
    layer : int, default=PERTURBED_LAYER
        The pathway layer (0: gene -> pathway, the one the wirings change).

    Returns
    -------
    pandas.DataFrame
        ``task``, ``protocol``, ``wiring``, ``n_seeds``, ``converged`` and,
        for each number above, its mean and ``<name>_sd``.

    Examples
    --------
    >>> rows = pd.DataFrame({"task": "regression", "protocol": "converged",
    ...                      "wiring": "rewired", "layer": 0, "method": "deeplift",
    ...                      "seed": [0, 1], "converged": [True, False],
    ...                      "excess_loss": [0.1, 0.3],
    ...                      **{c: [0.5, 0.7] for c in SUMMARY_COLUMNS}})
    >>> table = wiring_table(rows)
    >>> table[["n_seeds", "converged", "shared_recovery"]].values.round(3).tolist()
    [[2.0, 0.5, 0.6]]
    >>> round(float(table.loc[0, "shared_recovery_sd"]), 4)
    0.1414
    """
    first = table[(table["layer"] == layer) & (table["method"] == table["method"].iloc[0])]
    keys = ["task", "protocol", "wiring"]
    rows = []
    for key, group in first.groupby(keys, sort=False):
        row = dict(zip(keys, key))
        row["n_seeds"] = group["seed"].nunique()
        row["converged"] = group["converged"].astype(float).mean()
        for column, name in WIRING_COLUMNS.items():
            values = group[column].astype(float)
            row[name] = values.mean()
            if name != "false_edges":
                row[f"{name}_sd"] = values.std(ddof=1)
        rows.append(row)
    return _order(pd.DataFrame(rows), keys)


def ranking_table(table, weight_threshold=WEIGHT_THRESHOLD,
                  ranking_threshold=RANKING_THRESHOLD):
    """Ranking vs weights: where the importance ranking is right while the weights are not.

    Per task × protocol × wiring × pathway layer, over the cells' seeds and
    the three attribution methods (integrated gradients, DeepLIFT, gradient
    × input; each seed × method is one reading a user could make):

    - ``weight_recovery`` (and ``_sd`` over seeds): the mean over the layer's
      nodes of the aligned cosine of the student's and the teacher's weights
      on their shared edges (``shared_recovery``; the same for every method);
    - ``spearman`` (and ``_sd`` over seeds of each seed's mean over methods):
      Spearman correlation of the student's and the teacher's importance
      rankings of the layer's pathways; ``spearman_chance``: the same for
      untrained students;
    - over the valid seed × method readings (``n_readings``), the share
      where **both** are recovered (weights at least ``weight_threshold``,
      ranking at least ``ranking_threshold``), **ranking only**,
      **weights only** and **neither**; the four add up to 1.

    Parameters
    ----------
    table : pandas.DataFrame
        The run's rows (:func:`read_rows`).
    weight_threshold : float, default=WEIGHT_THRESHOLD
    ranking_threshold : float, default=RANKING_THRESHOLD

    Returns
    -------
    pandas.DataFrame
        ``task``, ``protocol``, ``wiring``, ``layer``, ``n_seeds``,
        ``n_readings``, ``weight_recovery``, ``weight_recovery_sd``,
        ``spearman``, ``spearman_sd``, ``spearman_chance``, ``both``,
        ``ranking_only``, ``weights_only``, ``neither``.

    Examples
    --------
    Two seeds: the first recovers its weights (0.95) and ranks right by one
    method of two; the second recovers neither weights (0.5) nor ranking
    by one method, but ranks right by the other.

    >>> rows = pd.DataFrame({"task": "regression", "protocol": "converged",
    ...                      "wiring": "true", "layer": 0,
    ...                      "seed": [0, 0, 1, 1], "method": ["deeplift", "weight"] * 2,
    ...                      "shared_recovery": [0.95, 0.95, 0.5, 0.5],
    ...                      "importance_spearman": [0.92, 0.4, 0.3, 0.96],
    ...                      "importance_spearman_chance": 0.1})
    >>> table = ranking_table(rows)
    >>> table[["both", "ranking_only", "weights_only", "neither"]].values.tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    >>> table[["n_seeds", "n_readings", "weight_recovery", "spearman"]].values.tolist()
    [[2.0, 4.0, 0.725, 0.645]]
    """
    keys = ["task", "protocol", "wiring", "layer"]
    table = ranking_vs_weights(table, keys, weight="shared_recovery",
                               ranking="importance_spearman", unit="seed",
                               chance="importance_spearman_chance",
                               weight_threshold=weight_threshold,
                               ranking_threshold=ranking_threshold)
    return _order(table, keys)


def run_time_table(table, cells, argv=None):
    """What the run cost, per protocol and in all: cells asked, cells with rows, fit times.

    Parameters
    ----------
    table : pandas.DataFrame
        The run's rows (:func:`read_rows`), one ``fit_time_s`` per cell (the
        student's fit alone, without the scoring; seconds of one core).
    cells : list of dict
        The cells the command asked for (:func:`make_grid`).
    argv : list of str, default=None
        The command line (``None``: ``sys.argv[1:]``), recorded less its
        ``--out``, ``--docs`` and ``--render-only`` options (where the files
        went and how they were drawn, not what ran).

    Returns
    -------
    pandas.DataFrame
        Rows per protocol, then ``all``: ``n_cells`` (asked), ``n_done``
        (with rows), ``n_missing`` (without rows: failed, or not run when the
        tables were drawn), ``status`` ("complete" or "partial: N of M
        cells"), ``fit_time_total_s``, ``fit_time_mean_s``,
        ``fit_time_max_s`` (over the cells with rows) and ``command``.

    Examples
    --------
    >>> cells = [{"protocol": "practice", "seed": s} for s in range(3)]
    >>> rows = pd.DataFrame({"protocol": "practice", "seed": [0, 0, 1],
    ...                      "fit_time_s": [2.0, 2.0, 4.0]})
    >>> table = run_time_table(rows, cells, ["--seeds", "3", "--out", "x", "--docs", "y"])
    >>> table[["protocol", "n_cells", "n_done", "n_missing", "status"]].values.tolist()[0]
    ['practice', 3, 2, 1, 'partial: 2 of 3 cells']
    >>> [float(v) for v in table.loc[0, ["fit_time_total_s", "fit_time_mean_s",
    ...                                   "fit_time_max_s"]]]
    [6.0, 3.0, 4.0]
    >>> table.loc[0, "command"]
    'python benchmarks/misspecified.py --seeds 3'
    """
    command = run_command(SCRIPT, list(sys.argv[1:] if argv is None else argv),
                          flags=("--render-only",))
    asked = pd.DataFrame(cells)
    keys = [k for k in KEY_COLUMNS if k in asked.columns]
    per_cell = table.groupby(keys, sort=False)["fit_time_s"].first().reset_index()
    groups = [(p, asked[asked["protocol"] == p], per_cell[per_cell["protocol"] == p])
              for p in dict.fromkeys(asked["protocol"])]
    if len(groups) > 1:
        groups.append(("all", asked, per_cell))
    rows = []
    for protocol, wanted, done in groups:
        times = done["fit_time_s"].astype(float)
        n_done = min(len(done), len(wanted))
        rows.append({
            "protocol": protocol, "n_cells": len(wanted), "n_done": n_done,
            "n_missing": len(wanted) - n_done,
            "status": ("complete" if n_done == len(wanted)
                       else f"partial: {n_done} of {len(wanted)} cells"),
            "fit_time_total_s": times.sum(), "fit_time_mean_s": times.mean(),
            "fit_time_max_s": times.max(),
            "command": command,
        })
    return pd.DataFrame(rows)


_COLOURS = {"practice": "tab:blue", "converged": "tab:red"}


def plot_misspecified(wiring, ranking, path, layer=PERTURBED_LAYER):
    """Draw the study's figure: per task (rows) the wirings on x, mean ± sd over seeds.

    Panels: output fit (R² against the teacher), weight recovery on shared
    edges, the share of weight on false edges (a black bar marks the share
    of false edges, what a student blind to the truth would give), ROC AUC
    of |weight| (circles) and attribution (squares) for telling true from
    false edges (dotted: 0.5), and the importance-ranking Spearman (mean over
    methods; hollow: untrained students, the chance level). The protocols
    are side by side, one colour each; every panel shows ``layer``.

    Parameters
    ----------
    wiring : pandas.DataFrame
        :func:`wiring_table`.
    ranking : pandas.DataFrame
        :func:`ranking_table`.
    path : path-like
        Where the PNG goes.
    layer : int, default=PERTURBED_LAYER

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> rows = pd.DataFrame({"task": "regression", "protocol": "converged",
    ...                      "wiring": ["true", "rewired"], "layer": 0,
    ...                      "method": "deeplift", "seed": 0, "converged": True,
    ...                      "excess_loss": [0.0, 0.2],
    ...                      **{c: [1.0, 0.6] for c in SUMMARY_COLUMNS}})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = plot_misspecified(wiring_table(rows), ranking_table(rows),
    ...                              Path(tmp) / "m.png")
    ...     path.stat().st_size > 0
    True
    """
    plt = headless_pyplot()
    tasks = [t for t in TASKS if t in set(wiring["task"])]
    wirings = sorted(set(wiring["wiring"]), key=_wiring_rank)
    protocols = [p for p in PROTOCOLS if p in set(wiring["protocol"])]
    ranks = ranking[ranking["layer"] == layer]
    titles = ["output fit: R² vs teacher", f"weight recovery, shared edges (layer {layer})",
              "share of |weight| on false edges", "AUC: true vs false edges",
              f"importance ranking: Spearman (layer {layer})"]
    size = (3.6 * len(titles), 2.9 * len(tasks) + 0.9)
    fig, axes = plt.subplots(len(tasks), len(titles), figsize=size, squeeze=False, sharex=True)
    x = np.arange(len(wirings))
    step = 0.32 / max(len(protocols), 1)
    for i, task in enumerate(tasks):
        for j, protocol in enumerate(protocols):
            colour = _COLOURS.get(protocol, f"C{j}")
            shift = (j - (len(protocols) - 1) / 2) * step
            frame = (wiring[(wiring["task"] == task) & (wiring["protocol"] == protocol)]
                     .set_index("wiring").reindex(wirings))
            rank = (ranks[(ranks["task"] == task) & (ranks["protocol"] == protocol)]
                    .set_index("wiring").reindex(wirings))
            style = {"color": colour, "capsize": 3, "linestyle": "none"}
            for k, column in enumerate(["r2", "shared_recovery", "false_weight"]):
                axes[i, k].errorbar(x + shift, frame[column], frame[f"{column}_sd"],
                                    marker="o", label=protocol, **style)
            axes[i, 3].errorbar(x + shift - step / 4, frame["weight_auc"],
                                frame["weight_auc_sd"], marker="o", **style)
            axes[i, 3].errorbar(x + shift + step / 4, frame["attribution_auc"],
                                frame["attribution_auc_sd"], marker="s", **style)
            axes[i, 4].errorbar(x + shift, rank["spearman"], rank["spearman_sd"], marker="o",
                                **style)
            axes[i, 4].plot(x + shift, rank["spearman_chance"], marker="o",
                            markerfacecolor="white", color=colour, linestyle="none")
        fractions = (wiring[wiring["task"] == task].groupby("wiring")["false_edges"].mean()
                     .reindex(wirings))
        axes[i, 2].hlines(fractions, x - 0.3, x + 0.3, color="black", linewidth=1.5)
        axes[i, 3].axhline(0.5, color="0.5", linestyle=":")
        axes[i, 4].axhline(0.0, color="0.5", linestyle=":")
        axes[i, 0].set_ylabel(task, fontsize="large")
        for k, title in enumerate(titles):
            axes[i, k].grid(alpha=0.3)
            if i == 0:
                axes[i, k].set_title(title, fontsize="medium")
    for ax in axes[-1]:
        ax.set_xticks(x)
        ax.set_xticklabels(wirings, rotation=20)
    for ax in axes[:, 1]:
        ax.set_ylim(-0.05, 1.05)
    handles = [plt.Line2D([], [], color=_COLOURS.get(p, f"C{j}"), marker="o", linestyle="none",
                          label=p) for j, p in enumerate(protocols)]
    handles += [plt.Line2D([], [], color="0.3", marker="o", linestyle="none",
                           label="AUC by |weight|"),
                plt.Line2D([], [], color="0.3", marker="s", linestyle="none",
                           label="AUC by attribution"),
                plt.Line2D([], [], color="black", label="share of false edges"),
                plt.Line2D([], [], color="0.3", marker="o", markerfacecolor="white",
                           linestyle="none", label="untrained student (chance)")]
    height = fig.get_figheight()
    fig.suptitle("Misspecified wiring: mean ± sd over seeds", y=1 - 0.1 / height,
                 fontsize="large")
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), frameon=False,
               bbox_to_anchor=(0.5, 1 - 0.4 / height))
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.7 / height))
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def copy_to_docs(out, name, static=None, rows=None):
    """Copy a run's tables and figure into the docs' ``_static`` folder.

    Parameters
    ----------
    out : pathlib.Path
        The run's output folder.
    name : str
        The run's name in the docs: files become ``misspecified_<name>_<file>``
        (:data:`DOCS_FILES`).
    static : pathlib.Path, default=None
        Default ``docs/_static`` of this repository.
    rows : pandas.DataFrame, default=None
        The rows the tables were computed from (the run's cells, when the
        CSV holds more); written as ``..._rows.csv`` instead of the whole
        ``misspecified.csv``.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = Path(tmp)
    ...     _ = (out / "ranking.csv").write_text("task\\n")
    ...     [p.name for p in copy_to_docs(out, "full", static=out / "static")]
    ['misspecified_full_ranking.csv']
    """
    files = {source: target for source, target in DOCS_FILES.items()
             if rows is None or source != "misspecified.csv"}
    return _copy_to_docs(out, f"misspecified_{name}", files, rows=rows, static=static)


def build_arg_parser():
    """The command line: the shared options, the grid's, ``--docs`` and ``--render-only``.

    Examples
    --------
    >>> args = build_arg_parser().parse_args(["--docs", "full", "--render-only"])
    >>> args.docs, args.render_only, args.tasks
    ('full', True, ['classification', 'regression', 'survival'])
    """
    parser = build_parser(__file__, __doc__)
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=list(PROTOCOLS))
    parser.add_argument("--wirings", nargs="+", metavar="W",
                        help="student wirings: true, perturbed-F (F a fraction), rewired")
    parser.add_argument("--seeds", type=int, help="seeds per cell")
    parser.add_argument("--n-genes", type=int, help="genes of the synthetic hierarchy")
    parser.add_argument("--docs", metavar="NAME",
                        help="also copy rows, tables and figure to docs/_static/misspecified_"
                             "NAME_<file>, which docs/misspecified.rst includes")
    parser.add_argument("--render-only", action="store_true",
                        help="run no cell: draw the tables and figure from the rows already "
                             "in the CSV (e.g. while a run is still going); the run-time "
                             "table then says how many cells are missing")
    return parser


def main(argv=None):
    """Run the grid (or only draw it, ``--render-only``); return the exit status.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     status = main(["--render-only", "--out", out])
    No rows yet in .../misspecified.csv: nothing to draw.
    >>> status
    1
    """
    args = build_arg_parser().parse_args(argv)
    cells = make_grid(args)
    out = args.out
    csv = out / "misspecified.csv"
    start = time.perf_counter()
    if args.render_only:
        table = pd.read_csv(csv) if csv.exists() else pd.DataFrame()
    else:
        table = run_cells(cells, worker, csv, KEY_COLUMNS, n_jobs=args.n_jobs,
                          backend=args.backend, scheduler=args.scheduler, desc="misspecified")
    rows = select_rows(table, cells)
    if rows.empty:
        print(f"No rows yet in {csv}: nothing to draw.")
        return 1
    table = read_rows(rows)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(table)
    summary.to_csv(out / "summary.csv", float_format="%.4g")
    wiring = wiring_table(table)
    ranking = ranking_table(table)
    times = run_time_table(table, cells, argv)
    wiring.to_csv(out / "wiring.csv", index=False, float_format="%.4g")
    ranking.to_csv(out / "ranking.csv", index=False, float_format="%.4g")
    times.to_csv(out / "run_time.csv", index=False, float_format="%.4g")
    plot_misspecified(wiring, ranking, out / "misspecified.png")
    elapsed = time.perf_counter() - start
    print_summary({
        "Run": times.drop(columns="command"),
        f"Ranking vs weights (thresholds {WEIGHT_THRESHOLD} and {RANKING_THRESHOLD})": ranking,
        f"Wiring, layer {PERTURBED_LAYER} (means and sd over seeds)": wiring,
        f"Misspecified wiring ({len(cells)} cells, this run {elapsed:.0f} s)":
            summary.reset_index(),
    }, out_dir=out)
    if args.docs:
        copy_to_docs(out, args.docs, rows=rows)
    true_rows = table[table["wiring"] == "true"]
    ok = bool((true_rows["n_false"] == 0).all() and (true_rows["n_missing"] == 0).all())
    if not ok:
        print("FAILED: the true wiring has false or missing edges", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
