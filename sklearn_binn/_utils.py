"""Small helpers shared across the package: seeds, threads and joblib backends."""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from joblib import parallel_config
from sklearn.utils import check_random_state

__all__ = ["joblib_backend", "seed_from", "torch_seeded", "torch_threads"]


def seed_from(random_state):
    """An int seed from an sklearn-style ``random_state``.

    An int is returned as is, ``None`` draws a fresh seed, a
    ``RandomState`` draws the next one from its stream.
    """
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@contextlib.contextmanager
def torch_seeded(seed, device="cpu"):
    """Run a block with torch's global RNG seeded, then restore it."""
    devices = []
    if str(device).startswith("cuda") and torch.cuda.is_available():
        devices = [torch.device(device).index or 0]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def torch_threads(n_threads):
    """Limit torch's intra-op threads inside a block (``None`` leaves them)."""
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def joblib_backend(backend, n_jobs=None):
    """A ``joblib.parallel_config`` for ``backend``, registering Ray's if asked.

    joblib knows ``"loky"``, ``"threading"`` and (once ``distributed`` is
    imported) ``"dask"``; Ray's backend must be registered first, which this
    does, with a clear error where Ray is not installed.
    """
    if backend == "ray":
        try:
            from ray.util.joblib import register_ray
        except ImportError as exc:
            raise ImportError(
                "backend 'ray' needs Ray, which is not installed here: pip install "
                "'ray[default]', or use the 'loky' or 'dask' backend."
            ) from exc
        register_ray()
    return parallel_config(backend=backend, n_jobs=n_jobs)
