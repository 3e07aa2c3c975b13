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

For every cell -- task (regression, classification, survival) × protocol
(``practice``, ``converged``) × hierarchy (pyramid, tree) × samples per
edge × seed -- a teacher BINN with known weights
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
reports, pooled over all nodes, per task, per protocol and per
samples-per-edge level (within one regime, where the regime itself cannot
carry the signal): the ROC AUC for recovered vs
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
    Per group (``all``, each task, each protocol, each samples-per-edge
    level) and signal: ``n_nodes``,
    ``n_recovered``, ``auc``, ``spearman``, ``n_reassured``,
    ``n_false_reassured``, ``false_reassurance`` (the share of reassured
    nodes that are not recovered), ``missed`` (the share of recovered nodes
    the signal does not reassure about).
``run_time.csv``
    The command, number of cells, wall time of this run and the date.
``signals_auc.png``
    Each signal's ROC AUC per task and protocol, pooled over the other
    factors, and within each samples-per-edge level.

How to run
----------
From the repository root::

    python benchmarks/signals.py --quick --n-jobs 2    # minutes on 2 cores
    python benchmarks/signals.py --n-jobs 2            # the full grid
    python benchmarks/signals.py --tasks survival --protocols practice   # part of it
    python benchmarks/signals.py --render-only --out DIR   # tables and figure again

``--docs`` also copies the three CSVs and the figure into
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

from _common import (  # noqa: E402
    build_parser,
    headless_pyplot,
    print_summary,
    run_cells,
    run_command,
)
from sklearn_binn import (  # noqa: E402
    BINNClassifier,
    BINNRegressor,
    BINNSurvival,
    identifiability_diagnostic,
    recovery_report,
    stability_report,
)
from sklearn_binn.study import (  # noqa: E402
    RECOVERY_THRESHOLD,
    build_mask,
    build_teacher,
    PAIRED_PROTOCOLS,
    make_cell,
    protocol_params,
)

TASKS = ("regression", "classification", "survival")
_ESTIMATORS = {"regression": BINNRegressor, "classification": BINNClassifier,
               "survival": BINNSurvival}
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
    """Per group (``all``, task, protocol, samples per edge) and signal: :func:`signal_metrics`.

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
    if "protocol" in nodes:
        groups += [(f"protocol={name}", frame) for name, frame in nodes.groupby("protocol")]
    if "samples_per_edge" in nodes:  # within one regime: what is left besides the regime
        spe = pd.to_numeric(nodes["samples_per_edge"])
        groups += [(f"samples_per_edge={v:g}", nodes[spe == v]) for v in sorted(spe.unique())]
    for group, frame in groups:
        for signal, (direction, reading) in SIGNALS.items():
            if signal not in frame:
                continue
            values = _floats(frame[signal])
            with np.errstate(invalid="ignore"):
                reassured = reading(values) & np.isfinite(values)
            recovery = _floats(frame["weight_recovery"])
            rows.append({"group": group, "signal": signal,
                         **signal_metrics(values, recovery, reassured, direction=direction,
                                          threshold=threshold)})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _floats(column):
    """A column as floats: numbers, the CSV's text (parsed exactly, as ``float``; pandas'
    ``to_numeric`` rounds the last digit, which moves values at a threshold),
    booleans, and blanks or other text as NaN."""
    def one(value):
        if isinstance(value, str):
            value = {"True": 1.0, "False": 0.0}.get(value, value)
        try:
            return float(value)
        except (TypeError, ValueError):
            return np.nan
    return np.array([one(value) for value in column], dtype=float)


def auc_table(nodes, threshold=RECOVERY_THRESHOLD):
    """Each signal's ROC AUC per task and protocol: pooled, and within samples-per-edge levels.

    Parameters
    ----------
    nodes : pandas.DataFrame
        Rows of ``signals_nodes.csv`` (``task``, ``protocol``,
        ``samples_per_edge``, ``weight_recovery`` and signal columns).
    threshold : float, default=0.9

    Returns
    -------
    pandas.DataFrame
        One row per task, protocol and signal: ``n_nodes``, ``n_recovered``,
        ``auc`` (pooled over hierarchies, samples per edge and seeds) and
        ``auc_within_spe`` (the mean of the AUCs within each samples-per-edge
        level that has recovered and unrecovered nodes; NaN if none has),
        ``levels`` (how many levels that mean covers).

    Examples
    --------
    >>> nodes = pd.DataFrame({"task": "regression", "protocol": "converged",
    ...                       "samples_per_edge": [1, 1, 10, 10],
    ...                       "weight_recovery": [0.2, 0.95, 0.5, 0.97],
    ...                       "weight_agreement": [0.1, 0.5, 0.95, 0.99]})
    >>> auc_table(nodes)[["signal", "auc", "auc_within_spe", "levels"]].values.tolist()
    [['weight_agreement', 0.75, 1.0, 2]]
    """
    rows = []
    for (task, protocol), frame in nodes.groupby(["task", "protocol"], sort=False):
        recovery = _floats(frame["weight_recovery"])
        spe = pd.to_numeric(frame["samples_per_edge"]).to_numpy(float)
        for signal, (direction, _) in SIGNALS.items():
            if signal not in frame:
                continue
            values = _floats(frame[signal])
            none = np.zeros(len(values), dtype=bool)
            pooled = signal_metrics(values, recovery, none, direction=direction,
                                    threshold=threshold)
            within = [signal_metrics(values[spe == v], recovery[spe == v], none[spe == v],
                                     direction=direction, threshold=threshold)["auc"]
                      for v in np.unique(spe)]
            within = [auc for auc in within if np.isfinite(auc)]
            rows.append({"task": task, "protocol": protocol, "signal": signal,
                         "n_nodes": pooled["n_nodes"], "n_recovered": pooled["n_recovered"],
                         "auc": pooled["auc"],
                         "auc_within_spe": float(np.mean(within)) if within else np.nan,
                         "levels": len(within)})
    return pd.DataFrame(rows, columns=["task", "protocol", "signal", "n_nodes", "n_recovered",
                                       "auc", "auc_within_spe", "levels"])


def plot_aucs(aucs, path):
    """Draw :func:`auc_table`: one panel per task, signals on y, AUC on x.

    Filled markers: pooled AUC; hollow: the mean AUC within samples-per-edge
    levels; one colour per protocol; the dotted line is 0.5 (no information).

    Examples
    --------
    >>> import tempfile
    >>> aucs = pd.DataFrame({"task": "survival", "protocol": ["practice", "converged"],
    ...                      "signal": "p_value", "auc": [0.6, 0.7],
    ...                      "auc_within_spe": [0.55, np.nan]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     plot_aucs(aucs, Path(tmp) / "a.png").stat().st_size > 0
    True
    """
    plt = headless_pyplot()
    tasks = [t for t in TASKS if t in set(aucs["task"])]
    protocols = [p for p in PAIRED_PROTOCOLS if p in set(aucs["protocol"])]
    signals = [s for s in SIGNALS if s in set(aucs["signal"])]
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.6 * len(tasks) + 1.6,
                                                     0.42 * len(signals) + 2.0),
                             squeeze=False, sharey=True)
    y = np.arange(len(signals))
    for ax, task in zip(axes[0], tasks):
        for j, protocol in enumerate(protocols):
            rows = (aucs[(aucs["task"] == task) & (aucs["protocol"] == protocol)]
                    .set_index("signal").reindex(signals))
            offset = (j - (len(protocols) - 1) / 2) * 0.22
            ax.plot(rows["auc"], y + offset, "o", color=f"C{j}", label=f"{protocol}: pooled")
            ax.plot(rows["auc_within_spe"], y + offset, "o", markerfacecolor="white",
                    color=f"C{j}", label=f"{protocol}: within samples/edge")
        ax.axvline(0.5, color="0.5", linestyle=":", linewidth=1)
        ax.set_xlim(0, 1)
        ax.set_title(task)
        ax.set_xlabel("ROC AUC, recovered vs not")
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(y, signals)
    axes[0][0].invert_yaxis()
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8,
               frameon=False)
    fig.suptitle("Does a teacher-free signal predict a node's weight recovery >= "
                 f"{RECOVERY_THRESHOLD}?", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


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
    (72, 'regression', 'practice')
    """
    return [
        {"task": task, "hierarchy": hierarchy, "n_genes": args.n_genes or grid["n_genes"],
         "depth": 2, "samples_per_edge": spe, "protocol": protocol,
         "n_repeats": grid["n_repeats"], "n_null": grid["n_null"], "seed": seed,
         "max_epochs": args.max_epochs, "n_init": args.n_init, "n_test": 500}
        for task in args.tasks for protocol in args.protocols
        for hierarchy in grid["hierarchies"]
        for spe in grid["samples_per_edge"] for seed in range(args.seeds or grid["seeds"])
    ]


def build_arg_parser():
    """The shared command line plus this script's options.

    Examples
    --------
    >>> build_arg_parser().parse_args(["--quick"]).protocols
    ['practice', 'converged']
    """
    parser = build_parser(__file__, __doc__)
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--protocols", nargs="+", choices=PAIRED_PROTOCOLS,
                        default=list(PAIRED_PROTOCOLS),
                        help="how students and refits are trained (default: both)")
    parser.add_argument("--max-epochs", type=int, default=200,
                        help="epoch (L-BFGS iteration) budget per fit (default: 200)")
    parser.add_argument("--n-init", type=int, default=1,
                        help="L-BFGS restarts per fit with --protocol converged (default: 1; "
                             "each refit of the audit is already a restart)")
    parser.add_argument("--seeds", type=int, help="seeds per cell")
    parser.add_argument("--n-genes", type=int, help="genes of the synthetic hierarchy")
    parser.add_argument("--docs", action="store_true",
                        help="copy the three CSVs and the figure to docs/_static/signals/")
    parser.add_argument("--render-only", action="store_true",
                        help="train nothing: the tables and figure from --out's node rows")
    return parser


def run_time_table(nodes, cells, argv):
    """Per protocol: the cells, nodes and the cells' summed and mean time (``run_time.csv``).

    Parameters
    ----------
    nodes : pandas.DataFrame
        This run's node rows (one ``cell_time_s`` per cell, repeated on its nodes).
    cells : list of dict
        The run's cells.
    argv : list of str
        The command line (``--out``, ``--docs`` and ``--render-only`` are left out).

    Examples
    --------
    >>> nodes = pd.DataFrame({"protocol": "practice", "seed": [0, 0, 1], "node": [0, 1, 0],
    ...                       "cell_time_s": [2.0, 2.0, 4.0],
    ...                       **{k: "x" for k in KEY_COLUMNS if k not in ("protocol", "seed")}})
    >>> cells = [{"protocol": "practice"}] * 2
    >>> run_time_table(nodes, cells, ["--quick", "--docs"]).iloc[0].to_dict()["cell_time_s_total"]
    6.0
    """
    per_cell = nodes.groupby(KEY_COLUMNS, sort=False).first().reset_index()
    per_cell["cell_time_s"] = pd.to_numeric(per_cell["cell_time_s"])
    command = run_command("benchmarks/signals.py", [a for a in argv if a != "--docs"],
                          flags=("--render-only",))
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    rows = []
    for protocol in dict.fromkeys(c["protocol"] for c in cells):
        mine = per_cell[per_cell["protocol"] == protocol]
        rows.append({
            "command": command, "protocol": protocol,
            "cells": sum(c["protocol"] == protocol for c in cells), "cells_done": len(mine),
            "nodes": int((nodes["protocol"] == protocol).sum()),
            "cell_time_s_total": round(float(mine["cell_time_s"].sum()), 1),
            "cell_time_s_mean": round(float(mine["cell_time_s"].mean()), 1),
            "cell_time_s_max": round(float(mine["cell_time_s"].max()), 1),
            "recovered_threshold": RECOVERY_THRESHOLD, "date": date,
        })
    return pd.DataFrame(rows)


def main(argv=None):
    """Run the grid (or only tabulate it, ``--render-only``); return the exit status.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     main(["--render-only", "--quick", "--out", out])
    No node rows in .../signals_nodes.csv for this grid: nothing to tabulate.
    1
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_arg_parser().parse_args(argv)
    grid = QUICK if args.quick else FULL
    cells = build_cells(args, grid)
    start = time.perf_counter()
    csv = args.out / "signals_nodes.csv"
    if args.render_only:
        nodes = pd.read_csv(csv, dtype=str) if csv.exists() else pd.DataFrame()
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        nodes = run_cells(cells, worker, csv, KEY_COLUMNS, n_jobs=args.n_jobs,
                          backend=args.backend, scheduler=args.scheduler)
    wanted = {tuple(str(c[k]) for k in KEY_COLUMNS) for c in cells}
    if not nodes.empty:
        keys = nodes[KEY_COLUMNS].astype(str).apply(tuple, axis=1)
        nodes = nodes[keys.isin(wanted).to_numpy()].reset_index(drop=True)
    if nodes.empty:
        print(f"No node rows in {csv} for this grid: nothing to tabulate.")
        return 1
    elapsed = time.perf_counter() - start
    summary = summarise(nodes)
    summary.to_csv(args.out / "signals_summary.csv", index=False, float_format="%.3g")
    aucs = auc_table(nodes)
    aucs.to_csv(args.out / "signals_auc.csv", index=False, float_format="%.3g")
    plot_aucs(aucs, args.out / "signals_auc.png")
    run_time = run_time_table(nodes, cells, argv)
    run_time.to_csv(args.out / "run_time.csv", index=False)
    nodes.to_csv(args.out / "signals_nodes_selected.csv", index=False)
    if args.docs:
        DOCS_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.out / "signals_nodes_selected.csv", DOCS_DIR / "signals_nodes.csv")
        for name in ("signals_summary.csv", "signals_auc.csv", "signals_auc.png",
                     "run_time.csv"):
            shutil.copyfile(args.out / name, DOCS_DIR / name)
    print_summary({"Run": run_time.drop(columns="command"),
                   "AUC per task and protocol": aucs,
                   f"Teacher-free signals vs recovery ({len(cells)} cells, this run "
                   f"{elapsed:.0f} s)": summary}, out_dir=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
