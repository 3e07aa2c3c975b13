"""Biologically informed neural networks for scikit-learn, and tests of what they learn."""

from ._attribution import node_importance, pathway_importance
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
from ._published import (
    PublishedInit,
    PublishedTeacher,
    load_published_results,
    make_published_problem,
    published_activation_scores,
    published_metrics,
    published_weight_scores,
)
from ._randomize import randomize_mask
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
    "IdentifiabilityDiagnostic",
    "IdentifiabilityScorer",
    "PathwayMask",
    "PublishedInit",
    "PublishedTeacher",
    "RecoveryReport",
    "StabilityReport",
    "TeacherDataset",
    "align_to_teacher",
    "chance_level",
    "identifiability_diagnostic",
    "load_published_results",
    "load_reactome",
    "make_pathway_mask",
    "make_published_problem",
    "node_importance",
    "output_fit",
    "pathway_importance",
    "published_activation_scores",
    "published_metrics",
    "published_weight_scores",
    "randomize_mask",
    "recovery_report",
    "stability_report",
]
