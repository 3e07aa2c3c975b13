"""How much of a teacher BINN a student recovered: weights, activations, output.

A BINN's wiring removes the permutation symmetry of a dense network but
not all of them. A node whose activation is odd (``tanh``) can flip its
sign, a positive-homogeneous node (``relu``) can scale its incoming
weights by ``c > 0`` and its outgoing weights by ``1 / c``, a linear node
(``identity``) by any ``c != 0``, and a ``sigmoid`` node can flip its sign
while its parents' biases absorb ``sigmoid(-z) = 1 - sigmoid(z)``. Each
leaves the network's function unchanged, so the scores here are invariant
to exactly these per-node transformations and to nothing else (in
particular not to exchanging nodes).

Because a node's transformation changes its parents' incoming weights
entry by entry, a student is first *aligned* to the teacher layer by layer
from the genes up (:func:`align_to_teacher`), and only then are its
weights compared.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.metrics import log_loss, r2_score
from sklearn.utils import check_random_state
from sklearn.utils.validation import column_or_1d

from ._activations import REGISTRY
from ._cox import cox_partial_nll
from ._network import (
    align,
    as_network,
    binn_step,
    correlations,
    read_network,
    scored_depth,
    spearman,
    step_inputs,
    weight_scores,
)
from ._teacher import TeacherDataset, zero_epoch_fit

__all__ = [
    "Alignment",
    "IdentifiabilityScorer",
    "RecoveryReport",
    "align_to_teacher",
    "chance_level",
    "output_fit",
    "recovery_report",
]

Alignment = namedtuple("Alignment", ["weights", "biases", "transforms"])
Alignment.__doc__ = """A student transformed to match a teacher; see :func:`align_to_teacher`.

Attributes
----------
weights : list of scipy.sparse.csr_matrix
    The aligned student's weights in the layout of
    :attr:`TeacherDataset.weights`: the pathway layers, then the dense head
    and output layers (only the first of which is changed, by the top
    pathway layer's transformation).
biases : list of ndarray
    The aligned biases, in the same order.
transforms : list of ndarray
    Per aligned pathway layer, the factor applied to each node's incoming
    weights and bias: a sign (``tanh``, ``sigmoid``) or a scale (``relu``:
    positive, ``identity``: non-zero); its outgoing weights are divided by
    it.
"""


# ------------------------------------------------------------------ students
def _check_teacher(teacher):
    if not isinstance(teacher, TeacherDataset):
        raise TypeError(
            f"teacher must be a TeacherDataset; got {type(teacher).__name__}."
        )


# ----------------------------------------------------------------- alignment
def align_to_teacher(student, teacher, activation=None):
    """Canonicalise a student's per-node symmetries against a teacher.

    Layer by layer from the genes up, each pathway node of the student is
    transformed by the element of its symmetry group that brings its
    incoming weights (over its masked edges, after the transformations of
    the layer below have been applied to them) closest to the teacher's in
    least squares: a sign ``s = sign(w_s . w_t)`` for ``tanh`` and
    ``sigmoid``; a scale ``c = (w_s . w_t) / (w_s . w_s)`` for ``relu`` when
    that is positive and for ``identity`` when it is non-zero (otherwise the
    norm ratio). The node's incoming weights and bias are multiplied by it
    and its outgoing weights divided by it; a flipped ``sigmoid`` node moves
    its outgoing weights into its parents' biases. The aligned student
    computes exactly the same function. Nodes are never exchanged.

    Parameters
    ----------
    student : fitted BINN estimator, Pipeline ending in one, BINNModule or TeacherDataset
        Fitted estimators with batch norm are read with the batch norm
        folded into the weights.
    teacher : TeacherDataset, fitted BINN estimator or BINNModule
    activation : {"tanh", "relu", "sigmoid", "identity"}, default=None
        The activation whose symmetries are used; ``None`` takes the
        student's.

    Returns
    -------
    Alignment
        The aligned weights and biases and the per-node transformations of
        the layers both networks have (a shallower student is aligned on
        its layers).

    Raises
    ------
    ValueError
        If the student's layers are wired differently from the teacher's.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_binn import PathwayMask, TeacherDataset, align_to_teacher
    >>> teacher = TeacherDataset(PathwayMask.from_gene_sets({"P": ["A", "B"]}),
    ...                          random_state=0)
    >>> student = teacher.to_estimator()
    >>> module = student.module_
    >>> with torch.no_grad():  # flip the sign of the tanh node: the same function
    ...     _ = module.pathway_layers[0].weight.neg_(), module.pathway_layers[0].bias.neg_()
    ...     _ = module.output.weight.neg_()
    >>> alignment = align_to_teacher(student, teacher)
    >>> alignment.transforms
    [array([-1.])]
    >>> bool(np.allclose(alignment.weights[0].toarray(), teacher.weights[0].toarray()))
    True
    """
    student_net = as_network(student, "student")
    teacher_net = as_network(teacher, "teacher")
    activation = student_net.activation if activation is None else activation
    if activation not in REGISTRY:
        raise ValueError(
            f"activation must be one of {sorted(REGISTRY)} or None; got {activation!r}."
        )
    aligned, transforms, _ = align(student_net, teacher_net, activation)
    top = [sp.csr_matrix(W) for W, _ in aligned.top]
    return Alignment(
        aligned.weights + top, aligned.biases + [b for _, b in aligned.top], transforms
    )


# -------------------------------------------------------------------- scores
def _activation_scores(final, Xt, teacher_acts, depth, activation, pre_activation):
    student_acts = final.pathway_activations(Xt, pre_activation=pre_activation, as_frame=False)
    signed = REGISTRY[activation].signed_scores
    return [correlations(student_acts[k], teacher_acts[k], signed) for k in range(depth)]


def _influence(teacher_net, teacher_acts):
    """Per teacher node: norm of its outgoing weights (to every layer that
    reads it) times its activation sd."""
    norms = teacher_net.outgoing_sq_norms()
    return [np.sqrt(norms[k]) * teacher_acts[k].std(axis=0) for k in range(teacher_net.depth)]


def _student_scores(final, Xt, teacher_net, teacher_acts, targets, pre_activation):
    """Per-layer node scores of one student: {"weight": [...], "activation": [...]}."""
    student_net = read_network(final.module_)
    activation = student_net.activation
    scores = {}
    if "weight" in targets:
        aligned, _, depth = align(student_net, teacher_net, activation)
        scores["weight"] = weight_scores(aligned, teacher_net, depth)
    if "activation" in targets:
        depth = scored_depth(student_net, teacher_net)
        scores["activation"] = _activation_scores(
            final, Xt, teacher_acts, depth, activation, pre_activation
        )
    return scores


# -------------------------------------------------------------------- report
@dataclass(frozen=True)
class RecoveryReport:
    """Recovery of a teacher's weights and activations, per node and per layer.

    Returned by :func:`recovery_report` and :func:`chance_level`.

    Attributes
    ----------
    nodes : pandas.DataFrame
        One row per scored pathway node: ``layer`` (0 = the gene → pathway
        layer), ``node`` (its name), ``n_inputs``, ``weight_recovery``,
        ``activation_recovery``, ``influence`` (the teacher node's
        outgoing-weight norm times its activation sd on ``X``) and, with
        chance levels, ``weight_chance``, ``weight_chance_sd``,
        ``activation_chance``, ``activation_chance_sd`` (mean and sd over the
        untrained students).
    layers : pandas.DataFrame
        Indexed by ``layer``: ``n_nodes``, the mean of every node column,
        the Spearman correlation of each recovery with influence across the
        layer's nodes (NaN below 3 nodes or for constant values) and, with
        chance levels, the sd over untrained students of the layer means.
    summary : pandas.Series
        The mean over layers of the layer means (each layer weighs the
        same, whatever its size), and the chance levels likewise.
    """

    nodes: pd.DataFrame
    layers: pd.DataFrame
    summary: pd.Series

    def __repr__(self):
        summary = {k: round(float(v), 4) for k, v in self.summary.items()}
        return f"RecoveryReport(summary={summary})\n{self.layers.to_string()}"


def _node_frame(teacher, scores, influence):
    depth = len(next(iter(scores.values())))
    mask_layers = teacher.mask.layers
    frames = []
    for k in range(depth):
        frame = pd.DataFrame({
            "layer": k,
            "node": teacher.mask.node_names[k],
            "n_inputs": np.diff(mask_layers[k].tocsc().indptr),
        })
        for name, per_layer in scores.items():
            frame[name] = per_layer[k]
        if influence is not None:
            frame["influence"] = influence[k]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _layer_frame(nodes):
    value_columns = [c for c in nodes.columns if c not in ("layer", "node", "n_inputs")]
    layers = nodes.groupby("layer")[value_columns].mean()
    layers.insert(0, "n_nodes", nodes.groupby("layer").size())
    if "influence" in nodes:
        for name in ("weight_recovery", "activation_recovery"):
            layers[f"{name.split('_')[0]}_influence_spearman"] = [
                spearman(group["influence"].to_numpy(), group[name].to_numpy())
                for _, group in nodes.groupby("layer")
            ]
    return layers


def _report(teacher, scores, influence):
    named = {f"{k}_recovery": v for k, v in scores.items()}
    nodes = _node_frame(teacher, named, influence)
    layers = _layer_frame(nodes)
    summary = layers[list(named)].mean()
    return RecoveryReport(nodes, layers, summary)


def _chance_report(teacher, X, pre, final, n_draws, random_state, pre_activation):
    """Recovery of ``n_draws`` freshly initialised, untrained copies of ``final``."""
    seeds = check_random_state(random_state).randint(np.iinfo(np.int32).max, size=n_draws)
    template = clone(final).set_params(mask=final.mask_, depth=None)
    y_dummy = teacher._dummy_data()[1]
    X_dummy = np.zeros((len(y_dummy), final.mask_.n_features))
    Xt = step_inputs(pre, X)
    if isinstance(Xt, pd.DataFrame):  # the untrained copies are fitted on arrays
        names = getattr(final, "feature_names_in_", None)
        Xt = (Xt[list(names)] if names is not None else Xt).to_numpy()
    teacher_net = read_network(teacher.module)
    teacher_acts = teacher.activations(X, pre_activation)
    draws = []
    for seed in seeds:
        untrained = zero_epoch_fit(template.set_params(random_state=int(seed)), X_dummy, y_dummy)
        scores = _student_scores(
            untrained, Xt, teacher_net, teacher_acts,
            ("weight", "activation"), pre_activation,
        )
        draws.append(_report(teacher, scores, None))
    nodes = draws[0].nodes[["layer", "node", "n_inputs"]].copy()
    layers = draws[0].layers[["n_nodes"]].copy()
    summary = {}
    for name in ("weight", "activation"):
        column = f"{name}_recovery"
        per_node = np.stack([d.nodes[column].to_numpy() for d in draws])
        per_layer = np.stack([d.layers[column].to_numpy() for d in draws])
        overall = np.array([d.summary[column] for d in draws])
        nodes[f"{name}_chance"], nodes[f"{name}_chance_sd"] = per_node.mean(0), per_node.std(0)
        layers[f"{name}_chance"], layers[f"{name}_chance_sd"] = per_layer.mean(0), per_layer.std(0)
        summary[f"{name}_chance"], summary[f"{name}_chance_sd"] = overall.mean(), overall.std()
    return RecoveryReport(nodes, layers, pd.Series(summary))


def recovery_report(student, teacher, X, *, pre_activation=False, chance=False,
                    n_chance_draws=10, random_state=None):
    """Per-node and per-layer recovery of a teacher's weights and activations.

    **Weight recovery** of a pathway node is the cosine between the
    student's incoming weight vector, over the node's masked edges and
    after :func:`align_to_teacher`, and the teacher's. For ``tanh``,
    ``sigmoid`` and ``identity`` students the alignment makes it ``|cos|``;
    for ``relu`` (only positive scales are symmetries) it keeps its sign, and
    a negative value marks a mirrored node. Biases are aligned but not
    scored. **Activation recovery** is the Pearson correlation across the
    samples of ``X`` between the student's and the teacher's activations of
    the node: ``|r|`` for ``tanh``, ``sigmoid`` and ``identity``, signed
    ``r`` for ``relu``. A teacher node whose activation is constant on ``X``
    (a dead node: no pattern to recover) gets NaN and is left out of the
    layer and summary means; a constant student activation against a varying
    teacher one scores 0. Both are invariant to exactly the student's
    per-node symmetries, and equal 1.0 for the teacher scored against itself
    (``teacher.to_estimator()``), dead nodes left out.
    Only the pathway layers both networks have are scored, so a student
    of smaller ``depth`` is scored on its layers.

    Parameters
    ----------
    student : fitted BINN estimator or Pipeline ending in one
        ``X`` passes through the pipeline's earlier steps for the student;
        the teacher sees ``X`` as given.
    teacher : TeacherDataset
    X : array-like of shape (n_samples, n_genes)
        Samples for the activations and the influence, e.g. held-out data
        drawn from the teacher.
    pre_activation : bool, default=False
        Compare pre-activations ``W x + b`` instead of activations.
    chance : bool, default=False
        Also score ``n_chance_draws`` freshly initialised, untrained copies
        of the student (its own initialisation, nothing fitted) and report
        their mean and sd: the chance level.
    n_chance_draws : int, default=10
    random_state : int, RandomState or None, default=None
        Seeds the chance draws.

    Returns
    -------
    RecoveryReport
        ``.nodes`` per node, ``.layers`` per layer, ``.summary`` overall.

    See Also
    --------
    IdentifiabilityScorer, chance_level, output_fit

    Examples
    --------
    >>> from sklearn_binn import PathwayMask, TeacherDataset, recovery_report
    >>> mask = PathwayMask([[[1, 0], [1, 1], [0, 1], [0, 1]], [[1], [1]]])
    >>> teacher = TeacherDataset(mask, random_state=0)
    >>> X, _ = teacher.sample(200, random_state=1)
    >>> report = recovery_report(teacher.to_estimator(), teacher, X)
    >>> report.summary
    weight_recovery        1.0
    activation_recovery    1.0
    dtype: float64
    >>> list(report.nodes.columns)
    ['layer', 'node', 'n_inputs', 'weight_recovery', 'activation_recovery', 'influence']
    """
    _check_teacher(teacher)
    pre, final = binn_step(student)
    teacher_net = read_network(teacher.module)
    teacher_acts = teacher.activations(X, pre_activation)
    post_acts = teacher_acts if not pre_activation else teacher.activations(X)
    scores = _student_scores(
        final, step_inputs(pre, X), teacher_net, teacher_acts,
        ("weight", "activation"), pre_activation,
    )
    depth = len(scores["weight"])
    report = _report(teacher, scores, _influence(teacher_net, post_acts)[:depth])
    if not chance:
        return report
    _check_draws(n_chance_draws)
    base = _chance_report(teacher, X, pre, final, n_chance_draws, random_state, pre_activation)
    chance_columns = [c for c in base.nodes.columns if "chance" in c]
    nodes = report.nodes.copy()
    nodes[chance_columns] = base.nodes[chance_columns].to_numpy()
    layers = report.layers.join(base.layers[chance_columns])
    return RecoveryReport(nodes, layers, pd.concat([report.summary, base.summary]))


def _check_draws(n_draws):
    if isinstance(n_draws, bool) or not isinstance(n_draws, Integral) or n_draws < 1:
        raise ValueError(f"The number of chance draws must be a positive int; got {n_draws!r}.")


def chance_level(teacher, X, *, estimator=None, n_draws=10, pre_activation=False,
                 random_state=None):
    """Recovery scores of freshly initialised, untrained students: the chance level.

    Each draw is the student estimator initialised by its own ``fit`` with
    zero epochs (its own initialisation, a new ``random_state``, nothing
    trained) and scored as :func:`recovery_report` scores a student.

    Parameters
    ----------
    teacher : TeacherDataset
    X : array-like of shape (n_samples, n_genes)
        Samples for the activation scores.
    estimator : BINN estimator or Pipeline ending in one, default=None
        The student whose initialisation is drawn (its parameters, e.g.
        ``depth`` or ``activation``; a fitted Pipeline's earlier steps
        transform ``X``). ``None``: the teacher's architecture
        (``teacher.to_estimator()``'s parameters).
    n_draws : int, default=10
    pre_activation : bool, default=False
    random_state : int, RandomState or None, default=None
        Seeds the draws.

    Returns
    -------
    RecoveryReport
        With columns ``weight_chance``, ``weight_chance_sd``,
        ``activation_chance``, ``activation_chance_sd`` (mean and sd over
        the draws).

    Examples
    --------
    >>> from sklearn_binn import PathwayMask, TeacherDataset, chance_level
    >>> mask = PathwayMask([[[1, 0], [1, 1], [0, 1], [0, 1]], [[1], [1]]])
    >>> teacher = TeacherDataset(mask, random_state=0)
    >>> X, _ = teacher.sample(200, random_state=1)
    >>> chance = chance_level(teacher, X, n_draws=5, random_state=0)
    >>> list(chance.summary.index)
    ['weight_chance', 'weight_chance_sd', 'activation_chance', 'activation_chance_sd']
    """
    _check_teacher(teacher)
    _check_draws(n_draws)
    if estimator is None:
        pre, final = None, teacher.to_estimator()
    else:
        pre, final = binn_step(estimator, fitted=False)
        if not final.__sklearn_is_fitted__():
            if pre is not None:
                raise ValueError(
                    "chance_level needs a fitted Pipeline (its earlier steps transform "
                    "X) or a bare BINN estimator; got an unfitted Pipeline."
                )
            final = zero_epoch_fit(estimator, *teacher._dummy_data())
    return _chance_report(teacher, X, pre, final, n_draws, random_state, pre_activation)


# ------------------------------------------------------------------- scorer
class IdentifiabilityScorer:
    """Score how well a fitted student recovers a teacher's weights or activations.

    An sklearn scorer: ``scorer(estimator, X, y)`` returns a float, greater
    is better, 1.0 is perfect recovery (the teacher scores exactly 1.0
    against itself). It is the mean over the scored pathway layers of the
    per-layer mean node score of :func:`recovery_report` (or one layer's
    mean), so it works in ``cross_validate(scoring={...})``,
    ``GridSearchCV(scoring={...}, refit=...)`` and ``check_scoring``; ``y``
    is ignored. A Pipeline is unwrapped to its final BINN step and ``X``
    passed through the steps before it.

    Parameters
    ----------
    teacher : TeacherDataset
        The teacher that generated the data.
    target : {"weights", "activations"}, default="weights"
        Score the aligned incoming-weight cosines, or the activation
        correlations on the ``X`` given to the scorer.
    layer : int, default=None
        Score only this pathway layer (0 = gene → pathway); ``None``
        averages the layers the student has (a student of smaller ``depth``
        is scored on its own layers).
    pre_activation : bool, default=False
        With ``target="activations"``, compare pre-activations.

    See Also
    --------
    recovery_report : the per-node scores behind this number.

    Examples
    --------
    >>> from sklearn.model_selection import cross_validate
    >>> from sklearn_binn import (BINNRegressor, IdentifiabilityScorer, PathwayMask,
    ...                           TeacherDataset)
    >>> mask = PathwayMask([[[1, 0], [1, 1], [0, 1], [0, 1]], [[1], [1]]])
    >>> teacher = TeacherDataset(mask, random_state=0)
    >>> X, y = teacher.sample(200, random_state=1)
    >>> IdentifiabilityScorer(teacher)(teacher.to_estimator(), X, y)
    1.0
    >>> scoring = {"r2": "r2", "weights": IdentifiabilityScorer(teacher),
    ...            "activations": IdentifiabilityScorer(teacher, "activations")}
    >>> cv = cross_validate(BINNRegressor(mask, max_epochs=5, random_state=0),
    ...                     X, y, cv=2, scoring=scoring)
    >>> sorted(k for k in cv if k.startswith("test_"))
    ['test_activations', 'test_r2', 'test_weights']
    """

    def __init__(self, teacher, target="weights", *, layer=None, pre_activation=False):
        _check_teacher(teacher)
        if target not in ("weights", "activations"):
            raise ValueError(
                f"target must be 'weights' or 'activations'; got {target!r}."
            )
        if layer is not None and (
            isinstance(layer, bool) or not isinstance(layer, Integral)
            or not 0 <= layer < teacher.mask.depth
        ):
            raise ValueError(
                f"layer must be None or an int between 0 and {teacher.mask.depth - 1} "
                f"(the teacher's pathway layers); got {layer!r}."
            )
        self.teacher = teacher
        self.target = target
        self.layer = layer
        self.pre_activation = pre_activation

    def __call__(self, estimator, X, y=None, **kwargs):
        """The score of ``estimator`` (a fitted student) on ``X``.

        Parameters
        ----------
        estimator : fitted BINN estimator or Pipeline ending in one
        X : array-like of shape (n_samples, n_genes)
        y : ignored
        **kwargs : ignored
            Metadata that scikit-learn may route to scorers.

        Returns
        -------
        float
        """
        pre, final = binn_step(estimator)
        teacher_net = read_network(self.teacher.module)
        name = "weight" if self.target == "weights" else "activation"
        teacher_acts = (
            self.teacher.activations(X, self.pre_activation) if name == "activation" else None
        )
        scores = _student_scores(
            final, step_inputs(pre, X) if name == "activation" else None,
            teacher_net, teacher_acts, (name,), self.pre_activation,
        )[name]
        if self.layer is None:
            # a node the teacher leaves constant on X scores NaN and is left
            # out, as in recovery_report
            return float(np.mean([np.nanmean(layer) for layer in scores]))
        if self.layer >= len(scores):
            raise ValueError(
                f"IdentifiabilityScorer(layer={self.layer}) cannot score a student "
                f"with {len(scores)} pathway layer(s); use layer=None or a layer "
                f"below {len(scores)}."
            )
        return float(np.nanmean(scores[self.layer]))

    def __repr__(self):
        extra = "" if self.layer is None else f", layer={self.layer}"
        extra += ", pre_activation=True" if self.pre_activation else ""
        return f"IdentifiabilityScorer({self.teacher!r}, target={self.target!r}{extra})"


# --------------------------------------------------------------- output fit
def _cox_nll(log_risk, y):
    """The negative Cox partial log-likelihood per event (Efron ties), as BINNSurvival trains."""
    event_field, time_field = y.dtype.names
    return float(cox_partial_nll(
        torch.as_tensor(np.asarray(log_risk, dtype=np.float64)),
        torch.as_tensor(np.ascontiguousarray(y[time_field], dtype=np.float64)),
        torch.as_tensor(np.ascontiguousarray(y[event_field], dtype=bool)),
        ties="efron", reduction="mean",
    ))


def output_fit(student, teacher, X, y):
    """How well a student fits the teacher's output, with the teacher as the floor.

    AUC and the C-index saturate long before the internals are learned;
    these measures keep resolving. The student's loss on ``(X, y)`` is
    compared with the teacher's own loss on the same data (the best any
    model can do in expectation), and the student's raw output with the
    teacher's noiseless output.

    Parameters
    ----------
    student : fitted BINN estimator or Pipeline ending in one
    teacher : TeacherDataset
    X : array-like of shape (n_samples, n_genes)
        Held-out samples, e.g. ``teacher.sample(n, random_state=...)``.
    y : array-like
        Their targets, as :meth:`TeacherDataset.sample` returns them.

    Returns
    -------
    dict
        ``loss``: the loss used — ``"mse"`` (regression), ``"log_loss"``
        (classification), ``"cox_nll"`` (survival: the negative Cox partial
        log-likelihood per event, Efron ties, the loss BINNSurvival trains
        on);
        ``student_loss``, ``teacher_loss``, ``excess_loss`` (their
        difference: 0 is the floor, negative means fitting noise of this
        sample); ``r2_vs_teacher``: R² of the student's output against the
        teacher's noiseless output — the value (regression), the logit
        (binary), the row-centred logits (multiclass; softmax ignores a
        shift), the centred log-risk (survival; the baseline absorbs a
        shift).

    Examples
    --------
    >>> from sklearn_binn import PathwayMask, TeacherDataset, output_fit
    >>> teacher = TeacherDataset(PathwayMask.from_gene_sets({"P": ["A", "B"]}),
    ...                          noise=0.5, random_state=0)
    >>> X, y = teacher.sample(1000, random_state=1)
    >>> fit = output_fit(teacher.to_estimator(), teacher, X, y)
    >>> fit["excess_loss"], fit["r2_vs_teacher"]
    (0.0, 1.0)
    """
    _check_teacher(teacher)
    binn_step(student)
    if teacher.task == "regression":
        y = column_or_1d(np.asarray(y, dtype=np.float64))
        s, t = student.predict(X), teacher.predict(X)
        losses = np.mean((y - s) ** 2), np.mean((y - t) ** 2)
        name = "mse"
    elif teacher.task == "classification":
        labels = np.arange(teacher.n_classes)
        classes = np.asarray(binn_step(student)[1].classes_)
        if not np.array_equal(classes, labels):
            raise ValueError(
                f"The student's classes {classes.tolist()} are not the teacher's "
                f"{labels.tolist()}; fit it on labels from teacher.sample."
            )
        losses = (
            log_loss(y, student.predict_proba(X), labels=labels),
            log_loss(y, teacher.predict_proba(X), labels=labels),
        )
        s, t = student.decision_function(X), teacher.predict(X)
        if s.ndim == 2:
            s, t = s - s.mean(axis=1, keepdims=True), t - t.mean(axis=1, keepdims=True)
        name = "log_loss"
    else:
        s, t = student.predict(X), teacher.predict(X)
        losses = _cox_nll(s, y), _cox_nll(t, y)
        s, t = s - s.mean(), t - t.mean()
        name = "cox_nll"
    student_loss, teacher_loss = float(losses[0]), float(losses[1])
    return {
        "loss": name,
        "student_loss": student_loss,
        "teacher_loss": teacher_loss,
        "excess_loss": student_loss - teacher_loss,
        "r2_vs_teacher": float(r2_score(np.ravel(t), np.ravel(s))),
    }
