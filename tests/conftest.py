"""Shared fixtures: seeds and small data."""

import numpy as np
import pytest
import torch

# The suite's networks are tiny: one thread avoids thread-pool overhead.
torch.set_num_threads(1)


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
