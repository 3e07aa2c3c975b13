"""scikit-survival's own tests, adapted to BINNSurvival.

The groups follow scikit-survival 0.28's tests that apply to any survival
estimator: ``tests/test_survival_function.py`` (the curves' contract),
``tests/test_stacking.py`` (``sksurv.meta.Stacking``, here with its default
``probabilities=True``), ``tests/test_polars_estimators.py`` (pandas and
polars inputs give one model; a polars ``LazyFrame`` is refused), plus
``make_pipeline`` with scikit-survival's transformers and the scorer wrappers
of ``sksurv.metrics`` in a grid search, as its user guide uses them. The data
are WHAS500, one-hot encoded and standardised as scikit-survival's
``make_whas500(to_numeric=True)`` fixture does; the network is small and
trains for a few epochs.
"""

import numpy as np
import polars as pl
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sksurv.datasets import load_whas500
from sksurv.functions import StepFunction
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.meta import Stacking
from sksurv.metrics import (
    as_concordance_index_ipcw_scorer,
    as_cumulative_dynamic_auc_scorer,
    as_integrated_brier_score_scorer,
    concordance_index_ipcw,
    cumulative_dynamic_auc,
    integrated_brier_score,
)
from sksurv.preprocessing import OneHotEncoder
from sksurv.util import Surv

from sklearn_binn import BINNSurvival, PathwayMask

#: WHAS500's one-hot encoded columns, grouped into three "pathways" under one root.
GENE_SETS = {
    "cardiac": ["afb=1", "av3=1", "chf=1", "cvd=1", "sho=1", "mitype=1", "miord=1"],
    "vitals": ["hr", "sysbp", "diasbp", "bmi"],
    "patient": ["age", "gender=1", "los"],
}


@pytest.fixture(scope="module")
def whas500_raw():
    """WHAS500 as loaded: a DataFrame with categorical columns, and y."""
    return load_whas500()


@pytest.fixture(scope="module")
def whas500(whas500_raw):
    """WHAS500 one-hot encoded and standardised (a float DataFrame), and y."""
    X, y = whas500_raw
    X = OneHotEncoder().fit_transform(X)
    return (X - X.mean()) / X.std(), y


@pytest.fixture(scope="module")
def mask(whas500):
    X, _ = whas500
    return PathwayMask.from_gene_sets(
        GENE_SETS, [(p, "clinical") for p in GENE_SETS], feature_names=list(X.columns)
    )


def _binn(mask, **params):
    return BINNSurvival(mask, **{"max_epochs": 20, "lr": 3e-2, "random_state": 0, **params})


def _assert_step_functions_equal(left, right):
    assert len(left) == len(right)
    for fn_left, fn_right in zip(left, right):
        np.testing.assert_array_equal(fn_left.x, fn_right.x)
        np.testing.assert_allclose(fn_left(fn_left.x), fn_right(fn_right.x), rtol=1e-12)


# ------------------------------------------ test_survival_function.py
@pytest.fixture(scope="module")
def fitted(whas500, mask):
    """Trained on samples 150 onwards; samples 0-149 are held out (as in scikit-survival)."""
    X, y = whas500
    return _binn(mask).fit(X.iloc[150:], y[150:])


@pytest.mark.parametrize(
    "method", ["predict_survival_function", "predict_cumulative_hazard_function"]
)
def test_curves_match_return_array(fitted, whas500, method):
    X, _ = whas500
    functions = getattr(fitted, method)(X.iloc[:150])
    array = getattr(fitted, method)(X.iloc[:150], return_array=True)
    times = fitted.unique_times_
    assert array.shape == (150, len(times))
    np.testing.assert_array_almost_equal(np.vstack([fn(times) for fn in functions]), array)


def test_curves_are_step_functions_on_the_training_times(fitted, whas500):
    X, y = whas500
    times = fitted.unique_times_
    np.testing.assert_array_equal(times, np.unique(y["lenfol"][150:]))
    survival = fitted.predict_survival_function(X.iloc[:150])
    hazard = fitted.predict_cumulative_hazard_function(X.iloc[:150])
    assert survival.shape == hazard.shape == (150,)
    for fn in [*survival, *hazard]:
        assert isinstance(fn, StepFunction)
        np.testing.assert_array_equal(fn.x, times)
        assert fn.domain == (0.0, times[-1])
        with pytest.raises(ValueError, match="x must be within"):
            fn(times[-1] + 1.0)
    S = np.vstack([fn(times) for fn in survival])
    H = np.vstack([fn(times) for fn in hazard])
    assert np.all((S >= 0) & (S <= 1))
    assert np.all(np.diff(S, axis=1) <= 0)
    assert np.all(H >= 0)
    assert np.all(np.diff(H, axis=1) >= 0)
    np.testing.assert_allclose(S, np.exp(-H), rtol=1e-10)


@pytest.mark.parametrize("y_time", [-1e-8, -1, np.finfo(float).min])
def test_fit_negative_survival_time_raises(mask, y_time):
    X = np.random.default_rng(0).normal(size=(7, 14))
    y = Surv.from_arrays(event=np.ones(7, dtype=bool), time=[1, 9, 3, y_time, 1, 8, 1e10])
    with pytest.raises(ValueError, match="negative values"):
        _binn(mask, max_epochs=1).fit(X, y)


# ------------------------------------------------------ test_stacking.py
def test_no_predict_proba_before_or_after_fit(whas500, mask):
    # a survival model predicts risks, not class probabilities; Stacking's
    # default (probabilities=True) uses predict_proba wherever it exists
    X, y = whas500
    est = _binn(mask, max_epochs=2)
    assert not hasattr(est, "predict_proba")
    est.fit(X, y)
    assert not hasattr(est, "predict_proba")


@pytest.mark.parametrize("probabilities", [True, False])
def test_stacking_fits_and_predicts(whas500, mask, probabilities):
    X, y = whas500
    meta = Stacking(
        CoxPHSurvivalAnalysis(),
        [("coxph", CoxPHSurvivalAnalysis()), ("binn", _binn(mask))],
        probabilities=probabilities,
    )
    assert len(meta) == 2
    meta.fit(X, y)

    stacked = meta._predict_estimators(X)
    assert stacked.shape == (len(X), 2)
    np.testing.assert_array_equal(stacked[:, 0], meta.named_estimators["coxph"].predict(X))
    np.testing.assert_array_equal(stacked[:, 1], meta.named_estimators["binn"].predict(X))
    np.testing.assert_allclose(meta.predict(X), stacked @ meta.final_estimator_.coef_)
    assert meta.score(X, y) > 0.7


def test_stacking_with_default_settings_on_binn_alone(whas500, mask):
    X, y = whas500
    meta = Stacking(CoxPHSurvivalAnalysis(), [("binn", _binn(mask))]).fit(X, y)
    binn = meta.named_estimators["binn"]
    assert meta.predict(X).shape == (len(X),)
    # one increasing function of the network's risk: the same ranking
    assert meta.final_estimator_.coef_[0] > 0
    assert meta.score(X, y) == pytest.approx(binn.score(X, y))


def test_stacking_set_params(mask):
    meta = Stacking(
        CoxPHSurvivalAnalysis(),
        [("coxph", CoxPHSurvivalAnalysis()), ("binn", _binn(mask))],
        probabilities=False,
    )
    meta.set_params(coxph__alpha=1.0, binn__lr=0.05, binn__optimizer__weight_decay=1e-3)
    params = meta.get_params()
    assert params["coxph__alpha"] == 1.0
    assert params["binn__lr"] == 0.05
    assert params["binn__optimizer__weight_decay"] == 1e-3


def test_stacking_feature_names_in(whas500, mask):
    X, y = whas500
    meta = Stacking(CoxPHSurvivalAnalysis(), [("binn", _binn(mask, max_epochs=2))])
    meta.fit(X, y)
    assert meta.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(meta.feature_names_in_, X.columns)

    meta.fit(X.to_numpy(), y)
    assert meta.n_features_in_ == X.shape[1]
    with pytest.raises(AttributeError, match="has no attribute 'feature_names_in_'"):
        meta.feature_names_in_


# ------------------------------------------------------------- pipelines
def test_make_pipeline_with_sksurv_transformer(whas500_raw, mask):
    X_raw, y = whas500_raw
    pipe = make_pipeline(OneHotEncoder(), StandardScaler(), _binn(mask)).fit(X_raw, y)

    Z = StandardScaler().fit_transform(OneHotEncoder().fit_transform(X_raw))
    manual = _binn(mask).fit(Z, y)
    np.testing.assert_array_equal(pipe.predict(X_raw), manual.predict(Z))
    assert pipe.score(X_raw, y) == manual.score(Z, y)
    # scikit-survival gives Pipeline the survival methods of its last step
    curves = pipe.predict_survival_function(X_raw.iloc[:5], return_array=True)
    assert curves.shape == (5, len(pipe[-1].unique_times_))
    hazards = pipe.predict_cumulative_hazard_function(X_raw.iloc[:5])
    assert all(isinstance(fn, StepFunction) for fn in hazards)


# ------------------------------------------------------- scorer wrappers
def _time_grid(y):
    return np.percentile(y["lenfol"], [10, 30, 50, 70])


def _folds_alternating_in_time(y):
    """Two folds taking every other sample in order of time; the three longest always train.

    Inverse-probability-of-censoring weights need each test event within the
    follow-up of the training fold. WHAS500 ends with three events after a
    censored time, which a random split may put in a test fold.
    """
    rank = np.argsort(np.argsort(y["lenfol"], kind="stable"), kind="stable")
    in_test = rank < len(y) - 3
    return [
        (np.flatnonzero(~in_test | (rank % 2 != k)), np.flatnonzero(in_test & (rank % 2 == k)))
        for k in (0, 1)
    ]


def _wrap(metric, estimator, times):
    if metric == "concordance_index_ipcw":
        return as_concordance_index_ipcw_scorer(estimator, tau=times[-1])
    if metric == "cumulative_dynamic_auc":
        return as_cumulative_dynamic_auc_scorer(estimator, times=times)
    return as_integrated_brier_score_scorer(estimator, times=times)


def _metric(metric, estimator, X_test, y_train, y_test, times):
    """The wrapper's score, computed from the metric function itself."""
    if metric == "concordance_index_ipcw":
        risk = estimator.predict(X_test)
        return concordance_index_ipcw(y_train, y_test, risk, tau=times[-1])[0]
    if metric == "cumulative_dynamic_auc":
        return cumulative_dynamic_auc(y_train, y_test, estimator.predict(X_test), times)[1]
    survival = np.vstack([fn(times) for fn in estimator.predict_survival_function(X_test)])
    return -integrated_brier_score(y_train, y_test, survival, times)


@pytest.mark.parametrize(
    "metric", ["concordance_index_ipcw", "cumulative_dynamic_auc", "integrated_brier_score"]
)
def test_scorer_wrappers_in_grid_search(whas500, mask, metric):
    X, y = whas500
    times = _time_grid(y)
    folds = _folds_alternating_in_time(y)
    grid = {"estimator__binnsurvival__lr": [1e-2, 3e-2]}
    wrapped = _wrap(metric, make_pipeline(StandardScaler(), _binn(mask)), times)
    search = GridSearchCV(wrapped, grid, cv=folds).fit(X, y)
    assert search.best_params_["estimator__binnsurvival__lr"] in (1e-2, 3e-2)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))

    train, test = folds[0]
    wrapped = clone(search.best_estimator_).fit(X.iloc[train], y[train])
    expected = _metric(metric, wrapped.estimator_, X.iloc[test], y[train], y[test], times)
    assert wrapped.score(X.iloc[test], y[test]) == pytest.approx(expected)


# ------------------------------------------------------ pandas and polars
def test_pandas_polars_and_numpy_inputs_give_the_same_model(whas500, mask):
    X_pd, y = whas500
    X_pl = pl.from_pandas(X_pd)
    X_np = X_pd.to_numpy()
    models = [_binn(mask).fit(X, y) for X in (X_pd, X_pl, X_np)]
    np.testing.assert_array_equal(models[0].feature_names_in_, X_pd.columns)
    np.testing.assert_array_equal(models[1].feature_names_in_, X_pd.columns)
    assert not hasattr(models[2], "feature_names_in_")

    predictions = [m.predict(X) for m, X in zip(models, (X_pd, X_pl, X_np))]
    for prediction in predictions[1:]:
        np.testing.assert_array_equal(prediction, predictions[0])
        assert prediction.dtype == predictions[0].dtype
    scores = [m.score(X, y) for m, X in zip(models, (X_pd, X_pl, X_np))]
    assert scores[0] == scores[1] == scores[2]
    for method in ("predict_survival_function", "predict_cumulative_hazard_function"):
        _assert_step_functions_equal(
            getattr(models[0], method)(X_pd.iloc[:10]), getattr(models[1], method)(X_pl.head(10))
        )


def test_polars_columns_are_matched_by_name(whas500, mask):
    X_pd, y = whas500
    X_pl = pl.from_pandas(X_pd)
    est = _binn(mask, max_epochs=5).fit(X_pl, y)
    reversed_columns = X_pl.select(list(reversed(X_pl.columns)))
    np.testing.assert_array_equal(est.predict(reversed_columns), est.predict(X_pl))
    np.testing.assert_array_equal(est.predict(X_pl), est.predict(X_pd))


def test_polars_in_cross_val_score_and_grid_search(whas500, mask):
    X_pd, y = whas500
    X_pl = pl.from_pandas(X_pd)
    scores = cross_val_score(_binn(mask, max_epochs=5), X_pl, y, cv=KFold(3))
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))

    grid = {"lr": [1e-2, 3e-2]}
    searches = [
        GridSearchCV(_binn(mask, max_epochs=5), grid, cv=KFold(2)).fit(X, y)
        for X in (X_pd, X_pl)
    ]
    assert searches[0].best_params_ == searches[1].best_params_
    np.testing.assert_array_equal(
        searches[0].cv_results_["mean_test_score"], searches[1].cv_results_["mean_test_score"]
    )


def test_polars_lazyframe_is_rejected(whas500, mask):
    X_pd, y = whas500
    X_pl = pl.from_pandas(X_pd)
    with pytest.raises(TypeError, match="LazyFrame") as fit_error:
        _binn(mask, max_epochs=1).fit(X_pl.lazy(), y)
    assert "collect()" in str(fit_error.value)

    est = _binn(mask, max_epochs=1).fit(X_pl, y)
    for method in ("predict", "predict_survival_function", "predict_cumulative_hazard_function"):
        with pytest.raises(TypeError, match="LazyFrame") as predict_error:
            getattr(est, method)(X_pl.lazy())
        assert "collect()" in str(predict_error.value)
