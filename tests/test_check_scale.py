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
