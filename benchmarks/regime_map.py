"""The regime map: over which axes does a BINN student recover its teacher's internals?

What it measures
----------------
The teacher–student cell of :mod:`sklearn_binn.study` (a teacher BINN with
known weights generates the data, a student with the same wiring is
trained under the chosen ``--protocol`` -- ``practice``, the estimators'
defaults, or ``converged``, full-batch L-BFGS to tolerance with restarts --
and scored against it; every row records the protocol, whether the student
converged and the cell's verdict) is run over the axes that decide
identifiability:

- ``samples_per_edge``: training samples per mask edge, 0.3 … 30;
- ``overlap``: mean pathways per gene, 1 (disjoint gene sets) … 8;
- ``activation``: tanh, relu, sigmoid, identity (teacher and student);
- ``depth``: 1 … 4 pathway layers;
- ``noise``: 0 … 0.75 (Gaussian sd for regression, 1 / logit sd for
  classification, censored fraction for survival);
- ``input``: independent genes, equicorrelated genes (rho 0.5 and 0.9),
  the latent-pathway gene model;
- the optimiser's step size ``lr`` (1e-3, the default, to 1e-2): with the
  same epoch budget a larger step trains further;
- standard-practice regularisation: ``weight_decay`` (Adam's, 0 … 1e-2),
  ``dropout`` (0 … 0.3), ``early_stopping`` on or off;
- ``constraints``: the estimators' constraints on the internals (edge
  L1 1e-4 … 1e-2, every edge held at the teacher's sign, 25 % or 50 % of
  the gene → pathway nodes supervised on half the samples); not part of
  the default sweeps;
- ``init``: the student starts at random (default) or at the teacher. A
  student started at the teacher stays wherever the teacher is a minimum
  of the training loss, so this is an optimisation control: a random start
  that ends with a clearly higher held-out loss than the teacher-started
  student found a worse minimum; one that matches it with different
  internals found an equally good, different mechanism (non-identifiable).

A full factorial is far too big, so the design is one-factor-at-a-time
around a base point, plus four two-factor phase diagrams that cross the
sample size with the axes most likely to interact with it. The base point
is: hierarchy ``wide`` (first layer ``n_genes / 5.12`` pathways, each layer
above 0.6 times the one below), 40 genes, overlap 4 (Reactome's mean),
depth 2, tanh, no noise, 10 samples per edge, independent genes, Adam at
lr 1e-3, no weight decay or dropout, early stopping on, random init.
Sweeps (``--sweeps``):

======================  ====================================================
``samples_per_edge``    0.3, 1, 3, 10, 30
``overlap``             1, 2, 4, 8
``activation``          tanh, relu, sigmoid, identity
``depth``               1, 2, 3, 4
``noise``               0, 0.25, 0.5, 0.75
``input``               independent, equicorrelated 0.5 and 0.9, latent
``lr``                  1e-3, 3e-3, 1e-2
``weight_decay``        0, 1e-4, 1e-3, 1e-2
``dropout``             0, 0.1, 0.3
``early_stopping``      on, off
``init``                default, teacher
``spe_x_depth``         samples per edge × depth
``spe_x_activation``    samples per edge × activation
``spe_x_overlap``       samples per edge × overlap
``spe_x_init``          samples per edge × init
``constraints``         none, L1 1e-4 / 1e-3 / 1e-2, teacher signs, 25 % and
                        50 % supervised, teacher signs + 50 % supervised
======================  ====================================================

Every task (classification, regression, survival) runs every sweep; cells
shared by sweeps (the base point) run once. Under ``--protocol converged``
the sweeps of the practice protocol's training knobs (``lr``,
``weight_decay``, ``dropout``, ``early_stopping``: :data:`PRACTICE_ONLY`)
are left out -- full-batch L-BFGS to tolerance uses none of them -- and
naming one is an error. ``constraints`` runs only when
named in ``--sweeps``; its constrained cells go to their own
``regime_map_constraints.csv`` (keyed by the constraint parameters too, so
``regime_map.csv`` keeps the key columns of earlier runs and resumes), its
table to ``regime_map_constraints_table.csv`` (:func:`constraint_table`;
its short form, as the docs show it, to
``regime_map_constraints_display.csv``) and its figure to
``regime_map_constraints.png``.

How to run
----------
From the repository root::

    python benchmarks/regime_map.py --quick                 # minutes on 2 cores
    python benchmarks/regime_map.py --n-jobs 2              # everything, 2 seeds
    python benchmarks/regime_map.py --n-jobs 2 --seeds 1 \\
        --sweeps samples_per_edge depth init spe_x_depth     # a subset

Results go to ``--out`` (default ``./regime_map/``): ``regime_map.csv``
(one row per cell × reference × layer; a rerun skips finished cells), per
task ``regime_map_<task>.png`` (one heatmap per one-factor sweep: rows the
axis values, columns the output fit and the recovery above chance of each
layer) and ``regime_map_phase_<task>.png`` (the two-factor phase
diagrams: output fit and the gene → pathway layer's recovery),
``regime_map_table.csv`` (the numbers behind the heatmaps, with the sd
over seeds), ``layer_thresholds.csv`` (the samples per edge each layer
needs), per task ``regime_map_summary_<task>.csv`` (:func:`task_summary`),
``regime_map_key_numbers.csv`` (the few numbers the docs cite that the
per-task summaries do not show: :func:`key_numbers`),
``regime_map_run_time.csv`` (:func:`run_time_table`: cells, failures and
the cells' own time; ``regime_map_constraints_run_time.csv`` for the
constrained cells) and the printed summary.

``--rank METHOD`` also scores each student's pathway-importance ranking
against its teacher's (``rank_*`` columns in the rows,
:func:`sklearn_binn.study.run_cell`).

``--docs NAME`` also copies the run's files into ``docs/_static`` as
``regime_map_NAME_<file>`` (:data:`DOCS_FILES`, :func:`copy_to_docs`):
``rows.csv`` (the run's rows), ``table.csv``, ``layer_thresholds.csv``,
``<task>.csv``, ``key_numbers.csv``, ``run_time.csv``, the figures
``<task>.png`` and ``phase_<task>.png``; for a run with the
``constraints`` sweep, ``constraints_rows.csv``, ``constraints_table.csv``,
``constraints.csv`` (the short table), ``constraints.png`` and
``constraints_run_time.csv`` -- and only those, so a constraints-only run
leaves the map's files alone. A rerun on a finished ``--out`` runs no cell,
so ``--docs`` can render a finished run into the docs::

    python benchmarks/regime_map.py --n-jobs 1 --protocol converged --seeds 2 \
        --out regime_conv --docs converged

Recovery *above chance* is ``(student - chance) / (1 - chance)``: 0 for an
untrained student, 1 for the teacher itself, per layer.

What passes
-----------
As for ``teacher_student.py``: the teacher must score exactly 1.0 against
itself on every layer of every cell (exit status 1 otherwise). The map is
a measurement; no recovery level is required.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import copy_to_docs as _copy_to_docs  # noqa: E402
from sklearn_binn.study import run_cell  # noqa: E402, F401 (the examples' worker)
from _common import (  # noqa: E402
    add_rank_argument,
    build_parser,
    cell_worker,
    headless_pyplot,
    print_summary,
    run_cells,
    run_command,
)
from sklearn_binn.study import (  # noqa: E402
    ALL_KEY_COLUMNS,
    CELL_DEFAULTS,
    CONSTRAINT_COLUMNS,
    KEY_COLUMNS,
    PROTOCOLS,
    TASKS,
    VERDICTS,
    build_mask,
    key_text,
    make_cell,
    node_scores,
    recovery_table,
    select_cells,
    supervised_nodes,
    task_metric,
)
from teacher_student import check_references  # noqa: E402

BASE = {"hierarchy": "wide", "n_genes": 40, "overlap": 4.0, "depth": 2, "activation": "tanh",
        "noise": 0.0, "samples_per_edge": 10.0}
SPE = (0.3, 1.0, 3.0, 10.0, 30.0)
#: One-factor axes: name -> the points (cell overrides) along it.
AXES = {
    "samples_per_edge": [{"samples_per_edge": v} for v in SPE],
    "overlap": [{"overlap": v} for v in (1.0, 2.0, 4.0, 8.0)],
    "activation": [{"activation": v} for v in ("tanh", "relu", "sigmoid", "identity")],
    "depth": [{"depth": v} for v in (1, 2, 3, 4)],
    "noise": [{"noise": v} for v in (0.0, 0.25, 0.5, 0.75)],
    "input": [
        {"input_model": "independent"},
        {"input_model": "equicorrelated", "input_correlation": 0.5},
        {"input_model": "equicorrelated", "input_correlation": 0.9},
        {"input_model": "latent"},
    ],
    "lr": [{"lr": v} for v in (1e-3, 3e-3, 1e-2)],
    "weight_decay": [{"weight_decay": v} for v in (0.0, 1e-4, 1e-3, 1e-2)],
    "dropout": [{"dropout": v} for v in (0.0, 0.1, 0.3)],
    "early_stopping": [{"early_stopping": v} for v in (True, False)],
    "init": [{"init": v} for v in ("default", "teacher")],
    "constraints": [
        {},
        *({"edge_l1": v} for v in (1e-4, 1e-3, 1e-2)),
        {"sign_constraint": "teacher"},
        *({"supervised_fraction": v} for v in (0.25, 0.5)),
        {"sign_constraint": "teacher", "supervised_fraction": 0.5},
    ],
}
#: Sweeps: name -> the axes crossed (one axis: a one-factor sweep).
SWEEPS = {
    **{name: (name,) for name in AXES},
    "spe_x_depth": ("samples_per_edge", "depth"),
    "spe_x_activation": ("samples_per_edge", "activation"),
    "spe_x_overlap": ("samples_per_edge", "overlap"),
    "spe_x_init": ("samples_per_edge", "init"),
}
QUICK_SWEEPS = ("samples_per_edge", "activation", "depth", "init")
#: Run without ``--sweeps``: every sweep but the constraint arms.
DEFAULT_SWEEPS = tuple(s for s in SWEEPS if s != "constraints")
#: Sweeps of the practice protocol's training knobs (Adam's step and weight
#: decay, dropout, early stopping): under ``--protocol converged`` the
#: students are trained by full-batch L-BFGS to tolerance, where they do not
#: apply (dropout would make the objective random), so they are left out.
PRACTICE_ONLY = ("lr", "weight_decay", "dropout", "early_stopping")
QUICK = {"n_genes": 20, "points": {"samples_per_edge": [{"samples_per_edge": v}
                                                        for v in (0.3, 3.0, 10.0, 30.0)],
                                   "activation": AXES["activation"][:2],
                                   "depth": AXES["depth"][:3]}}
RECOVERY_THRESHOLD = 0.5


def build_arg_parser():
    """The command line: the shared options plus the sweeps, tasks and seeds.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> build_arg_parser().parse_args(["--sweeps", "depth", "lr"]).sweeps
    ['depth', 'lr']
    """
    parser = build_parser(__file__, __doc__)
    parser.add_argument("--sweeps", nargs="+", choices=list(SWEEPS), metavar="SWEEP",
                        help="sweeps to run (default: all but constraints; --quick: "
                             f"{' '.join(QUICK_SWEEPS)})")
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS),
                        metavar="TASK", help="tasks (default: all three)")
    parser.add_argument("--seeds", type=int, default=None, metavar="N",
                        help="seeds 0 .. N-1 (default: 2; --quick: 1)")
    parser.add_argument("--n-genes", type=int, default=None, metavar="N",
                        help=f"genes of the base hierarchy (default: {BASE['n_genes']}; "
                             f"--quick: {QUICK['n_genes']})")
    parser.add_argument("--max-epochs", type=int, default=None, metavar="N",
                        help="fixed epoch budget (default: practice max(200, ~5000 steps), at "
                             "most 2000; converged 500 L-BFGS epochs)")
    add_protocol_option(parser)
    add_rank_argument(parser)
    parser.add_argument("--docs", metavar="NAME",
                        help="also copy the run's tables, rows and figures to docs/_static/"
                             "regime_map_NAME_<file> (rows, table, layer_thresholds, <task>, "
                             "key_numbers, run_time, <task>.png, phase_<task>.png; constraints_* "
                             "for the constraints sweep), which the docs include")
    return parser


def add_protocol_option(parser):
    """Add ``--protocol practice|converged`` (one per run) to a parser.

    Examples
    --------
    >>> import argparse
    >>> add_protocol_option(argparse.ArgumentParser()).parse_args([]).protocol
    'practice'
    """
    parser.add_argument("--protocol", choices=list(PROTOCOLS), default="practice",
                        help="training protocol: 'practice' (the estimators' defaults: Adam, "
                             "mini-batches, early stopping; default) or 'converged' (full-batch "
                             "L-BFGS to tolerance with 3 restarts)")
    return parser


def sweep_points(name, quick=False):
    """The cell overrides of one sweep, as ``(labels, overrides)`` pairs.

    Parameters
    ----------
    name : str
        A key of :data:`SWEEPS`.
    quick : bool, default=False
        Use the shorter axes of ``--quick``.

    Returns
    -------
    list of (tuple of str, dict)
        One label per crossed axis, and the merged overrides.

    Examples
    --------
    >>> sweep_points("spe_x_init")[1]
    (('0.3', 'teacher'), {'samples_per_edge': 0.3, 'init': 'teacher'})
    """
    points = [((), {})]
    for axis in SWEEPS[name]:
        values = QUICK["points"].get(axis, AXES[axis]) if quick else AXES[axis]
        points = [(labels + (_label(axis, v),), {**over, **v})
                  for labels, over in points for v in values]
    return points


def _label(axis, point):
    if axis == "constraints":
        parts = []
        if point.get("edge_l1"):
            parts.append(f"L1 {point['edge_l1']:g}")
        if point.get("sign_constraint", "none") != "none":
            parts.append("teacher signs")
        if point.get("supervised_fraction"):
            parts.append(f"{point['supervised_fraction']:.0%} supervised")
        return " + ".join(parts) or "none"
    if axis == "input":
        model = point["input_model"]
        return f"equicorr. {point['input_correlation']:g}" if model == "equicorrelated" else model
    value = point[axis]
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def make_grid(args):
    """Every distinct cell of the chosen sweeps, and which sweep points map to which cell.

    Returns
    -------
    cells : list of dict
    membership : pandas.DataFrame
        One row per (task, seed, sweep, point): the sweep, its axis
        labels (``x``, ``y``) and the cell's key columns.

    Examples
    --------
    >>> args = build_arg_parser().parse_args(["--quick", "--tasks", "regression"])
    >>> cells, membership = make_grid(args)
    >>> len(cells), len(membership)
    (8, 11)
    """
    quick = args.quick
    protocol = getattr(args, "protocol", None) or "practice"
    sweeps = args.sweeps or [s for s in (QUICK_SWEEPS if quick else DEFAULT_SWEEPS)
                             if protocol == "practice" or s not in PRACTICE_ONLY]
    knobs = [s for s in sweeps if s in PRACTICE_ONLY]
    if protocol != "practice" and knobs:
        raise ValueError(
            f"The sweep(s) {knobs} vary the practice protocol's training (Adam, dropout, "
            f"early stopping), which --protocol {protocol} (full-batch L-BFGS to tolerance) "
            "does not use; run them with --protocol practice."
        )
    seeds = args.seeds if args.seeds is not None else (1 if quick else 2)
    n_genes = args.n_genes or (QUICK["n_genes"] if quick else BASE["n_genes"])
    extra = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
    extra["protocol"] = protocol
    cells, seen, members = [], set(), []
    for task in args.tasks:
        for seed in range(seeds):
            for sweep in sweeps:
                for labels, over in sweep_points(sweep, quick):
                    cell = make_cell(**{**BASE, "n_genes": n_genes, **over}, task=task,
                                     seed=seed, **extra)
                    key = tuple(repr(cell[c]) for c in ALL_KEY_COLUMNS)
                    if key not in seen:
                        seen.add(key)
                        cells.append(cell)
                    members.append({"sweep": sweep, "x": labels[0],
                                    "y": labels[1] if len(labels) > 1 else "", **cell})
    return cells, pd.DataFrame(members)


# ------------------------------------------------------------------- tables
def sweep_table(wide, membership):
    """Per task, sweep point and layer: the means over seeds of the recovery table.

    Parameters
    ----------
    wide : pandas.DataFrame
        :func:`task_metric` of :func:`recovery_table`.
    membership : pandas.DataFrame
        From :func:`make_grid`.

    Returns
    -------
    pandas.DataFrame
        ``task, sweep, x, y, layer`` and the means of output fit
        (``output_corr2``, ``excess_loss``, ``metric``, ``teacher_metric``),
        recovery (``*_student``, ``*_chance``, ``*_above_chance``), the
        influence Spearman correlations, the sd over seeds of the output fit
        and of both above-chance recoveries (``*_sd``, NaN for one seed) and
        ``n_seeds``; where the rows carry verdicts (runs since the study has
        protocols), per sweep point ``n_conv`` (students that converged) and
        the cells of each verdict (``n_recovered``, ``n_non_identifiable``,
        ``n_optimisation_shortfall``, ``n_no_fit``).

    Examples
    --------
    >>> args = build_arg_parser().parse_args(
    ...     ["--tasks", "regression", "--sweeps", "init", "--seeds", "1", "--n-genes", "12",
    ...      "--max-epochs", "5"])
    >>> cells, membership = make_grid(args)
    >>> import pandas as pd
    >>> from sklearn_binn.study import recovery_table, task_metric
    >>> rows = pd.DataFrame([{**c, **r} for c in cells for r in run_cell(c)])
    >>> table = sweep_table(task_metric(recovery_table(rows)), membership)
    >>> table[["sweep", "x", "layer"]].values.tolist()
    [['init', 'default', 0], ['init', 'default', 1], ['init', 'teacher', 0], ['init', 'teacher', 1]]
    """
    members = membership[["sweep", "x", "y"]].assign(_key=key_text(membership).to_numpy())
    merged = members.merge(wide.assign(_key=key_text(wide).to_numpy()), on="_key")
    values = ["output_corr2", "excess_loss", "metric", "teacher_metric",
              "weight_student", "weight_chance", "weight_above_chance",
              "activation_student", "activation_chance", "activation_above_chance",
              "weight_influence_spearman", "activation_influence_spearman", "epochs"]
    group = merged.groupby(["task", "sweep", "x", "y", "layer"], sort=False)
    table = group[values].mean()
    spread = ["output_corr2", "weight_above_chance", "activation_above_chance"]
    table[[f"{c}_sd" for c in spread]] = group[spread].std().to_numpy()
    table["n_seeds"] = group.size()
    table = table.reset_index()
    if "verdict" in merged:
        table = table.merge(_point_verdicts(merged), on=["task", "sweep", "x", "y"], how="left")
    return table


def _point_verdicts(merged):
    """Per sweep point: cells whose student converged, and the cells of each verdict."""
    first = merged[merged["layer"] == 0]
    keys = ["task", "sweep", "x", "y"]
    group = first.groupby(keys, sort=False)
    out = group["converged"].apply(
        lambda v: int(v.astype(str).str.lower().eq("true").sum())).rename("n_conv").to_frame()
    counts = group["verdict"].value_counts().unstack(fill_value=0)
    for verdict in VERDICTS:
        out[f"n_{verdict.replace(' ', '_').replace('-', '_')}"] = (
            counts[verdict] if verdict in counts else 0)
    return out.reset_index()


def layer_thresholds(table):
    """From the samples-per-edge sweeps: the samples per edge each layer needs.

    For each task, sweep row (e.g. depth) and layer, the smallest samples
    per edge from which the mean recovery above chance stays at or above
    :data:`RECOVERY_THRESHOLD` for every larger value (``inf`` if never).
    The layer with the largest threshold is the one that fails first as the
    data shrink.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`sweep_table`.

    Returns
    -------
    pandas.DataFrame
        Per task, sweep, setting (the second axis, or "base") and layer:
        ``weight_spe_needed`` and ``activation_spe_needed``.

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "task": "regression", "sweep": "samples_per_edge", "y": "", "layer": 0,
    ...     "x": ["1", "3", "10"], "weight_above_chance": [0.6, 0.4, 0.7],
    ...     "activation_above_chance": [0.6, 0.6, 0.7]})
    >>> layer_thresholds(table)[["weight_spe_needed", "activation_spe_needed"]].values.tolist()
    [[10.0, 1.0]]
    """
    rows = []
    spe_sweeps = table[table["sweep"].isin(["samples_per_edge", *[
        s for s in SWEEPS if s.startswith("spe_x_")]])]
    for (task, sweep, y, layer), group in spe_sweeps.groupby(["task", "sweep", "y", "layer"]):
        spe = group["x"].astype(float).to_numpy()
        order = np.argsort(spe)
        row = {"task": task, "sweep": sweep, "setting": y or "base", "layer": layer}
        for target in ("weight", "activation"):
            above = group[f"{target}_above_chance"].to_numpy()[order]
            ok = np.flip(np.cumprod(np.flip(above >= RECOVERY_THRESHOLD))).astype(bool)
            row[f"{target}_spe_needed"] = spe[order][ok][0] if ok.any() else np.inf
        rows.append(row)
    return pd.DataFrame(rows)


def constraint_table(rows, membership):
    """Per task, constraint arm and layer: output fit, its cost, and recovery above chance.

    Above chance is ``(student - chance) / (1 - chance)`` against two
    chance levels: the arm's own untrained student (``*_above``: a sign
    constraint puts every untrained weight in the teacher's orthant
    already, so this is what *training* adds), and the unconstrained
    untrained student (``*_above_free``: what the arm's student knows
    beyond a free random start, prior knowledge included). For supervised
    arms the recovery is also split into the supervised nodes (circular:
    they were given) and the unsupervised ones (``*_above_unsup``, against
    the chance of the same nodes), the honest measure; the unconstrained
    student of the same seed scored on those same nodes
    (``*_above_unsup_none``) is its baseline, and ``*_unsup_gain`` the
    paired difference: the nodes a supervised arm leaves free are not a
    random sample of the layer, so the layer mean is not a fair baseline
    (not for sign-constrained arms, whose own chance level differs).

    Parameters
    ----------
    rows : pandas.DataFrame
        :func:`run_cell` rows with their cells (a CSV read back).
    membership : pandas.DataFrame
        From :func:`make_grid`; only its ``constraints`` sweep is used.

    Returns
    -------
    pandas.DataFrame
        ``task, arm, layer, n_seeds``, the means over seeds of ``fit``
        (output corr²), ``metric`` (R² or ROC AUC on the test sample),
        ``metric_cost`` (unconstrained arm's metric minus this arm's, paired
        by seed), ``{weight,activation}_student``, ``*_above``,
        ``*_above_free``, ``*_above_sup``, ``*_above_unsup``,
        ``*_above_unsup_none`` and ``*_unsup_gain``, and the sd over seeds
        of ``metric_cost``, of both ``*_above`` and of both
        ``*_unsup_gain``.
        Empty if ``membership`` has no constraints sweep.

    Examples
    --------
    >>> args = build_arg_parser().parse_args(
    ...     ["--tasks", "regression", "--sweeps", "constraints", "--seeds", "1",
    ...      "--n-genes", "12", "--max-epochs", "2"])
    >>> cells, membership = make_grid(args)
    >>> import pandas as pd
    >>> rows = pd.DataFrame([{**c, **r} for c in cells[:2] for r in run_cell(c)])
    >>> table = constraint_table(rows, membership)
    >>> table[["arm", "layer"]].values.tolist()
    [['none', 0], ['none', 1], ['L1 0.0001', 0], ['L1 0.0001', 1]]
    >>> float(table.loc[0, "metric_cost"])
    0.0
    """
    members = membership[membership["sweep"] == "constraints"]
    if members.empty:
        return pd.DataFrame()
    keyed = members[["x"]].assign(_key=key_text(members).to_numpy()).drop_duplicates("_key")
    rows = rows.assign(_key=key_text(rows).to_numpy()).merge(keyed, on="_key")
    rows = rows.rename(columns={"x": "arm"})
    rows["metric"] = np.where(rows["task"] == "regression", rows["r2"],
                              np.where(rows["task"] == "classification", rows["auc"],
                                       rows["cindex"]))
    index = ["task", "arm", "seed", "layer"]
    student = rows[rows["reference"] == "student"].set_index(index)
    chance = rows[rows["reference"] == "chance"].set_index(index)
    free = chance.xs("none", level="arm").reset_index()
    out = pd.DataFrame(index=student.index)
    out["fit"] = student["output_corr2"]
    out["metric"] = student["metric"]
    base = student["metric"].xs("none", level="arm")
    out["metric_cost"] = [base.get((t, s, k), np.nan) - m for (t, a, s, k), m
                          in student["metric"].items()]

    def above(s, c):
        return (s - c) / (1.0 - c).where(c < 1.0)

    for target in ("weight", "activation"):
        column = f"{target}_recovery"
        out[f"{target}_student"] = student[column]
        out[f"{target}_above"] = above(student[column], chance[column].reindex(out.index))
        free_chance = free.set_index(["task", "seed", "layer"])[column]
        out[f"{target}_above_free"] = above(student[column], pd.Series(
            [free_chance.get((t, s, k), np.nan) for t, a, s, k in out.index], index=out.index))
        for part in ("sup", "unsup"):
            split = f"{column}_{part}ervised"
            if split in student:
                out[f"{target}_above_{part}"] = above(student[split],
                                                      chance[split].reindex(out.index))
            else:
                out[f"{target}_above_{part}"] = np.nan
    _same_node_baseline(out, rows, members)
    out = out.reset_index()
    group = out.groupby(["task", "arm", "layer"], sort=False)
    table = group.mean(numeric_only=True).drop(columns="seed")
    spread = ["metric_cost", "weight_above", "activation_above", "weight_unsup_gain",
              "activation_unsup_gain"]
    table[[f"{c}_sd" for c in spread]] = group[spread].std().to_numpy()
    table.insert(0, "n_seeds", group.size())
    table = table.reset_index()
    arms = {arm: i for i, arm in enumerate(dict.fromkeys(members["x"]))}
    tasks = {task: i for i, task in enumerate(dict.fromkeys(members["task"]))}
    order = np.lexsort((table["layer"], table["arm"].map(arms), table["task"].map(tasks)))
    return table.iloc[order].reset_index(drop=True)


def _same_node_baseline(out, rows, members):
    """Add ``*_above_unsup_none`` and ``*_unsup_gain`` to ``out`` (in place).

    For each supervised arm and seed, the unconstrained arm's student and
    untrained student of the same task and seed are scored on exactly the
    gene → pathway nodes the arm leaves unsupervised, from the per-node
    scores the rows keep.
    """
    for target in ("weight", "activation"):
        out[f"{target}_above_unsup_none"] = np.nan
    base = rows[(rows["arm"] == "none") & (rows["layer"] == 0)]
    base = base.set_index(["task", "seed", "reference"])
    if "weight_recovery_nodes" not in base:  # rows written before per-node scores were kept
        base = base.iloc[:0]
    for member in members.to_dict("records"):
        if not member["supervised_fraction"] or member["sign_constraint"] != "none":
            continue  # a sign-constrained arm's own chance is not the free student's
        cell = make_cell(**{k: (None if pd.isna(v) else v) for k, v in member.items()
                            if k in CELL_DEFAULTS})
        key = (cell["task"], member["x"], cell["seed"], 0)
        if key not in out.index or (cell["task"], cell["seed"], "student") not in base.index:
            continue
        mask = build_mask(cell)
        free = ~np.isin(np.asarray(mask.node_names[0]).astype(str), supervised_nodes(cell, mask))
        for target in ("weight", "activation"):
            student, chance = (
                np.nanmean(node_scores(base.loc[(cell["task"], cell["seed"], ref)], target)[free])
                for ref in ("student", "chance")
            )
            out.loc[key, f"{target}_above_unsup_none"] = (
                (student - chance) / (1.0 - chance) if chance < 1.0 else np.nan)
    for target in ("weight", "activation"):
        out[f"{target}_unsup_gain"] = (out[f"{target}_above_unsup"]
                                       - out[f"{target}_above_unsup_none"])


#: Columns of :func:`constraint_display`: heading → column of :func:`constraint_table`.
CONSTRAINT_DISPLAY = {
    "task": "task", "arm": "arm", "layer": "layer", "fit (corr²)": "fit",
    "metric cost": "metric_cost",
    "w above own chance": "weight_above", "w above free chance": "weight_above_free",
    "w unsup. nodes": "weight_above_unsup",
    "w same nodes (none)": "weight_above_unsup_none",
    "a above own chance": "activation_above", "a above free chance": "activation_above_free",
    "a unsup. nodes": "activation_above_unsup",
    "a same nodes (none)": "activation_above_unsup_none",
}


def constraint_display(table):
    """The docs' short form of :func:`constraint_table`: readable headings, two decimals.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`constraint_table`.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`CONSTRAINT_DISPLAY`, numbers as text with two
        decimals ("" where a column does not apply).

    Examples
    --------
    >>> row = {c: 0.5 for c in CONSTRAINT_DISPLAY.values()}
    >>> row.update(task="regression", arm="none", layer=0, weight_above_unsup=np.nan)
    >>> constraint_display(pd.DataFrame([row])).iloc[0, 3:8].tolist()
    ['0.50', '0.50', '0.50', '0.50', '']
    """
    out = table[list(CONSTRAINT_DISPLAY.values())].copy()
    out.columns = list(CONSTRAINT_DISPLAY)
    for column in list(CONSTRAINT_DISPLAY)[3:]:
        out[column] = [f"{v:.2f}" if pd.notna(v) else "" for v in out[column]]
    return out


def plot_constraints(table, path):
    """Heatmaps of :func:`constraint_table`: per task, arms by output fit and layer recovery.

    Columns: the metric cost, then per layer the weight and activation
    recovery above the arm's own chance and, for the gene → pathway layer,
    above chance on the unsupervised nodes only and its paired gain over
    the unconstrained student on the same nodes.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`constraint_table`.
    path : str or path-like

    Returns
    -------
    bool
        False (and no file) for an empty table.

    Examples
    --------
    >>> plot_constraints(pd.DataFrame(), "unused.png")
    False
    """
    if table.empty:
        return False
    plt = headless_pyplot()

    tasks = list(dict.fromkeys(table["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.6 * len(tasks) + 1.5, 4.2),
                             squeeze=False, gridspec_kw={"wspace": 0.08})
    image = None
    for n, (ax, task) in enumerate(zip(axes[0], tasks)):
        rows = table[table["task"] == task]
        arms = list(dict.fromkeys(rows["arm"]))
        layers = sorted(rows["layer"].unique())
        columns = (["fit cost"] + [f"w{k}" for k in layers] + [f"a{k}" for k in layers]
                   + ["w0 unsup.", "a0 unsup.", "w0 gain", "a0 gain"])
        matrix = np.full((len(arms), len(columns)), np.nan)
        for i, arm in enumerate(arms):
            at = rows[rows["arm"] == arm].set_index("layer")
            matrix[i, 0] = at["metric_cost"].mean()
            for j, k in enumerate(layers):
                matrix[i, 1 + j] = at.loc[k, "weight_above"]
                matrix[i, 1 + len(layers) + j] = at.loc[k, "activation_above"]
            for j, column in enumerate(["weight_above_unsup", "activation_above_unsup",
                                        "weight_unsup_gain", "activation_unsup_gain"]):
                matrix[i, j - 4] = at.loc[layers[0], column] if column in at else np.nan
        image = _heatmap(ax, matrix, arms, columns, task)
        if n:  # the arms are the same in every panel
            ax.set_yticklabels([])
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.7,
                 label="metric cost; recovery above chance; gain")
    fig.suptitle("Constraints on the internals, base point of the regime map")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return True


# ------------------------------------------------------------------ figures
def _heatmap(ax, matrix, rows, columns, title, vmin=-0.2, vmax=1.0):
    """Colours clipped to ``[vmin, vmax]``; the printed numbers are the real values.

    Fonts are sized for the docs, where a figure is shown about 1,200 px wide.
    """
    image = ax.imshow(np.clip(matrix, vmin, vmax), cmap="viridis", vmin=vmin, vmax=vmax,
                      aspect="auto")
    ax.set_xticks(range(len(columns)), columns, rotation=30, ha="right", fontsize=10)
    ax.set_yticks(range(len(rows)), rows, fontsize=10)
    ax.set_title(title, fontsize=12)
    size = 11 if matrix.shape[1] <= 6 else 9
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            value = matrix[i, j]
            if np.isfinite(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=size,
                        color="white" if value < 0.5 * (vmin + vmax) else "black")
    return image


def plot_sweeps(table, task, path):
    """One heatmap per one-factor sweep: output fit and per-layer recovery above chance.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`sweep_table`.
    task : str
    path : str or path-like
        Where the PNG goes.

    Returns
    -------
    bool
        False (and no file) if the table has no one-factor sweep for ``task``.

    Examples
    --------
    >>> args = build_arg_parser().parse_args(
    ...     ["--tasks", "regression", "--sweeps", "init", "--seeds", "1", "--n-genes", "12",
    ...      "--max-epochs", "5"])
    >>> cells, membership = make_grid(args)
    >>> import pandas as pd
    >>> from sklearn_binn.study import recovery_table, task_metric
    >>> rows = pd.DataFrame([{**c, **r} for c in cells for r in run_cell(c)])
    >>> table = sweep_table(task_metric(recovery_table(rows)), membership)
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     plot_sweeps(table, "regression", pathlib.Path(folder) / "map.png")
    True
    """
    plt = headless_pyplot()

    task_rows = table[(table["task"] == task) & (table["y"] == "")]
    sweeps = [s for s in SWEEPS if len(SWEEPS[s]) == 1 and s in set(task_rows["sweep"])]
    if not sweeps:
        return False
    n_cols = 2  # two panels a row: legible numbers at the docs' width
    n_rows = int(np.ceil(len(sweeps) / n_cols))
    height = 3.3 * n_rows + 1.0
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(6.4 * n_cols, height), squeeze=False,
                             gridspec_kw={"hspace": 0.5, "wspace": 0.3, "top": 1 - 1.5 / height})
    image = None
    for ax, sweep in zip(axes.ravel(), sweeps):
        rows = task_rows[task_rows["sweep"] == sweep]
        xs = list(dict.fromkeys(rows["x"]))
        layers = sorted(rows["layer"].unique())
        columns = ["fit"] + [f"w{k}" for k in layers] + [f"a{k}" for k in layers]
        matrix = np.full((len(xs), len(columns)), np.nan)
        for i, x in enumerate(xs):
            at = rows[rows["x"] == x].set_index("layer")
            matrix[i, 0] = at["output_corr2"].mean()
            for k in at.index:
                matrix[i, 1 + layers.index(k)] = at.loc[k, "weight_above_chance"]
                matrix[i, 1 + len(layers) + layers.index(k)] = at.loc[k, "activation_above_chance"]
        image = _heatmap(ax, matrix, xs, columns, sweep)
    for ax in axes.ravel()[len(sweeps):]:
        ax.set_visible(False)
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.5, pad=0.02,
                 label="fit: output corr² | wK, aK: layer K weight / activation "
                       "recovery above chance (colours clipped at -0.2)")
    fig.suptitle(f"Regime map, {task}: one factor at a time around the base point\n"
                 "(0 = untrained student, 1 = teacher)", fontsize=13)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return True


def plot_phases(table, task, path):
    """Two-factor phase diagrams: output fit and the gene → pathway layer's recovery above chance.

    Layer 0 is shown (not the mean over layers) because it is the layer every depth has and
    the one that fails first; upper layers with one- or two-input nodes have a chance level
    close to 1, which makes their above-chance score noisy.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`sweep_table`.
    task : str
    path : str or path-like
        Where the PNG goes.

    Returns
    -------
    bool
        False (and no file) if the table has no two-factor sweep for ``task``.

    Examples
    --------
    >>> plot_phases(pd.DataFrame({"task": ["regression"], "sweep": ["depth"], "x": ["1"],
    ...                           "y": [""], "layer": [0]}), "regression", "unused.png")
    False
    """
    plt = headless_pyplot()

    task_rows = table[(table["task"] == task) & (table["y"] != "") & (table["layer"] == 0)]
    sweeps = [s for s in SWEEPS if len(SWEEPS[s]) == 2 and s in set(task_rows["sweep"])]
    if not sweeps:
        return False
    height = 3.6 * len(sweeps) + 0.8
    fig, axes = plt.subplots(len(sweeps), 3, figsize=(16, height), squeeze=False,
                             gridspec_kw={"hspace": 0.6, "wspace": 0.2, "top": 1 - 0.8 / height})
    image = None
    for row, sweep in zip(axes, sweeps):
        rows = task_rows[task_rows["sweep"] == sweep].set_index(["x", "y"])
        xs = sorted(set(rows.index.get_level_values("x")), key=float)
        ys = list(dict.fromkeys(rows.index.get_level_values("y")))
        for n, (ax, (column, title)) in enumerate(zip(row, (
                ("output_corr2", "output fit (corr²)"),
                ("weight_above_chance", "layer 0 weights, above chance"),
                ("activation_above_chance", "layer 0 activations, above chance")))):
            matrix = np.full((len(ys), len(xs)), np.nan)
            for (x, y), value in rows[column].items():
                matrix[ys.index(y), xs.index(x)] = value
            image = _heatmap(ax, matrix, ys, xs, title)
            ax.set_xlabel("samples per edge", fontsize=10)
            if n == 0:  # the rows' labels, once per row of panels
                ax.set_ylabel(SWEEPS[sweep][1], fontsize=10)
            else:
                ax.set_yticklabels([])
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6, pad=0.02)
    fig.suptitle(f"Regime map, {task}: phase diagrams (0 = untrained student, 1 = teacher)",
                 fontsize=13)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return True


def printed_tables(table, thresholds):
    """The summary sections: per task and sweep point, layers side by side.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`sweep_table`.
    thresholds : pandas.DataFrame
        From :func:`layer_thresholds`.

    Returns
    -------
    dict of str to pandas.DataFrame
        For :func:`print_summary`.

    Examples
    --------
    >>> args = build_arg_parser().parse_args(
    ...     ["--tasks", "regression", "--sweeps", "init", "--seeds", "1", "--n-genes", "12",
    ...      "--max-epochs", "5"])
    >>> cells, membership = make_grid(args)
    >>> import pandas as pd
    >>> from sklearn_binn.study import recovery_table, task_metric
    >>> rows = pd.DataFrame([{**c, **r} for c in cells for r in run_cell(c)])
    >>> table = sweep_table(task_metric(recovery_table(rows)), membership)
    >>> sections = printed_tables(table, layer_thresholds(table))
    >>> list(sections)
    ['Regime map, regression (recovery above chance per layer; mean over seeds)']
    """
    pivot = table.pivot_table(
        index=["task", "sweep", "x", "y"], columns="layer",
        values=["weight_above_chance", "activation_above_chance"], sort=False,
    )
    pivot.columns = [f"{'w' if t.startswith('weight') else 'a'}{layer}_above"
                     for t, layer in pivot.columns]
    fit = table.groupby(["task", "sweep", "x", "y"], sort=False)[
        ["output_corr2", "excess_loss", "metric", "teacher_metric"]].first()
    joined = fit.join(pivot).reset_index()
    joined = joined.rename(columns={"output_corr2": "fit_corr2"})
    sections = {}
    for task, frame in joined.groupby("task", sort=False):
        sections[f"Regime map, {task} (recovery above chance per layer; mean over seeds)"] = (
            frame.drop(columns="task"))
    if len(thresholds):
        sections[
            f"Samples per edge each layer needs (above-chance recovery >= "
            f"{RECOVERY_THRESHOLD} from there up; inf: never within the sweep)"
        ] = thresholds
    return sections


def task_summary(table, task):
    """One task's sweep points, narrow: output fit, recovery above chance per layer, verdicts.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`sweep_table`.
    task : str

    Returns
    -------
    pandas.DataFrame
        ``sweep``, ``x``, ``y``, ``fit_corr2``, ``w{k}_above`` and
        ``a{k}_above`` per layer ``k`` (weight and activation recovery above
        chance, mean over seeds) and, where the rows carry verdicts,
        ``n_conv`` and ``verdicts`` (the cells of each verdict, e.g.
        ``"2 recovered"``).

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "task": "regression", "sweep": "depth", "x": "1", "y": "", "layer": 0,
    ...     "output_corr2": 0.99, "weight_above_chance": 0.9, "activation_above_chance": 0.8,
    ...     "n_conv": 2, "n_recovered": 1, "n_non_identifiable": 1,
    ...     "n_optimisation_shortfall": 0, "n_no_fit": 0}, index=[0])
    >>> task_summary(table, "regression")[["w0_above", "verdicts"]].values.tolist()
    [[0.9, '1 recovered, 1 non-identifiable']]
    """
    part = table[table["task"] == task]
    keys = ["sweep", "x", "y"]
    pivot = part.pivot_table(index=keys, columns="layer", sort=False, dropna=False,
                             values=["weight_above_chance", "activation_above_chance"])
    pivot.columns = [f"{'w' if t.startswith('weight') else 'a'}{layer}_above"
                     for t, layer in pivot.columns]
    pivot = pivot[sorted(pivot.columns, key=lambda c: (c[0] != "w", c))]
    first = part.groupby(keys, sort=False).first()
    out = first[["output_corr2"]].rename(columns={"output_corr2": "fit_corr2"}).join(pivot)
    if "n_conv" in first:
        out["n_conv"] = first["n_conv"].astype(int)
        names = {f"n_{v.replace(' ', '_').replace('-', '_')}": v for v in VERDICTS}
        out["verdicts"] = [", ".join(f"{int(row[c])} {v}" for c, v in names.items() if row[c])
                           for _, row in first[list(names)].iterrows()]
    return out.reset_index()


#: The numbers the docs cite that :func:`task_summary` does not show, per task:
#: ``(finding, sweep, point, layer, quantity)``, ``quantity`` a column of :func:`sweep_table`.
KEY_NUMBERS = (
    ("base point, random start", "init", "default", 0, "output_corr2"),
    ("base point, random start", "init", "default", 0, "excess_loss"),
    ("base point, random start", "init", "default", 0, "weight_above_chance"),
    ("base point, teacher start", "init", "teacher", 0, "excess_loss"),
    ("base point, teacher start", "init", "teacher", 0, "weight_above_chance"),
    ("step size 1e-2", "lr", "0.01", 0, "excess_loss"),
    ("step size 1e-2", "lr", "0.01", 0, "weight_above_chance"),
    ("independent genes", "input", "independent", 0, "activation_chance"),
    ("independent genes", "input", "independent", 0, "activation_student"),
    ("independent genes", "input", "independent", 0, "activation_above_chance"),
    ("equicorrelated genes, rho 0.9", "input", "equicorr. 0.9", 0, "activation_chance"),
    ("equicorrelated genes, rho 0.9", "input", "equicorr. 0.9", 0, "activation_student"),
    ("equicorrelated genes, rho 0.9", "input", "equicorr. 0.9", 0, "activation_above_chance"),
)


def key_numbers(table, spec=KEY_NUMBERS):
    """The docs' key numbers: one row per task and entry of ``spec`` found in ``table``.

    The per-task summaries (:func:`task_summary`) give each sweep point's
    fit, recovery above chance and verdicts; the findings also lean on a few
    quantities they leave out -- the held-out excess loss of randomly and
    teacher-started students, the chance level and raw score of activation
    recovery under correlated genes. This picks exactly those out of the
    summary table, so the prose can state a finding in words and this table
    gives its numbers. Points a run does not have (``lr`` under the
    converged protocol) are left out.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`sweep_table`.
    spec : sequence of tuple, default=KEY_NUMBERS
        ``(finding, sweep, point, layer, quantity)``.

    Returns
    -------
    pandas.DataFrame
        ``finding, task, sweep, point, layer, quantity, value`` (the mean
        over seeds), ``sd`` (over seeds, where the table has it: output fit
        and recovery above chance; else empty) and ``n_seeds``.

    Examples
    --------
    >>> table = pd.DataFrame({"task": "regression", "sweep": "init", "x": "default", "y": "",
    ...                       "layer": 0, "output_corr2": 0.99, "output_corr2_sd": 0.01,
    ...                       "n_seeds": 2}, index=[0])
    >>> numbers = key_numbers(table, [("base", "init", "default", 0, "output_corr2")])
    >>> numbers[["finding", "task", "quantity", "value", "sd", "n_seeds"]].values.tolist()
    [['base', 'regression', 'output_corr2', 0.99, 0.01, 2]]
    """
    one_factor = table[table["y"].fillna("") == ""]
    rows = []
    for task in dict.fromkeys(table["task"]):
        for finding, sweep, point, layer, quantity in spec:
            at = one_factor[(one_factor["task"] == task) & (one_factor["sweep"] == sweep)
                            & (one_factor["x"].astype(str) == point)
                            & (one_factor["layer"] == layer)]
            if at.empty or quantity not in at:
                continue
            first = at.iloc[0]
            sd = f"{quantity}_sd"
            rows.append({"finding": finding, "task": task, "sweep": sweep, "point": point,
                         "layer": layer, "quantity": quantity, "value": first[quantity],
                         "sd": first[sd] if sd in at else np.nan,
                         "n_seeds": int(first["n_seeds"])})
    columns = ["finding", "task", "sweep", "point", "layer", "quantity", "value", "sd",
               "n_seeds"]
    return pd.DataFrame(rows, columns=columns)


def run_time_table(wide, cells, argv=None, script="benchmarks/regime_map.py"):
    """What the run cost: per protocol, its cells, failures and the cells' own time.

    Parameters
    ----------
    wide : pandas.DataFrame
        :func:`recovery_table` of the run's rows (with ``cell_time_s``).
    cells : list of dict
        The cells the command asked for (:func:`make_grid`); a cell without
        rows failed.
    argv : list of str, default=None
        The command line (``None``: ``sys.argv[1:]``), recorded less its
        ``--out`` and ``--docs`` options (where the files went, not what ran).
    script : str, default="benchmarks/regime_map.py"
        The script the command runs.

    Returns
    -------
    pandas.DataFrame
        Per protocol: ``n_seeds``, ``n_cells`` (with rows), ``n_failed``,
        ``cell_time_total_s`` (the sum of the cells' ``cell_time_s``:
        seconds of one core, since each cell trains on one thread; with
        ``--n-jobs 1`` about the wall time), ``cell_time_mean_s``,
        ``cell_time_max_s`` and ``command``.

    Examples
    --------
    >>> cells = [make_cell(seed=s) for s in range(3)]
    >>> wide = pd.DataFrame([{**c, "layer": 0, "cell_time_s": 2.0 + c["seed"]}
    ...                      for c in cells[:2]])
    >>> table = run_time_table(wide, cells, ["--seeds", "3", "--out", "x", "--docs", "y"])
    >>> table[["n_seeds", "n_cells", "n_failed"]].values.tolist()
    [[3, 2, 1]]
    >>> table[["cell_time_total_s", "cell_time_mean_s", "cell_time_max_s"]].values.tolist()
    [[5.0, 2.5, 3.0]]
    >>> table.loc[0, "command"]
    'python benchmarks/regime_map.py --seeds 3'
    """
    command = run_command(script, list(sys.argv[1:] if argv is None else argv))
    asked = pd.DataFrame(cells)
    first = wide[wide["layer"] == 0]
    rows = []
    for protocol, group in first.groupby("protocol", sort=False):
        times = group["cell_time_s"].astype(float)
        wanted = asked[asked["protocol"] == protocol]
        rows.append({
            "protocol": protocol, "n_seeds": int(wanted["seed"].nunique()),
            "n_cells": len(group), "n_failed": len(wanted) - len(group),
            "cell_time_total_s": times.sum(), "cell_time_mean_s": times.mean(),
            "cell_time_max_s": times.max(),
            "command": command,
        })
    return pd.DataFrame(rows)


def constrained(cell):
    """Whether a cell sets any constraint (see ``sklearn_binn.study.CONSTRAINT_COLUMNS``).

    Examples
    --------
    >>> constrained(make_cell()), constrained(make_cell(edge_l1=1e-3))
    (False, True)
    """
    return any(cell[c] != CELL_DEFAULTS[c] for c in CONSTRAINT_COLUMNS)


def run_grid(cells, out, args):
    """Run the cells: unconstrained ones in ``regime_map.csv``, constrained ones apart.

    ``regime_map.csv`` is keyed by ``KEY_COLUMNS`` (as before the
    constraints existed, so earlier runs resume); the constrained cells go
    to ``regime_map_constraints.csv``, keyed by ``ALL_KEY_COLUMNS``.

    Returns
    -------
    pandas.DataFrame
        The rows of both CSVs (the constraint columns of unconstrained rows
        may be empty: the default).
    """
    plain = [c for c in cells if not constrained(c)]
    other = [c for c in cells if constrained(c)]
    options = {"n_jobs": args.n_jobs, "backend": args.backend, "scheduler": args.scheduler}
    worker = cell_worker(getattr(args, "rank", None))
    tables = []
    if plain or not other:
        tables.append(run_cells(plain, worker, out / "regime_map.csv", KEY_COLUMNS,
                                desc="regime_map", **options))
    if other:
        tables.append(run_cells(other, worker, out / "regime_map_constraints.csv",
                                ALL_KEY_COLUMNS, desc="regime_map_constraints", **options))
    return pd.concat(tables, ignore_index=True)


def main(argv=None):
    """Run the map; return the exit status (0, or 1 if a reference point failed).

    Parameters
    ----------
    argv : list of str, default=None
        The command line; ``None`` reads ``sys.argv``.

    Returns
    -------
    int

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     status = main(["--tasks", "regression", "--sweeps", "init", "--seeds", "1",
    ...                    "--n-genes", "12", "--max-epochs", "5", "--out", out])
    Regime map, regression ...
    >>> status
    0
    """
    parser = build_arg_parser()
    args = parser.parse_args(argv)
    if args.seeds is not None and args.seeds < 1:
        parser.error(f"--seeds must be at least 1; got {args.seeds}.")
    try:
        cells, membership = make_grid(args)
    except ValueError as exc:
        parser.error(str(exc))
    out = args.out
    table = run_grid(cells, out, args)
    wide = task_metric(recovery_table(select_cells(table, cells)))
    summary = sweep_table(wide, membership)
    summary.to_csv(out / "regime_map_table.csv", index=False, float_format="%.4g")
    thresholds = layer_thresholds(summary)
    thresholds.to_csv(out / "layer_thresholds.csv", index=False, float_format="%.4g")
    for task in args.tasks:
        task_summary(summary, task).to_csv(out / f"regime_map_summary_{task}.csv", index=False,
                                           float_format="%.3f")
    key_numbers(summary).to_csv(out / "regime_map_key_numbers.csv", index=False,
                                float_format="%.4g")
    plain = [c for c in cells if not constrained(c)]
    other = [c for c in cells if constrained(c)]
    plain_rows = select_cells(table, plain)
    run_time_table(recovery_table(plain_rows), plain, argv).to_csv(
        out / "regime_map_run_time.csv", index=False, float_format="%.4g")
    for task in args.tasks:
        plot_sweeps(summary, task, out / f"regime_map_{task}.png")
        plot_phases(summary, task, out / f"regime_map_phase_{task}.png")
    sections = printed_tables(summary, thresholds)
    constraints = constraint_table(select_cells(table, cells), membership)
    if not constraints.empty:
        constraints.to_csv(out / "regime_map_constraints_table.csv", index=False,
                           float_format="%.4g")
        plot_constraints(constraints, out / "regime_map_constraints.png")
        display = constraint_display(constraints)
        display.to_csv(out / "regime_map_constraints_display.csv", index=False)
        sections["Constraints (recovery above chance)"] = display
        run_time_table(recovery_table(select_cells(table, other)), other, argv).to_csv(
            out / "regime_map_constraints_run_time.csv", index=False, float_format="%.4g")
    problems = check_references(wide)
    if problems:
        sections["Reference-point failures"] = "\n".join(problems)
    print_summary(sections, out_dir=out, float_format="{:.3f}".format)
    if args.docs:
        sweeps = set(membership["sweep"])
        constraint_keys = set(key_text(membership[membership["sweep"] == "constraints"]))
        copy_to_docs(out, args.docs, args.tasks,
                     rows=plain_rows if sweeps - {"constraints"} else None,
                     constraint_rows=(table[key_text(table).isin(constraint_keys).to_numpy()]
                                      .reset_index(drop=True)
                                      if "constraints" in sweeps else None))
    return 1 if problems else 0


#: Run file -> its name in the docs (``regime_map_<name>_<this>``): the map's
#: files (``{task}`` for each task of the run) and the constraint sweep's.
DOCS_FILES = {
    "map": {"regime_map_table.csv": "table.csv", "layer_thresholds.csv": "layer_thresholds.csv",
            "regime_map_summary_{task}.csv": "{task}.csv",
            "regime_map_key_numbers.csv": "key_numbers.csv",
            "regime_map_run_time.csv": "run_time.csv",
            "regime_map_{task}.png": "{task}.png",
            "regime_map_phase_{task}.png": "phase_{task}.png"},
    "constraints": {"regime_map_constraints_table.csv": "constraints_table.csv",
                    "regime_map_constraints_display.csv": "constraints.csv",
                    "regime_map_constraints.png": "constraints.png",
                    "regime_map_constraints_run_time.csv": "constraints_run_time.csv"},
}


def copy_to_docs(out, name, tasks, static=None, rows=None, constraint_rows=None):
    """Copy a run's tables, rows and figures into the docs' ``_static`` folder.

    Parameters
    ----------
    out : pathlib.Path
        The run's output folder.
    name : str
        The run's name in the docs: files become ``regime_map_<name>_<file>``
        (:data:`DOCS_FILES`).
    tasks : list of str
        The run's tasks (``{task}`` in :data:`DOCS_FILES`).
    static : pathlib.Path, default=None
        Default ``docs/_static`` of this repository.
    rows : pandas.DataFrame, default=None
        The rows of the map's (unconstrained) cells, written as
        ``..._rows.csv``; ``None`` for a run without the map's sweeps, which
        then copies none of the map's files (a constraints-only run must not
        overwrite the map's tables with its base point's).
    constraint_rows : pandas.DataFrame, default=None
        The rows of the constraint sweep's cells (its unconstrained arm
        included), written as ``..._constraints_rows.csv``; ``None``: no
        constraint files are copied.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = pathlib.Path(tmp)
    ...     _ = (out / "regime_map_summary_survival.csv").write_text("sweep\\n")
    ...     _ = (out / "regime_map_constraints_table.csv").write_text("task\\n")
    ...     written = copy_to_docs(out, "converged", ["survival"], static=out / "static",
    ...                            rows=pd.DataFrame({"seed": [0]}))
    >>> [p.name for p in written]
    ['regime_map_converged_survival.csv', 'regime_map_converged_rows.csv']
    """
    written = []
    for part, part_rows in (("map", rows), ("constraints", constraint_rows)):
        if part_rows is not None:
            written += _copy_to_docs(out, f"regime_map_{name}", DOCS_FILES[part],
                                     rows=part_rows, static=static, expand={"task": tasks},
                                     rows_name="rows.csv" if part == "map"
                                     else "constraints_rows.csv")
    return written


if __name__ == "__main__":
    sys.exit(main())
