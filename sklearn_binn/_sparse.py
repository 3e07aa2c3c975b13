"""A linear layer that stores one parameter per edge of a mask.

The layer keeps its inputs *feature-major*, shape ``(n_features, batch)``,
and has two kernels over the same per-edge parameters:

- ``"csr"``: the forward product, the input gradient and the weight
  gradient are each one CSR kernel (``W.T @ x``, ``W @ g`` and
  ``sampled_addmm``) with no transposes of the batch, so the cost of a
  pass grows with the number of edges, not with genes × pathways;
- ``"dense"``: the edge weights are scattered into a dense
  ``(n_outputs, n_inputs)`` matrix and multiplied by one GEMM; autograd
  gathers the weight gradient back onto the edges. Its cost grows with
  genes × pathways but it has no per-call sparse overhead, which small
  layers cannot amortise.

``"auto"`` picks the dense kernel for layers with at most
``DENSE_MAX_ENTRIES`` input-output pairs, or at most ``DENSE_MAX_ENTRIES_DENSE``
pairs when at least ``DENSE_MIN_DENSITY`` of them are edges, and CSR above
(:meth:`SparseLinear.auto_kernel`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

__all__ = ["SparseLinear", "DenseMaskedLinear"]

# The "auto" kernel is dense for layers with at most DENSE_MAX_ENTRIES
# ``n_inputs * n_outputs`` pairs, and for layers with at most
# DENSE_MAX_ENTRIES_DENSE pairs of which at least DENSE_MIN_DENSITY are
# edges; measured in benchmarks/speed.py, part (h) (see SparseLinear's Notes).
DENSE_MAX_ENTRIES = 2**17
DENSE_MAX_ENTRIES_DENSE = 2**21
DENSE_MIN_DENSITY = 0.2

KERNELS = ("auto", "dense", "csr")

# Batches of at most this many samples are transposed to feature-major by a
# strided copy into the transposed view of a new tensor, which measured 1.2 to
# 1.5 times faster there than torch's blocked transpose (``.contiguous()``);
# that one is faster for larger batches (torch 2.13, one thread, 128 to
# 10,000 samples of 100 to 20,000 features, float32 and float64).
TRANSPOSE_COPY_MAX_SAMPLES = 256

_CSR_BETA_WARNING = "Sparse CSR tensor support is in beta"
_csr_warning_seen = False


def _csr(crow, col, values, shape):
    global _csr_warning_seen
    if _csr_warning_seen:
        return torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)
    # torch warns once per process that CSR support is in beta; silence that
    # one warning where it arises instead of filtering it process-wide
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_CSR_BETA_WARNING, category=UserWarning)
        tensor = torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)
    _csr_warning_seen = True
    return tensor


class _FeatureMajorSparseLinear(torch.autograd.Function):
    """``out_t = W.T @ x_t + c`` with ``W`` a CSR matrix given by its values.

    ``c`` is a bias of shape ``(n_out,)``, broadcast over the batch, or a
    whole addend of shape ``(n_out, batch)`` (what a skip-level network has
    already summed into the nodes), added by the same ``addmm``.
    """

    # forward(ctx, ...) without setup_context: torch binds the arguments of a
    # Function that defines setup_context through inspect.signature on every
    # call (tens of microseconds, several times a step); torch.func transforms,
    # which need setup_context, never reach this Function (edge_product)
    @staticmethod
    def forward(ctx, x_t, weight, c, crow, col, crow_t, col_t, perm):
        n_in, n_out = crow.shape[0] - 1, crow_t.shape[0] - 1
        ctx.save_for_backward(x_t, weight, crow, col, crow_t, col_t, perm)
        ctx.c_is_bias = c.dim() == 1
        ctx.saved_for_jvp = (x_t, weight)
        ctx.index_for_jvp = (crow, col, crow_t, col_t, perm)
        w_t = _csr(crow_t, col_t, weight.index_select(0, perm), (n_out, n_in))
        return torch.addmm(c[:, None] if c.dim() == 1 else c, w_t, x_t)

    @staticmethod
    def backward(ctx, grad_t):
        x_t, weight, crow, col, crow_t, col_t, perm = ctx.saved_tensors
        n_in, n_out = crow.shape[0] - 1, crow_t.shape[0] - 1
        grad_x = grad_w = grad_c = None
        if ctx.needs_input_grad[0]:
            # addmm onto a broadcast zero column: the same product as ``@``,
            # without the zero-filled (n_in, batch) output ``@`` starts from
            zero = grad_t.new_zeros(()).expand(n_in, 1)
            grad_x = torch.addmm(zero, _csr(crow, col, weight, (n_in, n_out)), grad_t)
        if ctx.needs_input_grad[1]:
            pattern = _csr(crow, col, torch.zeros_like(weight), (n_in, n_out))
            grad_w = torch.sparse.sampled_addmm(pattern, x_t, grad_t.T, beta=0.0).values()
        if ctx.needs_input_grad[2]:
            grad_c = grad_t.sum(dim=1) if ctx.c_is_bias else grad_t
        return grad_x, grad_w, grad_c, None, None, None, None, None

    @staticmethod
    def jvp(ctx, x_dot, weight_dot, c_dot, *_):
        # forward-mode rule (torch.autograd.forward_ad: Jacobian-vector products)
        x_t, weight = ctx.saved_for_jvp
        crow, col, crow_t, col_t, perm = ctx.index_for_jvp
        n_in, n_out = crow.shape[0] - 1, crow_t.shape[0] - 1
        out = torch.zeros(n_out, x_t.shape[1], dtype=x_t.dtype, device=x_t.device)
        if x_dot is not None:
            out = out + _csr(crow_t, col_t, weight[perm], (n_out, n_in)) @ x_dot
        if weight_dot is not None:
            out = out + _csr(crow_t, col_t, weight_dot[perm], (n_out, n_in)) @ x_t
        if c_dot is not None:
            out = out + (c_dot[:, None] if ctx.c_is_bias else c_dot)
        return out


def _index_buffers(module, csr, persistent=True):
    """Register the CSR, transposed-CSR and COO index buffers of a 0/1 matrix."""
    n_in, n_out = csr.shape
    coo = csr.tocoo()
    # order of the edges in the transposed (node-major) CSR layout
    perm = np.lexsort((coo.row, coo.col))
    csr_t = sp.csr_matrix((np.arange(csr.nnz), (coo.col, coo.row)), shape=(n_out, n_in))
    csr_t.sort_indices()
    module.in_features, module.out_features, module.n_edges = n_in, n_out, csr.nnz
    for name, values in (("crow", csr.indptr), ("col", csr.indices),
                         ("crow_t", csr_t.indptr), ("col_t", csr_t.indices),
                         ("perm", perm), ("rows", coo.row), ("cols", coo.col)):
        module.register_buffer(
            name, torch.as_tensor(values, dtype=torch.int64), persistent=persistent
        )


def feature_major(x_t):
    """``x_t.contiguous()``: the CSR kernels' feature-major copy of a batch.

    ``x_t`` of shape ``(n_features, batch)`` is usually the transposed view
    of a batch-major tensor; small batches are copied through the transposed
    view of the result (see ``TRANSPOSE_COPY_MAX_SAMPLES``). Differentiable.
    """
    if (x_t.dim() != 2 or x_t.is_contiguous() or not x_t.T.is_contiguous()
            or x_t.shape[1] > TRANSPOSE_COPY_MAX_SAMPLES):
        return x_t.contiguous()
    out = x_t.new_empty(x_t.shape)
    out.T.copy_(x_t.T)
    return out


def edge_product(index, kernel, weight, bias, x_t):
    """``W.T @ x_t + c`` with the edges of ``index`` (a layer or a row block).

    ``bias`` is the ``(n_outputs,)`` bias, or a whole ``(n_outputs, batch)``
    addend that the same product accumulates into (a skip-level network's
    running sum of what its nodes have received).
    """
    addend = bias[:, None] if bias.dim() == 1 else bias
    if kernel == "dense":
        flat = weight.new_zeros(index.out_features * index.in_features)
        flat = flat.scatter(0, index.dense_index, weight)
        return torch.addmm(addend, flat.view(index.out_features, index.in_features), x_t)
    if torch._C._are_functorch_transforms_active():
        products = weight[:, None] * x_t[index.rows]
        out = x_t.new_zeros(index.out_features, x_t.shape[1])
        return addend + out.index_add(0, index.cols, products)
    return _FeatureMajorSparseLinear.apply(
        feature_major(x_t), weight, bias,
        index.crow, index.col, index.crow_t, index.col_t, index.perm,
    )


class RowBlock(nn.Module):
    """The edges of a layer that leave one block of its rows (index buffers only).

    A layer's edges are stored row by row, so the edges of rows
    ``row_start:row_stop`` are the contiguous slice ``edge_start:edge_stop``
    of its weight; the block computes their product with its own indices,
    derived from the layer's (not part of the state dict).
    """

    def __init__(self, csr, row_start, row_stop):
        super().__init__()
        block = csr[row_start:row_stop]
        self.row_start, self.row_stop = row_start, row_stop
        self.edge_start, self.edge_stop = int(csr.indptr[row_start]), int(csr.indptr[row_stop])
        _index_buffers(self, block, persistent=False)
        flat = self.cols * self.in_features + self.rows
        self.register_buffer("dense_index", flat, persistent=False)

    def auto_kernel(self):
        """The kernel ``"auto"`` picks for the block.

        :meth:`SparseLinear.auto_kernel`, except that a block below 1 %
        density is always CSR: the edges leaving one source of a skip-level
        network (``BINNModule``) are wide and very sparse (a layer's nodes
        feed a few of the thousands of nodes above them), a density the
        dense kernel's rule was not measured at, and where its
        ``n_inputs * n_outputs`` GEMM does hundreds of times the useful
        work.
        """
        pairs = self.in_features * self.out_features
        if self.n_edges < 0.01 * pairs:
            return "csr"
        return SparseLinear.auto_kernel(self.in_features, self.out_features, self.n_edges)

    def extra_repr(self):
        return (
            f"rows={self.row_start}:{self.row_stop}, n_edges={self.n_edges}, "
            f"kernel={self.auto_kernel()!r}"
        )


class SparseLinear(nn.Module):
    """A masked linear layer with one parameter per edge.

    ``y = x @ W + b`` where ``W`` has the sparsity pattern of ``mask``;
    connections outside the mask do not exist (no parameter, no gradient,
    untouched by weight decay).

    Parameters
    ----------
    mask : scipy.sparse matrix or array-like of shape (n_inputs, n_outputs)
        0/1 pattern; entry ``(i, j)`` is 1 when input ``i`` feeds output ``j``.
    kernel : {"auto", "dense", "csr"}, default="auto"
        How the product is computed; the parameters, the results and the
        gradients are the same either way (up to float rounding).
        ``"csr"`` uses sparse CSR kernels, whose cost grows with the edges;
        ``"dense"`` scatters the edge weights into a dense
        ``(n_outputs, n_inputs)`` matrix and runs one GEMM, whose cost grows
        with ``n_inputs * n_outputs`` but which has no per-call sparse
        overhead; ``"auto"`` is dense when ``n_inputs * n_outputs`` is at
        most 131,072 (2**17), or at most 2,097,152 (2**21) with a density of
        at least 20 %, and CSR otherwise (see Notes). Settable later through
        the ``kernel`` attribute.
    generator : torch.Generator, default=None
        Source of the initial weights and biases; ``None`` draws from
        torch's global generator.
    row_splits : sequence of int, default=None
        Sizes of consecutive blocks of the inputs (summing to ``n_inputs``)
        that :meth:`forward_blocks` receives as separate tensors, so that a
        caller holding a layer's inputs in pieces (e.g. the genes and the
        activations of lower layers) need not concatenate them. Each block
        computes with the kernel that suits its own size. The parameters are
        the same: one per edge, in the CSR order of ``mask``.

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (n_edges,)
        Edge weights in the CSR order of ``mask`` (row by row).
    bias : torch.nn.Parameter of shape (n_outputs,)
    in_features, out_features, n_edges : int
    kernel : {"auto", "dense", "csr"}
        The kernel asked for; assign to change it.
    active_kernel : {"dense", "csr"}
        The kernel in use (``kernel`` with ``"auto"`` resolved); ``repr``
        shows it.
    row_blocks : torch.nn.ModuleList or tuple
        With ``row_splits``, one index module per block of rows (an empty
        tuple otherwise).

    Notes
    -----
    Weights are initialised as :class:`torch.nn.Linear` does, but with each
    node's true fan-in (its number of members), ``U(-1/sqrt(d), 1/sqrt(d))``.

    The "auto" rule was measured on one CPU thread (torch 2.13, AVX-512,
    2 shared cores; ``benchmarks/speed.py``, part (h)): forward + backward
    of both kernels on random ``n x n/5`` masks of 1 %, 5 %, 10 % and 20 %
    density, batches of 128 and 4,000, median of interleaved repeats. Up to
    98,000 pairs (700 x 140) the dense kernel was faster in 31 of 32 cases
    (100 x 20: 2.0 times at batch 128, 2.3 to 5 times at 4,000; the
    exception, 700 x 140 at 1 % and batch 128, 1.1 times slower). From
    200,000 pairs (1,000 x 200) on, at batch 128, CSR was faster at 1 % to
    10 % density (1.1 to 5.7 times; real pathway layers of that size are
    below 5 %) and the two were within 20 % at 20 %; at batch 4,000 the
    dense kernel won from 5 % density on, 2.7 to 3.2 times at 20 %. Hence
    the crossover at 2**17 pairs, moved to 2**21 (the largest size measured
    with both kernels) for masks of at least 20 % density. See
    ``docs/speed.rst``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_binn.modules import SparseLinear
    >>> layer = SparseLinear(np.array([[1, 0], [1, 1], [0, 1]]))
    >>> layer.weight.shape, layer(torch.ones(4, 3)).shape
    (torch.Size([4]), torch.Size([4, 2]))
    >>> layer
    SparseLinear(in_features=3, out_features=2, n_edges=4, kernel='dense')
    >>> layer.kernel = "csr"
    >>> layer.active_kernel
    'csr'
    """

    def __init__(self, mask, *, kernel="auto", generator=None, row_splits=None):
        super().__init__()
        csr = sp.csr_matrix(mask, dtype=np.float32)
        csr.eliminate_zeros()
        csr.sort_indices()
        _index_buffers(self, csr)
        self._register_dense_index()
        self.weight = nn.Parameter(torch.empty(csr.nnz))
        self.bias = nn.Parameter(torch.empty(self.out_features))
        self.kernel = kernel
        self.row_blocks = ()
        if row_splits is not None:
            sizes = [int(size) for size in row_splits]
            if any(size < 0 for size in sizes) or sum(sizes) != self.in_features:
                raise ValueError(
                    "row_splits must be non-negative block sizes summing to the "
                    f"layer's {self.in_features} inputs; got {list(row_splits)}."
                )
            stops = np.cumsum(sizes)
            self.row_blocks = nn.ModuleList(
                RowBlock(csr, int(stop - size), int(stop)) for size, stop in zip(sizes, stops)
            )
        self.reset_parameters(generator=generator)

    def _register_dense_index(self):
        # position of each edge in the flattened (n_out, n_in) dense weight;
        # derived from rows/cols, so not part of the state dict
        flat = self.cols * self.in_features + self.rows
        self.register_buffer("dense_index", flat, persistent=False)

    @property
    def kernel(self):
        """{"auto", "dense", "csr"}: the kernel asked for (assign to change it)."""
        return self._kernel

    @kernel.setter
    def kernel(self, value):
        if not isinstance(value, str) or value not in KERNELS:
            raise ValueError(
                "The 'kernel' parameter of SparseLinear must be a str among "
                f"{{'auto', 'dense', 'csr'}}. Got {value!r} instead."
            )
        self._kernel = value

    @property
    def active_kernel(self):
        """{"dense", "csr"}: the kernel in use, with ``"auto"`` resolved."""
        if self._kernel != "auto":
            return self._kernel
        return self.auto_kernel(self.in_features, self.out_features, self.n_edges)

    @staticmethod
    def auto_kernel(n_inputs, n_outputs, n_edges):
        """The kernel ``"auto"`` picks for a layer: ``"dense"`` or ``"csr"``.

        Dense when ``n_inputs * n_outputs <= DENSE_MAX_ENTRIES`` (2**17), or
        when ``n_inputs * n_outputs <= DENSE_MAX_ENTRIES_DENSE`` (2**21) and
        at least ``DENSE_MIN_DENSITY`` (20 %) of the pairs are edges; CSR
        otherwise. The measurements behind the rule are in the class Notes.

        Examples
        --------
        >>> from sklearn_binn.modules import SparseLinear
        >>> rule = SparseLinear.auto_kernel
        >>> rule(100, 20, 370), rule(20_000, 3_906, 80_048)
        ('dense', 'csr')
        >>> rule(1_000, 200, 2_000), rule(1_000, 200, 40_000)
        ('csr', 'dense')
        """
        pairs = n_inputs * n_outputs
        if pairs <= DENSE_MAX_ENTRIES:
            return "dense"
        if pairs <= DENSE_MAX_ENTRIES_DENSE and n_edges >= DENSE_MIN_DENSITY * pairs:
            return "dense"
        return "csr"

    def reset_parameters(self, generator=None):
        """Draw weights and biases from ``U(-1/sqrt(d_j), 1/sqrt(d_j))``.

        Parameters
        ----------
        generator : torch.Generator, default=None
            Source of the draws (weights first, then biases); ``None`` uses
            torch's global generator, so ``torch.Generator().manual_seed(s)``
            gives the same weights as ``torch.manual_seed(s)``.
        """
        fan_in = torch.bincount(self.cols, minlength=self.out_features).clamp(min=1)
        bound = 1.0 / fan_in.float().sqrt()
        with torch.no_grad():
            self.weight.uniform_(-1.0, 1.0, generator=generator).mul_(bound[self.cols])
            self.bias.uniform_(-1.0, 1.0, generator=generator).mul_(bound)

    def forward_feature_major(self, x_t):
        """Apply the layer to inputs of shape ``(n_inputs, batch)``.

        Returns the pre-activations, shape ``(n_outputs, batch)``. The dense
        kernel is plain differentiable torch operations. The CSR kernel,
        under ``torch.func`` transforms (``jvp``, ``grad``, ``jacrev``,
        ``vmap``), which cannot build CSR tensors from their wrapped inputs,
        computes the same product by a gather and ``index_add`` over the
        edges.
        """
        if self.active_kernel == "dense":
            return torch.addmm(self.bias[:, None], self.dense_weight_t(), x_t)
        return edge_product(self, "csr", self.weight, self.bias, x_t)

    def forward_blocks(self, blocks):
        """Apply the layer to its inputs given block by block, feature-major.

        Parameters
        ----------
        blocks : list of torch.Tensor
            One tensor of shape ``(size, batch)`` per entry of ``row_splits``;
            together, in order, they are the layer's inputs.

        Returns
        -------
        torch.Tensor of shape (n_outputs, batch)
            Equal to ``forward_feature_major(torch.cat(blocks))``; a block
            without edges is not read.
        """
        if len(blocks) != len(self.row_blocks) or not self.row_blocks:
            raise ValueError(
                f"forward_blocks expects one input per row block "
                f"({len(self.row_blocks)}, set by row_splits); got {len(blocks)}."
            )
        out = None
        for index, x_t in zip(self.row_blocks, blocks):
            if index.n_edges == 0:
                continue
            kernel = self._kernel
            if kernel == "auto":
                kernel = index.auto_kernel()
            bias = self.bias if out is None else self.bias.new_zeros(()).expand(self.out_features)
            part = edge_product(
                index, kernel, self.weight[index.edge_start:index.edge_stop], bias, x_t
            )
            out = part if out is None else out + part
        if out is None:
            return self.bias[:, None].expand(self.out_features, blocks[0].shape[1])
        return out

    def dense_weight_t(self):
        """The weights scattered into a dense ``(n_outputs, n_inputs)`` tensor.

        Differentiable: the gradient of a function of this matrix reaches
        ``weight`` by a gather of its masked entries.
        """
        flat = self.weight.new_zeros(self.out_features * self.in_features)
        flat = flat.scatter(0, self.dense_index, self.weight)
        return flat.view(self.out_features, self.in_features)

    def forward(self, x):
        """Apply the layer to inputs of shape ``(batch, n_inputs)``."""
        return self.forward_feature_major(x.T).T

    def weight_matrix(self):
        """The weights as a ``scipy.sparse.csr_matrix`` of shape (n_inputs, n_outputs)."""
        return sp.csr_matrix(
            (
                self.weight.detach().cpu().double().numpy(),
                self.col.cpu().numpy(),
                self.crow.cpu().numpy(),
            ),
            shape=(self.in_features, self.out_features),
        )

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"n_edges={self.n_edges}, kernel={self.active_kernel!r}"
        )

    def __setstate__(self, state):
        # layers pickled before the kernels existed have neither the kernel
        # nor the dense index
        super().__setstate__(state)
        if "_kernel" not in self.__dict__:
            self._kernel = "auto"
        if "row_blocks" not in self._modules and "row_blocks" not in self.__dict__:
            self.row_blocks = ()
        if "dense_index" not in self._buffers:
            self._register_dense_index()

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Loading weights saved from another mask would silently rewire the
        # layer (the index buffers are part of the state); refuse instead.
        for name in ("crow", "col"):
            saved = state_dict.get(prefix + name)
            own = getattr(self, name)
            if saved is not None and (
                saved.shape != own.shape or not torch.equal(saved.cpu(), own.cpu())
            ):
                layer = prefix.rstrip(".") or "this layer"
                raise ValueError(
                    f"The saved parameters for {layer} come from a different mask "
                    "(its edges differ from this network's). Load them into an "
                    "estimator fitted with the same mask and depth."
                )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class DenseMaskedLinear(nn.Module):
    """The usual BINN layer: a dense weight multiplied by a 0/1 mask.

    Kept as the reference that tests and benchmarks compare
    :class:`SparseLinear` against; it stores ``n_inputs * n_outputs``
    weights whatever the mask.

    Parameters
    ----------
    mask : scipy.sparse matrix or array-like of shape (n_inputs, n_outputs)

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_binn.modules import DenseMaskedLinear, SparseLinear
    >>> sparse = SparseLinear(np.array([[1, 0], [1, 1], [0, 1]]))
    >>> dense = DenseMaskedLinear.from_sparse(sparse)
    >>> dense.weight.numel(), sparse.weight.numel()
    (6, 4)
    >>> x = torch.randn(5, 3)
    >>> torch.allclose(dense(x), sparse(x), atol=1e-6)
    True
    """

    def __init__(self, mask):
        super().__init__()
        dense = np.asarray(sp.csr_matrix(mask).toarray() != 0, dtype=np.float32)
        n_in, n_out = dense.shape
        self.register_buffer("mask", torch.as_tensor(dense))
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.empty(n_out))
        fan_in = self.mask.sum(0).clamp(min=1)
        with torch.no_grad():
            self.weight.uniform_(-1.0, 1.0).mul_(1.0 / fan_in.sqrt())
            self.bias.uniform_(-1.0, 1.0).mul_(1.0 / fan_in.sqrt())

    def forward(self, x):
        return x @ (self.weight * self.mask) + self.bias

    @classmethod
    def from_sparse(cls, layer):
        """A dense-masked copy of a :class:`SparseLinear`: equal weights, dtype and device."""
        mask = sp.csr_matrix(
            (np.ones(layer.n_edges), layer.col.cpu().numpy(), layer.crow.cpu().numpy()),
            shape=(layer.in_features, layer.out_features),
        )
        dense = cls(mask).to(device=layer.weight.device, dtype=layer.weight.dtype)
        with torch.no_grad():
            dense.weight.zero_()
            dense.weight[layer.rows, layer.cols] = layer.weight.detach()
            dense.bias.copy_(layer.bias.detach())
        return dense


def init_bound(fan_in):
    """The ``nn.Linear`` initialisation bound for a node with ``fan_in`` inputs."""
    return 1.0 / math.sqrt(max(fan_in, 1))
