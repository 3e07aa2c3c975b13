"""Doctest set-up: one torch thread and fixed seeds for reproducible examples."""

import numpy as np
import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _doctest_seeds():
    np.random.seed(0)
    torch.manual_seed(0)
    yield
