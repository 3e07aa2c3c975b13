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
    Every row of every cell (the study's columns plus the diagnostic's; each
    row says its ``protocol``, whether the student ``converged`` and the
    cell's ``verdict``).
``diagnostic_map_table.csv``
    Per task, protocol, sweep point and layer, means over seeds:
    ``identifiable_teacher``, ``identifiable_student`` (fractions of nodes),
    ``deficiency_teacher``, ``deficiency_student``,
    ``log10_eigenvalue_ratio_teacher`` (NaN where the teacher's Jacobian
    has excess null directions), the student's ``weight_above_chance``
    and ``activation_above_chance``, ``output_corr2``; and per sweep point
    ``n_conv`` (students that converged) and the cells of each verdict
    (``n_recovered``, ``n_non_identifiable``, ``n_optimisation_shortfall``,
    ``n_no_fit``: ``sklearn_binn.study.verdict_counts``).
``diagnostic_map_nodes.csv``
    Per task and verdict at the teacher (identifiable or not): the number of
    nodes and their mean weight and activation recovery (raw, and the
    chance level of the same nodes), how often the student-point verdict
    agrees with the teacher-point one, and the share of the nodes whose
    student converged.
``diagnostic_map_findings.csv``
    The numbers the docs cite, per task (:func:`findings`): the sweep
    points with gene → pathway nodes not identifiable at the teacher (and
    their excess null directions), the points where every node is, the
    layer-0 recovery there, its Spearman correlation with the eigenvalue
    ratio, the nodes' recovery above chance by verdict, and how often the
    student-point verdict agrees; the students that converged and the
    verdicts at the points where every node is identifiable and where some
    node is not.
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
    python benchmarks/diagnostic_map.py --n-jobs 1 --seeds 2 --out diag --docs practice

``--docs NAME`` also copies the run's rows and files into ``docs/_static``
(:func:`copy_to_docs`): ``diagnostic_map_NAME_rows.csv``, ``_table.csv``,
``_nodes.csv``, ``_findings.csv``, ``_run_time.csv`` and the figure
``diagnostic_map_NAME.png``. A rerun on a finished ``--out`` runs no cell,
so ``--docs`` can render a finished run into the docs.

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
from _common import copy_to_docs as _copy_to_docs  # noqa: E402
from sklearn_binn.study import (  # noqa: E402
    ALL_KEY_COLUMNS,
    TASKS,
    VERDICTS,
    key_text,
    node_scores,
    recovery_table,
    run_cell,
    select_cells,
    verdict_counts,
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
    parser.add_argument("--docs", metavar="NAME",
                        help="also copy the run's rows, tables and figure to docs/_static/"
                             "diagnostic_map_NAME_<file> (rows, table, nodes, findings, "
                             "run_time; the figure as diagnostic_map_NAME.png), which the docs "
                             "include")
    return parser


def make_diagnostic_grid(args):
    """The run's cells: the regime map's grid over the chosen one-factor sweeps.

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`build_arg_parser`; without ``--sweeps``, every one-factor
        sweep (``--quick``: :data:`QUICK_SWEEPS`).

    Returns
    -------
    cells : list of dict
    membership : pandas.DataFrame
        As :func:`regime_map.make_grid`.

    Examples
    --------
    >>> cells, membership = make_diagnostic_grid(build_arg_parser().parse_args(["--seeds", "2"]))
    >>> len(cells), sorted(set(membership["sweep"])) == sorted(ONE_FACTOR_SWEEPS)
    (174, True)
    """
    args.sweeps = args.sweeps or list(QUICK_SWEEPS if args.quick else ONE_FACTOR_SWEEPS)
    return make_grid(args)


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
        See the module docstring (``diagnostic_map_table.csv``): ``task``,
        ``protocol``, ``sweep``, ``x``, ``layer``, ``n_seeds``, the means
        over seeds and, where the rows carry verdicts (runs since the study
        has protocols), per sweep point ``n_conv`` (students that converged)
        and the cells of each verdict (:func:`verdict_columns`).

    Examples
    --------
    >>> from regime_map import make_grid
    >>> from sklearn_binn.study import make_cell
    >>> args = build_arg_parser().parse_args(
    ...     ["--tasks", "regression", "--sweeps", "init", "--n-genes", "12",
    ...      "--max-epochs", "5"])
    >>> cells, membership = make_grid(args)
    >>> rows = pd.DataFrame([{**c, **r} for c in cells for r in run_cell(c, diagnose=True)])
    >>> table = diagnosis_table(rows, membership)
    >>> table[["protocol", "x", "layer", "n_seeds"]].values.tolist()
    [['practice', 'default', 0, 1], ['practice', 'default', 1, 1], \
['practice', 'teacher', 0, 1], ['practice', 'teacher', 1, 1]]
    >>> verdicts = table[list(verdict_columns().values())].sum(axis=1)
    >>> verdicts.tolist(), bool(table["n_conv"].le(table["n_seeds"]).all())
    ([1, 1, 1, 1], True)
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
    if "protocol" not in merged:  # rows from before the study had protocols
        merged["protocol"] = ""
    columns = ["identifiable_teacher", "identifiable_student", "deficiency_teacher",
               "deficiency_student", "log10_eigenvalue_ratio_teacher", "weight_above_chance",
               "activation_above_chance", "output_corr2"]
    keys = ["task", "protocol", "sweep", "x"]
    group = merged.groupby([*keys, "layer"], sort=False)
    table = group[columns].mean()
    table.insert(0, "n_seeds", group.size())
    table = table.reset_index()
    if "verdict" in merged:
        first = merged[merged["layer"] == 0]
        counts = verdict_counts(first, keys).drop(columns="n_cells")
        counts = counts.rename(columns=verdict_columns())
        conv = (first.groupby(keys, sort=False)["converged"]
                .apply(lambda v: int(v.astype(str).str.lower().eq("true").sum()))
                .rename("n_conv").reset_index())
        table = table.merge(conv.merge(counts, on=keys), on=keys, how="left")
    return table


def verdict_columns():
    """The study's verdicts -> this script's count columns (as the regime map names them).

    Examples
    --------
    >>> verdict_columns()["optimisation shortfall"]
    'n_optimisation_shortfall'
    """
    return {v: f"n_{v.replace(' ', '_').replace('-', '_')}" for v in VERDICTS}


def node_verdicts(rows):
    """Per task and teacher-point verdict: how many nodes, and how well they are recovered.

    Parameters
    ----------
    rows : pandas.DataFrame
        Rows of ``run_cell(cell, diagnose=True)`` with their cells.

    Returns
    -------
    pandas.DataFrame
        ``task``, ``protocol`` (where the rows have it), ``identifiable_at_teacher``
        (bool), ``n_nodes``, the mean per-node ``weight_recovery`` and
        ``activation_recovery`` of the students, ``weight_chance`` and
        ``activation_chance`` (the untrained students on the same nodes),
        ``student_verdict_agrees`` (share of those nodes whose verdict at the
        trained student is the same) and, where the rows say whether the
        student converged, ``student_converged`` (share of those nodes whose
        cell's student converged).

    Examples
    --------
    >>> row = {"task": "regression", "layer": 0, "weight_recovery_nodes": "0.9;0.3",
    ...        "activation_recovery_nodes": "0.8;0.2", "identifiable_nodes": "1;0",
    ...        "protocol": "practice", "converged": False}
    >>> rows = pd.DataFrame([
    ...     {**row, "reference": "teacher"}, {**row, "reference": "student"},
    ...     {**row, "reference": "chance", "identifiable_nodes": np.nan}])
    >>> rows["seed"] = 0
    >>> node_verdicts(rows)[["protocol", "identifiable_at_teacher", "n_nodes",
    ...                      "weight_recovery", "student_converged"]].values.tolist()
    [['practice', False, 1, 0.3, 0.0], ['practice', True, 1, 0.9, 0.0]]
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
        cell = {"task": key[keys.index("task")]}
        if "protocol" in keys:
            cell["protocol"] = key[keys.index("protocol")]
        for i, flag in enumerate(at_teacher):
            if np.isnan(flag):
                continue
            record = {
                **cell,
                "identifiable_at_teacher": bool(flag),
                "weight_recovery": scores["weight"][i],
                "activation_recovery": scores["activation"][i],
                "weight_chance": chances["weight"][i],
                "activation_chance": chances["activation"][i],
                "student_verdict_agrees": float(at_student[i] == flag),
            }
            if "converged" in student.index:
                record["student_converged"] = float(
                    str(student["converged"]).lower() == "true")
            records.append(record)
    nodes = pd.DataFrame(records)
    group = nodes.groupby([c for c in ("task", "protocol", "identifiable_at_teacher")
                           if c in nodes.columns])
    table = group.mean(numeric_only=True)
    table.insert(0, "n_nodes", group.size())
    return table.reset_index()


def findings(table, nodes):
    """The numbers the docs cite, one row per quantity, one column per task.

    Computed from the two summary tables alone: exactly from the tables of
    the rows (as the run writes them); from the written four-digit CSVs to
    within their rounding, the Spearman statistics moving most (nearly equal
    recoveries tie).

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
        - where the table has verdicts, for the points with every node
          identifiable at the teacher and for those with some node not: the
          ``students (seeds x points)`` (a cell shared by sweeps counts once
          per sweep), the ``students that converged`` and the cells of each
          ``verdict``;
        - over those points, the layer-0 weight recovery above chance:
          ``median``, ``min``, ``max``; the ``log10 eigenvalue ratio``'s
          ``min`` and ``max``; its ``Spearman rho`` with the layer-0 recovery
          and the ``p`` value;
        - per teacher-point verdict, the nodes' ``weight recovery above
          chance`` (mean recovery against the same nodes' untrained
          students), the ``share`` whose student-point verdict agrees and,
          where the nodes table has it, the ``share whose student converged``;
        - the layer-0 weight recovery above chance of the ``init`` sweep's
          random and teacher starts.

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "task": "regression", "sweep": "depth", "x": ["1", "2", "3"], "layer": 0,
    ...     "identifiable_teacher": [1.0, 1.0, 0.5], "deficiency_teacher": [0, 0, 4.0],
    ...     "log10_eigenvalue_ratio_teacher": [-6.0, -5.0, np.nan],
    ...     "weight_above_chance": [0.2, 0.6, 0.1], "n_seeds": 2, "n_conv": [0, 1, 2],
    ...     "n_recovered": [0, 1, 0], "n_non_identifiable": [0, 0, 2],
    ...     "n_optimisation_shortfall": [2, 1, 0], "n_no_fit": 0})
    >>> nodes = pd.DataFrame({"task": "regression", "identifiable_at_teacher": [False, True],
    ...                       "weight_recovery": [0.5, 0.75], "weight_chance": 0.5,
    ...                       "student_verdict_agrees": [1.0, 0.9],
    ...                       "student_converged": [1.0, 0.25]})
    >>> out = findings(table, nodes).set_index("quantity")["regression"]
    >>> float(out["not identifiable at the teacher: depth 3 (excess null directions)"])
    4.0
    >>> float(out["identifiable points: layer-0 weight recovery above chance, median"])
    0.4
    >>> float(out["identifiable nodes: weight recovery above chance"])
    0.5
    >>> [float(out[f"points with every node identifiable: {q}"]) for q in (
    ...     "students that converged", "verdict recovered", "verdict optimisation shortfall")]
    [1.0, 1.0, 3.0]
    >>> float(out["points with some node not: verdict non-identifiable"])
    2.0
    >>> float(out["identifiable nodes: share whose student converged"])
    0.25
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
    if "n_conv" in table:
        verdicts = verdict_columns()
        points = layer0.set_index(["task", "sweep", "x"])
        for full, name in ((True, "every node identifiable"), (False, "some node not")):
            for task in tasks:
                at = every.loc[task]
                part = points.loc[task].loc[list(at[(at >= 1.0) == full].index)]
                counts = {"students (seeds x points)": part["n_seeds"].sum(),
                          "students that converged": part["n_conv"].sum(),
                          **{f"verdict {v}": part[c].sum() for v, c in verdicts.items()}}
                for quantity, value in counts.items():
                    rows.setdefault(f"points with {name}: {quantity}", {})[task] = float(value)
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
    by_node = nodes.set_index(["task", "identifiable_at_teacher"])  # one protocol per run
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
        if "student_converged" in nodes:
            rows[f"{name} nodes: share whose student converged"] = {
                t: by_node.loc[(t, flag), "student_converged"] for t in tasks
                if (t, flag) in by_node.index}
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
    cells, membership = make_diagnostic_grid(args)
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
    if args.docs:
        copy_to_docs(out, args.docs, rows)
    return 1 if problems else 0


#: Run file -> its name in the docs (``diagnostic_map_<name><this>``).
DOCS_FILES = {"diagnostic_map_table.csv": "_table.csv", "diagnostic_map_nodes.csv": "_nodes.csv",
              "diagnostic_map_findings.csv": "_findings.csv",
              "diagnostic_map_run_time.csv": "_run_time.csv", "diagnostic_map.png": ".png"}


def copy_to_docs(out, name, rows, static=None):
    """Copy a run's rows, tables and figure into the docs' ``_static`` folder.

    Parameters
    ----------
    out : pathlib.Path
        The run's output folder.
    name : str
        The run's name in the docs: files become ``diagnostic_map_<name>_<file>``
        and the figure ``diagnostic_map_<name>.png`` (:data:`DOCS_FILES`).
    rows : pandas.DataFrame
        The run's rows, written as ``diagnostic_map_<name>_rows.csv``.
    static : pathlib.Path, default=None
        Default ``docs/_static`` of this repository.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = pathlib.Path(tmp)
    ...     _ = (out / "diagnostic_map_findings.csv").write_text("quantity\\n")
    ...     _ = (out / "diagnostic_map.png").write_bytes(b"")
    ...     written = copy_to_docs(out, "practice", pd.DataFrame({"seed": [0]}),
    ...                            static=out / "static")
    >>> [p.name for p in written]
    ['diagnostic_map_practice_findings.csv', 'diagnostic_map_practice.png', \
'diagnostic_map_practice_rows.csv']
    """
    return _copy_to_docs(out, f"diagnostic_map_{name}", DOCS_FILES, rows=rows, static=static,
                         join="")


if __name__ == "__main__":
    sys.exit(main())
