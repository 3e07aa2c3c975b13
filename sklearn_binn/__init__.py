"""Biologically informed neural networks for scikit-learn, and tests of what they learn.

The estimators, masks, teacher data, recovery scorers and readers of a
fitted BINN are imported from here; the torch building blocks from
:mod:`sklearn_binn.modules`, callbacks from :mod:`sklearn_binn.callbacks`,
figures from :mod:`sklearn_binn.plotting`, bundled and synthetic data from
:mod:`sklearn_binn.datasets`, the published study's recipe from
:mod:`sklearn_binn.published` and joblib backends from
:mod:`sklearn_binn.parallel`.
"""

from ._attribution import data_type_importance, node_importance, pathway_importance
from ._check import IdentifiabilityCheck, identifiability_check
from ._classifier import BINNClassifier
from ._diagnostic import IdentifiabilityDiagnostic, identifiability_diagnostic
from ._identifiability import (
    IdentifiabilityScorer,
    RecoveryReport,
    align_to_teacher,
    chance_level,
    output_fit,
    recovery_report,
)
from ._mask import PathwayMask
from ._misspecified import (
    MisspecificationReport,
    PerturbedMask,
    misspecification_report,
    perturb_mask,
)
from ._mask_factory import ReactomeMask
from ._randomize import randomize_mask
from ._ranking import ImportanceRecovery, importance_recovery
from ._regressor import BINNRegressor
from ._stability import StabilityReport, stability_report
from ._survival import BINNSurvival
from ._teacher import TeacherDataset
from .datasets import load_reactome, make_pathway_mask

__version__ = "0.1.0"

__all__ = [
    "BINNClassifier",
    "BINNRegressor",
    "BINNSurvival",
    "IdentifiabilityCheck",
    "IdentifiabilityDiagnostic",
    "IdentifiabilityScorer",
    "ImportanceRecovery",
    "MisspecificationReport",
    "PathwayMask",
    "PerturbedMask",
    "ReactomeMask",
    "RecoveryReport",
    "StabilityReport",
    "TeacherDataset",
    "align_to_teacher",
    "chance_level",
    "data_type_importance",
    "identifiability_check",
    "identifiability_diagnostic",
    "importance_recovery",
    "load_reactome",
    "make_pathway_mask",
    "misspecification_report",
    "node_importance",
    "output_fit",
    "pathway_importance",
    "perturb_mask",
    "randomize_mask",
    "recovery_report",
    "stability_report",
]
