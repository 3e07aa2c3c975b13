"""pathway_importance / node_importance: hand-computed attributions, completeness, labels."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_binn import (
    BINNClassifier,
    BINNRegressor,
    BINNSurvival,
    PathwayMask,
    TeacherDataset,
    node_importance,
    pathway_importance,
)
from sklearn_binn._attribution import _AttributionNet
from sklearn_binn.datasets import make_pathway_mask
from sklearn_binn.modules import BINNModule

# genes A, B, C -> P1 = {A, B}, P2 = {B, C} -> TOP -> output
HAND_MASK = PathwayMask(
    [np.array([[1, 0], [1, 1], [0, 1]]), np.ones((2, 1))],
    feature_names=["A", "B", "C"],
    node_names=[["P1", "P2"], ["TOP"]],
)
MASK = make_pathway_mask(24, n_pathways=(6, 3, 2), overlap=2, random_state=0)
RNG = np.random.default_rng(0)
X_SMALL = RNG.normal(size=(12, 24)).astype(np.float32)


def _hand_estimator():
    """An identity-activation regressor with set weights; its function is
    f = 1.5 * (2 * z1 - z2 + 0.25) + 0.1 with z1 = a + 2b + 0.5, z2 = -b + 3c - 0.5."""
    X = np.zeros((20, 3))
    est = BINNRegressor(HAND_MASK, activation="identity", max_epochs=0).fit(X, np.zeros(20))
    module = est.module_
    with torch.no_grad():
        # CSR (row-major) edge order: (A,P1), (B,P1), (B,P2), (C,P2)
        module.pathway_layers[0].weight.copy_(torch.tensor([1.0, 2.0, -1.0, 3.0]))
        module.pathway_layers[0].bias.copy_(torch.tensor([0.5, -0.5]))
        module.pathway_layers[1].weight.copy_(torch.tensor([2.0, -1.0]))
        module.pathway_layers[1].bias.copy_(torch.tensor([0.25]))
        module.output.weight.copy_(torch.tensor([[1.5]]))
        module.output.bias.copy_(torch.tensor([0.1]))
    return est


def _hand_values(X):
    a, b, c = X[:, 0], X[:, 1], X[:, 2]
    z1, z2 = a + 2 * b + 0.5, -b + 3 * c - 0.5
    top = 2 * z1 - z2 + 0.25
    return z1, z2, top


X_HAND = np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 2.0], [-2.0, 0.0, 1.5], [0.3, 0.7, -0.2]])


# ------------------------------------------------------------ hand network
@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift", "gradient_x_input"])
def test_gene_attributions_equal_gradient_times_input_by_hand(method):
    est = _hand_estimator()
    attr = pathway_importance(est, X_HAND, method=method, layer="genes")
    # df/da = 1.5 * 2, df/db = 1.5 * (2 * 2 + 1), df/dc = 1.5 * (-3)
    expected = X_HAND * np.array([3.0, 7.5, -4.5])
    np.testing.assert_allclose(attr.to_numpy(), expected, rtol=1e-5, atol=1e-5)
    assert list(attr.columns) == ["A", "B", "C"]


@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift"])
def test_pathway_attributions_by_hand(method):
    est = _hand_estimator()
    z1, z2, top = _hand_values(X_HAND)
    z1_0, z2_0, top_0 = _hand_values(np.zeros((1, 3)))
    layer0, layer1 = pathway_importance(est, X_HAND, method=method)
    # df/dz1 = 3, df/dz2 = -1.5, df/dtop = 1.5; from the all-zero baseline
    np.testing.assert_allclose(layer0["P1"], 3.0 * (z1 - z1_0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer0["P2"], -1.5 * (z2 - z2_0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer1["TOP"], 1.5 * (top - top_0), rtol=1e-5, atol=1e-5)


def test_layer_gradient_x_activation_by_hand():
    est = _hand_estimator()
    z1, z2, top = _hand_values(X_HAND)
    layer0 = pathway_importance(est, X_HAND, method="gradient_x_input", layer=0)
    np.testing.assert_allclose(layer0["P1"], 3.0 * z1, rtol=1e-5)
    np.testing.assert_allclose(layer0["P2"], -1.5 * z2, rtol=1e-5)
    top_layer = pathway_importance(est, X_HAND, method="gradient_x_input", layer=-1)
    np.testing.assert_allclose(top_layer["TOP"], 1.5 * top, rtol=1e-5)


def test_weight_and_activation_variance_by_hand():
    est = _hand_estimator()
    genes = pathway_importance(est, X_HAND, method="weight", layer="genes")
    assert genes.to_dict() == {"A": 1.0, "B": 3.0, "C": 3.0}
    layer0, layer1 = pathway_importance(est, X_HAND, method="weight")
    assert layer0.to_dict() == {"P1": 2.0, "P2": 1.0}
    assert layer1.to_dict() == {"TOP": 1.5}
    z1, z2, top = _hand_values(X_HAND)
    var0 = pathway_importance(est, X_HAND, method="activation_variance", layer=0)
    np.testing.assert_allclose(var0.to_numpy(), [z1.var(), z2.var()], rtol=1e-5)
    var_genes = pathway_importance(est, X_HAND, method="activation_variance", layer="genes")
    np.testing.assert_allclose(var_genes.to_numpy(), X_HAND.var(axis=0), rtol=1e-6)


def test_columns_matched_by_name_and_index_kept():
    est = _hand_estimator()
    shuffled = pd.DataFrame(X_HAND[:, [2, 0, 1]], columns=["C", "A", "B"],
                            index=[f"s{i}" for i in range(4)])
    est_named = BINNRegressor(HAND_MASK, activation="identity", max_epochs=0).fit(
        pd.DataFrame(np.zeros((20, 3)), columns=["B", "C", "A"]), np.zeros(20)
    )
    est_named.module_.load_state_dict(est.module_.state_dict())
    attr = pathway_importance(est_named, shuffled, layer="genes")
    assert list(attr.index) == ["s0", "s1", "s2", "s3"]
    assert list(attr.columns) == ["A", "B", "C"]  # the mask's gene order
    np.testing.assert_allclose(attr.to_numpy(), X_HAND * [3.0, 7.5, -4.5], rtol=1e-5, atol=1e-5)
    layer0 = pathway_importance(est_named, shuffled, layer=0)
    assert list(layer0.columns) == ["P1", "P2"] and list(layer0.index) == list(shuffled.index)


# ------------------------------------------------------------ completeness
@pytest.mark.parametrize(
    "params",
    [
        {"activation": "tanh"},
        {"activation": "relu", "batch_norm": True},
        {"activation": "sigmoid", "head_layer_sizes": (4,)},
    ],
)
def test_integrated_gradients_and_deeplift_are_complete(params):
    teacher = TeacherDataset(MASK, random_state=0)
    X, y = teacher.sample(60, random_state=0)
    est = BINNRegressor(MASK, max_epochs=2, random_state=0, **params).fit(X, y)
    net = _AttributionNet(est.module_)
    est.module_.eval()
    with torch.no_grad():
        explained = net(torch.as_tensor(X_SMALL)).numpy()[:, 0]
        np.testing.assert_array_equal(explained, est.module_(torch.as_tensor(X_SMALL))[:, 0])
    np.testing.assert_allclose(explained, est.predict(X_SMALL), rtol=1e-6, atol=1e-7)
    baseline = RNG.normal(size=24)
    f_x = est.predict(X_SMALL)
    f_b = est.predict(baseline[None, :].astype(np.float32))
    for method in ("integrated_gradients", "deeplift"):
        attributions = [pathway_importance(est, X_SMALL, method, "genes", baseline, n_steps=200)]
        attributions += pathway_importance(est, X_SMALL, method, None, baseline, n_steps=200)
        assert len(attributions) == 1 + MASK.depth
        for attr in attributions:
            np.testing.assert_allclose(attr.sum(axis=1), f_x - f_b, atol=2e-4,
                                       err_msg=f"{method} {list(attr.columns)[:2]}")


def _ig_case(case):
    """A fitted estimator, its samples and the target captum is given."""
    if case == "chain-regressor":
        X, y = TeacherDataset(MASK, random_state=0).sample(60, random_state=0)
        return BINNRegressor(MASK, max_epochs=2, random_state=0).fit(X, y), X[:40], 0
    from sklearn_binn.study import reactome_subset  # skip-level edges into every layer

    mask = reactome_subset(150)
    X = np.random.default_rng(1).normal(size=(90, mask.n_features)).astype(np.float32)
    y = np.arange(90) % 3
    est = BINNClassifier(mask, max_epochs=3, random_state=0).fit(X, y)
    with torch.no_grad():
        target = est.module_(torch.as_tensor(X)).argmax(dim=1).tolist()
    return est, X, target  # multiclass: each sample's predicted class


@pytest.mark.parametrize("method", ["integrated_gradients", "gradient_x_input"])
@pytest.mark.parametrize("case", ["chain-regressor", "skip-multiclass"])
def test_batched_gradient_methods_equal_captums(case, method):
    """Integrated gradients and gradient × input, computed with one backward per
    pass, against captum's own (one gradient per sample), layer by layer."""
    from captum.attr import (
        InputXGradient,
        IntegratedGradients,
        LayerGradientXActivation,
        LayerIntegratedGradients,
    )

    est, X, target = _ig_case(case)
    baseline = np.random.default_rng(2).normal(size=(1, X.shape[1])).astype(np.float32)
    net = _AttributionNet(est.module_)
    est.module_.eval()
    inputs = torch.as_tensor(X)
    kwargs = {"target": target}
    if method == "integrated_gradients":
        kwargs.update(baselines=torch.as_tensor(np.repeat(baseline, len(X), axis=0)),
                      n_steps=20)
    plain, tapped = {"integrated_gradients": (IntegratedGradients, LayerIntegratedGradients),
                     "gradient_x_input": (InputXGradient, LayerGradientXActivation)}[method]
    for layer in ["genes", *range(est.mask_.depth)]:
        ours = pathway_importance(est, X, method, layer, n_steps=20,
                                  baseline=baseline if "baselines" in kwargs else None)
        explainer = plain(net) if layer == "genes" else tapped(net, net.taps[layer])
        captum = explainer.attribute(inputs.clone().requires_grad_(), **kwargs).detach().numpy()
        assert ours.shape == captum.shape and np.abs(captum).max() > 0
        np.testing.assert_allclose(ours.to_numpy(), captum, rtol=1e-4,
                                   atol=1e-5 * np.abs(captum).max(), err_msg=str(layer))


class _SkipModule(BINNModule):
    """A BINNModule whose forward adds a path that bypasses the pathway layers."""

    def forward(self, X, pathway_targets=None):
        X = X.to(self.output.weight.dtype)
        return 2.0 * super().forward(X) + 0.5 * X[:, :1] - X[:, 1:2]


@pytest.mark.parametrize("params", [{}, {"batch_norm": True, "head_layer_sizes": (3,)}])
def test_attribution_runs_the_modules_own_forward(params):
    # a copy of BINNModule's forward pass inside the attribution would miss the
    # skip path: its output and its gene attributions would not add up to predict
    X, y = TeacherDataset(MASK, random_state=0).sample(60, random_state=0)
    est = BINNRegressor(MASK, module=_SkipModule, max_epochs=2, random_state=0,
                        **params).fit(X, y)
    net = _AttributionNet(est.module_)
    est.module_.eval()
    with torch.no_grad():
        np.testing.assert_allclose(
            net(torch.as_tensor(X_SMALL)).numpy()[:, 0], est.predict(X_SMALL), rtol=1e-6
        )
    baseline = RNG.normal(size=24)
    delta = est.predict(X_SMALL) - est.predict(baseline[None, :].astype(np.float32))
    for method in ("integrated_gradients", "deeplift"):
        attr = pathway_importance(est, X_SMALL, method, "genes", baseline, n_steps=200)
        np.testing.assert_allclose(attr.sum(axis=1), delta, atol=2e-4, err_msg=method)
    # captum's hooks are gone from the module after the passes
    hooks = [(m._forward_hooks, m._forward_pre_hooks, m._backward_hooks)
             for m in est.module_.modules()]
    assert not any(any(h) for h in hooks)


def test_mean_baseline_is_the_mean_sample():
    est = BINNRegressor(MASK, max_epochs=0, random_state=0).fit(X_SMALL, X_SMALL[:, 0])
    attr = pathway_importance(est, X_SMALL, layer=1, baseline="mean", n_steps=200)
    f_mean = est.predict(X_SMALL.mean(axis=0, keepdims=True))
    np.testing.assert_allclose(attr.sum(axis=1), est.predict(X_SMALL) - f_mean, atol=1e-4)


# --------------------------------------------------------------- targets
def test_binary_classifier_explains_the_log_odds():
    X, y = TeacherDataset(MASK, task="classification", random_state=0).sample(60, random_state=0)
    labels = np.array(["no", "yes"])[y]
    clf = BINNClassifier(MASK, max_epochs=2, random_state=0).fit(X, labels)
    logit = clf.decision_function(X_SMALL) - clf.decision_function(np.zeros((1, 24)))
    yes = pathway_importance(clf, X_SMALL, layer=0, n_steps=100)
    np.testing.assert_allclose(yes.sum(axis=1), logit, atol=1e-4)
    no = pathway_importance(clf, X_SMALL, layer=0, target="no", n_steps=100)
    np.testing.assert_allclose(no.to_numpy(), -yes.to_numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="target must be one of the classes"):
        pathway_importance(clf, X_SMALL, target="maybe")


def test_multiclass_classifier_targets():
    X, y = TeacherDataset(MASK, task="classification", n_classes=3,
                          random_state=0).sample(90, random_state=0)
    clf = BINNClassifier(MASK, max_epochs=2, random_state=0).fit(X, y)
    logits = clf.decision_function(X_SMALL) - clf.decision_function(np.zeros((1, 24)))
    for label in (0, 2):
        attr = pathway_importance(clf, X_SMALL, layer="genes", target=label, n_steps=100)
        np.testing.assert_allclose(attr.sum(axis=1), logits[:, label], atol=1e-4)
    predicted = clf.decision_function(X_SMALL).argmax(axis=1)
    attr = pathway_importance(clf, X_SMALL, layer=-1, n_steps=100)
    np.testing.assert_allclose(
        attr.sum(axis=1), logits[np.arange(len(X_SMALL)), predicted], atol=1e-4
    )


def test_survival_explains_the_log_risk():
    X, y = TeacherDataset(MASK, task="survival", random_state=0).sample(80, random_state=0)
    est = BINNSurvival(MASK, max_epochs=2, random_state=0).fit(X, y)
    attr = pathway_importance(est, X_SMALL, layer=0, method="deeplift")
    risk = est.predict(X_SMALL) - est.predict(np.zeros((1, 24)))
    np.testing.assert_allclose(attr.sum(axis=1), risk, atol=1e-4)
    with pytest.raises(ValueError, match="one output, the log-risk"):
        pathway_importance(est, X_SMALL, target=1)


def test_multi_output_regressor_needs_a_target():
    Y = np.column_stack([X_SMALL[:, 0], X_SMALL[:, 1]])
    est = BINNRegressor(MASK, max_epochs=0, random_state=0).fit(X_SMALL, Y)
    with pytest.raises(ValueError, match="has 2 outputs; pass target"):
        pathway_importance(est, X_SMALL)
    attr = pathway_importance(est, X_SMALL, layer=0, target=1, n_steps=100)
    diff = est.predict(X_SMALL)[:, 1] - est.predict(np.zeros((1, 24)))[:, 1]
    np.testing.assert_allclose(attr.sum(axis=1), diff, atol=1e-4)


def test_pipeline_transforms_X_and_the_baseline_is_zero_after_it():
    X = pd.DataFrame(RNG.normal(3.0, 2.0, size=(40, 24)), columns=MASK.feature_names)
    pipe = make_pipeline(StandardScaler(), BINNRegressor(MASK, max_epochs=2, random_state=0))
    pipe.fit(X, X.iloc[:, 0].to_numpy())
    attr = pathway_importance(pipe, X.iloc[:5], layer="genes", n_steps=100)
    # zero after scaling is the training mean
    f_b = pipe.predict(pd.DataFrame([pipe[0].mean_], columns=X.columns))
    np.testing.assert_allclose(attr.sum(axis=1), pipe.predict(X.iloc[:5]) - f_b, atol=1e-4)
    # an array baseline is given in X's space and passes through the scaler
    raw = np.full(24, 3.0)
    attr = pathway_importance(pipe, X.iloc[:5], layer=0, baseline=raw, n_steps=100)
    f_raw = pipe.predict(pd.DataFrame([raw], columns=X.columns))
    np.testing.assert_allclose(attr.sum(axis=1), pipe.predict(X.iloc[:5]) - f_raw, atol=1e-4)


# ------------------------------------------------------- node importance
def test_node_importance_is_the_mean_absolute_attribution():
    est = _hand_estimator()
    attr = pathway_importance(est, X_HAND, layer=0)
    node = node_importance(est, X_HAND, layer=0)
    np.testing.assert_allclose(node.to_numpy(), np.abs(attr.to_numpy()).mean(axis=0))
    assert node.name == "integrated_gradients"
    per_layer = node_importance(est, X_HAND, method="weight")
    assert [s.to_dict() for s in per_layer] == [{"P1": 2.0, "P2": 1.0}, {"TOP": 1.5}]


# ------------------------------------------------------------------ errors
def test_bad_arguments_are_named():
    est = _hand_estimator()
    with pytest.raises(ValueError, match="method must be one of"):
        pathway_importance(est, X_HAND, method="shap")
    with pytest.raises(ValueError, match="layer must be None .* between -2 and 1; got 2"):
        pathway_importance(est, X_HAND, layer=2)
    with pytest.raises(ValueError, match="gradient_x_input' has no baseline"):
        pathway_importance(est, X_HAND, method="gradient_x_input", baseline="mean")
    with pytest.raises(ValueError, match=r"baseline must have shape \(3,\), \(1, 3\) or \(4, 3\)"):
        pathway_importance(est, X_HAND, baseline=np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"like X; got \(5,\)"):
        pathway_importance(est, X_HAND, baseline=np.zeros(5))
    with pytest.raises(ValueError, match="baseline must be None, 'mean'"):
        pathway_importance(est, X_HAND, baseline="median")
    with pytest.raises(ValueError, match="n_steps must be a positive int"):
        pathway_importance(est, X_HAND, n_steps=0)
    with pytest.raises(ValueError, match="output index between 0 and 0"):
        pathway_importance(est, X_HAND, target=3)
    with pytest.raises(TypeError, match="Attribution needs a fitted BINNClassifier"):
        pathway_importance(StandardScaler(), X_HAND)
