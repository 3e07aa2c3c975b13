"""TeacherDataset: the teacher's weights, its input models, its targets, its estimator."""

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit, softmax
from sksurv.linear_model import CoxPHSurvivalAnalysis

from sklearn_binn import (
    BINNClassifier,
    BINNRegressor,
    BINNSurvival,
    PathwayMask,
    TeacherDataset,
)
from sklearn_binn.datasets import make_pathway_mask

MASK = make_pathway_mask(30, n_pathways=(8, 4, 2), overlap=1.5, random_state=0)


def _dense_forward(teacher, X):
    """The teacher's output and activations recomputed from its weights in numpy."""
    act = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0), "sigmoid": expit,
           "identity": lambda z: z}
    h, acts = X, []
    weights, biases = teacher.weights, teacher.biases
    depth = teacher.mask.depth
    for k in range(len(weights)):
        z = h @ weights[k].toarray() + biases[k]
        if k == len(weights) - 1:
            return z, acts
        h = act[teacher.activation if k < depth else teacher.head_activation](z)
        if k < depth:
            acts.append(h)


# ------------------------------------------------------------------ weights
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_nodes_are_scaled_and_centred(activation):
    teacher = TeacherDataset(MASK, activation=activation, weight_scale=1.5, random_state=0)
    X, _ = teacher.sample(20000, random_state=1)
    for k, z in enumerate(teacher.activations(X, pre_activation=True)):
        np.testing.assert_allclose(z.std(axis=0), 1.5, rtol=0.06, err_msg=f"layer {k}")
        np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=0.15, err_msg=f"layer {k}")
    if activation == "relu":  # centred: no dead node, each active on a good part
        for a in teacher.activations(X):
            active = (a > 0).mean(axis=0)
            assert active.min() > 0.3 and active.max() < 0.7
    np.testing.assert_allclose(teacher.predict(X).std(), 1.0, rtol=0.06)


def test_weights_follow_the_mask_and_reproduce_the_output():
    teacher = TeacherDataset(MASK, head_layer_sizes=(5,), random_state=0)
    assert len(teacher.weights) == MASK.depth + 2 == len(teacher.biases)
    for w, m in zip(teacher.weights, MASK.layers):
        np.testing.assert_array_equal(w.indptr, m.indptr)
        np.testing.assert_array_equal(w.indices, m.indices)
        assert np.all(w.data != 0)
    assert teacher.weights[-2].shape == (2, 5) and teacher.weights[-1].shape == (5, 1)
    X, y = teacher.sample(300, random_state=1)
    out, acts = _dense_forward(teacher, X)
    np.testing.assert_allclose(teacher.predict(X), out[:, 0], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(y, teacher.predict(X))  # noise=0
    for a, b in zip(teacher.activations(X), acts):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_reproducible_seeds():
    a = TeacherDataset(MASK, random_state=3)
    b = TeacherDataset(MASK, random_state=3)
    c = TeacherDataset(MASK, random_state=4)
    for wa, wb, wc in zip(a.weights, b.weights, c.weights):
        np.testing.assert_array_equal(wa.data, wb.data)
        assert not np.allclose(wa.data, wc.data)
    Xa, ya = a.sample(50, random_state=0)
    Xb, yb = a.sample(50, random_state=0)
    Xc, yc = a.sample(50, random_state=1)
    np.testing.assert_array_equal(Xa, Xb)
    np.testing.assert_array_equal(ya, yb)
    assert not np.allclose(Xa, Xc)
    # the same inputs under another teacher give other targets
    Xd, yd = c.sample(50, random_state=0)
    np.testing.assert_array_equal(Xa, Xd)
    assert not np.allclose(ya, yd)
    assert not np.allclose(a.sample(5)[0], a.sample(5)[0])  # None: fresh draws


def test_dataframe_columns_matched_by_name():
    import pandas as pd

    teacher = TeacherDataset(MASK, random_state=0)
    X, _ = teacher.sample(20, random_state=0)
    frame = pd.DataFrame(X, columns=MASK.feature_names).iloc[:, ::-1]
    np.testing.assert_array_equal(teacher.predict(frame), teacher.predict(X))
    with pytest.raises(ValueError, match="lacks 1 gene"):
        teacher.predict(frame.iloc[:, 1:])
    with pytest.raises(ValueError, match="X has 29 features"):
        teacher.predict(X[:, 1:])


# --------------------------------------------------------------- input models
def test_latent_input_covariance_matches_its_formula():
    teacher = TeacherDataset(MASK, input_model="latent", beta=0.7, gene_noise=0.6, random_state=0)
    M = MASK.layers[0].toarray()  # genes x pathways
    cov = 0.49 * M @ M.T + 0.36 * np.eye(M.shape[0])
    sd = np.sqrt(np.diag(cov))
    expected = cov / np.outer(sd, sd)
    np.testing.assert_allclose(teacher.input_covariance(), expected, atol=1e-12)
    X, _ = teacher.sample(40000, random_state=1)
    np.testing.assert_allclose(np.cov(X, rowvar=False), expected, atol=0.03)
    assert expected[~np.eye(30, dtype=bool)].max() > 0.3  # the genes are correlated


def test_equicorrelated_and_independent_inputs():
    eq = TeacherDataset(MASK, input_model="equicorrelated", input_correlation=0.4, random_state=0)
    X, _ = eq.sample(40000, random_state=1)
    expected = np.full((30, 30), 0.4) + 0.6 * np.eye(30)
    np.testing.assert_allclose(eq.input_covariance(), expected)
    np.testing.assert_allclose(np.cov(X, rowvar=False), expected, atol=0.03)
    ind = TeacherDataset(MASK, random_state=0)
    X, _ = ind.sample(40000, random_state=1)
    np.testing.assert_allclose(np.cov(X, rowvar=False), np.eye(30), atol=0.03)


# -------------------------------------------------------------------- targets
def test_regression_noise_level():
    teacher = TeacherDataset(MASK, noise=0.5, random_state=0)
    X, y = teacher.sample(20000, random_state=1)
    residual = y - teacher.predict(X)
    assert abs(residual.mean()) < 0.02
    np.testing.assert_allclose(residual.std(), 0.5 * teacher.output_std[0], rtol=0.03)
    # signal-to-noise variance ratio 1 / 0.5^2 = 4
    np.testing.assert_allclose(teacher.predict(X).var() / residual.var(), 4.0, rtol=0.1)


def test_binary_labels():
    teacher = TeacherDataset(MASK, task="classification", output_scale=2.0, random_state=0)
    X, y = teacher.sample(20000, random_state=1)
    assert set(np.unique(y)) == {0, 1} and y.dtype == np.int64
    p = teacher.predict_proba(X)[:, 1]
    np.testing.assert_allclose(p, expit(teacher.predict(X)))
    # centred logit: balanced classes; Bernoulli draws: calibrated
    assert 0.4 < y.mean() < 0.6
    for low, high in [(0.0, 0.2), (0.4, 0.6), (0.8, 1.0)]:
        sel = (p >= low) & (p < high)
        se = np.sqrt(p[sel].mean() * (1 - p[sel].mean()) / sel.sum())
        assert abs(y[sel].mean() - p[sel].mean()) < 4 * se
    hard = TeacherDataset(MASK, task="classification", label_noise="threshold", random_state=0)
    X, y = hard.sample(500, random_state=1)
    np.testing.assert_array_equal(y, (hard.predict(X) > 0).astype(int))


def test_multiclass_labels():
    teacher = TeacherDataset(MASK, task="classification", n_classes=4, random_state=0)
    X, y = teacher.sample(20000, random_state=1)
    assert teacher.predict(X).shape == (20000, 4)
    proba = teacher.predict_proba(X)
    np.testing.assert_allclose(proba, softmax(teacher.predict(X), axis=1))
    counts = np.bincount(y, minlength=4)
    expected = proba.sum(axis=0)
    assert stats.chisquare(counts, expected).pvalue > 0.001
    hard = TeacherDataset(MASK, task="classification", n_classes=4,
                          label_noise="threshold", random_state=0)
    X, y = hard.sample(500, random_state=1)
    np.testing.assert_array_equal(y, hard.predict(X).argmax(axis=1))


@pytest.mark.parametrize("baseline", ["weibull", "exponential"])
@pytest.mark.parametrize("censoring", [0.0, 0.3, 0.6])
def test_censoring_fraction(baseline, censoring):
    teacher = TeacherDataset(MASK, task="survival", baseline=baseline, censoring=censoring,
                             random_state=0)
    X, y = teacher.sample(4000, random_state=1)
    assert y.dtype.names == ("event", "time")
    assert abs((1 - y["event"].mean()) - censoring) < 0.05
    assert np.all(y["time"] > 0)


@pytest.mark.parametrize("baseline, shape", [("exponential", 1.0), ("weibull", 1.5)])
def test_event_times_follow_the_cox_model(baseline, shape):
    teacher = TeacherDataset(MASK, task="survival", baseline=baseline, weibull_shape=1.5,
                             censoring=0.0, random_state=0)
    X, y = teacher.sample(3000, random_state=1)
    eta = teacher.predict(X)
    # H0(T) exp(eta) = T^shape exp(eta) is Exp(1) under the model
    assert stats.kstest(y["time"] ** shape * np.exp(eta), "expon").pvalue > 0.001
    # scikit-survival's Cox model on the true log-risk recovers coefficient 1
    cox = CoxPHSurvivalAnalysis().fit(eta[:, None], y)
    assert abs(cox.coef_[0] - 1.0) < 0.08


# ----------------------------------------------------------- as an estimator
@pytest.mark.parametrize(
    "task, kwargs, cls",
    [
        ("regression", {}, BINNRegressor),
        ("regression", {"head_layer_sizes": (3,), "activation": "relu"}, BINNRegressor),
        ("classification", {}, BINNClassifier),
        ("classification", {"n_classes": 3}, BINNClassifier),
        ("survival", {}, BINNSurvival),
    ],
)
def test_to_estimator_carries_the_teacher(task, kwargs, cls):
    teacher = TeacherDataset(MASK, task=task, random_state=0, **kwargs)
    X, y = teacher.sample(200, random_state=1)
    est = teacher.to_estimator(max_epochs=7)
    assert type(est) is cls and est.max_epochs == 7
    for a, b in zip(est.get_weights(include_output=True), teacher.weights):
        np.testing.assert_array_equal(a.toarray(), b.toarray())
    for a, b in zip(est.pathway_activations(X, as_frame=False), teacher.activations(X)):
        np.testing.assert_array_equal(a, b)
    if task == "classification":
        np.testing.assert_allclose(est.decision_function(X), teacher.predict(X), rtol=1e-6)
        np.testing.assert_allclose(est.predict_proba(X), teacher.predict_proba(X), rtol=1e-6)
        np.testing.assert_array_equal(est.classes_, np.arange(teacher.n_classes))
    else:
        np.testing.assert_allclose(est.predict(X), teacher.predict(X), rtol=1e-6)
    assert np.isfinite(est.score(X, y))


def test_survival_estimator_baseline_is_the_true_one():
    teacher = TeacherDataset(MASK, task="survival", baseline="weibull", weibull_shape=1.5,
                             n_reference=4000, random_state=0)
    est = teacher.to_estimator()
    # Breslow's estimate on the teacher's log-risk against H0(t) = t^1.5
    times = np.quantile(est.unique_times_, [0.2, 0.5, 0.8])
    np.testing.assert_allclose(est.cum_baseline_hazard_(times), times**1.5, rtol=0.1)


def test_to_estimator_keeps_the_architecture():
    teacher = TeacherDataset(MASK, random_state=0)
    with pytest.raises(ValueError, match=r"do not pass \['activation'\]"):
        teacher.to_estimator(activation="relu")


# -------------------------------------------------------------------- errors
def test_parameter_errors():
    with pytest.raises(TypeError, match="needs a fixed mask"):
        TeacherDataset(lambda genes: MASK)
    with pytest.raises(ValueError, match="noise=0.1 applies to task='regression' only"):
        TeacherDataset(MASK, task="classification", noise=0.1)
    with pytest.raises(ValueError, match="censoring"):
        TeacherDataset(MASK, task="survival", censoring=1.0)
    with pytest.raises(ValueError, match="task"):
        TeacherDataset(MASK, task="ranking")
    with pytest.raises(ValueError, match="depth=4 exceeds"):
        TeacherDataset(MASK, depth=4)
    with pytest.raises(ValueError, match="head_layer_sizes"):
        TeacherDataset(MASK, head_layer_sizes=(0,))
    teacher = TeacherDataset(MASK, random_state=0)
    with pytest.raises(ValueError, match="n_samples must be a positive int"):
        teacher.sample(0)
    with pytest.raises(ValueError, match="predict_proba needs task='classification'"):
        teacher.predict_proba(np.zeros((1, 30)))


def test_depth_truncates_and_gene_sets_work():
    teacher = TeacherDataset(MASK, depth=2, random_state=0)
    assert teacher.mask.depth == 2 and len(teacher.activations(np.zeros((3, 30)))) == 2
    gs = TeacherDataset({"P1": ["a", "b"], "P2": ["b", "c"]}, random_state=0)
    assert isinstance(gs.mask, PathwayMask) and gs.mask.layer_sizes == (2,)
