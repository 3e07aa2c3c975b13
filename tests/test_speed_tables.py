"""The docs tables of benchmarks/speed.py's layers part, parts (a)-(g) and targets.

``python benchmarks/speed.py --docs-tables DIR`` writes ``DIR/speed_<name>.csv``
for docs/speed.rst. Here a small synthetic ``speed.csv`` (every kind of cell the
part measures, one and two threads) goes through the script's own summarising
functions and ``main()`` (with the measurements replaced by that frame), and
every written cell is checked against the frame's values, ratios and log-log
slopes computed here independently (numpy, scipy).
"""

import datetime
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _docs_pages import import_benchmark
from scipy import stats

LAYER_GENES = (1000, 5000)
EPOCH_GENES = (1000, 2000, 5000)
OVERLAPS = (1.0, 2.0, 4.0)
EDGE_GENES = 1000
BINN_PATHWAYS = "4426-2658-1128-308"
DOCS_NAMES = {"layer", "epoch", "memory", "binn", "scaling", "targets"}


@pytest.fixture(scope="module")
def speed():
    return import_benchmark("speed")


def synthetic_run(with_binn=True, seed=0):
    """A speed.csv of the layers part: random times, memory and rates, read back from CSV."""
    rng = np.random.default_rng(seed)
    rows = []

    def add(kind, impl, n_genes, threads, overlap=np.nan, cpu=True, **extra):
        seconds = float(rng.uniform(1e-4, 2.0))
        rows.append({"kind": kind, "impl": impl, "n_genes": n_genes, "overlap": overlap,
                     "threads": threads, "seconds": seconds,
                     "cpu_seconds": seconds * rng.uniform(0.8, 1.0) if cpu else np.nan,
                     **extra})

    for threads in (1, 2):
        for n in LAYER_GENES:
            for impl in ("sparse", "dense", "floor"):
                add("layer", impl, n, threads, n_pathways=str(n // 5), n_edges=4 * n + 34,
                    n_params=int(rng.integers(1_000, 10_000_000)))
        for n in EPOCH_GENES:
            impls = ("sparse", "dense", "estimator") if n == 5000 else ("sparse", "dense")
            for impl in impls:
                add("epoch", impl, n, threads, cpu=impl != "estimator",
                    n_pathways=f"{n // 5}-{n // 17}-{n // 59}-{n // 200}",
                    n_edges=4 * n + 312, n_params=int(rng.integers(1_000, 100_000_000)),
                    peak_mib=float(rng.uniform(1, 3000)),
                    samples_per_second=float(rng.uniform(100, 4e5)),
                    final_loss=float(rng.uniform(0.6, 0.7)),
                    max_abs_diff=float(rng.uniform(0, 1e-7)) if impl == "dense" else 0.0)
        for overlap in OVERLAPS:
            add("edges", "sparse", EDGE_GENES, threads, overlap=overlap,
                n_pathways="195-58-17-5", n_edges=int(1274 * overlap),
                n_params=int(1274 * overlap) + 275, peak_mib=2.0,
                samples_per_second=3e5, final_loss=0.69, max_abs_diff=0.0)
        if with_binn:
            for impl in ("binn", "sparse"):
                add("binn", impl, 13624, threads, n_pathways=BINN_PATHWAYS, n_edges=54274,
                    n_params=int(rng.integers(10_000, 100_000_000)),
                    peak_mib=float(rng.uniform(10, 3000)),
                    samples_per_second=float(rng.uniform(100, 1e4)),
                    final_loss=0.69, max_abs_diff=0.0)
    frame = pd.DataFrame(rows)
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)))  # as run_cells reads it


def number(cell):
    """A written cell as a number ('4,034' -> 4034.0; '–' -> nan)."""
    return np.nan if cell == "–" else float(cell.replace(",", ""))


def assert_cell(cell, expected):
    """The cell is ``expected`` to three significant digits (whole numbers from 100)."""
    if not np.isfinite(expected):
        assert cell == "–"
        return
    value = number(cell)
    if abs(expected) >= 100:
        assert value == np.round(expected), (cell, expected)
    else:
        assert value == pytest.approx(expected, rel=5e-3, abs=0), (cell, expected)


def one(run, kind, impl, n_genes, threads=1):
    rows = run[(run["kind"] == kind) & (run["impl"] == impl) & (run["n_genes"] == n_genes)
               & (run["threads"] == threads)]
    assert len(rows) <= 1
    return rows.iloc[0] if len(rows) else None


def value(row, column):
    return np.nan if row is None else float(row[column])


@pytest.fixture(scope="module")
def written(speed, tmp_path_factory):
    """The docs tables main() writes from the synthetic run, read back as text."""
    run = synthetic_run()
    tables = speed.summary_tables(run)
    docs = speed.docs_layer_tables(tables, None)
    out = tmp_path_factory.mktemp("speed")
    speed.write_tables(docs, out, quick=False, docs_dir=out / "docs")
    assert {p.name for p in (out / "docs").iterdir()} == {f"speed_{n}.csv" for n in DOCS_NAMES}
    read = {name: pd.read_csv(out / "docs" / f"speed_{name}.csv", dtype=str,
                              keep_default_na=False) for name in DOCS_NAMES}
    for name in DOCS_NAMES:  # table_<name>.csv in --out holds the same
        pd.testing.assert_frame_equal(
            pd.read_csv(out / f"table_{name}.csv", dtype=str, keep_default_na=False),
            read[name])
    return run, read


def test_layer_table(written):
    run, read = written
    table = read["layer"]
    assert list(table["genes"]) == ["1,000", "5,000"]  # one thread only, in order
    for _, row in table.iterrows():
        n = int(number(row["genes"]))
        sparse, dense, floor = (one(run, "layer", impl, n)
                                for impl in ("sparse", "dense", "floor"))
        assert number(row["edges"]) == sparse["n_edges"]
        assert number(row["pathways"]) == int(sparse["n_pathways"])
        assert_cell(row["sparse ms"], 1e3 * sparse["seconds"])
        assert_cell(row["dense ms"], 1e3 * dense["seconds"])
        assert_cell(row["floor ms"], 1e3 * floor["seconds"])
        assert_cell(row["dense/sparse"], dense["seconds"] / sparse["seconds"])
        assert_cell(row["sparse/floor"], sparse["seconds"] / floor["seconds"])
        assert_cell(row["sparse CPU ms"], 1e3 * sparse["cpu_seconds"])
        assert_cell(row["dense/sparse CPU"], dense["cpu_seconds"] / sparse["cpu_seconds"])
        assert_cell(row["sparse/floor CPU"], sparse["cpu_seconds"] / floor["cpu_seconds"])


def test_epoch_and_memory_tables(written):
    run, read = written
    epoch, memory = read["epoch"], read["memory"]
    assert list(epoch["genes"]) == list(memory["genes"]) == ["1,000", "2,000", "5,000"]
    for (_, row), (_, mem) in zip(epoch.iterrows(), memory.iterrows()):
        n = int(number(row["genes"]))
        sparse, dense = one(run, "epoch", "sparse", n), one(run, "epoch", "dense", n)
        skorch = one(run, "epoch", "estimator", n)
        assert (skorch is None) == (n != 5000)
        assert number(row["edges"]) == number(mem["edges"]) == sparse["n_edges"]
        assert_cell(row["sparse s"], sparse["seconds"])
        assert_cell(row["dense s"], dense["seconds"])
        assert_cell(row["skorch s"], value(skorch, "seconds"))
        assert_cell(row["dense/sparse wall"], dense["seconds"] / sparse["seconds"])
        assert_cell(row["dense/sparse CPU"], dense["cpu_seconds"] / sparse["cpu_seconds"])
        assert_cell(row["final loss diff"], abs(dense["final_loss"] - sparse["final_loss"]))
        assert_cell(row["max initial output diff"], dense["max_abs_diff"])
        assert number(mem["sparse params"]) == sparse["n_params"]
        assert number(mem["dense params"]) == dense["n_params"]
        assert_cell(mem["sparse MiB"], sparse["peak_mib"])
        assert_cell(mem["dense MiB"], dense["peak_mib"])
        assert_cell(mem["skorch MiB"], value(skorch, "peak_mib"))
        assert_cell(mem["dense/sparse MiB"], dense["peak_mib"] / sparse["peak_mib"])
        assert_cell(mem["sparse samples/s"], sparse["samples_per_second"])
        assert_cell(mem["dense samples/s"], dense["samples_per_second"])


def test_binn_table(written):
    run, read = written
    table = read["binn"]
    assert list(table["threads"]) == ["1", "2"]
    for _, row in table.iterrows():
        threads = int(row["threads"])
        binn, sparse = (one(run, "binn", impl, 13624, threads) for impl in ("binn", "sparse"))
        assert row["inputs"] == "13,624"
        assert row["pathways"] == "4,426 → 2,658 → 1,128 → 308"
        assert number(row["edges"]) == 54274
        assert number(row["binn params"]) == binn["n_params"]
        assert number(row["sparse params"]) == sparse["n_params"]
        assert_cell(row["binn/sparse params"], binn["n_params"] / sparse["n_params"])
        assert_cell(row["binn s"], binn["seconds"])
        assert_cell(row["sparse s"], sparse["seconds"])
        assert_cell(row["binn/sparse wall"], binn["seconds"] / sparse["seconds"])
        assert_cell(row["binn/sparse CPU"], binn["cpu_seconds"] / sparse["cpu_seconds"])
        assert_cell(row["binn MiB"], binn["peak_mib"])
        assert_cell(row["binn/sparse MiB"], binn["peak_mib"] / sparse["peak_mib"])
        assert_cell(row["sparse samples/s"], sparse["samples_per_second"])


def test_scaling_table(written):
    run, read = written
    table = read["scaling"].set_index("series")
    single = run[run["threads"] == 1]
    epochs = single[single["kind"] == "epoch"]
    expected = {f"{impl}, 1,000 → 5,000 genes": epochs[epochs["impl"] == impl]
                for impl in ("sparse", "dense")}
    expected["sparse, 1,274 → 5,096 edges (1,000 genes)"] = single[single["kind"] == "edges"]
    assert list(table.index) == list(expected)
    for label, rows in expected.items():
        x = rows["n_edges" if "edges" in label else "n_genes"]
        for clock, column in (("wall", "seconds"), ("CPU", "cpu_seconds")):
            slope = stats.linregress(np.log(x), np.log(rows[column])).slope
            assert_cell(table.loc[label, f"slope, {clock}"], slope)


def test_targets_table(speed, written):
    run, read = written
    table = read["targets"].set_index("target (DESIGN.md), one thread, largest size")
    layer = {impl: one(run, "layer", impl, 5000) for impl in ("sparse", "dense", "floor")}
    epoch = {impl: one(run, "epoch", impl, 5000) for impl in ("sparse", "dense")}
    binn = {impl: one(run, "binn", impl, 13624) for impl in ("binn", "sparse")}
    checks = {  # name: (numerator, denominator, target, larger is better)
        "layer: dense-masked / sparse, 5,000 genes": (layer["dense"], layer["sparse"], 25, 1),
        "layer: sparse / GEMM floor, 5,000 genes": (layer["sparse"], layer["floor"], 10, 0),
        "epoch: dense-masked / sparse, 5,000 genes": (epoch["dense"], epoch["sparse"], 10, 1),
        "epoch: binn / sparse on binn's network": (binn["binn"], binn["sparse"], 30, 1),
    }
    assert list(table.index) == list(checks)
    for name, (top, bottom, target, larger) in checks.items():
        wall, cpu = (top[c] / bottom[c] for c in ("seconds", "cpu_seconds"))
        shown, shown_cpu = table.loc[name, "measured"].split(" (CPU ")
        assert_cell(shown, wall)
        assert_cell(shown_cpu.rstrip(")"), cpu)
        assert table.loc[name, "target"] == f"{'≥' if larger else '≤'} {target}"
        met = [(v >= target) if larger else (v <= target) for v in (wall, cpu)]
        words = {(True, True): "yes", (False, False): "no", (True, False): "wall yes, CPU no",
                 (False, True): "wall no, CPU yes"}
        assert table.loc[name, "met"] == words[tuple(met)]


def test_targets_mixed_clocks(speed):
    # wall time meets the layer target, CPU time does not: the page says which
    run = synthetic_run(with_binn=False)
    pick = (run["kind"] == "layer") & (run["n_genes"] == 5000) & (run["threads"] == 1)
    run.loc[pick & (run["impl"] == "sparse"), ["seconds", "cpu_seconds"]] = [0.001, 0.001]
    run.loc[pick & (run["impl"] == "dense"), ["seconds", "cpu_seconds"]] = [0.030, 0.020]
    targets = speed.docs_layer_tables(speed.summary_tables(run), None)["targets"]
    row = targets.iloc[0]
    assert row["target (DESIGN.md), one thread, largest size"] == (
        "layer: dense-masked / sparse, 5,000 genes")
    assert (row["measured"], row["met"]) == ("30 (CPU 20)", "wall yes, CPU no")


def test_without_binn_the_table_says_why(speed):
    docs = speed.docs_layer_tables(speed.summary_tables(synthetic_run(with_binn=False)),
                                   "not run: --no-binn")
    assert docs["binn"].to_dict("list") == {"binn 0.1.1": ["not run: --no-binn"]}
    assert "binn" not in " ".join(docs["targets"].iloc[:, 0])


def test_run_info_table(speed):
    started = datetime.datetime(2026, 12, 2, 4, 5, tzinfo=datetime.timezone.utc)
    info = speed.run_info_table("python benchmarks/speed.py --quick", started,
                                (5.31, 6.0, 7.0), (9.0, 8.5, 8.0), 1830.0)
    info = info.set_index("item")["value"]
    assert info["command"] == "python benchmarks/speed.py --quick"
    assert info["date"] == "2026-12-02 04:05 UTC"
    assert info["load average at the start"] == "5.3, 6.0, 7.0"
    assert info["load average at the end"] == "9.0, 8.5, 8.0"
    assert info["wall time"] == "30.5 min"
    assert info["CPUs"].startswith(f"{__import__('os').cpu_count()} (")
    import torch
    assert f"torch {torch.__version__}" in info["versions"]
    with pytest.raises(ValueError, match="os.getloadavg"):
        speed.run_info_table("x", started, (1.0,), (1.0, 2.0, 3.0), 1.0)


def test_main_writes_the_layers_docs_tables(speed, tmp_path, monkeypatch):
    # the measurements replaced by the synthetic run: main()'s own wiring of the part
    run = synthetic_run(with_binn=False)
    monkeypatch.setattr(speed, "run_cells", lambda *args, **kwargs: run)
    argv = ["--quick", "--no-binn", "--parts", "layers", "--out", str(tmp_path / "out"),
            "--docs-tables", str(tmp_path / "docs")]
    assert speed.main(argv) == 0
    names = {p.name for p in (tmp_path / "docs").iterdir()}
    assert names == {f"speed_{n}.csv" for n in DOCS_NAMES | {"run_info"}}
    layer = pd.read_csv(tmp_path / "docs" / "speed_layer.csv", dtype=str)
    sparse = one(run, "layer", "sparse", 5000)
    dense = one(run, "layer", "dense", 5000)
    assert_cell(layer["dense/sparse"].iloc[-1], dense["seconds"] / sparse["seconds"])
    info = pd.read_csv(tmp_path / "docs" / "speed_run_info.csv").set_index("item")["value"]
    assert info["command"].startswith("python benchmarks/speed.py --quick --no-binn")
    assert (tmp_path / "out" / "table_layer_quick.csv").exists()


def test_a_run_without_the_layers_part_writes_its_own_run_info(speed, tmp_path, monkeypatch):
    # the committed rows of part (i) stand in for its measurements
    static = Path(__file__).resolve().parents[1] / "docs" / "_static"
    rows = pd.read_csv(static / "speed_small_rows.csv")
    monkeypatch.setattr(speed, "run_part", lambda *args, **kwargs: rows)
    argv = ["--parts", "small", "--out", str(tmp_path / "out"),
            "--docs-tables", str(tmp_path / "docs")]
    assert speed.main(argv) == 0
    names = {p.name for p in (tmp_path / "docs").iterdir()}
    # the layers run's info is not overwritten by a run that did not measure it
    assert names == {"speed_small.csv", "speed_fit_targets.csv", "speed_run_info_small.csv"}
    info = pd.read_csv(tmp_path / "docs" / "speed_run_info_small.csv").set_index("item")
    assert info.loc["command", "value"].startswith("python benchmarks/speed.py --parts small")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "docs" / "speed_small.csv"),
                                  speed.summarise_small(rows).astype(object).pipe(
                                      lambda f: pd.read_csv(io.StringIO(f.to_csv(index=False)))))


def test_fit_targets_from_the_small_and_reactome_rows(speed):
    rng = np.random.default_rng(0)
    medians = dict(zip(["mlp128", "binn128", "loop4000", "binn4000"], rng.uniform(5, 50, 4)))
    small = pd.DataFrame({
        "batch": ["128", "128", "128", "4000", "4000", "4000"],
        "impl": ["sklearn MLPRegressor", "BINNRegressor", "BINNRegressor", "torch loop",
                 "BINNRegressor", "BINNRegressor"],
        "kernel": ["-", "auto", "csr", "auto", "auto", "dense"],
        "median_ms": [str(v) for v in (medians["mlp128"], medians["binn128"], 999.0,
                                       medians["loop4000"], medians["binn4000"], 999.0)],
    })
    reactome = pd.DataFrame({"threads": ["2", "2"], "impl": ["skip edges", "copies"],
                             "fit_50_epochs_s": ["29.5", "70.0"]})
    table = speed.fit_targets(small, reactome).set_index("check")
    assert len(table) == 3
    small_128, full, whole = table.index
    assert table.loc[small_128, "measured"] == pytest.approx(
        medians["binn128"] / medians["mlp128"], abs=1e-3)
    assert table.loc[small_128, "met"] == (medians["binn128"] <= medians["mlp128"])
    assert "4,000" in full
    assert table.loc[full, "measured"] == pytest.approx(
        medians["binn4000"] / medians["loop4000"], abs=1e-3)
    assert "2 thread" in whole and table.loc[whole, "measured"] == 29.5
    assert table.loc[whole, "met"]
    assert speed.fit_targets().empty
