"""BINNClassifier: binary and multiclass classification with a BINN."""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from scipy.special import expit, softmax
from skorch.callbacks import EpochScoring
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from ._base import BINNBase, check_target
from ._docstrings import fill_parameters

__all__ = ["BINNClassifier"]


def _encoded_accuracy(net, X, y):
    """Validation accuracy on the label codes skorch's datasets carry."""
    codes = np.argmax(net.predict_proba(X), axis=1)
    return float(np.mean(codes == np.asarray(y).reshape(-1)))


@partial(
    fill_parameters,
    output="output logits",
    criterion="``None`` picks ``BCEWithLogitsLoss`` (binary) or ``CrossEntropyLoss``.",
    epoch_columns="losses and ``valid_acc``",
    stratified="stratified by class when possible, ",
)
class BINNClassifier(ClassifierMixin, BINNBase):
    """A biologically informed neural network classifier.

    Genes feed only the pathways that contain them, pathways only their
    parents (the ``mask``); the top pathway layer feeds the output. Binary
    problems use one logit and a logistic loss, multiclass problems one logit
    per class and the cross-entropy. Built on skorch: every skorch parameter
    (``optimizer__*``, ``module__*``, ``callbacks``, ``device``, ...) works.

    Parameters
    ----------
{binn_parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    mask_ : PathwayMask
        The fitted mask: resolved, aligned to ``X``'s columns, truncated.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only with a DataFrame whose column names are all strings.
    module_ : BINNModule
    history_ : skorch.History
        Per-epoch training and validation loss (and accuracy).
{binn_attributes}

    See Also
    --------
    BINNRegressor, BINNSurvival, PathwayMask

    Examples
    --------
    >>> from sklearn_binn import BINNClassifier, TeacherDataset
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(60, depth=2, random_state=0)
    >>> X, y = TeacherDataset(mask, task="classification", random_state=0).sample(300)
    >>> clf = BINNClassifier(mask, max_epochs=20, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    def _prepare_target(self, y, n_samples, reset):
        y = check_target(self, y, n_samples)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if reset:
            self._encoder = LabelEncoder().fit(y)
            self.classes_ = self._encoder.classes_
            if len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in "
                    f"y; got 1 class ({self.classes_[0]!r})."
                )
            self._n_outputs = 1 if len(self.classes_) == 2 else len(self.classes_)
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels not seen at fit: {unseen[:10].tolist()}; "
                f"{type(self).__name__} knows {self.classes_.tolist()}."
            )
        codes = self._encoder.transform(y)
        self._codes = codes
        if self._n_outputs == 1:
            return codes.astype(self._numpy_dtype()).reshape(-1, 1)
        return codes.astype(np.int64)

    def _default_criterion(self):
        if self._n_outputs == 1:
            return torch.nn.BCEWithLogitsLoss
        return torch.nn.CrossEntropyLoss

    def _stratify_labels(self):
        return self._codes

    def _scoring_callbacks(self):
        return [
            (
                "valid_acc",
                EpochScoring(_encoded_accuracy, name="valid_acc", lower_is_better=False),
            )
        ]

    def predict_proba(self, X):
        """Class probabilities, shape ``(n_samples, n_classes)``."""
        logits = self._raw_output(X)
        if logits.shape[1] == 1:
            p = expit(logits[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(logits, axis=1)

    def decision_function(self, X):
        """Logits: shape ``(n_samples,)`` for binary, else ``(n_samples, n_classes)``."""
        logits = self._raw_output(X)
        return logits[:, 0] if logits.shape[1] == 1 else logits

    def predict(self, X):
        """The most probable class of each sample."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]
