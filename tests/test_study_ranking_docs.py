"""The study's importance-ranking run: its tables regenerate from its rows, and the page reads them.

``benchmarks/teacher_student.py --rank gradient_x_input --docs ranked --docs-ranking-only``
wrote ``teacher_student_ranked_*`` into ``docs/_static``: ``ranking_rows.csv``
(one row per cell and pathway layer), the two ranking tables, the run-time
table and the summary. Recomputing the tables from the committed rows must
give the committed tables, and each statement of the page's section
"Importance ranking against weights" must hold in them.
"""

import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "docs" / "_static"
PAGE = ROOT / "docs" / "teacher_student.rst"
sys.path.insert(0, str(ROOT / "benchmarks"))

import teacher_student  # noqa: E402
from _docs_pages import assert_same_table, table_files  # noqa: E402
from sklearn_binn.study import RANKING_THRESHOLD, RECOVERY_THRESHOLD  # noqa: E402


def _static(name, run="ranked"):
    return STATIC / f"teacher_student_{run}_{name}"


def _rows(run):
    # exact parsing: a value at a threshold must not move by a rounded last digit
    return pd.read_csv(_static("ranking_rows.csv", run), float_precision="round_trip")


@pytest.fixture(scope="module")
def rows():
    return _rows("ranked")


def _as_written(frame):
    return pd.read_csv(io.StringIO(frame.to_csv(index=False, float_format="%.4g")))


def test_the_page_includes_the_ranking_tables_and_figure():
    files = table_files(PAGE)
    for name in ("ranking.csv", "ranking_by_hierarchy.csv", "run_time.csv"):
        assert _static(name) in files and _static(name).exists()
    text = PAGE.read_text()
    assert "_static/teacher_student_ranked_ranking.png" in text
    assert (STATIC / "teacher_student_ranked_ranking.png").exists()
    assert "_static/teacher_student_ranked_ranking_rows.csv" in text


def test_the_rows_are_every_cell_of_the_run_under_both_protocols(rows):
    cells = rows.drop_duplicates(["task", "hierarchy", "depth", "noise", "seed", "protocol"])
    times = pd.read_csv(_static("run_time.csv"))
    assert dict(zip(times["protocol"], times["n_cells"])) == cells["protocol"].value_counts(
    ).to_dict()
    for protocol, part in cells.groupby("protocol"):
        assert len(part) == 3 * 4 * 4 * 2 * part["seed"].nunique(), protocol
    # most layers have the three pathways a ranking needs
    assert rows["rank_spearman_student"].notna().sum() > 2 / 3 * len(rows)


@pytest.mark.parametrize("name, by", [("ranking.csv", ("task", "protocol", "layer")),
                                      ("ranking_by_hierarchy.csv",
                                       ("task", "protocol", "hierarchy"))])
def test_the_ranking_tables_regenerate_from_the_committed_rows(rows, name, by):
    computed = _as_written(teacher_student.ranking_table(rows, by=by))
    assert_same_table(computed, pd.read_csv(_static(name)), rtol=6e-4)


def test_the_run_time_table_regenerates_from_the_committed_rows(rows):
    times = pd.read_csv(_static("run_time.csv"))
    computed = teacher_student.run_time_table(rows, times["command"].iloc[0].split()[2:])
    assert_same_table(computed, times, rtol=6e-4)


def test_the_shares_are_the_readings_counted_one_by_one(rows):
    # an independent count: every counted reading of one task and protocol, by hand
    table = pd.read_csv(_static("ranking.csv"))
    for (task, protocol, layer), row in table.set_index(["task", "protocol", "layer"]).iterrows():
        part = rows[(rows["task"] == task) & (rows["protocol"] == protocol)
                    & (rows["layer"] == layer)]
        if protocol != "practice":
            part = part[part["verdict"].isin(["recovered", "non-identifiable"])]
        part = part.dropna(subset=["weight_student", "rank_spearman_student"])
        assert row["n_readings"] == len(part)
        if len(part) == 0:
            continue
        w = part["weight_student"].to_numpy() >= RECOVERY_THRESHOLD
        r = part["rank_spearman_student"].to_numpy() >= RANKING_THRESHOLD
        assert row["ranking_only"] == pytest.approx(np.mean(r & ~w), abs=6e-4)
        assert row["weights_only"] == pytest.approx(np.mean(w & ~r), abs=6e-4)


# ---------------------------------------------------- the page's statements


@pytest.fixture(scope="module")
def table():
    return pd.read_csv(_static("ranking.csv")).set_index(
        ["task", "protocol", "layer"]).sort_index()


@pytest.fixture(scope="module")
def by_hierarchy():
    return pd.read_csv(_static("ranking_by_hierarchy.csv")).set_index(
        ["task", "protocol", "hierarchy"]).sort_index()


TASKS = ("classification", "regression", "survival")


def test_the_rerun_cells_get_the_paired_run_s_verdicts_all_but_four(rows):
    paired = pd.read_csv(STATIC / "teacher_student_full_rows.csv")
    paired = paired[(paired["reference"] == "student") & (paired["layer"] == 0)]
    keys = ["task", "hierarchy", "depth", "noise", "protocol", "seed"]
    both = rows[rows["layer"] == 0].merge(paired[[*keys, "verdict"]], on=keys,
                                          suffixes=("", "_paired"))
    assert len(both) == len(rows[rows["layer"] == 0]) == 576
    changed = both[both["verdict"] != both["verdict_paired"]]
    assert sorted(map(tuple, changed[["task", "hierarchy", "depth", "noise", "protocol", "seed",
                                      "verdict_paired", "verdict"]].to_numpy())) == [
        ("classification", "wide", 4, 0.0, "converged", 1, "optimisation shortfall",
         "non-identifiable"),
        ("regression", "reactome", 4, 0.0, "converged", 1, "non-identifiable", "recovered"),
        ("regression", "tree", 4, 0.0, "converged", 2, "non-identifiable", "recovered"),
        ("regression", "wide", 4, 0.0, "converged", 2, "recovered", "optimisation shortfall")]
    # the two now recovered are borderline float32 cells of the float64 refit
    refit = pd.read_csv(STATIC / "teacher_student_borderline_float64_refit.csv")
    borderline = set(map(tuple, refit[["hierarchy", "depth", "seed"]].to_numpy()))
    assert {("reactome", 4, 1), ("tree", 4, 2)} <= borderline


def test_practice_gene_layer_ranked_right_without_weights_once_the_reverse(
        table, by_hierarchy):
    reverse = 0
    for task in TASKS:
        gene = table.loc[(task, "practice", 0)]
        assert gene["ranking_only"] > 0.05 and gene["weights_only"] < gene["ranking_only"], task
        reverse += round(gene["weights_only"] * gene["n_readings"])
        above = table.loc[(task, "practice", 1)]
        assert above["ranking_only"] > 0 and above["weights_only"] > 0, task
        reactome = by_hierarchy.loc[(task, "practice", "reactome")]
        wide = by_hierarchy.loc[(task, "practice", "wide")]
        assert reactome["ranking_only"] > reactome["weights_only"], task
        assert wide["weights_only"] > wide["ranking_only"], task
    assert reverse == 1 and table.loc[("survival", "practice", 0), "weights_only"] > 0


def test_converged_classification_and_survival_rank_worse_with_the_same_weights(rows, table):
    for task in ("classification", "survival"):
        for layer in (0, 1):
            practice, converged = table.loc[(task, "practice", layer)], table.loc[
                (task, "converged", layer)]
            assert converged["spearman"] < practice["spearman"], (task, layer)
            assert abs(converged["weight_recovery"] - practice["weight_recovery"]) < 0.05
        verdicts = rows[(rows["task"] == task) & (rows["protocol"] == "converged")]["verdict"]
        assert set(verdicts) == {"non-identifiable"}


def test_converged_regression_gene_layer_reads_both_or_neither(rows, table):
    row = table.loc[("regression", "converged", 0)]
    gene = rows[(rows["task"] == "regression") & (rows["protocol"] == "converged")
                & (rows["layer"] == 0)]
    counted = gene[gene["verdict"].isin(["recovered", "non-identifiable"])]
    weights = counted["weight_student"] >= RECOVERY_THRESHOLD
    ranking = counted["rank_spearman_student"] >= RANKING_THRESHOLD
    assert row["n_readings"] == len(counted) == 85 and (weights != ranking).sum() == 6
    assert row["ranking_only"] == row["weights_only"] and row["both"] > 0
    both = gene[(gene["weight_student"] >= RECOVERY_THRESHOLD)
                & (gene["rank_spearman_student"] >= RANKING_THRESHOLD)]
    assert set(both["noise"]) == {0.0} and "recovered" in set(both["verdict"])
    assert set(both["verdict"]) <= {"recovered", "non-identifiable"}
    refit = pd.read_csv(STATIC / "teacher_student_borderline_float64_refit.csv")
    borderline = set(map(tuple, refit[["hierarchy", "depth", "seed"]].to_numpy()))
    judged = both[both["verdict"] == "non-identifiable"]
    assert set(map(tuple, judged[["hierarchy", "depth", "seed"]].to_numpy())) <= borderline
    noisy = gene[gene["noise"] > 0]
    assert set(noisy["verdict"]) == {"non-identifiable"}
    assert ((noisy["weight_student"] >= RECOVERY_THRESHOLD)
            | (noisy["rank_spearman_student"] >= RANKING_THRESHOLD)).sum() == 3


def test_neither_claim_implies_the_other_somewhere_in_every_task_and_protocol(table):
    for task in TASKS:
        for protocol in ("practice", "converged"):
            part = table.loc[(task, protocol)]
            assert (part["ranking_only"] > 0).any() or (part["weights_only"] > 0).any()
    assert (table["ranking_only"] > 0).any() and (table["weights_only"] > 0).any()


def test_top_layers_rarely_have_a_ranking_and_chance_sits_near_zero(table):
    top = table[table.index.get_level_values("layer") >= 2]
    assert (top["n_readings"] < top["n_cells"] / 2).all()
    low = table[table.index.get_level_values("layer") <= 1]
    assert (low["spearman_chance"].abs() < 0.15).all()
    assert (low["spearman"] > low["spearman_chance"] + 0.2).all()


# ------------------------------------------- the integrated-gradients run (practice)
def _ig(name):
    return _static(name, "ranked_ig")


@pytest.fixture(scope="module")
def ig_rows():
    return _rows("ranked_ig")


def test_the_ig_run_is_on_the_page_and_its_tables_regenerate(ig_rows):
    files = table_files(PAGE)
    assert _ig("ranking.csv") in files and _ig("run_time.csv") in files
    for name, by in (("ranking.csv", ("task", "protocol", "layer")),
                     ("ranking_by_hierarchy.csv", ("task", "protocol", "hierarchy"))):
        computed = _as_written(teacher_student.ranking_table(ig_rows, by=by))
        assert_same_table(computed, pd.read_csv(_ig(name)), rtol=6e-4)
    times = pd.read_csv(_ig("run_time.csv"))
    assert "--rank integrated_gradients" in times["command"].iloc[0]
    computed = teacher_student.run_time_table(ig_rows, times["command"].iloc[0].split()[2:])
    assert_same_table(computed, times, rtol=6e-4)


def test_the_ig_run_scores_the_same_students(rows, ig_rows):
    keys = ["task", "hierarchy", "depth", "noise", "seed", "layer"]
    practice = rows[rows["protocol"] == "practice"]
    both = ig_rows.merge(practice, on=keys, suffixes=("_ig", ""))
    assert len(both) == len(ig_rows) == len(practice)
    assert (both["verdict_ig"] == both["verdict"]).all()
    assert (both["weight_student_ig"] == both["weight_student"]).all()


def test_the_practice_findings_hold_with_integrated_gradients(rows, ig_rows, table):
    ig = pd.read_csv(_ig("ranking.csv")).set_index(["task", "protocol", "layer"])
    by_h = pd.read_csv(_ig("ranking_by_hierarchy.csv")).set_index(
        ["task", "protocol", "hierarchy"])
    for task in TASKS:
        gene = ig.loc[(task, "practice", 0)]
        assert 0.10 <= gene["ranking_only"] <= 0.15, task
        reactome, wide = by_h.loc[(task, "practice", "reactome")], by_h.loc[
            (task, "practice", "wide")]
        assert reactome["ranking_only"] > reactome["weights_only"], task
        assert wide["weights_only"] > wide["ranking_only"], task
        for layer in (0, 1):
            gain = ig.loc[(task, "practice", layer), "spearman"] - table.loc[
                (task, "practice", layer), "spearman"]
            assert 0 < gain < 0.04, (task, layer)
        assert abs(ig.loc[(task, "practice", 0), "spearman_chance"]) < 0.1
    # the reverse (weights right, ranking not) in the gene layer: one survival reading,
    # the same one under both attributions
    keys = ["task", "hierarchy", "depth", "noise", "seed"]
    found = []
    for frame in (ig_rows, rows[rows["protocol"] == "practice"]):
        gene = frame[frame["layer"] == 0]
        reverse = gene[(gene["weight_student"] >= RECOVERY_THRESHOLD)
                       & (gene["rank_spearman_student"] < RANKING_THRESHOLD)]
        found.append(list(map(tuple, reverse[keys].to_numpy())))
    assert len(found[0]) == 1 and found[0] == found[1] and found[0][0][0] == "survival"
    assert ig.loc[("classification", "practice", 0), "weights_only"] == 0
    assert ig.loc[("regression", "practice", 0), "weights_only"] == 0
