"""The teacher–student study: does a BINN that fits its outputs recover its internals?

What it measures
----------------
For every cell of a grid -- task (classification, regression, survival) ×
hierarchy (three synthetic shapes and a branch of the bundled Reactome
hierarchy) × depth (1-4 pathway layers) × noise (none or some) × seed -- a
teacher BINN with known random weights generates a training set (10
samples per mask edge by default) and a held-out test set; a student with
the identical wiring is trained on the training set under a protocol
(``--protocol practice``: the estimators' defaults -- Adam, lr 1e-3,
batches of 128, early stopping on a 10 % validation split;
``--protocol converged``: full-batch L-BFGS to tolerance with 3 restarts)
and compared with the teacher on the test set:

- output fit: the task metric (R², ROC AUC, Harrell's C-index), the
  held-out loss in excess of the teacher's own loss, and ``output_corr2``,
  the squared correlation of the student's raw output (value, logit,
  log-risk) with the teacher's noiseless one;
- weight recovery per pathway layer: per node, the cosine of the student's
  incoming weights with the teacher's after aligning each node's sign
  (tanh) or scale (relu), layer by layer from the genes up;
- activation recovery per pathway layer: per node, the |Pearson
  correlation| of student and teacher activations over the test samples.

Each number comes with its two reference points: the teacher scored
against itself (exactly 1.0) and untrained students (the chance level).
Each cell also records whether its student converged (``converged``,
``n_iter``, ``final_rel_loss_change``, ``grad_norm``, ``train_gap``: the
training loss in excess of the teacher's own on the same samples) and one
verdict: "recovered", "non-identifiable", "optimisation shortfall" or "no
fit" (thresholds in :func:`sklearn_binn.study.cell_verdict`); in cells whose
converged student reaches the teacher's training loss, restarts are scored
against each other as well as against the teacher. See
:mod:`sklearn_binn.study` for what every knob means and
``docs/teacher_student.rst`` for measured runs and how to read them.

How to run
----------
From the repository root::

    python benchmarks/teacher_student.py --quick            # 12 cells, minutes on 2 cores
    python benchmarks/teacher_student.py --quick --protocol converged
    python benchmarks/teacher_student.py --n-jobs 2 --protocol practice converged  # full grids
    # (288 cells per protocol; measured cell times and projections: docs/teacher_student.rst)
    python benchmarks/teacher_student.py --n-jobs 2 --seeds 2 --n-genes 60 \\
        --hierarchies pyramid reactome                      # a reduced grid
    python benchmarks/teacher_student.py --refit docs/_static/teacher_student_full_rows.csv \\
        non-identifiable --protocol converged_float64 --tasks regression --noises 0
        # the cells judged non-identifiable, refitted in float64 to a tighter tolerance

``--rank METHOD`` (``integrated_gradients``, ``deeplift`` or
``gradient_x_input``) also scores each student's pathway-importance
ranking against its teacher's, per layer (``rank_*`` columns,
:func:`sklearn_binn.study.run_cell`), and writes ``ranking_rows.csv`` (one
row per cell and layer: weight recovery beside the ranking's),
``ranking.csv`` and ``ranking_by_hierarchy.csv`` (:func:`ranking_table`:
where the ranking is recovered without the weights, and the reverse) and
``teacher_student_ranking.png``. ``--docs-ranking-only`` copies only
those, the run-time table and the summary into the docs (a rerun that
adds rankings to a grid whose other tables are committed)::

    python benchmarks/teacher_student.py --n-jobs 2 --seeds 3 --rank gradient_x_input \\
        --protocol practice converged --docs ranked --docs-ranking-only

Results go to ``--out`` (default ``./teacher_student/``): the CSV of all
rows (``teacher_student.csv``, one row per cell × reference × layer;
rerunning skips finished cells), the figures ``teacher_student_fit.png``
(output fit against recovery) and ``teacher_student_layers.png`` (recovery
per layer; one pair per protocol, suffixed ``_practice``/``_converged``,
when a run has both), the summary tables as ``verdicts.csv``,
``summary_by_layer.csv`` and ``summary_by_hierarchy.csv``, ``cells.csv``
(one row per cell, averaged over its layers, with its verdict),
``cells_brief.csv`` (its narrow form), ``run_time.csv``, with ``--refit``
``refit.csv`` (each refitted cell beside its first fit), and
``summary.txt``. The printed summary starts with a few plain sentences
(what was tested, what recovered, against chance, where the files went),
explains the columns, and ends with the verdict counts.

What passes
-----------
The run checks its own reference point and exits with status 1 if it
fails: the teacher scores exactly 1.0 against itself, weights and
activations, on every layer of every cell. Whether students recover the
teacher is the measurement, not a pass criterion: the study reports the
regime, never a single verdict.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import add_rank_argument, build_parser, cell_worker  # noqa: E402
from _common import headless_pyplot, print_summary, run_cells  # noqa: E402
from _common import copy_to_docs as _copy_to_docs  # noqa: E402
from sklearn_binn.study import (  # noqa: E402
    ALL_KEY_COLUMNS,
    CELL_DEFAULTS,
    HIERARCHIES,
    KEY_COLUMNS,
    PAIRED_PROTOCOLS,
    PROTOCOLS,
    RANKING_THRESHOLD,
    RECOVERY_THRESHOLD,
    TASKS,
    VERDICTS,
    cell_means,
    make_cell,
    ranking_vs_weights,
    recovery_table,
    select_cells,
    task_metric,
    verdict_counts,
)

# the grid's hierarchies (benchmarks/reactome_scale.py runs the Reactome-scale ones)
GRID_HIERARCHIES = ["pyramid", "reactome", "tree", "wide"]
FULL = {"tasks": list(TASKS), "hierarchies": GRID_HIERARCHIES, "depths": [1, 2, 3, 4],
        "noises": [0.0, 0.5], "seeds": 3, "n_genes": 100}
QUICK = {"tasks": list(TASKS), "hierarchies": ["pyramid"], "depths": [1, 2],
         "noises": [0.0, 0.5], "seeds": 1, "n_genes": 30}
# the per-cell table written to cells.csv (means over the cell's layers)
CELL_COLUMNS = ["task", "hierarchy", "depth", "noise", "init", "protocol", "seed", "n_edges",
                "n_train_used", "epochs", "fit_time_s", "converged", "n_iter",
                "final_rel_loss_change", "grad_norm", "train_gap", "teacher_start_train_gap",
                "n_restarts_teacher_level", "verdict", "output_corr2", "excess_loss", "metric",
                "teacher_metric", "weight_student", "weight_chance", "activation_student",
                "activation_chance", "restarts_weight_pairwise_min", "cell_time_s"]
# --tiny (hidden, for the test suite): the quick grid on toy sizes
TINY = {"max_epochs": 5, "n_test": 200, "n_chance_draws": 2}
TINY_GENES = 12


def build_arg_parser():
    """The command line: the shared options plus the grid's axes.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> args = build_arg_parser().parse_args(["--quick", "--depths", "1", "3"])
    >>> args.quick, args.depths, args.samples_per_edge
    (True, [1, 3], 10.0)
    """
    parser = build_parser(__file__, __doc__)
    grid = parser.add_argument_group("grid (each defaults to the full or the --quick grid)")
    grid.add_argument("--tasks", nargs="+", choices=TASKS, metavar="TASK",
                      help=f"tasks, from {list(TASKS)}")
    grid.add_argument("--hierarchies", nargs="+", choices=HIERARCHIES, metavar="H",
                      help=f"hierarchy shapes, from {list(HIERARCHIES)}")
    grid.add_argument("--depths", nargs="+", type=int, choices=[1, 2, 3, 4], metavar="D",
                      help="pathway depths, from 1 2 3 4")
    grid.add_argument("--noises", nargs="+", type=float, metavar="NOISE",
                      help="noise levels (see sklearn_binn.study: Gaussian sd for "
                           "regression, 1 / logit sd for classification, censored "
                           "fraction for survival)")
    grid.add_argument("--seeds", type=int, metavar="N", help="seeds 0 .. N-1")
    grid.add_argument("--n-genes", type=int, metavar="N",
                      help="genes of the synthetic hierarchies")
    grid.add_argument("--samples-per-edge", type=float, default=10.0, metavar="S",
                      help="training samples per mask edge (default: 10)")
    grid.add_argument("--activation", default="tanh",
                      choices=["tanh", "relu", "sigmoid", "identity"],
                      help="activation of teacher and student (default: tanh)")
    grid.add_argument("--init", nargs="+", default=["default"], choices=["default", "teacher"],
                      help="student initialisation(s): 'default' (random) and/or 'teacher' "
                           "(started at the teacher: an optimisation control)")
    grid.add_argument("--max-epochs", type=int, default=None, metavar="N",
                      help="fixed epoch budget (default: practice max(200, ~5000 steps), at "
                           "most 2000; converged 500 L-BFGS epochs)")
    grid.add_argument("--protocol", nargs="+", default=["practice"],
                      choices=list(PROTOCOLS), metavar="P",
                      help="training protocol(s): 'practice' (the estimators' defaults: Adam, "
                           "mini-batches, early stopping), 'converged' (full-batch L-BFGS to "
                           "tolerance with 3 restarts) and/or 'converged_float64' (the same in "
                           "float64 to a tighter tolerance)")
    parser.add_argument("--docs", metavar="NAME",
                        help="also copy the summary files to docs/_static/teacher_student_"
                             "NAME_<file> (rows, cells, verdicts, by_layer, by_hierarchy, "
                             "paired, run_time, summary, figures), which the docs include")
    grid.add_argument("--refit", nargs=2, metavar=("ROWS", "VERDICT"),
                      help="instead of the grid, rerun under --protocol the cells of a rows "
                           "CSV (a run's teacher_student.csv) judged VERDICT under another "
                           "protocol, e.g. docs/_static/teacher_student_full_rows.csv "
                           "non-identifiable --protocol converged_float64; --tasks, "
                           "--hierarchies, --depths, --noises narrow them when given")
    add_rank_argument(grid)
    parser.add_argument("--docs-ranking-only", action="store_true",
                        help="with --docs, copy only the ranking tables, ranking_rows.csv, the "
                             "run-time table, the summary and the ranking figure (a --rank "
                             "rerun of a grid whose other tables are committed already)")
    grid.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    return parser


def make_grid(args):
    """The cells the command line asks for.

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`build_arg_parser`.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> args = build_arg_parser().parse_args(["--quick"])
    >>> len(make_grid(args))
    12
    """
    if getattr(args, "refit", None):
        return refit_cells(args)
    base = QUICK if args.quick or args.tiny else FULL
    pick = {k: getattr(args, k) if getattr(args, k) is not None else base[k] for k in base}
    extra = dict(TINY) if args.tiny else {}
    if args.max_epochs is not None:
        extra["max_epochs"] = args.max_epochs
    if args.tiny:
        pick["n_genes"] = TINY_GENES
    cells = []
    for task in pick["tasks"]:
        for hierarchy in pick["hierarchies"]:
            synthetic = hierarchy != "reactome"
            for depth in pick["depths"]:
                for noise in pick["noises"]:
                    for init in args.init:
                        for protocol in args.protocol:
                            for seed in range(pick["seeds"]):
                                cells.append(make_cell(
                                    task=task, hierarchy=hierarchy, depth=depth,
                                    n_genes=pick["n_genes"] if synthetic else None,
                                    noise=float(noise), activation=args.activation,
                                    samples_per_edge=args.samples_per_edge, init=init,
                                    protocol=protocol, seed=seed, **extra,
                                ))
    return cells


def refit_cells(args):
    """The cells of ``--refit ROWS VERDICT``: those judged VERDICT, under ``--protocol``.

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`build_arg_parser`, with ``refit`` set.

    Returns
    -------
    list of dict
        One cell per (cell judged ``VERDICT`` under a protocol not in
        ``args.protocol``, protocol of ``args.protocol``), narrowed by
        ``--tasks``, ``--hierarchies``, ``--depths`` and ``--noises`` when
        given; in the order of the rows.

    Raises
    ------
    ValueError
        If ``VERDICT`` is not a verdict, or no cell has it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> rows = pd.DataFrame([{**make_cell(protocol="converged", seed=s), "layer": 0,
    ...                       "reference": "student", "verdict": v}
    ...                      for s, v in enumerate(["recovered", "non-identifiable"])])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "rows.csv"
    ...     rows.to_csv(path, index=False)
    ...     args = build_arg_parser().parse_args(
    ...         ["--refit", str(path), "non-identifiable", "--protocol", "converged_float64"])
    ...     [(c["seed"], c["protocol"]) for c in refit_cells(args)]
    [(1, 'converged_float64')]
    """
    path, verdict = args.refit
    if verdict not in VERDICTS:
        raise ValueError(f"--refit VERDICT must be one of {VERDICTS}; got {verdict!r}.")
    rows = pd.read_csv(path)
    chosen = rows[(rows["reference"] == "student") & (rows["layer"] == 0)
                  & (rows["verdict"] == verdict) & ~rows["protocol"].isin(args.protocol)]
    narrow = {"task": args.tasks, "hierarchy": args.hierarchies, "depth": args.depths,
              "noise": args.noises}
    for column, values in narrow.items():
        if values is not None:
            chosen = chosen[chosen[column].isin(values)]
    if chosen.empty:
        raise ValueError(f"No cell of {path} is judged {verdict!r} under another protocol "
                         f"than {args.protocol} (after the filters given).")
    cells = []
    for record in _fill_key_defaults(chosen).to_dict("records"):
        cell = {c: _python_value(record[c]) for c in ALL_KEY_COLUMNS}
        for protocol in args.protocol:
            cells.append(make_cell(**{**cell, "protocol": protocol}))
    return cells


def refit_comparison(before, after):
    """The refitted cells beside their first fit: convergence, training gap, recovery, verdict.

    Parameters
    ----------
    before, after : pandas.DataFrame
        :func:`recovery_table` of the rows the cells were chosen from and
        of the refit's rows.

    Returns
    -------
    pandas.DataFrame
        One row per refitted cell and protocol (the first fit's, then each
        refit's): ``task``, ``hierarchy``, ``depth``, ``noise``, ``seed``,
        ``protocol``, ``converged``, ``n_iter``, ``final_rel_loss_change``,
        ``train_gap``, ``n_restarts_teacher_level``, ``weight_min`` and
        ``activation_min`` (the lowest layer's recovery),
        ``restarts_weight_pairwise_min`` (lowest over layers) and
        ``verdict``.

    Examples
    --------
    >>> import pandas as pd
    >>> one = dict(task="regression", hierarchy="tree", depth=1, noise=0.0, seed=0,
    ...            init="default", layer=0, n_iter=9, final_rel_loss_change=0.0,
    ...            n_restarts_teacher_level=2, restarts_weight_pairwise_min=0.7)
    >>> before = pd.DataFrame([{**one, "protocol": "converged", "converged": True,
    ...     "train_gap": 3e-6, "weight_student": 0.7, "activation_student": 0.7,
    ...     "verdict": "non-identifiable"}])
    >>> after = before.assign(protocol="converged_float64", train_gap=1e-12,
    ...     weight_student=1.0, activation_student=1.0, verdict="recovered")
    >>> refit_comparison(before, after)[["protocol", "verdict"]].values.tolist()
    [['converged', 'non-identifiable'], ['converged_float64', 'recovered']]
    """
    cell_keys = ["task", "hierarchy", "depth", "noise", "seed", "init"]
    keys = [*cell_keys, "protocol"]
    refitted = after[cell_keys].drop_duplicates()
    both = pd.concat([before.merge(refitted, on=cell_keys), after], ignore_index=True)
    group = both.groupby(keys, sort=False, dropna=False)
    out = group[["weight_student", "activation_student"]].min().rename(
        columns={"weight_student": "weight_min", "activation_student": "activation_min"})
    out["restarts_weight_pairwise_min"] = group["restarts_weight_pairwise_min"].min()
    first = both[both["layer"] == 0].set_index(keys)
    for column in ("converged", "n_iter", "final_rel_loss_change", "train_gap",
                   "n_restarts_teacher_level", "verdict"):
        out[column] = first[column].reindex(out.index)
    columns = ["converged", "n_iter", "final_rel_loss_change", "train_gap",
               "n_restarts_teacher_level", "weight_min", "activation_min",
               "restarts_weight_pairwise_min", "verdict"]
    out = out.reset_index()
    return (out.sort_values(cell_keys, kind="stable")
            [[c for c in keys if c != "init"] + columns].reset_index(drop=True))


def _fill_key_defaults(frame):
    """``frame`` with every key column, absent ones at their default."""
    frame = frame.copy()
    for column in ALL_KEY_COLUMNS:
        if column not in frame.columns:
            frame[column] = CELL_DEFAULTS[column]
    return frame


def _python_value(value):
    """A CSV value as the plain Python value a cell holds (NaN -> None, integral floats -> int)."""
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return None
        return int(value) if float(value).is_integer() else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# ------------------------------------------------------------------- tables
# the recovery table's columns and the names the summary prints them under
_LAYER_COLUMNS = {
    "weight_student": "weight",
    "weight_chance": "weight_chance",
    "activation_student": "activation",
    "activation_chance": "act_chance",
    "output_corr2": "fit_corr2",
}
#: What each printed column means (printed under the tables).
COLUMN_NOTES = """\
n_cells     cells (task x hierarchy x depth x noise x seed) in the group
n_conv      of them, cells whose student converged (stopped on its tolerance, not its budget)
recovered / non-identifiable / optim. shortfall / no fit
            cells with that verdict: converged to the teacher's training loss with every
            layer's weight and activation recovery >= 0.9 / converged to the teacher's
            training loss with internals that differ / not converged, or converged above
            the teacher's loss while a student started at the teacher ends lower / converged
            above the teacher's loss and the teacher-started student does too
weight      mean over the group's cells of the layer's weight recovery (|cos| of each
            node's aligned incoming weights with the teacher's; 1 = teacher), ALL cells,
            converged or not (see n_conv)
activation  the same for activation recovery (|r| of node activations with the teacher's)
*_chance    the same for untrained students (what recovery reads by chance)
fit_corr2   squared correlation of the student's output with the teacher's noiseless
            output on held-out samples (1 = perfect)"""


def _student_cells(wide):
    """One row per cell (its layer 0) with the per-cell columns: verdict, convergence."""
    first = wide[wide["layer"] == 0]
    return first


def summary_tables(wide):
    """The printed summary: verdict counts and recovery by layer, per task and protocol.

    Parameters
    ----------
    wide : pandas.DataFrame
        :func:`task_metric` of :func:`recovery_table` of the study's rows.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"verdicts"``: task × protocol × depth, the number of cells, of
        converged cells and of each verdict; ``"by layer"``: task ×
        protocol × depth × layer, mean recovery of the student and of
        chance over all the group's cells (converged or not: ``n_conv``
        says how many converged) and the output fit; ``"by hierarchy"``:
        task × protocol × hierarchy × noise, the same pooled over depths
        and layers.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_binn.study import make_cell, recovery_table, run_cell, task_metric
    >>> cell = make_cell(n_genes=12, depth=1, samples_per_edge=5.0, max_epochs=5,
    ...                  n_test=200, n_chance_draws=2)
    >>> wide = task_metric(recovery_table(pd.DataFrame([{**cell, **r} for r in run_cell(cell)])))
    >>> tables = summary_tables(wide)
    >>> tables["verdicts"][["task", "n_cells", "n_conv", "optim. shortfall"]].to_dict("records")
    [{'task': 'regression', 'n_cells': 1, 'n_conv': 0, 'optim. shortfall': 1}]
    """
    wide = wide.copy()
    wide["converged"] = wide["converged"].astype(str).str.lower().eq("true")
    cells = _student_cells(wide)
    keys = ["task", "protocol", "init", "depth"]

    def counted(by):  # verdict counts per group, under the summary's short column names
        return verdict_counts(cells, by).rename(
            columns={"optimisation shortfall": "optim. shortfall"})

    counts = counted(keys)
    conv = cells.groupby(keys, sort=False)["converged"].sum().rename("n_conv").reset_index()
    counts = counts.merge(conv, on=keys)
    order = [*keys, "n_cells", "n_conv", "recovered", "non-identifiable", "optim. shortfall",
             "no fit"]
    counts = counts[order].sort_values(keys).reset_index(drop=True)

    def grouped(frame, by):
        g = frame.groupby(by)
        table = g[list(_LAYER_COLUMNS)].mean().rename(columns=_LAYER_COLUMNS)
        table.insert(0, "n_conv", g["converged"].sum().astype(int))
        table.insert(0, "n_cells", g.size())
        return table.reset_index()

    by_layer = grouped(wide, ["task", "protocol", "init", "depth", "layer"])
    per_cell = cell_means(wide.assign(converged=wide["converged"].astype(float)))
    per_cell["converged"] = per_cell["converged"] > 0.5
    h_keys = ["task", "protocol", "init", "hierarchy", "noise"]
    by_h = grouped(per_cell, h_keys)
    by_h = by_h.merge(counted(h_keys).drop(columns="n_cells"), on=h_keys)
    drop = [] if wide["init"].nunique() > 1 else ["init"]
    return {
        "verdicts": counts.drop(columns=drop),
        "by layer": by_layer.drop(columns=drop),
        "by hierarchy": by_h.drop(columns=drop),
        "protocols paired": paired_protocols(wide),
    }


PAIRED = PAIRED_PROTOCOLS


def paired_protocols(wide):
    """The same cells under both protocols: verdicts that change, recovery side by side.

    Parameters
    ----------
    wide : pandas.DataFrame
        :func:`task_metric` of :func:`recovery_table` of the study's rows.

    Returns
    -------
    pandas.DataFrame
        Per task, hierarchy and noise, over the cells run under both
        protocols (same task, hierarchy, depth, noise, seed and init):
        ``n_cells``; ``n_conv_practice``, ``n_conv_converged`` (students that
        converged); ``recovered_practice``, ``recovered_converged`` (cells
        with that verdict); ``verdict_changed`` (cells whose verdict
        differs); ``weight_practice``, ``weight_converged`` (mean weight
        recovery over the cells' layers) and ``weight_diff_mean``,
        ``weight_diff_sd`` (converged minus practice, per cell). Empty when
        no cell ran under both protocols.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"task": "regression", "hierarchy": "tree", "depth": 1,
    ...     "noise": 0.0, "seed": 0, "init": "default", "layer": 0,
    ...     "protocol": ["practice", "converged"], "converged": [False, True],
    ...     "verdict": ["optimisation shortfall", "recovered"], "weight_student": [0.7, 0.99]})
    >>> paired_protocols(wide)[["n_cells", "verdict_changed", "weight_diff_mean"]].round(2)
       n_cells  verdict_changed  weight_diff_mean
    0        1                1              0.29
    """
    keys = ["task", "hierarchy", "depth", "noise", "seed", "init"]
    columns = ["n_cells", "n_conv_practice", "n_conv_converged", "recovered_practice",
               "recovered_converged", "verdict_changed", "weight_practice", "weight_converged",
               "weight_diff_mean", "weight_diff_sd"]
    if not set(PAIRED).issubset(wide["protocol"]):
        return pd.DataFrame(columns=["task", "hierarchy", "noise", *columns])
    wide = wide[wide["protocol"].isin(PAIRED)]
    converged = wide["converged"].astype(str).str.lower().eq("true")
    cell = (wide.assign(converged=converged)
            .groupby([*keys, "protocol"], dropna=False)
            .agg(weight=("weight_student", "mean"), converged=("converged", "first"),
                 verdict=("verdict", "first"))
            .unstack("protocol").dropna(subset=[("verdict", p) for p in PAIRED]))
    flat = pd.DataFrame({
        "n_conv_practice": cell[("converged", "practice")].astype(bool),
        "n_conv_converged": cell[("converged", "converged")].astype(bool),
        "recovered_practice": cell[("verdict", "practice")].eq("recovered"),
        "recovered_converged": cell[("verdict", "converged")].eq("recovered"),
        "verdict_changed": cell[("verdict", "practice")] != cell[("verdict", "converged")],
        "weight_practice": cell[("weight", "practice")].astype(float),
        "weight_converged": cell[("weight", "converged")].astype(float),
    }).reset_index()
    flat["diff"] = flat["weight_converged"] - flat["weight_practice"]
    groups = flat.groupby(["task", "hierarchy", "noise"])
    out = groups[["n_conv_practice", "n_conv_converged", "recovered_practice",
                  "recovered_converged", "verdict_changed"]].sum().astype(int)
    out.insert(0, "n_cells", groups.size())
    out["weight_practice"] = groups["weight_practice"].mean()
    out["weight_converged"] = groups["weight_converged"].mean()
    out["weight_diff_mean"] = groups["diff"].mean()
    out["weight_diff_sd"] = groups["diff"].std()
    return out.reset_index()[["task", "hierarchy", "noise", *columns]]


#: The columns of ``cells_brief.csv``, the per-cell table the docs show.
BRIEF_COLUMNS = ["task", "depth", "noise", "seed", "converged", "n_iter", "grad_norm",
                 "train_gap", "teacher_start_train_gap", "n_restarts_teacher_level",
                 "restarts_weight_pairwise_min", "weight_student", "activation_student",
                 "output_corr2", "verdict"]


def cell_brief(wide):
    """One narrow row per cell: its convergence evidence, recovery and verdict.

    Parameters
    ----------
    wide : pandas.DataFrame
        :func:`recovery_table` of the study's rows.

    Returns
    -------
    pandas.DataFrame
        :data:`BRIEF_COLUMNS` (plus ``hierarchy`` and ``protocol`` when a
        run has several), the recoveries and output fit averaged over the
        cell's layers, ``restarts_weight_pairwise_min`` the lowest over its
        layers.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_binn.study import make_cell, recovery_table, run_cell
    >>> cell = make_cell(n_genes=12, depth=1, samples_per_edge=5.0, max_epochs=5,
    ...                  n_test=200, n_chance_draws=2)
    >>> brief = cell_brief(recovery_table(pd.DataFrame([{**cell, **r} for r in run_cell(cell)])))
    >>> brief[["depth", "converged", "verdict"]].values.tolist()
    [[1, False, 'optimisation shortfall']]
    """
    keys = [c for c in ALL_KEY_COLUMNS if c in wide.columns]
    group = wide.groupby(keys, sort=False, dropna=False)
    out = group[["weight_student", "activation_student", "output_corr2"]].mean()
    out["restarts_weight_pairwise_min"] = group["restarts_weight_pairwise_min"].min()
    first = wide[wide["layer"] == 0].set_index(keys)
    for column in ("converged", "n_iter", "grad_norm", "train_gap", "teacher_start_train_gap",
                   "n_restarts_teacher_level", "verdict"):
        out[column] = first[column].reindex(out.index)
    out = out.reset_index()
    extra = [c for c in ("hierarchy", "protocol") if out[c].nunique() > 1]
    columns = BRIEF_COLUMNS[:1] + extra + BRIEF_COLUMNS[1:]
    return out[columns].sort_values([*columns[:1 + len(extra)], "depth", "noise", "seed"],
                                    kind="stable").reset_index(drop=True)


def plain_summary(wide, tables, out):
    """What was tested and what came out, in a few plain sentences.

    Parameters
    ----------
    wide : pandas.DataFrame
        :func:`task_metric` of :func:`recovery_table` of the study's rows.
    tables : dict
        From :func:`summary_tables`.
    out : pathlib.Path
        Where the files went.

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd, pathlib
    >>> from sklearn_binn.study import make_cell, recovery_table, run_cell, task_metric
    >>> cell = make_cell(n_genes=12, depth=1, samples_per_edge=5.0, max_epochs=5,
    ...                  n_test=200, n_chance_draws=2)
    >>> wide = task_metric(recovery_table(pd.DataFrame([{**cell, **r} for r in run_cell(cell)])))
    >>> print(plain_summary(wide, summary_tables(wide), pathlib.Path("out")))
    Tested: 1 cell(s) -- teacher BINNs with known weights on regression; ...
    """
    cells = _student_cells(wide)
    counts = tables["verdicts"]
    lines = [
        f"Tested: {len(cells)} cell(s) -- teacher BINNs with known weights on "
        f"{', '.join(sorted(cells['task'].unique()))}; hierarchies "
        f"{', '.join(sorted(cells['hierarchy'].unique()))}; depths "
        f"{', '.join(str(d) for d in sorted(cells['depth'].unique()))}; noise "
        f"{', '.join(f'{n:g}' for n in sorted(cells['noise'].unique()))}; "
        f"{int(cells['seed'].nunique())} seed(s); "
        f"{', '.join(sorted(set(f'{v:g}' for v in cells['samples_per_edge'].dropna())))} "
        "training samples per mask edge. A student with the same wiring is trained "
        "on the teacher's data and compared with the teacher on held-out data.",
    ]
    for protocol in sorted(cells["protocol"].unique()):
        part = counts[counts["protocol"] == protocol]
        total = int(part["n_cells"].sum())
        verdicts = ", ".join(f"{int(part[v].sum())} {v}" for v in
                             ("recovered", "non-identifiable", "optim. shortfall", "no fit"))
        layer = wide[wide["protocol"] == protocol]
        lines.append(
            f"Protocol {protocol!r}: {int(part['n_conv'].sum())} of {total} students converged. "
            f"Verdicts: {verdicts}. Mean weight recovery {layer['weight_student'].mean():.2f} "
            f"against {layer['weight_chance'].mean():.2f} by chance, activation recovery "
            f"{layer['activation_student'].mean():.2f} against "
            f"{layer['activation_chance'].mean():.2f} (all layers and cells, converged or not)."
        )
        for task in sorted(layer["task"].unique()):
            rows = cells[(cells["protocol"] == protocol) & (cells["task"] == task)]
            good = rows[rows["verdict"] == "recovered"]
            lines.append(f"  {task}: {len(good)} of {len(rows)} cells recovered"
                         + (f" (depths {sorted(set(good['depth'].tolist()))})" if len(good)
                            else ""))
    regression = cells[(cells["task"] == "regression") & (cells["noise"] == 0)]
    for protocol, part in regression.groupby("protocol"):
        per_h = ", ".join(f"{h} {int((g['verdict'] == 'recovered').sum())}/{len(g)}"
                          for h, g in part.groupby("hierarchy"))
        verdicts = part["verdict"].value_counts()
        agree = pd.to_numeric(part["restarts_weight_pairwise_min"], errors="coerce").dropna()
        lines.append(
            f"Noiseless regression, {protocol!r}: {len(part)} cells, "
            + ", ".join(f"{int(verdicts.get(v, 0))} {v}" for v in VERDICTS)
            + f"; recovered per hierarchy: {per_h}"
            + (f"; in the {len(agree)} cells with teacher-level restarts their lowest "
               f"pairwise weight agreement was {agree.min():.3f}-{agree.max():.3f}"
               if len(agree) else "") + ".")
    other = cells[(cells["verdict"] == "non-identifiable")]
    for protocol, part in other.groupby("protocol"):
        gap = pd.to_numeric(part["train_gap"], errors="coerce")
        lines.append(
            f"Non-identifiable cells, {protocol!r}: {len(part)}; of them {int((gap < 0).sum())} "
            "fit their training samples better than the teacher (train_gap < 0: noise or "
            "label randomness fitted).")
    paired = tables.get("protocols paired")
    if paired is not None and len(paired):
        n = int(paired["n_cells"].sum())

        def mean(column):
            return float((paired[column] * paired["n_cells"]).sum() / n)
        lines.append(
            f"The same {n} cells under both protocols: {int(paired['verdict_changed'].sum())} "
            f"changed verdict; converged students {int(paired['n_conv_practice'].sum())} "
            f"(practice) and {int(paired['n_conv_converged'].sum())} (converged); recovered "
            f"{int(paired['recovered_practice'].sum())} and "
            f"{int(paired['recovered_converged'].sum())}; mean weight recovery "
            f"{mean('weight_practice'):.2f} and {mean('weight_converged'):.2f}.")
    lines.append(
        f"Files in {out}/: teacher_student.csv (every row: cell x reference x layer), "
        "cells.csv and cells_brief.csv (one row per cell, with its verdict), "
        "summary_by_layer.csv, summary_by_hierarchy.csv, verdicts.csv, protocols_paired.csv "
        "(cells run under both protocols), run_time.csv, "
        "teacher_student_fit.png, teacher_student_layers.png, "
        + ("ranking_rows.csv, ranking.csv, ranking_by_hierarchy.csv and "
           "teacher_student_ranking.png (--rank: importance ranking vs weights), "
           if "rank_spearman_student" in wide else "")
        + "summary.txt, log.txt."
    )
    return "\n".join(lines)


def run_time_table(wide, argv=None):
    """What the cells cost: per protocol, their wall time, and the full grid's projected time.

    Parameters
    ----------
    wide : pandas.DataFrame
        :func:`recovery_table` of the run's rows (with ``cell_time_s``).
    argv : list of str, default=None
        The command line, recorded with the table.

    Returns
    -------
    pandas.DataFrame
        Per protocol: ``n_cells``, ``cell_time_mean_s``, ``cell_time_max_s``,
        ``cell_time_total_s`` (one core each), ``full_grid_cells`` (the
        default full grid's cells under that protocol) and
        ``projected_full_grid_h_2_cores`` (``full_grid_cells`` times the
        mean cell time over 2 cores; only when the run's cells are of the
        full grid's size, ``n_genes`` 100, else NaN), and ``command``.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"protocol": "converged", "layer": 0, "n_genes": 100,
    ...                      "cell_time_s": [100.0, 300.0]})
    >>> table = run_time_table(wide, ["--protocol", "converged"])
    >>> table[["n_cells", "cell_time_mean_s", "projected_full_grid_h_2_cores"]].values.tolist()
    [[2.0, 200.0, 8.0]]
    """
    full_cells = (len(FULL["tasks"]) * len(FULL["hierarchies"]) * len(FULL["depths"])
                  * len(FULL["noises"]) * FULL["seeds"])
    rows = []
    first = wide[wide["layer"] == 0]
    for protocol, group in first.groupby("protocol"):
        times = group["cell_time_s"].astype(float)
        synthetic = pd.to_numeric(group["n_genes"], errors="coerce").dropna()
        full_size = len(synthetic) and (synthetic == FULL["n_genes"]).all()
        rows.append({
            "protocol": protocol, "n_cells": len(group), "cell_time_mean_s": times.mean(),
            "cell_time_max_s": times.max(), "cell_time_total_s": times.sum(),
            "full_grid_cells": full_cells,
            "projected_full_grid_h_2_cores": (full_cells * times.mean() / 2 / 3600
                                              if full_size else np.nan),
            "command": " ".join(["python benchmarks/teacher_student.py",
                                 *(sys.argv[1:] if argv is None else argv)]),
        })
    return pd.DataFrame(rows)


def check_references(wide):
    """The failures of the study's own reference points (an empty list if none).

    Parameters
    ----------
    wide : pandas.DataFrame
        From :func:`recovery_table`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_binn.study import make_cell, recovery_table, run_cell, task_metric
    >>> cell = make_cell(n_genes=12, depth=1, samples_per_edge=5.0, max_epochs=5,
    ...                  n_test=200, n_chance_draws=2)
    >>> wide = task_metric(recovery_table(pd.DataFrame([{**cell, **r} for r in run_cell(cell)])))
    >>> check_references(wide)
    []
    """
    problems = []
    for target in ("weight", "activation"):
        off = wide[(wide[f"{target}_teacher"] - 1.0).abs() > 1e-6]
        if len(off):
            problems.append(
                f"{len(off)} layer(s) where the teacher scores {target} recovery != 1.0 "
                f"against itself, e.g. {off.iloc[0][[f'{target}_teacher']].to_dict()}"
            )
    return problems


# ------------------------------------------------------------------ figures
def _chance_band(ax, values, sds, color="0.6"):
    low, high = np.nanmean(values - 2 * sds), np.nanmean(values + 2 * sds)
    ax.axhspan(max(low, 0.0), min(high, 1.0), color=color, alpha=0.25, lw=0)


def _protocol_note(frame):
    protocols = sorted(set(frame["protocol"])) if "protocol" in frame else []
    return f"\n{protocols[0]} protocol" if len(protocols) == 1 else ""


def figure_paths(wide, out):
    """Where each protocol's two figures go: one pair per protocol, suffixed when several.

    Parameters
    ----------
    wide : pandas.DataFrame
        With a ``protocol`` column.
    out : pathlib.Path

    Returns
    -------
    dict of str to (pathlib.Path, pathlib.Path)
        Protocol to (fit figure, layers figure).

    Examples
    --------
    >>> import pandas as pd, pathlib
    >>> paths = figure_paths(pd.DataFrame({"protocol": ["converged"]}), pathlib.Path("o"))
    >>> [p.name for p in paths["converged"]]
    ['teacher_student_fit.png', 'teacher_student_layers.png']
    """
    protocols = sorted(set(wide["protocol"]))
    paths = {}
    for protocol in protocols:
        suffix = "" if len(protocols) == 1 else f"_{protocol}"
        paths[protocol] = (out / f"teacher_student_fit{suffix}.png",
                           out / f"teacher_student_layers{suffix}.png")
    return paths


def plot_fit(wide, path):
    """Output fit against mean recovery, per task; one point per cell, coloured by depth.

    Parameters
    ----------
    wide : pandas.DataFrame
        :func:`task_metric` of :func:`recovery_table`.
    path : str or path-like
        Where the PNG goes.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_binn.study import make_cell, recovery_table, run_cell, task_metric
    >>> cell = make_cell(n_genes=12, depth=1, samples_per_edge=5.0, max_epochs=5,
    ...                  n_test=200, n_chance_draws=2)
    >>> wide = task_metric(recovery_table(pd.DataFrame([{**cell, **r} for r in run_cell(cell)])))
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     plot_fit(wide, pathlib.Path(folder) / "fit.png")
    ...     (pathlib.Path(folder) / "fit.png").stat().st_size > 0
    True
    """
    plt = headless_pyplot()

    per_cell = cell_means(wide)
    tasks = [t for t in TASKS if t in set(per_cell["task"])]
    hierarchies = [h for h in HIERARCHIES if h in set(per_cell["hierarchy"])]
    markers = dict(zip(HIERARCHIES, "os^Dv"))
    depths = sorted(per_cell["depth"].unique())
    colors = dict(zip(range(1, 5), plt.cm.viridis(np.linspace(0.0, 0.85, 4))))
    fig, axes = plt.subplots(2, len(tasks), figsize=(4.2 * len(tasks), 7.2), squeeze=False,
                             sharey=True)
    for j, task in enumerate(tasks):
        cells = per_cell[per_cell["task"] == task]
        for i, target in enumerate(("weight", "activation")):
            ax = axes[i, j]
            _chance_band(ax, cells[f"{target}_chance"], cells[f"{target}_chance_sd"])
            ax.axhline(1.0, color="k", ls="--", lw=0.8)
            for (depth, hierarchy, init), group in cells.groupby(["depth", "hierarchy", "init"]):
                color = colors[int(depth)]
                ax.scatter(group["output_corr2"], group[f"{target}_student"],
                           marker=markers[hierarchy], s=28, alpha=0.85, edgecolors=color,
                           facecolors="none" if init == "teacher" else color)
            low = float(np.nanmin(cells["output_corr2"]))
            ax.set_xlim(max(0.0, low - max(0.005, 0.1 * (1.0 - low))), 1.0 + 0.1 * (1.0 - low)
                        if low < 1.0 else 1.001)
            ax.set_ylim(0, 1.05)
            ax.grid(alpha=0.3)
            if i == 0:
                ax.set_title(task)
            if i == 1:
                ax.set_xlabel("output fit: corr² of student vs teacher output")
            if j == 0:
                ax.set_ylabel(f"{target} recovery (mean over layers)")
    handles = [plt.Line2D([], [], color=colors[int(d)], marker="o", ls="", label=f"depth {d}")
               for d in depths]
    handles += [plt.Line2D([], [], color="0.3", marker=markers[h], ls="", label=h)
                for h in hierarchies]
    if (per_cell["init"] == "teacher").any():
        handles.append(plt.Line2D([], [], color="0.3", marker="o", ls="", mfc="none",
                                  label="hollow: started at the teacher"))
    handles += [plt.Rectangle((0, 0), 1, 1, color="0.6", alpha=0.25,
                              label="chance (untrained, mean ± 2 sd)"),
                plt.Line2D([], [], color="k", ls="--", label="teacher vs itself")]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=8,
               frameon=False)
    fig.suptitle("Teacher-student study: output fit vs recovery of the teacher's internals"
                 + _protocol_note(per_cell))
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_layers(wide, path):
    """Recovery per layer for each task × depth, with the chance band and output fit.

    Parameters
    ----------
    wide : pandas.DataFrame
        :func:`task_metric` of :func:`recovery_table`; with students of both
        initialisations only the default ones are drawn.
    path : str or path-like
        Where the PNG goes.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_binn.study import make_cell, recovery_table, run_cell, task_metric
    >>> cell = make_cell(n_genes=12, depth=1, samples_per_edge=5.0, max_epochs=5,
    ...                  n_test=200, n_chance_draws=2)
    >>> wide = task_metric(recovery_table(pd.DataFrame([{**cell, **r} for r in run_cell(cell)])))
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     plot_layers(wide, pathlib.Path(folder) / "layers.png")
    ...     (pathlib.Path(folder) / "layers.png").stat().st_size > 0
    True
    """
    plt = headless_pyplot()

    wide = wide[wide["init"] == "default"] if (wide["init"] == "default").any() else wide
    tasks = [t for t in TASKS if t in set(wide["task"])]
    depths = sorted(wide["depth"].unique())
    fig, axes = plt.subplots(len(tasks), len(depths), figsize=(max(3.2 * len(depths), 9.0),
                             2.8 * len(tasks) + 0.8), squeeze=False, sharey=True)
    styles = {"weight": ("tab:blue", "o"), "activation": ("tab:orange", "s")}
    for i, task in enumerate(tasks):
        for j, depth in enumerate(depths):
            ax = axes[i, j]
            rows = wide[(wide["task"] == task) & (wide["depth"] == depth)]
            if rows.empty:
                ax.set_visible(False)
                continue
            g = rows.groupby("layer")
            layers = np.array(sorted(rows["layer"].unique()))
            for target, (color, marker) in styles.items():
                mean, sd = g[f"{target}_student"].mean(), g[f"{target}_student"].std()
                ax.errorbar(layers + (0.06 if target == "activation" else -0.06), mean,
                            yerr=sd.fillna(0), color=color, marker=marker, capsize=2,
                            label=f"{target} (student)")
                chance = g[f"{target}_chance"].mean()
                spread = 2 * g[f"{target}_chance_sd"].mean()
                for k in layers:
                    ax.fill_between([k - 0.3, k + 0.3], chance[k] - spread[k],
                                    chance[k] + spread[k], color=color, alpha=0.15, lw=0)
                    ax.plot([k - 0.3, k + 0.3], [chance[k]] * 2, color=color, ls=":", lw=1)
            fit = rows["output_corr2"].mean()
            ax.axhline(fit, color="tab:green", ls="-.", lw=1.2)
            ax.axhline(1.0, color="k", ls="--", lw=0.8)
            ax.set_ylim(0, 1.05)
            ax.set_xticks(layers)
            ax.set_xlim(-0.4, max(layers) + 0.4)
            ax.grid(alpha=0.3)
            if i == 0:
                ax.set_title(f"depth {depth}")
            if i == len(tasks) - 1:
                ax.set_xlabel("pathway layer (0 = genes → pathways)")
            if j == 0:
                ax.set_ylabel(f"{task}\nrecovery")
    handles = [
        plt.Line2D([], [], color="tab:blue", marker="o", label="weight recovery (student)"),
        plt.Line2D([], [], color="tab:orange", marker="s",
                   label="activation recovery (student)"),
        plt.Rectangle((0, 0), 1, 1, color="tab:blue", alpha=0.15, lw=0,
                      label="weight chance: untrained students, mean ± 2 sd (dotted: mean)"),
        plt.Rectangle((0, 0), 1, 1, color="tab:orange", alpha=0.15, lw=0,
                      label="activation chance: untrained students, mean ± 2 sd"),
        plt.Line2D([], [], color="tab:green", ls="-.", label="output fit (corr²)"),
        plt.Line2D([], [], color="k", ls="--", label="teacher vs itself (1.0)"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=2 if len(depths) < 3 else 3,
               fontsize=8, frameon=False)
    fig.suptitle("Recovery per pathway layer (mean ± sd over hierarchies, noise levels, seeds)"
                 + _protocol_note(wide))
    fig.tight_layout(rect=(0, 0.09, 1, 0.96))
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ------------------------------------------------------------------ ranking
#: The verdicts of students that reached the teacher's training loss: under
#: the converged protocols only they count in the ranking tables.
EVIDENCE_VERDICTS = ("recovered", "non-identifiable")
#: The columns of ``ranking_rows.csv`` (one row per cell and pathway layer).
RANKING_ROW_COLUMNS = ["task", "hierarchy", "depth", "noise", "init", "protocol", "seed",
                       "layer", "n_genes", "n_nodes", "cell_time_s", "converged", "verdict",
                       "weight_student", "weight_chance",
                       "rank_spearman_student", "rank_spearman_chance",
                       "rank_top_k_overlap_student", "rank_top_k_overlap_chance",
                       "rank_recovered_student", "rank_recovered_chance"]


def ranking_rows(wide):
    """One row per cell and pathway layer: weight recovery beside the importance ranking's.

    Parameters
    ----------
    wide : pandas.DataFrame
        :func:`recovery_table` of a run with ``--rank``.

    Returns
    -------
    pandas.DataFrame
        :data:`RANKING_ROW_COLUMNS` (those present), the rows sorted by cell.

    Raises
    ------
    ValueError
        If the run did not score rankings (no ``rank_spearman_student``).

    Examples
    --------
    >>> wide = pd.DataFrame({"task": "regression", "layer": [1, 0],
    ...                      "weight_student": [0.5, 0.9], "rank_spearman_student": 0.8})
    >>> ranking_rows(wide)["layer"].tolist()
    [0, 1]
    """
    if "rank_spearman_student" not in wide:
        raise ValueError("The rows have no importance-ranking scores; run the grid with "
                         "--rank METHOD (e.g. --rank integrated_gradients).")
    columns = [c for c in RANKING_ROW_COLUMNS if c in wide.columns]
    keys = columns[:columns.index("layer") + 1]
    return wide[columns].sort_values(keys, kind="stable").reset_index(drop=True)


def _counted(rows):
    """The readings the ranking tables count: every practice student, and converged
    students only at the teacher's training loss."""
    return (rows["protocol"] == "practice") | rows["verdict"].isin(EVIDENCE_VERDICTS)


def ranking_table(rows, by=("task", "protocol", "layer")):
    """Where the importance ranking is recovered without the weights, and the reverse.

    Each cell's pathway layer is one reading: its mean weight recovery
    (recovered at :data:`sklearn_binn.study.RECOVERY_THRESHOLD`) and the
    Spearman correlation of the student's importance ranking of the layer's
    pathways with the teacher's (recovered at
    :data:`sklearn_binn.study.RANKING_THRESHOLD`), counted by
    :func:`sklearn_binn.study.ranking_vs_weights`. Under the practice
    protocol every student counts (what a user of the defaults reads);
    under the converged protocols only students that reached the teacher's
    training loss (verdict "recovered" or "non-identifiable"): a student
    stopped short is evidence of nothing. ``n_left_out`` counts the cells
    left out (a group with none counted has one row, its scores NaN).

    Parameters
    ----------
    rows : pandas.DataFrame
        :func:`ranking_rows`.
    by : sequence of str, default=("task", "protocol", "layer")

    Returns
    -------
    pandas.DataFrame
        ``by``, ``n_cells``, ``n_left_out``, ``n_readings`` (layers with
        a ranking: at least three pathways), ``weight_recovery`` and
        ``spearman`` (means over cells, with ``_sd``),
        ``spearman_chance`` (untrained students) and the shares of readings
        with ``both`` recovered, the ``ranking_only``, the
        ``weights_only`` and ``neither``.

    Examples
    --------
    >>> rows = pd.DataFrame({"task": "regression", "protocol": "converged", "layer": 0,
    ...                      "hierarchy": "tree", "depth": 1, "noise": 0.0, "init": "default",
    ...                      "seed": [0, 1, 2],
    ...                      "verdict": ["non-identifiable", "recovered",
    ...                                  "optimisation shortfall"],
    ...                      "weight_student": [0.5, 0.95, 0.2],
    ...                      "rank_spearman_student": [0.95, 0.97, 0.1],
    ...                      "rank_spearman_chance": 0.0})
    >>> table = ranking_table(rows)
    >>> table[["n_cells", "n_left_out", "both", "ranking_only", "neither"]].values.tolist()
    [[2.0, 1.0, 0.5, 0.5, 0.0]]
    >>> ranking_table(rows[rows["seed"] == 2])[["n_cells", "n_left_out", "both"]].values.tolist()
    [[0.0, 1.0, nan]]
    """
    by = list(by)
    cell_keys = [c for c in ("task", "hierarchy", "depth", "noise", "init", "protocol", "seed")
                 if c in rows.columns]
    counted = _counted(rows)
    frame = rows[counted]
    frame = frame.assign(cell=["/".join(map(str, key))
                               for key in frame[cell_keys].itertuples(index=False)])
    table = ranking_vs_weights(frame, by, weight="weight_student",
                               ranking="rank_spearman_student", unit="cell",
                               chance="rank_spearman_chance")
    left_out = (rows[~counted].drop_duplicates([*cell_keys, *by]).groupby(by, sort=False).size()
                .rename("n_left_out"))
    as_keys = {c: object for c in by}  # an empty table's keys have no dtype to match
    table = table.astype(as_keys).merge(left_out.reset_index().astype(as_keys), on=by,
                                        how="outer").infer_objects()
    for column in ("n_cells", "n_left_out", "n_readings"):  # groups with no cell counted
        table[column] = table[column].fillna(0).astype(int)
    order = [*by, "n_cells", "n_left_out"]
    table = table[order + [c for c in table.columns if c not in order]]
    sort = {"task": list(TASKS), "protocol": list(PROTOCOLS), "hierarchy": list(HIERARCHIES)}
    keys = [table[c].map({v: i for i, v in enumerate(sort[c])}) if c in sort else table[c]
            for c in by]
    return table.iloc[np.lexsort(keys[::-1])].reset_index(drop=True)


def plot_ranking(rows, path):
    """Weight recovery against importance-ranking recovery, one point per cell and layer.

    Parameters
    ----------
    rows : pandas.DataFrame
        :func:`ranking_rows`; the readings of :func:`ranking_table` are drawn.
    path : str or path-like
        Where the PNG goes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> rows = pd.DataFrame({"task": "regression", "protocol": "practice", "layer": [0, 1],
    ...                      "hierarchy": "tree", "depth": 2, "noise": 0.0, "init": "default",
    ...                      "seed": 0, "verdict": "optimisation shortfall",
    ...                      "weight_student": [0.5, 0.95],
    ...                      "rank_spearman_student": [0.95, 0.97],
    ...                      "rank_spearman_chance": 0.0})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     plot_ranking(rows, pathlib.Path(folder) / "ranking.png")
    ...     (pathlib.Path(folder) / "ranking.png").stat().st_size > 0
    True
    """
    plt = headless_pyplot()

    rows = rows[_counted(rows)]
    tasks = [t for t in TASKS if t in set(rows["task"])]
    protocols = [p for p in PROTOCOLS if p in set(rows["protocol"])]
    colors = dict(zip(range(4), plt.cm.viridis(np.linspace(0.0, 0.85, 4))))
    fig, axes = plt.subplots(len(protocols), len(tasks), figsize=(3.8 * len(tasks) + 0.4,
                             3.6 * len(protocols) + 0.8), squeeze=False, sharex=True,
                             sharey=True)
    for i, protocol in enumerate(protocols):
        for j, task in enumerate(tasks):
            ax = axes[i, j]
            part = rows[(rows["protocol"] == protocol) & (rows["task"] == task)]
            for layer, group in part.groupby("layer"):
                ax.scatter(group["weight_student"], group["rank_spearman_student"], s=14,
                           alpha=0.7, color=colors[int(layer) % 4], lw=0)
            ax.axvline(RECOVERY_THRESHOLD, color="0.4", ls=":", lw=1)
            ax.axhline(RANKING_THRESHOLD, color="0.4", ls=":", lw=1)
            chance = part["rank_spearman_chance"].mean()
            if np.isfinite(chance):
                ax.axhline(chance, color="tab:red", ls="--", lw=0.8)
            ax.set_xlim(0, 1.02)
            ax.set_ylim(-1.02, 1.02)
            ax.grid(alpha=0.3)
            n = int(part["rank_spearman_student"].notna().sum())
            ax.set_title(f"{task}, {protocol} ({n} readings)", fontsize=9)
            if i == len(protocols) - 1:
                ax.set_xlabel("weight recovery (layer mean)")
            if j == 0:
                ax.set_ylabel("importance ranking: Spearman\nwith the teacher's")
    handles = [plt.Line2D([], [], color=colors[k], marker="o", ls="", label=f"layer {k}")
               for k in sorted(int(v) for v in rows["layer"].unique())]
    handles += [plt.Line2D([], [], color="0.4", ls=":", label="recovered at 0.9 (each axis)"),
                plt.Line2D([], [], color="tab:red", ls="--",
                           label="ranking of untrained students (mean)")]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8,
               frameon=False)
    title = "Ranking right while weights are not (top left), and the reverse (bottom right)"
    if (rows["protocol"] != "practice").any():
        title += "\nconverged: only students at the teacher's training loss"
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06, 1, 0.94))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    """Run the study; return the exit status (0, or 1 if a reference point failed).

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
    ...     status = main(["--tiny", "--tasks", "regression", "--depths", "1",
    ...                    "--noises", "0", "--out", out])
    Teacher-student study ...
    >>> status
    0
    """
    parser = build_arg_parser()
    args = parser.parse_args(argv)
    if args.seeds is not None and args.seeds < 1:
        parser.error(f"--seeds must be at least 1; got {args.seeds}.")
    cells = make_grid(args)
    out = args.out
    table = run_cells(cells, cell_worker(args.rank), out / "teacher_student.csv", KEY_COLUMNS,
                      n_jobs=args.n_jobs, backend=args.backend, scheduler=args.scheduler,
                      desc="teacher_student")
    wide = task_metric(recovery_table(select_cells(table, cells)))
    for protocol, (fit_png, layers_png) in figure_paths(wide, out).items():
        plot_fit(wide[wide["protocol"] == protocol], fit_png)
        plot_layers(wide[wide["protocol"] == protocol], layers_png)
    tables = summary_tables(wide)
    for name, frame in zip(("verdicts.csv", "summary_by_layer.csv", "summary_by_hierarchy.csv",
                            "protocols_paired.csv"), tables.values()):
        if len(frame):  # no pairs in a run of one protocol
            frame.to_csv(out / name, index=False, float_format="%.4g")
    keys = [c for c in ALL_KEY_COLUMNS if c in wide.columns]
    per_cell = cell_means(wide).merge(wide[wide["layer"] == 0][[*keys, "verdict"]], on=keys)
    per_cell[[c for c in CELL_COLUMNS if c in per_cell]].to_csv(
        out / "cells.csv", index=False, float_format="%.4g")
    run_time_table(wide, argv).to_csv(out / "run_time.csv", index=False, float_format="%.4g")
    if args.refit:
        before = task_metric(recovery_table(pd.read_csv(args.refit[0])))
        refit_comparison(before, wide).to_csv(out / "refit.csv", index=False,
                                              float_format="%.4g")
    cell_brief(wide).to_csv(out / "cells_brief.csv", index=False, float_format="%.3g")
    figures = figure_paths(wide, out)
    ranking = None
    if "rank_spearman_student" in wide:
        rank_rows = ranking_rows(wide)
        rank_rows.to_csv(out / "ranking_rows.csv", index=False)
        ranking = ranking_table(rank_rows)
        ranking.to_csv(out / "ranking.csv", index=False, float_format="%.4g")
        ranking_table(rank_rows, by=("task", "protocol", "hierarchy")).to_csv(
            out / "ranking_by_hierarchy.csv", index=False, float_format="%.4g")
        figures["ranking"] = (out / "teacher_student_ranking.png",)
        plot_ranking(rank_rows, figures["ranking"][0])
    problems = check_references(wide)
    sections = {
        "Teacher-student study": plain_summary(wide, tables, out),
        "Columns of the tables below": COLUMN_NOTES,
        "Recovery by layer (means over all cells of the group, converged or not)":
            tables["by layer"],
        "Verdicts per cell (counts of cells)": tables["verdicts"],
    }
    if ranking is not None:
        sections[f"Importance ranking vs weights per layer (--rank {args.rank}; recovered at "
                 f"{RECOVERY_THRESHOLD} / {RANKING_THRESHOLD}; converged: only students at "
                 "the teacher's training loss)"] = ranking.drop(
                     columns=["weight_recovery_sd", "spearman_sd"])
    if problems:
        sections["Reference-point failures"] = "\n".join(problems)
    print_summary(sections, out_dir=out, float_format="{:.3f}".format)
    if args.docs:
        if args.docs_ranking_only:
            copy_to_docs(out, {"ranking": figures.get("ranking", ())}, args.docs,
                         files=RANKING_DOCS_FILES)
        else:
            copy_to_docs(out, figures, args.docs, rows=select_cells(table, cells))
    return 1 if problems else 0


#: Run file -> its name in the docs (``teacher_student_<name>_<this>``).
DOCS_FILES = {"teacher_student.csv": "rows.csv", "cells_brief.csv": "cells.csv",
              "verdicts.csv": "verdicts.csv", "summary_by_layer.csv": "by_layer.csv",
              "summary_by_hierarchy.csv": "by_hierarchy.csv",
              "protocols_paired.csv": "paired.csv", "run_time.csv": "run_time.csv",
              "refit.csv": "refit.csv", "ranking_rows.csv": "ranking_rows.csv",
              "ranking.csv": "ranking.csv", "ranking_by_hierarchy.csv": "ranking_by_hierarchy.csv",
              "summary.txt": "summary.txt"}
#: What ``--docs-ranking-only`` copies.
RANKING_DOCS_FILES = {source: DOCS_FILES[source] for source in (
    "ranking_rows.csv", "ranking.csv", "ranking_by_hierarchy.csv", "run_time.csv", "summary.txt")}


def copy_to_docs(out, figures, name, static=None, rows=None, files=None):
    """Copy a run's summary files and figures into the docs' ``_static`` folder.

    Parameters
    ----------
    out : pathlib.Path
        The run's output folder.
    figures : dict
        From :func:`figure_paths`.
    name : str
        The run's name in the docs: files become
        ``teacher_student_<name>_<file>`` (:data:`DOCS_FILES`), figures
        ``teacher_student_<name>_fit[_<protocol>].png`` and ``..._layers...``.
    static : pathlib.Path, default=None
        Default ``docs/_static`` of this repository.
    rows : pandas.DataFrame, default=None
        The rows the summaries were computed from (the run's cells, when the
        CSV holds more); written as ``..._rows.csv`` instead of the whole
        ``teacher_student.csv``.
    files : dict, default=None
        Run file -> docs name; default :data:`DOCS_FILES` (``--docs-ranking-only``:
        :data:`RANKING_DOCS_FILES`).

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = pathlib.Path(tmp)
    ...     _ = (out / "verdicts.csv").write_text("task\\n")
    ...     [p.name for p in copy_to_docs(out, {}, "full", static=out / "static")]
    ['teacher_student_full_verdicts.csv']
    """
    import shutil

    static = Path(__file__).resolve().parents[1] / "docs" / "_static" if static is None else static
    files = {source: target for source, target in (DOCS_FILES if files is None else files).items()
             if rows is None or source != "teacher_student.csv"}
    written = _copy_to_docs(out, f"teacher_student_{name}", files, rows=rows, static=static)
    for paths in figures.values():
        for path in paths:
            if path.exists():
                target = path.name.replace("teacher_student_", f"teacher_student_{name}_", 1)
                written.append(Path(shutil.copyfile(path, static / target)))
    return written


if __name__ == "__main__":
    sys.exit(main())
