"""The Cox partial likelihood as a torch loss, stable on mini-batches with tied times."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["CoxPHLoss", "cox_partial_nll"]

_TIES = ("efron", "breslow")
_REDUCTIONS = ("mean", "sum")


def cox_partial_nll(log_risk, time, event, *, ties="efron", reduction="mean"):
    r"""Negative Cox partial log-likelihood of a batch of log-risks.

    For samples sorted by time, with events at distinct times
    :math:`t_1 < \dots < t_K`, :math:`d_k` events at :math:`t_k` forming
    the set :math:`H_k`, and :math:`R_k = \{j : t_j \ge t_k\}` the risk set,

    .. math::

        -\log L = -\sum_k \Big[\sum_{i \in H_k} \eta_i
                  - \sum_{r=0}^{d_k - 1} \log\Big(\sum_{j \in R_k} e^{\eta_j}
                  - \tfrac{r}{d_k} \sum_{j \in H_k} e^{\eta_j}\Big)\Big]

    (Efron); Breslow drops the :math:`r / d_k` correction. Everything is
    computed in log space (``logcumsumexp`` over the time-sorted batch and a
    per-group log-sum-exp of the tied events), so the result is invariant to
    adding a constant to ``log_risk`` and finite for log-risks in the
    thousands, in float32 as in float64. Censored samples tied with an event
    are in that event's risk set.

    Parameters
    ----------
    log_risk : torch.Tensor of shape (n_samples,) or (n_samples, 1)
        The model's log relative hazard :math:`\eta`.
    time : torch.Tensor of shape (n_samples,)
        Event or censoring times; only their order and ties matter.
    event : torch.Tensor of shape (n_samples,)
        Event indicator (bool or 0/1).
    ties : {"efron", "breslow"}, default="efron"
        How tied event times are handled. Without ties both agree.
    reduction : {"mean", "sum"}, default="mean"
        ``"mean"`` divides the sum by the number of events in the batch.

    Returns
    -------
    torch.Tensor
        A scalar. A batch without events gives ``0`` that is still connected
        to ``log_risk`` (its gradient is zero), so ``backward`` works on
        every mini-batch.

    Raises
    ------
    ValueError
        If ``ties`` or ``reduction`` is unknown, or the shapes disagree.

    See Also
    --------
    CoxPHLoss : the same as a ``torch.nn.Module`` for skorch's ``criterion``.
    torchsurv.loss.cox.neg_partial_log_likelihood : the reference this
        function is tested against (with ``reduction="sum"``).

    Notes
    -----
    torchsurv 0.2.0 gives the same values on well-behaved batches but is not
    used in training because (i) with tied event times it sums
    ``exp(log_hz)`` directly, which overflows float32 for log-risks above
    about 88; (ii) without tied events it can leave a censored sample tied
    with an event out of that event's risk set, depending on input order;
    (iii) it warns on every batch with ties or without events, and returns
    a graph-less constant for the latter; (iv) its ``"mean"`` divides by the
    number of distinct event times when there are ties and by the number of
    events otherwise.

    References
    ----------
    .. [1] Efron, B. (1977). The efficiency of Cox's likelihood function for
       censored data. JASA 72(359), 557-565.
    .. [2] Breslow, N. (1974). Covariance analysis of censored survival data.
       Biometrics 30(1), 89-99.

    Examples
    --------
    >>> import torch
    >>> from sklearn_binn._cox import cox_partial_nll
    >>> log_risk = torch.tensor([0.5, -0.2, 0.1, 0.0])
    >>> time = torch.tensor([1.0, 2.0, 2.0, 3.0])
    >>> event = torch.tensor([True, True, True, False])
    >>> round(float(cox_partial_nll(log_risk, time, event, reduction="sum")), 4)
    2.8669
    >>> round(float(cox_partial_nll(log_risk, time, event, ties="breslow",
    ...                             reduction="sum")), 4)
    3.2659
    """
    if ties not in _TIES:
        raise ValueError(f"ties must be one of {list(_TIES)}; got {ties!r}.")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {list(_REDUCTIONS)}; got {reduction!r}.")
    log_risk = log_risk.reshape(-1) if log_risk.dim() == 2 and log_risk.shape[1] == 1 else log_risk
    time = time.reshape(-1)
    event = event.reshape(-1).to(torch.bool)
    if log_risk.dim() != 1 or not (log_risk.shape[0] == time.shape[0] == event.shape[0]):
        raise ValueError(
            "log_risk must have shape (n_samples,) or (n_samples, 1) and time and "
            f"event shape (n_samples,); got {tuple(log_risk.shape)}, "
            f"{tuple(time.shape)} and {tuple(event.shape)}."
        )
    n_events = int(event.sum())
    if n_events == 0:
        return log_risk.new_zeros(()) + 0.0 * log_risk.sum()  # +0.0, not -0.0

    time_sorted, order = torch.sort(time, stable=True)
    eta = log_risk[order]
    is_event = event[order]
    # every sample's tie group starts at the first sample with the same time;
    # the risk set of that time is the suffix from there
    group_start = torch.searchsorted(time_sorted, time_sorted)
    log_suffix = torch.logcumsumexp(eta.flip(0), dim=0).flip(0)

    positions = torch.nonzero(is_event).reshape(-1)  # events, in time order
    groups = group_start[positions]
    eta_events = eta[positions]
    log_denominator = log_suffix[groups]
    if ties == "efron":
        log_denominator = log_denominator + _efron_correction(
            eta_events, groups, log_denominator, len(eta)
        )
    total = -(eta_events - log_denominator).sum()
    return total / n_events if reduction == "mean" else total


def _efron_correction(eta_events, groups, log_risk_set, n_samples):
    """``log(1 - r/d * T/D)`` per event: its rank ``r`` among the ``d`` tied events."""
    dtype, device = eta_events.dtype, eta_events.device
    ones = torch.ones_like(eta_events)
    n_tied = torch.zeros(n_samples, dtype=dtype, device=device).index_add(0, groups, ones)[groups]
    # events are in time order, so each group's events are contiguous in `groups`
    rank = (
        torch.arange(len(groups), device=device)
        - torch.searchsorted(groups.contiguous(), groups.contiguous())
    ).to(dtype)
    # log of the summed risk of the tied events: a per-group log-sum-exp
    shift = torch.full((n_samples,), -torch.inf, dtype=dtype, device=device).scatter_reduce(
        0, groups, eta_events.detach(), reduce="amax"
    )[groups]
    summed = torch.zeros(n_samples, dtype=dtype, device=device).index_add(
        0, groups, torch.exp(eta_events - shift)
    )[groups]
    log_tied = torch.log(summed) + shift
    return torch.log1p(-(rank / n_tied) * torch.exp(log_tied - log_risk_set))


class CoxPHLoss(nn.Module):
    """Negative Cox partial log-likelihood as a skorch criterion.

    ``forward(y_pred, y_true)`` reads the log-risk from ``y_pred`` and the
    time (column 0) and event indicator (column 1) from ``y_true``; see
    :func:`cox_partial_nll` for the formula and its numerical properties.
    This is the default ``criterion`` of :class:`~sklearn_binn.BINNSurvival`.

    Parameters
    ----------
    ties : {"efron", "breslow"}, default="efron"
        How tied event times are handled.
    reduction : {"mean", "sum"}, default="mean"
        ``"mean"`` divides by the number of events in the batch.

    Examples
    --------
    >>> import torch
    >>> from sklearn_binn._cox import CoxPHLoss
    >>> y_true = torch.tensor([[1.0, 1.0], [2.0, 0.0], [3.0, 1.0]])
    >>> loss = CoxPHLoss(ties="breslow")(torch.zeros(3, 1), y_true)
    >>> round(float(loss), 4)  # (log 3 + log 1) / 2 events
    0.5493
    """

    def __init__(self, ties="efron", reduction="mean"):
        super().__init__()
        if ties not in _TIES:
            raise ValueError(f"ties must be one of {list(_TIES)}; got {ties!r}.")
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"reduction must be one of {list(_REDUCTIONS)}; got {reduction!r}."
            )
        self.ties = ties
        self.reduction = reduction

    def forward(self, y_pred, y_true):
        """The loss of log-risks ``y_pred`` for targets ``y_true = [time, event]``."""
        if y_true.dim() != 2 or y_true.shape[1] != 2:
            raise ValueError(
                "CoxPHLoss expects y_true of shape (n_samples, 2) holding time and "
                f"event indicator; got shape {tuple(y_true.shape)}."
            )
        return cox_partial_nll(
            y_pred, y_true[:, 0], y_true[:, 1] > 0.5, ties=self.ties, reduction=self.reduction
        )
