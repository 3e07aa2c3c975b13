"""benchmarks/check_scale.py: identifiability_check on a Reactome cut, its tables and cache."""

import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import check_scale  # noqa: E402
from sklearn_binn import load_reactome  # noqa: E402
from sklearn_binn.study import reactome_subset  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ARGV = ["--tiny", "--n-genes", "40", "--n-samples", "60", "--n-teachers", "1",
        "--max-epochs", "3"]


def test_the_script_writes_named_tables_and_resumes_from_its_cache(tmp_path):
    assert check_scale.main([*ARGV, "--out", str(tmp_path)]) == 0
    mask = reactome_subset(40)
    _, names = load_reactome(n_levels=3, return_names=True)
    nodes = pd.read_csv(tmp_path / "nodes.csv")
    assert len(nodes) == 2 * sum(mask.layer_sizes)  # both protocols, every pathway node
    assert (nodes["name"] == nodes["node"].map(names)).all()  # Reactome's names
    readable = pd.read_csv(tmp_path / "readable.csv")
    expected = nodes[(nodes["weight_recovered"] >= 0.8) & (nodes["activation_recovered"] >= 0.8)
                     & (nodes["weight_recovered_chance"] < 0.8)]
    assert readable["node"].tolist() == expected["node"].tolist()
    run = pd.read_csv(tmp_path / "run_time.csv").iloc[0]
    assert (run["n_genes"], run["n_edges"], run["n_samples"]) == (40, mask.n_edges, 60)
    assert run["pathways_per_layer"] == "/".join(map(str, mask.layer_sizes))
    assert run["jobs_fitted"] > 0 and run["jobs_cached"] == 0
    assert run["command"] == "python benchmarks/check_scale.py " + " ".join(ARGV)
    assert (tmp_path / "check.png").stat().st_size > 0
    assert "Protocol 'converged'" in (tmp_path / "summary.txt").read_text()
    # a rerun reads the replicate back: same tables, nothing fitted
    assert check_scale.main([*ARGV, "--out", str(tmp_path)]) == 0
    again = pd.read_csv(tmp_path / "run_time.csv").iloc[0]
    assert (again["jobs_fitted"], again["jobs_cached"]) == (0, run["jobs_fitted"])
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "nodes.csv"), nodes)


STATIC = ROOT / "docs" / "_static"


def test_the_docs_run_is_what_the_page_says():
    """docs/identifiability_check.rst's words about the committed run, against its tables."""
    run = pd.read_csv(STATIC / "check_scale_full_run_time.csv").iloc[0]
    assert (run["n_genes"], run["n_samples"], run["n_jobs"]) == (2000, 300, 2)
    assert run["jobs_cached"] == 0 and run["wall_s"] < 60  # measured, "well under a minute"
    mask = reactome_subset(2000)
    assert run["n_edges"] == mask.n_edges and run["n_samples"] / run["n_edges"] < 0.1
    layers = pd.read_csv(STATIC / "check_scale_full_layers.csv")
    for measure in ("weight", "activation"):  # recovered shares at their chance shares
        gap = layers[f"{measure}_recovered"] - layers[f"{measure}_recovered_chance"]
        assert gap.abs().max() < 0.05, measure
    replicates = pd.read_csv(STATIC / "check_scale_full_replicates.csv")
    converged = replicates[replicates["protocol"] == "converged"]
    assert (converged["verdict"] == "non-identifiable").all()
    readable = pd.read_csv(STATIC / "check_scale_full_readable.csv")
    assert readable[["protocol", "n_inputs"]].values.tolist() == [["converged", 2]]
    nodes = pd.read_csv(STATIC / "check_scale_full_nodes.csv")
    every = nodes[(nodes["weight_recovered"] == 1.0) & (nodes["protocol"] == "converged")]
    assert (every["n_inputs"] == 1).all() and (every["weight_recovered_chance"] == 1.0).all()
    page = (ROOT / "docs" / "identifiability_check.rst").read_text()
    for name in check_scale.DOCS_FILES:
        assert f"_static/check_scale_full_{name}" in page, name
