"""Batches sliced from tensors against torch's DataLoader, the per-sample reference."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from skorch.dataset import Dataset
from torch.utils.data import DataLoader, Subset

from sklearn_binn._batches import SlicedBatches, sliceable

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _loader_batches(dataset, seed, **kwargs):
    """What DataLoader gives, drawing from torch's global generator seeded with ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        loader = DataLoader(dataset, **kwargs)
        return [[(xb, yb) for xb, yb in loader] for _ in range(3)]


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("batch_size", [1, 7, 32, 100])
def test_same_batches_as_dataloader(shuffle, batch_size):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(45, 3)).astype(np.float32)
    y = rng.integers(0, 3, size=45)
    subset = Subset(Dataset(X, y), rng.permutation(45)[:37])
    expected = _loader_batches(subset, 5, batch_size=batch_size, shuffle=shuffle)
    batches = SlicedBatches(*sliceable(subset), batch_size=batch_size, shuffle=shuffle,
                            generator=torch.Generator().manual_seed(5))
    got = [list(batches) for _ in range(3)]  # three epochs: the stream stays in step
    assert len(batches) == len(expected[0])
    for epoch, reference in zip(got, expected):
        assert len(epoch) == len(reference)
        for (xb, yb), (xr, yr) in zip(epoch, reference):
            assert xb.dtype == xr.dtype and yb.dtype == yr.dtype
            assert torch.equal(xb, xr) and torch.equal(yb, yr)


def test_dict_inputs_full_batch_and_no_target():
    X = {"X": np.arange(12.0).reshape(6, 2), "extra": np.arange(6)}
    batches = list(SlicedBatches(X, None, batch_size=-1))
    assert len(batches) == 1
    xb, yb = batches[0]
    assert yb is None and torch.equal(xb["extra"], torch.arange(6))
    assert torch.equal(xb["X"], torch.as_tensor(X["X"]))


def test_only_plain_datasets_are_sliced():
    X = np.zeros((4, 2), dtype=np.float32)

    class Own(Dataset):
        pass

    assert sliceable(Dataset(X, np.zeros(4))) is not None
    assert sliceable(Own(X, np.zeros(4))) is None
    assert sliceable(torch.utils.data.TensorDataset(torch.zeros(4, 2))) is None
    assert sliceable(Dataset([[0.0, 1.0]] * 4, None)) is None  # lists: skorch's own path


def test_read_only_memory_is_copied_not_shared():
    X = np.arange(6.0).reshape(3, 2)
    X.flags.writeable = False
    (xb, _), = SlicedBatches(X, batch_size=-1)
    assert torch.equal(xb, torch.as_tensor(X.copy()))


# ------------------------------------------------- the estimators' epoch loop
def _data(n=300, n_genes=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_genes)).astype(np.float32)
    return X, X[:, :5].sum(axis=1) + 0.1 * rng.normal(size=n)


def _mask(n_genes=30):
    from sklearn_binn.datasets import make_pathway_mask

    return make_pathway_mask(n_genes, depth=2, random_state=0)


class _Listener(Callback):
    """Hears every batch and every gradient; with it skorch's own loop runs."""

    def initialize(self):
        self.calls = []
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        self.calls.append(("begin", training, len(batch[0])))

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        self.calls.append(("end", training, len(batch[0])))
        # the entry of this batch is already in the history, as skorch writes it
        key = "train_loss" if training else "valid_loss"
        assert np.isfinite(net.history[-1, "batches", -1, key])

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.calls.append(("grad", all(p.grad is not None for _, p in named_parameters)))


def _without_durations(history):
    return [{k: v for k, v in row.items() if k != "dur"} for row in history]


def _same_fit(fast, slow):
    for a, b in zip(fast.module_.parameters(), slow.module_.parameters(), strict=True):
        assert torch.equal(a, b)
    assert _without_durations(fast.history_) == _without_durations(slow.history_)


@pytest.mark.parametrize("make", [
    lambda mask, **kw: _regressor(mask, batch_size=32, **kw),  # validation split, early stopping
    lambda mask, **kw: _regressor(mask, batch_size=-1, train_split=None, **kw),  # full batch
    lambda mask, **kw: _regressor(mask, solver="lbfgs", **kw),  # a closure is needed
    lambda mask, **kw: _classifier(mask, batch_size=50, **kw),  # EpochScoring on valid batches
], ids=["minibatch-validation", "full-batch", "lbfgs", "classifier"])
def test_fast_epochs_give_skorchs_loop_bit_for_bit(make):
    """Without batch listeners the loop skips per-batch notifies; the fit stays skorch's."""
    X, y = _data()
    mask = _mask()
    fast = make(mask).fit(X, y)
    assert fast._plain_step(fast.train_step) == (fast.solver == "adam")
    assert not fast._batches_heard(training=True)
    listener = _Listener()
    slow = make(mask, callbacks=[("listener", listener)]).fit(X, y)
    assert slow._batches_heard(training=True) and slow._batches_heard(training=False)
    _same_fit(fast, slow)
    # the listener heard the beginning and end of each batch, and each gradient
    n_batches = sum(row["train_batch_count"] + row.get("valid_batch_count", 0)
                    for row in slow.history_)
    calls = dict(slow.callbacks_)["listener"].calls
    assert sum(c[0] == "begin" for c in calls) == n_batches
    assert sum(c[0] == "end" for c in calls) == n_batches
    grads = [c for c in calls if c[0] == "grad"]
    assert grads and all(ok for _, ok in grads)


def _regressor(mask, **kwargs):
    from sklearn_binn import BINNRegressor

    kwargs.setdefault("max_epochs", 4)
    return BINNRegressor(mask, random_state=0, **kwargs)


def _classifier(mask, **kwargs):
    from sklearn_binn import BINNClassifier

    class Classes(BINNClassifier):  # y made binary for this test
        def fit(self, X, y, **fit_params):
            return super().fit(X, y > np.median(y), **fit_params)

    kwargs.setdefault("max_epochs", 4)
    return Classes(mask, random_state=0, **kwargs)


def test_partial_fit_and_batch_history_match_skorchs_loop():
    X, y = _data()
    mask = _mask()
    fast = _regressor(mask, batch_size=64, max_epochs=2).fit(X, y)
    slow = _regressor(mask, batch_size=64, max_epochs=2,
                      callbacks=[("listener", _Listener())]).fit(X, y)
    fast.partial_fit(X, y)
    slow.partial_fit(X, y)
    _same_fit(fast, slow)
    row = fast.history_[-1]
    n_train = row["train_batch_count"]
    assert [b["train_batch_size"] for b in row["batches"][:n_train]] == [64] * 4 + [14]
    # skorch's PassthroughScoring averages these entries into the epoch's train_loss
    losses = [b["train_loss"] for b in row["batches"][:n_train]]
    sizes = [b["train_batch_size"] for b in row["batches"][:n_train]]
    assert row["train_loss"] == pytest.approx(np.average(losses, weights=sizes), rel=1e-12)


def test_a_loss_outside_the_net_equals_the_recorded_batch_losses():
    """The recorded losses are the losses of the batches the loop trained on."""
    X, y = _data(n=128)
    mask = _mask()
    reg = _regressor(mask, batch_size=-1, train_split=None, max_epochs=1,
                     iterator_train__shuffle=False)
    reg.fit(X, y)
    # redo the single full-batch step by hand from the same initial weights
    ref = _regressor(mask, batch_size=-1, train_split=None, max_epochs=0).fit(X, y)
    with torch.no_grad():
        expected = torch.nn.functional.mse_loss(ref.module_(torch.as_tensor(X))[:, 0],
                                                torch.as_tensor(y, dtype=torch.float32))
    assert reg.history_[0, "batches", 0, "train_loss"] == float(expected)


def test_user_step_overrides_are_honoured():
    """A subclass's own train_step_single runs (no fused step around it)."""
    from sklearn_binn import BINNRegressor

    class Counting(BINNRegressor):
        steps = 0

        def train_step_single(self, batch, **fit_params):
            type(self).steps += 1
            return super().train_step_single(batch, **fit_params)

    X, y = _data()
    reg = Counting(_mask(), max_epochs=2, batch_size=100, train_split=None,
                   random_state=0).fit(X, y)
    assert not reg._plain_step(reg.train_step)
    assert Counting.steps == 2 * 3


def test_samples_are_placed_on_the_device_once():
    """Data and the shuffled order go to ``device`` (meta: a device other than the CPU)."""
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    batches = SlicedBatches(X, y, np.arange(1, 9), batch_size=3, shuffle=True,
                            generator=torch.Generator().manual_seed(0), device="meta")
    assert batches.X.device.type == "meta" and batches.y.device.type == "meta"
    got = list(batches)
    assert [tuple(xb.shape) for xb, _ in got] == [(3, 2), (3, 2), (2, 2)]
    assert all(xb.device.type == "meta" and yb.device.type == "meta" for xb, yb in got)


def test_full_batches_can_be_laid_out_feature_major():
    """Same values; only a batch of every sample, in order, changes its layout."""
    X = {"X": np.arange(24.0).reshape(6, 4), "extra": np.arange(6)}
    (xb, _), = SlicedBatches(X, None, batch_size=-1, feature_major=True)
    assert torch.equal(xb["X"], torch.as_tensor(X["X"])) and xb["X"].T.is_contiguous()
    assert torch.equal(xb["extra"], torch.arange(6))
    subset = SlicedBatches(X["X"], None, np.array([4, 0, 2]), batch_size=-1, feature_major=True)
    (xs, _), = subset
    assert torch.equal(xs, torch.as_tensor(X["X"][[4, 0, 2]])) and xs.T.is_contiguous()
    for xm, _ in SlicedBatches(X["X"], None, batch_size=4, feature_major=True):
        assert xm.is_contiguous()  # mini-batches keep their layout


@pytest.mark.parametrize("kernel", ["csr", "dense"])
def test_lbfgs_reads_its_full_batch_in_the_kernels_layout_with_the_same_fit(kernel):
    """With the CSR gene kernel the full batch arrives feature-major, read without a
    copy per call; the fit equals skorch's per-sample DataLoader path bit for bit."""
    from torch.utils.data import DataLoader

    class Loader(DataLoader):  # not DataLoader itself: skorch's own path
        pass

    layouts = []

    class Layouts(Callback):  # records the layout of what the module is given
        def on_train_begin(self, net, **kwargs):
            net.module_.register_forward_pre_hook(
                lambda module, args: layouts.append(args[0].T.is_contiguous()))

    X, y = _data()
    mask = _mask()
    fast = _regressor(mask, solver="lbfgs", module__kernel=kernel, callbacks=[Layouts()])
    fast.fit(X, y)
    assert fast.module_.gene_kernel == kernel
    assert layouts and all(layouts) == (kernel == "csr")
    slow = _regressor(mask, solver="lbfgs", module__kernel=kernel, iterator_train=Loader)
    slow.fit(X, y)
    for a, b in zip(fast.module_.parameters(), slow.module_.parameters(), strict=True):
        assert torch.equal(a, b)
