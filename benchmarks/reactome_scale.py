"""Teacher–student cells at Reactome scale: thousands of genes, Reactome's own wiring.

What it measures
----------------
The teacher–student cells of :mod:`sklearn_binn.study` on hierarchies cut
from the whole bundled human Reactome (``hierarchy="reactome_genes"``,
:func:`sklearn_binn.study.reactome_subset`: ``load_reactome(n_levels=3)``
restricted to a fixed sample of ``n_genes`` genes, the same for every seed,
keeping Reactome's skewed pathway sizes and overlapping gene sets), at
three pathway layers (the mask's levels), 0.5, 1 and 10 training samples
per mask edge and both training protocols (``practice``: Adam with early
stopping; ``converged``: full-batch L-BFGS to tolerance with restarts).
Each cell is :func:`sklearn_binn.study.run_cell`: a teacher with random
weights on the mask generates the data, a student with the same wiring is
trained and scored against the teacher and against untrained students
(chance), layer by layer, and gets a verdict.

Before any cell runs, its training set is sized: ``n_train`` (samples per
edge × edges) and its memory as float32 (``n_train × n_genes × 4`` bytes;
the teacher draws it as float64, twice that). A cell whose estimated peak
(``3 ×`` the float32 training and test sets: the float64 draw and its
float32 copy) exceeds ``--max-memory-gb`` is not run and is listed as such.

Outputs (in ``--out``)
----------------------
``reactome_scale.csv``
    Every row of every cell (:func:`~sklearn_binn.study.run_cell`; a rerun
    skips finished cells).
``cells.csv``
    One row per cell of this run: the mask (genes, pathways per layer,
    edges, mean pathways per gene), ``n_train`` and its memory, protocol,
    convergence, verdict, weight and activation recovery per layer with
    their chance levels, the output fit (task metric and the teacher's),
    epochs, the student's fit time and the whole cell's time; cells not run
    (memory) with ``status``.
``cells_brief.csv``
    The same, as printed: recovery per layer as ``student/chance``.
``projection.csv``
    The full grid (``--target-genes`` genes, 0.5, 1 and 10 samples per
    edge, both protocols, the run's tasks and seeds): each cell's measured
    time, or its estimate from the measured cells (every cell in the CSV),
    scaled linearly in ``epoch budget × n_train × n_edges`` from the
    largest measured cell of the same task and protocol (:func:`project`);
    then the total in core-hours and the wall time on ``--cores`` cores
    (``projection.csv``, ``projection_totals.csv``).
``run_time.csv``
    Per protocol: cells asked, cells with rows, and the cells' summed,
    mean and largest time (seconds of one core each).
``summary.txt``, ``log.txt``

``--docs NAME`` copies ``cells.csv``, ``cells_brief.csv``, ``projection.csv``,
``projection_totals.csv``, ``run_time.csv`` and ``summary.txt`` into
``docs/_static/reactome_scale_<NAME>_<file>``, with the rows of the run's
cells (``..._rows.csv``) that ``tests/test_reactome_scale.py`` regenerates
``cells.csv`` from; ``--render-only`` trains nothing and writes the tables
from the cells the CSV already holds (e.g. while a long cell still runs).

How to run
----------
From the repository root::

    python benchmarks/reactome_scale.py --quick          # 200 genes, 0.5 and 1 sample/edge
    python benchmarks/reactome_scale.py --n-jobs 2       # 2,000 genes, the full grid
    python benchmarks/reactome_scale.py --n-genes 2000 --samples-per-edge 0.5 \\
        --protocols practice                              # one 2,000-gene cell
    python benchmarks/reactome_scale.py --backend dask --scheduler tcp://HOST:8786 \\
        --n-jobs 64                                       # on a cluster

``--rank METHOD`` also scores each student's pathway-importance ranking
against its teacher's (``rank_*`` columns, :func:`sklearn_binn.study.run_cell`).

Each cell runs on one core (one torch thread); cells run in parallel with
``--n-jobs`` on joblib's loky, dask or Ray backends.
"""

from __future__ import annotations

import argparse
import datetime
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    add_rank_argument,
    build_parser,
    cell_worker,
    copy_to_docs,
    print_summary,
    run_cells,
    run_command,
)
from sklearn_binn.study import (  # noqa: E402
    KEY_COLUMNS,
    PAIRED_PROTOCOLS,
    PROTOCOLS,
    TASKS,
    make_cell,
    protocol_params,
    reactome_subset,
    recovery_table,
    select_cells,
    task_metric,
)

FULL = {"n_genes": 2000, "samples_per_edge": [0.5, 1.0, 10.0]}
QUICK = {"n_genes": 200, "samples_per_edge": [0.5, 1.0]}
# --tiny (hidden, for the test suite): toy budgets
TINY = {"max_epochs": 5, "n_test": 200, "n_chance_draws": 2}
CSV_NAME = "reactome_scale.csv"
SCRIPT = "benchmarks/reactome_scale.py"
DOCS_FILES = ("cells.csv", "cells_brief.csv", "projection.csv", "projection_totals.csv",
              "run_time.csv", "summary.txt")
MIN_TRAIN = 20  # the study's floor on n_train (make_cell: n_train >= 20)
BATCH_SIZE = 128  # the practice protocol's batches
BYTES_FLOAT32 = 4
# estimated peak memory of a cell: the float64 draw and its float32 copy, train and test
PEAK_FACTOR = 3


# ------------------------------------------------------------------ the mask
def mask_stats(n_genes, depth):
    """The size of a ``reactome_genes`` mask: genes, pathways per layer, edges, overlap.

    Parameters
    ----------
    n_genes : int
    depth : int
        Pathway layers kept (at most 3).

    Returns
    -------
    dict
        ``n_genes``, ``nodes_per_layer`` (text, e.g. ``"116/67/24"``),
        ``n_edges``, ``pathways_per_gene`` (mean number of pathways a gene
        feeds directly, over all layers: the overlap of the gene sets).

    Examples
    --------
    >>> mask_stats(60, 3)
    {'n_genes': 60, 'nodes_per_layer': '116/67/24', 'n_edges': 345, 'pathways_per_gene': 2.7}
    """
    mask = reactome_subset(int(n_genes)).truncate(int(depth))
    memberships = 0
    for k, layer in enumerate(mask.layers):
        for source, start, stop in mask.input_sources(k):
            if source < 0:  # the genes' rows of layer k
                memberships += layer[start:stop].nnz
    return {"n_genes": mask.n_features,
            "nodes_per_layer": "/".join(str(n) for n in mask.layer_sizes),
            "n_edges": mask.n_edges,
            "pathways_per_gene": round(memberships / mask.n_features, 3)}


def n_train_of(samples_per_edge, n_edges):
    """Training samples of a cell: ``samples_per_edge × n_edges``, at least 20 (as the study).

    Examples
    --------
    >>> n_train_of(10.0, 6437), n_train_of(0.5, 10)
    (64370, 20)
    """
    return max(MIN_TRAIN, int(round(float(samples_per_edge) * int(n_edges))))


def epoch_budget(protocol, n_train):
    """The study's default epoch budget of a cell (``max_epochs_used`` of its rows).

    ``"practice"``: ``max(200, ceil(5000 / batches per epoch))`` capped at
    2000, batches of 128 over the 90 % not held out for early stopping;
    the converged protocols: their budget (:func:`~sklearn_binn.study.protocol_params`).

    Examples
    --------
    >>> epoch_budget("practice", 451), epoch_budget("practice", 64370)
    (1250, 200)
    >>> epoch_budget("converged", 451)
    500
    """
    if protocol != "practice":
        return protocol_params(protocol)["max_epochs"]
    batches = max(1, math.ceil((n_train - math.ceil(0.1 * n_train)) / BATCH_SIZE))
    return int(min(2000, max(200, math.ceil(5000 / batches))))


def memory_mb(n_samples, n_genes):
    """Megabytes (2**20 bytes) of an ``n_samples × n_genes`` float32 matrix.

    Examples
    --------
    >>> round(memory_mb(64370, 2000), 1)
    491.1
    """
    return n_samples * n_genes * BYTES_FLOAT32 / 2**20


# ------------------------------------------------------------------ the grid
def make_grid(args):
    """The cells the command line asks for (complete :func:`make_cell` dicts).

    Examples
    --------
    >>> cells = make_grid(build_arg_parser().parse_args(["--quick"]))
    >>> len(cells), cells[0]["hierarchy"], cells[0]["n_genes"], cells[0]["depth"]
    (4, 'reactome_genes', 200, 3)
    """
    grid = QUICK if args.quick else FULL
    n_genes = args.n_genes or grid["n_genes"]
    depth = args.depth or reactome_subset(n_genes).depth
    extra = dict(TINY) if args.tiny else {}
    if args.max_epochs is not None:
        extra["max_epochs"] = args.max_epochs
    return [make_cell(task=task, hierarchy="reactome_genes", n_genes=n_genes, depth=depth,
                      noise=args.noise, samples_per_edge=float(spe), protocol=protocol,
                      seed=seed, **extra)
            for task in args.tasks for protocol in args.protocols
            for spe in (args.samples_per_edge or grid["samples_per_edge"])
            for seed in range(args.seeds)]


def plan_cells(cells, max_memory_gb):
    """Each cell's mask size, ``n_train`` and memory, and whether it fits in memory.

    Parameters
    ----------
    cells : list of dict
    max_memory_gb : float
        A cell runs only if its estimated peak (``PEAK_FACTOR`` × its float32
        training and test sets) is at most this.

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``task``, ``protocol``, ``samples_per_edge``,
        ``seed``, the :func:`mask_stats`, ``n_train``, ``train_mb_float32``,
        ``peak_mb_estimate`` and ``feasible``.

    Examples
    --------
    >>> plan = plan_cells([make_cell(hierarchy="reactome_genes", n_genes=60, depth=3,
    ...                              samples_per_edge=10.0)], max_memory_gb=8)
    >>> plan[["n_edges", "n_train", "feasible"]].values.tolist()
    [[345, 3450, True]]
    """
    rows = []
    for cell in cells:
        stats = mask_stats(cell["n_genes"], cell["depth"])
        n_train = n_train_of(cell["samples_per_edge"], stats["n_edges"])
        peak = PEAK_FACTOR * memory_mb(n_train + cell["n_test"], stats["n_genes"])
        rows.append({"task": cell["task"], "protocol": cell["protocol"],
                     "samples_per_edge": cell["samples_per_edge"], "seed": cell["seed"],
                     **stats, "n_train": n_train,
                     "train_mb_float32": memory_mb(n_train, stats["n_genes"]),
                     "peak_mb_estimate": peak, "feasible": peak <= max_memory_gb * 1024})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------- the tables
def cell_table(table, cells, plan):
    """One row per cell of this run: its plan, and the measured results of those that ran.

    Parameters
    ----------
    table : pandas.DataFrame
        The study CSV read back (may hold other runs' cells).
    cells : list of dict
        This run's cells, in the order of ``plan``.
    plan : pandas.DataFrame
        From :func:`plan_cells`.

    Returns
    -------
    pandas.DataFrame
        ``plan``'s columns, ``status`` ("run", "not run: memory", or
        "not run" for a cell the CSV has no rows of), and for
        cells that ran: ``converged``, ``verdict``, per layer ``k``
        ``weight_L{k}``, ``weight_chance_L{k}``, ``activation_L{k}``,
        ``activation_chance_L{k}``; ``metric_name``, ``metric``,
        ``teacher_metric``, ``output_corr2``, ``epochs``, ``fit_time_s``,
        ``cell_time_s``.

    Examples
    --------
    >>> from sklearn_binn.study import run_cell
    >>> cell = make_cell(hierarchy="reactome_genes", n_genes=20, depth=1,
    ...                  samples_per_edge=1.0, max_epochs=2, n_test=100, n_chance_draws=2)
    >>> rows = pd.DataFrame([{**cell, **r} for r in run_cell(cell)])
    >>> out = cell_table(rows, [cell], plan_cells([cell], 8))
    >>> out[["status", "weight_teacher_L0"]].values.tolist()
    [['run', 1.0]]
    """
    plan = plan.reset_index(drop=True).copy()
    plan["status"] = np.where(plan["feasible"], "run", "not run: memory")
    if table is None or table.empty:
        return plan
    wide = task_metric(recovery_table(select_cells(table, cells)))
    if wide.empty:
        return plan
    keys = ["task", "protocol", "samples_per_edge", "seed"]
    per_cell = []
    for key, group in wide.groupby(keys, sort=False):
        group = group.sort_values("layer")
        first = group.iloc[0]
        row = dict(zip(keys, key))
        for column in ("converged", "verdict", "metric_name", "metric", "teacher_metric",
                       "output_corr2", "epochs", "fit_time_s", "cell_time_s"):
            row[column] = first.get(column, np.nan)
        for _, layer in group.iterrows():
            k = int(layer["layer"])
            for target in ("weight", "activation"):
                row[f"{target}_L{k}"] = layer[f"{target}_student"]
                row[f"{target}_chance_L{k}"] = layer[f"{target}_chance"]
                row[f"{target}_teacher_L{k}"] = layer[f"{target}_teacher"]
        per_cell.append(row)
    measured = pd.DataFrame(per_cell)
    measured["samples_per_edge"] = measured["samples_per_edge"].astype(float)
    measured["seed"] = measured["seed"].astype(int)
    plan["samples_per_edge"] = plan["samples_per_edge"].astype(float)
    plan["seed"] = plan["seed"].astype(int)
    out = plan.merge(measured, on=keys, how="left")
    out.loc[out["feasible"] & out["verdict"].isna(), "status"] = "not run"
    return out


def printable(cells):
    """:func:`cell_table` narrowed for print: recovery as ``student/chance`` per layer.

    Examples
    --------
    >>> frame = pd.DataFrame({"task": ["regression"], "protocol": ["practice"],
    ...                       "samples_per_edge": [1.0], "seed": [0], "n_genes": [60],
    ...                       "nodes_per_layer": ["116/67/24"], "n_edges": [345],
    ...                       "pathways_per_gene": [2.7], "n_train": [345],
    ...                       "train_mb_float32": [0.08], "status": ["run"],
    ...                       "weight_L0": [0.91], "weight_chance_L0": [0.42]})
    >>> printable(frame)["weight s/c"].tolist()
    ['0.91/0.42']
    """
    out = cells[[c for c in ("task", "protocol", "samples_per_edge", "seed", "n_genes",
                             "nodes_per_layer", "n_edges", "pathways_per_gene", "n_train",
                             "train_mb_float32", "status", "converged", "verdict")
                 if c in cells]].copy()
    out = out.rename(columns={"samples_per_edge": "spe", "nodes_per_layer": "nodes",
                              "pathways_per_gene": "pw/gene", "train_mb_float32": "train_MB"})
    for target in ("weight", "activation"):
        layers = sorted(int(c.rsplit("L", 1)[1]) for c in cells
                        if c.startswith(f"{target}_L"))
        if not layers:
            continue

        def text(row, target=target, layers=layers):
            parts = [f"{row[f'{target}_L{k}']:.2f}/{row[f'{target}_chance_L{k}']:.2f}"
                     for k in layers if pd.notna(row.get(f"{target}_L{k}"))]
            return " ".join(parts) if parts else "-"

        out[f"{target} s/c"] = cells.apply(text, axis=1) if len(cells) else []
    for column, name in (("metric_name", "metric"), ("metric", "value"),
                         ("teacher_metric", "teacher"), ("output_corr2", "corr2"),
                         ("epochs", "epochs"), ("fit_time_s", "fit_s"),
                         ("cell_time_s", "cell_s")):
        if column in cells:
            out[name] = cells[column]
    return out


def measured_times(table):
    """Per measured cell of a study CSV: task, protocol, its work and its time.

    The *work* of a cell is ``max_epochs_used × n_train × n_edges``: edge
    evaluations of a fit that uses its whole epoch budget.

    Examples
    --------
    >>> rows = pd.DataFrame({"task": "regression", "protocol": "practice", "seed": 0,
    ...                      "reference": ["student", "student", "teacher"],
    ...                      "layer": [0, 1, 0], "n_genes": 60, "samples_per_edge": 1.0,
    ...                      "n_train_used": 345, "n_edges": 345, "max_epochs_used": 200,
    ...                      "cell_time_s": 2.0})
    >>> measured_times(rows)[["work", "cell_time_s"]].values.tolist()
    [[23805000.0, 2.0]]
    """
    if table is None or table.empty:
        return pd.DataFrame(columns=["task", "protocol", "n_genes", "samples_per_edge",
                                     "work", "cell_time_s"])
    first = table[(table["reference"] == "student") & (table["layer"].astype(int) == 0)]
    out = first[["task", "protocol", "n_genes", "samples_per_edge"]].copy()
    out["work"] = (first["max_epochs_used"].astype(float) * first["n_train_used"].astype(float)
                   * first["n_edges"].astype(float))
    out["cell_time_s"] = first["cell_time_s"].astype(float)
    return out.reset_index(drop=True)


def project(measured, tasks, protocols, seeds, n_genes, cores):
    """The cost of the full grid at ``n_genes`` genes, measured where run, else estimated.

    A cell not measured is estimated from the largest measured cell (in
    work: ``epoch budget × n_train × n_edges``, :func:`measured_times`,
    :func:`epoch_budget`) of the same task and protocol (else of the same
    protocol, any task), scaled linearly in work: it assumes that a fit
    uses the same fraction of its budget, and that an epoch costs in
    proportion to samples × edges. Small measured cells carry fixed
    overheads (the chance draws, scoring), which this scaling inflates;
    large cells whose fits use more of their budget (more L-BFGS
    iterations to tolerance) are underestimated.

    Parameters
    ----------
    measured : pandas.DataFrame
        From :func:`measured_times`.
    tasks, protocols : list of str
    seeds : int
    n_genes : int
    cores : list of int
        Core counts for the wall-time projection.

    Returns
    -------
    cells : pandas.DataFrame
        One row per cell of the grid: ``task``, ``protocol``,
        ``samples_per_edge``, ``n_edges``, ``n_train``, ``train_mb_float32``,
        ``status`` ("measured" or "estimated", or "no basis" when nothing
        of that protocol was measured), ``cell_time_s``, ``basis``.
    totals : pandas.DataFrame
        Per protocol and overall: ``n_cells``, ``n_measured``, ``core_h``,
        ``longest_cell_h`` and ``wall_h_{n}_cores`` for each ``n`` in
        ``cores`` (``max(core_h / n, longest cell)``: cells run one per core).

    Examples
    --------
    >>> measured = pd.DataFrame({"task": "regression", "protocol": "practice",
    ...                          "n_genes": 60, "samples_per_edge": 1.0,
    ...                          "work": [500 * 345.0 * 345], "cell_time_s": [2.0]})
    >>> cells, totals = project(measured, ["regression"], ["converged"], 1, 60, [2])
    >>> cells[["samples_per_edge", "status", "cell_time_s"]].values.tolist()
    [[0.5, 'no basis', nan], [1.0, 'no basis', nan], [10.0, 'no basis', nan]]
    >>> measured["protocol"] = "converged"
    >>> cells, totals = project(measured, ["regression"], ["converged"], 1, 60, [2])
    >>> cells[["samples_per_edge", "status", "cell_time_s"]].values.tolist()
    [[0.5, 'estimated', 1.0], [1.0, 'measured', 2.0], [10.0, 'estimated', 20.0]]
    >>> float(totals["wall_h_2_cores"].iloc[-1]) == 20.0 / 3600
    True
    """
    stats = mask_stats(n_genes, reactome_subset(n_genes).depth)
    rows = []
    for task in tasks:
        for protocol in protocols:
            same = measured[(measured["task"] == task) & (measured["protocol"] == protocol)]
            if same.empty:
                same = measured[measured["protocol"] == protocol]
            for spe in FULL["samples_per_edge"]:
                n_train = n_train_of(spe, stats["n_edges"])
                work = epoch_budget(protocol, n_train) * float(n_train) * stats["n_edges"]
                exact = same[(same["task"] == task)
                             & (same["n_genes"].astype(int) == int(n_genes))
                             & np.isclose(same["samples_per_edge"].astype(float), spe)]
                for seed in range(seeds):
                    row = {"task": task, "protocol": protocol, "samples_per_edge": spe,
                           "seed": seed, "n_genes": n_genes, "n_edges": stats["n_edges"],
                           "n_train": n_train,
                           "train_mb_float32": memory_mb(n_train, stats["n_genes"])}
                    if len(exact) > seed:
                        row.update(status="measured",
                                   cell_time_s=float(exact["cell_time_s"].iloc[seed]),
                                   basis="measured")
                    elif same.empty:
                        row.update(status="no basis", cell_time_s=np.nan,
                                   basis=f"no {protocol} cell measured")
                    else:
                        ref = same.loc[same["work"].idxmax()]
                        row.update(status="estimated",
                                   cell_time_s=float(ref["cell_time_s"]) * work / ref["work"],
                                   basis=(f"x{work / ref['work']:.3g} of {ref['task']} "
                                          f"{int(ref['n_genes'])} genes, "
                                          f"spe {float(ref['samples_per_edge']):g}"))
                    rows.append(row)
    cells = pd.DataFrame(rows)
    totals = []
    for name, group in [*cells.groupby("protocol", sort=False), ("all", cells)]:
        seconds = group["cell_time_s"]
        row = {"protocol": name, "n_cells": len(group),
               "n_measured": int((group["status"] == "measured").sum()),
               "core_h": seconds.sum(min_count=len(group)) / 3600,
               "longest_cell_h": seconds.max() / 3600}
        for n in cores:
            row[f"wall_h_{n}_cores"] = max(row["core_h"] / n, row["longest_cell_h"])
        totals.append(row)
    return cells, pd.DataFrame(totals)


def run_time_table(per_cell, argv):
    """Per protocol: cells asked, cells with rows, and their summed, mean and largest time.

    Parameters
    ----------
    per_cell : pandas.DataFrame
        :func:`cell_table` (``protocol``, ``cell_time_s``: NaN for cells without rows).
    argv : list of str
        The command line, recorded less ``--out``, ``--docs`` and ``--render-only``.

    Examples
    --------
    >>> per_cell = pd.DataFrame({"protocol": ["practice", "practice", "converged"],
    ...                          "cell_time_s": [2.0, 4.0, np.nan]})
    >>> table = run_time_table(per_cell, ["--n-jobs", "2", "--docs", "full"])
    >>> table[["protocol", "cells", "cells_done", "cell_time_s_total"]].values.tolist()
    [['practice', 2, 2, 6.0], ['converged', 1, 0, 0.0]]
    >>> table["command"].iloc[0]
    'python benchmarks/reactome_scale.py --n-jobs 2'
    """
    command = run_command(SCRIPT, argv, flags=("--render-only",))
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    times = pd.to_numeric(per_cell.get("cell_time_s", pd.Series(np.nan, per_cell.index)),
                          errors="coerce")
    rows = []
    for protocol in dict.fromkeys(per_cell["protocol"]):
        mine = times[per_cell["protocol"] == protocol].dropna()
        rows.append({"protocol": protocol,
                     "cells": int((per_cell["protocol"] == protocol).sum()),
                     "cells_done": len(mine),
                     "cell_time_s_total": round(float(mine.sum()), 1),
                     "cell_time_s_mean": round(float(mine.mean()), 1) if len(mine) else np.nan,
                     "cell_time_s_max": round(float(mine.max()), 1) if len(mine) else np.nan,
                     "command": command, "date": date})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------- the CLI
def build_arg_parser():
    """The shared command line plus this study's options.

    Examples
    --------
    >>> args = build_arg_parser().parse_args(["--quick"])
    >>> args.tasks, args.protocols, args.seeds, args.cores
    (['regression'], ['practice', 'converged'], 1, [2, 16, 64])
    """
    parser = build_parser(__file__, __doc__)
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=["regression"],
                        help="tasks (default: regression)")
    parser.add_argument("--protocols", nargs="+", choices=PROTOCOLS,
                        default=list(PAIRED_PROTOCOLS),
                        help="training protocols (default: both)")
    parser.add_argument("--n-genes", type=int, metavar="N",
                        help=f"Reactome genes kept (default {FULL['n_genes']}, "
                             f"--quick {QUICK['n_genes']})")
    parser.add_argument("--samples-per-edge", type=float, nargs="+", metavar="S",
                        help=f"training samples per mask edge (default "
                             f"{FULL['samples_per_edge']}, --quick {QUICK['samples_per_edge']})")
    parser.add_argument("--depth", type=int, choices=[1, 2, 3],
                        help="pathway layers (default: the mask's 3)")
    parser.add_argument("--noise", type=float, default=0.0,
                        help="the study's noise knob (default 0: noiseless)")
    parser.add_argument("--seeds", type=int, default=1, metavar="N", help="seeds 0 .. N-1")
    add_rank_argument(parser)
    parser.add_argument("--max-epochs", type=int, metavar="N",
                        help="epoch budget per fit (default: the protocol's)")
    parser.add_argument("--max-memory-gb", type=float, default=8.0, metavar="GB",
                        help="skip cells whose estimated peak memory exceeds this (default 8)")
    parser.add_argument("--target-genes", type=int, default=FULL["n_genes"], metavar="N",
                        help="genes of the full grid whose cost is projected (default 2000)")
    parser.add_argument("--cores", type=int, nargs="+", default=[2, 16, 64], metavar="N",
                        help="core counts of the wall-time projection (default 2 16 64)")
    parser.add_argument("--docs", metavar="NAME",
                        help="copy the run's tables and rows into docs/_static as "
                             "reactome_scale_NAME_*")
    parser.add_argument("--render-only", action="store_true",
                        help="train nothing: the tables from the cells --out's CSV holds")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    """Run the cells, then print the per-cell table and the projection.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     status = main(["--tiny", "--n-genes", "20", "--samples-per-edge", "1",
    ...                    "--protocols", "practice", "--out", out])
    Planned cells ...
    >>> status
    0
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_arg_parser()
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1; got {args.seeds}.")
    try:
        cells = make_grid(args)
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    plan = plan_cells(cells, args.max_memory_gb)
    status = np.where(plan["feasible"], "to run", "not run: memory")
    print_summary(printable(plan.assign(status=status)),
                  title="Planned cells (training-set size and float32 memory)")
    runnable = [cell for cell, ok in zip(cells, plan["feasible"]) if ok]
    start = time.perf_counter()
    if args.render_only:
        csv = args.out / CSV_NAME
        table = pd.read_csv(csv) if csv.exists() else pd.DataFrame()
    else:
        table = run_cells(runnable, cell_worker(args.rank), args.out / CSV_NAME, KEY_COLUMNS,
                          n_jobs=args.n_jobs, backend=args.backend, scheduler=args.scheduler,
                          desc="reactome_scale")
    elapsed = time.perf_counter() - start
    per_cell = cell_table(table, cells, plan)
    per_cell.to_csv(args.out / "cells.csv", index=False, float_format="%.4g")
    printable(per_cell).to_csv(args.out / "cells_brief.csv", index=False, float_format="%.3g")
    projected, totals = project(measured_times(table), args.tasks, list(args.protocols),
                                args.seeds, args.target_genes, args.cores)
    projected.to_csv(args.out / "projection.csv", index=False, float_format="%.4g")
    totals.to_csv(args.out / "projection_totals.csv", index=False, float_format="%.4g")
    run_time = run_time_table(per_cell, argv)
    run_time.to_csv(args.out / "run_time.csv", index=False)
    core_h = float(totals["core_h"].iloc[-1])
    lines = [
        f"{len(cells)} cell(s) on Reactome cut to {cells[0]['n_genes']} genes "
        f"(depth {cells[0]['depth']}); "
        + ("tables drawn from the CSV, nothing trained (--render-only). " if args.render_only
           else f"this run {elapsed:.0f} s of wall time. ")
        + "Recovery is student/chance per layer (layer 0 = gene -> pathway); each cell "
        "runs on one core.",
        f"Full grid at {args.target_genes} genes ({len(projected)} cells: "
        f"{', '.join(args.tasks)} x samples/edge {FULL['samples_per_edge']} x both "
        f"protocols x {args.seeds} seed(s)): "
        + (f"{core_h:.3g} core-hours, "
           + ", ".join(f"{float(totals[f'wall_h_{n}_cores'].iloc[-1]):.3g} h on {n} cores"
                       for n in args.cores)
           if math.isfinite(core_h) else "not projected (a protocol has no measured cell)")
        + f"; {int(totals['n_measured'].iloc[-1])} of its cells measured, the rest scaled "
        "linearly in epoch budget x n_train x n_edges from the largest measured cell "
        "(see projection.csv).",
        f"Largest training set of the grid: {int(projected['n_train'].max())} samples, "
        f"{projected['train_mb_float32'].max():.0f} MB as float32.",
    ]
    sections = {
        "Reactome-scale cells": "\n".join(lines),
        "Run time (seconds of one core per cell)": run_time.drop(columns="command"),
        "Cells (spe: samples per edge; nodes: pathways per layer; pw/gene: mean pathways "
        "per gene; train_MB: float32 training set; s/c: student/chance per layer)":
            printable(per_cell),
        f"Projected cost of the full grid at {args.target_genes} genes": projected.drop(
            columns=["n_genes"]),
        "Totals (hours)": totals,
    }
    print_summary(sections, out_dir=args.out, float_format="{:.3g}".format)
    if args.docs:
        rows = select_cells(table, cells) if not table.empty else None
        copy_to_docs(args.out, f"reactome_scale_{args.docs}", DOCS_FILES, rows=rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
