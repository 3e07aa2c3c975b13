"""Misspecified wiring: a student mask with missing and false edges, and what a student makes of it.

Pathway databases are incomplete and partly wrong. :func:`perturb_mask`
drops a fraction of a mask's edges and adds a fraction of false ones, per
layer; :func:`misspecification_report` scores a student trained on such a
mask against a teacher on the true one: recovery on the edges both share,
the weight the student puts on false edges, and whether a user could tell a
false edge from a true one by its weight or by its attribution.
"""

from __future__ import annotations

import dataclasses
from collections import namedtuple
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.metrics import roc_auc_score

from ._activations import REGISTRY
from ._mask import PathwayMask, resolve_mask
from ._network import (
    align,
    as_network,
    binn_step,
    correlations,
    per_node_sum,
    read_network,
    step_inputs,
)
from ._randomize import selected_layers
from ._teacher import TeacherDataset
from ._utils import seed_from

__all__ = [
    "MisspecificationReport",
    "PerturbedMask",
    "misspecification_report",
    "perturb_mask",
]

# candidate pairs enumerated outright below this many (n_inputs * n_nodes)
_ENUMERATE_LIMIT = 10_000_000
# samples x edges per block of the edge attribution
_BLOCK_CELLS = 20_000_000

PerturbedMask = namedtuple("PerturbedMask", ["mask", "edges"])
PerturbedMask.__doc__ = """A mask with missing and false edges; returned by :func:`perturb_mask`.

Attributes
----------
mask : PathwayMask
    The perturbed mask: same genes, nodes and names as the original.
edges : pandas.DataFrame
    One row per edge of the original or the perturbed mask: ``layer``,
    ``source``, ``target`` (names) and ``status``, ``"true"`` (in both),
    ``"missing"`` (dropped: in the original only) or ``"false"`` (added:
    in the perturbed mask only).

Examples
--------
>>> from sklearn_binn import perturb_mask
>>> from sklearn_binn.datasets import make_pathway_mask
>>> perturbed = perturb_mask(make_pathway_mask(50, depth=1, random_state=0),
...                          missing=0.2, false=0.1, random_state=0)
>>> perturbed.edges["status"].value_counts().sort_index().index.tolist()
['false', 'missing', 'true']
"""


# ----------------------------------------------------------------- perturbing
def _input_names(mask, k):
    """The names of the rows of layer ``k`` (genes, or the nodes the layer reads)."""
    if hasattr(mask, "input_names"):
        return np.asarray(mask.input_names(k))
    return np.asarray(mask.feature_names if k == 0 else mask.node_names[k - 1])


def _check_fraction(value, name):
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < 1:
        raise ValueError(
            f"{name} must be a fraction of each layer's edges in [0, 1); got {value!r}."
        )
    return float(value)


def _drop_edges(rows, cols, n_drop, keep_rows, rng, k):
    """Indices of ``n_drop`` edges to drop, leaving every node an input (and an output)."""
    if n_drop == 0:
        return np.zeros(0, dtype=np.intp)
    col_degree = np.bincount(cols).astype(np.int64)
    row_degree = np.bincount(rows).astype(np.int64)
    dropped = []
    for e in rng.permutation(len(rows)):
        i, j = rows[e], cols[e]
        if col_degree[j] <= 1 or (keep_rows and row_degree[i] <= 1):
            continue
        col_degree[j] -= 1
        row_degree[i] -= 1
        dropped.append(e)
        if len(dropped) == n_drop:
            return np.asarray(dropped, dtype=np.intp)
    raise ValueError(
        f"missing asks to drop {n_drop} edges of layer {k}, but only {len(dropped)} "
        "can go without leaving a node with no inputs"
        + (" or no outputs" if keep_rows else "")
        + "; use a smaller fraction."
    )


def _add_edges(keys, n_rows, n_cols, n_add, rng, k):
    """``n_add`` new (row, col) pairs, uniformly among the pairs not in ``keys``."""
    if n_add == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    total = n_rows * n_cols
    available = total - len(keys)
    if n_add > available:
        raise ValueError(
            f"false asks to add {n_add} edges to layer {k}, which has only "
            f"{available} unused input-node pairs; use a smaller fraction."
        )
    if total <= _ENUMERATE_LIMIT:
        free = np.setdiff1d(np.arange(total, dtype=np.int64), keys, assume_unique=True)
        chosen = rng.choice(free, size=n_add, replace=False)
    else:  # sparse layers: rejection sampling
        chosen = np.zeros(0, dtype=np.int64)
        while len(chosen) < n_add:
            draw = rng.integers(0, total, size=2 * (n_add - len(chosen)) + 16)
            draw = draw[~np.isin(draw, keys)]
            _, first = np.unique(draw, return_index=True)
            draw = draw[np.sort(first)]
            draw = draw[~np.isin(draw, chosen)]
            chosen = np.concatenate([chosen, draw[: n_add - len(chosen)]])
    return chosen // n_cols, chosen % n_cols


def perturb_mask(mask, missing=0.1, false=0.1, random_state=None, *, layers=(0,)):
    """Misspecify a mask: drop a fraction of its edges and add a fraction of false ones.

    In each perturbed layer with ``E`` edges, ``round(missing * E)`` of the
    mask's edges are dropped and ``round(false * E)`` edges that the mask
    does not have are added, drawn uniformly among all unused input → node
    pairs of the layer (a false edge is never a dropped one). Drops never
    leave a node without inputs, nor (above the gene layer) a node below
    without a parent, so the result is a valid :class:`PathwayMask` with the
    original genes, nodes and names. The counts are exact; a fraction that
    cannot be met raises.

    A student fitted on the perturbed mask against a teacher on the
    original is scored by :func:`misspecification_report`. The extreme of
    misspecification, a mask that keeps only the degrees, is
    :func:`randomize_mask`.

    Parameters
    ----------
    mask : PathwayMask or anything PathwayMask accepts
        The true wiring (not a callable).
    missing : float, default=0.1
        Fraction of each layer's edges to drop, in ``[0, 1)``.
    false : float, default=0.1
        Number of false edges to add, as a fraction of the layer's original
        edges, in ``[0, 1)``.
    random_state : int, RandomState or None, default=None
        Seeds the choice; an int gives the same mask on every call.
    layers : iterable of int or None, default=(0,)
        The layers to perturb: by default the gene → pathway layer (layer
        0), where pathway annotations are incomplete and partly wrong;
        ``None`` perturbs every layer. A layer in which every node has a
        single parent (a tree) admits no missing edge there.

    Returns
    -------
    PerturbedMask
        ``.mask`` (the perturbed :class:`PathwayMask`) and ``.edges`` (every
        edge of either mask with its ``status``: ``"true"``, ``"missing"``
        or ``"false"``).

    Raises
    ------
    ValueError
        For a fraction outside ``[0, 1)``, a layer index out of range, or a
        layer where the counts cannot be met.

    See Also
    --------
    misspecification_report, randomize_mask

    Examples
    --------
    >>> from sklearn_binn import perturb_mask
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(100, depth=2, random_state=0)
    >>> perturbed = perturb_mask(mask, missing=0.1, false=0.2, random_state=0)
    >>> perturbed.edges.query("layer == 0")["status"].value_counts().to_dict()
    {'true': 333, 'false': 74, 'missing': 37}
    >>> mask.layers[0].nnz, perturbed.mask.layer_sizes == mask.layer_sizes
    (370, True)
    """
    if callable(mask) and not isinstance(mask, PathwayMask):
        raise TypeError(
            "perturb_mask needs a fixed mask, not a callable; call it on your gene names "
            "first (or perturb a fitted estimator's mask_)."
        )
    mask = resolve_mask(mask)
    missing = _check_fraction(missing, "missing")
    false = _check_fraction(false, "false")
    chosen = selected_layers(mask, layers)
    rng = np.random.default_rng(seed_from(random_state))
    new_layers, frames = [], []
    for k, csr in enumerate(mask.layers):
        coo = csr.tocoo()
        rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
        status = np.full(len(rows), "true", dtype=object)
        new_rows, new_cols = np.zeros(0, np.int64), np.zeros(0, np.int64)
        if k in chosen:
            n_drop, n_add = int(round(missing * len(rows))), int(round(false * len(rows)))
            status[_drop_edges(rows, cols, n_drop, k > 0, rng, k)] = "missing"
            keys = np.sort(rows * csr.shape[1] + cols)
            new_rows, new_cols = _add_edges(keys, *csr.shape, n_add, rng, k)
        kept = status == "true"
        all_rows = np.concatenate([rows[kept], new_rows])
        all_cols = np.concatenate([cols[kept], new_cols])
        new_layers.append(sp.csr_matrix(
            (np.ones(len(all_rows)), (all_rows, all_cols)), shape=csr.shape
        ))
        every_row = np.concatenate([rows, new_rows])
        every_col = np.concatenate([cols, new_cols])
        frames.append(pd.DataFrame({
            "layer": k,
            "source": _input_names(mask, k)[every_row],
            "target": np.asarray(mask.node_names[k])[every_col],
            "status": np.concatenate([status, np.full(len(new_rows), "false", dtype=object)]),
        }))
    return PerturbedMask(mask.with_layers(new_layers), pd.concat(frames, ignore_index=True))


# ------------------------------------------------------------------- scoring
def _restrict(W, rows, cols):
    """``W``'s values at ``(rows, cols)`` (sorted by row, then column) as a csr matrix.

    Built from its parts, so explicit zeros stay stored and two matrices
    restricted to the same pairs share their structure exactly.
    """
    values = np.asarray(W[rows, cols]).ravel().astype(np.float64) if len(rows) else np.zeros(0)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=W.shape[0]))])
    return sp.csr_matrix((values, cols.copy(), indptr), shape=W.shape)


def _pairs(W):
    """``(rows, cols)`` of a csr matrix's stored entries, sorted by row then column."""
    W = W.tocsr().copy()
    W.sort_indices()
    rows = np.repeat(np.arange(W.shape[0]), np.diff(W.indptr))
    return rows, W.indices.astype(np.int64)


def _on_student_edges(student_net, teacher_net, depth):
    """Both networks on the student's edges; the teacher's weight is 0 on a false edge.

    Returns the student network and the teacher network restricted so that
    their layers share one structure (the student's), and per layer whether
    each stored edge is a true one (the teacher has it).
    """
    student_w, teacher_w, is_true = [], [], []
    for k in range(depth):
        Ws, Wt = student_net.weights[k], teacher_net.weights[k]
        rows, cols = _pairs(Ws)
        t_rows, t_cols = _pairs(Wt)
        student_w.append(_restrict(Ws, rows, cols))
        teacher_w.append(_restrict(Wt, rows, cols))
        is_true.append(np.isin(rows * Ws.shape[1] + cols, t_rows * Ws.shape[1] + t_cols))
    student = dataclasses.replace(student_net, weights=student_w + student_net.weights[depth:])
    teacher = dataclasses.replace(teacher_net, weights=teacher_w)
    return student, teacher, is_true


def _shared_cosines(aligned, teacher, is_true, depth):
    """Per layer and node, the cosine of the aligned and the teacher's weights on true edges."""
    out = []
    for k in range(depth):
        Ws, Wt, true = aligned.weights[k], teacher.weights[k], is_true[k]
        ws, wt = np.where(true, Ws.data, 0.0), np.where(true, Wt.data, 0.0)
        dots = per_node_sum(Ws, ws * wt)
        norms = per_node_sum(Ws, ws**2) * per_node_sum(Ws, wt**2)
        out.append(np.where(norms > 0, dots / np.sqrt(np.where(norms > 0, norms, 1.0)),
                            np.nan))
    return out


def edge_attribution(final, X):
    """Per pathway layer and stored edge ``i -> j``, the mean over X of ``|w_ij a_i dF/dz_j|``.

    The first-order (Taylor) contribution of the edge to the output: its
    weight times the signal it carries (the input ``a_i``) times the
    output's sensitivity to the node's pre-activation ``z_j``, averaged in
    absolute value over the samples (and over the outputs). Returns a list
    of arrays in the order of :func:`read_network`'s csr data.
    """
    module = final.module_
    net = read_network(module)
    weights = [sp.csr_matrix(W).sorted_indices() for W in net.weights]  # as _pairs orders
    training = module.training
    module.eval()
    pres, posts = {}, {}
    hooks = []
    for k, act in enumerate(module.pathway_activations):
        def hook(_, inputs, output, k=k):
            pres[k], posts[k] = inputs[0], output
        hooks.append(act[0].register_forward_hook(hook))
    device = module.output.weight.device
    totals = [np.zeros(W.nnz) for W in weights]
    try:
        with torch.enable_grad():
            x = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)
            out = module(x)
            if out.ndim == 1:
                out = out[:, None]
            n_outputs = out.shape[1]
            for o in range(n_outputs):
                grads = torch.autograd.grad(
                    out[:, o].sum(), [pres[k] for k in range(net.depth)],
                    retain_graph=o + 1 < n_outputs,
                )
                for k, W in enumerate(weights):
                    if getattr(net, "skip_levels", False):  # genes, then every lower layer
                        a_in = torch.cat([x, *[posts[j] for j in range(k)]], dim=1)
                    else:
                        a_in = x if k == 0 else posts[k - 1]
                    a_in = a_in.detach().double().cpu().numpy()
                    g = grads[k].detach().double().cpu().numpy()
                    rows, cols = np.repeat(np.arange(W.shape[0]), np.diff(W.indptr)), W.indices
                    if a_in.shape[1] != W.shape[0]:
                        raise ValueError(
                            f"Pathway layer {k} reads {W.shape[0]} inputs, but the layer "
                            f"below gives {a_in.shape[1]}; the network's layout is not "
                            "one edge attribution knows."
                        )
                    step = max(1, _BLOCK_CELLS // max(1, W.nnz))
                    for start in range(0, len(a_in), step):
                        block = (
                            a_in[start:start + step][:, rows] * g[start:start + step][:, cols]
                        )
                        totals[k] += np.abs(block * W.data).sum(axis=0)
    finally:
        for h in hooks:
            h.remove()
        module.train(training)
    return [t / (len(X) * n_outputs) for t in totals]


def _auc(labels, scores):
    labels = np.asarray(labels, dtype=bool)
    if labels.all() or not labels.any():
        return np.nan
    return float(roc_auc_score(labels, scores))


@dataclass(frozen=True)
class MisspecificationReport:
    """A student on a misspecified mask scored against a teacher on the true one.

    Returned by :func:`misspecification_report`.

    Attributes
    ----------
    edges : pandas.DataFrame
        One row per edge of the student's mask: ``layer``, ``source``,
        ``target``, ``status`` (``"true"``: the teacher has it too, or
        ``"false"``), ``weight`` (the student's weight after aligning its
        per-node symmetries to the teacher, see
        :func:`misspecification_report`),
        ``abs_weight``, ``attribution`` (mean ``|w a dF/dz|``, see
        :func:`misspecification_report`) and ``teacher_weight`` (0 on false
        edges).
    nodes : pandas.DataFrame
        One row per pathway node: ``layer``, ``node``, ``n_true``,
        ``n_false``, ``n_missing`` (teacher edges the student lacks),
        ``shared_recovery`` (cosine of the aligned student and teacher
        weights over the shared edges; NaN without one),
        ``activation_recovery`` (as :func:`recovery_report`) and
        ``false_weight_share`` (the share of the node's absolute incoming
        weight on false edges).
    layers : pandas.DataFrame
        Indexed by ``layer``: edge counts, ``false_edge_fraction`` (false
        edges among the student's), ``false_weight_share`` (of the layer's
        absolute weight; equal to ``false_edge_fraction`` when weights ignore
        the truth), the node means of ``shared_recovery`` and
        ``activation_recovery``, and ``weight_auc`` and ``attribution_auc``:
        the ROC AUC of ``abs_weight`` and ``attribution`` for telling true
        from false edges (1: every true edge above every false one, 0.5:
        no better than chance; NaN without both kinds).
    summary : pandas.Series
        The mean over layers of the layer columns.

    Examples
    --------
    >>> from sklearn_binn import TeacherDataset, misspecification_report, perturb_mask
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(40, depth=1, random_state=0)
    >>> teacher = TeacherDataset(mask, random_state=0)
    >>> X, _ = teacher.sample(200, random_state=1)
    >>> report = misspecification_report(teacher.to_estimator(), teacher, X)
    >>> report.summary["shared_recovery"]
    np.float64(1.0)
    """

    edges: pd.DataFrame
    nodes: pd.DataFrame
    layers: pd.DataFrame
    summary: pd.Series

    def __repr__(self):
        summary = {k: round(float(v), 4) for k, v in self.summary.items()}
        return f"MisspecificationReport(summary={summary})\n{self.layers.to_string()}"


def _check_same_nodes(student_mask, teacher_mask, depth):
    if not np.array_equal(student_mask.feature_names, teacher_mask.feature_names):
        raise ValueError(
            "The student's genes differ from the teacher's (names or order); fit the "
            "student on data with the teacher's genes, e.g. teacher.sample(...)."
        )
    for k in range(depth):
        if not np.array_equal(student_mask.node_names[k], teacher_mask.node_names[k]):
            raise ValueError(
                f"The student's pathway layer {k} has other nodes than the teacher's; "
                "misspecification keeps the nodes and changes edges only "
                "(see perturb_mask)."
            )


def misspecification_report(student, teacher, X):
    """Score a student fitted on a misspecified mask against the teacher on the true mask.

    The student's mask (e.g. from :func:`perturb_mask` or
    :func:`randomize_mask`) has the teacher's genes and nodes but other
    edges: *true* edges (the teacher has them too), *false* edges (only the
    student) and *missing* edges (only the teacher). The student is first
    aligned to the teacher as :func:`align_to_teacher` does, layer by layer
    from the genes up, on the student's own edges with the teacher's weight
    taken as 0 on a false edge (so a node's sign is set by its shared edges
    alone; a ``relu`` or ``identity`` node's scale is the least-squares one
    over all its edges), then scored:

    - **shared recovery**: per node, the cosine of the aligned student's and
      the teacher's weights over their shared edges;
    - **activation recovery**: per node, the correlation of the student's
      and the teacher's activations over ``X``, as :func:`recovery_report`;
    - **false weight share**: the share of the absolute (aligned) incoming
      weight that sits on false edges, per node and per layer, next to the
      share of false edges (what a student blind to the truth would give);
    - **can a user tell?**: the ROC AUC of the absolute weight, and of the
      edge's attribution, for telling true from false edges in each layer.
      The attribution of an edge ``i -> j`` is the mean over ``X`` of
      ``|w_ij a_i(x) dF(x)/dz_j|``, its first-order contribution to the
      output ``F`` (``a_i``: the edge's input, ``z_j``: the node's
      pre-activation; averaged over outputs when there are several).

    Parameters
    ----------
    student : fitted BINN estimator or Pipeline ending in one
        Fitted on data with the teacher's genes, with a mask that has the
        teacher's nodes.
    teacher : TeacherDataset
    X : array-like of shape (n_samples, n_genes)
        Held-out samples (as the teacher sees them) for the activations and
        attributions.

    Returns
    -------
    MisspecificationReport
        ``.edges``, ``.nodes``, ``.layers``, ``.summary``.

    Raises
    ------
    ValueError
        If the student's genes or nodes differ from the teacher's.

    See Also
    --------
    perturb_mask, recovery_report, output_fit

    Examples
    --------
    >>> from sklearn_binn import (BINNRegressor, TeacherDataset, misspecification_report,
    ...                           perturb_mask)
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(40, depth=1, random_state=0)
    >>> teacher = TeacherDataset(mask, random_state=0)
    >>> X, y = teacher.sample(400, random_state=1)
    >>> wrong = perturb_mask(mask, missing=0.2, false=0.2, random_state=0).mask
    >>> student = BINNRegressor(wrong, lr=0.05, random_state=0).fit(X, y)
    >>> report = misspecification_report(student, teacher, X)
    >>> list(report.layers.columns[-2:])
    ['weight_auc', 'attribution_auc']
    """
    if not isinstance(teacher, TeacherDataset):
        raise TypeError(f"teacher must be a TeacherDataset; got {type(teacher).__name__}.")
    pre, final = binn_step(student)
    student_net = read_network(final.module_)
    teacher_net = as_network(teacher, "teacher")
    depth = min(student_net.depth, teacher_net.depth)
    _check_same_nodes(final.mask_, teacher.mask, depth)
    activation = student_net.activation
    student_on, teacher_on, true_edges = _on_student_edges(student_net, teacher_net, depth)
    aligned, _, _ = align(student_on, teacher_on, activation)
    shared_cos = _shared_cosines(aligned, teacher_on, true_edges, depth)
    Xt = step_inputs(pre, X)
    attributions = edge_attribution(final, final._validate_X(Xt, reset=False))
    teacher_acts = teacher.activations(X)
    student_acts = final.pathway_activations(Xt, as_frame=False)
    signed = REGISTRY[activation].signed_scores
    edge_frames, node_frames, layer_rows = [], [], []
    for k in range(depth):
        W, Wt, is_true = aligned.weights[k], teacher_net.weights[k], true_edges[k]
        rows, cols = _pairs(W)
        teacher_w = np.where(is_true, teacher_on.weights[k].data, 0.0)
        edges = pd.DataFrame({
            "layer": k,
            "source": _input_names(final.mask_, k)[rows],
            "target": np.asarray(final.mask_.node_names[k])[cols],
            "status": np.where(is_true, "true", "false"),
            "weight": W.data,
            "abs_weight": np.abs(W.data),
            "attribution": attributions[k],
            "teacher_weight": teacher_w,
        })
        edge_frames.append(edges)
        n_nodes = W.shape[1]
        n_true = np.bincount(cols[is_true], minlength=n_nodes)
        n_false = np.bincount(cols[~is_true], minlength=n_nodes)
        n_teacher = np.diff(Wt.tocsc().indptr)
        mass = np.bincount(cols, weights=np.abs(W.data), minlength=n_nodes)
        false_mass = np.bincount(cols[~is_true], weights=np.abs(W.data[~is_true]),
                                 minlength=n_nodes)
        nodes = pd.DataFrame({
            "layer": k,
            "node": final.mask_.node_names[k],
            "n_true": n_true,
            "n_false": n_false,
            "n_missing": n_teacher - n_true,
            "shared_recovery": np.where(n_true > 0, shared_cos[k], np.nan),
            "activation_recovery": correlations(student_acts[k], teacher_acts[k], signed),
            "false_weight_share": np.divide(
                false_mass, mass, out=np.full(n_nodes, np.nan), where=mass > 0
            ),
        })
        node_frames.append(nodes)
        total = np.abs(W.data).sum()
        layer_rows.append({
            "layer": k,
            "n_true": int(is_true.sum()),
            "n_false": int((~is_true).sum()),
            "n_missing": int(Wt.nnz - is_true.sum()),
            "false_edge_fraction": float((~is_true).mean()) if len(is_true) else np.nan,
            "false_weight_share": float(np.abs(W.data[~is_true]).sum() / total)
            if total > 0 else np.nan,
            "shared_recovery": float(np.nanmean(nodes["shared_recovery"]))
            if n_true.any() else np.nan,
            "activation_recovery": float(np.nanmean(nodes["activation_recovery"])),
            "weight_auc": _auc(is_true, np.abs(W.data)),
            "attribution_auc": _auc(is_true, attributions[k]),
        })
    layers = pd.DataFrame(layer_rows).set_index("layer")
    summary = layers.drop(columns=["n_true", "n_false", "n_missing"]).mean()
    return MisspecificationReport(
        pd.concat(edge_frames, ignore_index=True), pd.concat(node_frames, ignore_index=True),
        layers, summary,
    )
