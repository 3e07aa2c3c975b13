"""Biologically informed neural networks for scikit-learn, and tests of what they learn."""

from ._classifier import BINNClassifier
from ._mask import PathwayMask
from ._regressor import BINNRegressor
from .datasets import load_reactome, make_pathway_mask

__version__ = "0.1.0"

__all__ = [
    "BINNClassifier",
    "BINNRegressor",
    "PathwayMask",
    "load_reactome",
    "make_pathway_mask",
]
