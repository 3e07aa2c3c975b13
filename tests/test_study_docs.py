"""The teacher–student page's tables are its committed CSVs, and those regenerate from the rows.

``docs/teacher_student.rst`` includes every table from a CSV under
``docs/_static`` (``.. csv-table:: :file:``). The summary CSVs were written by
``benchmarks/teacher_student.py`` from its rows, and the rows are committed
beside them: recomputing the summaries from the committed rows must give the
committed tables, number for number.
"""

import io
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
STATIC = DOCS / "_static"
PAGE = DOCS / "teacher_student.rst"
sys.path.insert(0, str(ROOT / "benchmarks"))

import teacher_student  # noqa: E402
from _docs_pages import assert_no_typed_table, assert_same_table, table_files  # noqa: E402
from sklearn_binn.study import recovery_table, task_metric  # noqa: E402

PROTOCOLS = ("practice", "converged")
#: The committed runs: the practice grid over 3 seeds, and both protocols on the same cells.
RUNS = {"full_practice": {"practice"}, "full": set(PROTOCOLS)}


def _rows(run):
    """A run's rows: the paired run's are committed, the practice run is its practice half."""
    rows = pd.read_csv(STATIC / "teacher_student_full_rows.csv")
    return rows[rows["protocol"].isin(RUNS[run])].reset_index(drop=True)


def test_the_page_takes_its_tables_from_csv_files_that_exist():
    files = table_files(PAGE)
    assert len(files) >= 4
    missing = [str(f) for f in files if not f.exists()]
    assert missing == []
    for run in RUNS:
        assert STATIC / f"teacher_student_{run}_verdicts.csv" in files


def test_the_page_has_no_hand_typed_table():
    assert_no_typed_table(PAGE)


def _assert_same(computed, committed):
    assert_same_table(computed, committed, rtol=6e-4)  # the CSVs are written with %.4g


@pytest.mark.parametrize("run", RUNS)
def test_the_summary_tables_regenerate_from_the_committed_rows(run):
    wide = task_metric(recovery_table(_rows(run)))
    tables = teacher_student.summary_tables(wide)
    names = [("verdicts", "verdicts"), ("by_layer", "by layer"), ("by_hierarchy", "by hierarchy")]
    if len(RUNS[run]) > 1:
        names.append(("paired", "protocols paired"))
    else:
        assert not (STATIC / f"teacher_student_{run}_paired.csv").exists()
    for name, key in names:
        committed = pd.read_csv(STATIC / f"teacher_student_{run}_{name}.csv")
        _assert_same(tables[key], committed)


@pytest.mark.parametrize("run", RUNS)
def test_the_per_cell_and_run_time_tables_regenerate_from_the_committed_rows(run):
    wide = recovery_table(_rows(run))
    committed = pd.read_csv(STATIC / f"teacher_student_{run}_cells.csv")
    _assert_same(pd.read_csv(io.StringIO(teacher_student.cell_brief(wide).to_csv(
        index=False, float_format="%.3g"))), committed)
    times = pd.read_csv(STATIC / f"teacher_student_{run}_run_time.csv")
    computed = teacher_student.run_time_table(wide, times["command"].iloc[0].split()[2:])
    _assert_same(computed, times)


@pytest.mark.parametrize("run", RUNS)
def test_the_committed_rows_carry_the_evidence_and_the_summary_matches_them(run):
    rows = _rows(run)
    assert set(rows["protocol"]) == RUNS[run]
    for column in ("converged", "n_iter", "final_rel_loss_change", "grad_norm", "train_gap",
                   "verdict", "cell_time_s"):
        assert rows[column].notna().all(), column
    # the printed summary the page includes counts these very cells
    summary = (STATIC / f"teacher_student_{run}_summary.txt").read_text()
    cells = rows[(rows["reference"] == "student") & (rows["layer"] == 0)]
    assert f"Tested: {len(cells)} cell(s)" in summary
    for protocol, part in cells.groupby("protocol"):
        recovered = int((part["verdict"] == "recovered").sum())
        assert f"Protocol {protocol!r}: {int(part['converged'].sum())} of {len(part)}" in summary
        assert f"Verdicts: {recovered} recovered" in summary


# The regime map's page, its tables and their regeneration: tests/test_regime_docs.py.


def test_the_float64_refit_regenerates_from_the_committed_rows():
    """The refit of the cells judged non-identifiable: those very cells, under float64."""
    full = pd.read_csv(STATIC / "teacher_student_full_rows.csv")
    refit = pd.read_csv(STATIC / "teacher_student_borderline_float64_rows.csv")
    assert set(refit["protocol"]) == {"converged_float64"}
    keys = ["task", "hierarchy", "depth", "noise", "seed"]
    judged = full[(full["reference"] == "student") & (full["layer"] == 0)
                  & (full["verdict"] == "non-identifiable") & (full["task"] == "regression")
                  & (full["noise"] == 0)]
    refitted = refit[(refit["reference"] == "student") & (refit["layer"] == 0)]
    assert (sorted(map(tuple, judged[keys].to_numpy()))
            == sorted(map(tuple, refitted[keys].to_numpy())))
    computed = teacher_student.refit_comparison(task_metric(recovery_table(full)),
                                                task_metric(recovery_table(refit)))
    _assert_same(pd.read_csv(io.StringIO(computed.to_csv(index=False, float_format="%.4g"))),
                 pd.read_csv(STATIC / "teacher_student_borderline_float64_refit.csv"))
    times = pd.read_csv(STATIC / "teacher_student_borderline_float64_run_time.csv")
    argv = times["command"].iloc[0].split()[2:]
    _assert_same(teacher_student.run_time_table(recovery_table(refit), argv), times)
