"""Bad input at every public entry point gets a ValueError/TypeError that names the problem.

One row per case: what is called, the exception type and a fragment of its
message. Module-specific tests go deeper; this matrix keeps the whole public
surface honest in one place.
"""

import io

import numpy as np
import pandas as pd
import pytest
from sksurv.util import Surv

from sklearn_binn import (
    BINNClassifier,
    BINNRegressor,
    BINNSurvival,
    IdentifiabilityScorer,
    PathwayMask,
    TeacherDataset,
    identifiability_diagnostic,
    load_reactome,
    make_pathway_mask,
    pathway_importance,
    randomize_mask,
    recovery_report,
    stability_report,
)

MASK = PathwayMask.from_gene_sets(
    {"P1": ["A", "B"], "P2": ["B", "C"], "P3": ["C", "D"]},
    [("P1", "T"), ("P2", "T"), ("P3", "U")],
)
RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 4))
FRAME = pd.DataFrame(X, columns=MASK.feature_names)
Y = X[:, 0] - X[:, 3]
SURV = Surv.from_arrays(event=RNG.random(40) < 0.7, time=RNG.exponential(size=40) + 0.1)
TEACHER = TeacherDataset(MASK, random_state=0)


def _fitted():
    return TEACHER.to_estimator()


CASES = {
    # masks
    "mask values not 0/1": (
        lambda: PathwayMask([np.array([[2, 0], [1, 1]])]), ValueError, "only 0 and 1"),
    "mask shapes do not chain": (
        lambda: PathwayMask([np.ones((3, 2)), np.ones((3, 1))]), ValueError, "do not chain"),
    "mask empty pathway": (
        lambda: PathwayMask([np.array([[1, 0], [1, 0]])]), ValueError, "no inputs"),
    "mask disconnected node": (
        lambda: PathwayMask([np.eye(2), np.array([[1.0], [0.0]])]), ValueError, "feed no node"),
    "mask duplicate gene names": (
        lambda: PathwayMask([np.eye(2)], feature_names=["A", "A"]), ValueError, "Duplicate names"),
    "mask not a list": (lambda: PathwayMask("layers"), TypeError, "list of 0/1 matrices"),
    "gene sets cycle": (
        lambda: PathwayMask.from_gene_sets({"P": ["A"], "Q": ["B"]}, [("P", "Q"), ("Q", "P")]),
        ValueError, "cycle"),
    "gene set empty": (lambda: PathwayMask.from_gene_sets({"P": []}), ValueError, "have no genes"),
    "malformed GMT": (lambda: PathwayMask.from_gmt(io.StringIO("P1\tonly-description\n")),
                      ValueError, "Malformed GMT line 1"),
    "malformed Reactome relations": (
        lambda: PathwayMask.from_reactome(io.StringIO("R-HSA-1\n"), io.StringIO("A\tR-HSA-1\n")),
        ValueError, "fewer than 2"),
    "Reactome wrong species": (
        lambda: PathwayMask.from_reactome(io.StringIO("R-MMU-1\tR-MMU-2\n"),
                                          io.StringIO("A\tR-MMU-2\n")),
        ValueError, "no rows for species"),
    "edge table without layer": (
        lambda: PathwayMask.from_edges(pd.DataFrame({"source": ["A"], "target": ["P"]})),
        ValueError, "lacks column"),
    "truncate out of range": (lambda: MASK.truncate(3), ValueError, "between 1 and 2"),
    "restrict to foreign genes": (lambda: MASK.restrict(["X", "Y"]), ValueError, "share no genes"),
    "strict gene in no pathway": (
        lambda: PathwayMask([np.array([[1.0], [0.0]])], strict=True), ValueError, "in no pathway"),
    "reactome n_levels": (lambda: load_reactome(n_levels=0), ValueError, "n_levels"),
    "synthetic n_genes": (lambda: make_pathway_mask(0), ValueError, "n_genes"),
    "randomize not a mask": (lambda: randomize_mask("mask"), TypeError, "PathwayMask"),
    # estimators
    "wrong number of features": (lambda: BINNRegressor(MASK).fit(X[:, :3], Y), ValueError,
                                 "X has 3 features, but the mask"),
    "NaN in X": (lambda: BINNRegressor(MASK).fit(np.where(X > 1, np.nan, X), Y), ValueError, "NaN"),
    "inf in X": (lambda: BINNClassifier(MASK).fit(np.where(X > 1, np.inf, X), Y > 0), ValueError,
                 "infinity"),
    "empty X": (lambda: BINNRegressor(MASK).fit(X[:0], Y[:0]), ValueError, "0 sample"),
    "y of wrong length": (lambda: BINNRegressor(MASK).fit(X, Y[:-1]), ValueError,
                          "inconsistent numbers of samples"),
    "y missing": (lambda: BINNRegressor(MASK).fit(X, None), ValueError, "requires y to be passed"),
    "strings in X": (lambda: BINNRegressor(MASK).fit(X.astype(str).astype(object) + "x", Y),
                     ValueError, "could not convert"),
    "single class": (lambda: BINNClassifier(MASK).fit(X, np.zeros(40)), ValueError, "1 class"),
    "continuous labels": (lambda: BINNClassifier(MASK).fit(X, Y), ValueError, "Unknown label type"),
    "unseen labels": (
        lambda: BINNClassifier(MASK, max_epochs=1).fit(X, Y > 0).partial_fit(X, np.full(40, 7)),
        ValueError, "not seen at fit"),
    "genes missing from DataFrame": (
        lambda: BINNRegressor(MASK).fit(FRAME.drop(columns="C"), Y), ValueError,
        "missing from X's columns"),
    "duplicated DataFrame columns": (
        lambda: BINNRegressor(MASK).fit(FRAME.set_axis(["A", "A", "C", "D"], axis=1), Y),
        ValueError, "duplicated column"),
    "depth out of range": (lambda: BINNRegressor(MASK, depth=3).fit(X, Y), ValueError,
                           "depth=3 exceeds the depth of the mask"),
    "bad activation": (lambda: BINNRegressor(MASK, activation="gelu").fit(X, Y), ValueError,
                       "'activation' parameter"),
    "mask with no edges": (
        lambda: BINNRegressor(np.zeros((4, 2))).fit(X, Y), ValueError, "no inputs"),
    "mask is None": (lambda: BINNRegressor(None).fit(X, Y), TypeError, "mask is None"),
    "survival y plain array": (
        lambda: BINNSurvival(MASK).fit(X, Y), ValueError, "structured array"),
    "survival negative times": (
        lambda: BINNSurvival(MASK).fit(X, Surv.from_arrays(SURV["event"], SURV["time"] - 5)),
        ValueError, "negative"),
    "survival no events": (
        lambda: BINNSurvival(MASK).fit(X, Surv.from_arrays(np.zeros(40, bool), SURV["time"])),
        ValueError, "censored"),
    "predict before fit": (lambda: BINNRegressor(MASK).predict(X), ValueError, "not fitted"),
    "activations of a missing layer": (
        lambda: _fitted().pathway_activations(X, layer=5), ValueError,
        "layer must be between 0 and 1"),
    # teacher, scorer, diagnostics, audit
    "teacher task": (lambda: TeacherDataset(MASK, task="ranking"), ValueError, "'task' parameter"),
    "teacher depth": (lambda: TeacherDataset(MASK, depth=5), ValueError, "exceeds the depth"),
    "teacher sample size": (lambda: TEACHER.sample(0), ValueError, "n_samples"),
    "teacher censoring": (lambda: TeacherDataset(MASK, task="survival", censoring=1.5), ValueError,
                          "'censoring' parameter"),
    "scorer target": (
        lambda: IdentifiabilityScorer(TEACHER, target="biases"), ValueError, "target"),
    "recovery with NaN X": (lambda: recovery_report(_fitted(), TEACHER, np.full((5, 4), np.nan)),
                            ValueError, "NaN"),
    "diagnostic unfitted": (lambda: identifiability_diagnostic(BINNRegressor(MASK), X), ValueError,
                            "not fitted"),
    "importance method": (lambda: pathway_importance(_fitted(), X, method="shap"), ValueError,
                          "method must be one of"),
    "audit repeats": (lambda: stability_report(BINNRegressor(MASK), X, Y, n_repeats=1), ValueError,
                      "n_repeats"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_a_clear_error(case):
    call, error, fragment = CASES[case]
    with pytest.raises(error, match=fragment):
        call()
