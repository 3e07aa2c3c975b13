"""pytest set-up for everything the README's test command collects.

The ``testpaths`` of ``setup.cfg`` are ``tests``, the doctests of
``sklearn_binn`` and the doctests of ``benchmarks``; all of them run with one
torch/BLAS thread (``SKLEARN_BINN_TEST_THREADS`` sets another count) and
fixed numpy/torch seeds, so a result does not depend on
the machine's core count or on test order. This file sits at the repository
root so that the installed package ships no ``conftest.py``.
"""

import os

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

# The suite's networks and matrices are tiny: one thread avoids thread-pool
# overhead (torch's and the BLAS libraries'). CI also runs the suite with
# SKLEARN_BINN_TEST_THREADS=2, so that no result depends on the thread count.
_THREADS = int(os.environ.get("SKLEARN_BINN_TEST_THREADS", "1"))
torch.set_num_threads(_THREADS)
threadpool_limits(_THREADS)


@pytest.fixture(autouse=True)
def _fixed_seeds():
    np.random.seed(0)
    torch.manual_seed(0)
    yield
