"""benchmarks/signals.py: the per-node metrics of the teacher-free signals, and one tiny cell."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import signals  # noqa: E402
from signals import SIGNALS, signal_metrics, summarise, worker  # noqa: E402

from sklearn_binn.study import build_mask, make_cell  # noqa: E402

RECOVERY = np.array([0.95, 0.2, 0.91, 0.5, 0.99, 0.1, 0.89, 0.3])
SIGNAL = np.array([0.8, 0.3, 0.4, 0.95, 0.99, 0.05, 0.7, 0.6])


def test_auc_and_spearman_match_sklearn_and_scipy():
    reassured = SIGNAL >= 0.9
    m = signal_metrics(SIGNAL, RECOVERY, reassured)
    recovered = RECOVERY >= 0.9
    assert m["auc"] == pytest.approx(roc_auc_score(recovered, SIGNAL))
    assert m["spearman"] == pytest.approx(spearmanr(SIGNAL, RECOVERY).statistic)
    assert m["n_nodes"] == 8 and m["n_recovered"] == 3


def test_false_reassurance_and_missed_by_hand():
    # reassured: nodes 3 (0.95, recovery 0.5: false) and 4 (0.99, recovery 0.99: true)
    m = signal_metrics(SIGNAL, RECOVERY, SIGNAL >= 0.9)
    assert (m["n_reassured"], m["n_false_reassured"]) == (2, 1)
    assert m["false_reassurance"] == pytest.approx(1 / 2)
    # recovered: nodes 0, 2, 4; only node 4 reassured -> 2 of 3 missed
    assert m["missed"] == pytest.approx(2 / 3)


def test_direction_negates_the_signal():
    up = signal_metrics(-SIGNAL, RECOVERY, np.zeros(8, bool), direction=-1)
    ref = signal_metrics(SIGNAL, RECOVERY, np.zeros(8, bool))
    assert up["auc"] == pytest.approx(ref["auc"])
    assert up["spearman"] == pytest.approx(ref["spearman"])
    assert np.isnan(up["false_reassurance"])  # nothing reassured


def test_nan_rows_left_out_and_one_class_gives_nan_auc():
    signal = np.append(SIGNAL, [np.nan, 0.5])
    recovery = np.append(RECOVERY, [0.99, np.nan])
    m = signal_metrics(signal, recovery, np.zeros(10, bool))
    assert m["n_nodes"] == 8
    assert m["auc"] == pytest.approx(roc_auc_score(RECOVERY >= 0.9, SIGNAL))
    assert np.isnan(signal_metrics([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], [True] * 3)["auc"])


@pytest.mark.parametrize("kwargs, match", [
    ({"direction": 0}, "direction"),
    ({"signal": [0.1, 0.2]}, "equal length"),
])
def test_bad_input(kwargs, match):
    args = {"signal": SIGNAL, "recovery": RECOVERY, "reassured": SIGNAL > 0.5, **kwargs}
    with pytest.raises(ValueError, match=match):
        signal_metrics(**args)


def test_summarise_reads_csv_text_and_groups_by_task():
    # as run_cells reads the CSV back: text, empty strings for NaN
    nodes = pd.DataFrame({
        "task": ["regression"] * 4 + ["classification"] * 4,
        "weight_recovery": [str(v) for v in RECOVERY],
        "p_value": [str(v) for v in 1 - SIGNAL],
        "identifiable": ["1.0", "0.0", "1.0", "", "1.0", "0.0", "0.0", "1.0"],
    })
    table = summarise(nodes).set_index(["group", "signal"])
    p = table.loc[("all", "p_value")]
    assert p["auc"] == pytest.approx(roc_auc_score(RECOVERY >= 0.9, SIGNAL))
    assert (p["n_reassured"], p["n_false_reassured"]) == (1, 0)  # p <= 0.05: node 4 only
    ident = table.loc[("all", "identifiable")]
    # identifiable (NaN dropped): nodes 0, 2, 4, 7 -> node 7 (recovery 0.3) false
    assert (ident["n_nodes"], ident["n_reassured"], ident["n_false_reassured"]) == (7, 4, 1)
    reg = table.loc[("regression", "p_value")]
    assert reg["auc"] == pytest.approx(roc_auc_score(RECOVERY[:4] >= 0.9, SIGNAL[:4]))
    assert set(table.index.get_level_values("signal")) == {"p_value", "identifiable"}
    assert set(SIGNALS) >= {"weight_agreement", "identifiable", "p_value"}


def test_one_tiny_cell_end_to_end():
    cell = {"task": "regression", "hierarchy": "pyramid", "n_genes": 12, "depth": 1,
            "samples_per_edge": 3.0, "protocol": "practice", "max_epochs": 5, "n_init": 1,
            "n_repeats": 2, "n_null": 2, "seed": 0, "n_test": 100}
    rows = worker(cell)
    mask = build_mask(make_cell(task="regression", n_genes=12, depth=1, seed=0))
    assert len(rows) == sum(mask.layer_sizes)
    assert rows["node"].tolist() == list(mask.node_names[0])
    for column in ["weight_recovery", "weight_agreement", "top_k_frequency", "p_value",
                   "null_fraction", "identifiable"]:
        assert column in rows
    assert rows["p_value"].between(1 / 3, 1).all()  # (1 + k) / (1 + n_null)
    assert rows["identifiable"].isin([0.0, 1.0]).all()
    assert ((rows["null_fraction"] <= 1e-6) == (rows["identifiable"] == 1.0)).all()
    assert rows["weight_agreement"].between(-1, 1).all()
    table = summarise(rows.assign(task="regression"))
    assert set(table["group"]) == {"all", "regression"}
    assert (table["n_nodes"] <= len(rows)).all()
    assert signals.RECOVERY_THRESHOLD == 0.9
    again = worker(cell)  # seeded by the cell: the same rows
    pd.testing.assert_frame_equal(rows.drop(columns="cell_time_s"),
                                  again.drop(columns="cell_time_s"))


DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_docs_summary_regenerates_from_the_committed_node_rows():
    nodes = pd.read_csv(DOCS / "_static" / "signals" / "signals_nodes.csv")
    committed = pd.read_csv(DOCS / "_static" / "signals" / "signals_summary.csv")
    fresh = summarise(nodes)
    assert fresh[["group", "signal"]].values.tolist() == \
        committed[["group", "signal"]].values.tolist()
    for column in ["n_nodes", "n_recovered", "n_reassured", "n_false_reassured"]:
        assert fresh[column].tolist() == committed[column].tolist()
    for column in ["auc", "spearman", "false_reassurance", "missed"]:
        np.testing.assert_allclose(fresh[column], committed[column], rtol=5e-3)
    page = (DOCS / "signals.rst").read_text()
    assert ":file: _static/signals/signals_summary.csv" in page
    assert ":file: _static/signals/run_time.csv" in page
    assert "   signals\n" in (DOCS / "user_guide.rst").read_text()


def test_the_page_says_what_the_committed_tables_show():
    """docs/signals.rst's statements about the full grid, against its committed tables."""
    summary = pd.read_csv(DOCS / "_static" / "signals" / "signals_summary.csv")
    aucs = pd.read_csv(DOCS / "_static" / "signals" / "signals_auc.csv")
    table = summary.set_index(["group", "signal"])
    groups = summary["group"].unique().tolist()
    assert {"all", "regression", "classification", "survival", "protocol=practice",
            "protocol=converged", "samples_per_edge=1", "samples_per_edge=10"} <= set(groups)
    for group in groups:
        ranked = table.loc[group].sort_values("auc", ascending=False)
        assert ranked.index[:2].tolist() == ["weight_agreement", "activation_agreement"], group
        assert abs(table.loc[(group, "top_k_frequency"), "auc"] - 0.5) < 0.07, group
        # activation agreement's reading misses more recovered nodes than weight agreement's
        assert (table.loc[(group, "activation_agreement"), "missed"]
                > table.loc[(group, "weight_agreement"), "missed"]), group
    weight = table.xs("weight_agreement", level="signal")
    assert (weight.loc["protocol=practice", "false_reassurance"]
            > 2 * weight.loc["protocol=converged", "false_reassurance"])
    assert weight.loc["all", "n_false_reassured"] > 0  # agreement is no proof
    cv = table.xs("importance_cv", level="signal")
    assert cv.loc["protocol=practice", "auc"] < 0.5
    per = aucs[aucs["signal"] == "importance_cv"].set_index(["task", "protocol"])["auc"]
    assert per[("regression", "converged")] > 0.8
    assert per[("classification", "converged")] < 0.6 and per[("survival", "converged")] < 0.6
    pooled = summary[(summary["group"] == "all") & (summary["n_reassured"] > 10)]
    assert pooled.loc[pooled["false_reassurance"].idxmax(), "signal"] == "importance_cv"
    p_value = table.loc[("all", "p_value")]
    assert 0.6 < p_value["auc"] < 0.8 and p_value["false_reassurance"] > 0.2
    assert p_value["n_reassured"] < 0.1 * p_value["n_nodes"]
    assert table.loc[("all", "p_adjusted"), "n_reassured"] <= 2
    flag = table.xs("identifiable", level="signal")
    assert 0.5 < flag.loc["all", "auc"] < 0.65
    for level in ("samples_per_edge=1", "samples_per_edge=3", "samples_per_edge=10"):
        assert flag.loc[level, "auc"] < 0.6, level
    low = flag.loc["samples_per_edge=1"]
    assert low["n_reassured"] < 0.1 * low["n_nodes"] and low["missed"] > 0.8
    for level in ("samples_per_edge=3", "samples_per_edge=10"):
        assert flag.loc[level, "n_reassured"] > 0.8 * flag.loc[level, "n_nodes"], level
        assert flag.loc[level, "false_reassurance"] > 0.4, level
    assert flag.loc["protocol=converged", "false_reassurance"] > 0.4
    times = pd.read_csv(DOCS / "_static" / "signals" / "run_time.csv")
    assert times["protocol"].tolist() == ["practice", "converged"]
    assert (times["cells"] == times["cells_done"]).all() and times["cells"].sum() == 108


def test_the_docs_auc_table_regenerates_from_the_committed_node_rows():
    nodes = pd.read_csv(DOCS / "_static" / "signals" / "signals_nodes.csv")
    committed = pd.read_csv(DOCS / "_static" / "signals" / "signals_auc.csv")
    fresh = signals.auc_table(nodes)
    assert fresh[["task", "protocol", "signal"]].values.tolist() == \
        committed[["task", "protocol", "signal"]].values.tolist()
    for column in ["n_nodes", "n_recovered", "levels"]:
        assert fresh[column].tolist() == committed[column].tolist()
    for column in ["auc", "auc_within_spe"]:
        np.testing.assert_allclose(fresh[column], committed[column], rtol=5e-3)
    # one entry recomputed by hand: sklearn's AUC on the rows themselves
    rows = nodes[(nodes["task"] == "survival") & (nodes["protocol"] == "practice")]
    keep = rows["p_value"].notna() & rows["weight_recovery"].notna()
    expected = roc_auc_score(rows.loc[keep, "weight_recovery"] >= 0.9, -rows.loc[keep, "p_value"])
    got = committed.set_index(["task", "protocol", "signal"]).loc[
        ("survival", "practice", "p_value"), "auc"]
    assert got == pytest.approx(expected, abs=5e-4)
