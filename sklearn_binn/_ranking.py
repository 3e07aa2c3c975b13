"""What users read: does a student rank the pathways as its teacher does?

People do not read a BINN's raw weights; they read pathway importances
(:func:`node_importance`: integrated gradients, DeepLIFT, gradient × input).
:func:`importance_recovery` scores a student's importance *ranking* of the
pathway nodes against the teacher's own, per layer, beside the same scores
of untrained students (chance).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils import check_random_state

from ._attribution import ATTRIBUTION_METHODS, node_importance
from ._network import binn_step, spearman, step_inputs
from ._teacher import TeacherDataset, zero_epoch_fit

__all__ = ["ImportanceRecovery", "importance_recovery", "ranking_scores"]

_SCORES = ("spearman", "top_k_overlap", "top_fraction_overlap", "rank_recovered")


def _ranks(values):
    """1 = most important; ties broken by node order (stable)."""
    order = np.argsort(-np.asarray(values, dtype=np.float64), kind="stable")
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def _top(values, k):
    return set(np.argsort(-np.asarray(values, dtype=np.float64), kind="stable")[:k].tolist())


def ranking_scores(student, teacher, *, top_k=10, top_fraction=0.1, rank_tolerance=0.1):
    """Agreement of two importance vectors over the same nodes.

    Returns ``(layer scores, per-node rank_recovered)``: the Spearman
    correlation, the share of the teacher's top ``min(top_k, n)`` nodes
    that are in the student's, the same for the top ``ceil(top_fraction *
    n)``, and the share of nodes whose rank is within
    ``max(1, floor(rank_tolerance * n))`` of the teacher's.
    """
    student, teacher = np.asarray(student, float), np.asarray(teacher, float)
    n = len(teacher)
    k = min(top_k, n)
    k_fraction = max(1, math.ceil(top_fraction * n))
    tolerance = max(1, math.floor(rank_tolerance * n))
    recovered = np.abs(_ranks(student) - _ranks(teacher)) <= tolerance
    return {
        "spearman": spearman(student, teacher),
        "top_k_overlap": len(_top(student, k) & _top(teacher, k)) / k,
        "top_fraction_overlap": len(_top(student, k_fraction) & _top(teacher, k_fraction))
        / k_fraction,
        "rank_recovered": float(recovered.mean()),
    }, recovered


@dataclass(frozen=True)
class ImportanceRecovery:
    """How well a student ranks the pathways as its teacher does.

    Returned by :func:`importance_recovery`.

    Attributes
    ----------
    nodes : pandas.DataFrame
        One row per pathway node: ``layer``, ``node``,
        ``teacher_importance``, ``student_importance`` (mean absolute
        attribution), ``teacher_rank``, ``student_rank`` (1 = most important
        in its layer), ``rank_recovered`` (the student's rank is within the
        tolerance of the teacher's) and, with chance,
        ``rank_recovered_chance`` (the share of untrained students for which
        it is).
    layers : pandas.DataFrame
        Indexed by ``layer``: ``n_nodes``, ``top_k``, ``top_fraction_k``
        (the sizes of the two top sets), ``spearman`` (of the importance
        vectors), ``top_k_overlap`` and ``top_fraction_overlap`` (share of
        the teacher's top set that is in the student's), ``rank_recovered``
        (share of nodes whose rank is recovered) and, with chance, each
        score's mean and sd over the untrained students
        (``spearman_chance``, ``spearman_chance_sd``, ...).
    summary : pandas.Series
        The mean over layers of the layer scores (and chance levels).
    method : str
        The attribution method.

    Examples
    --------
    >>> from sklearn_binn import TeacherDataset, importance_recovery
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> teacher = TeacherDataset(make_pathway_mask(60, depth=1, random_state=0),
    ...                          random_state=0)
    >>> X, _ = teacher.sample(100, random_state=1)
    >>> result = importance_recovery(teacher.to_estimator(), teacher, X,
    ...                              method="gradient_x_input")
    >>> result.summary["spearman"], result.summary["top_k_overlap"]
    (np.float64(1.0), np.float64(1.0))
    """

    nodes: pd.DataFrame
    layers: pd.DataFrame
    summary: pd.Series
    method: str

    def __repr__(self):
        summary = {k: round(float(v), 4) for k, v in self.summary.items()}
        return f"ImportanceRecovery(method={self.method!r}, summary={summary})"


def _check_options(method, top_k, top_fraction, rank_tolerance, n_chance_draws):
    if method not in ATTRIBUTION_METHODS:
        raise ValueError(f"method must be one of {list(ATTRIBUTION_METHODS)}; got {method!r}.")
    if isinstance(top_k, bool) or not isinstance(top_k, Integral) or top_k < 1:
        raise ValueError(f"top_k must be a positive int; got {top_k!r}.")
    for name, value in (("top_fraction", top_fraction), ("rank_tolerance", rank_tolerance)):
        if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value <= 1:
            raise ValueError(f"{name} must be a fraction in (0, 1]; got {value!r}.")
    if isinstance(n_chance_draws, bool) or not isinstance(n_chance_draws, Integral) or (
        n_chance_draws < 1
    ):
        raise ValueError(f"n_chance_draws must be a positive int; got {n_chance_draws!r}.")


def _importances(estimator, X, method, n_steps):
    return [s.to_numpy() for s in node_importance(estimator, X, method=method, n_steps=n_steps)]


def untrained_students(student, teacher, n_draws, random_state):
    """``n_draws`` copies of the student's final BINN step, initialised and not trained."""
    _, final = binn_step(student)
    seeds = check_random_state(random_state).randint(np.iinfo(np.int32).max, size=n_draws)
    template = clone(final).set_params(mask=final.mask_, depth=None)
    y_dummy = teacher._dummy_data()[1]
    X_dummy = np.zeros((len(y_dummy), final.mask_.n_features))
    return [
        zero_epoch_fit(template.set_params(random_state=int(seed)), X_dummy, y_dummy)
        for seed in seeds
    ]


def importance_recovery(student, teacher, X, *, method="integrated_gradients", top_k=10,
                        top_fraction=0.1, rank_tolerance=0.1, chance=False,
                        n_chance_draws=10, random_state=None, n_steps=50):
    """Score a student's pathway-importance ranking against its teacher's.

    Each pathway node's importance is its :func:`node_importance` (the mean
    absolute attribution over ``X``) in the student and in the teacher
    (:meth:`TeacherDataset.to_estimator`, the teacher's exact network).
    These importances are invariant to the per-node symmetries (a flipped
    ``tanh`` node, a rescaled ``relu`` node), so no alignment is needed.
    Per pathway layer:

    - ``spearman``: Spearman correlation of the two importance vectors;
    - ``top_k_overlap``: the share of the teacher's ``min(top_k, n)`` most
      important nodes that are among the student's as many;
    - ``top_fraction_overlap``: the same for the top ``ceil(top_fraction *
      n)`` nodes (top 10 % by default);
    - ``rank_recovered``: the share of nodes whose rank in the student is
      within ``max(1, floor(rank_tolerance * n))`` places of their rank in
      the teacher (per node in ``.nodes``).

    With ``chance=True`` the same scores of ``n_chance_draws`` untrained
    students (the student's own initialisation, nothing fitted) stand
    beside them. Nodes are matched by name, so a student on a misspecified
    mask (same nodes, other edges; see :func:`perturb_mask`) is scored too.

    Parameters
    ----------
    student : fitted BINN estimator or Pipeline ending in one
    teacher : TeacherDataset or fitted BINN estimator
        The reference ranking; an estimator (e.g. another refit) serves
        without ``chance``.
    X : array-like of shape (n_samples, n_genes)
        The samples over which attributions are averaged (held-out teacher
        samples); the teacher sees ``X`` as given, a Pipeline student
        through its earlier steps.
    method : {"integrated_gradients", "deeplift", "gradient_x_input", "weight", \
"activation_variance"}, default="integrated_gradients"
    top_k : int, default=10
    top_fraction : float, default=0.1
    rank_tolerance : float, default=0.1
    chance : bool, default=False
        Also score untrained students (needs a TeacherDataset).
    n_chance_draws : int, default=10
    random_state : int, RandomState or None, default=None
        Seeds the chance draws.
    n_steps : int, default=50
        Integration steps of integrated gradients.

    Returns
    -------
    ImportanceRecovery
        ``.nodes``, ``.layers``, ``.summary``.

    See Also
    --------
    node_importance, recovery_report, stability_report

    Examples
    --------
    >>> from sklearn_binn import BINNRegressor, TeacherDataset, importance_recovery
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(60, depth=1, random_state=0)
    >>> teacher = TeacherDataset(mask, random_state=0)
    >>> X, y = teacher.sample(300, random_state=1)
    >>> student = BINNRegressor(mask, lr=0.05, random_state=0).fit(X, y)
    >>> result = importance_recovery(student, teacher, X, method="deeplift",
    ...                              chance=True, n_chance_draws=3, random_state=0)
    >>> list(result.layers.columns[:5])
    ['n_nodes', 'top_k', 'top_fraction_k', 'spearman', 'top_k_overlap']
    """
    _check_options(method, top_k, top_fraction, rank_tolerance, n_chance_draws)
    pre, final = binn_step(student)
    if isinstance(teacher, TeacherDataset):
        reference = teacher.to_estimator()
    else:
        if chance:
            raise ValueError(
                "chance=True needs a TeacherDataset as teacher (its untrained students "
                "are fitted on its data layout); pass chance=False or the teacher."
            )
        binn_step(teacher, needs="teacher must be a TeacherDataset or")
        reference = teacher
    _, ref_final = binn_step(reference)
    depth = min(final.mask_.depth, ref_final.mask_.depth)
    names = []
    for k in range(depth):
        mine, theirs = list(final.mask_.node_names[k]), list(ref_final.mask_.node_names[k])
        if sorted(mine) != sorted(theirs):
            raise ValueError(
                f"The student's pathway layer {k} has other nodes than the teacher's; "
                "importance rankings compare the same nodes."
            )
        names.append((theirs, [mine.index(n) for n in theirs]))
    options = {"top_k": top_k, "top_fraction": top_fraction, "rank_tolerance": rank_tolerance}
    t_imp = _importances(reference, X, method, n_steps)
    s_imp = _importances(student, X, method, n_steps)
    frames, layer_rows = [], []
    for k in range(depth):
        node_names, order = names[k]
        t, s = t_imp[k], s_imp[k][order]
        scores, recovered = ranking_scores(s, t, **options)
        n = len(t)
        frames.append(pd.DataFrame({
            "layer": k, "node": node_names, "teacher_importance": t, "student_importance": s,
            "teacher_rank": _ranks(t), "student_rank": _ranks(s), "rank_recovered": recovered,
        }))
        layer_rows.append({
            "layer": k, "n_nodes": n, "top_k": min(top_k, n),
            "top_fraction_k": max(1, math.ceil(top_fraction * n)), **scores,
        })
    nodes = pd.concat(frames, ignore_index=True)
    layers = pd.DataFrame(layer_rows).set_index("layer")
    if chance:
        Xt = step_inputs(pre, X)
        if isinstance(Xt, pd.DataFrame):
            names_in = getattr(final, "feature_names_in_", None)
            Xt = (Xt[list(names_in)] if names_in is not None else Xt).to_numpy()
        draws, per_node = [], []
        for untrained in untrained_students(student, teacher, n_chance_draws, random_state):
            u_imp = _importances(untrained, Xt, method, n_steps)
            row, node_flags = [], []
            for k in range(depth):
                scores, recovered = ranking_scores(u_imp[k][names[k][1]], t_imp[k], **options)
                row.append(scores)
                node_flags.append(recovered)
            draws.append(row)
            per_node.append(np.concatenate(node_flags))
        nodes["rank_recovered_chance"] = np.mean(per_node, axis=0)
        for score in _SCORES:
            values = np.array([[d[k][score] for k in range(depth)] for d in draws])
            with warnings.catch_warnings():  # a layer of < 3 nodes has no Spearman
                warnings.simplefilter("ignore", RuntimeWarning)
                layers[f"{score}_chance"] = np.nanmean(values, axis=0)
                layers[f"{score}_chance_sd"] = np.nanstd(values, axis=0)
    summary = layers.drop(columns=["n_nodes", "top_k", "top_fraction_k"]).mean()
    return ImportanceRecovery(nodes, layers, summary, method)
