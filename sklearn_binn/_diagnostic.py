"""Local identifiability of a fitted BINN's pathway weights from its outputs.

Around its fitted parameters ``theta`` a network's outputs on the data
change, to first order, by ``J dtheta`` with ``J`` the Jacobian of all
outputs (samples x output units) with respect to the parameters. A
direction ``v`` with ``J v = 0`` changes the parameters without changing
any output: along it the data cannot tell parameter values apart. Those
directions form the null space of ``J``, which is the null space of the
Gauss-Newton matrix ``G = J^T J`` (for every loss used here also that of
the Fisher information).

Some null directions exist for every data set: the continuous symmetries
of the parametrisation (a ReLU node's incoming weights scaled by ``c`` and
its outgoing ones by ``1 / c``). The recovery scores of
:func:`recovery_report` are invariant to them, so they are discounted here;
what is left is the *excess* null space, the parameter changes the data
cannot see that the scores would see. A pathway node whose incoming weights
have a component in it is not locally identifiable on these data.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.linalg as la
import scipy.sparse.linalg as sla
import torch
import torch.autograd.forward_ad as fwAD
from sklearn.utils import check_random_state
from sksurv.base import SurvivalAnalysisMixin
from torch.func import functional_call, vjp

from ._activations import REGISTRY
from ._network import binn_step

__all__ = ["IdentifiabilityDiagnostic", "identifiability_diagnostic"]

# a node is identifiable when no unit null direction puts more than this
# share of its squared norm on the node's incoming weights (a cosine of 1e-3)
NODE_TOL = 1e-6
# samples per forward pass
_CHUNK = 4096
# "auto" builds J exactly when it has at most this many rows or columns
# (each costs one forward or backward pass) and this many entries
_DENSE_MAX_PASSES = 3000
_DENSE_MAX_ENTRIES = 2 * 10**7
# tolerance of the iterative method: singular values of J below 1e-4 of the largest
_ITERATIVE_TOL = 1e-4
_DEFAULT_N_EIGENVALUES = 16


# -------------------------------------------------------------------- result
@dataclass(frozen=True)
class IdentifiabilityDiagnostic:
    """Local identifiability of a fitted BINN, see :func:`identifiability_diagnostic`.

    Attributes
    ----------
    nodes : pandas.DataFrame
        One row per pathway node: ``layer`` (0 = gene → pathway), ``node``
        (its name), ``n_inputs``, ``null_fraction`` (the largest share of
        the squared norm of a unit output-preserving parameter direction,
        symmetries removed, that falls on the node's incoming weights: 0 for
        an identifiable node, 1 when the node's weights can move alone),
        ``null_dim`` (how many independent such directions move its
        incoming weights) and ``identifiable`` (``null_fraction <=
        NODE_TOL``, 1e-6; ``pd.NA`` where an incomplete iterative run found
        no null direction on the node, which then proves nothing).
    rank : int
        The numerical rank of ``J`` (of ``G = J^T J``) at ``tol``; an upper
        bound when ``complete`` is False.
    n_parameters : int
        The number of parameters ``J`` is taken with respect to: the edge
        weights and biases of the pathway layers, the dense head and the
        output layer.
    n_symmetries : int
        The number of independent symmetry directions discounted.
    deficiency : int
        ``n_parameters - rank - n_symmetries``: the dimension of the excess
        null space, output-preserving directions that are not symmetries.
        A lower bound when ``complete`` is False.
    eigenvalues : ndarray
        The smallest eigenvalues of ``G`` on the complement of the symmetry
        directions, ascending (``max_rank`` of them at most).
    eigenvalue_max : float
        The largest eigenvalue of ``G`` (``sigma_max(J) ** 2``).
    tol : float
        A direction ``v`` counts as null when ``||J v|| <= tol * sigma_max(J)
        * ||v||``, i.e. for eigenvalues of ``G`` up to ``tol**2 *
        eigenvalue_max``.
    method : {"dense", "iterative"}
        How the spectrum was computed.
    complete : bool
        False when the iterative method found as many null directions as it
        computed eigenpairs: the null space may be larger (raise
        ``max_rank`` or use ``method="dense"``).
    symmetry_residual : float
        ``||J s|| / (sigma_max(J) ||s||)`` for a random combination ``s`` of
        the symmetry directions: how exactly they leave the outputs
        unchanged (float64 round-off, about 1e-16, when they are exact); NaN
        without symmetries.
    """

    nodes: pd.DataFrame
    rank: int
    n_parameters: int
    n_symmetries: int
    deficiency: int
    eigenvalues: np.ndarray
    eigenvalue_max: float
    tol: float
    method: str
    complete: bool
    symmetry_residual: float

    @property
    def identifiable(self):
        """bool: no excess null direction (True only when ``complete``)."""
        return self.complete and self.deficiency == 0

    def __repr__(self):
        n_bad = int(self.nodes["identifiable"].eq(False).sum())  # NA is not counted
        return (
            f"IdentifiabilityDiagnostic(method={self.method!r}, n_parameters="
            f"{self.n_parameters}, rank={self.rank}, n_symmetries={self.n_symmetries}, "
            f"deficiency={self.deficiency}{'' if self.complete else '+'}, "
            f"non_identifiable_nodes={n_bad}/{len(self.nodes)})"
        )


# ------------------------------------------------------------------ network
class _OutputMap:
    """The outputs on ``X`` as a function of the linear layers' parameters, in float64.

    Parameters are the weights and biases of the pathway layers, the dense
    head and the output layer, flattened in that order into one vector.
    Batch norm (in eval mode a fixed affine map per node) keeps its fitted
    scale and shift: they only duplicate a node's weights and bias.
    ``centre`` removes the output directions the likelihood ignores: a
    shift of all samples' log-risk ("samples") or of all logits of a sample
    ("outputs").
    """

    def __init__(self, module, X, centre=None):
        self.module = copy.deepcopy(module).double().eval().requires_grad_(False)
        device = next(self.module.parameters()).device
        self.X = torch.as_tensor(X, dtype=torch.float64, device=device)
        self.centre = centre
        self.dense_layers = [*self.module.head_layers, self.module.output]
        names = []
        for prefix, layers in (("pathway_layers", self.module.pathway_layers),
                               ("head_layers", self.module.head_layers)):
            for k in range(len(layers)):
                names += [f"{prefix}.{k}.weight", f"{prefix}.{k}.bias"]
        names += ["output.weight", "output.bias"]
        params = dict(self.module.named_parameters())
        self.names = names
        self.params = {name: params[name].detach() for name in names}
        self.sizes = [self.params[name].numel() for name in names]
        self.offsets = dict(zip(names, np.cumsum([0, *self.sizes[:-1]]).tolist()))
        self.n_parameters = int(sum(self.sizes))
        self.n_outputs = self.module.output.out_features
        self._vjp_fns = None

    @property
    def n_rows(self):
        return len(self.X) * self.n_outputs

    def value(self, name):
        return self.params[name].cpu().numpy().ravel()

    def _chunks(self):
        return [self.X[start:start + _CHUNK] for start in range(0, len(self.X), _CHUNK)]

    def _project(self, out):
        if self.centre == "samples":
            return out - out.mean(dim=0, keepdim=True)
        if self.centre == "outputs":
            return out - out.mean(dim=1, keepdim=True)
        return out

    def _unflatten(self, v):
        v = torch.as_tensor(np.ascontiguousarray(v), dtype=torch.float64, device=self.X.device)
        parts = torch.split(v, self.sizes)
        return {n: p.reshape(self.params[n].shape) for n, p in zip(self.names, parts)}

    def jvp(self, v):
        """``P J v`` of shape (n_samples, n_outputs), by forward-mode AD."""
        tangents = self._unflatten(v)
        outs = []
        with warnings.catch_warnings(), fwAD.dual_level():
            # torch scripts its forward-mode decompositions on first use
            warnings.filterwarnings("ignore", message=".*torch.jit.script.*deprecated")
            dual = {n: fwAD.make_dual(self.params[n], tangents[n]) for n in self.names}
            for X in self._chunks():
                outs.append(fwAD.unpack_dual(functional_call(self.module, dual, (X,))).tangent)
        return self._project(torch.cat(outs))

    def vjp(self, u):
        """``J^T P u`` for ``u`` of shape (n_samples, n_outputs), by reverse-mode AD."""
        if self._vjp_fns is None:
            self._vjp_fns = [
                vjp(lambda p, X=X: functional_call(self.module, p, (X,)), self.params)[1]
                for X in self._chunks()
            ]
        u = self._project(torch.as_tensor(u, dtype=torch.float64, device=self.X.device))
        total = None
        for fn, part in zip(self._vjp_fns, torch.split(u, _CHUNK)):
            grads = fn(part.contiguous())[0]
            flat = torch.cat([grads[n].reshape(-1) for n in self.names])
            total = flat if total is None else total + flat
        return total.cpu().numpy()

    def gauss_newton(self, v):
        """``G v = J^T P J v``."""
        return self.vjp(self.jvp(np.ravel(v)))

    def jacobian(self):
        """``P J`` as a dense (n_rows, n_parameters) array: by columns or by rows."""
        n_samples, n_out, p = len(self.X), self.n_outputs, self.n_parameters
        if p <= self.n_rows:
            J = np.empty((self.n_rows, p))
            unit = np.zeros(p)
            for i in range(p):
                unit[i] = 1.0
                J[:, i] = self.jvp(unit).cpu().numpy().ravel()
                unit[i] = 0.0
            return J
        J = np.empty((self.n_rows, p))
        cotangent = torch.zeros(n_samples, n_out, dtype=torch.float64, device=self.X.device)
        for row in range(self.n_rows):
            i, o = divmod(row, n_out)
            cotangent[i, o] = 1.0
            J[row] = self.vjp(cotangent)  # J^T P e = (P J)^T e since P is symmetric
            cotangent[i, o] = 0.0
        return J


# -------------------------------------------------------------- symmetries
def _norm_affine(norm):
    """``(A, B)`` with the eval-mode batch norm ``u = A z + B`` (identity: 1, 0)."""
    if not isinstance(norm, torch.nn.BatchNorm1d):
        return None
    if norm.running_var is None:
        raise ValueError(
            "identifiability_diagnostic needs batch norm with running statistics "
            "(track_running_stats=True): in eval mode it must be a fixed map per node."
        )
    scale = 1.0 / np.sqrt(norm.running_var.detach().cpu().double().numpy() + norm.eps)
    shift = -norm.running_mean.detach().cpu().double().numpy() * scale
    if norm.affine:
        gamma = norm.weight.detach().cpu().double().numpy()
        shift = shift * gamma + norm.bias.detach().cpu().double().numpy()
        scale = scale * gamma
    return scale, shift


def _symmetry_tangents(net):
    """The continuous symmetry directions at the fitted parameters.

    Returns ``S`` of shape (n_parameters, n_tangents) and, per tangent, the
    ``(layer, node)`` of the pathway node whose scale it is (or None): those
    are the tangents that move pathway edge weights.

    Per node with output ``a = act(u)``, ``u = A z + B`` (batch norm, else
    ``A = 1, B = 0``), ``z = w . h + b``:

    - ``relu`` (positively homogeneous) and ``identity``: scaling ``u`` by
      ``c``, compensated by the outgoing weights ``/ c``; the tangent is
      ``dw = w``, ``db = b + B / A``, ``dw_out = -w_out``;
    - ``identity``: shifting ``u`` by ``d``, compensated by the parents'
      biases; ``db = 1 / A``, ``db_parent = -w_out``;
    - ``tanh`` and ``sigmoid`` only have discrete symmetries (sign flips):
      no tangent direction.

    Dense head nodes likewise with the head activation. Survival adds the
    shift of the log-risk (the output bias), multiclass the shift of all
    logits by any function the output layer can express (the output bias
    and each column of its weights, changed together across classes).
    """
    module, tangents, owners = net.module, [], []

    def new():
        tangents.append(np.zeros(net.n_parameters))
        return tangents[-1]

    def outgoing(t, k, j, sign_scale):
        """Compensate node j of pathway layer k (or of dense layer k - depth) downstream."""
        depth = len(module.pathway_layers)
        if k + 1 < depth:
            # every layer that reads node j: the next one, or in a skip-level
            # network each higher one (at the rows of layer k's block)
            for m in range(k + 1, depth if module.skip_levels else k + 2):
                nxt = module.pathway_layers[m]
                row = j + next(a for src, a, _ in module.input_sources(m) if src == k)
                edges = np.flatnonzero(nxt.rows.cpu().numpy() == row)
                w = net.value(f"pathway_layers.{m}.weight")[edges]
                if sign_scale:
                    t[net.offsets[f"pathway_layers.{m}.weight"] + edges] = -w
                else:
                    parents = nxt.cols.cpu().numpy()[edges]
                    np.add.at(t, net.offsets[f"pathway_layers.{m}.bias"] + parents, -w)
            return
        index = k + 1 - depth
        name = "output" if index == len(module.head_layers) else f"head_layers.{index}"
        W = net.params[f"{name}.weight"].cpu().numpy()
        if sign_scale:
            t[net.offsets[f"{name}.weight"] + np.arange(W.shape[0]) * W.shape[1] + j] = -W[:, j]
        else:
            t[net.offsets[f"{name}.bias"] + np.arange(W.shape[0])] -= W[:, j]

    def node_tangents(k, j, name, edges, activation, affine):
        A, B = (1.0, 0.0) if affine is None else (affine[0][j], affine[1][j])
        spec = REGISTRY[activation]
        if spec.continuous_scale:
            t = new()
            t[net.offsets[f"{name}.weight"] + edges] = net.value(f"{name}.weight")[edges]
            t[net.offsets[f"{name}.bias"] + j] = net.value(f"{name}.bias")[j] + B / A
            outgoing(t, k, j, sign_scale=True)
            owners.append((k, j) if name.startswith("pathway") else None)
        if spec.shift:
            t = new()
            t[net.offsets[f"{name}.bias"] + j] = 1.0 / A
            outgoing(t, k, j, sign_scale=False)
            owners.append(None)

    depth = len(module.pathway_layers)
    for k, (layer, norm) in enumerate(zip(module.pathway_layers, module.batch_norms)):
        cols, affine = layer.cols.cpu().numpy(), _norm_affine(norm)
        for j in range(layer.out_features):
            node_tangents(k, j, f"pathway_layers.{k}", np.flatnonzero(cols == j),
                          module.activation, affine)
    for i, dense in enumerate(module.head_layers):
        n_in = dense.in_features
        for j in range(dense.out_features):
            node_tangents(depth + i, j, f"head_layers.{i}", j * n_in + np.arange(n_in),
                          module.head_activation, None)
    # every input of the output layer: the top layer's nodes and then, with
    # covariates, the covariates (moving any column over all classes shifts
    # every logit of a sample alike); ``width`` is also the weight's row stride
    n_out, width = module.output.out_features, module.output.in_features
    if net.centre == "samples":
        new()[net.offsets["output.bias"]] = 1.0
        owners.append(None)
    elif net.centre == "outputs":
        new()[net.offsets["output.bias"] + np.arange(n_out)] = 1.0
        owners.append(None)
        for col in range(width):
            new()[net.offsets["output.weight"] + np.arange(n_out) * width + col] = 1.0
            owners.append(None)
    S = np.column_stack(tangents) if tangents else np.zeros((net.n_parameters, 0))
    return S, owners


def _orthonormal(A, rtol=1e-10):
    """An orthonormal basis of the column space of ``A``."""
    if A.shape[1] == 0:
        return A
    U, s, _ = la.svd(A, full_matrices=False)
    return U[:, s > rtol * s[0]] if s.size and s[0] > 0 else U[:, :0]


def _complement(Q, n):
    """An orthonormal basis of the orthogonal complement of ``Q``'s columns in R^n."""
    if Q.shape[1] == 0:
        return np.eye(n)
    U = la.svd(Q, full_matrices=True)[0]
    return U[:, Q.shape[1]:]


# ---------------------------------------------------------------- spectrum
def _dense_spectrum(net, Q_S, tol):
    """Exact: SVD of J (the rank) and of J restricted to the symmetry complement."""
    J = net.jacobian()
    s = la.svd(J, compute_uv=False)
    sigma_max = float(s[0]) if s.size else 0.0
    if tol is None:
        tol = max(J.shape) * np.finfo(np.float64).eps
    rank = int((s > tol * sigma_max).sum()) if sigma_max > 0 else 0
    basis = _complement(Q_S, net.n_parameters)
    JB = J @ basis
    # all right singular vectors: with fewer rows than columns the thin SVD lacks some
    _, s_c, Vt = la.svd(JB, full_matrices=JB.shape[0] < JB.shape[1])
    eigenvalues = np.concatenate([s_c**2, np.zeros(basis.shape[1] - s_c.size)])[::-1]
    null = np.sqrt(eigenvalues) <= tol * sigma_max
    null_basis = basis @ Vt[::-1][null].T
    return {"J": J, "rank": rank, "sigma_max": sigma_max, "tol": tol,
            "eigenvalues": eigenvalues, "null_basis": null_basis, "complete": True}


def _iterative_spectrum(net, Q_S, tol, n_eigen, rng):
    """Matrix-free: Lanczos for the top of G, preconditioned LOBPCG for its low end.

    ``G v = J^T (J v)`` costs one forward-mode and one reverse-mode pass. The
    symmetry directions are excluded by LOBPCG's constraints, the
    preconditioner is the inverse of G's diagonal (estimated from random
    reverse-mode probes).
    """
    p = net.n_parameters
    tol = _ITERATIVE_TOL if tol is None else tol
    G = sla.LinearOperator(
        (p, p), matvec=net.gauss_newton,
        matmat=lambda V: np.column_stack([net.gauss_newton(v) for v in V.T]),
        dtype=np.float64,
    )
    v0 = rng.standard_normal(p)
    lambda_max = float(sla.eigsh(G, k=1, which="LA", tol=1e-8, v0=v0)[0][0])
    sigma_max = np.sqrt(max(lambda_max, 0.0))
    n_free = p - Q_S.shape[1]
    k = min(n_eigen, n_free)
    if k == 0 or lambda_max <= 0:
        return {"rank": 0 if lambda_max <= 0 else p - Q_S.shape[1], "sigma_max": sigma_max,
                "tol": tol, "eigenvalues": np.zeros(k), "null_basis": np.zeros((p, 0)),
                "complete": lambda_max > 0}
    threshold = tol**2 * lambda_max
    if n_free < 5 * k:  # LOBPCG iterates on blocks much smaller than the problem
        raise ValueError(
            f"method='iterative' computes max_rank={n_eigen} of the {n_free} "
            "eigenvalues beyond the symmetries, too many for LOBPCG; use "
            f"method='dense' or max_rank of at most {n_free // 5}."
        )
    diag = _diagonal_estimate(net, rng)
    shift = max(threshold, 1e-12 * lambda_max)
    M = sla.LinearOperator((p, p), matvec=lambda r: np.ravel(r) / (diag + shift),
                           matmat=lambda R: R / (diag + shift)[:, None], dtype=np.float64)
    X0 = rng.standard_normal((p, k))
    if Q_S.shape[1]:
        X0 -= Q_S @ (Q_S.T @ X0)
    with warnings.catch_warnings():  # convergence is judged below
        warnings.filterwarnings("ignore", message="(Exited|Failed)", category=UserWarning)
        w, V = sla.lobpcg(G, X0, M=M, Y=Q_S if Q_S.shape[1] else None,
                          tol=0.1 * threshold, maxiter=max(300, 20 * k), largest=False)
    order = np.argsort(w)
    w, V = np.maximum(w[order], 0.0), V[:, order]
    null = w <= threshold
    # A Ritz value bounds the eigenvalue of its rank from above (Cauchy
    # interlacing), so the null count is a lower bound, and each Ritz vector
    # below the threshold is itself a direction with ||J v|| <= tol sigma_max.
    # The count is exact unless the first Ritz value above the threshold has
    # an eigenvalue below it, which its residual cannot exclude.
    d = int(null.sum())
    if d < k:
        r = float(np.linalg.norm(net.gauss_newton(V[:, d]) - w[d] * V[:, d]))
        if w[d] - r <= threshold:
            warnings.warn(
                "LOBPCG stopped before separating the eigenvalues of G from the "
                f"threshold tol**2 * eigenvalue_max = {tol**2:.1e} * eigenvalue_max "
                f"(residual {r / lambda_max:.1e} * eigenvalue_max): the deficiency "
                f"{d} may be a lower bound. Use method='dense' for an exact answer, "
                "or another tol.",
                UserWarning,
                stacklevel=3,
            )
    complete = d < k
    if not complete:
        warnings.warn(
            f"All {k} eigenvalues computed by the iterative method are below tol: "
            f"the excess null space has dimension {k} or more. Raise max_rank or "
            "use method='dense' for the whole of it.",
            UserWarning,
            stacklevel=3,
        )
    return {"rank": p - Q_S.shape[1] - d, "sigma_max": sigma_max, "tol": tol,
            "eigenvalues": w, "null_basis": _orthonormal(V[:, null]), "complete": complete}


def _diagonal_estimate(net, rng, n_probes=32):
    """``diag(G)``, the squared column norms of ``J``, from Rademacher probes.

    ``E[(J^T u)_i^2] = sum_r J_ri^2`` for ``u`` with independent +-1
    entries: each probe costs one reverse-mode pass.
    """
    total = np.zeros(net.n_parameters)
    for _ in range(n_probes):
        u = rng.choice([-1.0, 1.0], size=(len(net.X), net.n_outputs))
        total += net.vjp(u) ** 2
    return total / n_probes


# ------------------------------------------------------------ per node
def _gauge_fix(null_basis, S, owners, net):
    """Remove from each null direction the pathway-node scales that move edge weights.

    A pathway node's scale symmetry also moves its parents' incoming
    weights, so the part of a null direction orthogonal to the symmetries
    is not yet what the recovery scores see. As :func:`align_to_teacher`
    fixes each node's scale by its incoming weights, the direction is
    corrected by the scale tangents that make the change of every scaled
    node's incoming weights orthogonal to those weights.
    """
    scaled = [i for i, owner in enumerate(owners) if owner is not None]
    if not scaled or null_basis.shape[1] == 0:
        return null_basis
    S_e = S[:, scaled]
    gauge = np.zeros_like(S_e)
    for col, i in enumerate(scaled):
        k, j = owners[i]
        name = f"pathway_layers.{k}.weight"
        edges = np.flatnonzero(net.module.pathway_layers[k].cols.cpu().numpy() == j)
        gauge[net.offsets[name] + edges, col] = net.value(name)[edges]
    alpha = np.linalg.lstsq(gauge.T @ S_e, gauge.T @ null_basis, rcond=None)[0]
    return _orthonormal(null_basis - S_e @ alpha)


def _node_frame(net, mask, basis, complete):
    frames = []
    for k, layer in enumerate(net.module.pathway_layers):
        cols = layer.cols.cpu().numpy()
        offset = net.offsets[f"pathway_layers.{k}.weight"]
        fractions, dims = [], []
        for j in range(layer.out_features):
            rows = basis[offset + np.flatnonzero(cols == j)]
            s = la.svdvals(rows) if rows.size else np.zeros(0)
            fractions.append(float(s[0] ** 2) if s.size else 0.0)
            dims.append(int((s**2 > NODE_TOL).sum()))
        fractions = np.minimum(fractions, 1.0)
        identifiable = pd.array(fractions <= NODE_TOL, dtype="boolean")
        if not complete:
            identifiable[fractions <= NODE_TOL] = pd.NA
        frames.append(pd.DataFrame({
            "layer": k,
            "node": np.asarray(mask.node_names[k]),
            "n_inputs": np.bincount(cols, minlength=layer.out_features),
            "null_fraction": fractions,
            "null_dim": dims,
            "identifiable": identifiable,
        }))
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- public
def _check_args(tol, max_rank, method):
    if method not in ("auto", "dense", "iterative"):
        raise ValueError(
            f"method must be 'auto', 'dense' or 'iterative'; got {method!r}."
        )
    if tol is not None and (
        isinstance(tol, bool) or not isinstance(tol, Real) or not 0 < tol < 1
    ):
        raise ValueError(
            f"tol must be None or a float in (0, 1), a fraction of J's largest "
            f"singular value; got {tol!r}."
        )
    if max_rank is not None and (
        isinstance(max_rank, bool) or not isinstance(max_rank, Integral) or max_rank < 1
    ):
        raise ValueError(f"max_rank must be None or a positive int; got {max_rank!r}.")


def identifiability_diagnostic(estimator, X, *, tol=None, max_rank=None, method="auto",
                               random_state=None):
    """Which pathway nodes' incoming weights are locally identifiable from the outputs.

    Takes the Jacobian ``J`` of the network's outputs on ``X`` (all samples
    x output units) with respect to its parameters at their fitted values,
    finds the null space of ``J`` (of the Gauss-Newton matrix ``G = J^T
    J``), removes the directions of the network's continuous symmetries and
    reports, per pathway node, whether what is left moves the node's
    incoming weights. For a node that is not identifiable here the data do
    not pin its incoming weights down: outputs matched to first order leave
    them free along the reported directions, so an exact fit does not imply
    recovery (a fit may still land on the teacher's weights, as it often
    does when the training set is smaller than the parameter count and a
    null space always exists; ``benchmarks/signals.py`` measures how well
    the flag predicts recovery). An identifiable node is pinned down, at
    least near these parameters.

    Parameters
    ----------
    estimator : fitted BINNClassifier, BINNRegressor or BINNSurvival, or a Pipeline ending in one
        Its ``module_`` is copied to float64 in eval mode (dropout off,
        batch norm on its running statistics). A Pipeline's earlier steps
        transform ``X``.
    X : array-like or pandas.DataFrame of shape (n_samples, n_genes)
        The data the identifiability is judged on.
    tol : float, default=None
        A direction ``v`` is null when ``||J v|| <= tol * sigma_max(J) *
        ||v||``. ``None``: ``max(n_rows, n_parameters) * eps`` with the dense
        method (NumPy's ``matrix_rank`` rule: exact up to float64 round-off),
        1e-4 with the iterative one (a practical threshold: the solver
        iterates to residuals of a tenth of ``tol**2 * eigenvalue_max`` and
        warns when an eigenvalue may still sit on the wrong side of it).
    max_rank : int, default=None
        The number of smallest eigenvalues of ``G`` (beyond the symmetries)
        reported; the iterative method computes exactly these, so it
        resolves an excess rank deficiency up to ``max_rank - 1``
        (``complete=False`` and a warning when all of them are null).
        ``None``: 16.
    method : {"auto", "dense", "iterative"}, default="auto"
        ``"dense"`` builds ``J`` exactly (one forward-mode pass per
        parameter or one reverse-mode pass per output row, whichever is
        fewer) and takes its SVD. ``"iterative"`` never forms ``J``:
        products ``G v = J^T (J v)`` take one forward-mode and one
        reverse-mode pass, the largest eigenvalue comes from Lanczos
        (``scipy.sparse.linalg.eigsh``) and the smallest from LOBPCG
        (``scipy.sparse.linalg.lobpcg``, Jacobi-preconditioned, restricted to
        the complement of the symmetry directions). ``"auto"``: dense when
        ``J`` has at most 3000 rows or columns and 2e7 entries.
    random_state : int, RandomState or None, default=None
        Seeds the iterative method's start vectors and probes.

    Returns
    -------
    IdentifiabilityDiagnostic
        ``.nodes`` per pathway node, and the global ``rank``,
        ``n_parameters``, ``n_symmetries``, ``deficiency``, ``eigenvalues``.

    See Also
    --------
    recovery_report : what a trained student actually recovered.

    Notes
    -----
    **Parameters.** ``J`` is taken with respect to every weight and bias of
    the pathway layers, the dense head and the output layer: all are
    learned together, so the pathway weights must be identifiable with the
    others free. Batch norm's scale and shift are held at their fitted
    values (they would only duplicate each node's weight scale and bias).

    **Outputs.** Regression and binary classification use the raw outputs
    (values, logits). A multiclass network's logits are centred per sample
    and a survival network's log-risk across samples: the softmax and the
    Cox partial likelihood ignore those shifts, so the null space is that
    of the Fisher information of the fitted loss.

    **Symmetries discounted**, per node (pathway nodes with the
    ``activation``, head nodes with the ``head_activation``): ``relu`` is
    positively homogeneous, so scaling a node's incoming weights and bias
    by ``c > 0`` and its outgoing weights by ``1 / c`` is a one-dimensional
    family (one tangent direction per node); ``identity`` has that scale
    and also a shift of the node absorbed by its parents' biases (two
    directions). ``tanh`` (``tanh(-z) = -tanh(z)``) and ``sigmoid``
    (``sigmoid(-z) = 1 - sigmoid(z)``) have only a sign flip, a discrete
    symmetry with no tangent direction: in a generically identifiable
    ``tanh`` network the null space is empty. Survival adds the log-risk
    shift (the output bias), multiclass the shift of all logits by any
    affine function of the output layer's inputs (the output bias and each
    column of the output weights, moved together over classes; with
    ``covariates`` the covariates' columns too). Nodes with identical
    wiring (duplicated gene sets) can be exchanged, another discrete
    symmetry; when such nodes also have equal weights, or are linear,
    their weights can be mixed continuously, which is *not* discounted (the
    recovery scores are not invariant to it) and shows as non-identifiable.

    **Per node.** The excess null space is made invariant to the node
    scales as :func:`align_to_teacher` does: each null direction is
    corrected by the scale tangents so that every scaled node's incoming
    weights change orthogonally to themselves (otherwise a child's scale
    would show as a change of its parent's weights). ``null_fraction`` is
    then the largest squared norm a unit null direction puts on the node's
    incoming weights, ``identifiable`` is ``null_fraction <= 1e-6``.

    **Local and first-order.** The answer holds near these parameters and
    these data. At a singular point (two nodes with equal weights on the
    same genes) ``J`` loses rank although the weights may still be pinned
    down at second order, so a flagged node there is a warning sign rather
    than a proof; an identifiable node is identifiable.

    **Autodiff.** The sparse layer's custom autograd Function supports
    reverse mode (``torch.func.vjp``) and forward mode through
    ``torch.autograd.forward_ad`` (dual tensors); ``torch.func.jvp`` and
    ``torch.func.jacrev`` do not run on it (functorch's wrapped tensors
    cannot build the sparse CSR tensor of its ``jvp`` rule, and it has no
    vmap rule), so ``J v`` uses dual tensors with ``functional_call``.

    The dense method costs ``min(n_rows, n_parameters)`` passes and an SVD
    of ``J``; the iterative one stores ``n_parameters`` x (number of
    symmetries + ``3 * max_rank``) floats and needs a few hundred to
    thousands of ``G v`` products; ill-conditioned networks converge slowly.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_binn import PathwayMask, TeacherDataset, identifiability_diagnostic
    >>> mask = PathwayMask.from_gene_sets(
    ...     {"P1": ["A", "B"], "P2": ["C", "D"], "P3": ["C", "D"]})
    >>> teacher = TeacherDataset(mask, activation="identity", random_state=0)
    >>> X, _ = teacher.sample(100, random_state=1)
    >>> result = identifiability_diagnostic(teacher.to_estimator(), X)
    >>> result.n_parameters, result.rank, result.n_symmetries, result.deficiency
    (13, 5, 6, 2)
    >>> result.nodes[["node", "identifiable"]]
      node  identifiable
    0   P1          True
    1   P2         False
    2   P3         False
    """
    _check_args(tol, max_rank, method)
    pre, final = binn_step(estimator, needs="identifiability_diagnostic needs")
    if pre is not None:
        X = pre.transform(X)
    X = final._validate_X(X, reset=False)
    module = final.module_
    n_out = module.output.out_features
    centre = None
    if isinstance(final, SurvivalAnalysisMixin):
        centre = "samples"
    elif final.__sklearn_tags__().estimator_type == "classifier" and n_out > 1:
        centre = "outputs"
    net = _OutputMap(module, X, centre)
    S, owners = _symmetry_tangents(net)
    Q_S = _orthonormal(S)
    n_eigen = _DEFAULT_N_EIGENVALUES if max_rank is None else int(max_rank)
    if method == "auto":
        small = min(net.n_rows, net.n_parameters) <= _DENSE_MAX_PASSES
        fits = net.n_rows * net.n_parameters <= _DENSE_MAX_ENTRIES
        method = "dense" if small and fits else "iterative"
    rng = check_random_state(random_state)
    if method == "dense":
        spectrum = _dense_spectrum(net, Q_S, tol)
    else:
        spectrum = _iterative_spectrum(net, Q_S, tol, n_eigen, rng)
    residual = np.nan
    if S.shape[1] and spectrum["sigma_max"] > 0:
        s = S @ rng.standard_normal(S.shape[1])
        Js = spectrum["J"] @ s if "J" in spectrum else net.jvp(s).cpu().numpy().ravel()
        residual = float(np.linalg.norm(Js) / (spectrum["sigma_max"] * np.linalg.norm(s)))
    basis = _gauge_fix(spectrum["null_basis"], S, owners, net)
    nodes = _node_frame(net, final.mask_, basis, spectrum["complete"])
    n_sym = Q_S.shape[1]
    deficiency = spectrum["null_basis"].shape[1]
    return IdentifiabilityDiagnostic(
        nodes=nodes,
        rank=int(spectrum["rank"]),
        n_parameters=net.n_parameters,
        n_symmetries=n_sym,
        deficiency=int(deficiency),
        eigenvalues=np.asarray(spectrum["eigenvalues"][:n_eigen], dtype=np.float64),
        eigenvalue_max=float(spectrum["sigma_max"] ** 2),
        tol=float(spectrum["tol"]),
        method=method,
        complete=bool(spectrum["complete"]),
        symmetry_residual=residual,
    )
