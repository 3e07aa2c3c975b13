"""importance_recovery: the student's pathway-importance ranking against the teacher's."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from sklearn_binn import BINNRegressor, PathwayMask, TeacherDataset, importance_recovery
from sklearn_binn.datasets import make_pathway_mask

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def problem():
    mask = make_pathway_mask(120, depth=2, random_state=0)
    teacher = TeacherDataset(mask, random_state=0)
    X, y = teacher.sample(150, random_state=1)
    return mask, teacher, X, y


@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift", "gradient_x_input"])
def test_the_teacher_ranks_its_pathways_exactly_as_itself(problem, method):
    _, teacher, X, _ = problem
    result = importance_recovery(teacher.to_estimator(), teacher, X, method=method, n_steps=8)
    assert (result.layers["spearman"] == 1.0).all()
    assert (result.layers["top_k_overlap"] == 1.0).all()
    assert (result.layers["top_fraction_overlap"] == 1.0).all()
    assert result.nodes["rank_recovered"].all()
    assert (result.nodes["teacher_rank"] == result.nodes["student_rank"]).all()


def test_a_flipped_node_changes_no_importance(problem):
    _, teacher, X, _ = problem
    student = teacher.to_estimator()
    module = student.module_
    with torch.no_grad():  # tanh node 3 of layer 0 mirrored: the same function
        low, high = module.pathway_layers
        low.weight[low.cols == 3] *= -1
        low.bias[3] *= -1
        high.weight[high.rows == 3] *= -1
    result = importance_recovery(student, teacher, X, method="deeplift")
    assert np.allclose(result.nodes["student_importance"], result.nodes["teacher_importance"],
                       rtol=1e-4)
    assert (result.layers["spearman"] == 1.0).all()


def test_the_scores_match_a_hand_computation(problem):
    mask, teacher, X, y = problem
    student = BINNRegressor(mask, max_epochs=3, random_state=0).fit(X, y)
    result = importance_recovery(student, teacher, X, method="gradient_x_input", top_k=5,
                                 top_fraction=0.2, rank_tolerance=0.25)
    for k, layer in result.nodes.groupby("layer"):
        s, t = layer["student_importance"].to_numpy(), layer["teacher_importance"].to_numpy()
        n = len(t)
        row = result.layers.loc[k]
        assert row["spearman"] == pytest.approx(spearmanr(s, t).statistic)
        k5, k20 = min(5, n), max(1, math.ceil(0.2 * n))
        top = lambda v, m: set(np.argsort(-v)[:m])  # noqa: E731
        assert row["top_k_overlap"] == len(top(s, k5) & top(t, k5)) / k5
        assert row["top_fraction_overlap"] == len(top(s, k20) & top(t, k20)) / k20
        # ranks: 1 = most important
        t_rank = np.argsort(np.argsort(-t)) + 1
        s_rank = np.argsort(np.argsort(-s)) + 1
        assert (layer["teacher_rank"].to_numpy() == t_rank).all()
        within = np.abs(s_rank - t_rank) <= max(1, math.floor(0.25 * n))
        assert (layer["rank_recovered"].to_numpy() == within).all()
        assert row["rank_recovered"] == pytest.approx(within.mean())


def test_chance_levels_sit_beside_the_scores(problem):
    mask, teacher, X, y = problem
    student = BINNRegressor(mask, max_epochs=3, random_state=0).fit(X, y)
    kwargs = {"method": "gradient_x_input", "chance": True, "n_chance_draws": 3,
              "random_state": 0}
    result = importance_recovery(student, teacher, X, **kwargs)
    again = importance_recovery(student, teacher, X, **kwargs)
    for column in ("spearman_chance", "top_k_overlap_chance", "rank_recovered_chance",
                   "top_fraction_overlap_chance_sd"):
        assert column in result.layers
    assert result.layers.equals(again.layers)
    assert result.nodes["rank_recovered_chance"].between(0, 1).all()
    # chance rank recovery is the mean over draws of 0/1 flags: a multiple of 1/3
    assert np.allclose((result.nodes["rank_recovered_chance"] * 3) % 1, 0)


def test_nodes_are_matched_by_name_and_mismatches_rejected():
    mask = PathwayMask.from_gene_sets({"P1": ["a", "b"], "P2": ["b", "c"], "P3": ["c", "d"]})
    teacher = TeacherDataset(mask, random_state=0)
    X, y = teacher.sample(60, random_state=0)
    other = PathwayMask.from_gene_sets({"Q1": ["a", "b"], "Q2": ["b", "c"], "Q3": ["c", "d"]})
    student = BINNRegressor(other, max_epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="other nodes than the teacher's"):
        importance_recovery(student, teacher, X, method="weight")
    with pytest.raises(ValueError, match="chance=True needs a TeacherDataset"):
        importance_recovery(student, student, X, chance=True)
    with pytest.raises(ValueError, match="method must be one of"):
        importance_recovery(student, teacher, X, method="shap")
    with pytest.raises(ValueError, match="top_fraction must be a fraction"):
        importance_recovery(student, teacher, X, top_fraction=0)
