"""run_cell(rank=...): the student's importance ranking against the teacher's, per layer."""

import numpy as np
import pytest

from sklearn_binn.study import make_cell, run_cell

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RANK = ["rank_spearman", "rank_top_k_overlap", "rank_top_fraction_overlap", "rank_recovered"]


def _cell(**kwargs):
    return make_cell(n_genes=60, depth=2, samples_per_edge=2.0, max_epochs=1, n_test=300,
                     n_chance_draws=3, lr=1e-6, **kwargs)


def test_a_student_at_the_teacher_ranks_its_pathways_as_the_teacher_does():
    # started at the teacher and barely moved (one epoch at lr 1e-6): the same importances,
    # so the same ranking in every layer, whatever untrained students give
    rows = run_cell(_cell(init="teacher"), rank="gradient_x_input")
    student = [r for r in rows if r["reference"] == "student"]
    chance = [r for r in rows if r["reference"] == "chance"]
    for row in student:
        if row["n_nodes"] > 2:
            assert row["rank_spearman"] > 0.99, row["layer"]
        assert row["rank_recovered"] == 1.0 and row["rank_top_k_overlap"] == 1.0
    big = [r for r in chance if r["n_nodes"] > 5]
    assert big and all(r["rank_spearman"] < 0.9 for r in big)  # untrained students do not
    teacher = [r for r in rows if r["reference"] == "teacher"]
    assert all(np.isnan(r[c]) for r in teacher for c in RANK)


def test_without_rank_no_ranking_columns_and_the_same_rows_otherwise():
    ranked = run_cell(_cell(), rank="gradient_x_input")
    plain = run_cell(_cell())
    assert not any(c in plain[0] for c in RANK)
    for a, b in zip(ranked, plain):
        for key in ("reference", "layer", "weight_recovery", "activation_recovery", "verdict"):
            assert a[key] == b[key] or (a[key] != a[key] and b[key] != b[key]), key
    again = run_cell(_cell(), rank="gradient_x_input")  # seeded by the cell
    assert [r["rank_spearman"] for r in again] == pytest.approx(
        [r["rank_spearman"] for r in ranked], nan_ok=True)


def test_recovery_table_puts_the_ranking_beside_the_weights_with_its_chance_level():
    import pandas as pd

    from sklearn_binn.study import recovery_table

    cell = _cell(init="teacher")
    rows = pd.DataFrame([{**cell, **r} for r in run_cell(cell, rank="gradient_x_input")])
    wide = recovery_table(rows)
    for score in RANK:
        student = rows[rows["reference"] == "student"].set_index("layer")[score]
        chance = rows[rows["reference"] == "chance"].set_index("layer")[score]
        np.testing.assert_array_equal(wide.set_index("layer")[f"{score}_student"], student)
        np.testing.assert_array_equal(wide.set_index("layer")[f"{score}_chance"], chance)
    assert not any(c.startswith("rank_") for c in recovery_table(
        pd.DataFrame([{**cell, **r} for r in run_cell(cell)])).columns)


def _counted_by_hand(frame, weight_threshold, ranking_threshold):
    """The four shares, one reading at a time."""
    counts = {"both": 0, "ranking_only": 0, "weights_only": 0, "neither": 0}
    n = 0
    for weight, spearman in zip(frame["w"], frame["r"]):
        if weight != weight or spearman != spearman:
            continue
        n += 1
        w, r = weight >= weight_threshold, spearman >= ranking_threshold
        counts["both" if w and r else "ranking_only" if r else "weights_only" if w
               else "neither"] += 1
    return {k: v / n for k, v in counts.items()}, n


@pytest.mark.parametrize("thresholds", [(0.9, 0.9), (0.5, 0.8)])
def test_ranking_vs_weights_counts_each_reading_once_and_spreads_over_units(thresholds):
    import pandas as pd

    from sklearn_binn.study import READING_OUTCOMES, ranking_vs_weights

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"group": rng.choice(["a", "b"], 200), "unit": rng.integers(0, 7, 200),
                          "w": rng.uniform(0.3, 1.0, 200), "r": rng.uniform(-1, 1, 200),
                          "c": rng.normal(0, 0.1, 200)})
    frame.loc[::17, "r"] = np.nan  # layers too small to rank
    table = ranking_vs_weights(frame, ["group"], weight="w", ranking="r", unit="unit",
                               chance="c", weight_threshold=thresholds[0],
                               ranking_threshold=thresholds[1]).set_index("group")
    for group, part in frame.groupby("group"):
        shares, n = _counted_by_hand(part, *thresholds)
        row = table.loc[group]
        assert row["n_readings"] == n and row["n_units"] == part["unit"].nunique()
        for outcome in READING_OUTCOMES:
            assert row[outcome] == pytest.approx(shares[outcome])
        per_unit = part.groupby("unit")[["w", "r"]].mean()
        assert row["weight_recovery"] == pytest.approx(per_unit["w"].mean())
        assert row["spearman_sd"] == pytest.approx(per_unit["r"].std(ddof=1))
        assert row["spearman_chance"] == pytest.approx(part["c"].mean())
    assert table[list(READING_OUTCOMES)].sum(axis=1).to_numpy() == pytest.approx(1.0)


def test_ranking_vs_weights_names_missing_columns():
    import pandas as pd

    from sklearn_binn.study import ranking_vs_weights

    with pytest.raises(ValueError, match=r"needs the columns \['r'\]"):
        ranking_vs_weights(pd.DataFrame({"g": [1], "u": [0], "w": [0.9]}), ["g"], weight="w",
                           ranking="r", unit="u")
