"""How a study trains its students, and the evidence that a student converged.

Three protocols (:data:`PROTOCOLS`):

- ``"practice"``: what users do -- the estimators' defaults (Adam,
  mini-batches, early stopping on a validation split) with the cell's
  ``lr``, budget and penalties;
- ``"converged"``: the students are trained to tolerance, as an
  identifiability question needs -- full-batch L-BFGS
  (``solver="lbfgs"``) with :data:`CONVERGED_N_INIT` restarts keeping the
  lowest training loss, stopping when the training loss has improved by
  less than ``tol`` (:data:`CONVERGED_TOL`, relative) over 10 iterations of
  the estimator or the line search can no longer move, within
  :data:`CONVERGED_MAX_EPOCHS` epochs of up to 20 L-BFGS iterations each;
- ``"converged_float64"``: the same in float64 (``dtype="float64"``) to the
  tighter ``tol`` :data:`CONVERGED_FLOAT64_TOL` within
  :data:`CONVERGED_FLOAT64_MAX_EPOCHS` epochs, to settle cells whose
  float32 students stop a hair above or below the teacher's training loss
  (float32 rounding alone leaves a mean squared error of ~1e-9).

Whatever the protocol, :func:`convergence_evidence` reads off a fitted
student whether it converged (the estimator's ``converged_``), its
iterations, the relative change of its training loss over its last epoch
and the norm of the gradient of its training objective on the whole
training set.
"""

from __future__ import annotations

import numpy as np
import torch

from .._classifier import BINNClassifier
from .._survival import BINNSurvival

__all__ = [
    "CONVERGED_FLOAT64_MAX_EPOCHS",
    "CONVERGED_FLOAT64_TOL",
    "CONVERGED_MAX_EPOCHS",
    "CONVERGED_N_INIT",
    "CONVERGED_TOL",
    "PAIRED_PROTOCOLS",
    "PROTOCOLS",
    "convergence_evidence",
    "gradient_norm",
    "protocol_params",
    "training_objective",
]

#: The training protocols of a study cell.
PROTOCOLS = ("practice", "converged", "converged_float64")
#: The two protocols a study runs side by side (what users do, and trained to tolerance).
PAIRED_PROTOCOLS = ("practice", "converged")
#: ``n_init`` of the converged protocol: L-BFGS restarts, the lowest training loss kept.
CONVERGED_N_INIT = 3
#: ``tol`` of the converged protocol (relative improvement over 10 epochs).
CONVERGED_TOL = 1e-6
#: ``tol`` of the ``"converged_float64"`` protocol.
CONVERGED_FLOAT64_TOL = 1e-10
#: Epoch budget of the converged protocol (an epoch: up to 20 L-BFGS iterations).
CONVERGED_MAX_EPOCHS = 500
#: Epoch budget of the ``"converged_float64"`` protocol (its tighter ``tol`` needs more).
CONVERGED_FLOAT64_MAX_EPOCHS = 2000


def protocol_params(protocol, *, max_epochs=None):
    """The estimator parameters a protocol sets (beyond a cell's own settings).

    Parameters
    ----------
    protocol : {"practice", "converged", "converged_float64"}
    max_epochs : int, default=None
        The epoch budget; ``None`` leaves ``"practice"`` to the caller and
        gives ``"converged"`` :data:`CONVERGED_MAX_EPOCHS` and
        ``"converged_float64"`` :data:`CONVERGED_FLOAT64_MAX_EPOCHS`.

    Returns
    -------
    dict
        ``{}`` plus ``max_epochs`` for ``"practice"`` (the estimators'
        defaults); ``solver="lbfgs"``, ``n_init``, ``tol``,
        ``n_iter_no_change=10`` and ``max_epochs`` for ``"converged"``;
        the same with ``tol`` :data:`CONVERGED_FLOAT64_TOL`,
        ``dtype="float64"`` and its own budget for ``"converged_float64"``.

    Raises
    ------
    ValueError
        For an unknown protocol.

    Examples
    --------
    >>> protocol_params("converged")
    {'solver': 'lbfgs', 'n_init': 3, 'tol': 1e-06, 'n_iter_no_change': 10, 'max_epochs': 500}
    >>> protocol_params("converged_float64")["dtype"]
    'float64'
    >>> protocol_params("practice", max_epochs=200)
    {'max_epochs': 200}
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}; got {protocol!r}.")
    params = {}
    if protocol != "practice":
        params = {"solver": "lbfgs", "n_init": CONVERGED_N_INIT, "tol": CONVERGED_TOL,
                  "n_iter_no_change": 10}
        budget = CONVERGED_MAX_EPOCHS
        if protocol == "converged_float64":
            params.update(tol=CONVERGED_FLOAT64_TOL, dtype="float64")
            budget = CONVERGED_FLOAT64_MAX_EPOCHS
        max_epochs = budget if max_epochs is None else max_epochs
    if max_epochs is not None:
        params["max_epochs"] = int(max_epochs)
    return params


def _loss_target(estimator, y):
    """``y`` in the form the estimator's loss takes it (what its ``fit`` hands the loss)."""
    dtype = next(estimator.module_.parameters()).dtype  # the estimator's ``dtype``
    if isinstance(estimator, BINNSurvival):
        names = y.dtype.names
        event, time = np.asarray(y[names[0]], dtype=bool), np.asarray(y[names[1]], dtype=float)
        rank = np.unique(time, return_inverse=True)[1]
        return torch.as_tensor(np.column_stack([rank, event]).astype(np.float64)).to(dtype)
    if isinstance(estimator, BINNClassifier):
        codes = np.searchsorted(estimator.classes_, np.asarray(y))
        if len(estimator.classes_) == 2:
            return torch.as_tensor(codes.astype(np.float64).reshape(-1, 1)).to(dtype)
        return torch.as_tensor(codes.astype(np.int64))
    y = np.asarray(y, dtype=np.float64)
    return torch.as_tensor(y.reshape(len(y), -1)).to(dtype)


def _objective(estimator, X, y, *, gradient):
    """The training objective on all of ``(X, y)`` and, if asked, its gradient's norm."""
    module = estimator.module_
    params = [p for p in module.parameters() if p.requires_grad]
    Xt = torch.as_tensor(np.asarray(X, dtype=np.float64)).to(params[0].dtype)
    target = _loss_target(estimator, y)
    training = module.training
    module.eval()
    try:
        with torch.set_grad_enabled(gradient):
            loss = estimator.get_loss(estimator.infer(Xt), target, X=Xt, training=False)
            grads = torch.autograd.grad(loss, params, allow_unused=True) if gradient else ()
    finally:
        module.train(training)
    total = sum(float(g.double().pow(2).sum()) for g in grads if g is not None)
    return float(loss.detach()), float(np.sqrt(total))


def training_objective(estimator, X, y):
    """A fitted estimator's training objective on all of ``(X, y)``.

    The estimator's own loss (``get_loss``: the task loss plus any edge
    penalty) on the whole training set in one batch, in evaluation mode --
    the quantity by which ``n_init`` keeps the best of its restarts.

    Parameters
    ----------
    estimator : fitted BINNRegressor, BINNClassifier or BINNSurvival
    X : array-like of shape (n_samples, n_genes)
        In the mask's gene order (as a teacher samples it).
    y : array-like
        The targets the estimator was fitted on.

    Returns
    -------
    float

    Examples
    --------
    >>> from sklearn_binn import TeacherDataset
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> teacher = TeacherDataset(make_pathway_mask(12, depth=1, random_state=0),
    ...                          random_state=0)
    >>> X, y = teacher.sample(100, random_state=0)
    >>> training_objective(teacher.to_estimator(), X, y) < 1e-10  # noiseless: MSE 0
    True
    """
    return _objective(estimator, X, y, gradient=False)[0]


def gradient_norm(estimator, X, y):
    """The Euclidean norm of the gradient of a fitted estimator's training objective.

    The objective is :func:`training_objective` (the estimator's own loss:
    the task loss plus any edge penalty, on all of ``(X, y)`` in one batch,
    in evaluation mode), differentiated with respect to every trainable
    parameter of its network. At a minimum of the training loss it is 0;
    a student still descending has a clearly non-zero gradient.

    Parameters
    ----------
    estimator : fitted BINNRegressor, BINNClassifier or BINNSurvival
    X : array-like of shape (n_samples, n_genes)
        In the mask's gene order (as a teacher samples it).
    y : array-like
        The targets the estimator was fitted on.

    Returns
    -------
    float

    Examples
    --------
    >>> from sklearn_binn import TeacherDataset
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> teacher = TeacherDataset(make_pathway_mask(12, depth=1, random_state=0),
    ...                          random_state=0)
    >>> X, y = teacher.sample(100, random_state=0)
    >>> gradient_norm(teacher.to_estimator(), X, y) < 1e-5  # noiseless: the teacher is a minimum
    True
    """
    return _objective(estimator, X, y, gradient=True)[1]


def convergence_evidence(estimator, X, y):
    """Whether a fitted student converged, and the numbers that show it.

    Parameters
    ----------
    estimator : fitted BINN estimator
    X, y : the training data it was fitted on

    Returns
    -------
    dict
        ``converged`` (the estimator's ``converged_``: its fit stopped on
        its tolerance, not on its budget), ``n_iter`` (epochs of the kept
        fit), ``final_rel_loss_change`` (``|L[-1] - L[-2]| / |L[-2]|`` of
        its training-loss curve; NaN under two epochs) and ``grad_norm``
        (:func:`gradient_norm` on ``(X, y)``).

    Examples
    --------
    >>> from sklearn_binn import BINNRegressor, TeacherDataset
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(12, depth=1, random_state=0)
    >>> X, y = TeacherDataset(mask, random_state=0).sample(200, random_state=0)
    >>> student = BINNRegressor(mask, solver="lbfgs", random_state=0).fit(X, y)
    >>> evidence = convergence_evidence(student, X, y)
    >>> evidence["converged"], evidence["grad_norm"] < 1e-2
    (True, True)
    """
    curve = np.asarray(estimator.loss_curve_, dtype=float)
    change = (abs(curve[-1] - curve[-2]) / max(abs(curve[-2]), np.finfo(float).tiny)
              if len(curve) >= 2 else np.nan)
    return {
        "converged": bool(estimator.converged_),
        "n_iter": int(estimator.n_iter_),
        "final_rel_loss_change": float(change),
        "grad_norm": gradient_norm(estimator, X, y),
    }
