"""Objective-level constraints on the internals: edge L1, sign constraints, pathway supervision."""

import numpy as np
import pandas as pd
import pytest
import torch

from sklearn_binn import BINNRegressor, PathwayMask
from sklearn_binn._base import _correlation_loss
from sklearn_binn.callbacks import edge_signs

from _check_masks import RING_GENE_SETS


@pytest.fixture
def mask():
    return PathwayMask.from_gene_sets(RING_GENE_SETS, [(p, "T") for p in RING_GENE_SETS])


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 8))
    return X, np.tanh(X[:, 0] + X[:, 2]) - 0.5 * X[:, 5]


def test_edge_l1_shrinks_pathway_weights(mask, data):
    X, y = data
    l1 = [
        sum(abs(w).sum() for w in BINNRegressor(
            mask, edge_l1=alpha, lr=1e-2, max_epochs=80, n_iter_no_change=None, random_state=0
        ).fit(X, y).get_weights())
        for alpha in (0.0, 0.05)
    ]
    assert l1[1] < 0.5 * l1[0]


def test_sign_constraint_everywhere_and_by_table(mask, data):
    X, y = data
    reg = BINNRegressor(mask, edge_sign="positive", lr=1e-2, max_epochs=30, random_state=0)
    reg.fit(X, y)
    assert all(w.data.min() >= 0 for w in reg.get_weights())
    table = pd.DataFrame({"source": ["G5", "G4"], "target": ["P3", "P3"], "sign": [-1, 1]})
    reg = BINNRegressor(mask, edge_sign=table, lr=1e-2, max_epochs=30, random_state=0).fit(X, y)
    weights = reg.get_weights(as_frame=True)[0]
    assert weights.loc["G5", "P3"] <= 0 and weights.loc["G4", "P3"] >= 0
    free = weights.sparse.to_dense().to_numpy()
    assert (free < 0).any() and (free > 0).any()


def test_edge_signs_reject_unknown_edges(mask):
    bad = pd.DataFrame({"source": ["G5"], "target": ["P1"], "sign": [1]})
    with pytest.raises(ValueError, match="not in the fitted mask"):
        edge_signs(mask, bad)
    with pytest.raises(ValueError, match=r"\+1 or -1"):
        edge_signs(mask, bad.assign(target="P3", sign=2))


def test_pathway_supervision_fixes_a_node(mask, data):
    X, y = data
    rng = np.random.default_rng(1)
    truth = X[:, 0] + X[:, 2]
    targets = pd.DataFrame({"P1": np.where(rng.random(len(X)) < 0.5, truth, np.nan)})
    reg = BINNRegressor(mask, lr=1e-2, random_state=0).fit(X, y, pathway_targets=targets)
    activation = reg.pathway_activations(X, layer=0)["P1"]
    assert np.corrcoef(activation, truth)[0, 1] > 0.95
    assert reg.score(X, y) > 0.9
    with pytest.raises(ValueError, match="not a node of the fitted mask"):
        BINNRegressor(mask, max_epochs=1).fit(
            X, y, pathway_targets=targets.rename(columns={"P1": "Q"}))
    with pytest.raises(ValueError, match="rows but X has"):
        BINNRegressor(mask, max_epochs=1).fit(X, y, pathway_targets=targets.iloc[:10])


def test_correlation_loss_matches_numpy():
    rng = np.random.default_rng(0)
    acts = rng.normal(size=(50, 3))
    targets = acts * [1.0, -2.0, 0.0] + rng.normal(size=(50, 3))
    targets[rng.random((50, 3)) < 0.3] = np.nan
    expected = []
    for j in range(3):
        keep = ~np.isnan(targets[:, j])
        expected.append(1 - np.corrcoef(acts[keep, j], targets[keep, j])[0, 1])
    got = _correlation_loss(torch.tensor(acts), torch.tensor(targets)).item()
    assert got == pytest.approx(np.mean(expected), rel=1e-6)


def test_pathway_supervision_keeps_the_validation_split(mask, data):
    X, y = data
    targets = pd.DataFrame({"P1": X[:, 0] + X[:, 2]})
    reg = BINNRegressor(mask, max_epochs=3, random_state=0).fit(X, y, pathway_targets=targets)
    assert "valid_loss" in reg.history_[-1]
    batches = reg.history_[-1]["batches"]
    n_valid = sum(b["valid_batch_size"] for b in batches if "valid_batch_size" in b)
    assert n_valid == 40
