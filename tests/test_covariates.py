"""Clinical covariates beside the network: they join the output layer, not the pathways."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sksurv.util import Surv

from sklearn_binn import (
    BINNClassifier,
    BINNRegressor,
    BINNSurvival,
    PathwayMask,
    node_importance,
    pathway_importance,
)

FAST = {"batch_size": -1, "train_split": None}
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
GENES = [f"g{i}" for i in range(6)]
MASK = PathwayMask([np.kron(np.eye(2), np.ones((3, 1))), np.ones((2, 1))],
                   feature_names=GENES, node_names=[["A", "B"], ["Root"]])


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 6)), columns=GENES)
    X.insert(0, "age", rng.normal(60, 10, n))
    X["stage"] = rng.integers(1, 4, n).astype(float)
    y = X[GENES[:3]].sum(axis=1) + 0.1 * X["age"] - X["stage"]
    return X, y.to_numpy()


def _hand_output(est, X):
    """Identity activation: output = w_path . (pathway path) + w_cov . covariates + b."""
    genes = X[GENES].to_numpy()
    h = genes
    for layer, weight in zip(est.module_.pathway_layers, est.get_weights()):
        h = h @ weight.toarray() + layer.bias.detach().double().numpy()
    w = est.module_.output.weight.detach().double().numpy()[0]
    b = float(est.module_.output.bias.detach())
    width = h.shape[1]
    return h @ w[:width] + X[["age", "stage"]].to_numpy() @ w[width:] + b


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    est = BINNRegressor(MASK, covariates=["age", "stage"], activation="identity",
                        solver="lbfgs", max_epochs=30, random_state=0).fit(X, y)
    return X, y, est


def test_covariates_join_the_output_layer(fitted):
    X, y, est = fitted
    assert est.covariates_.tolist() == ["age", "stage"]
    assert est.module_.output.in_features == 1 + 2  # the root node, then age and stage
    np.testing.assert_allclose(est.predict(X), _hand_output(est, X), rtol=1e-4, atol=1e-4)
    # the linear truth is recovered through both paths
    w = est.module_.output.weight.detach().double().numpy()[0]
    np.testing.assert_allclose(w[1:], [0.1, -1.0], atol=1e-3)
    assert est.score(X, y) > 0.999


def test_the_covariates_columns_may_sit_anywhere(fitted):
    X, y, est = fitted
    shuffled = X[["stage", *GENES[::-1], "age"]]
    np.testing.assert_allclose(est.predict(shuffled), est.predict(X), rtol=1e-6)


def test_integer_covariates_on_arrays_match_named_ones(fitted):
    X, y, est = fitted
    by_index = BINNRegressor(MASK, covariates=[0, 7], activation="identity",
                             solver="lbfgs", max_epochs=30, random_state=0)
    by_index.fit(X.to_numpy(), y)
    np.testing.assert_allclose(by_index.predict(X.to_numpy()), est.predict(X), rtol=1e-5)
    assert by_index.covariates_.tolist() == ["x0", "x7"]


def test_covariate_attributions_are_input_attributions(fitted):
    X, _, est = fitted
    attr = pathway_importance(est, X[:20], layer="genes")
    assert attr.columns.tolist() == [*GENES, "age", "stage"]
    # exact for a linear network: x_i times its coefficient (zero baseline)
    w = est.module_.output.weight.detach().double().numpy()[0]
    np.testing.assert_allclose(attr["age"], X["age"][:20] * w[1], rtol=1e-4)
    np.testing.assert_allclose(attr["stage"], X["stage"][:20] * w[2], rtol=1e-4)
    weights = node_importance(est, X, method="weight", layer="genes")
    np.testing.assert_allclose(weights[["age", "stage"]], np.abs(w[1:]))
    top = node_importance(est, X, method="weight", layer=-1)
    np.testing.assert_allclose(top, np.abs(w[:1]))
    out = est.get_weights(include_output=True, as_frame=True)[-1]
    assert out.index.tolist() == ["Root", "age", "stage"]


def test_covariates_in_a_column_transformer_pipeline_with_search_clone_and_pickle():
    X, y = _data()
    pre = ColumnTransformer(
        [("genes", StandardScaler(), GENES), ("clinical", StandardScaler(), ["age", "stage"])],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    pipe = make_pipeline(pre, BINNRegressor(MASK, covariates=["age", "stage"],
                                            max_epochs=5, random_state=0, **FAST))
    search = GridSearchCV(pipe, {"binnregressor__depth": [1, 2]}, cv=2).fit(X, y)
    best = search.best_estimator_
    assert best[-1].covariates_.tolist() == ["age", "stage"]
    restored = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(restored.predict(X), best.predict(X))
    again = clone(best).fit(X, y)
    np.testing.assert_array_equal(again.predict(X), best.predict(X))


@pytest.mark.parametrize("cls", [BINNClassifier, BINNSurvival])
def test_classifier_and_survival_take_covariates(cls):
    X, y = _data()
    target = y > np.median(y) if cls is BINNClassifier else Surv.from_arrays(
        np.ones(len(y), bool), np.exp(-y / 3)
    )
    est = cls(MASK, covariates=["age", "stage"], max_epochs=3, random_state=0, **FAST)
    est.fit(X, target)
    assert est.module_.output.in_features == 3
    assert est.predict(X).shape == (len(X),)


def test_bad_covariates_say_how_to_fix_them():
    X, y = _data(40)
    with pytest.raises(TypeError, match="set_output"):
        BINNRegressor(MASK, covariates=["age"], max_epochs=1).fit(X.to_numpy(), y)
    with pytest.raises(ValueError, match="'weight', which is not a column"):
        BINNRegressor(MASK, covariates=["weight"], max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="also genes of the mask"):
        BINNRegressor(MASK, covariates=["g0"], max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="column index 9"):
        BINNRegressor(MASK, covariates=[9], max_epochs=1).fit(X.to_numpy(), y)
