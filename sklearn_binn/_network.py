"""Reading a fitted BINN as numbers: its parameters, its alignment to another, its agreement.

What the recovery scorer, the stability audit and the published study's
metrics share: the BINN step of a pipeline (:func:`binn_step`), a network's
parameters as numpy with batch norm folded in (:func:`read_network`), the
per-node alignment of one network to another under the activation's
symmetries (:func:`align`) and the per-node agreement measures
(:func:`weight_scores`, :func:`correlations`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from scipy.stats import spearmanr
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._activations import get_activation
from ._base import BINNBase
from ._module import BINNModule
from ._teacher import TeacherDataset

__all__ = [
    "Network",
    "align",
    "as_network",
    "binn_step",
    "correlations",
    "per_node_sum",
    "read_network",
    "scale_columns",
    "scored_depth",
    "spearman",
    "step_inputs",
    "to_numpy",
    "weight_scores",
]


# ------------------------------------------------------------ estimators
def binn_step(estimator, fitted=True, needs="The student must be"):
    """``(preprocessing or None, final BINN estimator)`` of an estimator or Pipeline.

    A Pipeline is unwrapped to its last step; its earlier steps (``None``
    when there are none) transform ``X`` for it (:func:`step_inputs`).
    Raises ``TypeError`` (its message starting with ``needs``) when the
    final step is not a BINN estimator and, with ``fitted``,
    ``NotFittedError`` when it is not fitted.
    """
    if isinstance(estimator, Pipeline):
        final = estimator.steps[-1][1]
        pre = estimator[:-1] if len(estimator.steps) > 1 else None
    else:
        final, pre = estimator, None
    if not isinstance(final, BINNBase):
        raise TypeError(
            f"{needs} a fitted BINNClassifier, BINNRegressor or BINNSurvival, or a "
            f"Pipeline ending in one; got {type(final).__name__}."
        )
    if fitted:
        check_is_fitted(final)
    return pre, final


def step_inputs(pre, X):
    """``X`` through the pipeline steps before the BINN (as given when ``pre`` is None)."""
    return X if pre is None else pre.transform(X)


# -------------------------------------------------------------- networks
@dataclass
class Network:
    """A BINN's parameters as numpy: pathway layers, then dense layers."""

    weights: list  # csr (n_inputs, n_nodes) per pathway layer
    biases: list
    top: list  # (ndarray (n_inputs, n_outputs), bias) per head layer, then the output
    activation: str
    skip_levels: bool = False  # layer k reads [genes, layer 0, ..., layer k-1]

    @property
    def depth(self):
        return len(self.weights)

    def layer_inputs(self, k, genes, nodes):
        """The inputs of pathway layer ``k`` side by side: ``genes`` (per gene)
        and ``nodes[j]`` (per node of layer ``j``) concatenated along the last
        axis as the layer's rows are ordered."""
        if not self.skip_levels:
            return genes if k == 0 else nodes[k - 1]
        return np.concatenate([genes, *nodes[:k]], axis=-1)

    def outgoing_sq_norms(self):
        """Per pathway layer, each node's squared outgoing-weight norm, over
        every layer that reads it (and the first dense layer for the top)."""
        sizes = [W.shape[1] for W in self.weights]
        totals = [np.zeros(n) for n in sizes]
        for k, W in enumerate(self.weights):
            W = sp.csr_matrix(W)
            per_row = np.bincount(
                np.repeat(np.arange(W.shape[0]), np.diff(W.indptr)),
                weights=W.data**2, minlength=W.shape[0],
            )
            if not self.skip_levels:
                if k > 0:
                    totals[k - 1] += per_row
                continue
            start = self.weights[0].shape[0]
            for j in range(k):
                totals[j] += per_row[start:start + sizes[j]]
                start += sizes[j]
        totals[-1] += (np.asarray(self.top[0][0]) ** 2).sum(axis=1)
        return totals


def to_numpy(tensor):
    """A float64 numpy copy of a tensor."""
    return tensor.detach().cpu().double().numpy().copy()


def scale_rows(W, factor):
    """``diag(factor) @ W`` for a csr matrix."""
    W = W.copy()
    W.data *= factor[np.repeat(np.arange(W.shape[0]), np.diff(W.indptr))]
    return W


def scale_columns(W, factor):
    """``W @ diag(factor)`` for a csr matrix."""
    W = W.copy()
    W.data *= factor[W.indices]
    return W


def per_node_sum(W, values):
    """Per column (node) of the csr ``W``, the sum of ``values`` over its stored entries."""
    return np.bincount(W.indices, weights=values, minlength=W.shape[1])


def read_network(module):
    """A BINNModule's parameters as a :class:`Network`; eval-mode batch norm is folded in."""
    weights, biases = [], []
    for k, (layer, norm) in enumerate(zip(module.pathway_layers, module.batch_norms)):
        W = layer.weight_matrix()
        b = to_numpy(layer.bias)
        if isinstance(norm, torch.nn.BatchNorm1d):
            if norm.running_var is None:
                raise ValueError(
                    f"Pathway layer {k} uses batch norm without running statistics "
                    "(track_running_stats=False); its weights cannot be compared."
                )
            scale = 1.0 / np.sqrt(to_numpy(norm.running_var) + norm.eps)
            shift = -to_numpy(norm.running_mean) * scale
            if norm.affine:
                shift = shift * to_numpy(norm.weight) + to_numpy(norm.bias)
                scale = scale * to_numpy(norm.weight)
            W = scale_columns(W, scale)
            b = b * scale + shift
        weights.append(W)
        biases.append(b)
    top = [
        (to_numpy(dense.weight).T.copy(), to_numpy(dense.bias))
        for dense in [*module.head_layers, module.output]
    ]
    return Network(weights, biases, top, module.activation, module.skip_levels)


def as_network(obj, what):
    """The :class:`Network` of a fitted estimator (or pipeline), a BINNModule or a teacher."""
    if isinstance(obj, TeacherDataset):
        return read_network(obj.module)
    if isinstance(obj, BINNModule):
        return read_network(obj)
    try:
        return read_network(binn_step(obj)[1].module_)
    except TypeError as exc:
        raise TypeError(
            f"{what} must be a fitted BINN estimator (or a Pipeline ending in one), "
            f"a BINNModule or a TeacherDataset; got {type(obj).__name__}."
        ) from exc


# ------------------------------------------------------------- alignment
def scored_depth(student_net, teacher_net):
    """The pathway layers both networks have; their wiring must be the same."""
    depth = min(student_net.depth, teacher_net.depth)
    for k in range(depth):
        Ws, Wt = student_net.weights[k], teacher_net.weights[k]
        if Ws.shape != Wt.shape or not (
            np.array_equal(Ws.indptr, Wt.indptr) and np.array_equal(Ws.indices, Wt.indices)
        ):
            raise ValueError(
                f"The student's pathway layer {k} is wired differently from the "
                f"teacher's (shapes {Ws.shape} and {Wt.shape}); recovery compares "
                "the same wiring. Fit the student with the teacher's mask "
                "(teacher.mask) on data with the teacher's genes in order."
            )
    return depth


def _node_transforms(Ws, Wt, group):
    """Per node, the group element that brings the student's incoming weights closest."""
    dots = per_node_sum(Ws, Ws.data * Wt.data)
    ss = per_node_sum(Ws, Ws.data**2)
    tt = per_node_sum(Wt, Wt.data**2)
    if group == "sign":
        return np.where(dots < 0, -1.0, 1.0)
    # least-squares scale; where it is not admissible, match the norms
    safe_ss = np.where(ss > 0, ss, 1.0)
    fallback = np.where(ss > 0, np.sqrt(tt / safe_ss), 1.0)
    fallback = np.where(fallback > 0, fallback, 1.0)
    admissible = dots > 0 if group == "positive" else dots != 0
    return np.where(admissible, dots / safe_ss, fallback)


def _apply_input_transforms(W, b, factor, spec):
    """Re-express a layer on transformed inputs ``a' = factor * a`` (or ``1 - a``).

    An input whose flip is a complement (sigmoid: ``a -> 1 - a``) moves its
    weight into the bias.
    """
    dense = not sp.issparse(W)
    flipped = factor < 0
    if spec.complement_flip and flipped.any():
        moved = W[flipped].sum(axis=0) if dense else np.asarray(W[flipped].sum(axis=0)).ravel()
        b = b + moved
    inverse = 1.0 / factor
    W = inverse[:, None] * W if dense else scale_rows(W, inverse)
    return W, b


def align(student_net, teacher_net, activation):
    """``(aligned Network, per-layer node transforms, scored depth)``.

    Layer by layer from the genes up, each student node is transformed by
    the element of ``activation``'s symmetry group that brings its incoming
    weights closest to the teacher's; see :func:`~sklearn_binn.align_to_teacher`.
    In a skip-level network a node's transform reaches the outgoing weights
    of every layer that reads it.
    """
    spec = get_activation(activation)
    depth = scored_depth(student_net, teacher_net)
    weights, biases, transforms, factors = [], [], [], []
    genes = np.ones(student_net.weights[0].shape[0])  # genes are not transformed
    factor = genes
    for k, (W, b) in enumerate(zip(student_net.weights, student_net.biases)):
        W, b = _apply_input_transforms(
            W, b, student_net.layer_inputs(k, genes, factors), spec
        )
        if k < depth:
            factor = _node_transforms(W, teacher_net.weights[k], spec.group)
            transforms.append(factor)
        else:  # no teacher layer to align to
            factor = np.ones(W.shape[1])
        factors.append(factor)
        weights.append(scale_columns(W, factor))
        biases.append(b * factor)
    top = list(student_net.top)
    top[0] = _apply_input_transforms(*top[0], factor, spec)
    aligned = Network(weights, biases, top, student_net.activation, student_net.skip_levels)
    return aligned, transforms, depth


# ------------------------------------------------------------- agreement
def weight_scores(aligned, teacher_net, depth):
    """Per layer, the cosine of each node's aligned incoming weights with the teacher's."""
    scores = []
    for k in range(depth):
        Ws, Wt = aligned.weights[k], teacher_net.weights[k]
        dots = per_node_sum(Ws, Ws.data * Wt.data)
        norms = per_node_sum(Ws, Ws.data**2) * per_node_sum(Wt, Wt.data**2)
        scores.append(np.where(norms > 0, dots / np.sqrt(np.where(norms > 0, norms, 1.0)), 0.0))
    return scores


def correlations(A, B, signed):
    """Per column, the Pearson correlation of A with the reference B.

    A column where the reference is constant (a dead node: there is no
    activation pattern to recover) gets NaN and is left out of the means; a
    constant A against a varying reference scores 0.
    """
    A = A - A.mean(axis=0)
    B = B - B.mean(axis=0)
    num = (A * B).sum(axis=0)
    var_a, var_b = (A * A).sum(axis=0), (B * B).sum(axis=0)
    den = var_a * var_b
    r = np.where(den > 0, num / np.sqrt(np.where(den > 0, den, 1.0)), 0.0)
    r = np.where(var_b > 0, r, np.nan)
    return r if signed else np.abs(r)


def spearman(a, b):
    """Spearman's rho of two vectors; NaN below 3 entries or for a constant one."""
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return np.nan
    return float(spearmanr(a, b).statistic)
