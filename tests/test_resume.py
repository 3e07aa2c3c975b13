"""An interrupted study resumes (killed, rerun, only missing cells run); dask and ray == loky."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from sklearn_binn.study import KEY_COLUMNS  # noqa: E402

ROW_KEYS = [*KEY_COLUMNS, "reference", "layer"]


def _command(out, *extra):
    return [sys.executable, str(BENCHMARKS / "teacher_student.py"), "--tiny", "--out", str(out),
            *extra]


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cells_done(csv):
    if not csv.exists():
        return 0
    return len(pd.read_csv(csv).drop_duplicates(KEY_COLUMNS))


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_study_resumes_with_only_missing_cells(tmp_path, sig):
    out = tmp_path / "out"
    csv = out / "teacher_student.csv"
    # the study gets the default SIGINT disposition (Python's KeyboardInterrupt),
    # not the "ignored" that a process started in the background inherits
    process = subprocess.Popen(_command(out), cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, preexec_fn=_default_sigint)
    deadline = time.time() + 240
    while _cells_done(csv) < 3 and time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert process.poll() is None, "the study finished before it could be interrupted"
    process.send_signal(sig)
    process.wait(timeout=60)
    done_before = _cells_done(csv)
    assert 3 <= done_before < 12
    partial = pd.read_csv(csv)
    assert not partial.duplicated(ROW_KEYS).any()

    rerun = subprocess.run(_command(out), cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    final = pd.read_csv(csv)
    assert not final.duplicated(ROW_KEYS).any()
    assert len(final.drop_duplicates(KEY_COLUMNS)) == 12
    log = (out / "log.txt").read_text()
    assert f"{done_before} already in teacher_student.csv, running {12 - done_before}" in log
    # the rows written before the kill are kept as they were
    kept = final.merge(partial, on=ROW_KEYS, suffixes=("", "_before"))
    assert len(kept) == len(partial)
    pd.testing.assert_series_equal(kept["weight_recovery"], kept["weight_recovery_before"],
                                   check_names=False)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["dask", "ray"])
def test_cluster_backend_gives_the_same_table_as_loky(tmp_path, backend):
    """dask: a LocalCluster on loopback (2 workers); ray: a local Ray cluster (2 CPUs)."""
    pytest.importorskip("distributed" if backend == "dask" else "ray")
    extra = ["--tasks", "regression", "--n-jobs", "2"]
    tables = {}
    for name in ("loky", backend):
        out = tmp_path / name
        result = subprocess.run(_command(out, "--backend", name, *extra), cwd=tmp_path,
                                capture_output=True, text=True, timeout=400)
        assert result.returncode == 0, result.stderr[-2000:]
        assert f"backend={name}" in (out / "log.txt").read_text()
        table = pd.read_csv(out / "teacher_student.csv")
        tables[name] = table.sort_values(ROW_KEYS).reset_index(drop=True)
    timing = [c for c in tables["loky"].columns if "time" in c or c.endswith("_s")]
    pd.testing.assert_frame_equal(tables["loky"].drop(columns=timing),
                                  tables[backend].drop(columns=timing))


def test_results_are_written_with_the_umasks_permissions(tmp_path):
    # tempfile.mkstemp creates owner-only files; the written CSV must not keep that
    import os
    import stat

    import pandas as pd

    from sklearn_binn._utils import atomic_write

    target = tmp_path / "rows.csv"
    umask = os.umask(0o022)
    try:
        with atomic_write(target, "w", newline="") as stream:
            pd.DataFrame({"a": [1]}).to_csv(stream, index=False)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert target.read_text() == "a\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["rows.csv"]


def test_a_csv_that_pandas_wrote_back_still_resumes(tmp_path):
    # pandas reads an integer key column with a blank as floats and writes 100 back as
    # "100.0"; the cells of such a CSV are still done: keys compare by value, not by text
    from sklearn_binn.study import run_cells

    cells = [{"n_genes": n, "spe": s, "name": "a"} for n in (100, None) for s in (0.5, 10.0)]
    calls = []

    def worker(cell):
        calls.append(cell)
        return {"value": 1.0}

    csv = tmp_path / "rows.csv"
    run_cells(cells, worker, csv, ["n_genes", "spe", "name"])
    assert len(calls) == 4
    pd.read_csv(csv).to_csv(csv, index=False)  # what a user's notebook may do
    assert "100.0" in csv.read_text()
    table = run_cells(cells, worker, csv, ["n_genes", "spe", "name"])
    assert len(calls) == 4 and len(table) == 4  # nothing rerun, nothing doubled
    run_cells([*cells, {"n_genes": 100, "spe": 1.0, "name": "a"}], worker, csv,
              ["n_genes", "spe", "name"])
    assert len(calls) == 5 and calls[-1]["spe"] == 1.0  # a new cell still runs
