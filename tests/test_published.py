"""Tests of the published study's recipe and metrics (sklearn_binn.published)."""

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from scipy.stats import pearsonr
from sklearn.metrics import r2_score
from sklearn.metrics.pairwise import cosine_similarity
from sksurv.metrics import concordance_index_censored

import sklearn_binn
from sklearn_binn import BINNRegressor, IdentifiabilityScorer, TeacherDataset, recovery_report
from sklearn_binn import published as published_module
from sklearn_binn.datasets import make_overlapping_gene_sets
from sklearn_binn.published import (
    PublishedInit,
    PublishedTeacher,
    load_published_results,
    make_published_problem,
    published_activation_scores,
    published_metrics,
    published_weight_scores,
)

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def small_mask():
    return make_overlapping_gene_sets(40, 6, size_range=(4, 7), random_state=0)


@pytest.fixture(scope="module")
def published_problem():
    """The study's fixed 12k problem: 12,000 + 3,000 rows drawn together."""
    return make_published_problem(12000, 3000)


# ---------------------------------------------------------------- weight scores
def _random_layer(rng, n_in=30, n_out=5, density=0.3):
    pattern = rng.random((n_in, n_out)) < density
    pattern[0] = True  # every node has an input
    W = np.where(pattern, rng.normal(size=(n_in, n_out)), 0.0)
    return sp.csr_matrix(W), rng.normal(size=n_out)


def test_rescaled_weights_score_perfectly():
    rng = np.random.default_rng(0)
    W, b = _random_layer(rng)
    scale = rng.uniform(0.1, 10, size=W.shape[1])
    scores = published_weight_scores(W @ sp.diags(scale), b * scale, W, b)
    np.testing.assert_allclose(scores["relL2"], 0, atol=1e-12)
    np.testing.assert_allclose(scores["cos_std"], 1)
    np.testing.assert_allclose(scores["cos_pos"], 1)
    np.testing.assert_allclose(scores["alpha"], 1 / scale)


def test_sign_flipped_weights():
    rng = np.random.default_rng(1)
    W, b = _random_layer(rng)
    scores = published_weight_scores(-W, -b, W, b)
    np.testing.assert_allclose(scores["cos_std"], -1)
    np.testing.assert_array_equal(scores["cos_pos"], 0)
    np.testing.assert_array_equal(scores["alpha"], 0)  # clamped: no positive rescaling helps
    np.testing.assert_allclose(scores["relL2"], 1)


def test_rel_l2_closed_form_and_bias_penalty():
    # Without a student bias the best positive scale leaves sqrt(1 - cos^2) of
    # |wT| (for cos > 0); a student bias pulls alpha down and only adds error.
    rng = np.random.default_rng(2)
    Wt, bt = _random_layer(rng, n_out=40)
    Ws = Wt.copy()
    Ws.data = Wt.data + rng.normal(scale=0.8, size=Wt.nnz)
    no_bias = published_weight_scores(Ws, np.zeros(40), Wt, np.zeros(40))
    positive = no_bias["cos_std"] > 0
    assert positive.sum() > 10
    np.testing.assert_allclose(
        no_bias["relL2"][positive], np.sqrt(1 - no_bias["cos_std"][positive] ** 2), rtol=1e-9
    )
    with_bias = published_weight_scores(Ws, rng.normal(scale=3, size=40), Wt, np.zeros(40))
    np.testing.assert_allclose(with_bias["cos_std"], no_bias["cos_std"])  # bias not in cosine
    assert (with_bias["relL2"][positive] >= no_bias["relL2"][positive] - 1e-12).all()
    assert (with_bias["relL2"] > no_bias["relL2"] + 1e-3).mean() > 0.5


def test_weight_scores_reject_different_patterns():
    rng = np.random.default_rng(3)
    W, b = _random_layer(rng)
    other = W.tolil()
    other[5, 0] = 0.5 if W[5, 0] == 0 else 0.0
    with pytest.raises(ValueError, match="same shape and sparsity pattern"):
        published_weight_scores(sp.csr_matrix(other), b, W, b)
    with pytest.raises(ValueError, match="one entry per node"):
        published_weight_scores(W, b[:2], W, b)


# ------------------------------------------------------------ activation scores
def test_activation_scores_match_independent_computations():
    rng = np.random.default_rng(4)
    zt = rng.normal(size=(300, 6)) * rng.uniform(0.1, 3, size=6)
    zs = 0.5 * zt + rng.normal(size=(300, 6)) + 0.3
    zs[:, 2] = 1.0  # a constant student column is left out of act_corr_mean
    scores = published_activation_scores(zs, zt)
    kept = [j for j in range(6) if j != 2]
    assert scores["act_corr_mean"] == pytest.approx(
        np.mean([pearsonr(zt[:, j], zs[:, j]).statistic for j in kept]), rel=1e-10
    )
    assert scores["act_cosine_mean"] == pytest.approx(
        np.diag(cosine_similarity(zt, zs)).mean(), rel=1e-10
    )
    # the global R² is sklearn's variance-weighted R² over the columns
    assert scores["act_r2"] == pytest.approx(
        r2_score(zt, zs, multioutput="variance_weighted"), rel=1e-10
    )


def test_activation_scores_are_not_rescaling_invariant():
    z = np.random.default_rng(5).normal(size=(500, 4))
    per_node = published_activation_scores(z * [1.0, 2.0, 5.0, 0.2], z)
    assert per_node["act_corr_mean"] == pytest.approx(1.0)
    assert per_node["act_cosine_mean"] < 0.95
    assert per_node["act_r2"] < 0
    with pytest.raises(ValueError, match="one shape"):
        published_activation_scores(z[:, :3], z)


# ---------------------------------------------------------- students, teachers
def test_rescaled_teacher_network_scores_perfectly(small_mask):
    teacher = PublishedTeacher(small_mask, head_layer_sizes=(8,), random_state=0)
    X, _ = teacher.sample(400, random_state=1)
    student = teacher.to_estimator()
    scale = torch.tensor(np.random.default_rng(6).uniform(0.2, 5, size=6), dtype=torch.float32)
    module = student.module_
    layer = module.pathway_layers[0]
    with torch.no_grad():  # ReLU: scale each node's inputs by c, its outputs by 1 / c
        layer.weight.mul_(scale[layer.cols])
        layer.bias.mul_(scale)
        module.head_layers[0].weight.div_(scale)
    np.testing.assert_allclose(student.predict(X), teacher.predict(X), rtol=1e-4, atol=1e-6)
    metrics = published_metrics(student, teacher, X)
    assert metrics["relL2_mean"] == pytest.approx(0, abs=1e-6)
    assert metrics["cos_std_mean"] == pytest.approx(1)
    assert metrics["act_corr_mean"] == pytest.approx(1)
    assert metrics["act_r2"] < 0.9  # the study's global R² is not invariant
    summary = recovery_report(student, teacher, X).summary
    assert summary["weight_recovery"] == pytest.approx(1)
    assert summary["activation_recovery"] == pytest.approx(1)


def test_teacher_with_dense_head_scores_one_with_our_scorer(small_mask):
    teacher = TeacherDataset(small_mask, head_layer_sizes=(8, 4), random_state=0)
    X, y = teacher.sample(300, random_state=1)
    own = teacher.to_estimator()
    assert IdentifiabilityScorer(teacher)(own, X, y) == 1.0
    assert IdentifiabilityScorer(teacher, "activations")(own, X, y) == pytest.approx(1.0)
    metrics = published_metrics(own, teacher, X)
    assert metrics == pytest.approx({
        "relL2_mean": 0.0, "cos_std_mean": 1.0, "cos_pos_mean": 1.0,
        "act_corr_mean": 1.0, "act_cosine_mean": 1.0, "act_r2": 1.0,
    })


def test_empty_head_changes_nothing(small_mask):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(120, 40)).astype(np.float32)
    y = X[:, :3].sum(axis=1)
    params = dict(max_epochs=3, train_split=None, random_state=0)
    default = BINNRegressor(small_mask, **params).fit(X, y)
    empty = BINNRegressor(small_mask, head_layer_sizes=(), **params).fit(X, y)
    np.testing.assert_array_equal(default.predict(X), empty.predict(X))
    assert len(empty.module_.head_layers) == 0
    # the output is the dense output layer on tanh(X W + b): a plain BINN
    W = empty.module_.pathway_layers[0].weight_matrix().toarray()
    b = empty.module_.pathway_layers[0].bias.detach().double().numpy()
    out = empty.module_.output
    manual = np.tanh(X @ W + b) @ out.weight.detach().double().numpy().T
    manual = manual[:, 0] + out.bias.item()
    np.testing.assert_allclose(empty.predict(X), manual, rtol=1e-5, atol=1e-6)


def test_latent_input_covariance_matches_its_formula(small_mask):
    teacher = TeacherDataset(small_mask, input_model="latent", beta=0.7, gene_noise=0.6,
                             random_state=0)
    M = small_mask.layers[0].toarray()
    raw = 0.49 * M @ M.T + 0.36 * np.eye(40)
    sd = np.sqrt(np.diag(raw))
    formula = raw / np.outer(sd, sd)
    np.testing.assert_allclose(teacher.input_covariance(), formula, atol=1e-12)
    X, _ = teacher.sample(40000, random_state=1)
    np.testing.assert_allclose(np.cov(X, rowvar=False), formula, atol=0.03)
    # the study's variant standardises over the rows drawn: the same correlations
    published = PublishedTeacher(small_mask, head_layer_sizes=(), random_state=0)
    Xp, _ = published.sample(40000, random_state=1)
    np.testing.assert_allclose(Xp.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(Xp.std(axis=0), 1, atol=1e-5)
    np.testing.assert_allclose(np.corrcoef(Xp, rowvar=False), formula, atol=0.03)


# ----------------------------------------------------- the study's own numbers
def test_published_teacher_reproduces_the_studys_teacher(published_problem):
    # Published in the study's task_fidelity_audit.csv (commit 41438d30), fixed 12k problem
    problem = published_problem
    teacher = problem.teacher
    assert teacher.mask.n_edges == 1086
    assert float(np.abs(teacher.weights[0].data).max()) <= 0.05  # U(+-1/sqrt(400))
    assert np.all(teacher.biases[0] == 0)
    assert problem.y_test.std(ddof=1) == pytest.approx(6.030165672302246, rel=1e-5)
    logits = problem.logit_test
    assert logits.std(ddof=1) == pytest.approx(0.007726497016847134, rel=1e-4)
    assert (np.abs(logits) < 1e-2).mean() == pytest.approx(0.5216666460037231, abs=1e-6)
    assert max(problem.label_test.mean(), 1 - problem.label_test.mean()) == pytest.approx(0.902)
    survival = problem.survival_test
    cindex = concordance_index_censored(survival["event"], survival["time"], problem.y_test)[0]
    assert cindex == pytest.approx(0.941317787705447, abs=2e-5)


def test_problem_splits_and_targets(small_mask):
    teacher = PublishedTeacher(small_mask, head_layer_sizes=(4,), random_state=3)
    small = make_published_problem(500, 200, n_pool=1000, teacher=teacher)
    large = make_published_problem(1000, 200, n_pool=1000, teacher=teacher)
    np.testing.assert_array_equal(small.X_train, large.X_train[:500])  # nested prefixes
    np.testing.assert_array_equal(small.X_test, large.X_test)  # one fixed test set
    raw = teacher.predict(small.X_train)
    expected = 6 * (raw - raw.mean()) / raw.std(ddof=1)
    np.testing.assert_allclose(small.y_train, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(small.label_test, (small.logit_test > 0).astype(int))
    with pytest.raises(ValueError, match="at least n_train"):
        make_published_problem(500, 100, n_pool=400, teacher=teacher)
    with pytest.raises(ValueError, match="n_test must be a positive int"):
        make_published_problem(500, 0, teacher=teacher)
    with pytest.raises(TypeError, match="PublishedTeacher"):
        make_published_problem(500, 100, teacher="teacher")


def _their_student_weights(mask, X, y, seed, epochs, hidden):
    """The study's training loop in plain torch: dense masked layer, nn.Linear head."""
    M = torch.as_tensor(mask.layers[0].toarray().T, dtype=torch.float32)
    torch.manual_seed(seed)
    W = torch.nn.Parameter(torch.empty(M.shape))
    torch.nn.init.kaiming_uniform_(W, a=math.sqrt(5))
    b = torch.nn.Parameter(torch.zeros(M.shape[0]))
    head = torch.nn.Sequential(
        torch.nn.ReLU(), torch.nn.Linear(M.shape[0], hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1),
    )
    optimizer = torch.optim.Adam([W, b, *head.parameters()], lr=2e-3)
    data = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True)
    for _ in range(epochs):
        for xb, yb in loader:
            out = head(torch.nn.functional.linear(xb, W * M, b)).squeeze(-1)
            loss = torch.nn.functional.mse_loss(out, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return (W * M).detach().numpy().T


def test_published_init_reproduces_their_training(small_mask):
    teacher = PublishedTeacher(small_mask, head_layer_sizes=(8, 8), random_state=42)
    problem = make_published_problem(300, 50, teacher=teacher)
    theirs = _their_student_weights(small_mask, problem.X_train, problem.y_train, 9000, 3, 8)
    student = BINNRegressor(
        small_mask, activation="relu", head_layer_sizes=(8, 8), train_split=None,
        n_iter_no_change=None, max_epochs=3, batch_size=64, lr=2e-3,
        iterator_train__shuffle=True, callbacks=[PublishedInit()], random_state=9000,
    ).fit(problem.X_train, problem.y_train)
    ours = student.module_.pathway_layers[0].weight_matrix().toarray()
    np.testing.assert_allclose(ours, theirs, atol=2e-5)
    start = _their_student_weights(small_mask, problem.X_train, problem.y_train, 9000, 0, 8)
    assert np.abs(theirs - start).max() > 1e-2  # training moved the weights


def test_published_init_leaves_continued_training_alone(small_mask):
    X = np.random.default_rng(8).normal(size=(100, 40)).astype(np.float32)
    student = BINNRegressor(small_mask, activation="relu", max_epochs=2, train_split=None,
                            callbacks=[PublishedInit(seed=1)], random_state=0).fit(X, X[:, 0])
    before = student.module_.pathway_layers[0].weight.detach().clone()
    student.partial_fit(X, X[:, 0])
    after = student.module_.pathway_layers[0].weight.detach()
    assert not torch.equal(before, after)
    fresh = BINNRegressor(small_mask, activation="relu", max_epochs=0,
                          callbacks=[PublishedInit(seed=1)], random_state=0).fit(X, X[:, 0])
    assert not torch.allclose(fresh.module_.pathway_layers[0].weight, after)
    with pytest.raises(TypeError, match="seed must be an int"):
        BINNRegressor(small_mask, max_epochs=0,
                      callbacks=[PublishedInit(seed=1.5)]).fit(X, X[:, 0])


def test_published_metrics_errors(small_mask):
    teacher = PublishedTeacher(small_mask, head_layer_sizes=(), random_state=0)
    X, _ = teacher.sample(50, random_state=0)
    with pytest.raises(ValueError, match="layer must be an int between 0 and 0"):
        published_metrics(teacher.to_estimator(), teacher, X, layer=1)
    with pytest.raises(TypeError, match="student must be a fitted BINN"):
        published_metrics("student", teacher, X)


def test_load_published_results():
    published = load_published_results()
    assert list(published.columns[:3]) == ["source", "n_train", "student_seed"]
    nested = published[published["source"] == "fixed_test_sample_size_trials"]
    assert nested.groupby("n_train")["test_r2"].mean().round(4).to_dict() == {
        12000: 0.8049, 24000: 0.8529, 48000: 0.9008, 96000: 0.9288,
    }


# -------------------------------------------------------------------- benchmark
@pytest.fixture(scope="module")
def benchmark_module():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import reproduce_published
    finally:
        sys.path.remove(str(BENCHMARKS))
    return reproduce_published


def test_benchmark_verdict_criterion(benchmark_module):
    published = load_published_results()
    theirs = published[published["source"] == "fixed_test_sample_size_trials"]
    ours = theirs.rename(columns={"student_seed": "seed"}).assign(
        design="nested", arch="published", task="regression", student="trained",
        epochs=120, n_pool=96000, n_test=3000,
    )
    same = benchmark_module.comparison_table(ours, published)
    assert (same["loose_test"] == "yes").all()
    assert np.allclose(same["difference"], 0) and np.allclose(same["max_paired_difference"], 0)
    assert np.allclose(same["paired_mean"], 0) and np.allclose(same["paired_sd"], 0)
    shifted = benchmark_module.comparison_table(ours.assign(test_r2=ours["test_r2"] - 0.1),
                                                published)
    verdict = shifted.set_index(["n_train", "metric"])["loose_test"]
    assert (verdict.xs("test_r2", level="metric") == "NO").all()
    assert (verdict.drop("test_r2", level="metric") == "yes").all()
    # tolerance = 2 * pooled sd * sqrt(1/3 + 1/3); here both sds are the published sd
    row = same[(same["n_train"] == 12000) & (same["metric"] == "test_r2")].iloc[0]
    sd = theirs[theirs["n_train"] == 12000]["test_r2"].std()
    assert row["tolerance"] == pytest.approx(2 * sd * np.sqrt(2 / 3))


def test_benchmark_cli_smoke(benchmark_module, tmp_path):
    argv = ["--quick", "--parts", "reproduce", "--sizes", "200", "--pool", "200",
            "--n-test", "100", "--epochs", "1", "--chance-draws", "2", "--out", str(tmp_path)]
    results = benchmark_module.main(argv)
    assert sorted(results["student"]) == ["teacher", "trained", "untrained", "untrained"]
    teacher = results[results["student"] == "teacher"].iloc[0]
    assert teacher["relL2_mean"] == pytest.approx(0, abs=1e-8)
    assert teacher["weight_recovery"] == pytest.approx(1)
    comparison = pd.read_csv(tmp_path / "reproduce_published_comparison.csv")
    assert comparison["loose_test"].str.startswith("not comparable").all()
    again = benchmark_module.main(argv)  # resumes: nothing new
    pd.testing.assert_frame_equal(again, results)
    with pytest.raises(SystemExit):
        benchmark_module.main(["--epochs", "3", "--out", str(tmp_path)])


# ------------------------------------------------------------------- namespace
def test_the_recipe_lives_in_its_submodule_only():
    assert set(published_module.__all__) == {
        "PublishedInit", "PublishedTeacher", "load_published_results",
        "make_published_problem", "published_activation_scores", "published_metrics",
        "published_weight_scores",
    }
    assert not set(published_module.__all__) & set(sklearn_binn.__all__)
    assert not any(hasattr(sklearn_binn, name) for name in published_module.__all__)


@pytest.mark.parametrize("name", published_module.__all__)
def test_public_name_has_docstring_with_example(name):
    doc = getattr(published_module, name).__doc__ or ""
    assert len(doc.strip()) > 40
    assert "Examples\n" in doc and ">>> from sklearn_binn.published import" in doc
