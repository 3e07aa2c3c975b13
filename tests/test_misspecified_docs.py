"""The misspecified-wiring page's numbers are its committed CSVs, and they regenerate from the rows.

``docs/misspecified.rst`` types no number from a run: every table is a CSV under
``docs/_static`` that ``benchmarks/misspecified.py --docs full`` wrote, and the run's
rows are committed next to them (``misspecified_full_rows.csv``). Recomputing the
tables from the rows, with the command the run-time table records, must give the
committed tables, number for number. The functions that make the tables are also
checked on small synthetic rows against computations written out here.
"""

import io
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "docs" / "_static"
PAGE = ROOT / "docs" / "misspecified.rst"
RUN = "full"
sys.path.insert(0, str(ROOT / "benchmarks"))

import misspecified  # noqa: E402
from _docs_pages import assert_no_typed_table, assert_same_table, table_files  # noqa: E402


def _as_written(frame, float_format="%.4g", index=False):
    """A table as the script writes it and as the docs read it back."""
    return pd.read_csv(io.StringIO(frame.to_csv(index=index, float_format=float_format)))


def _static(name):
    return STATIC / f"misspecified_{RUN}_{name}"


# ---------------------------------------------------------------- the page


def test_every_table_of_the_page_exists():
    files = table_files(PAGE)
    assert [str(f) for f in files if not f.exists()] == []
    for name in ("run_time.csv", "wiring.csv", "ranking.csv"):
        assert _static(name) in files
    assert len(files) == len(re.findall(r"\.\. csv-table::", PAGE.read_text()))


def test_every_figure_and_download_of_the_page_exists():
    text = PAGE.read_text()
    figures = re.findall(r"\.\. figure:: (\S+)", text)
    assert figures and [f for f in figures if not (PAGE.parent / f).exists()] == []
    downloads = re.findall(r":download:`[^`<]*<([^>]+)>`", text)
    assert downloads and [f for f in downloads if not (PAGE.parent / f).exists()] == []


def test_the_page_has_no_hand_typed_table_and_no_typed_run_time():
    assert_no_typed_table(PAGE)
    text = PAGE.read_text()
    assert not re.search(r"\d+\s*min\s*\d+\s*s\b", text)
    assert not re.search(r"\b\d\d:\d\d:\d\d\b", text)


def test_the_page_is_in_the_user_guide_after_the_teacher_student_study():
    toctree = (ROOT / "docs" / "user_guide.rst").read_text().split()
    assert toctree.index("misspecified") == toctree.index("teacher_student") + 1


# ------------------------------------------------- committed tables regenerate


@pytest.fixture(scope="module")
def run():
    times = pd.read_csv(_static("run_time.csv"))
    command = times["command"].iloc[0].split()
    assert command[:2] == ["python", "benchmarks/misspecified.py"]
    argv = command[2:]
    cells = misspecified.make_grid(misspecified.build_arg_parser().parse_args(argv))
    rows = misspecified.read_rows(misspecified.select_rows(pd.read_csv(_static("rows.csv")),
                                                           cells))
    return {"argv": argv, "cells": cells, "rows": rows, "times": times}


def test_the_committed_rows_are_the_run_s_cells(run):
    committed = pd.read_csv(_static("rows.csv"))
    assert len(run["rows"]) == len(committed)  # no row of another run
    per_cell = run["rows"].groupby(misspecified.KEY_COLUMNS).size()
    # one row per pathway layer and attribution method
    assert (per_cell == 2 * len(misspecified.METHODS)).all()
    done = run["times"].set_index("protocol").loc["all", "n_done"]
    assert len(per_cell) == done


def test_the_summary_regenerates_from_the_committed_rows(run):
    summary = misspecified.summarise(run["rows"])
    assert_same_table(_as_written(summary, index=True), pd.read_csv(_static("summary.csv")))


def test_the_wiring_and_ranking_tables_regenerate_from_the_committed_rows(run):
    assert_same_table(_as_written(misspecified.wiring_table(run["rows"])),
                      pd.read_csv(_static("wiring.csv")))
    assert_same_table(_as_written(misspecified.ranking_table(run["rows"])),
                      pd.read_csv(_static("ranking.csv")))


def test_the_run_time_table_regenerates_from_the_committed_rows(run):
    times = misspecified.run_time_table(run["rows"], run["cells"], run["argv"])
    assert_same_table(_as_written(times), run["times"])
    everything = run["times"].set_index("protocol").loc["all"]
    assert everything["n_cells"] == len(run["cells"])
    assert everything["n_done"] + everything["n_missing"] == everything["n_cells"]


def test_the_reference_point_holds_in_the_committed_rows(run):
    true = run["rows"][run["rows"]["wiring"] == "true"]
    assert len(true) and (true["n_false"] == 0).all() and (true["n_missing"] == 0).all()
    assert (true["false_weight_share"] == 0).all()


# ------------------------------------------------ the functions, on small rows


def _rows(seed=0):
    """Synthetic rows: 2 protocols x 2 wirings x 3 seeds x 2 layers x 2 methods."""
    rng = np.random.default_rng(seed)
    records = []
    for protocol in ("converged", "practice"):  # deliberately not in the study's order
        for wiring in ("rewired", "true"):
            for s in range(3):
                r2 = rng.uniform(0.5, 1.0)
                fit_time = rng.uniform(1, 10)
                for layer in (0, 1):
                    shared = rng.uniform(0.5, 1.0)
                    false_edges = 0.0 if wiring == "true" or layer == 1 else rng.uniform(0.3, 0.5)
                    false_weight = false_edges * rng.uniform(0.5, 1.5)
                    auc = np.nan if false_edges == 0 else rng.uniform(0.3, 0.8)
                    for method in ("deeplift", "gradient_x_input"):
                        records.append({
                            "task": "regression", "protocol": protocol, "wiring": wiring,
                            "n_genes": 30, "depth": 2, "samples_per_edge": 10.0,
                            "n_test": 500, "seed": s, "layer": layer, "method": method,
                            "converged": bool(rng.integers(2)), "fit_time_s": fit_time,
                            "r2_vs_teacher": r2, "excess_loss": r2 / 10,
                            "shared_recovery": shared,
                            "false_edge_fraction": false_edges,
                            "false_weight_share": false_weight,
                            "weight_auc": auc, "attribution_auc": auc and auc / 2,
                            "importance_spearman": rng.uniform(0.5, 1.0),
                            "importance_spearman_chance": rng.uniform(-0.2, 0.2),
                            "activation_recovery": rng.uniform(0.5, 1.0),
                            "importance_top_k_overlap": rng.uniform(0.5, 1.0),
                            "importance_rank_recovered": rng.uniform(0.5, 1.0),
                        })
    return pd.DataFrame(records)


def test_ranking_table_counts_each_seed_and_method_once():
    rows = _rows()
    table = misspecified.ranking_table(rows, weight_threshold=0.75, ranking_threshold=0.8)
    assert table[["protocol", "wiring"]].drop_duplicates().values.tolist() == [
        ["practice", "true"], ["practice", "rewired"],
        ["converged", "true"], ["converged", "rewired"]]
    for _, got in table.iterrows():
        mine = rows[(rows["protocol"] == got["protocol"]) & (rows["wiring"] == got["wiring"])
                    & (rows["layer"] == got["layer"])]
        counts = {"both": 0, "ranking_only": 0, "weights_only": 0, "neither": 0}
        for _, r in mine.iterrows():
            w, k = r["shared_recovery"] >= 0.75, r["importance_spearman"] >= 0.8
            counts["both" if w and k else "ranking_only" if k else
                   "weights_only" if w else "neither"] += 1
        assert got["n_readings"] == len(mine) == 6
        for name, count in counts.items():
            assert got[name] == pytest.approx(count / 6)
        weights = [mine[mine["seed"] == s]["shared_recovery"].iloc[0] for s in range(3)]
        spear = [mine[mine["seed"] == s]["importance_spearman"].mean() for s in range(3)]
        assert got["weight_recovery"] == pytest.approx(np.mean(weights))
        assert got["weight_recovery_sd"] == pytest.approx(np.std(weights, ddof=1))
        assert got["spearman"] == pytest.approx(np.mean(spear))
        assert got["spearman_sd"] == pytest.approx(np.std(spear, ddof=1))
        assert got["spearman_chance"] == pytest.approx(mine["importance_spearman_chance"].mean())


def test_ranking_table_leaves_out_readings_without_a_number():
    rows = _rows()
    rows.loc[0, "importance_spearman"] = np.nan
    table = misspecified.ranking_table(rows)
    first = rows.iloc[0]
    got = table[(table["protocol"] == first["protocol"]) & (table["wiring"] == first["wiring"])
                & (table["layer"] == first["layer"])].iloc[0]
    assert got["n_readings"] == 5
    assert got[["both", "ranking_only", "weights_only", "neither"]].sum() == pytest.approx(1)


def test_wiring_table_is_the_perturbed_layer_s_numbers_over_seeds():
    rows = _rows()
    table = misspecified.wiring_table(rows)
    assert len(table) == 4
    for _, got in table.iterrows():
        mine = rows[(rows["protocol"] == got["protocol"]) & (rows["wiring"] == got["wiring"])
                    & (rows["layer"] == 0) & (rows["method"] == "deeplift")]
        assert got["n_seeds"] == 3
        assert got["converged"] == pytest.approx(mine["converged"].mean())
        for column, name in misspecified.WIRING_COLUMNS.items():
            values = mine[column].to_numpy(float)
            if np.isnan(values).all():
                assert np.isnan(got[name])
                continue
            assert got[name] == pytest.approx(values.mean())
            if name != "false_edges":
                assert got[f"{name}_sd"] == pytest.approx(values.std(ddof=1))
    true = table[table["wiring"] == "true"]
    assert (true["false_edges"] == 0).all() and true["weight_auc"].isna().all()


def test_run_time_table_counts_cells_per_protocol_and_says_partial():
    rows = _rows()
    rows = rows[~((rows["protocol"] == "practice") & (rows["seed"] == 2))]
    args = misspecified.build_arg_parser().parse_args(
        ["--tasks", "regression", "--protocols", "practice", "converged",
         "--wirings", "true", "rewired", "--n-genes", "30"])
    cells = misspecified.make_grid(args)
    times = misspecified.run_time_table(rows, cells, ["--n-genes", "30", "--render-only",
                                                      "--out", "x", "--docs", "full"])
    times = times.set_index("protocol")
    assert times.loc["practice", ["n_cells", "n_done", "n_missing"]].tolist() == [6, 4, 2]
    assert times.loc["practice", "status"] == "partial: 4 of 6 cells"
    assert times.loc["converged", "status"] == "complete"
    assert times.loc["all", "status"] == "partial: 10 of 12 cells"
    per_cell = rows.drop_duplicates(["protocol", "wiring", "seed"])
    practice = per_cell[per_cell["protocol"] == "practice"]["fit_time_s"]
    assert times.loc["practice", "fit_time_total_s"] == pytest.approx(practice.sum())
    assert times.loc["practice", "fit_time_max_s"] == pytest.approx(practice.max())
    assert times.loc["all", "fit_time_mean_s"] == pytest.approx(per_cell["fit_time_s"].mean())
    assert times.loc["all", "command"] == "python benchmarks/misspecified.py --n-genes 30"


def test_select_rows_matches_cells_to_rows_read_back_from_csv():
    rows = _rows()
    cells = misspecified.make_grid(misspecified.build_arg_parser().parse_args(
        ["--tasks", "regression", "--protocols", "practice", "--wirings", "true",
         "--n-genes", "30"]))
    read = pd.read_csv(io.StringIO(rows.to_csv(index=False)), dtype=str)
    picked = misspecified.select_rows(read, cells)
    assert len(picked) == 3 * 2 * 2
    assert set(picked["protocol"]) == {"practice"} and set(picked["wiring"]) == {"true"}


def test_render_only_draws_from_the_rows_and_copies_to_docs(tmp_path, capsys):
    rows = _rows()
    rows["n_false"] = np.where(rows["wiring"] == "true", 0, 5)
    rows["n_missing"] = rows["n_false"]
    out = tmp_path / "run"
    out.mkdir()
    rows.to_csv(out / "misspecified.csv", index=False)
    argv = ["--render-only", "--tasks", "regression", "--wirings", "true", "rewired",
            "--n-genes", "30", "--out", str(out)]
    assert misspecified.main(argv) == 0
    written = misspecified.copy_to_docs(out, "t", static=tmp_path / "static", rows=rows)
    assert sorted(p.name for p in written) == sorted(
        f"misspecified_t_{n}" for n in misspecified.DOCS_FILES.values())
    assert len(pd.read_csv(tmp_path / "static" / "misspecified_t_rows.csv")) == len(rows)
    assert "Ranking vs weights" in capsys.readouterr().out
    times = pd.read_csv(out / "run_time.csv").set_index("protocol")
    assert times.loc["all", "status"] == "complete"  # the CSV holds every asked cell
    # a true wiring with a false edge fails the script's reference point
    rows.loc[rows.index[rows["wiring"] == "true"][0], "n_false"] = 1
    rows.to_csv(out / "misspecified.csv", index=False)
    assert misspecified.main(argv) == 1
