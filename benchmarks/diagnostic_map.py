"""The local-identifiability diagnostic across the regime map: does it predict recovery?

What it measures
----------------
The one-factor sweeps of ``benchmarks/regime_map.py`` (samples per edge,
overlap, activation, depth, noise, input model, step size, regularisation,
init), each cell run as there and, in addition,
:func:`sklearn_binn.identifiability_diagnostic` on the cell's training data
at two points: the teacher's parameters (could any fit that matches the
outputs recover the teacher?) and the trained student's (what a user, who
has no teacher, can compute). Per cell and layer it records the fraction of
nodes the diagnostic calls identifiable at each point, the excess null
dimension (``jacobian_deficiency``), and how weakly the parameters are
pinned down (``eigenvalue_ratio``: smallest Gauss-Newton eigenvalue beyond
the symmetries over the largest), beside the student's recovery.

The question it answers is the diagnostic's validation against the map:
nodes it calls non-identifiable should be those the study fails to
recover, and where it calls every node identifiable, a failure to recover
is an optimisation failure (another minimum), not a non-identifiability.

Outputs (in ``--out``)
----------------------
``diagnostic_map.csv``
    Every row of every cell (the study's columns plus the diagnostic's).
``diagnostic_map_table.csv``
    Per task, sweep point and layer, means over seeds:
    ``identifiable_teacher``, ``identifiable_student`` (fractions of nodes),
    ``deficiency_teacher``, ``deficiency_student``,
    ``log10_eigenvalue_ratio_teacher`` (NaN where the teacher's Jacobian
    has excess null directions), the student's ``weight_above_chance``
    and ``activation_above_chance``, ``output_corr2``.
``diagnostic_map_nodes.csv``
    Per task and verdict at the teacher (identifiable or not): the number of
    nodes and their mean weight and activation recovery (raw, and the
    chance level of the same nodes), and how often the student-point verdict
    agrees with the teacher-point one.
``diagnostic_map_findings.csv``
    The numbers the docs cite, per task (:func:`findings`): the sweep
    points with gene → pathway nodes not identifiable at the teacher (and
    their excess null directions), the points where every node is, the
    layer-0 recovery there, its Spearman correlation with the eigenvalue
    ratio, the nodes' recovery above chance by verdict, and how often the
    student-point verdict agrees.
``diagnostic_map_run_time.csv``
    The cells, failures and the cells' own time
    (:func:`regime_map.run_time_table`).
``diagnostic_map.png``
    Per task: layer-0 weight recovery above chance against the teacher's
    ``log10 eigenvalue_ratio``, one point per cell, hollow where some node
    is non-identifiable at the teacher.

How to run
----------
From the repository root::

    python benchmarks/diagnostic_map.py --quick             # a few minutes on 2 cores
    python benchmarks/diagnostic_map.py --n-jobs 2          # every one-factor sweep, 1 seed

The run is resumable (``diagnostic_map.csv``), parallel through joblib
(``--n-jobs``, ``--backend``) and seeded by each cell's parameters, as every
study here. The diagnostic is exact (a dense Jacobian) for the map's
networks.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import build_parser, headless_pyplot, print_summary, run_cells  # noqa: E402
from sklearn_binn.study import (  # noqa: E402
    ALL_KEY_COLUMNS,
    TASKS,
    key_text,
    node_scores,
    recovery_table,
    run_cell,
    select_cells,
)
from regime_map import AXES, add_protocol_option, make_grid, run_time_table  # noqa: E402
from teacher_student import check_references  # noqa: E402

#: The regime map's one-factor sweeps (its phase diagrams and constraint arms are left out).
ONE_FACTOR_SWEEPS = tuple(name for name in AXES if name != "constraints")
QUICK_SWEEPS = ("samples_per_edge", "activation", "overlap")


def build_arg_parser():
    """The command line: the shared options plus sweeps, tasks and seeds.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> args = build_arg_parser().parse_args(["--sweeps", "activation"])
    >>> args.sweeps, args.seeds, args.tasks
    (['activation'], 1, ['classification', 'regression', 'survival'])
    """
    parser = build_parser(__file__, __doc__)
    parser.add_argument("--sweeps", nargs="+", choices=ONE_FACTOR_SWEEPS, metavar="SWEEP",
                        help="one-factor sweeps of the regime map (default: all; --quick: "
                             f"{' '.join(QUICK_SWEEPS)})")
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS),
                        metavar="TASK", help="tasks (default: all three)")
    parser.add_argument("--seeds", type=int, default=1, metavar="N",
                        help="seeds 0 .. N-1 (default: 1)")
    parser.add_argument("--n-genes", type=int, default=None, metavar="N",
                        help="genes of the base hierarchy (default: the regime map's)")
    parser.add_argument("--max-epochs", type=int, default=None, metavar="N",
                        help="fixed epoch budget (default: the regime map's)")
    add_protocol_option(parser)
    return parser


def diagnosis_table(rows, membership):
    """Per task, sweep point and layer: the diagnostic's verdicts beside the recovery.

    Parameters
    ----------
    rows : pandas.DataFrame
        Rows of ``run_cell(cell, diagnose=True)`` with their cells.
    membership : pandas.DataFrame
        From :func:`regime_map.make_grid`.

    Returns
    -------
    pandas.DataFrame
        See the module docstring (``diagnostic_map_table.csv``).
    """
    wide = recovery_table(rows).reset_index(drop=True)
    keyed = rows.assign(_key=key_text(rows).to_numpy())
    diag = {}
    for reference in ("teacher", "student"):
        part = keyed[keyed["reference"] == reference].set_index(["_key", "layer"])
        diag[reference] = part[["identifiable_fraction", "jacobian_deficiency",
                                "eigenvalue_ratio"]]
    wide = wide.assign(_key=key_text(wide).to_numpy()).set_index(["_key", "layer"])
    for reference, part in diag.items():
        wide[f"identifiable_{reference}"] = part["identifiable_fraction"].reindex(wide.index)
        wide[f"deficiency_{reference}"] = part["jacobian_deficiency"].reindex(wide.index)
    ratio = diag["teacher"]["eigenvalue_ratio"].reindex(wide.index)
    # only where no excess null direction: a deficient Jacobian's smallest eigenvalue is 0
    wide["log10_eigenvalue_ratio_teacher"] = np.log10(
        ratio.where(wide["deficiency_teacher"] == 0))
    wide = wide.reset_index()
    members = membership[["sweep", "x"]].assign(_key=key_text(membership).to_numpy())
    merged = members.merge(wide, on="_key")
    columns = ["identifiable_teacher", "identifiable_student", "deficiency_teacher",
               "deficiency_student", "log10_eigenvalue_ratio_teacher", "weight_above_chance",
               "activation_above_chance", "output_corr2"]
    group = merged.groupby(["task", "sweep", "x", "layer"], sort=False)
    table = group[columns].mean()
    table.insert(0, "n_seeds", group.size())
    return table.reset_index()


def node_verdicts(rows):
    """Per task and teacher-point verdict: how many nodes, and how well they are recovered.

    Parameters
    ----------
    rows : pandas.DataFrame
        Rows of ``run_cell(cell, diagnose=True)`` with their cells.

    Returns
    -------
    pandas.DataFrame
        ``task``, ``identifiable_at_teacher`` (bool), ``n_nodes``, the mean
        per-node ``weight_recovery`` and ``activation_recovery`` of the
        students, ``weight_chance`` and ``activation_chance`` (the untrained
        students on the same nodes) and ``student_verdict_agrees`` (share of
        those nodes whose verdict at the trained student is the same).

    Examples
    --------
    >>> row = {"task": "regression", "layer": 0, "weight_recovery_nodes": "0.9;0.3",
    ...        "activation_recovery_nodes": "0.8;0.2", "identifiable_nodes": "1;0"}
    >>> rows = pd.DataFrame([
    ...     {**row, "reference": "teacher"}, {**row, "reference": "student"},
    ...     {**row, "reference": "chance", "identifiable_nodes": np.nan}])
    >>> rows["seed"] = 0
    >>> node_verdicts(rows)[["identifiable_at_teacher", "n_nodes", "weight_recovery"]]
       identifiable_at_teacher  n_nodes  weight_recovery
    0                    False        1              0.3
    1                     True        1              0.9
    """
    keys = [c for c in ALL_KEY_COLUMNS if c in rows.columns] + ["layer"]
    refs = {ref: rows[rows["reference"] == ref].set_index(keys)
            for ref in ("teacher", "student", "chance")}
    records = []
    for key, teacher in refs["teacher"].iterrows():
        student, chance = refs["student"].loc[key], refs["chance"].loc[key]
        at_teacher = _flags(teacher["identifiable_nodes"])
        at_student = _flags(student["identifiable_nodes"])
        scores = {target: node_scores(student, target) for target in ("weight", "activation")}
        chances = {target: node_scores(chance, target) for target in ("weight", "activation")}
        for i, flag in enumerate(at_teacher):
            if np.isnan(flag):
                continue
            records.append({
                "task": key[keys.index("task")],
                "identifiable_at_teacher": bool(flag),
                "weight_recovery": scores["weight"][i],
                "activation_recovery": scores["activation"][i],
                "weight_chance": chances["weight"][i],
                "activation_chance": chances["activation"][i],
                "student_verdict_agrees": float(at_student[i] == flag),
            })
    nodes = pd.DataFrame(records)
    group = nodes.groupby(["task", "identifiable_at_teacher"])
    table = group.mean(numeric_only=True)
    table.insert(0, "n_nodes", group.size())
    return table.reset_index()


def findings(table, nodes):
    """The numbers the docs cite, one row per quantity, one column per task.

    Computed from the two summary tables alone (so the committed CSVs
    regenerate them without the rows).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`diagnosis_table` (``diagnostic_map_table.csv``).
    nodes : pandas.DataFrame
        From :func:`node_verdicts` (``diagnostic_map_nodes.csv``).

    Returns
    -------
    pandas.DataFrame
        ``quantity`` and one column per task:

        - ``sweep points``: the sweep points of the run;
        - ``not identifiable at the teacher: <sweep> <point> (excess null
          directions)``: one row per point where some gene → pathway node is
          not identifiable at the teacher in some task, its mean
          ``deficiency_teacher`` (empty where that task's nodes all are);
        - ``points with every node of every layer identifiable``;
        - over those points, the layer-0 weight recovery above chance:
          ``median``, ``min``, ``max``; the ``log10 eigenvalue ratio``'s
          ``min`` and ``max``; its ``Spearman rho`` with the layer-0 recovery
          and the ``p`` value;
        - per teacher-point verdict, the nodes' ``weight recovery above
          chance`` (mean recovery against the same nodes' untrained
          students) and the ``share`` whose student-point verdict agrees;
        - the layer-0 weight recovery above chance of the ``init`` sweep's
          random and teacher starts.

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "task": "regression", "sweep": "depth", "x": ["1", "2", "3"], "layer": 0,
    ...     "identifiable_teacher": [1.0, 1.0, 0.5], "deficiency_teacher": [0, 0, 4.0],
    ...     "log10_eigenvalue_ratio_teacher": [-6.0, -5.0, np.nan],
    ...     "weight_above_chance": [0.2, 0.6, 0.1]})
    >>> nodes = pd.DataFrame({"task": "regression", "identifiable_at_teacher": [False, True],
    ...                       "weight_recovery": [0.5, 0.75], "weight_chance": 0.5,
    ...                       "student_verdict_agrees": [1.0, 0.9]})
    >>> out = findings(table, nodes).set_index("quantity")["regression"]
    >>> float(out["not identifiable at the teacher: depth 3 (excess null directions)"])
    4.0
    >>> float(out["identifiable points: layer-0 weight recovery above chance, median"])
    0.4
    >>> float(out["identifiable nodes: weight recovery above chance"])
    0.5
    """
    from scipy.stats import spearmanr

    tasks = list(dict.fromkeys(table["task"]))
    layer0 = table[table["layer"] == 0]
    every = table.groupby(["task", "sweep", "x"], sort=False)["identifiable_teacher"].min()
    flagged = layer0[layer0["identifiable_teacher"] < 1.0]
    rows = {"sweep points": {t: float((layer0["task"] == t).sum()) for t in tasks}}
    for (sweep, x), _ in flagged.groupby(["sweep", "x"], sort=False):
        at = flagged[(flagged["sweep"] == sweep) & (flagged["x"] == x)].set_index("task")
        rows[f"not identifiable at the teacher: {sweep} {x} (excess null directions)"] = {
            t: float(at.loc[t, "deficiency_teacher"]) if t in at.index else np.nan
            for t in tasks}
    rows["points with every node of every layer identifiable"] = {
        t: float((every.loc[t] >= 1.0).sum()) for t in tasks}
    stats = {}
    for task in tasks:
        full = every.loc[task][every.loc[task] >= 1.0].index
        part = layer0[layer0["task"] == task].set_index(["sweep", "x"]).loc[list(full)]
        recovery = part["weight_above_chance"].astype(float)
        ratio = part["log10_eigenvalue_ratio_teacher"].astype(float)
        rho, p = spearmanr(ratio, recovery, nan_policy="omit")
        stats[task] = {"median": recovery.median(), "min": recovery.min(),
                       "max": recovery.max(), "ratio min": ratio.min(),
                       "ratio max": ratio.max(), "rho": float(rho), "p": float(p)}
    for key, name in (("median", "median"), ("min", "min"), ("max", "max")):
        rows[f"identifiable points: layer-0 weight recovery above chance, {name}"] = {
            t: stats[t][key] for t in tasks}
    rows["identifiable points: log10 eigenvalue ratio at the teacher, min"] = {
        t: stats[t]["ratio min"] for t in tasks}
    rows["identifiable points: log10 eigenvalue ratio at the teacher, max"] = {
        t: stats[t]["ratio max"] for t in tasks}
    rows["identifiable points: Spearman rho, eigenvalue ratio vs layer-0 recovery"] = {
        t: stats[t]["rho"] for t in tasks}
    rows["identifiable points: Spearman p"] = {t: stats[t]["p"] for t in tasks}
    by_node = nodes.set_index(["task", "identifiable_at_teacher"])
    for flag, name in ((True, "identifiable"), (False, "non-identifiable")):
        above, agrees = {}, {}
        for task in tasks:
            if (task, flag) in by_node.index:
                node = by_node.loc[(task, flag)]
                above[task] = ((node["weight_recovery"] - node["weight_chance"])
                               / (1.0 - node["weight_chance"]))
                agrees[task] = node["student_verdict_agrees"]
        rows[f"{name} nodes: weight recovery above chance"] = above
        rows[f"{name} nodes: share whose verdict at the student agrees"] = agrees
    init = layer0[layer0["sweep"] == "init"].set_index(["task", "x"])["weight_above_chance"]
    for start in ("default", "teacher"):
        rows[f"init {start}: layer-0 weight recovery above chance"] = {
            t: init.get((t, start), np.nan) for t in tasks}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=tasks)
    return out.rename_axis("quantity").reset_index()


def _flags(text):
    return np.array(str(text).split(";"), dtype=float)


def plot_diagnosis(table, path):
    """Layer-0 recovery above chance against the teacher's eigenvalue ratio, per task."""
    plt = headless_pyplot()

    layer0 = table[table["layer"] == 0]
    tasks = list(dict.fromkeys(layer0["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4), squeeze=False)
    left = np.nanmin(layer0["log10_eigenvalue_ratio_teacher"].to_numpy(float), initial=0) - 1
    colours = plt.get_cmap("tab20").colors
    for ax, task in zip(axes[0], tasks):
        part = layer0[layer0["task"] == task]
        ax.set_prop_cycle(color=colours)
        for sweep, points in part.groupby("sweep", sort=False):
            x = points["log10_eigenvalue_ratio_teacher"].fillna(left)  # deficient: left edge
            full = points["identifiable_teacher"] >= 1.0
            line = ax.scatter(x[full], points.loc[full, "weight_above_chance"], label=sweep,
                              s=28)
            ax.scatter(x[~full], points.loc[~full, "weight_above_chance"], s=28,
                       facecolors="none", edgecolors=line.get_facecolor())
        ax.axvline(left + 0.5, color="grey", lw=0.5, ls=":")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel("log10 eigenvalue ratio at the teacher")
        ax.set_title(task)
    axes[0][0].set_ylabel("layer-0 weight recovery above chance")
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle("Hollow: some gene → pathway node not identifiable at the teacher; "
                 "left of the dotted line: excess null directions (ratio 0)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    """Run the diagnostic map; return the exit status (0, or 1 if a reference point failed).

    Parameters
    ----------
    argv : list of str, default=None
        The command line; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
    """
    args = build_arg_parser().parse_args(argv)
    # the regime map's own grid (its options are a subset of these); only the sweeps differ
    args.sweeps = args.sweeps or list(QUICK_SWEEPS if args.quick else ONE_FACTOR_SWEEPS)
    cells, membership = make_grid(args)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    table = run_cells(cells, functools.partial(run_cell, diagnose=True),
                      out / "diagnostic_map.csv", ALL_KEY_COLUMNS, desc="diagnostic_map",
                      n_jobs=args.n_jobs, backend=args.backend, scheduler=args.scheduler)
    rows = select_cells(table, cells)
    summary = diagnosis_table(rows, membership)
    summary.to_csv(out / "diagnostic_map_table.csv", index=False, float_format="%.4g")
    verdicts = node_verdicts(rows)
    verdicts.to_csv(out / "diagnostic_map_nodes.csv", index=False, float_format="%.4g")
    findings(summary, verdicts).to_csv(out / "diagnostic_map_findings.csv", index=False,
                                       float_format="%.4g")
    run_time_table(recovery_table(rows), cells, argv, script="benchmarks/diagnostic_map.py").to_csv(
        out / "diagnostic_map_run_time.csv", index=False, float_format="%.4g")
    plot_diagnosis(summary, out / "diagnostic_map.png")
    problems = check_references(recovery_table(rows))
    sections = {"Per sweep point and layer": summary, "Per node, by verdict at the teacher":
                verdicts}
    if problems:
        sections["Reference-point failures"] = "\n".join(problems)
    print_summary(sections, out_dir=out, float_format="{:.3f}".format)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
