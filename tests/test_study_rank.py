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
