"""Tests of the shared benchmark runner (benchmarks/_common.py)."""

import os
import sys
from pathlib import Path

import pandas as pd
import pytest
from joblib import parallel_config, register_parallel_backend
from joblib._parallel_backends import ThreadingBackend

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # as `python benchmarks/<script>.py` does; workers inherit it

import _common  # noqa: E402,F401  (the scripts import it from benchmarks/)
from sklearn_binn.study import _runner  # noqa: E402  (the private helpers under test)
from _common import CellError, build_parser, print_summary, run_cells  # noqa: E402


def square(cell):
    return {"square": cell["n"] ** 2, "run": cell.get("run", 0), "pid": os.getpid()}


def square_fails_on_two(cell):
    if cell["n"] == 2:
        raise ZeroDivisionError("cell two is broken")
    return square(cell)


def three_rows(cell):
    return [{"rep": r, "value": cell["n"] * 10 + r} for r in range(3)]


def torch_threads_seen(cell):
    import torch

    return {"threads": torch.get_num_threads()}


def numbers(table, column="square"):
    return table.sort_values("n")[column].tolist()


def test_runs_every_cell_and_returns_the_table(tmp_path):
    csv = tmp_path / "out" / "squares.csv"
    table = run_cells([{"n": n} for n in range(4)], square, csv, ["n"])
    assert numbers(table) == [0, 1, 4, 9]
    pd.testing.assert_frame_equal(table, pd.read_csv(csv))
    assert list(table.columns[:2]) == ["n", "square"]
    log = (tmp_path / "out" / "log.txt").read_text()
    assert "4 cells, 0 already in squares.csv, running 4" in log
    assert "cell {'n': 3} done" in log


def test_resume_skips_finished_cells_and_never_duplicates(tmp_path):
    csv = tmp_path / "squares.csv"
    run_cells([{"n": n, "run": 1} for n in range(3)], square, csv, ["n"])
    table = run_cells([{"n": n, "run": 2} for n in range(5)], square, csv, ["n"])
    # cells 0-2 come from the first run, only 3 and 4 ran again
    assert numbers(table, "run") == [1, 1, 1, 2, 2]
    assert numbers(table) == [0, 1, 4, 9, 16]
    before = csv.read_bytes()
    again = run_cells([{"n": n, "run": 3} for n in range(5)], square, csv, ["n"])
    assert csv.read_bytes() == before
    assert len(again) == 5 and not again.duplicated(["n"]).any()
    assert "5 already in squares.csv, running 0" in (tmp_path / "log.txt").read_text()


@pytest.mark.parametrize("value", [1, 2.5, 1e-5, True, "tanh", None, 3.0])
def test_resume_recognises_every_key_type(tmp_path, value):
    csv = tmp_path / "cells.csv"
    cells = [{"n": 1, "k": value}, {"n": 2, "k": "other"}]
    run_cells(cells, square, csv, ["n", "k"])
    before = csv.read_bytes()
    table = run_cells(cells, square, csv, ["n", "k"])
    assert csv.read_bytes() == before and len(table) == 2


def test_several_rows_per_cell(tmp_path):
    csv = tmp_path / "rows.csv"
    table = run_cells([{"n": 1}, {"n": 2}], three_rows, csv, ["n"])
    assert sorted(table["value"]) == [10, 11, 12, 20, 21, 22]
    assert table.groupby("n").size().tolist() == [3, 3]
    assert len(run_cells([{"n": 1}, {"n": 2}], three_rows, csv, ["n"])) == 6


def test_worker_exception_is_reported_with_its_cell(tmp_path):
    csv = tmp_path / "squares.csv"
    cells = [{"n": n} for n in range(4)]
    with pytest.raises(CellError, match=r"1 benchmark cell\(s\) failed") as info:
        run_cells(cells, square_fails_on_two, csv, ["n"])
    assert info.value.cells == [{"n": 2}]
    assert "cell {'n': 2}: ZeroDivisionError: cell two is broken" in str(info.value)
    # the other cells are saved, and the log has the traceback
    assert numbers(pd.read_csv(csv)) == [0, 1, 9]
    log = (tmp_path / "log.txt").read_text()
    assert "cell {'n': 2} failed" in log and "Traceback" in log
    # a rerun only retries the failed cell
    table = run_cells(cells, square, csv, ["n"])
    assert numbers(table) == [0, 1, 4, 9]


def test_loky_two_jobs_gives_the_same_rows_as_one(tmp_path):
    cells = [{"n": n} for n in range(6)]
    serial = run_cells(cells, square, tmp_path / "serial.csv", ["n"], n_jobs=1)
    parallel = run_cells(cells, square, tmp_path / "parallel.csv", ["n"], n_jobs=2,
                         backend="loky")
    columns = ["n", "square", "run"]
    pd.testing.assert_frame_equal(
        serial.sort_values("n")[columns].reset_index(drop=True),
        parallel.sort_values("n")[columns].reset_index(drop=True),
    )
    assert set(parallel["pid"]).isdisjoint({os.getpid()})


def test_loky_worker_failure_is_reported(tmp_path):
    with pytest.raises(CellError) as info:
        run_cells([{"n": n} for n in range(4)], square_fails_on_two, tmp_path / "f.csv", ["n"],
                  n_jobs=2)
    assert info.value.cells == [{"n": 2}]
    assert "ZeroDivisionError" in info.value.failures[0][1]


@pytest.mark.slow
def test_dask_local_cluster(tmp_path):
    pytest.importorskip("dask.distributed")
    table = run_cells([{"n": n} for n in range(3)], square, tmp_path / "d.csv", ["n"],
                      n_jobs=2, backend="dask")
    assert numbers(table) == [0, 1, 4]


def test_ray_backend_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "ray.util.joblib", None)
    with pytest.raises(ImportError, match="backend 'ray' needs Ray"):
        run_cells([{"n": 1}], square, tmp_path / "r.csv", ["n"], backend="ray")


class ListOnlyBackend(ThreadingBackend):
    """A joblib backend that, like Ray's, cannot stream results."""

    supports_return_generator = False


def square_interrupted_at_five(cell):
    if cell["n"] == 5:
        raise KeyboardInterrupt
    return square(cell)


def test_backend_without_streaming_yields_round_by_round():
    register_parallel_backend("list_only", ListOnlyBackend)
    cells = [{"n": n} for n in range(8)]
    with parallel_config(backend="list_only", n_jobs=2):
        outcomes = _runner._outcomes_as_they_finish(cells, square, None, 2)
        assert [o["rows"]["square"] for o in outcomes] == [n * n for n in range(8)]
        # rounds of 2 * n_jobs = 4 cells: an interrupt in the second round leaves the
        # first round's outcomes delivered (run_cells saves each one as it arrives)
        delivered = []
        with pytest.raises(KeyboardInterrupt):
            for outcome in _runner._outcomes_as_they_finish(
                cells, square_interrupted_at_five, None, 2
            ):
                delivered.append(outcome["cell"]["n"])
    assert delivered == [0, 1, 2, 3]


def test_scheduler_needs_dask(tmp_path):
    with pytest.raises(ValueError, match="needs --backend dask"):
        run_cells([{"n": 1}], square, tmp_path / "s.csv", ["n"], scheduler="tcp://x:1")


@pytest.mark.parametrize("threads", [1, 2, None])
def test_torch_threads_per_worker(tmp_path, threads):
    import torch

    before = torch.get_num_threads()
    table = run_cells([{"n": 1}], torch_threads_seen, tmp_path / "t.csv", ["n"],
                      torch_threads=threads)
    assert table["threads"].item() == (before if threads is None else threads)
    assert torch.get_num_threads() == before


def test_a_failed_write_leaves_the_old_csv(tmp_path, monkeypatch):
    csv = tmp_path / "squares.csv"
    run_cells([{"n": 0}], square, csv, ["n"])
    before = csv.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(_runner.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        run_cells([{"n": 0}, {"n": 1}], square, csv, ["n"])
    assert csv.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.txt", "squares.csv",
                                                          "squares.csv.lock"]


def test_invalid_cells(tmp_path):
    with pytest.raises(ValueError, match="lacks key column"):
        run_cells([{"m": 1}], square, tmp_path / "x.csv", ["n"])
    with pytest.raises(ValueError, match="Two cells share the key"):
        run_cells([{"n": 1, "a": 1}, {"n": 1, "a": 2}], square, tmp_path / "x.csv", ["n"])
    with pytest.raises(CellError, match="must return a dict"):
        run_cells([{"n": 1}], lambda cell: 42, tmp_path / "y.csv", ["n"])
    with pytest.raises(CellError, match="changed key column"):
        run_cells([{"n": 1}], lambda cell: {"n": 5}, tmp_path / "z.csv", ["n"])


def test_csv_of_another_grid_is_refused(tmp_path):
    csv = tmp_path / "other.csv"
    pd.DataFrame({"x": [1]}).to_csv(csv, index=False)
    with pytest.raises(ValueError, match=r"has no column\(s\) \['n'\]"):
        run_cells([{"n": 1}], square, csv, ["n"])


def test_parser(capsys):
    parser = build_parser("/somewhere/benchmarks/speed.py", "What it measures.")
    args = parser.parse_args([])
    assert (args.quick, args.out, args.n_jobs, args.backend, args.scheduler) == (
        False, Path("speed"), 1, "loky", None)
    args = parser.parse_args(["--quick", "--out", "res", "--n-jobs", "2", "--backend", "dask",
                              "--scheduler", "tcp://127.0.0.1:8786"])
    assert (args.quick, args.out, args.n_jobs, args.backend, args.scheduler) == (
        True, Path("res"), 2, "dask", "tcp://127.0.0.1:8786")
    with pytest.raises(SystemExit):
        parser.parse_args(["--backend", "spark"])
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    text = capsys.readouterr().out
    for option in ("--quick", "--out DIR", "--n-jobs N", "--backend {loky,dask,ray}",
                   "What it measures."):
        assert option in text


def test_print_summary(tmp_path, capsys):
    table = pd.DataFrame({"impl": ["sparse", "dense"], "ms": [1.23456, 100.0]})
    text = print_summary(table, title="Layer", out_dir=tmp_path)
    assert capsys.readouterr().out == text + "\n"
    assert text.splitlines()[:2] == ["Layer", "====="]
    assert "1.235" in text and "sparse" in text
    assert (tmp_path / "summary.txt").read_text() == text + "\n"


SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_"))


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_lists_the_shared_options(script):
    import subprocess

    done = subprocess.run([sys.executable, str(BENCHMARKS / script), "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for option in ("--quick", "--out DIR", "--n-jobs N", "--backend {loky,dask,ray}"):
        assert option in done.stdout
