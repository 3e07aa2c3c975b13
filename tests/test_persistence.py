"""Saved models: pickle, joblib and skorch's save_params/load_params."""

import numpy as np
import pytest

from sklearn_binn import BINNClassifier, PathwayMask


def _mask(parents):
    gene_sets = {"P1": ["A", "B"], "P2": ["B", "C"], "P3": ["C", "D"]}
    return PathwayMask.from_gene_sets(gene_sets, list(zip(gene_sets, parents)))


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    return X, (X[:, 0] + X[:, 3] > 0).astype(int)


def test_save_and_load_params_keep_predictions(data, tmp_path):
    X, y = data
    mask = _mask(["T", "T", "U"])
    trained = BINNClassifier(mask, max_epochs=20, random_state=0).fit(X, y)
    trained.save_params(f_params=tmp_path / "params.pt", f_history=tmp_path / "history.json")
    fresh = BINNClassifier(mask, max_epochs=0, random_state=1).fit(X, y)
    assert not np.allclose(fresh.predict_proba(X), trained.predict_proba(X))
    fresh.load_params(f_params=tmp_path / "params.pt", f_history=tmp_path / "history.json")
    np.testing.assert_array_equal(fresh.predict_proba(X), trained.predict_proba(X))
    assert len(fresh.history_) == len(trained.history_)


def test_loading_params_of_another_mask_is_a_clear_error(data, tmp_path):
    X, y = data
    BINNClassifier(_mask(["T", "T", "U"]), max_epochs=2).fit(X, y).save_params(
        f_params=tmp_path / "params.pt"
    )
    other = BINNClassifier(_mask(["T", "U", "U"]), max_epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="come from a different mask"):
        other.load_params(f_params=tmp_path / "params.pt")
