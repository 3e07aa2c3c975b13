"""On real data: BINNs against the models users would pick, on public cohorts.

What it measures
----------------
Repeated stratified cross-validation (``--folds`` × ``--repeats``) on real
cohorts that install offline from PyPI as the optional extra ``real``
(``pip install 'sklearn-binn[real]'``, i.e. ``survset`` and ``scanpy``):

- survival, with :class:`~sklearn_binn.BINNSurvival`: the breast-cancer
  expression cohorts shipped in the ``survset`` wheel (GPLv3; installed,
  never vendored): ``gse1992`` (124 patients, 35 events), ``gse4335``
  (115, 38) and ``gse3143`` (158, 50);
- classification, with :class:`~sklearn_binn.BINNClassifier`: the 700
  cells × 765 genes, 10 cell types of ``scanpy.datasets.pbmc68k_reduced()``.

Genes are kept when the bundled Reactome (``load_reactome(n_levels=3)``)
annotates them; every model sees the same genes, standardized inside each
training fold. Per outer fold the script fits

- ``binn``: the BINN on Reactome restricted to the cohort's genes. For
  survival its training recipe (see :data:`RECIPES`) is chosen per outer
  fold by an inner stratified CV on the training patients (nested CV; the
  choice is in the ``recipe`` column); classification uses the defaults;
- ``binn_rewired``: the same BINN and recipe on a degree-preserving random
  rewiring of the mask (:func:`~sklearn_binn.randomize_mask`): does the
  biology help beyond the sparsity?;
- ``dense``: a fully connected network with about as many weights (one
  hidden layer, :func:`dense_width`): a ``BINNSurvival``
  on a fully connected one-layer mask for survival, scikit-learn's
  ``MLPClassifier`` for classification;
- survival baselines: ``coxnet`` (elastic net Cox, l1_ratio 0.5, penalty
  chosen by an inner 3-fold CV along its path), ``rsf`` (random survival
  forest, 200 trees), ``pca_cox`` (Cox on the first 10 principal
  components, ridge 1.0), ``kaplan_meier`` (no covariates: the chance
  reference);
- classification baselines: ``logistic`` (multinomial logistic regression,
  C=1), ``random_forest`` (300 trees), ``prior`` (class frequencies: the
  chance reference).

Metrics on the held-out fold: Harrell's C-index and the integrated Brier
score (``sksurv.metrics``, on 15 time points between the 10th and 80th
percentile of the test fold's follow-up, inside the training follow-up;
test patients followed beyond the training follow-up, which the censoring
weights cannot cover, are left out of it)
for survival; accuracy and log-loss for classification; the fit time.

Then the stability audit (:func:`~sklearn_binn.stability_report`) of each
cohort's BINN on all of its samples: refits with other seeds, and fits on
random rewirings (the null), each pathway's importance with an empirical
p-value and its Benjamini–Hochberg adjustment (``p_adjusted``).

How to run
----------
From the repository root, after ``pip install 'sklearn-binn[real]'``::

    python benchmarks/real_data.py --quick          # minutes on 2 cores
    nice python benchmarks/real_data.py --n-jobs 2 --out docs/_static/real_data

Results go to ``--out`` (default ``./real_data/``): ``cv.csv`` (one row per
cohort × repeat × fold × model; rerunning skips finished folds),
``recipes.csv`` (the inner-CV score of every recipe in every fold),
``audit.csv`` (one row per audited pathway, with names), the summary tables
``summary_survival.csv``, ``summary_classification.csv``,
``summary_recipes.csv``, ``summary_audit.csv``, ``run_info.csv`` (one row
per call: command, wall time, summed fit times), the figures ``real_data_survival.png`` and
``real_data_classification.png``, ``audit_<cohort>.txt`` (each audit's
plain-language summary), ``log.txt`` and ``summary.txt``.

What passes
-----------
Nothing is a pass criterion: the script measures. It exits with status 1
only if a fold or an audit failed (the finished ones are saved).
"""

from __future__ import annotations

import functools
import importlib
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    CellError,
    build_parser,
    headless_pyplot,
    print_summary,
    run_cells,
)

SURVIVAL_COHORTS = ("gse1992", "gse4335", "gse3143")
CLASSIFICATION_COHORTS = ("pbmc68k",)
COHORTS = SURVIVAL_COHORTS + CLASSIFICATION_COHORTS
SURVIVAL_MODELS = ("binn", "binn_rewired", "dense", "coxnet", "rsf", "pca_cox", "kaplan_meier")
CLASSIFICATION_MODELS = ("binn", "binn_rewired", "dense", "logistic", "random_forest", "prior")
EXTRA = "pip install 'sklearn-binn[real]'  (or: pip install survset scanpy)"
# BINNSurvival training recipes that the inner CV chooses from (nested CV):
# the defaults (Adam, mini-batches of 128, early stopping on a 10 % split),
# and full-batch Adam on every training patient for a fixed epoch budget, with
# and without weight decay, with the whole 3-level mask or its first layer
RECIPES = {
    "defaults": {},
    "full_batch": {"train_split": None, "batch_size": -1, "max_epochs": 100},
    "full_batch_wd": {"train_split": None, "batch_size": -1, "max_epochs": 100,
                      "optimizer__weight_decay": 1e-2},
    "full_batch_depth1": {"train_split": None, "batch_size": -1, "max_epochs": 100,
                          "depth": 1},
}
FULL = {"cohorts": list(COHORTS), "folds": 5, "repeats": 2, "inner_folds": 3,
        "recipes": ["defaults", "full_batch", "full_batch_depth1"], "audit_repeats": 5,
        "audit_null": 19}
QUICK = {"cohorts": ["gse1992", "pbmc68k"], "folds": 3, "repeats": 1, "inner_folds": 2,
         "recipes": ["defaults", "full_batch"], "audit_repeats": 2, "audit_null": 4}
CV_KEYS = ["cohort", "repeat", "fold"]
AUDIT_KEYS = ["cohort"]
N_LEVELS = 3
N_TIMES = 15


# ------------------------------------------------------------------- data
def require(module, cohort):
    """Import an optional dependency, or say which extra installs it.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"SurvSet.data"``.
    cohort : str
        The cohort that needs it (for the message).

    Returns
    -------
    module

    Raises
    ------
    ImportError
        Naming the extra to install.

    Examples
    --------
    >>> require("json", "any").__name__
    'json'
    >>> require("no_such_module_here", "gse1992")
    Traceback (most recent call last):
    ...
    ImportError: The cohort 'gse1992' needs the optional package 'no_such_module_here', ...
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"The cohort {cohort!r} needs the optional package {module.split('.')[0]!r}, "
            f"which is not installed. Install the extra: {EXTRA}"
        ) from exc


@functools.lru_cache(maxsize=4)
def load_cohort(name):
    """One cohort as (genes DataFrame, target, task), all genes as columns.

    Parameters
    ----------
    name : str
        One of :data:`COHORTS`.

    Returns
    -------
    X : pandas.DataFrame of shape (n_samples, n_genes)
        Expression, columns named by gene symbol.
    y : structured array or ndarray of str
        ``Surv.from_arrays(event, time)`` for survival, cell types for
        classification.
    task : {"survival", "classification"}
    """
    if name in SURVIVAL_COHORTS:
        from sksurv.util import Surv

        data = require("SurvSet.data", name)
        frame = data.SurvLoader().load_dataset(ds_name=name)["df"]
        genes = [c for c in frame.columns if c.startswith("num_HS_")]
        X = frame[genes].rename(columns=lambda c: c[len("num_HS_"):]).astype(np.float64)
        X = X.loc[:, ~X.columns.duplicated()]
        y = Surv.from_arrays(frame["event"].to_numpy().astype(bool),
                             frame["time"].to_numpy().astype(float))
        return X, y, "survival"
    if name == "pbmc68k":
        scanpy = require("scanpy", name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            adata = scanpy.datasets.pbmc68k_reduced()
        X = pd.DataFrame(np.asarray(adata.X, dtype=np.float64),
                         columns=[str(g) for g in adata.var_names])
        return X, adata.obs["bulk_labels"].astype(str).to_numpy(), "classification"
    raise ValueError(f"Unknown cohort {name!r}; choose from {list(COHORTS)}.")


def reactome_mask(genes, n_levels=N_LEVELS):
    """The bundled Reactome restricted to ``genes``, and the genes it annotates.

    A module-level function (not a lambda), so whatever holds it pickles.

    Parameters
    ----------
    genes : sequence of str
        The data's gene symbols.
    n_levels : int, default=3
        Levels of the hierarchy kept (``load_reactome(n_levels=...)``).

    Returns
    -------
    mask : PathwayMask
        Aligned to the annotated genes, in their order in ``genes``.
    kept : list of str
        The genes Reactome annotates (the columns to keep).

    Examples
    --------
    >>> mask, kept = reactome_mask(["TP53", "NOT_A_GENE", "MDM2", "BRCA1"])
    >>> kept
    ['TP53', 'MDM2', 'BRCA1']
    >>> len(mask.feature_names)
    3
    """
    from sklearn_binn import load_reactome

    full = load_reactome(n_levels=n_levels)
    restricted = full.restrict(list(genes))
    kept = [g for g, f in zip(restricted.feature_names, feeds_a_pathway(restricted)) if f]
    return full.restrict(kept), kept


def feeds_a_pathway(mask):
    """Which of a mask's genes feed at least one pathway (of any layer, for skip-level masks).

    Parameters
    ----------
    mask : PathwayMask

    Returns
    -------
    ndarray of bool, one per feature

    Examples
    --------
    >>> from sklearn_binn import PathwayMask
    >>> feeds_a_pathway(PathwayMask.from_gene_sets({"P": ["a"]}, feature_names=["a", "b"]))
    array([ True, False])
    """
    n_genes = len(mask.feature_names)
    degree = np.zeros(n_genes)
    for k, layer in enumerate(mask.layers):
        if k == 0 or getattr(mask, "skip_levels", False):
            degree += np.asarray(layer[:n_genes].sum(axis=1)).ravel()
    return degree > 0


def pathway_names():
    """Reactome identifier → pathway name, for the bundled hierarchy.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> pathway_names()["R-HSA-73894"]
    'DNA Repair'
    """
    from sklearn_binn import load_reactome

    return load_reactome(n_levels=N_LEVELS, return_names=True)[1]


def dense_width(n_params, n_genes, n_outputs=1):
    """Hidden units of a one-hidden-layer dense network with about ``n_params`` parameters.

    Such a network has ``n_genes * w + w`` (hidden) ``+ w * n_outputs +
    n_outputs`` (output) parameters.

    Parameters
    ----------
    n_params : int
        The parameters to match (a BINN's, see :func:`binn_params`).
    n_genes : int
    n_outputs : int, default=1

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> dense_width(1000, 98, 1)
    10
    """
    return max(1, int(round((n_params - n_outputs) / (n_genes + 1 + n_outputs))))


def dense_mask(feature_names, width):
    """A fully connected one-layer mask: every gene feeds each of ``width`` hidden units.

    Parameters
    ----------
    feature_names : sequence of str
    width : int

    Returns
    -------
    PathwayMask

    Examples
    --------
    >>> mask = dense_mask(["a", "b", "c"], 2)
    >>> mask.layers[0].shape, mask.n_edges
    ((3, 2), 6)
    """
    from sklearn_binn import PathwayMask

    layer = sp.csr_matrix(np.ones((len(feature_names), width)))
    return PathwayMask([layer], feature_names=list(feature_names),
                       node_names=[[f"hidden{j}" for j in range(width)]])


# ----------------------------------------------------------------- models
class TunedCoxnet:
    """Elastic-net Cox whose penalty is chosen by an inner CV along its path.

    Fits scikit-survival's ``CoxnetSurvivalAnalysis`` on standardized
    features; the penalty ``alpha_`` maximises the mean inner-fold C-index.

    Parameters
    ----------
    l1_ratio : float, default=0.5
    n_alphas : int, default=20
    inner_folds : int, default=3
    random_state : int, default=0

    Examples
    --------
    >>> from sksurv.util import Surv
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 5))
    >>> y = Surv.from_arrays(rng.random(80) < 0.8, np.exp(-X[:, 0] + rng.normal(size=80)))
    >>> model = TunedCoxnet().fit(X, y)
    >>> model.predict(X).shape, bool(model.alpha_ > 0)
    ((80,), True)
    """

    def __init__(self, l1_ratio=0.5, n_alphas=20, inner_folds=3, random_state=0):
        self.l1_ratio = l1_ratio
        self.n_alphas = n_alphas
        self.inner_folds = inner_folds
        self.random_state = random_state

    def _model(self, alphas=None):
        from sksurv.linear_model import CoxnetSurvivalAnalysis

        return CoxnetSurvivalAnalysis(l1_ratio=self.l1_ratio, n_alphas=self.n_alphas,
                                      alphas=alphas, alpha_min_ratio=0.05,
                                      fit_baseline_model=True, max_iter=10000)

    def fit(self, X, y):
        """Choose the penalty by inner CV, then fit on all of ``(X, y)``."""
        from sklearn.model_selection import StratifiedKFold
        from sklearn.preprocessing import StandardScaler
        from sksurv.metrics import concordance_index_censored

        self.scaler_ = StandardScaler().fit(X)
        Z = self.scaler_.transform(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = self._model().fit(Z, y)
            alphas = path.alphas_
            scores = np.zeros(len(alphas))
            event, time_ = y[y.dtype.names[0]], y[y.dtype.names[1]]
            folds = StratifiedKFold(self.inner_folds, shuffle=True,
                                    random_state=self.random_state)
            for train, test in folds.split(Z, event):
                inner = self._model(alphas).fit(Z[train], y[train])
                for k, alpha in enumerate(alphas):
                    risk = inner.predict(Z[test], alpha=alpha)
                    scores[k] += concordance_index_censored(event[test], time_[test], risk)[0]
            self.alpha_ = float(alphas[int(np.argmax(scores))])
            self.model_ = self._model(alphas).fit(Z, y)
        return self

    def predict(self, X):
        """Risk scores at the chosen penalty."""
        return self.model_.predict(self.scaler_.transform(X), alpha=self.alpha_)

    def predict_survival_function(self, X):
        """Survival step functions at the chosen penalty."""
        return self.model_.predict_survival_function(
            self.scaler_.transform(X), alpha=self.alpha_)


def binn_params(mask, n_outputs=1):
    """Trainable parameters of a BINN on ``mask``: edges, node biases and the output layer.

    Parameters
    ----------
    mask : PathwayMask
    n_outputs : int, default=1
        1 for survival, the number of classes for classification.

    Returns
    -------
    int

    Examples
    --------
    >>> binn_params(dense_mask(["a", "b", "c"], 2))
    11
    """
    top = mask.layers[-1].shape[1]
    return int(mask.n_edges + sum(layer.shape[1] for layer in mask.layers)
               + top * n_outputs + n_outputs)


def count_params(model):
    """Trainable parameters of a fitted network (BINN or MLP), else 0.

    Parameters
    ----------
    model : fitted estimator or Pipeline

    Returns
    -------
    int

    Examples
    --------
    >>> from sklearn.neural_network import MLPClassifier
    >>> X, y = np.eye(4), [0, 1, 0, 1]
    >>> count_params(MLPClassifier(hidden_layer_sizes=(3,), max_iter=5).fit(X, y))
    19
    """
    final = model[-1] if hasattr(model, "steps") else model
    if hasattr(final, "module_"):
        return int(sum(p.numel() for p in final.module_.parameters() if p.requires_grad))
    if hasattr(final, "coefs_"):
        return int(sum(w.size for w in final.coefs_) + sum(b.size for b in final.intercepts_))
    return 0


def make_model(name, task, mask, recipe, random_state, n_classes=2, inner_folds=3):
    """One model of the comparison, unfitted.

    Parameters
    ----------
    name : str
        One of :data:`SURVIVAL_MODELS` or :data:`CLASSIFICATION_MODELS`.
    task : {"survival", "classification"}
    mask : PathwayMask
        The Reactome mask aligned to the data's columns.
    recipe : dict
        BINN parameters (a value of :data:`RECIPES`); BINN variants only.
    random_state : int
    n_classes : int, default=2
        Classification: the number of classes (sizes the dense MLP).
    inner_folds : int, default=3
        Coxnet's inner CV.

    Returns
    -------
    estimator

    Examples
    --------
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(20, n_pathways=(4,), random_state=0)
    >>> type(make_model("binn_rewired", "survival", mask, {}, 0)).__name__
    'Pipeline'
    >>> make_model("dense", "classification", mask, {}, 0)[-1].hidden_layer_sizes
    (2,)
    """
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_binn import BINNClassifier, BINNSurvival, randomize_mask

    binn = BINNSurvival if task == "survival" else BINNClassifier
    if name == "binn":
        return make_pipeline(StandardScaler(), binn(mask, random_state=random_state, **recipe))
    if name == "binn_rewired":
        rewired = randomize_mask(mask, random_state=random_state)
        return make_pipeline(StandardScaler(),
                             binn(rewired, random_state=random_state, **recipe))
    n_genes = len(mask.feature_names)
    if name == "dense" and task == "survival":
        dense = dense_mask(mask.feature_names, dense_width(binn_params(mask), n_genes))
        params = {k: v for k, v in recipe.items() if k != "depth"}
        return make_pipeline(StandardScaler(),
                             BINNSurvival(dense, random_state=random_state, **params))
    if name == "dense":
        width = dense_width(binn_params(mask, n_classes), n_genes, n_classes)
        return make_pipeline(StandardScaler(), MLPClassifier(
            hidden_layer_sizes=(width,), max_iter=500, random_state=random_state))
    if name == "coxnet":
        return TunedCoxnet(inner_folds=inner_folds, random_state=random_state)
    if name == "rsf":
        from sksurv.ensemble import RandomSurvivalForest

        return RandomSurvivalForest(n_estimators=200, min_samples_leaf=3, max_features="sqrt",
                                    random_state=random_state, n_jobs=1)
    if name == "pca_cox":
        from sklearn.decomposition import PCA
        from sksurv.linear_model import CoxPHSurvivalAnalysis

        return make_pipeline(StandardScaler(), PCA(n_components=10, random_state=random_state),
                             CoxPHSurvivalAnalysis(alpha=1.0))
    if name == "kaplan_meier":
        return KaplanMeier()
    if name == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    if name == "random_forest":
        return RandomForestClassifier(n_estimators=300, random_state=random_state, n_jobs=1)
    if name == "prior":
        return DummyClassifier(strategy="prior")
    raise ValueError(f"Unknown model {name!r} for task {task!r}.")


class KaplanMeier:
    """The no-covariate reference: the training Kaplan–Meier curve for everyone.

    Examples
    --------
    >>> from sksurv.util import Surv
    >>> y = Surv.from_arrays([True, False, True], [1.0, 2.0, 3.0])
    >>> km = KaplanMeier().fit(np.zeros((3, 1)), y)
    >>> km.predict(np.zeros((2, 1))).tolist()
    [0.0, 0.0]
    >>> [float(f(1.5)) for f in km.predict_survival_function(np.zeros((1, 1)))]
    [0.6666666666666667]
    """

    def fit(self, X, y):
        """Fit the Kaplan–Meier estimator on ``y``; ``X`` is ignored."""
        from sksurv.nonparametric import kaplan_meier_estimator

        self.time_, self.survival_ = kaplan_meier_estimator(y[y.dtype.names[0]],
                                                            y[y.dtype.names[1]])
        return self

    def predict(self, X):
        """The same risk (zero) for every sample."""
        return np.zeros(len(X))

    def predict_survival_function(self, X):
        """The training Kaplan–Meier curve, once per sample."""
        from sksurv.functions import StepFunction

        curve = StepFunction(np.r_[0.0, self.time_], np.r_[1.0, self.survival_])
        return np.array([curve] * len(X))


# ---------------------------------------------------------------- metrics
def brier_times(y_train, y_test, n_times=N_TIMES):
    """The integrated Brier score's grid: inside the test fold's follow-up and the training one.

    Parameters
    ----------
    y_train, y_test : structured arrays
    n_times : int, default=15

    Returns
    -------
    ndarray
        Increasing times between the 10th and 80th percentile of the test
        times, below the largest training and test time.

    Examples
    --------
    >>> from sksurv.util import Surv
    >>> y = Surv.from_arrays([True] * 11, np.arange(11.0))
    >>> brier_times(y, y, n_times=3).tolist()
    [1.0, 4.5, 8.0]
    """
    test_time = y_test[y_test.dtype.names[1]]
    train_time = y_train[y_train.dtype.names[1]]
    grid = np.quantile(test_time, np.linspace(0.1, 0.8, n_times))
    upper = min(test_time.max(), train_time.max())
    grid = np.unique(grid[(grid > test_time.min()) & (grid < upper)])
    return grid


def survival_metrics(model, X_train, y_train, X_test, y_test):
    """Harrell's C-index and the integrated Brier score of a fitted survival model.

    Parameters
    ----------
    model : fitted estimator
        With ``predict`` (risk) and ``predict_survival_function``.
    X_train, y_train : training data (only ``y_train`` is used, for the censoring weights)
    X_test, y_test : held-out data

    Returns
    -------
    dict
        ``c_index`` and ``ibs``.

    Examples
    --------
    >>> from sksurv.util import Surv
    >>> rng = np.random.default_rng(0)
    >>> y = Surv.from_arrays(rng.random(60) < 0.8, rng.exponential(size=60))
    >>> X = np.zeros((60, 1))
    >>> m = survival_metrics(KaplanMeier().fit(X, y), X, y, X, y)
    >>> m["c_index"], bool(0 < m["ibs"] < 0.25)
    (0.5, True)
    """
    from sksurv.metrics import concordance_index_censored, integrated_brier_score

    event, time_ = y_test[y_test.dtype.names[0]], y_test[y_test.dtype.names[1]]
    risk = np.asarray(model.predict(X_test), dtype=float)
    c_index = concordance_index_censored(event, time_, risk)[0]
    # the censoring weights come from the training follow-up: test patients
    # followed beyond it are left out of the Brier score (not of the C-index)
    inside = time_ <= y_train[y_train.dtype.names[1]].max()
    times = brier_times(y_train, y_test[inside])
    curves = model.predict_survival_function(X_test[inside])
    probabilities = np.vstack([curve(times) for curve in curves])
    ibs = integrated_brier_score(y_train, y_test[inside], probabilities, times)
    return {"c_index": float(c_index), "ibs": float(ibs)}


def classification_metrics(model, X_test, y_test, classes):
    """Accuracy and log-loss of a fitted classifier.

    Parameters
    ----------
    model : fitted classifier
    X_test, y_test : held-out data
    classes : array-like
        All the cohort's classes (a fold may miss a rare one).

    Returns
    -------
    dict
        ``accuracy`` and ``log_loss``.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> X, y = np.zeros((4, 1)), np.array(["a", "a", "a", "b"])
    >>> m = classification_metrics(DummyClassifier().fit(X, y), X, y, ["a", "b"])
    >>> m["accuracy"], round(m["log_loss"], 4)
    (0.75, 0.5623)
    """
    from sklearn.metrics import accuracy_score, log_loss

    proba = model.predict_proba(X_test)
    full = np.zeros((len(X_test), len(classes)))
    columns = [list(classes).index(c) for c in model.classes_]
    full[:, columns] = proba
    return {"accuracy": float(accuracy_score(y_test, model.predict(X_test))),
            "log_loss": float(log_loss(y_test, full, labels=list(classes)))}


def choose_recipe(mask, X, y, recipes, n_splits, random_state):
    """Nested CV's inner loop: the BINNSurvival recipe of best mean inner C-index.

    Parameters
    ----------
    mask : PathwayMask
    X : ndarray of shape (n_samples, n_genes)
        The outer training fold.
    y : structured array
    recipes : dict of str to dict
        Candidate recipes (BINN parameters).
    n_splits : int
        Inner folds, stratified by the event indicator.
    random_state : int

    Returns
    -------
    best : str
        The chosen recipe's name (the first of equal scores).
    scores : dict of str to float
        Each recipe's mean inner-fold C-index.

    Examples
    --------
    >>> from sksurv.util import Surv
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(10, n_pathways=(3,), random_state=0)
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 10))
    >>> y = Surv.from_arrays(rng.random(60) < 0.8, np.exp(-X[:, 0] + 0.1 * rng.normal(size=60)))
    >>> recipes = {"short": {"max_epochs": 1}, "long": {"max_epochs": 60, "lr": 0.01,
    ...                                                  "train_split": None}}
    >>> best, scores = choose_recipe(mask, X, y, recipes, 2, 0)
    >>> best, sorted(scores)
    ('long', ['long', 'short'])
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    folds = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    event = y[y.dtype.names[0]]
    splits = list(folds.split(X, event))
    scores = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, recipe in recipes.items():
            model = make_model("binn", "survival", mask, recipe, random_state)
            scores[name] = float(np.mean(cross_val_score(model, X, y, cv=splits)))
    best = max(scores, key=lambda k: (scores[k], -list(recipes).index(k)))
    return best, scores


# ------------------------------------------------------------------ cells
@functools.lru_cache(maxsize=4)
def prepared(cohort, n_levels=N_LEVELS):
    """A cohort restricted to its Reactome genes: (X float32, y, task, mask).

    Cached per process, so a worker loads each cohort once.
    """
    X, y, task = load_cohort(cohort)
    mask, kept = reactome_mask(X.columns, n_levels)
    return X[kept].to_numpy(np.float32), y, task, mask


def fold_indices(y, task, n_splits, n_repeats, repeat, fold):
    """Train and test rows of one outer fold (stratified by event or class).

    Examples
    --------
    >>> y = np.array(["a", "b"] * 10)
    >>> train, test = fold_indices(y, "classification", 5, 2, 1, 3)
    >>> len(train), len(test)
    (16, 4)
    """
    from sklearn.model_selection import RepeatedStratifiedKFold

    strata = y[y.dtype.names[0]] if task == "survival" else y
    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=0)
    splits = list(splitter.split(np.zeros(len(y)), strata))
    return splits[repeat * n_splits + fold]


def evaluate_fold(X, y, task, mask, train, test, *, recipes, inner_folds, random_state,
                  models=None):
    """Every model of the comparison on one outer fold; one row per model.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_genes)
    y : structured array or ndarray
    task : {"survival", "classification"}
    mask : PathwayMask
        Aligned to ``X``'s columns.
    train, test : ndarray of int
    recipes : dict of str to dict
        Survival: the candidate recipes of the inner CV; classification:
        ignored (BINN defaults).
    inner_folds : int
    random_state : int
    models : sequence of str, default=None
        Default: all the task's models.

    Returns
    -------
    tuple of (list of dict, list of dict)
        The result rows, and the inner-CV scores of every recipe (survival).

    Examples
    --------
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(12, n_pathways=(3,), random_state=0)
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(90, 12)).astype(np.float32)
    >>> y = np.where(X[:, 0] > 0, "up", "down")
    >>> rows, _ = evaluate_fold(X, y, "classification", mask, np.arange(60), np.arange(60, 90),
    ...                         recipes={}, inner_folds=2, random_state=0,
    ...                         models=["logistic", "prior"])
    >>> [(r["model"], r["accuracy"] > 0.8) for r in rows]
    [('logistic', True), ('prior', False)]
    """
    if models is None:
        models = SURVIVAL_MODELS if task == "survival" else CLASSIFICATION_MODELS
    recipe_name, recipe, recipe_rows, select_s = "defaults", {}, [], 0.0
    if task == "survival" and any(m in models for m in ("binn", "binn_rewired", "dense")):
        start = time.perf_counter()
        recipe_name, scores = choose_recipe(mask, X[train], y[train], recipes, inner_folds,
                                            random_state)
        select_s = time.perf_counter() - start
        recipe = recipes[recipe_name]
        recipe_rows = [{"recipe": k, "inner_c_index": v, "chosen": k == recipe_name}
                       for k, v in scores.items()]
    classes = np.unique(y) if task == "classification" else None
    rows = []
    for name in models:
        model = make_model(name, task, mask, recipe, random_state,
                           n_classes=0 if classes is None else len(classes),
                           inner_folds=inner_folds)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X[train], y[train])
            fit_s = time.perf_counter() - start
            if task == "survival":
                metrics = survival_metrics(model, X[train], y[train], X[test], y[test])
            else:
                metrics = classification_metrics(model, X[test], y[test], classes)
        is_binn = name in ("binn", "binn_rewired") or (name == "dense" and task == "survival")
        rows.append({
            "model": name, **metrics, "fit_time_s": fit_s, "n_params": count_params(model),
            "recipe": recipe_name if is_binn and task == "survival" else "",
            "select_time_s": select_s if is_binn else 0.0,
            "n_train": len(train), "n_test": len(test), "n_genes": X.shape[1],
        })
    return rows, recipe_rows


def run_fold(cell):
    """The worker of one outer fold of one cohort (see :func:`evaluate_fold`).

    Returns one row per model; the inner-CV scores travel in the column
    ``inner_scores`` of the ``binn`` row (``recipe=score;...``).
    """
    X, y, task, mask = prepared(cell["cohort"], cell["n_levels"])
    train, test = fold_indices(y, task, cell["folds"], cell["repeats"], cell["repeat"],
                               cell["fold"])
    recipes = {name: RECIPES[name] for name in cell["recipes"].split(",")}
    rows, recipe_rows = evaluate_fold(
        X, y, task, mask, train, test, recipes=recipes, inner_folds=cell["inner_folds"],
        random_state=1000 * cell["repeat"] + cell["fold"],
    )
    scores = ";".join(f"{r['recipe']}={r['inner_c_index']:.6f}" for r in recipe_rows)
    for row in rows:
        row["inner_scores"] = scores if row["model"] == "binn" else ""
    return rows


def run_audit(cell):
    """The worker of one cohort's stability audit: one row per audited pathway.

    Also writes the audit's plain-language summary to
    ``<out>/audit_<cohort>.txt``.
    """
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_binn import BINNClassifier, BINNSurvival, stability_report

    X, y, task, mask = prepared(cell["cohort"], cell["n_levels"])
    recipe = RECIPES[cell["recipe"]] if task == "survival" else {}
    binn = BINNSurvival if task == "survival" else BINNClassifier
    estimator = make_pipeline(StandardScaler(), binn(mask, random_state=0, **recipe))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = stability_report(estimator, X, y, n_repeats=cell["audit_repeats"],
                                  n_null=cell["audit_null"], random_state=0)
    seconds = time.perf_counter() - start
    summary = report.summary()
    Path(cell["out"], f"audit_{cell['cohort']}.txt").write_text(
        f"{summary}\n\n(audit of {cell['cohort']} in {seconds:.0f} s)\n")
    nodes = report.nodes.reset_index()
    names = pathway_names()
    node_column = "node" if "node" in nodes.columns else nodes.columns[0]
    if "name" not in nodes.columns:
        nodes["name"] = [names.get(str(n).split("_copy")[0], "") for n in nodes[node_column]]
    nodes["audit_time_s"] = seconds
    if "p_adjusted" not in nodes.columns:  # older package: flag it
        nodes["p_adjusted"] = np.nan
    return nodes.to_dict("records")


# ----------------------------------------------------------------- tables
def _mean_sd(frame, by, columns):
    grouped = frame.groupby(by, sort=False)
    table = grouped[columns].mean()
    for column in columns:
        table[f"{column}_sd"] = grouped[column].std()
    table.insert(0, "n_folds", grouped.size())
    order = [c for pair in zip(columns, [f"{c}_sd" for c in columns]) for c in pair]
    return table[["n_folds", *order]].reset_index()


def summary_tables(cv):
    """Mean and sd over outer folds per cohort and model.

    Parameters
    ----------
    cv : pandas.DataFrame
        The rows of ``cv.csv``.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"survival"`` and ``"classification"`` (absent when not run).

    Examples
    --------
    >>> cv = pd.DataFrame({"cohort": ["a"] * 4, "model": ["binn", "binn", "rsf", "rsf"],
    ...                    "c_index": [0.6, 0.7, 0.5, 0.6], "ibs": [0.2] * 4,
    ...                    "fit_time_s": [1.0] * 4, "accuracy": [np.nan] * 4,
    ...                    "log_loss": [np.nan] * 4})
    >>> table = summary_tables(cv)["survival"]
    >>> table[["model", "n_folds", "c_index"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'model': 'binn', 'n_folds': 2, 'c_index': 0.65},
     {'model': 'rsf', 'n_folds': 2, 'c_index': 0.55}]
    """
    tables = {}
    survival = cv[cv["c_index"].notna()] if "c_index" in cv else cv.iloc[:0]
    if len(survival):
        tables["survival"] = _mean_sd(survival, ["cohort", "model"],
                                      ["c_index", "ibs", "fit_time_s"])
    classification = cv[cv["accuracy"].notna()] if "accuracy" in cv else cv.iloc[:0]
    if len(classification):
        tables["classification"] = _mean_sd(classification, ["cohort", "model"],
                                            ["accuracy", "log_loss", "fit_time_s"])
    return tables


def recipe_table(cv):
    """How often the inner CV chose each recipe, and its mean inner C-index, per cohort.

    Examples
    --------
    >>> cv = pd.DataFrame({"cohort": ["a", "a"], "model": ["binn", "binn"],
    ...                    "recipe": ["x", "y"], "inner_scores": ["x=0.6;y=0.5", "x=0.5;y=0.7"]})
    >>> recipe_table(cv).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'cohort': 'a', 'recipe': 'x', 'times_chosen': 1, 'inner_c_index': 0.55},
     {'cohort': 'a', 'recipe': 'y', 'times_chosen': 1, 'inner_c_index': 0.6}]
    """
    binn = cv[(cv["model"] == "binn") & cv["inner_scores"].fillna("").astype(str).ne("")]
    rows = []
    for _, row in binn.iterrows():
        for item in str(row["inner_scores"]).split(";"):
            name, score = item.split("=")
            rows.append({"cohort": row["cohort"], "recipe": name, "score": float(score),
                         "chosen": name == row["recipe"]})
    if not rows:
        return pd.DataFrame(columns=["cohort", "recipe", "times_chosen", "inner_c_index"])
    frame = pd.DataFrame(rows)
    grouped = frame.groupby(["cohort", "recipe"], sort=False)
    return pd.DataFrame({"times_chosen": grouped["chosen"].sum().astype(int),
                         "inner_c_index": grouped["score"].mean()}).reset_index()


def audit_table(audit):
    """Per cohort and layer: pathways audited, nominal and BH-adjusted hits, the top ones.

    With ``n_null`` rewired fits the empirical p-value is at least
    ``1 / (n_null + 1)``, which the Benjamini–Hochberg correction over a
    whole layer rarely lets through; so the table also counts hits of a
    normal approximation, the one-sided p-value of the audit's z-score
    (importance against the rewired fits' mean and sd) adjusted by
    ``scipy.stats.false_discovery_control``.

    Examples
    --------
    >>> audit = pd.DataFrame({"cohort": ["a"] * 3, "layer": [0, 0, 0],
    ...                       "name": ["P", "Q", "R"], "p_value": [0.01, 0.04, 0.5],
    ...                       "p_adjusted": [0.03, 0.06, 0.5], "z_score": [4.0, 1.0, 0.0],
    ...                       "audit_time_s": [2.0] * 3})
    >>> audit_table(audit).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'cohort': 'a', 'layer': 0, 'n_pathways': 3, 'n_p_below_0.05': 2,
      'n_p_adjusted_below_0.05': 1, 'n_z_adjusted_below_0.05': 1, 'lowest_p_adjusted': 0.03,
      'top_pathways': 'P (0.03, z 4.0); Q (0.06, z 1.0); R (0.5, z 0.0)', 'audit_time_s': 2.0}]
    """
    from scipy.stats import false_discovery_control, norm

    rows = []
    for (cohort, layer), group in audit.groupby(["cohort", "layer"], sort=False):
        adjusted = pd.to_numeric(group["p_adjusted"], errors="coerce")
        raw = pd.to_numeric(group["p_value"], errors="coerce")
        z = pd.to_numeric(group.get("z_score", pd.Series(np.nan, index=group.index)),
                          errors="coerce").to_numpy()
        finite = np.isfinite(z)
        z_hits = int((false_discovery_control(norm.sf(z[finite])) <= 0.05).sum()) \
            if finite.any() else 0
        # lowest adjusted p first; ties (common at the floor of the empirical p) by z-score
        top = group.assign(q=adjusted.to_numpy(), z=-np.nan_to_num(z, nan=-np.inf)) \
            .sort_values(["q", "z"]).head(3)
        rows.append({
            "cohort": cohort, "layer": layer, "n_pathways": len(group),
            "n_p_below_0.05": int((raw <= 0.05).sum()),
            "n_p_adjusted_below_0.05": int((adjusted <= 0.05).sum()),
            "n_z_adjusted_below_0.05": z_hits,
            "lowest_p_adjusted": float(adjusted.min()),
            "top_pathways": "; ".join(
                f"{n} ({q:.2g}, z {-zz:.1f})" for n, q, zz in zip(top["name"], top["q"], top["z"])),
            "audit_time_s": float(group["audit_time_s"].iloc[0]),
        })
    return pd.DataFrame(rows)


def paired_difference(cv, metric, model, other):
    """Per cohort, ``model - other`` on the same outer folds: mean, sd and wins.

    Examples
    --------
    >>> cv = pd.DataFrame({"cohort": ["a"] * 4, "repeat": [0] * 4, "fold": [0, 0, 1, 1],
    ...                    "model": ["binn", "rsf"] * 2, "c_index": [0.7, 0.6, 0.6, 0.65]})
    >>> paired_difference(cv, "c_index", "binn", "rsf").round(3).to_dict("records")
    [{'cohort': 'a', 'mean': 0.025, 'sd': 0.106, 'wins': 1, 'n_folds': 2}]
    """
    wide = cv.pivot_table(index=["cohort", "repeat", "fold"], columns="model", values=metric)
    if model not in wide or other not in wide:
        return pd.DataFrame(columns=["cohort", "mean", "sd", "wins", "n_folds"])
    diff = (wide[model] - wide[other]).dropna().rename("diff").reset_index()
    grouped = diff.groupby("cohort", sort=False)["diff"]
    return pd.DataFrame({"mean": grouped.mean(), "sd": grouped.std(),
                         "wins": grouped.apply(lambda d: int((d > 0).sum())),
                         "n_folds": grouped.size()}).reset_index()


def findings(cv, tables, recipes, audit_summary):
    """The run's findings in plain language, as reST (docs) and Markdown (README).

    Every number is computed here from the run's tables.

    Parameters
    ----------
    cv : pandas.DataFrame
        The rows of ``cv.csv``.
    tables : dict
        From :func:`summary_tables`.
    recipes : pandas.DataFrame
        From :func:`recipe_table`.
    audit_summary : pandas.DataFrame or None
        From :func:`audit_table`.

    Returns
    -------
    rst, markdown : str

    Examples
    --------
    >>> cv = pd.DataFrame({"cohort": ["a"] * 4, "repeat": [0] * 4, "fold": [0, 0, 1, 1],
    ...                    "model": ["binn", "binn_rewired"] * 2, "c_index": [0.7, 0.6, 0.6, 0.6],
    ...                    "ibs": [0.2] * 4, "fit_time_s": [1.0] * 4})
    >>> rst, md = findings(cv, summary_tables(cv), recipe_table(cv.assign(
    ...     recipe="", inner_scores="")), None)
    >>> print(rst.splitlines()[0])
    - **a** (survival, 2 outer folds): the BINN's C-index is 0.65 ± 0.07 ...
    """
    bullets, short = [], []
    survival = tables.get("survival")
    if survival is not None:
        for cohort, table in survival.groupby("cohort", sort=False):
            table = table.set_index("model")
            if "binn" not in table.index:
                continue
            b = table.loc["binn"]
            text = (f"**{cohort}** (survival, {int(b['n_folds'])} outer folds): the BINN's "
                    f"C-index is {b['c_index']:.2f} ± {b['c_index_sd']:.2f} (mean ± sd over "
                    f"folds; 0.5 is chance)")
            others = table.drop(index=[m for m in ("binn", "binn_rewired", "dense",
                                                   "kaplan_meier") if m in table.index])
            if len(others):
                best = others["c_index"].idxmax()
                text += (f"; the best baseline, {best}, {others.loc[best, 'c_index']:.2f} ± "
                         f"{others.loc[best, 'c_index_sd']:.2f}")
            diffs = {}
            for model, label in (("binn_rewired", "randomly rewired"), ("dense", "dense")):
                diff = diffs[model] = paired_difference(cv[cv["cohort"] == cohort], "c_index",
                                                        "binn", model)
                if len(diff):
                    d = diff.iloc[0]
                    text += (f"; BINN minus its {label} twin {d['mean']:+.2f} "
                             f"(sd {d['sd']:.2f}, BINN ahead in {d['wins']} of "
                             f"{d['n_folds']} folds)")
            if "kaplan_meier" in table.index:
                text += (f". Integrated Brier score {b['ibs']:.3f} against "
                         f"{table.loc['kaplan_meier', 'ibs']:.3f} for Kaplan–Meier "
                         "(no covariates; lower is better)")
            if recipes is not None and len(recipes):
                own = recipes[recipes["cohort"] == cohort]
                if len(own):
                    top = own.sort_values("times_chosen", ascending=False).iloc[0]
                    text += (f". The inner CV chose the recipe ``{top['recipe']}`` in "
                             f"{int(top['times_chosen'])} of {int(own['times_chosen'].sum())} "
                             "folds")
            bullets.append(text + ".")
            line = f"**{cohort}** ({int(b['n_folds'])} folds): BINN C-index {b['c_index']:.2f}"
            if len(others):
                line += f", {best} {others.loc[best, 'c_index']:.2f}"
            diff = diffs["binn_rewired"]
            if len(diff):
                line += (f"; BINN minus rewired Reactome {diff.iloc[0]['mean']:+.2f} "
                         f"(ahead in {diff.iloc[0]['wins']} of {diff.iloc[0]['n_folds']} folds)")
            short.append(line)
    classification = tables.get("classification")
    if classification is not None:
        for cohort, table in classification.groupby("cohort", sort=False):
            table = table.set_index("model")
            if "binn" not in table.index:
                continue
            b = table.loc["binn"]
            text = (f"**{cohort}** (classification, {int(b['n_folds'])} outer folds): the "
                    f"BINN's accuracy is {b['accuracy']:.3f} ± {b['accuracy_sd']:.3f}, "
                    f"log-loss {b['log_loss']:.2f}")
            for model in ("binn_rewired", "dense", "logistic", "random_forest", "prior"):
                if model in table.index:
                    text += (f"; {model} {table.loc[model, 'accuracy']:.3f} "
                             f"({table.loc[model, 'log_loss']:.2f})")
            bullets.append(text + ".")
            short.append(f"**{cohort}**: BINN accuracy {b['accuracy']:.2f}, " + ", ".join(
                f"{m} {table.loc[m, 'accuracy']:.2f}" for m in ("binn_rewired", "logistic")
                if m in table.index))
    if audit_summary is not None and len(audit_summary):
        parts = []
        for cohort, table in audit_summary.groupby("cohort", sort=False):
            hits = int(table["n_p_adjusted_below_0.05"].sum())
            raw = int(table["n_p_below_0.05"].sum())
            z_hits = int(table["n_z_adjusted_below_0.05"].sum())
            parts.append(f"{cohort}: {hits} of {int(table['n_pathways'].sum())} pathways "
                         f"({raw} before the correction; {z_hits} by the z-score's normal "
                         "approximation, corrected)")
        bullets.append("Stability audit, pathways whose importance beats random wiring at "
                       "Benjamini–Hochberg-adjusted p ≤ 0.05 (empirical p from the rewired "
                       "fits): " + "; ".join(parts) + ".")
        short.append("stability audit: " + ", ".join(
            f"{c} {int(t['n_p_adjusted_below_0.05'].sum())}"
            for c, t in audit_summary.groupby("cohort", sort=False))
            + " pathways beat random wiring after the Benjamini–Hochberg correction")
    rst = "\n".join(f"- {b}" for b in bullets) + "\n"
    markdown = "; ".join(short).replace("``", "`") + ".\n"
    return rst, markdown


# ---------------------------------------------------------------- figures
def plot_results(tables, out):
    """Per cohort, each model's mean ± sd over folds: C-index and IBS, accuracy and log-loss.

    Parameters
    ----------
    tables : dict
        From :func:`summary_tables`.
    out : path-like
        Folder of ``real_data_survival.png`` / ``real_data_classification.png``.

    Returns
    -------
    list of pathlib.Path
        The figures written.
    """
    plt = headless_pyplot()
    written = []
    specs = {"survival": (("c_index", "C-index (0.5 = chance)", 0.5),
                          ("ibs", "integrated Brier score (lower is better)", None)),
             "classification": (("accuracy", "accuracy", None),
                                ("log_loss", "log-loss (lower is better)", None))}
    for task, panels in specs.items():
        if task not in tables:
            continue
        table = tables[task]
        cohorts = list(dict.fromkeys(table["cohort"]))
        models = list(dict.fromkeys(table["model"]))
        colors = dict(zip(models, plt.cm.tab10(np.arange(len(models)) % 10)))
        fig, axes = plt.subplots(1, 2, figsize=(11, 0.6 + 0.9 * len(cohorts) * len(models) / 3),
                                 squeeze=False)
        for ax, (metric, label, chance) in zip(axes[0], panels):
            for i, cohort in enumerate(cohorts):
                for j, model in enumerate(models):
                    row = table[(table["cohort"] == cohort) & (table["model"] == model)]
                    if not len(row):
                        continue
                    position = i * (len(models) + 1) + j
                    ax.errorbar(row[metric], [position], xerr=row[f"{metric}_sd"].fillna(0),
                                fmt="o", color=colors[model],
                                label=model if i == 0 else None)
            ticks = [i * (len(models) + 1) + (len(models) - 1) / 2 for i in range(len(cohorts))]
            ax.set_yticks(ticks, cohorts)
            ax.invert_yaxis()
            if chance is not None:
                ax.axvline(chance, color="0.5", ls="--", lw=1)
            ax.set_xlabel(f"{label}; mean ± sd over folds")
            ax.grid(axis="x", alpha=0.3)
        axes[0][1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
        fig.tight_layout()
        path = Path(out) / f"real_data_{task}.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    return written


# ------------------------------------------------------------- command line
def build_arg_parser():
    """The command line: the shared options plus the cohorts and CV sizes.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> args = build_arg_parser().parse_args(["--quick", "--cohorts", "gse1992"])
    >>> args.quick, args.cohorts, args.folds
    (True, ['gse1992'], None)
    """
    parser = build_parser(__file__, __doc__)
    grid = parser.add_argument_group("grid (each defaults to the full or the --quick run)")
    grid.add_argument("--cohorts", nargs="+", choices=COHORTS, metavar="C",
                      help=f"cohorts, from {list(COHORTS)}")
    grid.add_argument("--folds", type=int, metavar="K", help="outer folds")
    grid.add_argument("--repeats", type=int, metavar="R", help="repeats of the outer CV")
    grid.add_argument("--inner-folds", type=int, metavar="K",
                      help="inner folds (recipe choice, Coxnet's penalty)")
    grid.add_argument("--recipes", nargs="+", choices=list(RECIPES), metavar="NAME",
                      help=f"BINNSurvival recipes for the inner CV, from {list(RECIPES)}")
    grid.add_argument("--audit-repeats", type=int, metavar="N",
                      help="refits of the stability audit (0 skips the audit)")
    grid.add_argument("--audit-null", type=int, metavar="N",
                      help="random-wiring fits of the audit's null")
    grid.add_argument("--n-levels", type=int, default=N_LEVELS, metavar="L",
                      help=f"Reactome levels kept (default: {N_LEVELS})")
    return parser


def settings(args):
    """The run's settings: the full or --quick defaults, overridden by the options.

    Examples
    --------
    >>> settings(build_arg_parser().parse_args(["--quick", "--folds", "4"]))["folds"]
    4
    """
    base = QUICK if args.quick else FULL
    return {key: getattr(args, key) if getattr(args, key) is not None else value
            for key, value in base.items()}


def main(argv=None):
    """Run the comparison and the audits; return the exit status.

    Parameters
    ----------
    argv : list of str, default=None

    Returns
    -------
    int
        0, or 1 if a fold or an audit failed (the others are saved).
    """
    args = build_arg_parser().parse_args(argv)
    pick = settings(args)
    # the workers by module name, so joblib's processes import them instead of
    # unpickling functions of ``__main__`` (whose caches do not pickle)
    import real_data

    fold_worker, audit_worker = real_data.run_fold, real_data.run_audit
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/real_data.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    for cohort in pick["cohorts"]:  # fail early, with the extra to install
        load_cohort(cohort)
    wall = time.perf_counter()
    cells = [
        {"cohort": cohort, "repeat": r, "fold": f, "folds": pick["folds"],
         "repeats": pick["repeats"], "inner_folds": pick["inner_folds"],
         "recipes": ",".join(pick["recipes"]), "n_levels": args.n_levels}
        for cohort in pick["cohorts"] for r in range(pick["repeats"])
        for f in range(pick["folds"])
    ]
    failed = []
    try:
        cv = run_cells(cells, fold_worker, out / "cv.csv", CV_KEYS, n_jobs=args.n_jobs,
                       backend=args.backend, scheduler=args.scheduler, desc="real_data cv")
    except CellError as error:
        failed.append(str(error))
        cv = pd.read_csv(out / "cv.csv") if (out / "cv.csv").exists() else pd.DataFrame()
    cv = cv[cv["cohort"].isin(pick["cohorts"])] if len(cv) else cv
    tables = summary_tables(cv) if len(cv) else {}
    recipes = recipe_table(cv) if len(cv) else pd.DataFrame()
    sections = {}
    for task, table in tables.items():
        table.to_csv(out / f"summary_{task}.csv", index=False, float_format="%.3f")
        sections[f"{task}: mean and sd over outer folds"] = table
    if len(recipes):
        recipes.to_csv(out / "summary_recipes.csv", index=False, float_format="%.3f")
        sections["BINNSurvival recipe chosen by the inner CV (times; mean inner C-index)"] = \
            recipes
    audit, audit_summary = None, None
    if pick["audit_repeats"] and pick["audit_repeats"] >= 2:
        audit_cells = []
        for cohort in pick["cohorts"]:
            chosen = recipes[recipes["cohort"] == cohort] if len(recipes) else recipes
            recipe = (chosen.sort_values(["times_chosen", "inner_c_index"], ascending=False)
                      ["recipe"].iloc[0] if len(chosen) else "defaults")
            audit_cells.append({"cohort": cohort, "recipe": recipe, "n_levels": args.n_levels,
                                "audit_repeats": pick["audit_repeats"],
                                "audit_null": pick["audit_null"], "out": str(out)})
        try:
            audit = run_cells(audit_cells, audit_worker, out / "audit.csv", AUDIT_KEYS,
                              n_jobs=args.n_jobs, backend=args.backend,
                              scheduler=args.scheduler, desc="real_data audit")
        except CellError as error:
            failed.append(str(error))
            if (out / "audit.csv").exists():
                audit = pd.read_csv(out / "audit.csv")
        if audit is not None and len(audit):
            audit = audit[audit["cohort"].isin(pick["cohorts"])]
            audit_summary = audit_table(audit)
            audit_summary.to_csv(out / "summary_audit.csv", index=False, float_format="%.3g")
            sections["Stability audit: pathways whose importance beats random wiring "
                     "(p_adjusted: Benjamini-Hochberg)"] = audit_summary
    plot_results(tables, out)
    rst, markdown = findings(cv, tables, recipes, audit_summary)
    (out / "findings.rst").write_text(rst)
    (out / "README_snippet.md").write_text(
        "**On real data** (`python benchmarks/real_data.py`; the docs page \"On real data\" "
        "has the tables, Coxnet, forests, dense twins and run times; mean over outer folds): "
        + markdown)
    sections["Findings"] = rst
    wall = time.perf_counter() - wall
    fit_total = float(cv["fit_time_s"].sum() + cv.groupby(CV_KEYS)["select_time_s"].max().sum()
                      ) if len(cv) else 0.0
    audit_total = float(audit.groupby("cohort")["audit_time_s"].first().sum()) \
        if audit is not None and len(audit) else 0.0
    info = pd.DataFrame([{"command": command.strip(), "wall_time_s_this_call": round(wall, 1),
                          "cv_fit_and_selection_time_s": round(fit_total, 1),
                          "audit_time_s": round(audit_total, 1),
                          "folds": pick["folds"], "repeats": pick["repeats"],
                          "inner_folds": pick["inner_folds"],
                          "audit_repeats": pick["audit_repeats"],
                          "audit_null": pick["audit_null"],
                          "finished_utc": pd.Timestamp.now("UTC").strftime("%Y-%m-%d %H:%M")}])
    if (out / "run_info.csv").exists():  # one row per call: a resumed run keeps the first
        info = pd.concat([pd.read_csv(out / "run_info.csv"), info], ignore_index=True)
    info.to_csv(out / "run_info.csv", index=False)
    sections["Files"] = (f"Tables, figures and audit summaries are in {out.resolve()}; "
                         f"this call took {wall:.0f} s.")
    if failed:
        sections["Failures"] = "\n".join(failed)
    print_summary(sections, out_dir=out, float_format="{:.3f}".format)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
