"""The Reactome-scale hierarchy of the study (``hierarchy="reactome_genes"``) and its script."""

import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))  # as `python benchmarks/<script>.py` does

import reactome_scale  # noqa: E402
from sklearn_binn.datasets import load_reactome  # noqa: E402
from sklearn_binn.study import (  # noqa: E402
    HIERARCHIES,
    build_mask,
    build_teacher,
    make_cell,
    reactome_branch,
    reactome_subset,
    teacher_sign_table,
)

N_GENES = 60


@pytest.fixture(scope="module")
def full_edges():
    return load_reactome(n_levels=3).to_edges()


def _edge_set(frame):
    return set(zip(frame["source"], frame["target"], frame["layer"]))


# ------------------------------------------------------------------ the mask
def test_mask_is_a_restriction_of_the_whole_reactome(full_edges):
    mask = reactome_subset(N_GENES)
    full = load_reactome(n_levels=3)
    assert "reactome_genes" in HIERARCHIES
    assert mask.n_features == N_GENES and mask.depth == 3 and mask.skip_levels
    assert set(mask.feature_names) <= set(full.feature_names)
    assert list(mask.feature_names) == sorted(mask.feature_names)
    edges = mask.to_edges()
    assert len(edges) == mask.n_edges
    assert _edge_set(edges) <= _edge_set(full_edges)  # every edge exists in the full mask
    # a chosen gene keeps every pathway it feeds in the whole hierarchy
    genes = set(mask.feature_names)
    from_genes = full_edges[full_edges["source"].isin(genes)]
    assert _edge_set(edges[edges["source"].isin(genes)]) == _edge_set(from_genes)
    # every pathway kept has a member; the pathways are those reached from the genes
    kept = set(edges["target"])
    for k in range(3):
        assert set(mask.node_names[k]) <= kept


def test_mask_keeps_reactome_overlap_and_skew():
    full = load_reactome(n_levels=3)
    stats = reactome_scale.mask_stats(2000, 3)
    full_edges = full.to_edges()
    full_overlap = full_edges["source"].isin(set(full.feature_names)).sum() / full.n_features
    assert stats["n_genes"] == 2000
    assert abs(stats["pathways_per_gene"] - full_overlap) < 0.15  # a uniform sample of genes
    sizes = np.diff(reactome_subset(2000).layers[0].tocsc().indptr)
    assert sizes.max() > 20 * np.median(sizes)  # skewed, as Reactome's


def test_mask_stats_against_the_edge_table():
    mask = reactome_subset(N_GENES)
    edges = mask.to_edges()
    stats = reactome_scale.mask_stats(N_GENES, 3)
    assert stats["n_edges"] == len(edges)
    assert stats["nodes_per_layer"] == "/".join(
        str(edges.loc[edges["layer"] == k, "target"].nunique()) for k in range(3))
    per_gene = edges["source"].isin(set(mask.feature_names)).sum() / N_GENES
    assert stats["pathways_per_gene"] == pytest.approx(per_gene, abs=1e-3)


def test_mask_is_the_same_for_every_seed_and_nested():
    masks = [build_mask(make_cell(hierarchy="reactome_genes", n_genes=N_GENES, depth=3,
                                  seed=seed)) for seed in (0, 1, 17)]
    assert masks[0] == masks[1] == masks[2]
    assert masks[0] == reactome_subset(N_GENES)
    assert set(reactome_subset(N_GENES).feature_names) <= set(reactome_subset(200).feature_names)
    assert build_mask(make_cell(hierarchy="reactome_genes", n_genes=N_GENES,
                                depth=2)).depth == 2


def test_teacher_sign_table_reads_skip_level_inputs():
    teacher = build_teacher(make_cell(hierarchy="reactome_genes", n_genes=20, depth=3))
    mask = teacher.mask
    table = teacher_sign_table(teacher)
    assert _edge_set(table) == _edge_set(mask.to_edges())
    assert (table["layer"] > 0).any() and table["source"].isin(mask.feature_names).any()
    for k in range(mask.depth):
        dense = teacher.weights[k].toarray()
        rows = {name: i for i, name in enumerate(mask.input_names(k))}
        cols = {name: j for j, name in enumerate(mask.node_names[k])}
        part = table[table["layer"] == k]
        weights = dense[[rows[s] for s in part["source"]], [cols[t] for t in part["target"]]]
        assert np.array_equal(part["sign"].to_numpy(), np.where(weights < 0, -1, 1))


def test_existing_hierarchies_are_untouched():
    assert reactome_branch().layer_sizes == (18, 6, 2, 1)
    assert build_mask(make_cell(n_genes=100, depth=4)).layer_sizes == (20, 6, 2, 1)


@pytest.mark.parametrize("params, error, words", [
    ({"n_genes": None}, TypeError, "needs n_genes"),
    ({"n_genes": 60.0}, TypeError, "needs n_genes"),
    ({"n_genes": 1}, ValueError, "[2, 11342]"),
    ({"n_genes": 20000}, ValueError, "[2, 11342]"),
    ({"n_genes": 60, "overlap": 2}, ValueError, "overlap=None"),
    ({"n_genes": 60, "depth": 4}, ValueError, "depth must lie in [1, 3]"),
])
def test_make_cell_validates_reactome_genes(params, error, words):
    with pytest.raises(error) as info:
        make_cell(hierarchy="reactome_genes", **params)
    assert words in str(info.value)


def test_reactome_subset_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_genes"):
        reactome_subset(0)


# ----------------------------------------------------------------- the script
def test_plan_sizes_the_training_set():
    cell = make_cell(hierarchy="reactome_genes", n_genes=2000, depth=3, samples_per_edge=10.0)
    plan = reactome_scale.plan_cells([cell], max_memory_gb=8).iloc[0]
    n_edges = reactome_subset(2000).n_edges
    assert plan["n_train"] == round(10 * n_edges)
    assert plan["train_mb_float32"] == pytest.approx(plan["n_train"] * 2000 * 4 / 2**20)
    assert bool(plan["feasible"])
    assert not bool(reactome_scale.plan_cells([cell], max_memory_gb=0.1).iloc[0]["feasible"])


def test_script_quick_path_writes_the_tables(tmp_path, capsys):
    status = reactome_scale.main(["--quick", "--tiny", "--n-genes", str(N_GENES),
                                  "--out", str(tmp_path)])
    assert status == 0
    rows = pd.read_csv(tmp_path / "reactome_scale.csv")
    cells = pd.read_csv(tmp_path / "cells.csv")
    assert len(cells) == 4  # samples per edge 0.5, 1 x both protocols
    assert sorted(cells["protocol"].unique()) == ["converged", "practice"]
    assert (cells["status"] == "run").all()
    n_edges = reactome_subset(N_GENES).n_edges
    assert sorted(cells["n_train"]) == sorted(
        [round(0.5 * n_edges)] * 2 + [n_edges] * 2)
    assert set(rows["n_train_used"]) == set(cells["n_train"])
    assert (cells["weight_teacher_L0"] == 1.0).all()  # the teacher's own reference point
    for k in range(3):
        assert cells[f"weight_L{k}"].between(0, 1).all()
    projection = pd.read_csv(tmp_path / "projection.csv")
    assert len(projection) == 6 and (projection["n_genes"] == 2000).all()
    assert projection["n_train"].max() == round(10 * reactome_subset(2000).n_edges)
    assert (projection["status"] == "estimated").all()
    summary = (tmp_path / "summary.txt").read_text()
    assert "core-hours" in summary and "MB as float32" in summary
    # a rerun finds every cell in the CSV and runs none
    reactome_scale.main(["--quick", "--tiny", "--n-genes", str(N_GENES), "--out", str(tmp_path)])
    assert len(pd.read_csv(tmp_path / "reactome_scale.csv")) == len(rows)


def test_script_skips_cells_that_do_not_fit_in_memory(tmp_path):
    reactome_scale.main(["--quick", "--tiny", "--n-genes", str(N_GENES), "--protocols",
                         "practice", "--max-memory-gb", "1e-6", "--out", str(tmp_path)])
    cells = pd.read_csv(tmp_path / "cells.csv")
    assert (cells["status"] == "not run: memory").all()
    assert not (tmp_path / "reactome_scale.csv").exists()


def test_render_only_tables_a_partial_run_and_copies_it_to_the_docs(tmp_path, monkeypatch):
    common = ["--tiny", "--n-genes", str(N_GENES), "--protocols", "practice"]
    assert reactome_scale.main([*common, "--samples-per-edge", "1", "--out", str(tmp_path)]) == 0
    n_rows = len(pd.read_csv(tmp_path / "reactome_scale.csv"))
    static = tmp_path / "static"
    monkeypatch.setattr(reactome_scale, "copy_to_docs",
                        lambda *args, **kwargs: _copy(*args, **kwargs, static=static))
    # a grid of two cells, one of them never run: tabled, not trained
    argv = [*common, "--samples-per-edge", "1", "2", "--render-only", "--docs", "t",
            "--out", str(tmp_path)]
    assert reactome_scale.main(argv) == 0
    assert len(pd.read_csv(tmp_path / "reactome_scale.csv")) == n_rows  # nothing trained
    cells = pd.read_csv(static / "reactome_scale_t_cells.csv")
    assert cells["status"].tolist() == ["run", "not run"]
    assert np.isnan(cells["cell_time_s"].iloc[1])
    times = pd.read_csv(static / "reactome_scale_t_run_time.csv")
    assert times[["protocol", "cells", "cells_done"]].values.tolist() == [["practice", 2, 1]]
    assert times["cell_time_s_total"].iloc[0] == pytest.approx(cells["cell_time_s"].iloc[0],
                                                               abs=0.06)
    assert "--render-only" not in times["command"].iloc[0]
    assert "--docs" not in times["command"].iloc[0]
    rows = pd.read_csv(static / "reactome_scale_t_rows.csv")
    assert len(rows) == n_rows
    assert {p.name for p in static.iterdir()} == {
        f"reactome_scale_t_{name}" for name in (*reactome_scale.DOCS_FILES, "rows.csv")}


def _copy(*args, **kwargs):
    from _common import copy_to_docs
    return copy_to_docs(*args, **kwargs)


# ------------------------------------------------------------------ the docs
STATIC = ROOT / "docs" / "_static"
DOCS_RUN = "full"


@pytest.fixture(scope="module")
def docs_run():
    """The committed run: its rows, tables, and its cells rebuilt from its command."""
    import shlex

    def read(name):
        return pd.read_csv(STATIC / f"reactome_scale_{DOCS_RUN}_{name}")

    times = read("run_time.csv")
    args = reactome_scale.build_arg_parser().parse_args(
        shlex.split(times["command"].iloc[0])[2:])
    return {"args": args, "cells": reactome_scale.make_grid(args), "rows": read("rows.csv"),
            "table": read("cells.csv"), "projection": read("projection.csv"),
            "times": times}


def test_the_docs_cell_table_regenerates_from_the_committed_rows(docs_run):
    from _docs_pages import assert_same_table

    cells, args = docs_run["cells"], docs_run["args"]
    plan = reactome_scale.plan_cells(cells, args.max_memory_gb)
    raw = reactome_scale.cell_table(docs_run["rows"], cells, plan)
    fresh = pd.read_csv(io.StringIO(raw.to_csv(index=False, float_format="%.4g")))
    assert_same_table(fresh, docs_run["table"])
    brief = reactome_scale.printable(raw)
    brief = pd.read_csv(io.StringIO(brief.to_csv(index=False, float_format="%.3g")))
    assert_same_table(brief, pd.read_csv(STATIC / f"reactome_scale_{DOCS_RUN}_cells_brief.csv"))
    assert (docs_run["table"]["n_genes"] >= 2000).all()  # the Reactome scale


def test_the_docs_projection_and_run_time_regenerate(docs_run):
    from _docs_pages import assert_same_table

    args, rows = docs_run["args"], docs_run["rows"]
    projected, _ = reactome_scale.project(reactome_scale.measured_times(rows), args.tasks,
                                          list(args.protocols), args.seeds, args.target_genes,
                                          args.cores)
    projected = pd.read_csv(io.StringIO(projected.to_csv(index=False, float_format="%.4g")))
    assert_same_table(projected, docs_run["projection"], rtol=1e-3)
    times = reactome_scale.run_time_table(docs_run["table"], [])
    for column in ("protocol", "cells", "cells_done"):
        assert times[column].tolist() == docs_run["times"][column].tolist()
    np.testing.assert_allclose(times["cell_time_s_total"], docs_run["times"]["cell_time_s_total"],
                               atol=0.1 * len(docs_run["table"]))


def test_the_page_says_what_the_committed_cells_show(docs_run):
    """docs/reactome_scale.rst's words about the run, against its cell table."""
    table = docs_run["table"]
    ran = table[table["status"] == "run"]
    practice = ran[ran["protocol"] == "practice"]
    assert len(practice) == 9 and (practice["verdict"] != "recovered").all()
    weight = ran[[f"weight_L{k}" for k in range(3)]]
    for task, rows in practice.groupby("task"):  # recovery grows with samples per edge
        by_spe = weight.loc[rows.index].mean(axis=1).groupby(rows["samples_per_edge"]).first()
        assert by_spe[10.0] > by_spe[0.5] + 0.1, task
    half = practice[practice["samples_per_edge"] == 0.5]
    assert ((half["weight_L0"] - half["weight_chance_L0"]).abs() < 0.05).all()
    reg10 = practice[(practice["task"] == "regression") & (practice["samples_per_edge"] == 10)]
    assert reg10["weight_L0"].iloc[0] < 0.9 <= min(reg10["weight_L1"].iloc[0],
                                                   reg10["weight_L2"].iloc[0])
    assert reg10["output_corr2"].iloc[0] > 0.99
    others10 = practice[(practice["task"] != "regression") & (practice["samples_per_edge"] == 10)]
    assert (weight.loc[others10.index] < 0.9).all().all()
    converged = ran[ran["protocol"] == "converged"]
    assert sorted(map(tuple, converged[["task", "samples_per_edge"]].values.tolist())) == [
        ("classification", 0.5), ("classification", 1.0), ("regression", 0.5),
        ("regression", 1.0), ("survival", 0.5)]
    exact = converged[converged["task"] != "survival"]
    assert (exact["verdict"] == "non-identifiable").all()
    survival = converged[converged["task"] == "survival"].iloc[0]
    assert survival["verdict"] == "optimisation shortfall" and not survival["converged"]
    assert survival["epochs"] == reactome_scale.epoch_budget("converged", survival["n_train"])
    rows = docs_run["rows"]
    gap = rows[(rows["task"] == "survival") & (rows["protocol"] == "converged")
               & (rows["reference"] == "student")]["train_gap"]
    assert (gap < -1).all()  # "far better than the teacher" on its training samples
    longest = ran.nlargest(2, "cell_time_s")[["task", "protocol", "samples_per_edge"]]
    assert sorted(map(tuple, longest.values.tolist())) == [
        ("regression", "converged", 1.0), ("survival", "converged", 0.5)]
    page = (ROOT / "docs" / "reactome_scale.rst").read_text()
    for name in ("cells_brief.csv", "run_time.csv", "projection.csv", "projection_totals.csv",
                 "rows.csv", "cells.csv"):
        assert f"_static/reactome_scale_{DOCS_RUN}_{name}" in page, name
    assert "   reactome_scale\n" in (ROOT / "docs" / "user_guide.rst").read_text()


def test_rank_adds_the_ranking_columns(tmp_path):
    argv = ["--tiny", "--n-genes", str(N_GENES), "--protocols", "practice", "--samples-per-edge",
            "1", "--rank", "gradient_x_input", "--out", str(tmp_path)]
    assert reactome_scale.main(argv) == 0
    rows = pd.read_csv(tmp_path / "reactome_scale.csv")
    student = rows[rows["reference"] == "student"]
    assert student["rank_spearman"].between(-1, 1).all()
    assert student["rank_recovered"].between(0, 1).all()
    assert rows.loc[rows["reference"] == "teacher", "rank_spearman"].isna().all()
