"""The teacher–student study: does a BINN that fits its outputs recover its internals?

What it measures
----------------
For every cell of a grid -- task (classification, regression, survival) ×
hierarchy (three synthetic shapes and a branch of the bundled Reactome
hierarchy) × depth (1-4 pathway layers) × noise (none or some) × seed -- a
teacher BINN with known random weights generates a training set (10
samples per mask edge by default) and a held-out test set; a student with
the identical wiring is trained on the training set the standard way
(Adam, lr 1e-3, batches of 128, early stopping on a 10 % validation split)
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
See ``benchmarks/_study.py`` for what every knob means and
``docs/teacher_student.rst`` for a measured run and how to read it.

How to run
----------
From the repository root::

    python benchmarks/teacher_student.py --quick            # minutes on 2 cores
    python benchmarks/teacher_student.py --n-jobs 2         # the full grid (~17 min on 2 cores)
    python benchmarks/teacher_student.py --n-jobs 2 --seeds 2 --n-genes 60 \\
        --hierarchies pyramid reactome                      # a reduced grid

Results go to ``--out`` (default ``./teacher_student/``): the CSV of all
rows (``teacher_student.csv``, one row per cell × reference × layer;
rerunning skips finished cells), the figures ``teacher_student_fit.png``
(output fit against recovery) and ``teacher_student_layers.png`` (recovery
per layer), the summary tables as ``summary_by_layer.csv`` and
``summary_by_hierarchy.csv``, ``cells.csv`` (one row per cell, averaged
over its layers) and ``summary.txt``; the summary table is printed last.

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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import build_parser, headless_pyplot, print_summary, run_cells  # noqa: E402
from _study import (  # noqa: E402
    HIERARCHIES,
    KEY_COLUMNS,
    TASKS,
    cell_means,
    make_cell,
    recovery_table,
    run_cell,
    select_cells,
    task_metric,
)

FULL = {"tasks": list(TASKS), "hierarchies": list(HIERARCHIES), "depths": [1, 2, 3, 4],
        "noises": [0.0, 0.5], "seeds": 3, "n_genes": 100}
QUICK = {"tasks": list(TASKS), "hierarchies": ["pyramid"], "depths": [1, 2],
         "noises": [0.0, 0.5], "seeds": 1, "n_genes": 30}
# the per-cell table written to cells.csv (means over the cell's layers)
CELL_COLUMNS = ["task", "hierarchy", "depth", "noise", "init", "seed", "n_edges", "n_train_used",
                "epochs", "fit_time_s", "output_corr2", "excess_loss", "metric", "teacher_metric",
                "weight_student", "weight_chance", "activation_student", "activation_chance"]
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
                      help="noise levels (see benchmarks/_study.py: Gaussian sd for "
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
                      help="fixed epoch budget (default: max(200, ~5000 steps), at most 2000)")
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
                        for seed in range(pick["seeds"]):
                            cells.append(make_cell(
                                task=task, hierarchy=hierarchy, depth=depth,
                                n_genes=pick["n_genes"] if synthetic else None,
                                noise=float(noise), activation=args.activation,
                                samples_per_edge=args.samples_per_edge, init=init,
                                seed=seed, **extra,
                            ))
    return cells


# ------------------------------------------------------------------- tables
def summary_tables(wide):
    """The printed summary: means over seeds (and the pooled axes) of the recovery table.

    Parameters
    ----------
    wide : pandas.DataFrame
        :func:`task_metric` of :func:`recovery_table` of the study's rows.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"by layer"``: task × depth × layer, pooled over hierarchies, noise
        levels and seeds; ``"by hierarchy and noise"``: task × hierarchy ×
        noise, pooled over depths, layers and seeds.

    Examples
    --------
    >>> import pandas as pd
    >>> from _study import make_cell, recovery_table, run_cell, task_metric
    >>> cell = make_cell(n_genes=12, depth=1, samples_per_edge=5.0, max_epochs=5,
    ...                  n_test=200, n_chance_draws=2)
    >>> wide = task_metric(recovery_table(pd.DataFrame([{**cell, **r} for r in run_cell(cell)])))
    >>> tables = summary_tables(wide)
    >>> first = next(iter(tables.values()))
    >>> first[["task", "depth", "layer", "weight_teacher"]].to_dict("records")
    [{'task': 'regression', 'depth': 1, 'layer': 0, 'weight_teacher': 1.0}]
    """
    columns = {
        "output_corr2": "fit_corr2",
        "excess_loss": "excess_loss",
        "metric": "metric",
        "teacher_metric": "metric_teacher",
        "weight_student": "weight",
        "weight_chance": "weight_chance",
        "weight_teacher": "weight_teacher",
        "activation_student": "activation",
        "activation_chance": "activation_chance",
        "activation_teacher": "activation_teacher",
    }
    by_layer = wide.groupby(["task", "init", "depth", "layer"])
    table = by_layer[list(columns)].mean().rename(columns=columns)
    table.insert(0, "n_cells", by_layer.size())
    per_cell = cell_means(wide)
    by_h = per_cell.groupby(["task", "init", "hierarchy", "noise"])
    table2 = by_h[list(columns)].mean().rename(columns=columns)
    table2.insert(0, "n_cells", by_h.size())
    for frame in (table, table2):
        frame["weight_above_chance"] = (frame["weight"] - frame["weight_chance"]) / (
            1 - frame["weight_chance"])
        frame["activation_above_chance"] = (
            frame["activation"] - frame["activation_chance"]) / (1 - frame["activation_chance"])
    drop = [] if wide["init"].nunique() > 1 else ["init"]
    return {
        "Teacher-student study by layer (mean over hierarchies, noise levels and seeds)":
            table.reset_index().drop(columns=drop),
        "Teacher-student study by hierarchy and noise (mean over depths, layers and seeds)":
            table2.reset_index().drop(columns=drop),
    }


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
    >>> from _study import make_cell, recovery_table, run_cell, task_metric
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
    >>> from _study import make_cell, recovery_table, run_cell, task_metric
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
    markers = dict(zip(HIERARCHIES, "os^D"))
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
            ax.set_xlim(min(0.5, np.nanmin(cells["output_corr2"]) - 0.02), 1.01)
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
    handles += [plt.Line2D([], [], color="k", marker=markers[h], ls="", mfc="none", label=h)
                for h in hierarchies]
    handles += [plt.Rectangle((0, 0), 1, 1, color="0.6", alpha=0.25,
                              label="chance (untrained, mean ± 2 sd)"),
                plt.Line2D([], [], color="k", ls="--", label="teacher vs itself")]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=8,
               frameon=False)
    fig.suptitle("Teacher-student study: output fit vs recovery of the teacher's internals")
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
    >>> from _study import make_cell, recovery_table, run_cell, task_metric
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
        plt.Rectangle((0, 0), 1, 1, color="0.5", alpha=0.3,
                      label="chance: untrained students, mean ± 2 sd (dotted: mean)"),
        plt.Line2D([], [], color="tab:green", ls="-.", label="output fit (corr²)"),
        plt.Line2D([], [], color="k", ls="--", label="teacher vs itself (1.0)"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=2 if len(depths) < 3 else 3,
               fontsize=8, frameon=False)
    fig.suptitle("Recovery per pathway layer (mean ± sd over hierarchies, noise levels, seeds)")
    fig.tight_layout(rect=(0, 0.09, 1, 0.96))
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
    Teacher-student study by layer ...
    >>> status
    0
    """
    parser = build_arg_parser()
    args = parser.parse_args(argv)
    if args.seeds is not None and args.seeds < 1:
        parser.error(f"--seeds must be at least 1; got {args.seeds}.")
    cells = make_grid(args)
    out = args.out
    table = run_cells(cells, run_cell, out / "teacher_student.csv", KEY_COLUMNS,
                      n_jobs=args.n_jobs, backend=args.backend, scheduler=args.scheduler,
                      desc="teacher_student")
    wide = task_metric(recovery_table(select_cells(table, cells)))
    plot_fit(wide, out / "teacher_student_fit.png")
    plot_layers(wide, out / "teacher_student_layers.png")
    tables = summary_tables(wide)
    for name, frame in zip(("summary_by_layer.csv", "summary_by_hierarchy.csv"),
                           tables.values()):
        frame.to_csv(out / name, index=False, float_format="%.4g")
    cell_means(wide)[CELL_COLUMNS].to_csv(out / "cells.csv", index=False, float_format="%.4g")
    problems = check_references(wide)
    if problems:
        tables["Reference-point failures"] = "\n".join(problems)
    print_summary(tables, out_dir=out, float_format="{:.3f}".format)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
