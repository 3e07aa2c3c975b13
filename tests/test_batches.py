"""Batches sliced from tensors against torch's DataLoader, the per-sample reference."""

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset
from torch.utils.data import DataLoader, Subset

from sklearn_binn._batches import SlicedBatches, sliceable


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
