"""BINNRegressor: single- and multi-output regression with a BINN."""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_array

from ._base import BINNBase, check_target
from ._docstrings import fill_parameters

__all__ = ["BINNRegressor"]


@partial(
    fill_parameters,
    output="outputs",
    criterion="``None`` uses ``torch.nn.MSELoss``.",
    epoch_columns="losses",
)
class BINNRegressor(RegressorMixin, BINNBase):
    """A biologically informed neural network regressor.

    The top pathway layer (or the dense head) feeds one linear output per
    target; the loss is the mean squared error and ``score`` is R². Built on
    skorch: every skorch parameter (``optimizer__*``, ``module__*``,
    ``callbacks``, ``device``, ...) works.

    Parameters
    ----------
{binn_parameters}

    Attributes
    ----------
    mask_ : PathwayMask
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    module_ : BINNModule
    history_ : skorch.History
{binn_attributes}

    See Also
    --------
    BINNClassifier, BINNSurvival

    Examples
    --------
    >>> from sklearn_binn import BINNRegressor, TeacherDataset
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(60, depth=2, random_state=0)
    >>> X, y = TeacherDataset(mask, random_state=0).sample(300)
    >>> reg = BINNRegressor(mask, max_epochs=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    def _prepare_target(self, y, n_samples, reset):
        y = check_array(
            check_target(self, y, n_samples), ensure_2d=False,
            dtype=[np.float64, np.float32], input_name="y",
        )
        if y.ndim > 2:
            raise ValueError(f"y must be 1-D or 2-D; got shape {y.shape}.")
        one_dimensional = y.ndim == 1
        with np.errstate(over="ignore"):
            y = y.reshape(n_samples, -1).astype(self._numpy_dtype())
        if not np.isfinite(y).all():
            raise ValueError(
                "y has values too large for float32 (|y| > 3.4e38); rescale the "
                "target, or train with dtype='float64'."
            )
        if reset:
            self._y_1d = one_dimensional
            self._n_outputs = y.shape[1]
        elif y.shape[1] != self._n_outputs:
            raise ValueError(
                f"y has {y.shape[1]} targets but {type(self).__name__} was fitted "
                f"with {self._n_outputs}."
            )
        return y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _default_criterion(self):
        return torch.nn.MSELoss

    def predict(self, X):
        """Predicted targets: shape ``(n_samples,)`` or ``(n_samples, n_targets)``."""
        out = self._raw_output(X)
        return out[:, 0] if self._y_1d else out
