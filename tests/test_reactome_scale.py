"""The Reactome-scale hierarchy of the study (``hierarchy="reactome_genes"``) and its script."""

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
