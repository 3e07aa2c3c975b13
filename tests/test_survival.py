"""Tests for BINNSurvival and the Cox partial likelihood it trains on.

Reference points: a brute-force partial likelihood written here from the
formula, torchsurv's ``neg_partial_log_likelihood``, scikit-survival's
``CoxPHOptimizer``/``CoxPHSurvivalAnalysis``, its metrics, and a Breslow
baseline computed by hand.
"""

import inspect
import pickle
import runpy
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from _check_masks import two_layer_mask
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.linear_model.coxph import CoxPHOptimizer
from sksurv.metrics import (
    as_concordance_index_ipcw_scorer,
    as_cumulative_dynamic_auc_scorer,
    as_integrated_brier_score_scorer,
    concordance_index_censored,
    concordance_index_ipcw,
    cumulative_dynamic_auc,
    integrated_brier_score,
)
from sksurv.nonparametric import kaplan_meier_estimator
from sksurv.util import Surv
from torch.utils.data import Subset
from torchsurv.loss.cox import neg_partial_log_likelihood

from sklearn_binn import BINNSurvival, PathwayMask
from sklearn_binn._base import BINNBase
from sklearn_binn._cox import CoxPHLoss, cox_partial_nll

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------- references
def brute_force_nll(log_risk, time, event, ties):
    """The negative partial log-likelihood, term by term from its definition."""
    eta = np.asarray(log_risk, dtype=np.float64)
    total = 0.0
    for t in np.unique(time[event]):
        tied = (time == t) & event
        at_risk = time >= t
        d = tied.sum()
        total += eta[tied].sum()
        for r in range(d):
            correction = r / d if ties == "efron" else 0.0
            total -= np.log(
                np.exp(eta[at_risk]).sum() - correction * np.exp(eta[tied]).sum()
            )
    return -total


def tied_data(seed, n=40, n_times=6, censor_rate=0.4):
    """Log-risks, integer times (many ties, censored samples tied with events), events."""
    rng = np.random.default_rng(seed)
    eta = rng.normal(scale=1.5, size=n)
    time = rng.integers(0, n_times, size=n).astype(np.float64)
    event = rng.random(n) > censor_rate
    event[0] = True
    return eta, time, event


def loss(eta, time, event, **kwargs):
    return float(
        cox_partial_nll(
            torch.as_tensor(eta), torch.as_tensor(time), torch.as_tensor(event), **kwargs
        )
    )


# ---------------------------------------------------------------- the loss
@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("seed", range(4))
def test_loss_matches_brute_force_with_ties(ties, seed):
    eta, time, event = tied_data(seed)
    expected = brute_force_nll(eta, time, event, ties)
    assert loss(eta, time, event, ties=ties, reduction="sum") == pytest.approx(expected, rel=1e-12)
    assert loss(eta, time, event, ties=ties) == pytest.approx(expected / event.sum(), rel=1e-12)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("seed", range(3))
def test_loss_matches_torchsurv_with_ties(ties, seed):
    eta, time, event = tied_data(seed, n=60)
    assert len(np.unique(time[event])) < event.sum()  # torchsurv's tie-handling path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torchsurv warns about ties
        expected = neg_partial_log_likelihood(
            torch.as_tensor(eta), torch.as_tensor(event), torch.as_tensor(time),
            ties_method=ties, reduction="sum",
        )
    # torchsurv accumulates part of the sum in float32
    assert loss(eta, time, event, ties=ties, reduction="sum") == pytest.approx(
        float(expected), rel=1e-6
    )


def test_loss_matches_torchsurv_without_ties():
    rng = np.random.default_rng(5)
    eta, time, event = rng.normal(size=50), rng.permutation(50) + 1.0, rng.random(50) < 0.6
    expected = neg_partial_log_likelihood(
        torch.as_tensor(eta), torch.as_tensor(event), torch.as_tensor(time)
    )
    assert loss(eta, time, event) == pytest.approx(float(expected), rel=1e-6)
    assert loss(eta, time, event, ties="breslow") == loss(eta, time, event, ties="efron")


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_loss_matches_sksurv_coxph_optimizer(ties):
    eta, time, event = tied_data(7, n=80)
    optimizer = CoxPHOptimizer(eta[:, None], event, time, alpha=np.zeros(1), ties=ties)
    expected = optimizer.nlog_likelihood(np.ones(1)) * len(eta)  # sksurv averages over samples
    assert loss(eta, time, event, ties=ties, reduction="sum") == pytest.approx(expected, rel=1e-12)


def test_censored_sample_tied_with_an_event_is_at_risk():
    eta, time = np.array([0.3, 1.5, -0.4]), np.array([1.0, 1.0, 2.0])
    event = np.array([True, False, True])
    expected = -(0.3 - np.log(np.exp(eta).sum()))  # the second event's risk set is itself
    for order in ([0, 1, 2], [1, 0, 2], [2, 1, 0]):
        value = loss(eta[order], time[order], event[order], reduction="sum")
        assert value == pytest.approx(expected)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_loss_is_stable_for_large_log_risks_in_float32(ties):
    eta, time, event = tied_data(3, n=100, n_times=12)
    spread = 40.0 * eta  # exp overflows float32 beyond ~88
    reference = brute_force_nll(spread - spread.max(), time, event, ties)  # shift-invariant
    t32, e32 = torch.as_tensor(time, dtype=torch.float32), torch.as_tensor(event)
    for offset in (0.0, 1000.0, -1000.0):
        eta32 = torch.tensor(spread + offset, dtype=torch.float32, requires_grad=True)
        value = cox_partial_nll(eta32, t32, e32, ties=ties, reduction="sum")
        value.backward()
        assert np.isfinite(value.item()) and torch.isfinite(eta32.grad).all()
        assert value.item() == pytest.approx(reference, rel=1e-4)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_loss_gradient(ties):
    eta, time, event = tied_data(11, n=25, n_times=5)
    eta = torch.tensor(eta, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda e: cox_partial_nll(e, torch.as_tensor(time), torch.as_tensor(event), ties=ties),
        (eta,),
    )


def test_batch_without_events_gives_zero_loss_with_a_graph():
    eta = torch.randn(6, 1, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = CoxPHLoss()(eta, torch.stack([torch.arange(6.0), torch.zeros(6)], dim=1))
    assert value.item() == 0.0 and value.grad_fn is not None
    value.backward()
    assert torch.equal(eta.grad, torch.zeros_like(eta))


def test_single_sample_batch_gives_zero_loss():
    value = cox_partial_nll(torch.tensor([3.0], requires_grad=True), torch.ones(1), torch.ones(1))
    assert value.item() == 0.0 and value.grad_fn is not None


def test_loss_does_not_depend_on_sample_order():
    eta, time, event = tied_data(2)
    perm = np.random.default_rng(0).permutation(len(eta))
    expected = loss(eta, time, event)
    assert loss(eta[perm], time[perm], event[perm]) == pytest.approx(expected, rel=1e-12)


def test_loss_rejects_bad_arguments():
    eta = torch.zeros(3)
    with pytest.raises(ValueError, match="ties must be one of"):
        cox_partial_nll(eta, eta, eta, ties="exact")
    with pytest.raises(ValueError, match="reduction must be one of"):
        CoxPHLoss(reduction="none")
    with pytest.raises(ValueError, match="shape"):
        cox_partial_nll(torch.zeros(3), torch.zeros(4), torch.ones(4))
    with pytest.raises(ValueError, match=r"y_true of shape \(n_samples, 2\)"):
        CoxPHLoss()(eta, torch.zeros(3))


# ---------------------------------------------------------------- the data
def make_survival_data(n=160, seed=0):
    """Six genes, log-risk x0 - x3 + 0.5 x1, ~30 % censoring, times rounded (ties)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    event_time = rng.exponential(np.exp(-(X[:, 0] - X[:, 3] + 0.5 * X[:, 1])))
    censor_time = rng.exponential(2.0, size=n)
    time = np.round(np.minimum(event_time, censor_time), 2)
    y = Surv.from_arrays(event_time <= censor_time, time, name_event="status", name_time="days")
    return X, y


GENES = [f"x{i}" for i in range(6)]
MASK = PathwayMask.from_gene_sets(
    {"A": ["x0", "x1"], "B": ["x1", "x2", "x3"], "C": ["x3", "x4", "x5"]},
    hierarchy=[("A", "R1"), ("B", "R1"), ("B", "R2"), ("C", "R2")],
    feature_names=GENES,
)
FAST = dict(lr=5e-2, batch_size=-1, max_epochs=40, n_iter_no_change=None, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_survival_data()
    # the longest times stay in training, so test times are inside its range (IPCW)
    order = np.argsort(y["days"])
    test = np.sort(order[:-5][::4])
    train = np.setdiff1d(np.arange(len(y)), test)
    return X[train], y[train], X[test], y[test]


@pytest.fixture(scope="module")
def fitted(data):
    X_train, y_train, _, _ = data
    return BINNSurvival(MASK, **FAST).fit(X_train, y_train)


# --------------------------------------------------------- target checking
def _with_fields(y, fields):
    return np.array(list(zip(y[y.dtype.names[0]], y[y.dtype.names[1]])), dtype=fields)


def _with_time(y, value):
    """``y`` with the time of sample 3 replaced by ``value``."""
    return Surv.from_arrays(y["status"], np.where(np.arange(len(y)) == 3, value, y["days"]))


@pytest.mark.parametrize(
    "make_y, match",
    [
        (lambda y: y["days"], "structured array with two fields"),
        (lambda y: np.column_stack([y["status"], y["days"]]), "structured array with two fields"),
        (lambda y: y.tolist(), "structured array"),
        (lambda y: _with_fields(y, [("e", "?"), ("t", "f8")])[:-1],
         "X has 160 samples but y has 159"),
        (lambda y: np.ones(len(y), dtype=[("e", "?"), ("t", "f8"), ("w", "f8")]),
         "structured array with two fields"),
        (lambda y: _with_time(y, -1.0), "negative values"),
        (lambda y: _with_time(y, np.nan), "non-finite"),
        (lambda y: _with_time(y, np.inf), "non-finite"),
        (lambda y: Surv.from_arrays(np.zeros(len(y), bool), y["days"]), "are censored"),
        (lambda y: _with_fields(y, [("e", "i8"), ("t", "f8")]), "must be boolean"),
        (lambda y: None, "requires y to be passed"),
    ],
)
def test_fit_rejects_bad_targets(make_y, match):
    X, y = make_survival_data()
    with pytest.raises(ValueError, match=match):
        BINNSurvival(MASK, max_epochs=1).fit(X, make_y(y))


def test_field_names_do_not_matter(data):
    X_train, y_train, X_test, _ = data
    renamed = _with_fields(y_train, [("dead", "?"), ("months", "f8")])
    a = BINNSurvival(MASK, **FAST).fit(X_train, y_train)
    b = BINNSurvival(MASK, **FAST).fit(X_train, renamed)
    np.testing.assert_array_equal(a.predict(X_test), b.predict(X_test))


# ------------------------------------------------------------ predictions
def test_predict_and_score_are_harrells_concordance(fitted, data):
    _, _, X_test, y_test = data
    risk = fitted.predict(X_test)
    assert risk.shape == (len(X_test),) and risk.dtype == np.float64
    expected = concordance_index_censored(y_test["status"], y_test["days"], risk)[0]
    assert fitted.score(X_test, y_test) == expected
    assert expected > 0.72  # the true log-risk reaches 0.80 on these data
    with pytest.raises(ValueError, match="structured array"):
        fitted.score(X_test, y_test["days"])


def test_breslow_baseline_and_curves_by_hand(fitted, data):
    X_train, y_train, X_test, _ = data
    eta_train, eta_test = fitted.predict(X_train), fitted.predict(X_test)
    times = np.unique(y_train["days"])
    hazard_steps = [
        ((y_train["days"] == t) & y_train["status"]).sum()
        / np.exp(eta_train[y_train["days"] >= t]).sum()
        for t in times
    ]
    baseline = np.cumsum(hazard_steps)
    np.testing.assert_array_equal(fitted.unique_times_, times)
    np.testing.assert_allclose(fitted.cum_baseline_hazard_.y, baseline, rtol=1e-10)
    np.testing.assert_allclose(fitted.baseline_survival_.y, np.exp(-baseline), rtol=1e-10)

    cumhaz = fitted.predict_cumulative_hazard_function(X_test, return_array=True)
    surv = fitted.predict_survival_function(X_test, return_array=True)
    np.testing.assert_allclose(cumhaz, np.exp(eta_test)[:, None] * baseline, rtol=1e-10)
    np.testing.assert_allclose(surv, np.exp(-cumhaz), rtol=1e-10)
    assert np.all(np.diff(surv, axis=1) <= 0) and np.all((surv >= 0) & (surv <= 1))

    functions = fitted.predict_survival_function(X_test[:3])
    assert len(functions) == 3
    np.testing.assert_allclose([fn(times[10:40]) for fn in functions], surv[:3, 10:40])


def test_sksurv_metrics_on_the_curves(fitted, data):
    _, y_train, X_test, y_test = data
    times = np.percentile(y_test["days"][y_test["status"]], [20, 40, 60, 80])
    surv = np.vstack([fn(times) for fn in fitted.predict_survival_function(X_test)])
    ibs = integrated_brier_score(y_train, y_test, surv, times)
    # the null model: the training Kaplan-Meier curve for every patient
    km_x, km_y = kaplan_meier_estimator(y_train["status"], y_train["days"])
    km = km_y[np.searchsorted(km_x, times, side="right") - 1]
    ibs_null = integrated_brier_score(y_train, y_test, np.tile(km, (len(X_test), 1)), times)
    assert ibs < 0.9 * ibs_null

    risk = fitted.predict(X_test)
    c_ipcw = concordance_index_ipcw(y_train, y_test, risk, tau=times[-1])[0]
    assert c_ipcw == pytest.approx(fitted.score(X_test, y_test), abs=0.06)
    _, mean_auc = cumulative_dynamic_auc(y_train, y_test, risk, times)
    assert mean_auc > 0.75


def test_sksurv_scorer_wrappers(data):
    X_train, y_train, X_test, y_test = data
    times = np.percentile(y_test["days"][y_test["status"]], [20, 40, 60, 80])
    est = BINNSurvival(MASK, **FAST)
    ipcw = as_concordance_index_ipcw_scorer(est, tau=times[-1]).fit(X_train, y_train)
    risk = ipcw.estimator_.predict(X_test)
    expected = concordance_index_ipcw(y_train, y_test, risk, tau=times[-1])[0]
    assert ipcw.score(X_test, y_test) == expected

    auc = as_cumulative_dynamic_auc_scorer(est, times).fit(X_train, y_train)
    assert auc.score(X_test, y_test) == cumulative_dynamic_auc(y_train, y_test, risk, times)[1]

    brier = as_integrated_brier_score_scorer(est, times).fit(X_train, y_train)
    surv = brier.estimator_.predict_survival_function(X_test, return_array=False)
    estimate = np.vstack([fn(times) for fn in surv])
    assert brier.score(X_test, y_test) == -integrated_brier_score(y_train, y_test, estimate, times)


# ------------------------------------------------- scikit-learn machinery
def test_grid_search_over_depth_with_an_sksurv_scorer(data):
    X_train, y_train, _, _ = data
    tau = np.percentile(y_train["days"], 80)
    cv = KFold(3)
    search = GridSearchCV(
        as_concordance_index_ipcw_scorer(BINNSurvival(MASK, **FAST), tau=tau),
        {"estimator__depth": [1, 2]},
        cv=cv,
    ).fit(X_train, y_train)
    for k, depth in enumerate(search.cv_results_["param_estimator__depth"]):
        for fold, (tr, te) in enumerate(cv.split(X_train)):
            est = BINNSurvival(MASK, **{**FAST, "depth": depth}).fit(X_train[tr], y_train[tr])
            expected = concordance_index_ipcw(
                y_train[tr], y_train[te], est.predict(X_train[te]), tau=tau
            )[0]
            assert search.cv_results_[f"split{fold}_test_score"][k] == pytest.approx(expected)
    assert search.best_estimator_.estimator_.mask_.depth == search.best_params_["estimator__depth"]


@pytest.mark.slow
def test_grid_search_in_parallel_workers_matches_serial(data):
    X_train, y_train, _, _ = data
    grid, cv = {"depth": [1, 2]}, KFold(3)
    serial = GridSearchCV(BINNSurvival(MASK, **FAST), grid, cv=cv).fit(X_train, y_train)
    parallel = GridSearchCV(BINNSurvival(MASK, **FAST), grid, cv=cv, n_jobs=2).fit(X_train, y_train)
    np.testing.assert_allclose(
        parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"], rtol=1e-6
    )


def test_cross_validate_with_structured_y(data):
    X_train, y_train, _, _ = data
    cv = KFold(3, shuffle=True, random_state=0)
    result = cross_validate(BINNSurvival(MASK, **FAST), X_train, y_train, cv=cv)
    for fold, (tr, te) in enumerate(cv.split(X_train)):
        est = BINNSurvival(MASK, **FAST).fit(X_train[tr], y_train[tr])
        assert result["test_score"][fold] == est.score(X_train[te], y_train[te])


def test_pipeline_equals_manual_scaling(data):
    X_train, y_train, X_test, y_test = data
    X_train, X_test = 3.0 * X_train + 1.0, 3.0 * X_test + 1.0
    pipe = make_pipeline(StandardScaler(), BINNSurvival(MASK, **FAST)).fit(X_train, y_train)
    scaler = StandardScaler().fit(X_train)
    manual = BINNSurvival(MASK, **FAST).fit(scaler.transform(X_train), y_train)
    np.testing.assert_array_equal(pipe.predict(X_test), manual.predict(scaler.transform(X_test)))
    assert pipe.score(X_test, y_test) == manual.score(scaler.transform(X_test), y_test)
    np.testing.assert_array_equal(
        pipe.predict_survival_function(X_test, return_array=True),
        manual.predict_survival_function(scaler.transform(X_test), return_array=True),
    )


def test_clone_pickle_and_joblib_round_trips(fitted, data, tmp_path):
    _, _, X_test, _ = data
    cloned = clone(fitted)
    assert cloned.get_params()["ties"] == "efron"
    assert not hasattr(cloned, "module_") and not cloned.initialized_
    with pytest.raises(NotFittedError):
        cloned.predict(X_test)
    joblib.dump(fitted, tmp_path / "est.joblib")
    for restored in (pickle.loads(pickle.dumps(fitted)), joblib.load(tmp_path / "est.joblib")):
        np.testing.assert_array_equal(restored.predict(X_test), fitted.predict(X_test))
        np.testing.assert_array_equal(
            restored.predict_survival_function(X_test, return_array=True),
            fitted.predict_survival_function(X_test, return_array=True),
        )


def test_parameters_are_the_base_parameters_plus_ties():
    base = inspect.signature(BINNBase.__init__).parameters
    own = inspect.signature(BINNSurvival.__init__).parameters
    assert own["ties"].default == "efron"
    defaults = BINNSurvival(MASK).get_params(deep=False)
    assert set(defaults) == {*base, "ties"} - {"self", "kwargs"}
    assert all(defaults[name] == base[name].default for name in base
               if name not in ("self", "mask", "kwargs"))
    params = BINNSurvival(MASK, ties="breslow", optimizer__weight_decay=0.1).get_params()
    assert params["ties"] == "breslow" and params["optimizer__weight_decay"] == 0.1
    assert clone(BINNSurvival(MASK, ties="breslow")).ties == "breslow"


def test_ties_parameter_reaches_the_criterion(data):
    X_train, y_train, _, _ = data
    est = BINNSurvival(MASK, **{**FAST, "max_epochs": 2}).set_params(ties="breslow")
    assert est.fit(X_train, y_train).criterion_.ties == "breslow"
    with pytest.raises(ValueError, match="'ties' parameter of BINNSurvival"):
        BINNSurvival(MASK, ties="exact").fit(X_train, y_train)


# ---- what the estimator checks test, with a structured y (see EXPECTED_FAILED)
def test_fit_returns_self_and_does_not_change_parameters(data):
    X_train, y_train, _, _ = data
    est = BINNSurvival(MASK, **FAST)
    before = joblib.hash(est.get_params(deep=False))
    assert est.fit(X_train, y_train) is est
    assert joblib.hash(est.get_params(deep=False)) == before


def test_predict_does_not_change_the_estimator(fitted, data):
    _, _, X_test, _ = data
    attributes = dict(vars(fitted))
    weights = {k: v.clone() for k, v in fitted.module_.state_dict().items()}
    fitted.predict(X_test)
    fitted.predict_survival_function(X_test)
    fitted.score(X_test, data[3])
    assert vars(fitted).keys() == attributes.keys()
    assert all(vars(fitted)[k] is v for k, v in attributes.items())
    for name, value in fitted.module_.state_dict().items():
        assert torch.equal(value, weights[name])


def test_subset_and_sample_order_invariance(fitted, data):
    _, _, X_test, _ = data
    risk = fitted.predict(X_test)
    batches = [fitted.predict(X_test[i : i + 7]) for i in range(0, len(X_test), 7)]
    np.testing.assert_allclose(np.concatenate(batches), risk, rtol=1e-6)
    perm = np.random.default_rng(0).permutation(len(X_test))
    np.testing.assert_allclose(fitted.predict(X_test[perm]), risk[perm], rtol=1e-6)


def test_fit_is_idempotent_and_reproducible(data):
    X_train, y_train, X_test, _ = data
    est = BINNSurvival(MASK, **FAST)
    first = est.fit(X_train, y_train).predict(X_test)
    np.testing.assert_array_equal(est.fit(X_train, y_train).predict(X_test), first)
    np.testing.assert_array_equal(clone(est).fit(X_train, y_train).predict(X_test), first)


def test_n_features_in_dtypes_and_dataframes(fitted, data):
    X_train, y_train, X_test, _ = data
    assert fitted.n_features_in_ == 6
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X_test[:, :5])
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(np.where(X_test == X_test[0, 0], np.nan, X_test))
    np.testing.assert_allclose(
        fitted.predict(X_test.astype(np.float32)), fitted.predict(X_test), rtol=1e-6
    )
    np.testing.assert_array_equal(fitted.predict(np.asfortranarray(X_test)), fitted.predict(X_test))

    frame = pd.DataFrame(X_train, columns=GENES)
    est = BINNSurvival(MASK, **FAST).fit(frame[GENES[::-1]], y_train)
    assert list(est.feature_names_in_) == GENES[::-1]
    np.testing.assert_allclose(
        est.predict(pd.DataFrame(X_test, columns=GENES)), fitted.predict(X_test), rtol=1e-5
    )


def test_unfitted_estimator_raises_not_fitted(data):
    est = BINNSurvival(MASK)
    methods = (est.predict, est.predict_survival_function, est.predict_cumulative_hazard_function)
    for method in methods:
        with pytest.raises(NotFittedError):
            method(data[2])
    with pytest.raises(NotFittedError):
        est.unique_times_


def test_partial_fit_continues_training_and_refits_the_baseline(data):
    X_train, y_train, X_test, _ = data
    est = BINNSurvival(MASK, **{**FAST, "max_epochs": 5})
    assert est.partial_fit(X_train, y_train) is est and len(est.history_) == 5
    before = est.predict(X_test)
    est.partial_fit(X_train, y_train)
    assert len(est.history_) == 10 and not np.allclose(est.predict(X_test), before)
    eta = est.predict(X_train)  # the baseline follows the further-trained network
    first = np.unique(y_train["days"])[0]
    expected = ((y_train["days"] == first) & y_train["status"]).sum() / np.exp(eta).sum()
    assert est.cum_baseline_hazard_.y[0] == pytest.approx(expected, rel=1e-10)


def test_mini_batches_without_events_train(data):
    X_train, y_train, X_test, y_test = data
    rare = y_train.copy()
    rare["status"][np.arange(len(rare)) % 8 != 0] = False  # most 4-sample batches lack events
    est = BINNSurvival(MASK, batch_size=4, max_epochs=3, n_iter_no_change=None, random_state=0)
    est.fit(X_train, rare)
    assert np.isfinite(est.history_[:, "train_loss"]).all()
    assert np.isfinite(est.predict(X_test)).all()


# ----------------------------------------------- sklearn's estimator checks
_PLAIN_Y = "the check fits with a plain y; BINNSurvival needs sksurv's structured (event, time) y"
EXPECTED_FAILED = {
    "check_dict_unchanged": f"{_PLAIN_Y}; see test_predict_does_not_change_the_estimator",
    "check_dont_overwrite_parameters": f"{_PLAIN_Y}; see test_fit_returns_self_and_...",
    "check_dtype_object": f"{_PLAIN_Y}; object X is rejected by validate_data",
    "check_estimators_dtypes": f"{_PLAIN_Y}; see test_n_features_in_dtypes_and_dataframes",
    "check_estimators_fit_returns_self": f"{_PLAIN_Y}; see test_fit_returns_self_and_...",
    "check_estimators_nan_inf": f"{_PLAIN_Y}; see test_n_features_in_dtypes_and_dataframes",
    "check_estimators_overwrite_params": f"{_PLAIN_Y}; see test_fit_returns_self_and_...",
    "check_estimators_pickle": f"{_PLAIN_Y}; see test_clone_pickle_and_joblib_round_trips",
    "check_f_contiguous_array_estimator": f"{_PLAIN_Y}; see test_n_features_in_dtypes_...",
    "check_fit2d_1feature": f"{_PLAIN_Y} (its message is about y, not the feature count)",
    "check_fit2d_1sample": f"{_PLAIN_Y} (its message is about y, not the sample count)",
    "check_fit2d_predict1d": f"{_PLAIN_Y}; 1-D X is rejected by validate_data",
    "check_fit_check_is_fitted": f"{_PLAIN_Y}; see test_unfitted_estimator_raises_not_fitted",
    "check_fit_idempotent": f"{_PLAIN_Y}; see test_fit_is_idempotent_and_reproducible",
    "check_fit_score_takes_y": f"{_PLAIN_Y}; see test_cross_validate_with_structured_y",
    "check_methods_sample_order_invariance": f"{_PLAIN_Y}; see test_subset_and_sample_order_...",
    "check_methods_subset_invariance": f"{_PLAIN_Y}; see test_subset_and_sample_order_invariance",
    "check_n_features_in": f"{_PLAIN_Y}; see test_n_features_in_dtypes_and_dataframes",
    "check_n_features_in_after_fitting": f"{_PLAIN_Y}; see test_n_features_in_dtypes_...",
    "check_pipeline_consistency": f"{_PLAIN_Y}; see test_pipeline_equals_manual_scaling",
    "check_positive_only_tag_during_fit": f"{_PLAIN_Y}; negative X is fine (standardized data)",
    "check_readonly_memmap_input": f"{_PLAIN_Y}; validate_data copies read-only X",
}


@parametrize_with_checks(
    [BINNSurvival(two_layer_mask, max_epochs=5, random_state=0)],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
    xfail_strict=True,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ------------------------------------------------------ linear Cox sanity
@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_identity_one_pathway_binn_is_a_linear_cox_model(ties):
    rng = np.random.default_rng(1)
    X = StandardScaler().fit_transform(rng.normal(size=(120, 5)) * [1, 2, 0.5, 1, 3] + 1)
    event_time = rng.exponential(np.exp(-X @ [0.8, -0.5, 0.3, 0.0, 0.6]))
    censor_time = rng.exponential(2.0, size=120)
    time = np.round(np.minimum(event_time, censor_time), 1)
    y = Surv.from_arrays(event_time <= censor_time, time)
    assert len(np.unique(y["time"])) < 60  # heavily tied
    cox = CoxPHSurvivalAnalysis(ties=ties).fit(X, y)
    est = BINNSurvival(
        PathwayMask(np.ones((5, 1))), activation="identity", ties=ties, batch_size=-1,
        lr=0.05, max_epochs=150, train_split=None, n_iter_no_change=None, random_state=0,
    ).fit(X, y)
    assert np.corrcoef(est.predict(X), cox.predict(X))[0, 1] > 0.99
    gene_layer, output = est.get_weights(include_output=True)
    np.testing.assert_allclose((gene_layer @ output).toarray().ravel(), cox.coef_, atol=5e-3)
    optimum = CoxPHOptimizer(X, y["event"], y["time"], np.zeros(5), ties).nlog_likelihood(cox.coef_)
    per_event = optimum * 120 / y["event"].sum()  # sksurv averages over samples, we over events
    assert est.history_[-1, "train_loss"] == pytest.approx(per_event, rel=1e-5)


# ------------------------------------------------- history and verbosity
class _FixedSplit:
    """A skorch train_split holding out fixed sample indices."""

    def __init__(self, valid):
        self.valid = valid

    def __call__(self, dataset, y=None, **fit_params):
        train = np.setdiff1d(np.arange(len(dataset)), self.valid)
        return Subset(dataset, train), Subset(dataset, self.valid)


def test_verbose_table_and_validation_cindex_history(data, capsys):
    X_train, y_train, _, _ = data
    valid = np.arange(0, len(X_train), 4)
    est = BINNSurvival(
        MASK, lr=1e-2, max_epochs=4, n_iter_no_change=None, verbose=1,
        train_split=_FixedSplit(valid), random_state=0,
    ).fit(X_train, y_train)
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header == ["epoch", "train_loss", "valid_cindex", "valid_loss", "dur"]
    assert len(est.history_) == 4 and np.isfinite(est.history_[:, "train_loss"]).all()
    risk = est.predict(X_train[valid])
    last = est.history_[-1]
    assert last["valid_cindex"] == concordance_index_censored(
        y_train["status"][valid], y_train["days"][valid], risk
    )[0]
    assert last["valid_loss"] == pytest.approx(
        loss(risk, y_train["days"][valid], y_train["status"][valid]), rel=1e-5
    )


# --------------------------------------------------- worked example
def test_breast_cancer_example(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(ROOT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # plt.show() on Agg
        namespace = runpy.run_path(str(ROOT / "examples" / "plot_survival_breast_cancer.py"))
    model, X_test, y_test = namespace["model"], namespace["X_test"], namespace["y_test"]
    event, time = y_test["e.tdm"], y_test["t.tdm"]
    assert X_test.shape[1] == 76 and len(X_test) + len(namespace["X_train"]) == 198
    cindex = concordance_index_censored(event, time, model.predict(X_test))[0]
    assert namespace["cindex_binn"] == cindex
    assert cindex > 0.55
    curves = namespace["curves"]
    binn = model[-1]
    eta = model.predict(namespace["X_patients"])
    expected = binn.baseline_survival_.y ** np.exp(eta)[:, None]
    np.testing.assert_allclose(curves, expected, rtol=1e-10)
    figure = namespace["fig"]
    assert len(figure.axes[0].get_lines()) == len(curves)


def _breslow_by_hand(eta, event, time):
    """H_0 at each distinct time, each risk-set sum taken in exact rational arithmetic."""
    from fractions import Fraction

    shift = max(eta)
    scores = [Fraction(np.exp(e - shift)) for e in eta]  # exact sums of the shifted scores
    hazard, out = Fraction(0), []
    for t in np.unique(time):
        at_risk = sum(s for s, ti in zip(scores, time) if ti >= t)
        hazard += Fraction(int(((time == t) & event).sum())) / at_risk
        out.append(float(hazard) * np.exp(-shift))
    return np.array(out)


@pytest.mark.parametrize("spread", [1.0, 100.0])
def test_the_breslow_baseline_stays_exact_for_log_risks_hundreds_apart(spread):
    # a converged deep Cox model can give log-risks hundreds apart: scikit-survival's
    # estimator then cancels its risk-set sums (to rounding noise, zero or below zero); ours
    # takes them as suffix sums of max-shifted scores, equal to an exact computation
    from sksurv.linear_model.coxph import BreslowEstimator

    from sklearn_binn._survival import _Breslow

    rng = np.random.default_rng(0)
    time = rng.integers(1, 40, 120).astype(float)
    event = rng.random(120) < 0.7
    eta = np.sort(rng.normal(0, 1, 120))[::-1] * spread  # early times carry the largest risks
    eta = eta[np.argsort(np.argsort(time))]
    ours = _Breslow().fit(eta, event, time)
    np.testing.assert_allclose(ours.cum_baseline_hazard_.y, _breslow_by_hand(eta, event, time),
                               rtol=1e-12)
    assert np.all(np.isfinite(ours.cum_baseline_hazard_.y))
    assert np.all(np.diff(ours.cum_baseline_hazard_.y) >= 0)
    with np.errstate(all="ignore"):
        theirs = BreslowEstimator().fit(eta, event, time).cum_baseline_hazard_.y
    if spread == 1.0:  # where scikit-survival's is well conditioned, the two agree
        np.testing.assert_allclose(ours.cum_baseline_hazard_.y, theirs, rtol=1e-10)
    else:
        assert not np.allclose(ours.cum_baseline_hazard_.y, theirs, rtol=1e-6, equal_nan=False)
