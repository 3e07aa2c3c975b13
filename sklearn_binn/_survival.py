"""BINNSurvival: a deep Cox model with BINN wiring, following scikit-survival's API."""

from __future__ import annotations

from functools import partial

import numpy as np
from skorch.callbacks import EpochScoring
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _num_samples, check_is_fitted
from sksurv.base import SurvivalAnalysisMixin
from sksurv.exceptions import NoComparablePairException
from sksurv.functions import StepFunction
from sksurv.linear_model.coxph import BreslowEstimator
from sksurv.metrics import concordance_index_censored
from sksurv.util import check_y_survival

from ._base import BINNBase, check_target
from ._docstrings import fill_parameters
from ._cox import CoxPHLoss

__all__ = ["BINNSurvival"]


@partial(
    fill_parameters,
    output="log-risk output",
    criterion=(
        "``None`` uses :class:`~sklearn_binn._cox.CoxPHLoss` with ``ties``. A\n"
        "        custom criterion is called as ``criterion(log_risk, y_true)`` with\n"
        "        ``y_true[:, 0]`` the rank of the time and ``y_true[:, 1]`` the event."
    ),
    epoch_columns="losses and ``valid_cindex``",
    stratified="stratified by the event indicator when possible, ",
    activation_note=(
        " ``\"identity\"`` with one pathway\n"
        "        layer is a (sparse-factored) linear Cox model."
    ),
    batch_note=(
        " Mini-batches use the partial likelihood within\n"
        "        each batch; a batch without events contributes a zero loss."
    ),
    extra=(
        "\n    ties : {\"efron\", \"breslow\"}, default=\"efron\"\n"
        "        Handling of tied event times in the partial likelihood."
    ),
)
class BINNSurvival(SurvivalAnalysisMixin, BINNBase):
    """A biologically informed neural network for right-censored survival data.

    A deep Cox model: the network maps the genes, through the pathway
    hierarchy of ``mask``, to one log-risk :math:`\\eta(x)`, and is trained
    on the negative Cox partial log-likelihood (Efron or Breslow ties),
    computed per mini-batch. After training, Breslow's estimator of the
    baseline cumulative hazard is fitted on the training log-risks, which
    gives survival and cumulative hazard functions
    :math:`S(t \\mid x) = S_0(t)^{\\exp \\eta(x)}`. The API is
    scikit-survival's: ``y`` is the structured array of
    ``sksurv.util.Surv.from_arrays(event, time)``, ``predict`` returns risk
    scores, ``score`` is Harrell's concordance index, so sksurv's metrics and
    ``as_*_scorer`` wrappers apply. Built on skorch: every skorch parameter
    (``optimizer__*``, ``module__*``, ``callbacks``, ``device``, ...) works.

    Parameters
    ----------
{binn_parameters}

    Attributes
    ----------
    mask_ : PathwayMask
        The fitted mask: resolved, aligned to ``X``'s columns, truncated.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only with a DataFrame whose column names are all strings.
    module_ : BINNModule
    history_ : skorch.History
        Per epoch: ``train_loss``, and with a validation split
        ``valid_loss`` and ``valid_cindex`` (Harrell's C on the held-out
        part; NaN when it has no comparable pair).
{binn_attributes}
    cum_baseline_hazard_ : sksurv.functions.StepFunction
        Breslow's cumulative baseline hazard :math:`H_0(t)`.
    baseline_survival_ : sksurv.functions.StepFunction
        :math:`S_0(t) = \\exp(-H_0(t))`.
    unique_times_ : ndarray
        The distinct training times at which the curves step; the grid of
        ``return_array=True``.

    See Also
    --------
    BINNClassifier, BINNRegressor
    sksurv.linear_model.CoxPHSurvivalAnalysis : the linear Cox model.

    Notes
    -----
    Only the order of the survival times and their ties enter the partial
    likelihood, so the network is trained on time ranks (exact in float32);
    the baseline hazard uses the times themselves.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.util import Surv
    >>> from sklearn_binn import BINNSurvival, PathwayMask
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 6))
    >>> y = Surv.from_arrays(event=rng.random(200) < 0.7,
    ...                      time=rng.exponential(np.exp(-X[:, 0] - X[:, 3])))
    >>> mask = PathwayMask.from_gene_sets({"A": ["x0", "x1", "x2"], "B": ["x3", "x4", "x5"]},
    ...                                   feature_names=[f"x{i}" for i in range(6)])
    >>> est = BINNSurvival(mask, lr=1e-2, random_state=0).fit(X, y)
    >>> est.predict(X[:3]).shape
    (3,)
    >>> bool(est.score(X, y) > 0.7)
    True
    >>> est.predict_survival_function(X[:2], return_array=True).shape == (2, len(est.unique_times_))
    True
    """

    _parameter_constraints = {
        **BINNBase._parameter_constraints,
        "ties": [StrOptions({"efron", "breslow"})],
    }

    def __init__(self, mask, *, ties="efron", **kwargs):
        super().__init__(mask, **kwargs)
        self.ties = ties

    # ------------------------------------------------------------- hooks
    def _prepare_target(self, y, n_samples, reset):
        # ``reset`` does not matter here: a survival target encodes nothing
        # that must stay fixed between calls
        event, time = _check_survival_y(check_target(self, y, n_samples), type(self).__name__)
        self._train_target = (event, time)
        self._n_outputs = 1
        # the partial likelihood sees only the order and ties of the times:
        # their dense ranks are exact in float32 whatever the time scale
        rank = np.unique(time, return_inverse=True)[1]
        return np.column_stack([rank, event]).astype(self._numpy_dtype())

    def _default_criterion(self):
        return partial(CoxPHLoss, ties=self.ties)

    def _stratify_labels(self):
        return self._train_target[0]

    def _scoring_callbacks(self):
        return [
            (
                "valid_cindex",
                EpochScoring(_encoded_cindex, name="valid_cindex", lower_is_better=False),
            )
        ]

    # ------------------------------------------------------------- fitting
    def fit(self, X, y, pathway_targets=None, **fit_params):
        """Train the network on ``(X, y)``, then fit the Breslow baseline.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_genes)
            With a DataFrame the columns are matched to the mask's genes by
            name, in any order.
        y : structured array of shape (n_samples,)
            Event indicator (bool) as first field and time as second, e.g.
            from ``sksurv.util.Surv.from_arrays(event, time)``; the field
            names do not matter. Times must be finite and non-negative, and
            at least one sample must have an event.
        pathway_targets : pandas.DataFrame of shape (n_samples, n_supervised), default=None
            Partial supervision of pathway activations: columns named like
            pathway nodes, NaN where unknown; as for the other BINN
            estimators.
        **fit_params
            Passed to skorch's fit loop.

        Returns
        -------
        self : BINNSurvival
            The fitted estimator.
        """
        return self._train_with_baseline(
            partial(super().fit, pathway_targets=pathway_targets), X, y, **fit_params
        )

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train ``max_epochs`` more epochs, then refit the Breslow baseline on ``(X, y)``.

        The first call on an unfitted estimator is :meth:`fit`.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_genes)
        y : structured array of shape (n_samples,)
            As for :meth:`fit`.
        classes : None
            Ignored; there for the scikit-learn signature.
        **fit_params
            Passed to skorch's fit loop.

        Returns
        -------
        self : BINNSurvival
        """
        if not self.__sklearn_is_fitted__():
            return self.fit(X, y, **fit_params)
        return self._train_with_baseline(
            partial(super().partial_fit, classes=classes), X, y, **fit_params
        )

    def _train_with_baseline(self, train, X, y, **fit_params):
        """Run ``train(X, y)``, then fit Breslow's baseline on the trained log-risk."""
        try:
            train(X, y, **fit_params)
            event, time = self._train_target
        finally:
            self.__dict__.pop("_train_target", None)
        self._baseline_model = _Breslow().fit(self.predict(X), event, time)
        return self

    # ----------------------------------------------------------- inference
    def predict(self, X):
        """Risk scores: the network's log-risk; higher means an earlier event.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_genes)

        Returns
        -------
        risk : ndarray of shape (n_samples,)
            The log relative hazard :math:`\\eta(x)`, on the scale of a Cox
            model's linear predictor.
        """
        return self._raw_output(X)[:, 0]

    def predict_cumulative_hazard_function(self, X, return_array=False):
        """Cumulative hazard :math:`H(t \\mid x) = H_0(t) \\exp \\eta(x)` per sample.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_genes)
        return_array : bool, default=False
            Return an array evaluated at ``unique_times_`` instead of
            :class:`sksurv.functions.StepFunction` objects.

        Returns
        -------
        ndarray of StepFunction of shape (n_samples,), or ndarray of shape \
(n_samples, n_unique_times)
        """
        return self._predict_cumulative_hazard_function(
            self._fitted_baseline(), self.predict(X).astype(np.float64), return_array
        )

    def predict_survival_function(self, X, return_array=False):
        """Survival function :math:`S(t \\mid x) = S_0(t)^{\\exp \\eta(x)}` per sample.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_genes)
        return_array : bool, default=False
            Return an array evaluated at ``unique_times_`` instead of
            :class:`sksurv.functions.StepFunction` objects.

        Returns
        -------
        ndarray of StepFunction of shape (n_samples,), or ndarray of shape \
(n_samples, n_unique_times)
        """
        return self._predict_survival_function(
            self._fitted_baseline(), self.predict(X).astype(np.float64), return_array
        )

    def score(self, X, y):
        """Harrell's concordance index of ``predict(X)`` against ``y``.

        Equal to ``sksurv.metrics.concordance_index_censored(event, time,
        self.predict(X))[0]``.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_genes)
        y : structured array of shape (n_samples,)
            Event indicator and time, as for :meth:`fit`.

        Returns
        -------
        cindex : float
        """
        _check_survival_y(check_target(self, y, _num_samples(X)), type(self).__name__)
        return super().score(X, y)

    def _fitted_baseline(self):
        check_is_fitted(self)
        if not hasattr(self, "_baseline_model"):
            raise NotFittedError(
                f"This {type(self).__name__} has no baseline hazard: it was trained "
                "without calling fit (e.g. by partial_fit). Call fit first."
            )
        return self._baseline_model

    @property
    def cum_baseline_hazard_(self):
        """sksurv.functions.StepFunction: Breslow's cumulative baseline hazard."""
        return self._fitted_baseline().cum_baseline_hazard_

    @property
    def baseline_survival_(self):
        """sksurv.functions.StepFunction: the baseline survival function."""
        return self._fitted_baseline().baseline_survival_

    @property
    def unique_times_(self):
        """ndarray: the distinct training times, the grid of ``return_array=True``."""
        return self._fitted_baseline().unique_times_


class _Breslow(BreslowEstimator):
    """Breslow's estimator whose risk-set sums stay finite for extreme log-risks.

    scikit-survival's :class:`~sksurv.linear_model.coxph.BreslowEstimator`
    exponentiates the log-risks as given and gets each risk-set sum by
    subtracting the samples that left it from the total. A converged deep
    Cox model can give log-risks far apart (hundreds, in float32): ``exp``
    overflows, the subtractions cancel to zero, and the hazard divides by
    zero. Here the log-risks are taken in float64 and shifted by their
    maximum before ``exp`` (every score at most 1), each risk-set sum is a
    suffix sum of the time-sorted scores (no cancellation), and the hazard
    is shifted back, so the estimate is the same function of the
    log-risks; where the original is well conditioned the two agree to
    rounding. (The hazard of a log-risk of zero itself overflows float64
    once the log-risks span more than about 700.)
    """

    def fit(self, linear_predictor, event, time):
        """Fit the cumulative baseline hazard ``H_0`` for a log-risk of zero.

        Parameters
        ----------
        linear_predictor : array-like of shape (n_samples,)
            The log-risks.
        event : array-like of shape (n_samples,)
            Event indicators.
        time : array-like of shape (n_samples,)
            Event or censoring times.

        Returns
        -------
        self
        """
        eta = np.asarray(linear_predictor, dtype=np.float64)
        event = np.asarray(event, dtype=bool)
        time = np.asarray(time, dtype=np.float64)
        order = np.argsort(time, kind="mergesort")
        shift = float(eta.max())
        risk = np.exp(eta[order] - shift)
        at_risk = np.cumsum(risk[::-1])[::-1]  # sum over samples with time >= this one's
        unique_times, first = np.unique(time[order], return_index=True)
        n_events = np.add.reduceat(event[order].astype(np.float64), first)
        hazard = np.cumsum(n_events / at_risk[first]) * np.exp(-shift)
        self.cum_baseline_hazard_ = StepFunction(unique_times, hazard)
        self.baseline_survival_ = StepFunction(unique_times, np.exp(-hazard))
        self.unique_times_ = unique_times
        return self


def _check_survival_y(y, estimator_name):
    """Validate a survival target; return ``(event, time)`` as bool and float64."""
    if not isinstance(y, np.ndarray) or y.dtype.names is None or len(y.dtype.names) != 2:
        got = (
            f"a structured array with fields {y.dtype.names}"
            if isinstance(y, np.ndarray) and y.dtype.names is not None
            else f"{type(y).__name__}"
            + (f" of dtype {y.dtype}" if hasattr(y, "dtype") else "")
        )
        raise ValueError(
            f"{estimator_name} expects y to be a structured array with two fields, "
            "the event indicator (bool) then the time, as built by "
            f"sksurv.util.Surv.from_arrays(event, time); got {got}."
        )
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one record per sample); got shape {y.shape}.")
    event_field, time_field = y.dtype.names
    if not np.issubdtype(y.dtype[time_field], np.number):
        raise ValueError(
            f"The time field {time_field!r} of y must be numeric; got dtype "
            f"{y.dtype[time_field]}."
        )
    time = y[time_field].astype(np.float64)
    if not np.all(np.isfinite(time)):
        raise ValueError(
            f"The time field {time_field!r} of y holds {np.sum(~np.isfinite(time))} "
            "non-finite value(s) (NaN or inf); every sample needs a finite event or "
            "censoring time."
        )
    if np.any(time < 0):
        raise ValueError(
            f"The time field {time_field!r} of y holds negative values (min "
            f"{time.min():g}); survival times must be >= 0."
        )
    if not np.issubdtype(y.dtype[event_field], np.bool_):
        raise ValueError(
            f"The event field {event_field!r} of y must be boolean (the first field); "
            f"got dtype {y.dtype[event_field]}. Build y with "
            "sksurv.util.Surv.from_arrays(event, time)."
        )
    if not np.any(y[event_field]):
        raise ValueError(
            f"All {len(y)} samples of y are censored (field {event_field!r} is "
            "all False); the Cox partial likelihood needs at least one event."
        )
    event, time = check_y_survival(y)
    return np.asarray(event, dtype=bool), np.asarray(time, dtype=np.float64)


def _encoded_cindex(net, X, y):
    """Harrell's C of ``net`` on skorch's encoded target (time rank, event).

    NaN when the data hold no comparable pair (e.g. a validation split
    without events), so that one unlucky split does not stop training.
    """
    y = np.asarray(y)
    event = y[:, 1] > 0.5
    if not event.any():
        return np.nan
    try:
        return concordance_index_censored(event, y[:, 0], net.predict(X))[0]
    except NoComparablePairException:
        return np.nan
