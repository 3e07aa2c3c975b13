"""The activations a BINN can use: one registry of what each one is and which symmetries it has.

Per name, the torch function the module applies, the ``torch.nn`` module
class that captum's DeepLIFT recognises (attribution), and the node
symmetries that leave the network's function unchanged, which the recovery
alignment (:func:`~sklearn_binn.align_to_teacher`) and the identifiability
diagnostic quotient out:

============  ==========  ==========================================================
activation    group       symmetries of one node
============  ==========  ==========================================================
``tanh``      sign        odd: ``tanh(-z) = -tanh(z)``, a sign flip
``sigmoid``   sign        ``sigmoid(-z) = 1 - sigmoid(z)``: a sign flip whose
                          constant the parents' biases absorb
``relu``      positive    positively homogeneous: a scale ``c > 0``
``identity``  nonzero     linear: a scale ``c != 0`` and a shift
============  ==========  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "REGISTRY", "Activation", "get_activation"]


@dataclass(frozen=True)
class Activation:
    """One activation: its function, its module class and its node symmetries.

    Attributes
    ----------
    name : str
    function : callable
        Applied elementwise to a tensor.
    module : type
        The ``torch.nn.Module`` class computing the same function (what
        captum's DeepLIFT hooks for its rescale rule).
    group : {"sign", "positive", "nonzero"}
        How a node's symmetry group acts on its incoming weights and bias:
        a sign ``s = +-1``, a scale ``c > 0`` or a scale ``c != 0``.
    complement_flip : bool
        A sign flip turns the activation ``a`` into ``1 - a`` (not ``-a``), so
        the parents' biases take the flipped node's outgoing weights.
    shift : bool
        The activation commutes with a shift of its input, compensated by the
        parents' biases (a continuous symmetry besides the scale).
    """

    name: str
    function: Callable
    module: type
    group: str
    complement_flip: bool = False
    shift: bool = False

    @property
    def continuous_scale(self):
        """bool: the node's scale is a continuous symmetry (``relu``, ``identity``)."""
        return self.group in ("positive", "nonzero")

    @property
    def signed_scores(self):
        """bool: recovery scores keep their sign (only positive scales are symmetries)."""
        return self.group == "positive"


def _identity(z):
    return z


REGISTRY = {
    spec.name: spec
    for spec in (
        Activation("tanh", torch.tanh, nn.Tanh, "sign"),
        Activation("relu", torch.relu, nn.ReLU, "positive"),
        Activation("sigmoid", torch.sigmoid, nn.Sigmoid, "sign", complement_flip=True),
        Activation("identity", _identity, nn.Identity, "nonzero", shift=True),
    )
}

#: name -> torch function (the table :class:`~sklearn_binn.modules.BINNModule` uses)
ACTIVATIONS = {name: spec.function for name, spec in REGISTRY.items()}


def get_activation(name, what="activation"):
    """The :class:`Activation` called ``name``; ``ValueError`` naming ``what`` otherwise."""
    if name not in REGISTRY:
        raise ValueError(f"{what} must be one of {sorted(REGISTRY)}; got {name!r}.")
    return REGISTRY[name]
