"""Shared fixtures: seeds and small data."""

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

# The suite's networks and matrices are tiny: one thread avoids thread-pool
# overhead (torch's and the BLAS libraries').
torch.set_num_threads(1)
threadpool_limits(1)


@pytest.fixture(autouse=True)
def _fixed_seeds():
    np.random.seed(0)
    torch.manual_seed(0)
    yield


def pytest_collection_modifyitems(config, items):
    if config.getoption("-m"):
        return
    skip_slow = pytest.mark.skip(reason="slow test: run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)
