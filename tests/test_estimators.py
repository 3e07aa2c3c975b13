"""BINNClassifier and BINNRegressor as scikit-learn estimators."""

import gc
import os
import pickle
import signal
import threading
import types
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from skorch.callbacks import Callback
from skorch.callbacks import EarlyStopping as SkorchEarlyStopping
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_binn import BINNClassifier, BINNRegressor, PathwayMask

from _check_masks import RING_GENE_SETS, two_layer_mask

# Every check applies: no expected failures for either estimator.
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    [
        BINNRegressor(two_layer_mask, lr=1e-2, random_state=0),
        BINNClassifier(two_layer_mask, lr=1e-2, random_state=0),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture
def mask():
    hierarchy = [("P1", "T1"), ("P2", "T1"), ("P3", "T2"), ("P4", "T2"), ("T1", "R"), ("T2", "R")]
    # a chain (this hierarchy skips no level): _dense_forward below walks a chain;
    # skip-level masks are tested in test_skip_layers.py
    return PathwayMask.from_gene_sets(RING_GENE_SETS, hierarchy, copies=True)


@pytest.fixture
def data(mask):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, mask.n_features))
    y = np.tanh(X[:, 0] + X[:, 2]) - 0.5 * X[:, 5] + 0.05 * rng.normal(size=300)
    return X, y


def _dense_forward(estimator, X):
    """Independent numpy forward pass from the estimator's own weights."""
    module = estimator.module_
    h, acts = X, []
    for layer, weights in zip(module.pathway_layers, estimator.get_weights()):
        h = np.tanh(h @ weights.toarray() + layer.bias.detach().double().numpy())
        acts.append(h)
    weight = module.output.weight.detach().double().numpy()
    out = h @ weight.T + module.output.bias.detach().double().numpy()
    return out, acts


def test_regressor_fits_and_matches_dense_forward(mask, data):
    X, y = data
    reg = BINNRegressor(mask, lr=1e-2, random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.8
    out, acts = _dense_forward(reg, X)
    np.testing.assert_allclose(reg.predict(X), out[:, 0], rtol=1e-4, atol=1e-5)
    for k, act in enumerate(reg.pathway_activations(X)):
        assert list(act.columns) == list(reg.mask_.node_names[k])
        np.testing.assert_allclose(act.to_numpy(), acts[k], rtol=1e-4, atol=1e-5)


def test_weights_keep_the_mask_pattern(mask, data):
    X, y = data
    reg = BINNRegressor(mask, max_epochs=5, optimizer__weight_decay=0.1, random_state=0).fit(X, y)
    for weights, pattern in zip(reg.get_weights(), mask.layers):
        assert weights.shape == pattern.shape
        assert ((weights != 0).toarray() <= (pattern != 0).toarray()).all()
        assert weights.nnz == pattern.nnz
    frames = reg.get_weights(as_frame=True)
    assert list(frames[0].index) == list(mask.feature_names)
    assert list(frames[0].columns) == list(mask.node_names[0])
    with_output = reg.get_weights(include_output=True)
    assert with_output[-1].shape == (1, 1)
    assert reg.n_edges_ == mask.n_edges


def test_classifier_binary_multiclass_and_string_labels(mask, data):
    X, y = data
    labels = np.where(y > 0, "tumour", "normal")
    clf = BINNClassifier(mask, lr=1e-2, random_state=0).fit(X, labels)
    assert set(clf.classes_) == {"normal", "tumour"}
    assert clf.score(X, labels) > 0.85
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert clf.module_.output.out_features == 1
    three = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    clf3 = BINNClassifier(mask, lr=1e-2, random_state=0).fit(X, three)
    assert clf3.predict_proba(X).shape == (len(X), 3)
    assert clf3.score(X, three) > 0.7
    with pytest.raises(ValueError, match="not seen at fit"):
        clf.partial_fit(X[:5], ["a", "b", "a", "b", "a"])


def test_multioutput_regression(mask, data):
    X, y = data
    Y = np.column_stack([y, -y])
    reg = BINNRegressor(mask, lr=1e-2, n_iter_no_change=None, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == Y.shape
    assert reg.score(X, Y) > 0.8


def test_pandas_columns_matched_by_name(mask, data):
    X, y = data
    frame = pd.DataFrame(X, columns=mask.feature_names)
    shuffled = frame[frame.columns[::-1]]
    a = BINNRegressor(mask, max_epochs=5, random_state=0).fit(frame, y)
    b = BINNRegressor(mask, max_epochs=5, random_state=0).fit(shuffled, y)
    np.testing.assert_allclose(a.predict(frame), b.predict(shuffled), rtol=1e-5)
    np.testing.assert_allclose(b.predict(frame), b.predict(shuffled), rtol=1e-6)
    assert list(b.feature_names_in_) == list(shuffled.columns)
    extra = frame.assign(UNUSED=1.0)
    c = BINNRegressor(mask, max_epochs=2, random_state=0).fit(extra, y)
    assert c.n_features_in_ == mask.n_features + 1


def test_missing_genes_raise_or_drop(mask, data):
    X, y = data
    frame = pd.DataFrame(X, columns=mask.feature_names).drop(columns=["G3"])
    with pytest.raises(ValueError, match=r"missing from X's columns.*G3"):
        BINNRegressor(mask, max_epochs=2).fit(frame, y)
    with pytest.warns(UserWarning, match="Dropping 1 gene"):
        reg = BINNRegressor(mask, max_epochs=2, missing_genes="drop").fit(frame, y)
    assert "G3" not in reg.mask_.feature_names
    assert reg.mask_.n_edges == mask.n_edges - 1


def test_depth_grid_search_in_pipeline(mask, data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), BINNRegressor(mask, max_epochs=20, random_state=0))
    search = GridSearchCV(pipe, {"binnregressor__depth": [1, 2, 3]}, cv=2, n_jobs=2)
    search.fit(X, y)
    depths = [p["binnregressor__depth"] for p in search.cv_results_["params"]]
    assert depths == [1, 2, 3]
    assert search.best_estimator_[-1].mask_.depth == search.best_params_["binnregressor__depth"]
    est = BINNRegressor(mask, depth=2, max_epochs=2).fit(X, y)
    assert est.mask_.depth == 2 and len(est.module_.pathway_layers) == 2


def test_cross_validate_and_column_transformer(mask, data):
    X, y = data
    frame = pd.DataFrame(X, columns=mask.feature_names).assign(age=np.arange(len(X)))
    transformer = ColumnTransformer(
        [("genes", StandardScaler(), list(mask.feature_names))], verbose_feature_names_out=False
    ).set_output(transform="pandas")
    pipe = make_pipeline(transformer, BINNRegressor(mask, max_epochs=5, random_state=0))
    result = cross_validate(pipe, frame, y, cv=3, scoring=["r2", "neg_mean_squared_error"])
    assert len(result["test_r2"]) == 3
    assert np.all(np.isfinite(result["test_neg_mean_squared_error"]))


def test_reproducible_with_random_state(mask, data):
    X, y = data
    a = BINNClassifier(mask, max_epochs=5, dropout=0.2, random_state=3).fit(X, y > 0)
    b = BINNClassifier(mask, max_epochs=5, dropout=0.2, random_state=3).fit(X, y > 0)
    c = BINNClassifier(mask, max_epochs=5, dropout=0.2, random_state=4).fit(X, y > 0)
    for wa, wb, wc in zip(a.get_weights(), b.get_weights(), c.get_weights()):
        np.testing.assert_array_equal(wa.toarray(), wb.toarray())
        assert not np.array_equal(wa.toarray(), wc.toarray())
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_fit_leaves_global_torch_rng_alone(mask, data):
    X, y = data
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    BINNRegressor(mask, max_epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickle_and_joblib_round_trips(mask, data, dump, tmp_path):
    X, y = data
    clf = BINNClassifier(mask, max_epochs=5, random_state=0).fit(X, y > 0)
    if dump == "pickle":
        loaded = pickle.loads(pickle.dumps(clf))
    else:
        joblib.dump(clf, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.mask_ == clf.mask_
    cloned = clone(clf)
    assert not hasattr(cloned, "mask_")
    assert cloned.get_params()["max_epochs"] == 5


def test_nested_params_and_early_stopping(mask, data):
    X, y = data
    reg = BINNRegressor(mask, max_epochs=300, n_iter_no_change=3, tol=0.2, lr=1e-2, random_state=0)
    reg.set_params(optimizer__weight_decay=1e-3, module__dropout=0.0)
    assert reg.get_params()["optimizer__weight_decay"] == 1e-3
    reg.fit(X, y)
    assert reg.optimizer_.param_groups[0]["weight_decay"] == 1e-3
    assert len(reg.history_) < 300
    assert "valid_loss" in reg.history_[-1]
    no_split = BINNRegressor(mask, max_epochs=4, train_split=None, random_state=0).fit(X, y)
    assert "valid_loss" not in no_split.history_[-1]
    assert len(no_split.history_) == 4


def test_warm_start_and_partial_fit(mask, data):
    X, y = data
    reg = BINNRegressor(mask, max_epochs=3, n_iter_no_change=None, random_state=0).fit(X, y)
    reg.partial_fit(X, y)
    assert len(reg.history_) == 6


def test_divergence_is_reported_with_the_epoch(mask, data):
    X, y = data
    reg = BINNRegressor(
        mask, activation="identity", optimizer=torch.optim.SGD, lr=1e6, max_epochs=50,
        random_state=0,
    )
    with pytest.raises(FloatingPointError, match=r"diverged: train_loss is (nan|inf) at epoch \d+"):
        reg.fit(X, y)


def test_grid_search_parallel_is_bit_identical_to_serial(mask, data):
    X, y = data
    grid = {"depth": [1, 2], "activation": ["tanh", "relu"]}
    results = [
        GridSearchCV(BINNRegressor(mask, max_epochs=10, random_state=0), grid, cv=2, n_jobs=n_jobs)
        .fit(X, y)
        .cv_results_["mean_test_score"]
        for n_jobs in (1, 2)
    ]
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("Estimator", [BINNClassifier, BINNRegressor])
def test_docstring_documents_every_parameter(Estimator):
    from numpydoc.docscrape import ClassDoc
    import inspect

    documented = set()
    for param in ClassDoc(Estimator)["Parameters"]:
        documented.update(name.strip().lstrip("*") for name in param.name.split(","))
    signature = set(inspect.signature(Estimator.__init__).parameters) - {"self"}
    assert signature - documented == set()
    assert "Examples" in Estimator.__doc__


def test_training_batches_are_shuffled_by_default(mask, data):
    X, y = data
    reg = BINNRegressor(mask, max_epochs=1, train_split=None, random_state=0).fit(X, y)
    train = reg.get_iterator(reg.get_dataset(X, y), training=True)
    assert train.shuffle
    first, second = ([yb.numpy().copy() for _, yb in train] for _ in range(2))
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))  # new order
    assert np.array_equal(np.sort(np.concatenate(first)), np.sort(y))  # every sample once
    fixed = BINNRegressor(mask, max_epochs=1, iterator_train__shuffle=False, random_state=0)
    fixed.fit(X, y)
    batches = fixed.get_iterator(fixed.get_dataset(X, y), training=True)
    assert np.array_equal(np.concatenate([yb.numpy() for _, yb in batches]), y)
    assert not reg.get_iterator(reg.get_dataset(X, y)).shuffle


def test_sliced_batches_train_as_skorchs_dataloader_did(mask, data):
    """Batches sliced from tensors give the fit that DataLoader's per-sample path gives."""
    X, y = data
    fast = BINNRegressor(mask, max_epochs=3, batch_size=32, random_state=0).fit(X, y)
    # a DataLoader subclass is a user's own iterator: skorch's per-sample path
    slow = BINNRegressor(mask, max_epochs=3, batch_size=32, random_state=0,
                         iterator_train=_OwnLoader, iterator_valid=_OwnLoader).fit(X, y)
    assert type(slow.get_iterator(slow.get_dataset(X, y), training=True)) is _OwnLoader
    for a, b in zip(fast.module_.parameters(), slow.module_.parameters()):
        assert torch.equal(a, b)


class _OwnLoader(torch.utils.data.DataLoader):
    """A user's own loader class (identical behaviour to DataLoader)."""


def test_user_interrupt_propagates_but_early_stopping_stops_quietly(mask, data):
    X, y = data

    class Interrupt(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner, self.calls = inner, 0

        def forward(self, X):
            self.calls += 1
            if self.calls == 3:
                raise KeyboardInterrupt  # as a Ctrl-C landing in the forward pass would
            return self.inner(X)

    reg = BINNRegressor(mask, max_epochs=5, random_state=0).fit(X, y)
    reg.module_ = Interrupt(reg.module_)
    with pytest.raises(KeyboardInterrupt):
        reg.partial_fit(X, y)
    stopped = BINNRegressor(mask, max_epochs=300, n_iter_no_change=2, tol=0.5,
                            random_state=0).fit(X, y)
    assert len(stopped.history_) < 300


@pytest.fixture
def python_sigint_handler():
    """Python's own SIGINT handler for the test, whatever the process inherited.

    A process started in the background of a non-interactive shell inherits
    SIGINT ignored, and Python then installs no KeyboardInterrupt handler.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_sigint_arriving_inside_a_callback_propagates(mask, data, python_sigint_handler):
    """A real SIGINT delivered while a callback runs is the user's, not "stop training"."""
    X, y = data

    class SignalDuringScoring(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                os.kill(os.getpid(), signal.SIGINT)  # delivered at the next instruction
                sum(range(1000))

    reg = BINNRegressor(mask, max_epochs=5, callbacks=[SignalDuringScoring()], random_state=0)
    with pytest.raises(KeyboardInterrupt):
        reg.fit(X, y)
    # skorch's own early stopping raises on purpose inside a callback: a quiet stop
    foreign = BINNRegressor(mask, max_epochs=300, n_iter_no_change=None, random_state=0,
                            callbacks=[SkorchEarlyStopping(patience=1, threshold=0.5)])
    assert len(foreign.fit(X, y).history_) < 300


def test_fits_in_two_threads_give_what_they_give_alone(mask, data):
    """No fit reads torch's global generator: threads cannot disturb each other."""
    X, y = data
    params = dict(max_epochs=5, batch_size=16, random_state=0)
    alone = [BINNRegressor(mask, **params, lr=lr).fit(X, y).predict(X) for lr in (1e-3, 1e-2)]
    racing = [BINNRegressor(mask, **params, lr=lr) for lr in (1e-3, 1e-2)]
    barrier = threading.Barrier(2)

    def fit(est):
        barrier.wait()
        for _ in range(3):  # interleave draws: another fit in between each time
            est.fit(X, y)
            torch.rand(7)  # and the global generator advanced meanwhile
        return est.predict(X)

    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(fit, racing))
    for a, b in zip(alone, together):
        np.testing.assert_array_equal(a, b)


def test_supervised_model_keeps_no_activations(mask, data):
    """Pathway supervision reads activations from the module's output, not its state."""
    X, y = data
    names = list(PathwayMask(mask).node_names[0][:2])
    targets = pd.DataFrame(np.random.default_rng(0).normal(size=(len(X), 2)), columns=names)
    est = BINNRegressor(mask, max_epochs=3, random_state=0).fit(X, y, pathway_targets=targets)
    restored = pickle.loads(pickle.dumps(est))
    parameters = {id(p) for p in restored.module_.parameters()}
    seen, stack, tensors = set(), [restored], []
    while stack:  # every object reachable from the estimator
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, type, types.ModuleType)):
            continue
        seen.add(id(obj))
        if isinstance(obj, torch.Tensor):
            tensors.append(obj)
            continue
        stack.extend(gc.get_referents(obj))
    assert tensors
    graph = [t for t in tensors if t.grad_fn is not None]
    loose = [t for t in tensors if t.requires_grad and id(t) not in parameters]
    assert not graph and not loose
    assert not hasattr(restored.module_, "last_activations")


def test_lazy_frame_gets_a_clear_error(mask, data):
    pl = pytest.importorskip("polars")
    X, y = data
    frame = pl.DataFrame(X, schema=[str(g) for g in PathwayMask(mask).feature_names])
    with pytest.raises(TypeError, match=r"LazyFrame.*collect\(\)"):
        BINNRegressor(mask, max_epochs=1).fit(frame.lazy(), y)
    est = BINNRegressor(mask, max_epochs=1, random_state=0).fit(frame, y)
    with pytest.raises(TypeError, match=r"LazyFrame.*collect\(\)"):
        est.predict(frame.lazy())


def test_kernel_is_a_module_parameter(mask, data):
    """``module__kernel`` picks the layers' product; both train to the same model."""
    X, y = data
    fits = {
        kernel: BINNRegressor(mask, max_epochs=3, module__kernel=kernel, random_state=0).fit(X, y)
        for kernel in ("dense", "csr")
    }
    for kernel, est in fits.items():
        assert {layer.active_kernel for layer in est.module_.pathway_layers} == {kernel}
        assert f"kernel='{kernel}'" in repr(est.module_)
    np.testing.assert_allclose(fits["dense"].predict(X), fits["csr"].predict(X), atol=1e-4)
