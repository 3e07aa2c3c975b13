"""Mini-batches sliced from tensors in memory, in place of per-sample loading.

skorch's default ``DataLoader`` fetches every sample on its own and collates
them into a batch: for the small networks BINN studies train by the
thousand, that costs more than the network. :class:`SlicedBatches` converts
the data to tensors once and slices each batch with one indexing operation,
drawing the shuffling permutation from a ``torch.Generator`` exactly as
``DataLoader(shuffle=True)`` draws it from torch's global generator, so a
seeded fit gives the same batches as before, bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import Subset

__all__ = ["SlicedBatches", "sliceable"]


def sliceable(dataset):
    """``(data, target, indices)`` of a plain skorch ``Dataset`` (or a Subset of one).

    ``None`` when the dataset is anything else (a user's own ``Dataset``),
    which then goes through the user's iterator unchanged.
    """
    indices = None
    if type(dataset) is Subset:
        indices = np.asarray(dataset.indices, dtype=np.int64)
        dataset = dataset.dataset
    if type(dataset) is not Dataset:
        return None
    X = dataset.X
    arrays = X.values() if isinstance(X, dict) else [X]
    if not all(isinstance(a, (np.ndarray, torch.Tensor)) for a in arrays):
        return None
    if dataset.y is not None and not isinstance(dataset.y, (np.ndarray, torch.Tensor)):
        return None
    return X, dataset.y, indices


def _as_tensor(data, device=None):
    if isinstance(data, dict):
        return {key: _as_tensor(value, device) for key, value in data.items()}
    if data is None:
        return None
    if isinstance(data, np.ndarray) and not data.flags.writeable:
        data = data.copy()  # torch wants writable memory (e.g. not a read-only memmap)
    return torch.as_tensor(data, device=device)


def _take(data, index):
    if isinstance(data, dict):
        return {key: _take(value, index) for key, value in data.items()}
    if data is None or isinstance(index, slice):
        return None if data is None else data[index]
    return data.index_select(0, index)  # what data[index] gives, without its parsing


def _feature_major(data):
    """The same values, each 2-D tensor laid out as the transpose of a contiguous one."""
    if isinstance(data, dict):
        return {key: _feature_major(value) for key, value in data.items()}
    if data.dim() != 2 or data.T.is_contiguous():
        return data
    return data.T.contiguous().T


class SlicedBatches:
    """Iterate over ``(X_batch, y_batch)`` sliced from tensors.

    Parameters
    ----------
    X : ndarray, Tensor or dict of them
        All samples; a dict (skorch's several-input form) is sliced key by key.
    y : ndarray, Tensor or None
    indices : ndarray of int, default=None
        The samples to iterate over (a split's part); ``None`` means all.
    batch_size : int, default=128
        ``-1`` gives one batch of every sample.
    shuffle : bool, default=False
        Draw a new order every pass.
    generator : torch.Generator, default=None
        The source of the shuffling. Each pass draws from it what
        ``DataLoader`` draws from torch's global generator (a worker seed,
        then with shuffling the sampler's seed), so the stream of a seeded
        generator stays in step with the old loader's.
    device : str or torch.device, default=None
        Where the samples are placed, once, before the first batch (the
        estimator's ``device``), so batches need no copy each step; the
        shuffling is still drawn on the CPU. ``None`` leaves them where
        ``torch.as_tensor`` puts them.
    feature_major : bool, default=False
        Lay out each 2-D input of a batch that holds every sample in order
        (a full batch) feature-major in memory: the transposed view of a
        contiguous ``(n_features, n_samples)`` tensor, made once per pass.
        The values are unchanged; a module that computes on feature-major
        inputs (the CSR kernel of ``SparseLinear``) then reads the batch
        without copying it on every call, which full-batch L-BFGS makes a
        few dozen times per epoch. Mini-batches are left as they are.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_binn._batches import SlicedBatches
    >>> batches = SlicedBatches(np.arange(10.0).reshape(5, 2), np.arange(5), batch_size=2)
    >>> [len(xb) for xb, yb in batches]
    [2, 2, 1]
    """

    def __init__(self, X, y=None, indices=None, *, batch_size=128, shuffle=False,
                 generator=None, device=None, feature_major=False):
        self.X = _as_tensor(X, device)
        self.y = _as_tensor(y, device)
        first = next(iter(self.X.values())) if isinstance(self.X, dict) else self.X
        n_total = len(first)
        self._data_device = first.device
        self.indices = None if indices is None else torch.as_tensor(indices, dtype=torch.int64)
        self.n_samples = n_total if indices is None else len(self.indices)
        self.batch_size = self.n_samples if batch_size == -1 else int(batch_size)
        self.shuffle = shuffle
        self.generator = generator
        self.feature_major = feature_major

    def __len__(self):
        return math.ceil(self.n_samples / max(self.batch_size, 1))

    def _order(self):
        draw = torch.empty((), dtype=torch.int64)
        draw.random_(generator=self.generator)  # DataLoader's worker base seed
        if not self.shuffle:
            return self.indices
        seed = int(draw.random_(generator=self.generator).item())
        order = torch.randperm(self.n_samples, generator=torch.Generator().manual_seed(seed))
        return order if self.indices is None else self.indices[order]

    def __iter__(self):
        order = self._order()
        if order is not None:  # drawn on the CPU; index_select wants it beside the data
            order = order.to(self._data_device)
        for start in range(0, self.n_samples, max(self.batch_size, 1)):
            stop = min(start + self.batch_size, self.n_samples)
            index = slice(start, stop) if order is None else order[start:stop]
            X = _take(self.X, index)
            if self.feature_major and stop - start == self.n_samples:
                X = _feature_major(X)
            yield X, _take(self.y, index)
