"""Small helpers shared across the package: seeds, threads, joblib backends, atomic files."""

from __future__ import annotations

import contextlib
import os
import tempfile

import numpy as np
import torch
from joblib import parallel_config
from sklearn.utils import check_random_state

__all__ = ["atomic_write", "joblib_backend", "seed_from", "torch_seeded", "torch_threads"]


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


@contextlib.contextmanager
def atomic_write(path, mode="w", **open_kwargs):
    """Write ``path`` in one step: a reader (or a kill) sees the old or the new file.

    The content goes to a temporary file beside ``path``, is flushed to disk,
    given the permissions a new file gets under the process's umask (not the
    owner-only ones of :func:`tempfile.mkstemp`) and then replaces ``path``.
    """
    path = os.fspath(path)
    directory, name = os.path.split(path)
    handle, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory or ".")
    try:
        with os.fdopen(handle, mode, **open_kwargs) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
