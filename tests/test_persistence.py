"""Saved models: pickle, joblib and skorch's save_params/load_params."""

import pickle

import numpy as np
import pytest
import torch

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


def test_save_and_load_params_with_the_optimizer_keep_training_state(data, tmp_path):
    X, y = data
    mask = _mask(["T", "T", "U"])
    trained = BINNClassifier(mask, max_epochs=5, random_state=0).fit(X, y)
    files = {"f_params": tmp_path / "params.pt", "f_optimizer": tmp_path / "optimizer.pt"}
    trained.save_params(**files)
    fresh = BINNClassifier(mask, max_epochs=0, random_state=1).fit(X, y)
    fresh.load_params(**files)
    np.testing.assert_array_equal(fresh.predict_proba(X), trained.predict_proba(X))
    saved, loaded = trained.optimizer_.state_dict(), fresh.optimizer_.state_dict()
    assert saved["param_groups"] == loaded["param_groups"]
    for key, state in saved["state"].items():
        for name, value in state.items():
            torch.testing.assert_close(loaded["state"][key][name], value)


#: What unpickling a ``_Payload`` ran; it must stay empty.
_CALLED = []


def _record_call():
    _CALLED.append("unpickled")


class _Payload:
    """Any pickled object: unpickling it with ``weights_only=False`` calls ``_record_call``."""

    def __reduce__(self):
        return (_record_call, ())


def test_load_params_loads_weights_only(data, tmp_path):
    # a parameter file holding anything but tensors and plain containers is
    # refused before any of its code runs (torch.load's weights_only=True)
    X, y = data
    est = BINNClassifier(_mask(["T", "T", "U"]), max_epochs=1).fit(X, y)
    path = tmp_path / "params.pt"
    torch.save({**est.module_.state_dict(), "payload": _Payload()}, path)
    with pytest.raises(pickle.UnpicklingError, match="weights_only"):
        est.load_params(f_params=path)
    assert _CALLED == []


def test_load_params_passes_weights_only_to_torch_load(data, tmp_path, monkeypatch):
    X, y = data
    est = BINNClassifier(_mask(["T", "T", "U"]), max_epochs=1).fit(X, y)
    est.save_params(f_params=tmp_path / "params.pt", f_optimizer=tmp_path / "optimizer.pt")
    calls = []
    torch_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return torch_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    est.load_params(f_params=tmp_path / "params.pt", f_optimizer=tmp_path / "optimizer.pt")
    assert calls == [True, True]
