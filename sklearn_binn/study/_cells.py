"""Cells of the teacher–student study: build, train, score, judge; and the tables built on them.

A *cell* is a dict of parameters (:data:`CELL_DEFAULTS` lists them all and
their defaults). :func:`run_cell` turns it into rows, one per
``(reference, layer)``:

- ``reference="teacher"``: the teacher scored against itself
  (:meth:`TeacherDataset.to_estimator`), whose recovery must be exactly
  1.0 and whose output fit is the best any model can do (Bayes accuracy,
  AUC, C-index; zero excess loss);
- ``reference="chance"``: freshly initialised, untrained students (the
  recovery is the mean and sd over ``n_chance_draws`` of them, from
  :func:`sklearn_binn.chance_level`; the output fit is that of the
  student's own starting point, i.e. its ``random_state`` fitted for zero
  epochs);
- ``reference="student"``: the trained student.

Every row also carries the cell's training *protocol* (``"practice"`` or
``"converged"``, :mod:`~sklearn_binn.study` protocols), the student's
convergence evidence (``converged``, ``n_iter``, ``final_rel_loss_change``,
``grad_norm``, ``train_gap``: its training loss in excess of the
teacher's own loss on the same samples, as a fraction of its untrained
start's), the cell's *verdict* ("recovered", "non-identifiable",
"optimisation shortfall", "no fit": :func:`cell_verdict`) and, in cells
whose converged student reaches the teacher's training loss, how
refitted restarts agree with the teacher and with each other
(:func:`restart_agreement`).

Each row carries the output fit on a held-out test sample (the task metric:
R², accuracy and ROC AUC, or Harrell's C-index; the loss in excess of the
teacher's own loss and R² of the raw output against the teacher's
noiseless output, from :func:`sklearn_binn.output_fit`), the layer's mean
weight and activation recovery (:func:`sklearn_binn.recovery_report`, which
aligns each node's sign or scale before scoring), the Spearman correlation
of per-node recovery with the teacher node's influence, and the cell's
sizes and training cost. The same cell always gives the same rows (except
the wall-clock ``fit_time_s`` and ``cell_time_s``): every random draw is seeded from
``cell["seed"]``.

What the knobs mean
-------------------
Hierarchies (``hierarchy``), all cut to ``depth`` pathway layers of a
four-layer hierarchy, so that cells of different depth share their
gene → pathway layer:

- ``"pyramid"``: :func:`make_pathway_mask` with its Reactome-like defaults
  (``n_genes / 5.12`` first-layer pathways, each layer 0.3 times the one
  below, ``overlap`` pathways per gene on average, default 4);
- ``"tree"``: the same shape, each gene in exactly one pathway
  (``overlap=1``: disjoint gene sets);
- ``"wide"``: first layer as ``"pyramid"``, then each layer 0.6 times the
  one below (more, smaller pathways near the top);
- ``"reactome"``: the bundled human Reactome hierarchy
  (``load_reactome(n_levels=4)``) restricted to the branch of one
  top-level pathway, *Programmed Cell Death* (R-HSA-5357801): 198 genes,
  layers of 18, 6, 2 and 1 pathways, 298 edges (``n_genes`` and
  ``overlap`` do not apply);
- ``"reactome_genes"``: the whole human Reactome at Reactome scale,
  ``load_reactome(n_levels=3)`` (a skip-level mask: every pathway reads its
  genes and child pathways directly) restricted to ``n_genes`` of its
  genes (:func:`reactome_subset`), the same genes whatever the cell's
  seed. Three pathway layers, so ``depth`` is at most 3; ``overlap`` does
  not apply. The genes are a fixed pseudo-random sample, so each gene keeps
  all of its pathways (about 2.9 per gene, as in the whole hierarchy) and
  the pathway sizes stay as skewed as Reactome's, scaled down
  (2,000 genes: 482, 126 and 29 pathways, 6,437 edges).

Noise (``noise``), one knob with a meaning per task:

- regression: Gaussian noise of standard deviation ``noise`` times that of
  the teacher's output (``noise=0.5``: signal-to-noise variance ratio 4);
- classification: ``noise=0`` labels every sample with the teacher's more
  probable class (noiseless, ``label_noise="threshold"``); ``noise > 0``
  draws the label from the teacher's probability with a logit of standard
  deviation ``1 / noise`` (``noise=0.5``: sd 2, Bayes accuracy about 78 %);
  the limit ``noise -> 0`` is the noiseless labelling. At ``noise=0`` the
  teacher's logit has sd 4, and its log-loss (the reference of
  ``excess_loss``) is then not a floor: a student may be more confident;
- survival: Cox event times with a Weibull baseline and a log-risk of sd
  2 are always random; ``noise`` is the expected censored fraction.

Training, ``protocol="practice"`` (the estimators' defaults): Adam at lr 1e-3
(``lr``), batches of 128, early stopping with patience 10 on a seeded 10 %
validation split (``early_stopping=False``: no split, all ``max_epochs``),
``max_epochs = max(200, ceil(5000 / batches per epoch))`` capped at 2000
unless given, so small training sets still get about 5,000 Adam steps.
``init="teacher"`` starts the student at the teacher's weights (a warm
start from :meth:`TeacherDataset.to_estimator`): whether it stays there
is a question of optimisation, not of identifiability.

Training, ``protocol="converged"``: full-batch L-BFGS to tolerance
(:func:`protocol_params`: ``solver="lbfgs"``, ``n_init=3`` restarts keeping
the lowest training loss, ``tol=1e-6``, at most 500 epochs of up to 20
L-BFGS iterations unless ``max_epochs`` is given); ``lr``, ``batch_size``
and ``early_stopping`` do not apply (L-BFGS takes a line-searched step on
all the training samples). When the student converges above the
teacher's training loss, a student started at the teacher is trained the
same way (its training gap decides between "optimisation shortfall" and
"no fit"); when it reaches the teacher's level, the other ``n_init`` fits
(students from other starts, fitted anyway to choose the best) are scored
against the teacher and against each other. (A student started at random
under the converged protocol is the best of ``n_init`` fits with
``n_init=1`` and ``random_state + k``: the estimator's own ``n_init``,
with its restarts kept.)

Constraints on the internals (the estimators' objective-level options;
all off by default, which gives exactly the cells of before they
existed):

- ``edge_l1``: L1 penalty on the pathway edge weights, added to the
  training loss (the estimators' ``edge_l1``);
- ``sign_constraint="teacher"``: every pathway edge is held at the sign of
  the teacher's weight on it (the estimators' ``edge_sign`` with an edge
  table built by :func:`teacher_sign_table`), prior knowledge of
  activation vs inhibition;
- ``supervised_fraction``: that fraction of the gene → pathway nodes
  (chosen at random, at least one) have their teacher activations given as
  ``pathway_targets`` on :data:`SUPERVISED_SAMPLES` of the training
  samples (NaN on the rest), weighted by ``supervision_weight=1``. Their
  recovery is circular, so the rows of such cells also report the
  supervised and the unsupervised nodes apart (``*_supervised``,
  ``*_unsupervised``).
"""

from __future__ import annotations

import hashlib
import math
import time
import warnings
from functools import lru_cache
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

from .._classifier import BINNClassifier
from .._diagnostic import identifiability_diagnostic
from .._identifiability import chance_level, output_fit, recovery_report
from .._mask import PathwayMask
from .._ranking import importance_recovery
from .._regressor import BINNRegressor
from .._survival import BINNSurvival
from .._teacher import TeacherDataset
from ..datasets import load_reactome, make_pathway_mask
from ._protocols import PROTOCOLS, convergence_evidence, protocol_params, training_objective
from ._runner import key_value
from ._verdicts import (
    RECOVERY_THRESHOLD,
    TEACHER_LEVEL,
    cell_verdict,
    restart_agreement,
    training_gap,
)

__all__ = [
    "ALL_KEY_COLUMNS",
    "CELL_DEFAULTS",
    "CONSTRAINT_COLUMNS",
    "HIERARCHIES",
    "KEY_COLUMNS",
    "N_RESTARTS",
    "REFERENCES",
    "TASKS",
    "build_mask",
    "build_teacher",
    "make_cell",
    "node_scores",
    "reactome_branch",
    "reactome_subset",
    "recovery_table",
    "run_cell",
    "key_text",
    "select_cells",
    "supervised_nodes",
    "teacher_sign_table",
    "cell_means",
    "judge_student",
    "task_metric",
]

TASKS = ("classification", "regression", "survival")
HIERARCHIES = ("pyramid", "tree", "wide", "reactome", "reactome_genes")
REFERENCES = ("teacher", "chance", "student")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")
INPUT_MODELS = ("independent", "equicorrelated", "latent")
INITS = ("default", "teacher")
SIGN_CONSTRAINTS = ("none", "teacher")

#: Every parameter of a cell and its default (the key columns: :data:`ALL_KEY_COLUMNS`).
CELL_DEFAULTS = {
    "task": "regression",
    "hierarchy": "pyramid",
    "n_genes": 100,
    "overlap": None,
    "depth": 2,
    "activation": "tanh",
    "noise": 0.0,
    "samples_per_edge": 10.0,
    "n_train": None,
    "input_model": "independent",
    "input_correlation": 0.5,
    "lr": 1e-3,
    "weight_decay": 0.0,
    "dropout": 0.0,
    "early_stopping": True,
    "init": "default",
    "protocol": "practice",
    "max_epochs": None,
    "n_test": 2000,
    "n_chance_draws": 10,
    "seed": 0,
    "edge_l1": 0.0,
    "sign_constraint": "none",
    "supervised_fraction": 0.0,
}
#: The constraint parameters: added after the first studies ran, so CSVs
#: written before lack them; a missing or empty value means the default.
CONSTRAINT_COLUMNS = ["edge_l1", "sign_constraint", "supervised_fraction"]
# key columns that CSVs written before they existed lack (read back as the default)
_LATE_COLUMNS = [*CONSTRAINT_COLUMNS, "protocol"]
#: The columns that identify a cell in a study's CSV (every parameter but
#: the constraints, which are keys only where a CSV has them: see
#: :func:`key_text`). Studies that never set a constraint keep resuming their
#: old CSVs with these; a study that does writes its own CSV keyed by
#: ``KEY_COLUMNS + CONSTRAINT_COLUMNS``.
KEY_COLUMNS = [c for c in CELL_DEFAULTS if c not in CONSTRAINT_COLUMNS]
ALL_KEY_COLUMNS = [*KEY_COLUMNS, *CONSTRAINT_COLUMNS]

#: The hierarchies are cut from this many pathway layers.
FULL_DEPTH = 4
#: Reactome's top-level pathway whose branch ``hierarchy="reactome"`` uses.
REACTOME_BRANCH = ("R-HSA-5357801",)  # Programmed Cell Death
#: Levels of the whole Reactome hierarchy that ``hierarchy="reactome_genes"`` keeps.
REACTOME_LEVELS = 3
# the salt of the hash that orders Reactome's genes for reactome_subset (fixed forever:
# changing it changes every "reactome_genes" cell)
_REACTOME_SUBSET_SALT = "sklearn_binn.study.reactome_genes"
BATCH_SIZE = 128
MIN_STEPS = 5000
MIN_EPOCHS, MAX_EPOCHS = 200, 2000
MIN_TRAIN = 20
#: A node counts as recovered at a score of at least this (``*_frac_recovered``).
RECOVERED = RECOVERY_THRESHOLD
#: Students refitted from other starts in a cell whose student reaches the
#: teacher's training loss (uniqueness of exact fits).
N_RESTARTS = 2
#: Fraction of the training samples whose supervised node targets are given.
SUPERVISED_SAMPLES = 0.5
_CLASSIFICATION_NOISELESS_SCALE = 4.0
_SURVIVAL_SCALE = 2.0
_ESTIMATORS = {
    "classification": BINNClassifier,
    "regression": BINNRegressor,
    "survival": BINNSurvival,
}


# --------------------------------------------------------------------- cells
def _choice(cell, name, options):
    if cell[name] not in options:
        raise ValueError(f"{name} must be one of {options}; got {cell[name]!r}.")


def _number(cell, name, low, high=math.inf, *, integer=False, optional=False,
            closed_low=True):
    value = cell[name]
    if value is None and optional:
        return
    kind = Integral if integer else Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(
            f"{name} must be {'an int' if integer else 'a number'}"
            f"{' or None' if optional else ''}; got {value!r}."
        )
    if not (low <= value if closed_low else low < value) or not value < high:
        side = "[" if closed_low else "("
        raise ValueError(f"{name} must lie in {side}{low}, {high}); got {value!r}.")


def make_cell(**params):
    """A complete, validated cell: the defaults updated with ``params``.

    Parameters
    ----------
    **params
        Any of the keys of :data:`CELL_DEFAULTS`.

    Returns
    -------
    dict
        Every key of :data:`CELL_DEFAULTS`, in that order.

    Raises
    ------
    ValueError, TypeError
        For an unknown key or a value out of range, naming the key.

    Examples
    --------
    >>> cell = make_cell(task="survival", depth=1, noise=0.3)
    >>> cell["task"], cell["depth"], cell["samples_per_edge"]
    ('survival', 1, 10.0)
    >>> make_cell(depth=5)
    Traceback (most recent call last):
    ...
    ValueError: depth must lie in [1, 5); got 5.
    """
    unknown = sorted(set(params) - set(CELL_DEFAULTS))
    if unknown:
        raise ValueError(
            f"Unknown cell parameter(s) {unknown}; the parameters are {list(CELL_DEFAULTS)}."
        )
    cell = {**CELL_DEFAULTS, **params}
    _choice(cell, "task", TASKS)
    _choice(cell, "hierarchy", HIERARCHIES)
    _choice(cell, "activation", ACTIVATIONS)
    _choice(cell, "input_model", INPUT_MODELS)
    _choice(cell, "init", INITS)
    _choice(cell, "protocol", PROTOCOLS)
    _choice(cell, "sign_constraint", SIGN_CONSTRAINTS)
    _number(cell, "edge_l1", 0)
    _number(cell, "supervised_fraction", 0)
    if cell["supervised_fraction"] > 1:
        raise ValueError(
            "supervised_fraction is a fraction of the first-layer pathway nodes and must lie "
            f"in [0, 1]; got {cell['supervised_fraction']!r}."
        )
    _number(cell, "depth", 1, FULL_DEPTH + 1, integer=True)
    _number(cell, "noise", 0)
    if cell["task"] == "survival" and cell["noise"] >= 1:
        raise ValueError(
            f"For task='survival' noise is the censored fraction and must be below 1; "
            f"got {cell['noise']}."
        )
    _number(cell, "samples_per_edge", 0, closed_low=False, optional=True)
    _number(cell, "n_train", MIN_TRAIN, integer=True, optional=True)
    if (cell["samples_per_edge"] is None) == (cell["n_train"] is None):
        raise ValueError(
            "Give exactly one of samples_per_edge and n_train (the other None); got "
            f"samples_per_edge={cell['samples_per_edge']!r}, n_train={cell['n_train']!r}."
        )
    _number(cell, "input_correlation", 0, 1)
    _number(cell, "lr", 0, closed_low=False)
    _number(cell, "weight_decay", 0)
    _number(cell, "dropout", 0, 1)
    _number(cell, "max_epochs", 1, integer=True, optional=True)
    _number(cell, "n_test", 20, integer=True)
    _number(cell, "n_chance_draws", 1, integer=True)
    _number(cell, "seed", 0, integer=True)
    if not isinstance(cell["early_stopping"], bool):
        raise TypeError(f"early_stopping must be a bool; got {cell['early_stopping']!r}.")
    if cell["hierarchy"] == "reactome":
        if cell["n_genes"] is not None or cell["overlap"] is not None:
            raise ValueError(
                "hierarchy='reactome' is a fixed Reactome branch: set n_genes=None and "
                f"overlap=None (got n_genes={cell['n_genes']!r}, overlap={cell['overlap']!r})."
            )
    elif cell["hierarchy"] == "reactome_genes":
        _check_reactome_genes(cell["n_genes"], cell["depth"], cell["overlap"])
    else:
        _number(cell, "n_genes", 2, integer=True)
        _number(cell, "overlap", 1, optional=True)
        if cell["hierarchy"] == "tree" and cell["overlap"] not in (None, 1):
            raise ValueError(
                f"hierarchy='tree' has one pathway per gene; use overlap=None or 1, "
                f"got {cell['overlap']!r}."
            )
    return cell


def _seeds(seed):
    """Independent seeds for the mask, teacher, samples, student and chance draws."""
    names = ("mask", "teacher", "train", "test", "student", "chance", "supervision")
    children = np.random.SeedSequence([int(seed), 20250101]).spawn(len(names))
    return {n: int(c.generate_state(1)[0] >> 1) for n, c in zip(names, children)}


def _check_reactome_genes(n_genes, depth=REACTOME_LEVELS, overlap=None):
    """Validate the parameters of a ``hierarchy="reactome_genes"`` cell."""
    n_all = load_reactome(n_levels=REACTOME_LEVELS).n_features
    if n_genes is None or isinstance(n_genes, bool) or not isinstance(n_genes, Integral):
        raise TypeError(
            "hierarchy='reactome_genes' needs n_genes, the number of Reactome genes to keep: "
            f"an int in [2, {n_all}]; got n_genes={n_genes!r}."
        )
    if not 2 <= n_genes <= n_all:
        raise ValueError(
            f"hierarchy='reactome_genes' keeps n_genes of Reactome's {n_all} genes; n_genes "
            f"must lie in [2, {n_all}]; got {n_genes!r}."
        )
    if overlap is not None:
        raise ValueError(
            "hierarchy='reactome_genes' takes its overlaps from Reactome: set overlap=None "
            f"(got overlap={overlap!r})."
        )
    if depth > REACTOME_LEVELS:
        raise ValueError(
            f"hierarchy='reactome_genes' has {REACTOME_LEVELS} pathway layers; depth must lie "
            f"in [1, {REACTOME_LEVELS}]; got depth={depth!r}."
        )


# ---------------------------------------------------------------- the masks
def reactome_branch(roots=REACTOME_BRANCH, n_levels=FULL_DEPTH):
    """The bundled Reactome hierarchy restricted to the branches of some top-level pathways.

    Keeps the given top-level pathways, every pathway below them, and the
    genes of those pathways; edges to pathways outside the branches are
    dropped.  The hierarchy is Reactome's layered chain with pass-through
    copies (``load_reactome(copies=True)``), every layer reading only the
    one below.

    Parameters
    ----------
    roots : sequence of str, default=("R-HSA-5357801",)
        Reactome identifiers of top-level pathways (Programmed Cell Death).
    n_levels : int, default=4
        Levels of the hierarchy kept, see :func:`load_reactome`.

    Returns
    -------
    PathwayMask

    Examples
    --------
    >>> reactome_branch()
    PathwayMask(n_features=198, layer_sizes=(18, 6, 2, 1), n_edges=298)
    """
    return _reactome_branch(tuple(roots), int(n_levels))


@lru_cache(maxsize=8)
def _reactome_branch(roots, n_levels):
    # UniProt accessions, as when the committed results were measured (the
    # symbol-keyed mask merges a few genes with two UniProt entries), and
    # P-NET's chain with pass-through copies, as then (the code walks a chain)
    full = load_reactome(n_levels=n_levels, gene_ids="uniprot", copies=True)
    top = list(full.node_names[-1])
    unknown = [r for r in roots if r not in top]
    if unknown or not roots:
        raise ValueError(
            f"roots must name top-level pathways of the {n_levels}-level Reactome "
            f"hierarchy; {unknown or 'none'} are not among its {len(top)} top nodes."
        )
    keep = [None] * full.depth
    keep[-1] = np.isin(full.node_names[-1], roots)
    for k in range(full.depth - 1, 0, -1):
        keep[k - 1] = np.asarray(full.layers[k][:, keep[k]].sum(axis=1)).ravel() > 0
    rows = np.asarray(full.layers[0][:, keep[0]].sum(axis=1)).ravel() > 0
    genes = full.feature_names[rows]
    layers, names = [], []
    for k in range(full.depth):
        layers.append(full.layers[k][rows][:, keep[k]])
        names.append(full.node_names[k][keep[k]])
        rows = keep[k]
    return PathwayMask(layers, genes, names)


def reactome_subset(n_genes):
    """The whole human Reactome hierarchy cut to a fixed sample of ``n_genes`` of its genes.

    The mask of ``hierarchy="reactome_genes"``: ``load_reactome(n_levels=3)``
    (HGNC symbols; a skip-level mask, every pathway reading its genes and
    child pathways directly) restricted with :meth:`PathwayMask.restrict` to
    the first ``n_genes`` of Reactome's genes in a fixed pseudo-random order
    (ranked by the SHA-256 of a fixed salt and the gene symbol, so the
    choice depends on neither a cell's seed nor numpy's version), in
    alphabetical order; pathways left without members are dropped. The
    samples are nested: the genes of a smaller ``n_genes`` are among those
    of a larger one.

    A uniform sample of genes keeps each chosen gene's every pathway, so the
    overlap of the gene sets (about 2.9 pathways per gene in the whole
    hierarchy) is kept, and the pathway sizes stay as skewed as Reactome's,
    scaled by ``n_genes / 11342`` (2,000 genes: first-layer pathways of
    median size 6 and largest 237; 482, 126 and 29 pathways; 6,437 edges).
    Small samples leave many pathways with a single gene.

    Parameters
    ----------
    n_genes : int
        Genes to keep, 2 to 11,342. The mask is cached per ``n_genes``
        (masks are immutable).

    Returns
    -------
    PathwayMask
        ``n_genes`` features, three pathway layers, ``skip_levels=True``.

    Raises
    ------
    TypeError, ValueError
        If ``n_genes`` is not an int in [2, 11342].

    Examples
    --------
    >>> mask = reactome_subset(60)
    >>> mask
    PathwayMask(n_features=60, layer_sizes=(116, 67, 24), n_edges=345, skip_levels=True)
    >>> set(mask.feature_names) <= set(reactome_subset(200).feature_names)  # nested
    True
    """
    _check_reactome_genes(n_genes)
    return _reactome_subset(int(n_genes))


@lru_cache(maxsize=8)
def _reactome_subset(n_genes):
    full = load_reactome(n_levels=REACTOME_LEVELS)
    genes = sorted(full.feature_names.tolist(), key=lambda gene: hashlib.sha256(
        f"{_REACTOME_SUBSET_SALT}:{gene}".encode()).hexdigest())
    return full.restrict(sorted(genes[:n_genes]))


def build_mask(cell):
    """The cell's pathway mask, cut to ``cell["depth"]`` layers.

    Parameters
    ----------
    cell : dict
        A cell (see :func:`make_cell`); uses ``hierarchy``, ``n_genes``,
        ``overlap``, ``depth`` and ``seed``.

    Returns
    -------
    PathwayMask

    Examples
    --------
    >>> build_mask(make_cell(n_genes=100, depth=4)).layer_sizes
    (20, 6, 2, 1)
    >>> build_mask(make_cell(hierarchy="wide", n_genes=100, depth=4)).layer_sizes
    (20, 12, 7, 4)
    >>> build_mask(make_cell(hierarchy="reactome_genes", n_genes=60, depth=3)).layer_sizes
    (116, 67, 24)
    """
    cell = make_cell(**cell)
    if cell["hierarchy"] == "reactome":
        full = reactome_branch()
    elif cell["hierarchy"] == "reactome_genes":
        full = reactome_subset(cell["n_genes"])
    else:
        seed = _seeds(cell["seed"])["mask"]
        n = cell["n_genes"]
        overlap = cell["overlap"]
        if cell["hierarchy"] == "tree":
            overlap = 1
        widths = None
        if cell["hierarchy"] == "wide":
            widths = [max(1, round(n / 5.12))]
            for _ in range(FULL_DEPTH - 1):
                widths.append(max(1, round(widths[-1] * 0.6)))
            widths = tuple(widths)
        full = make_pathway_mask(
            n, n_pathways=widths, depth=None if widths else FULL_DEPTH,
            overlap=overlap, random_state=seed,
        )
    return full.truncate(cell["depth"])


def _teacher_params(task, noise):
    """TeacherDataset arguments for a task's ``noise`` knob (see the module docstring)."""
    if task == "regression":
        return {"noise": float(noise)}
    if task == "classification":
        if noise == 0:
            return {"label_noise": "threshold", "output_scale": _CLASSIFICATION_NOISELESS_SCALE}
        return {"label_noise": "bernoulli", "output_scale": 1.0 / float(noise)}
    return {"censoring": float(noise), "output_scale": _SURVIVAL_SCALE}


def build_teacher(cell, mask=None):
    """The cell's teacher on its mask.

    Parameters
    ----------
    cell : dict
    mask : PathwayMask, default=None
        ``build_mask(cell)`` if not given.

    Returns
    -------
    TeacherDataset

    Examples
    --------
    >>> teacher = build_teacher(make_cell(task="classification", n_genes=30, noise=0.5))
    >>> teacher.label_noise, teacher.output_scale
    ('bernoulli', 2.0)
    """
    cell = make_cell(**cell)
    mask = build_mask(cell) if mask is None else mask
    return TeacherDataset(
        mask, cell["task"], activation=cell["activation"],
        input_model=cell["input_model"], input_correlation=cell["input_correlation"],
        random_state=_seeds(cell["seed"])["teacher"],
        **_teacher_params(cell["task"], cell["noise"]),
    )


# ----------------------------------------------------------- constraints
def teacher_sign_table(teacher):
    """Every pathway edge of the teacher's mask with the sign of the teacher's weight on it.

    The edge table of the estimators' ``edge_sign`` (a zero weight counts
    as positive).

    Parameters
    ----------
    teacher : TeacherDataset

    Returns
    -------
    pandas.DataFrame
        Columns ``source``, ``target``, ``layer`` (0 = gene → pathway) and
        ``sign`` (+1 or -1), one row per edge of ``teacher.mask``.

    Examples
    --------
    >>> teacher = build_teacher(make_cell(n_genes=12, depth=1))
    >>> table = teacher_sign_table(teacher)
    >>> len(table) == teacher.mask.n_edges, sorted(set(table["sign"]))
    (True, [-1, 1])
    """
    mask = teacher.mask
    frames = []
    for k, layer in enumerate(mask.layers):
        coo = layer.tocoo()
        weights = np.asarray(teacher.weights[k].tocsr()[coo.row, coo.col]).ravel()
        inputs = np.asarray(mask.input_names(k))  # a skip-level layer reads genes and nodes
        frames.append(pd.DataFrame({
            "source": inputs[coo.row], "target": np.asarray(mask.node_names[k])[coo.col],
            "layer": k, "sign": np.where(weights < 0, -1, 1),
        }))
    return pd.concat(frames, ignore_index=True)


def supervised_nodes(cell, mask=None):
    """The names of the gene → pathway nodes whose teacher activations a cell supervises.

    ``round(supervised_fraction * n_nodes)`` of the first layer's nodes, at
    least one when the fraction is positive, drawn from the cell's seed.

    Parameters
    ----------
    cell : dict
    mask : PathwayMask, default=None
        ``build_mask(cell)`` if not given.

    Returns
    -------
    list of str
        In the mask's node order; empty when ``supervised_fraction`` is 0.

    Examples
    --------
    >>> cell = make_cell(n_genes=40, supervised_fraction=0.25)
    >>> len(supervised_nodes(cell)), build_mask(cell).layer_sizes[0]
    (2, 8)
    >>> supervised_nodes(make_cell(n_genes=40))
    []
    """
    cell = make_cell(**cell)
    if not cell["supervised_fraction"]:
        return []
    mask = build_mask(cell) if mask is None else mask
    names = np.asarray(mask.node_names[0])
    n_chosen = max(1, int(round(cell["supervised_fraction"] * len(names))))
    rng = np.random.default_rng(_seeds(cell["seed"])["supervision"])
    chosen = np.sort(rng.choice(len(names), size=n_chosen, replace=False))
    return [str(n) for n in names[chosen]]


def _pathway_targets(cell, teacher, X, nodes):
    """The supervised nodes' teacher activations on SUPERVISED_SAMPLES of ``X``, NaN elsewhere."""
    if not nodes:
        return None
    names = list(np.asarray(teacher.mask.node_names[0]))
    values = teacher.activations(X)[0][:, [names.index(n) for n in nodes]].astype(float)
    rng = np.random.default_rng([_seeds(cell["seed"])["supervision"], 1])
    n_given = max(1, int(round(SUPERVISED_SAMPLES * len(X))))
    hidden = np.ones(len(X), dtype=bool)
    hidden[rng.choice(len(X), size=n_given, replace=False)] = False
    values[hidden] = np.nan
    return pd.DataFrame(values, columns=nodes)


def _n_train(cell, mask):
    if cell["n_train"] is not None:
        return int(cell["n_train"])
    return max(MIN_TRAIN, int(round(cell["samples_per_edge"] * mask.n_edges)))


def _max_epochs(cell, n_train):
    if cell["max_epochs"] is not None:
        return int(cell["max_epochs"])
    if cell["protocol"] != "practice":
        return protocol_params(cell["protocol"])["max_epochs"]
    n_fit = n_train - math.ceil(0.1 * n_train) if cell["early_stopping"] else n_train
    batches = max(1, math.ceil(n_fit / BATCH_SIZE))
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(MIN_STEPS / batches))))


def _student_params(cell, max_epochs, random_state, teacher=None):
    params = {
        "dropout": float(cell["dropout"]),
        "lr": float(cell["lr"]),
        "batch_size": BATCH_SIZE,
        "max_epochs": max_epochs,
        "random_state": random_state,
    }
    if cell["protocol"] != "practice":
        params.update(protocol_params(cell["protocol"], max_epochs=max_epochs))
    if cell["weight_decay"]:
        params["optimizer__weight_decay"] = float(cell["weight_decay"])
    if not cell["early_stopping"] and cell["protocol"] == "practice":
        params.update(n_iter_no_change=None, train_split=None)
    if cell["edge_l1"]:
        params["edge_l1"] = float(cell["edge_l1"])
    if cell["sign_constraint"] == "teacher":
        params["edge_sign"] = teacher_sign_table(teacher)
    return params


# ------------------------------------------------------------------ scoring
def _raw_output(estimator, task, X):
    """The network's output: the value, the logit or the log-risk."""
    if task == "classification":
        return estimator.decision_function(X)
    return estimator.predict(X)


def _squared_correlation(a, b):
    """Squared Pearson correlation (0 if either is constant): R² of the best affine map."""
    a, b = np.ravel(a) - np.mean(a), np.ravel(b) - np.mean(b)
    den = np.sqrt(np.sum(a * a) * np.sum(b * b))
    return float((np.sum(a * b) / den) ** 2) if den > 0 else 0.0


def _output_metrics(estimator, teacher, X, y):
    """Output fit of one fitted estimator on held-out ``(X, y)``."""
    fit = output_fit(estimator, teacher, X, y)
    metrics = {
        "loss": fit["loss"],
        "test_loss": fit["student_loss"],
        "teacher_loss": fit["teacher_loss"],
        "excess_loss": fit["excess_loss"],
        "r2_vs_teacher": fit["r2_vs_teacher"],
        "output_corr2": _squared_correlation(_raw_output(estimator, teacher.task, X),
                                             teacher.predict(X)),
        "r2": np.nan, "accuracy": np.nan, "auc": np.nan, "cindex": np.nan,
    }
    if teacher.task == "regression":
        metrics["r2"] = float(r2_score(y, estimator.predict(X)))
    elif teacher.task == "classification":
        metrics["accuracy"] = float(accuracy_score(y, estimator.predict(X)))
        metrics["auc"] = float(roc_auc_score(y, estimator.predict_proba(X)[:, 1]))
    else:
        metrics["cindex"] = float(estimator.score(X, y))
    return metrics


def _layer_rows(layers, prefix_map, mask, nodes, node_columns):
    """Per-layer dicts from a RecoveryReport.layers frame, renaming its columns.

    Also the per-node scores of ``nodes`` (``node_columns``: target →
    column) as text in the mask's node order (:func:`node_scores` reads
    them back) and, for a student or teacher report, the fraction of nodes
    recovered (score >= :data:`RECOVERED`).
    """
    rows = []
    for layer, values in layers.iterrows():
        in_degree = np.diff(mask.layers[int(layer)].tocsc().indptr)
        row = {"layer": int(layer), "n_nodes": int(values["n_nodes"]),
               "mean_inputs": float(in_degree.mean())}
        for target, source in prefix_map.items():
            row[target] = float(values[source]) if source in values else np.nan
        in_layer = nodes[nodes["layer"] == layer].set_index("node")
        for target, column in node_columns.items():
            scores = in_layer[column].reindex(mask.node_names[int(layer)]).to_numpy(float)
            row[f"{target}_recovery_nodes"] = ";".join(f"{v:.6g}" for v in scores)
            row[f"{target}_frac_recovered"] = (
                float((scores >= RECOVERED).mean()) if column.endswith("_recovery") else np.nan)
        rows.append(row)
    return rows


def node_scores(row, target):
    """The per-node scores a :func:`run_cell` row holds for one layer, as an array.

    Parameters
    ----------
    row : mapping or pandas.Series
        A row of :func:`run_cell` (or of a study's CSV).
    target : {"weight", "activation"}

    Returns
    -------
    ndarray of float
        One score per node of the row's layer, in the mask's node order
        (NaN where the teacher node is constant).

    Examples
    --------
    >>> node_scores({"weight_recovery_nodes": "0.5;1;nan"}, "weight")
    array([0.5, 1. , nan])
    """
    return np.array(str(row[f"{target}_recovery_nodes"]).split(";"), dtype=float)


_RECOVERY = {
    "weight_recovery": "weight_recovery",
    "activation_recovery": "activation_recovery",
    "weight_recovery_sd": "-",
    "activation_recovery_sd": "-",
    "weight_influence_spearman": "weight_influence_spearman",
    "activation_influence_spearman": "activation_influence_spearman",
}
_CHANCE = {
    "weight_recovery": "weight_chance",
    "activation_recovery": "activation_chance",
    "weight_recovery_sd": "weight_chance_sd",
    "activation_recovery_sd": "activation_chance_sd",
    "weight_influence_spearman": "-",
    "activation_influence_spearman": "-",
}


def _diagnosis_rows(diagnosis, mask):
    """Per layer: the diagnostic's verdicts in the mask's node order, and its global numbers."""
    ratio = (float(diagnosis.eigenvalues[0] / diagnosis.eigenvalue_max)
             if len(diagnosis.eigenvalues) and diagnosis.eigenvalue_max > 0 else np.nan)
    out = {}
    for layer, names in enumerate(mask.node_names):
        flags = (diagnosis.nodes[diagnosis.nodes["layer"] == layer].set_index("node")
                 ["identifiable"].reindex([str(n) for n in names]))
        values = [np.nan if pd.isna(v) else float(bool(v)) for v in flags]
        out[layer] = {
            "identifiable_fraction": float(np.nanmean(values)) if values else np.nan,
            "identifiable_nodes": ";".join("nan" if np.isnan(v) else str(int(v))
                                           for v in values),
            "jacobian_deficiency": int(diagnosis.deficiency),
            "eigenvalue_ratio": ratio,
        }
    return out


def _split_rows(nodes, columns, supervised):
    """Per layer: the mean of ``columns`` over the supervised and the unsupervised nodes."""
    is_supervised = nodes["node"].astype(str).isin(supervised)
    out = {}
    for layer, group in nodes.groupby("layer"):
        chosen = is_supervised[group.index]
        row = {}
        for target, column in columns.items():
            row[f"{target}_recovery_supervised"] = (
                float(group.loc[chosen, column].mean()) if chosen.any() else np.nan)
            row[f"{target}_recovery_unsupervised"] = (
                float(group.loc[~chosen, column].mean()) if (~chosen).any() else np.nan)
        row["n_supervised"] = int(chosen.sum())
        out[int(layer)] = row
    return out


_SPLIT_RECOVERY = {"weight": "weight_recovery", "activation": "activation_recovery"}
_SPLIT_CHANCE = {"weight": "weight_chance", "activation": "activation_chance"}


def _fit_student(cell, teacher, X, y, params, targets=None):
    """The trained student, its untrained start, its template, its fit time and its peers.

    Under the converged protocol a student started at random is the best
    (lowest :func:`training_objective`) of ``n_init`` fits with
    ``n_init=1`` and ``random_state + k`` -- exactly what the estimator's
    own ``n_init`` does (without a validation split restart ``k`` draws
    from seed ``random_state + k``) -- and the other fits are returned as
    its *peers*: students from other starts, which :func:`judge_student`
    compares with it instead of fitting new ones.
    """
    estimator = _ESTIMATORS[cell["task"]](teacher.mask, activation=cell["activation"], **params)
    untrained = clone(estimator).set_params(max_epochs=0).fit(X, y)
    start = time.perf_counter()
    n_init = int(params.get("n_init", 1))
    if cell["init"] == "teacher":
        student = teacher.to_estimator(**params).set_params(warm_start=True)
        _fit_quietly(student, X, y, targets)
        return student, untrained, estimator, time.perf_counter() - start, None
    if n_init == 1:
        _fit_quietly(estimator, X, y, targets)
        return estimator, untrained, estimator, time.perf_counter() - start, None
    fits = [_fit_quietly(clone(estimator).set_params(
        n_init=1, random_state=int(params["random_state"]) + k), X, y, targets)
        for k in range(n_init)]
    objectives = [training_objective(fit, X, y) for fit in fits]
    best = int(np.argmin(objectives))
    peers = fits[:best] + fits[best + 1:]
    return fits[best], untrained, estimator, time.perf_counter() - start, peers


def _fit_quietly(estimator, X, y, targets=None):
    """Fit without sklearn's ConvergenceWarning: the rows record ``converged`` instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if targets is None:
            return estimator.fit(X, y)
        return estimator.fit(X, y, pathway_targets=targets)


def _task_loss(estimator, teacher, X, y):
    """The task loss of an estimator on ``(X, y)`` (no penalties), and the teacher's."""
    fit = output_fit(estimator, teacher, X, y)
    return fit["student_loss"], fit["teacher_loss"]


def judge_student(student, teacher, X, y, X_test, params, *, untrained=None, targets=None,
                  n_restarts=N_RESTARTS, peers=None):
    """A trained student's convergence evidence, the controls its verdict needs, and the verdict.

    Reads :func:`convergence_evidence` off the student and its
    :func:`training_gap` on ``(X, y)``. A converged student above the
    teacher's level (:data:`TEACHER_LEVEL`) gets its control: a student
    started at the teacher (``teacher.to_estimator(**params)``, warm start)
    trained on the same data the same way. A converged student at the
    teacher's level gets ``n_restarts`` more students fitted from other
    starts (``random_state + 7919 k``, ``n_init=1``), or takes ``peers``,
    students already fitted from other starts; those that converge
    to the teacher's level too are scored against the teacher and against
    each other (:func:`restart_agreement`). Then :func:`cell_verdict`.

    Parameters
    ----------
    student : fitted BINN estimator
        Trained on ``(X, y)`` from ``params``.
    teacher : TeacherDataset
    X, y : the training data
    X_test : array-like
        Held-out samples for scoring the internals.
    params : dict
        The student's estimator parameters (not the architecture, which is
        the teacher's), with ``random_state``.
    untrained : fitted BINN estimator, default=None
        The untrained student (fitted for zero epochs) whose training loss
        is the start of the training gap; default one built from
        ``params``.
    targets : pandas.DataFrame, default=None
        ``pathway_targets`` the student was fitted with.
    n_restarts : int, default=N_RESTARTS
    peers : list of fitted BINN estimators, default=None
        Students fitted on ``(X, y)`` from other starts (the other ``n_init``
        fits of a converged student, see :func:`run_cell`); when given they
        are the restarts and ``n_restarts`` new ones are not fitted.

    Returns
    -------
    judged : dict
        ``converged``, ``n_iter``, ``final_rel_loss_change``, ``grad_norm``,
        ``train_loss``, ``teacher_train_loss``, ``train_gap``,
        ``teacher_start_train_gap`` (NaN when not run), ``n_restarts``,
        ``n_restarts_teacher_level`` and ``verdict``.
    agreement : pandas.DataFrame or None
        :func:`restart_agreement` of the teacher-level students, indexed by
        layer; None when no restarts ran.

    Examples
    --------
    >>> from sklearn_binn import BINNRegressor, TeacherDataset
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> teacher = TeacherDataset(make_pathway_mask(12, depth=1, random_state=0),
    ...                          random_state=0)
    >>> X, y = teacher.sample(100, random_state=0)
    >>> X_test, _ = teacher.sample(100, random_state=1)
    >>> params = {"max_epochs": 2, "random_state": 0}
    >>> import warnings
    >>> with warnings.catch_warnings():  # a 2-epoch budget: sklearn's ConvergenceWarning
    ...     warnings.simplefilter("ignore")
    ...     student = BINNRegressor(teacher.mask, **params).fit(X, y)
    >>> judged, agreement = judge_student(student, teacher, X, y, X_test, params)
    >>> judged["converged"], judged["verdict"], agreement is None
    (False, 'optimisation shortfall', True)
    """
    template = _ESTIMATORS[teacher.task](teacher.mask, activation=teacher.activation, **params)
    if untrained is None:
        untrained = clone(template).set_params(max_epochs=0).fit(X, y)
    start_loss = _task_loss(untrained, teacher, X, y)[0]
    evidence = convergence_evidence(student, X, y)
    loss, teacher_loss = _task_loss(student, teacher, X, y)
    gap = training_gap(loss, teacher_loss, start_loss)
    out = {**evidence, "train_loss": loss, "teacher_train_loss": teacher_loss, "train_gap": gap,
           "teacher_start_train_gap": np.nan, "n_restarts": 0, "n_restarts_teacher_level": 0}
    agreement = None
    teacher_start_gap = None
    if evidence["converged"] and gap > TEACHER_LEVEL:
        control = teacher.to_estimator(**params).set_params(warm_start=True)
        _fit_quietly(control, X, y, targets)
        teacher_start_gap = training_gap(_task_loss(control, teacher, X, y)[0], teacher_loss,
                                         start_loss)
        out["teacher_start_train_gap"] = teacher_start_gap
    elif evidence["converged"]:
        level = [student]
        if peers is None:
            peers = [_fit_quietly(clone(template).set_params(
                random_state=int(params.get("random_state") or 0) + 7919 * k, n_init=1),
                X, y, targets) for k in range(1, int(n_restarts) + 1)]
        for restart in peers:
            out["n_restarts"] += 1
            restart_gap = training_gap(_task_loss(restart, teacher, X, y)[0], teacher_loss,
                                       start_loss)
            if restart.converged_ and not restart_gap > TEACHER_LEVEL:
                level.append(restart)
        out["n_restarts_teacher_level"] = len(level) - 1
        agreement = restart_agreement(level, teacher, X_test).set_index("layer")
    if agreement is not None:
        internals = float(agreement[["weight_vs_teacher_min",
                                     "activation_vs_teacher_min"]].min().min())
    else:
        layers = recovery_report(student, teacher, X_test).layers
        internals = float(layers[["weight_recovery", "activation_recovery"]].min().min())
    out["verdict"] = cell_verdict(evidence["converged"], gap, internals, teacher_start_gap)
    return out, agreement


_AGREEMENT = ("weight_vs_teacher_min", "activation_vs_teacher_min", "weight_pairwise_min",
              "weight_pairwise_mean", "activation_pairwise_min", "activation_pairwise_mean")


def run_cell(cell, diagnose=False, rank=None):
    """Run one cell: build the mask, teacher and data, train the student, score all three.

    Parameters
    ----------
    cell : dict
        Any subset of :data:`CELL_DEFAULTS` (the rest take their defaults).
    diagnose : bool, default=False
        Also run :func:`~sklearn_binn.identifiability_diagnostic` on the
        training data at the teacher's parameters and at the trained
        student's (what a user without a teacher can compute), adding to the
        teacher and student rows ``identifiable_fraction`` (of the layer's
        nodes), ``identifiable_nodes`` (0/1 per node in the mask's order, as
        text), ``jacobian_deficiency`` and ``eigenvalue_ratio`` (smallest
        eigenvalue of the Gauss-Newton matrix beyond the symmetries over the
        largest: how weakly the parameters are pinned down).
    rank : str, default=None
        An importance method of :func:`~sklearn_binn.importance_recovery`
        (e.g. ``"integrated_gradients"``, ``"gradient_x_input"``): also score
        the student's pathway-importance ranking against the teacher's on
        the held-out samples, adding to the student rows ``rank_spearman``,
        ``rank_top_k_overlap`` (top 10), ``rank_top_fraction_overlap`` (top
        10 %) and ``rank_recovered`` per layer, and to the chance rows the
        same scores of ``n_chance_draws`` untrained students (teacher rows:
        NaN). ``None`` scores no ranking (no such columns).

    Returns
    -------
    list of dict
        One row per ``(reference, layer)``, ``reference`` in
        ``("teacher", "chance", "student")``, ``layer`` the pathway layer
        (0 = gene → pathway). Columns: ``n_nodes``, ``mean_inputs`` (mean
        inputs per node: a node with one input is trivially "recovered");
        ``weight_recovery``,
        ``activation_recovery`` (layer means), ``weight_recovery_sd``,
        ``activation_recovery_sd`` (chance rows: sd over the untrained
        students), ``weight_influence_spearman``,
        ``activation_influence_spearman`` (Spearman of node recovery with
        the teacher node's influence; NaN below 3 nodes),
        ``weight_frac_recovered``, ``activation_frac_recovered`` (fraction
        of the layer's nodes scoring at least 0.9; NaN for chance),
        ``weight_recovery_nodes``, ``activation_recovery_nodes`` (every
        node's score in the mask's order, as text: :func:`node_scores`);
        the output fit on
        the test sample: ``loss``, ``test_loss``, ``teacher_loss``,
        ``excess_loss``, ``r2_vs_teacher``, ``output_corr2`` (squared
        correlation of the raw output -- value, logit, log-risk -- with the
        teacher's noiseless output: the R² of the best affine map, blind to
        the output's scale), ``r2`` (regression),
        ``accuracy`` and ``auc`` (classification), ``cindex`` (survival),
        ``train_excess_loss`` (the same on the training sample); and per
        cell ``n_genes_used``, ``n_edges``, ``n_train_used``,
        ``samples_per_edge_used``, ``max_epochs_used``, ``epochs``,
        ``stopped_early``, ``fit_time_s`` (the student's fit),
        ``cell_time_s`` (the whole cell: data, fits, controls, restarts,
        scoring; wall clock); the student's convergence
        evidence and the cell's verdict (the same on every row of the
        cell): ``protocol``, ``converged``, ``n_iter``,
        ``final_rel_loss_change``, ``grad_norm``
        (:func:`convergence_evidence`), ``train_loss`` and
        ``teacher_train_loss`` (task loss on the training samples),
        ``train_gap`` (:func:`training_gap`), ``teacher_start_train_gap``
        (that of a student started at the teacher and trained the same
        way; run only when a converged student is above the teacher's
        level, else NaN), ``n_restarts`` and ``n_restarts_teacher_level``
        (students refitted from other starts, run only when a converged
        student reaches the teacher's level, and how many of them reached
        it too), ``verdict`` (:func:`cell_verdict`); on student rows
        ``restarts_weight_vs_teacher_min``,
        ``restarts_activation_vs_teacher_min``,
        ``restarts_weight_pairwise_min``, ``restarts_weight_pairwise_mean``,
        ``restarts_activation_pairwise_min``,
        ``restarts_activation_pairwise_mean`` (:func:`restart_agreement` of
        the teacher-level students; NaN where no restarts ran).

    Examples
    --------
    >>> rows = run_cell(make_cell(n_genes=12, depth=1, samples_per_edge=5.0,
    ...                           max_epochs=5, n_test=200, n_chance_draws=2))
    >>> [(r["reference"], r["layer"], round(r["weight_recovery"], 3))
    ...  for r in rows][0]
    ('teacher', 0, 1.0)
    """
    began = time.perf_counter()
    cell = make_cell(**cell)
    seeds = _seeds(cell["seed"])
    mask = build_mask(cell)
    teacher = build_teacher(cell, mask)
    n_train = _n_train(cell, mask)
    X, y = teacher.sample(n_train, random_state=seeds["train"])
    X_test, y_test = teacher.sample(cell["n_test"], random_state=seeds["test"])
    max_epochs = _max_epochs(cell, n_train)
    params = _student_params(cell, max_epochs, seeds["student"], teacher)
    supervised = supervised_nodes(cell, mask)
    targets = _pathway_targets(cell, teacher, X, supervised)

    student, untrained, template, fit_time, peers = _fit_student(cell, teacher, X, y, params,
                                                                 targets)
    reference = teacher.to_estimator()
    chance = chance_level(
        teacher, X_test, estimator=template, n_draws=cell["n_chance_draws"],
        random_state=seeds["chance"],
    )
    per_cell = {
        "n_genes_used": mask.n_features,
        "n_edges": mask.n_edges,
        "n_train_used": n_train,
        "samples_per_edge_used": n_train / mask.n_edges,
        "max_epochs_used": max_epochs,
        "epochs": len(student.history_),
        "stopped_early": len(student.history_) < max_epochs,
        "fit_time_s": fit_time,
    }
    judged, agreement = judge_student(student, teacher, X, y, X_test, params,
                                      untrained=untrained, targets=targets, peers=peers)
    per_cell.update(protocol=cell["protocol"], **judged)
    reports = {"teacher": recovery_report(reference, teacher, X_test),
               "student": recovery_report(student, teacher, X_test)}
    diagnoses = {}
    if diagnose:
        for name, estimator in (("teacher", reference), ("student", student)):
            diagnoses[name] = _diagnosis_rows(
                identifiability_diagnostic(estimator, X, random_state=seeds["chance"]), mask)
    ranks = {}
    if rank is not None:
        ranking = importance_recovery(student, teacher, X_test, method=rank, chance=True,
                                      n_chance_draws=cell["n_chance_draws"],
                                      random_state=seeds["chance"]).layers
        for name, suffix in (("student", ""), ("chance", "_chance")):
            ranks[name] = {int(k): {f"rank_{m}" if m != "rank_recovered" else m:
                                    float(ranking.loc[k, m + suffix]) for m in _RANKING}
                           for k in ranking.index}
        ranks["teacher"] = {k: dict.fromkeys(v, np.nan) for k, v in ranks["student"].items()}
    rows = []
    for name, estimator in (("teacher", reference), ("chance", untrained), ("student", student)):
        output = _output_metrics(estimator, teacher, X_test, y_test)
        output["train_excess_loss"] = output_fit(estimator, teacher, X, y)["excess_loss"]
        if name == "chance":
            nodes, columns = chance.nodes, _SPLIT_CHANCE
            layer_rows = _layer_rows(chance.layers, _CHANCE, mask, nodes, columns)
        else:
            nodes, columns = reports[name].nodes, _SPLIT_RECOVERY
            layer_rows = _layer_rows(reports[name].layers, _RECOVERY, mask, nodes, columns)
        split = _split_rows(nodes, columns, supervised) if supervised else {}
        diagnosis = diagnoses.get(name, {})
        for row in layer_rows:
            restarts = {f"restarts_{c}": (float(agreement.loc[row["layer"], c])
                                          if agreement is not None and name == "student"
                                          else np.nan) for c in _AGREEMENT}
            rows.append({"reference": name, **row, **split.get(row["layer"], {}),
                         **diagnosis.get(row["layer"], {}),
                         **ranks.get(name, {}).get(row["layer"], {}), **output,
                         **per_cell, **restarts})
    elapsed = time.perf_counter() - began
    for row in rows:
        row["cell_time_s"] = elapsed
    return rows


# the per-layer scores of importance_recovery that run_cell(rank=...) keeps
_RANKING = ("spearman", "top_k_overlap", "top_fraction_overlap", "rank_recovered")


# ------------------------------------------------------------------- tables
_OUTPUT_COLUMNS = ("output_corr2", "r2_vs_teacher", "excess_loss", "train_excess_loss", "r2",
                   "accuracy", "auc", "cindex")


def recovery_table(table, by=None):
    """One row per cell and layer, the three references side by side.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`run_cell` with their cells' key columns (a study's CSV).
    by : list of str, default=None
        The columns that identify a cell; default every key column present.

    Returns
    -------
    pandas.DataFrame
        ``by`` and ``layer``, then for ``weight`` and ``activation``:
        ``{target}_student``, ``{target}_chance``, ``{target}_chance_sd``,
        ``{target}_teacher``, ``{target}_above_chance`` (``(student -
        chance) / (1 - chance)``: 0 at chance, 1 at the teacher) and the
        student's ``{target}_influence_spearman`` and
        ``{target}_frac_recovered``; where the rows score the importance
        ranking (``run_cell(rank=...)``), ``rank_spearman``,
        ``rank_top_k_overlap``, ``rank_top_fraction_overlap`` and
        ``rank_recovered``, each as ``_student`` and ``_chance``; then the student's
        output fit (``output_corr2``, ``r2_vs_teacher``, ``excess_loss``, ...), the teacher's
        task metric (``teacher_r2``, ``teacher_accuracy``, ``teacher_auc``,
        ``teacher_cindex``: the ceiling), the cell columns ``n_edges``,
        ``n_train_used``, ``epochs``, ``fit_time_s`` and, where the rows
        have them, the student's convergence evidence, the verdict and the
        restarts' agreement (see :func:`run_cell`).

    Examples
    --------
    >>> rows = run_cell(make_cell(n_genes=12, depth=1, samples_per_edge=5.0,
    ...                           max_epochs=5, n_test=200, n_chance_draws=2))
    >>> frame = pd.DataFrame([{**make_cell(n_genes=12), **r} for r in rows])
    >>> wide = recovery_table(frame)
    >>> len(wide), float(wide["weight_teacher"].iloc[0])
    (1, 1.0)
    """
    table = _fill_constraints(table, only_present=True)
    by = [c for c in ALL_KEY_COLUMNS if c in table.columns] if by is None else list(by)
    keys = [*by, "layer"]
    for column in by:  # NaN keys (None in a cell) would vanish from a groupby
        if table[column].isna().any():
            table[column] = table[column].astype(object).where(table[column].notna(), "")
    part = {ref: table[table["reference"] == ref].set_index(keys) for ref in REFERENCES}
    student, chance, teacher = part["student"], part["chance"], part["teacher"]
    out = pd.DataFrame(index=student.index)
    for target in ("weight", "activation"):
        column = f"{target}_recovery"
        s, c = student[column], chance[column].reindex(out.index)
        out[f"{target}_student"] = s
        out[f"{target}_chance"] = c
        out[f"{target}_chance_sd"] = chance[f"{column}_sd"].reindex(out.index)
        out[f"{target}_teacher"] = teacher[column].reindex(out.index)
        out[f"{target}_above_chance"] = (s - c) / (1.0 - c).where(c < 1.0)
        out[f"{target}_influence_spearman"] = student[f"{target}_influence_spearman"]
        if f"{target}_frac_recovered" in student:
            out[f"{target}_frac_recovered"] = student[f"{target}_frac_recovered"]
    for score in _RANKING:
        column = score if score == "rank_recovered" else f"rank_{score}"
        if column in student:
            out[f"{column}_student"] = student[column]
            out[f"{column}_chance"] = chance[column].reindex(out.index)
    for column in _OUTPUT_COLUMNS:
        if column in student:
            out[column] = student[column]
    for column in ("r2", "accuracy", "auc", "cindex"):
        if column in teacher:
            out[f"teacher_{column}"] = teacher[column].reindex(out.index)
            out[f"chance_{column}"] = chance[column].reindex(out.index)
    for column in ("n_nodes", "mean_inputs", "n_edges", "n_train_used", "samples_per_edge_used",
                   "epochs", "stopped_early", "fit_time_s", "cell_time_s", *_JUDGED):
        if column in student:
            out[column] = student[column]
    return out.reset_index()


# the per-cell columns of the student's convergence and the cell's verdict
_JUDGED = ("converged", "n_iter", "final_rel_loss_change", "grad_norm", "train_gap",
           "teacher_start_train_gap", "n_restarts", "n_restarts_teacher_level", "verdict",
           "restarts_weight_vs_teacher_min", "restarts_activation_vs_teacher_min",
           "restarts_weight_pairwise_min", "restarts_weight_pairwise_mean",
           "restarts_activation_pairwise_min", "restarts_activation_pairwise_mean")


def task_metric(wide):
    """The headline output metric of each row of :func:`recovery_table`.

    Regression: R² on the noisy test targets; classification: ROC AUC;
    survival: Harrell's C-index. The teacher's value (the ceiling) is in
    ``teacher_metric``.

    Parameters
    ----------
    wide : pandas.DataFrame
        From :func:`recovery_table`.

    Returns
    -------
    pandas.DataFrame
        ``wide`` with ``metric``, ``metric_name``, ``teacher_metric`` and
        ``chance_metric`` added.

    Examples
    --------
    >>> wide = pd.DataFrame({"task": ["survival"], "r2": [np.nan], "auc": [np.nan],
    ...                      "cindex": [0.7], "teacher_r2": [np.nan],
    ...                      "teacher_auc": [np.nan], "teacher_cindex": [0.8],
    ...                      "chance_r2": [np.nan], "chance_auc": [np.nan],
    ...                      "chance_cindex": [0.5]})
    >>> task_metric(wide)[["metric_name", "metric", "teacher_metric"]].values.tolist()
    [['cindex', 0.7, 0.8]]
    """
    wide = wide.copy()
    name = wide["task"].map({"regression": "r2", "classification": "auc", "survival": "cindex"})
    wide["metric_name"] = name
    for prefix in ("", "teacher_", "chance_"):
        values = np.full(len(wide), np.nan)
        for metric in ("r2", "auc", "cindex"):
            chosen = (name == metric).to_numpy()
            if f"{prefix}{metric}" in wide:
                values[chosen] = wide.loc[chosen, f"{prefix}{metric}"].to_numpy(dtype=float)
        wide[f"{prefix}metric"] = values
    return wide


def _fill_constraints(frame, only_present=False):
    """A copy of ``frame`` whose missing or empty constraint values are the defaults.

    CSVs written before the constraint parameters existed lack their
    columns, and a CSV mixing old and new rows has them empty in the old
    rows: both mean the default (no constraint).
    """
    frame = frame.copy()
    for column in _LATE_COLUMNS:
        default = CELL_DEFAULTS[column]
        if column not in frame.columns:
            if not only_present:
                frame[column] = default
            continue
        values = frame[column].astype(object)
        empty = values.isna() | values.eq("")
        if empty.any():
            frame[column] = values.where(~empty, default)
    return frame


def key_text(frame):
    """Each row's cell key as one string, the same for cells and for rows read from a CSV.

    Parameters
    ----------
    frame : pandas.DataFrame
        With every column of :data:`KEY_COLUMNS` (cells as rows, or a
        study's CSV; missing values may be NaN, None or ""); the
        :data:`CONSTRAINT_COLUMNS` may be absent or empty (the default).

    Returns
    -------
    pandas.Series of str

    Examples
    --------
    >>> a = key_text(pd.DataFrame([make_cell(n_genes=40)]))
    >>> b = key_text(pd.DataFrame([{**make_cell(), "n_genes": 40.0, "overlap": np.nan}]))
    >>> bool(a[0] == b[0])
    True
    """
    return _fill_constraints(frame)[ALL_KEY_COLUMNS].astype(object).apply(
        lambda row: "|".join(key_value(v) for v in row), axis=1
    )


def select_cells(table, cells):
    """The rows of ``table`` that belong to ``cells`` (a CSV may hold other runs' cells).

    Parameters
    ----------
    table : pandas.DataFrame
        A study's CSV, read back.
    cells : list of dict
        Complete cells (:func:`make_cell`).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> table = pd.DataFrame([{**make_cell(seed=s), "value": s} for s in range(3)])
    >>> select_cells(table, [make_cell(seed=1)])["value"].tolist()
    [1]
    """
    if table.empty:
        return table
    wanted = set(key_text(pd.DataFrame(cells)))
    return table[key_text(table).isin(wanted).to_numpy()].reset_index(drop=True)


def cell_means(wide, by=None):
    """Average a :func:`recovery_table` over each cell's layers (each layer weighs the same).

    Parameters
    ----------
    wide : pandas.DataFrame
        From :func:`recovery_table` (optionally :func:`task_metric`).
    by : list of str, default=None
        The columns that identify a cell; default every key column present.

    Returns
    -------
    pandas.DataFrame
        One row per cell: the numeric columns averaged over layers, and
        ``n_layers``.

    Examples
    --------
    >>> wide = pd.DataFrame({"seed": [0, 0], "layer": [0, 1],
    ...                      "weight_student": [0.4, 0.8]})
    >>> cell_means(wide).to_dict("records")
    [{'seed': 0, 'weight_student': 0.6000000000000001, 'n_layers': 2}]
    """
    wide = _fill_constraints(wide, only_present=True)
    by = [c for c in ALL_KEY_COLUMNS if c in wide.columns] if by is None else list(by)
    values = [c for c in wide.columns
              if c not in by and c != "layer" and pd.api.types.is_numeric_dtype(wide[c])]
    grouped = wide.groupby(by, sort=False, dropna=False)
    out = grouped[values].mean()
    out["n_layers"] = grouped.size()
    return out.reset_index()
