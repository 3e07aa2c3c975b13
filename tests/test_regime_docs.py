"""The regime-map page's numbers are its committed CSVs, and those regenerate from the rows.

``docs/regime_map.rst`` types no number from a run: every table is a CSV under
``docs/_static`` that ``benchmarks/regime_map.py`` or ``benchmarks/diagnostic_map.py``
(``--docs NAME``) wrote. For the runs whose rows are committed
(``regime_map_<run>_rows.csv``, ``regime_map_converged_constraints_rows.csv``,
``diagnostic_map_<run>_rows.csv``) recomputing the tables from the rows, with
the command each run-time table records, must give the committed tables,
number for number.
"""

import io
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "docs" / "_static"
PAGE = ROOT / "docs" / "regime_map.rst"
sys.path.insert(0, str(ROOT / "benchmarks"))

import diagnostic_map  # noqa: E402
import regime_map  # noqa: E402
from _docs_pages import assert_no_typed_table, assert_same_table, table_files  # noqa: E402
from sklearn_binn.study import recovery_table, select_cells, task_metric  # noqa: E402

#: The map's committed runs (``--docs NAME``) and their protocol.
RUNS = {"practice": "practice", "converged": "converged"}
#: The diagnostic map's committed run (``--docs NAME``) and its protocol.
DIAGNOSTIC_RUN = ("practice", "practice")
TASKS = ("classification", "regression", "survival")


_same = assert_same_table


def _as_written(frame, float_format):
    """A table as the script writes it and as the docs read it back."""
    return pd.read_csv(io.StringIO(frame.to_csv(index=False, float_format=float_format)))


def _command(name, script="benchmarks/regime_map.py"):
    """The command line a run-time table records, as ``argv``."""
    times = pd.read_csv(STATIC / name)
    command = times["command"].iloc[0].split()
    assert command[:2] == ["python", script]
    return command[2:]


def test_every_table_of_the_page_exists_and_the_runs_are_included():
    files = table_files(PAGE)
    assert [str(f) for f in files if not f.exists()] == []
    for run in RUNS:
        for name in ("run_time", *TASKS):
            assert STATIC / f"regime_map_{run}_{name}.csv" in files
    assert STATIC / "regime_map_practice_key_numbers.csv" in files
    assert STATIC / "regime_map_converged_constraints_run_time.csv" in files
    for name in ("nodes", "findings", "run_time"):
        assert STATIC / f"diagnostic_map_{DIAGNOSTIC_RUN[0]}_{name}.csv" in files
    assert len(files) == len(re.findall(r"\.\. csv-table::", PAGE.read_text()))


def test_every_figure_and_file_the_page_names_exists():
    text = PAGE.read_text()
    figures = re.findall(r"\.\. figure:: (\S+)", text)
    assert figures and [f for f in figures if not (PAGE.parent / f).exists()] == []
    named = set(re.findall(r"``(?:_static/)?((?:regime|diagnostic)_map_[\w.]+\.(?:csv|png))``",
                           text))
    # names a run writes in its own --out folder, not files under _static
    local = {"regime_map_table.csv", "regime_map_constraints_display.csv"}
    assert [n for n in named - local if not (STATIC / n).exists()] == []


def test_the_page_has_no_hand_typed_table():
    assert_no_typed_table(PAGE)


def test_the_page_types_no_run_time():
    """Run times come from the run-time tables, never typed (e.g. '33 min 16 s', '03:14:04')."""
    text = PAGE.read_text()
    assert not re.search(r"\d+\s*min\s*\d+\s*s\b", text)
    assert not re.search(r"\b\d\d:\d\d:\d\d\b", text)


@pytest.fixture(scope="module", params=list(RUNS))
def run(request):
    name = request.param
    argv = _command(f"regime_map_{name}_run_time.csv")
    args = regime_map.build_arg_parser().parse_args(argv)
    cells, membership = regime_map.make_grid(args)
    rows = pd.read_csv(STATIC / f"regime_map_{name}_rows.csv")
    assert set(rows["protocol"]) == {RUNS[name]}
    rows = select_cells(rows, cells)
    summary = regime_map.sweep_table(task_metric(recovery_table(rows)), membership)
    return {"name": name, "argv": argv, "cells": cells, "rows": rows, "summary": summary}


def test_the_summaries_regenerate_from_the_committed_rows(run):
    name, summary = run["name"], run["summary"]
    _same(_as_written(summary, "%.4g"), pd.read_csv(STATIC / f"regime_map_{name}_table.csv"))
    _same(_as_written(regime_map.layer_thresholds(summary), "%.4g"),
          pd.read_csv(STATIC / f"regime_map_{name}_layer_thresholds.csv"))
    for task in TASKS:
        _same(_as_written(regime_map.task_summary(summary, task), "%.3f"),
              pd.read_csv(STATIC / f"regime_map_{name}_{task}.csv"))


def test_the_key_numbers_and_the_run_time_regenerate_from_the_committed_rows(run):
    name = run["name"]
    _same(_as_written(regime_map.key_numbers(run["summary"]), "%.4g"),
          pd.read_csv(STATIC / f"regime_map_{name}_key_numbers.csv"))
    times = regime_map.run_time_table(recovery_table(run["rows"]), run["cells"], run["argv"])
    committed = pd.read_csv(STATIC / f"regime_map_{name}_run_time.csv")
    _same(_as_written(times, "%.4g"), committed)
    assert committed["n_failed"].eq(0).all()
    # every cell the command asks for has its rows: nothing was left out of the tables
    assert committed["n_cells"].iloc[0] == len(run["cells"])


def test_the_converged_constraint_tables_regenerate_from_the_committed_rows():
    argv = _command("regime_map_converged_constraints_run_time.csv")
    cells, membership = regime_map.make_grid(regime_map.build_arg_parser().parse_args(argv))
    rows = select_cells(pd.read_csv(STATIC / "regime_map_converged_constraints_rows.csv"), cells)
    table = regime_map.constraint_table(rows, membership)
    _same(_as_written(table, "%.4g"),
          pd.read_csv(STATIC / "regime_map_converged_constraints_table.csv"))
    _same(_as_written(regime_map.constraint_display(table), None),
          pd.read_csv(STATIC / "regime_map_converged_constraints.csv"))
    other = [c for c in cells if regime_map.constrained(c)]
    times = regime_map.run_time_table(recovery_table(select_cells(rows, other)), other, argv)
    _same(_as_written(times, "%.4g"),
          pd.read_csv(STATIC / "regime_map_converged_constraints_run_time.csv"))


def test_the_diagnostic_tables_and_run_time_regenerate_from_the_committed_rows():
    name, protocol = DIAGNOSTIC_RUN
    argv = _command(f"diagnostic_map_{name}_run_time.csv", "benchmarks/diagnostic_map.py")
    args = diagnostic_map.build_arg_parser().parse_args(argv)
    cells, membership = diagnostic_map.make_diagnostic_grid(args)
    rows = pd.read_csv(STATIC / f"diagnostic_map_{name}_rows.csv")
    assert set(rows["protocol"]) == {protocol}
    assert rows["converged"].notna().all() and rows["verdict"].notna().all()
    rows = select_cells(rows, cells)
    table = diagnostic_map.diagnosis_table(rows, membership)
    nodes = diagnostic_map.node_verdicts(rows)
    committed = {part: pd.read_csv(STATIC / f"diagnostic_map_{name}_{part}.csv")
                 for part in ("table", "nodes", "findings", "run_time")}
    _same(_as_written(table, "%.4g"), committed["table"])
    _same(_as_written(nodes, "%.4g"), committed["nodes"])
    # from the rows' unrounded tables (the committed four-digit ones move the Spearman
    # statistics, where nearly equal recoveries tie)
    _same(_as_written(diagnostic_map.findings(table, nodes), "%.4g"), committed["findings"])
    times = regime_map.run_time_table(recovery_table(rows), cells, argv,
                                      script="benchmarks/diagnostic_map.py")
    _same(_as_written(times, "%.4g"), committed["run_time"])
    assert committed["run_time"]["n_failed"].eq(0).all()
    assert committed["run_time"]["n_cells"].iloc[0] == len(cells)
    # every sweep point says which protocol and how many of its students converged
    assert set(committed["table"]["protocol"]) == {protocol}
    assert committed["table"]["n_conv"].le(committed["table"]["n_seeds"]).all()


def test_diagnostic_docs_copies_a_run_under_its_name(tmp_path):
    out, static = tmp_path / "run", tmp_path / "static"
    out.mkdir()
    for source in diagnostic_map.DOCS_FILES:
        (out / source).write_text(source)
    written = diagnostic_map.copy_to_docs(out, "x", pd.DataFrame({"seed": [0]}), static=static)
    assert sorted(p.name for p in written) == [
        "diagnostic_map_x.png", "diagnostic_map_x_findings.csv", "diagnostic_map_x_nodes.csv",
        "diagnostic_map_x_rows.csv", "diagnostic_map_x_run_time.csv",
        "diagnostic_map_x_table.csv"]
    assert (static / "diagnostic_map_x_nodes.csv").read_text() == "diagnostic_map_nodes.csv"


def test_docs_copies_a_run_under_its_name_and_a_constraints_run_leaves_the_map_alone(tmp_path):
    out, static = tmp_path / "run", tmp_path / "static"
    out.mkdir()
    for name in ("regime_map_table.csv", "regime_map_summary_survival.csv",
                 "regime_map_key_numbers.csv", "regime_map_run_time.csv",
                 "regime_map_survival.png", "regime_map_phase_survival.png",
                 "layer_thresholds.csv", "regime_map_constraints_table.csv",
                 "regime_map_constraints_display.csv", "regime_map_constraints.png",
                 "regime_map_constraints_run_time.csv"):
        (out / name).write_text(name)
    rows = pd.DataFrame({"seed": [0]})
    written = regime_map.copy_to_docs(out, "x", ["survival"], static=static,
                                      constraint_rows=rows)
    assert sorted(p.name for p in written) == [
        "regime_map_x_constraints.csv", "regime_map_x_constraints.png",
        "regime_map_x_constraints_rows.csv", "regime_map_x_constraints_run_time.csv",
        "regime_map_x_constraints_table.csv"]
    assert (static / "regime_map_x_constraints.csv").read_text() == \
        "regime_map_constraints_display.csv"
    written = regime_map.copy_to_docs(out, "x", ["survival"], static=static, rows=rows)
    assert sorted(p.name for p in written) == [
        "regime_map_x_key_numbers.csv", "regime_map_x_layer_thresholds.csv",
        "regime_map_x_phase_survival.png", "regime_map_x_rows.csv", "regime_map_x_run_time.csv",
        "regime_map_x_survival.csv", "regime_map_x_survival.png", "regime_map_x_table.csv"]
