"""Training and prediction in float64 (``dtype="float64"``) for the three BINN estimators."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.special import softmax
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sksurv.util import Surv

from sklearn_binn import (
    BINNClassifier,
    BINNRegressor,
    BINNSurvival,
    TeacherDataset,
    node_importance,
    recovery_report,
)
from sklearn_binn.datasets import make_pathway_mask
from sklearn_binn.study import training_objective

# short fits stop on their epoch budget on purpose
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def problem():
    """A depth-2 mask, data in the mask's gene order, three kinds of target."""
    mask = make_pathway_mask(40, depth=2, random_state=0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, mask.n_features))
    y = X[:, :5].sum(axis=1) / 3.0 + 0.1 * rng.normal(size=len(X))
    labels = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    surv = Surv.from_arrays(event=rng.random(len(X)) < 0.7, time=rng.exponential(np.exp(-y)))
    return mask, X, y, labels, surv


def _floating_tensors(est):
    module = est.module_
    return [t for t in [*module.parameters(), *module.buffers()] if t.is_floating_point()]


def _numpy_forward(est, X, head_act=lambda z: np.maximum(z, 0.0)):
    """The network's output, recomputed in numpy float64 from its stored weights.

    Pathway layer ``k``: the per-edge weights (CSR order of ``mask_.layers[k]``)
    scattered into a dense ``(n_inputs, n_nodes)`` matrix, then tanh; the head
    (ReLU) and output as plain affine maps.
    """
    state = {k: v.detach().cpu().numpy() for k, v in est.module_.state_dict().items()}
    h = np.asarray(X, dtype=np.float64)
    for k, layer in enumerate(est.mask_.layers):
        csr = sp.csr_matrix(layer, dtype=np.float64)
        csr.eliminate_zeros()
        csr.sort_indices()
        dense = np.zeros(csr.shape)
        rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
        dense[rows, csr.indices] = state[f"pathway_layers.{k}.weight"]
        h = np.tanh(h @ dense + state[f"pathway_layers.{k}.bias"])
    for j in range(len(est.head_layer_sizes)):
        h = head_act(h @ state[f"head_layers.{j}.weight"].T + state[f"head_layers.{j}.bias"])
    return h @ state["output.weight"].T + state["output.bias"]


# ------------------------------------------------------------- the network
def test_regressor_float64_forward_matches_numpy(problem):
    mask, X, y, _, _ = problem
    est = BINNRegressor(mask, dtype="float64", head_layer_sizes=(4,), max_epochs=3,
                        random_state=0).fit(X, y)
    tensors = _floating_tensors(est)
    assert len(tensors) >= 8 and all(t.dtype == torch.float64 for t in tensors)
    reference = _numpy_forward(est, X)[:, 0]
    np.testing.assert_allclose(est.predict(X), reference, rtol=0, atol=1e-12)
    # float32 rounds far beyond that: the bound can tell the two apart
    est32 = BINNRegressor(mask, head_layer_sizes=(4,), max_epochs=3, random_state=0).fit(X, y)
    assert np.max(np.abs(est32.predict(X) - _numpy_forward(est32, X)[:, 0])) > 1e-10


def test_classifier_float64_probabilities_match_numpy(problem):
    mask, X, _, labels, _ = problem
    est = BINNClassifier(mask, dtype="float64", max_epochs=3, random_state=0).fit(X, labels)
    assert all(t.dtype == torch.float64 for t in _floating_tensors(est))
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba, softmax(_numpy_forward(est, X), axis=1), rtol=0,
                               atol=1e-12)


def test_survival_float64_risk_matches_numpy(problem):
    mask, X, _, _, surv = problem
    est = BINNSurvival(mask, dtype="float64", max_epochs=3, random_state=0).fit(X, surv)
    assert all(t.dtype == torch.float64 for t in _floating_tensors(est))
    risk = est.predict(X)
    np.testing.assert_allclose(risk, _numpy_forward(est, X)[:, 0], rtol=0, atol=1e-12)
    # S(t | x) = S0(t) ** exp(risk), on the float64 risks
    surv_fn = est.predict_survival_function(X[:3], return_array=True)
    s0 = est.baseline_survival_(est.unique_times_)
    np.testing.assert_allclose(surv_fn, s0[None, :] ** np.exp(risk[:3, None]), rtol=1e-12)
    assert est.score(X, surv) > 0.5


def test_dtype_spellings_are_the_same(problem):
    mask, X, y, _, _ = problem
    predictions = [
        BINNRegressor(mask, dtype=dtype, max_epochs=2, random_state=0).fit(X, y).predict(X)
        for dtype in ("float64", np.float64, torch.float64)
    ]
    np.testing.assert_array_equal(predictions[0], predictions[1])
    np.testing.assert_array_equal(predictions[0], predictions[2])
    a = BINNRegressor(mask, max_epochs=2, random_state=0).fit(X, y).predict(X)
    b = BINNRegressor(mask, dtype=torch.float32, max_epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(a, b.predict(X))


def test_float64_starts_where_float32_starts(problem):
    """The initial weights are drawn as in float32, then widened exactly."""
    mask, X, y, _, _ = problem
    w32 = BINNRegressor(mask, max_epochs=0, random_state=3).fit(X, y).module_.state_dict()
    w64 = BINNRegressor(mask, max_epochs=0, random_state=3, dtype="float64").fit(X, y)
    for name, value in w64.module_.state_dict().items():
        if value.is_floating_point():
            assert value.dtype == torch.float64
            assert torch.equal(value, w32[name].double())


def test_readers_work_in_float64(problem):
    mask, X, y, _, _ = problem
    est = BINNRegressor(mask, dtype="float64", max_epochs=2, random_state=0).fit(X, y)
    weights = est.get_weights(include_output=True)
    state = est.module_.state_dict()
    np.testing.assert_array_equal(weights[0].data, state["pathway_layers.0.weight"].numpy())
    acts = est.pathway_activations(X[:5], layer=0, as_frame=False)
    pre = est.pathway_activations(X[:5], layer=0, pre_activation=True, as_frame=False)
    np.testing.assert_allclose(acts, np.tanh(pre), rtol=0, atol=1e-15)
    np.testing.assert_allclose(pre, X[:5] @ weights[0].toarray()
                               + state["pathway_layers.0.bias"].numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift", "weight"])
def test_attribution_works_in_float64(problem, method):
    """Same starting weights (no epoch trained): the float32 importances, to its rounding."""
    mask, X, y, _, _ = problem
    nets = [BINNRegressor(mask, max_epochs=0, random_state=0, dtype=dtype).fit(X, y)
            for dtype in ("float32", "float64")]
    imp32, imp64 = (np.asarray(node_importance(net, X[:20], method=method, layer=1), dtype=float)
                    for net in nets)
    assert np.all(np.isfinite(imp64)) and np.any(imp64 > 0)
    np.testing.assert_allclose(imp64, imp32, rtol=1e-5, atol=1e-7)


def test_training_objective_in_float64(problem):
    """study.training_objective evaluates a float64 network in float64."""
    mask, X, y, _, _ = problem
    est = BINNRegressor(mask, dtype="float64", max_epochs=3, random_state=0).fit(X, y)
    expected = np.mean((est.predict(X) - y) ** 2)
    assert training_objective(est, X, y) == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------- converged training
def test_lbfgs_float64_trains_far_below_float32():
    """A noiseless teacher: float64 L-BFGS reaches an MSE float32 cannot, and the weights."""
    mask = make_pathway_mask(30, depth=1, random_state=0)
    teacher = TeacherDataset(mask, random_state=0)
    X, y = teacher.sample(10 * mask.n_edges, random_state=0)
    X_test, _ = teacher.sample(500, random_state=1)
    mse = {}
    for dtype in ("float32", "float64"):
        student = BINNRegressor(mask, solver="lbfgs", tol=1e-12, max_epochs=300,
                                random_state=0, dtype=dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            student.fit(X, y)
        mse[dtype] = float(np.mean((student.predict(X) - y) ** 2))
    # the float64 fit stops at the teacher's own float32 rounding of y (~1e-15)
    assert mse["float64"] < 1e-12
    assert mse["float64"] < 1e-3 * mse["float32"]
    layers = recovery_report(student, teacher, X_test).layers
    assert (layers["weight_recovery"] > 0.999).all()


# ------------------------------------------------------------- sklearn API
def test_dtype_survives_clone_params_and_pickle(problem):
    mask, X, y, _, _ = problem
    est = BINNRegressor(mask, dtype="float64", max_epochs=2, random_state=0)
    assert est.get_params()["dtype"] == "float64"
    assert clone(est).dtype == "float64"
    assert clone(BINNRegressor(mask, dtype=torch.float64)).dtype is torch.float64
    est.fit(X, y)
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.dtype == "float64"
    assert all(t.dtype == torch.float64 for t in _floating_tensors(loaded))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert clone(est).set_params(dtype="float32").get_params()["dtype"] == "float32"


def test_grid_search_over_dtype(problem):
    mask, X, y, _, _ = problem
    search = GridSearchCV(
        BINNRegressor(mask, max_epochs=2, random_state=0),
        {"dtype": ["float32", "float64"]}, cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    chosen = search.best_estimator_.module_.output.weight.dtype
    assert chosen == {"float32": torch.float32, "float64": torch.float64}[
        search.best_params_["dtype"]]


@pytest.mark.parametrize("dtype", ["float16", "double", np.int64, torch.float16, None])
def test_bad_dtype_names_the_allowed_values(problem, dtype):
    mask, X, y, _, _ = problem
    with pytest.raises(ValueError, match="dtype.*'float32'.*'float64'|dtype.*'float64'.*'float32'"):
        BINNRegressor(mask, dtype=dtype, max_epochs=1).fit(X, y)


def test_bad_dtype_set_before_partial_fit_raises(problem):
    mask, X, y, _, _ = problem
    est = BINNRegressor(mask, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="dtype.*must be 'float32' or 'float64'"):
        est.set_params(dtype="float16").partial_fit(X, y)


def test_warm_start_partial_fit_and_n_init_in_float64(problem):
    mask, X, y, _, _ = problem
    est = BINNRegressor(mask, dtype="float64", max_epochs=2, warm_start=True,
                        random_state=0).fit(X, y)
    est.fit(X, y)
    est.partial_fit(X, y)
    assert len(est.history_) == 6
    assert all(t.dtype == torch.float64 for t in _floating_tensors(est))
    np.testing.assert_allclose(est.predict(X), _numpy_forward(est, X)[:, 0], rtol=0,
                               atol=1e-12)
    restarts = BINNRegressor(mask, dtype="float64", n_init=2, max_epochs=2,
                             random_state=0).fit(X, y)
    objectives = [training_objective(restarts, X, y)]
    assert len(restarts.init_losses_) == 2
    assert objectives[0] == pytest.approx(min(restarts.init_losses_), rel=1e-12)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_changing_dtype_on_a_warm_start_converts_the_network(problem, solver):
    mask, X, y, _, _ = problem
    est = BINNRegressor(mask, solver=solver, max_epochs=2, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        est.set_params(dtype="float64").fit(X, y)
    assert all(t.dtype == torch.float64 for t in _floating_tensors(est))
    assert all(
        v.dtype == torch.float64
        for state in est.optimizer_.state.values() for v in state.values()
        if torch.is_tensor(v) and v.is_floating_point() and v.dim() > 0
    )
    assert len(est.history_) == 4
    np.testing.assert_allclose(est.predict(X), _numpy_forward(est, X)[:, 0], rtol=0,
                               atol=1e-12)


def test_teacher_to_estimator_in_float64(problem):
    mask, X, _, _, _ = problem
    teacher = TeacherDataset(mask, random_state=0)
    est = teacher.to_estimator(dtype="float64")
    assert est.dtype == "float64"
    assert all(t.dtype == torch.float64 for t in _floating_tensors(est))
    # the teacher's float32 weights, widened exactly
    for name, value in teacher.module.state_dict().items():
        if value.is_floating_point():
            assert torch.equal(est.module_.state_dict()[name], value.double())
    np.testing.assert_allclose(est.predict(X), _numpy_forward(est, X)[:, 0], rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(est.predict(X), teacher.predict(X), rtol=1e-5, atol=1e-5)
