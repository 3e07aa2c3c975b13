"""The BINN torch module: sparse pathway layers, an optional dense head, an output layer."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from ._activations import ACTIVATIONS, get_activation
from ._mask import PathwayMask
from ._sparse import RowBlock, SparseLinear, edge_product

__all__ = ["BINNModule", "ACTIVATIONS"]


class BINNModule(nn.Module):
    """A stack of sparse pathway layers ending in an output layer.

    ``genes -> pathway layer 0 -> ... -> pathway layer k-1 -> [dense head]
    -> outputs``. Each pathway layer is a :class:`SparseLinear` followed by
    the activation (and optional batch norm and dropout); the output layer
    is dense over the last pathway layer (or the head). With a skip-level
    mask (``mask.skip_levels``) pathway layer ``k`` reads the genes and the
    activations of every lower layer: its :class:`SparseLinear` holds one
    weight per edge over the concatenation ``[genes, layer 0, ...,
    layer k-1]``. The forward pass never builds that concatenation: it
    pushes each source forward once, as soon as it is known, into every
    layer above it (one sparse product per source: the genes, then each
    layer's activations, with the weights of that source's edges taken from
    one gather over all layers' weights), accumulating into the running
    pre-activations of the layers not yet computed.

    Parameters
    ----------
    mask : PathwayMask or list of sparse matrices
        The wiring, one ``(n_inputs, n_outputs)`` matrix per pathway layer;
        a list is a chain mask.
    n_outputs : int, default=1
        Width of the output layer (1 for regression, binary logits and
        log-risk; the number of classes for multiclass).
    activation : {"tanh", "relu", "sigmoid", "identity"}, default="tanh"
        Non-linearity after every pathway layer.
    dropout : float, default=0.0
        Dropout rate after every pathway layer.
    batch_norm : bool, default=False
        Batch-normalise pathway pre-activations.
    head_layer_sizes : tuple of int, default=()
        Widths of a dense MLP between the last pathway layer and the output.
        ``()`` keeps a pure BINN.
    head_activation : {"tanh", "relu", "sigmoid", "identity"}, default="relu"
    head_dropout : float, default=0.0
        Dropout before each dense head layer.
    kernel : {"auto", "dense", "csr"}, default="auto"
        The product each pathway layer computes with (see
        :class:`SparseLinear`); ``"auto"`` picks the faster one for each
        layer's size. Estimators take it as ``module__kernel``. In a
        skip-level network the products run per source (``source_edges``),
        with the kernel of ``pathway_layers[0]``; ``"auto"`` is then CSR below
        1 % density.
    n_covariates : int, default=0
        The last ``n_covariates`` input columns are covariates (clinical
        variables): they skip the pathway layers and the head and join the
        output layer, ``output(concat(h, covariates))``, as in P-NET.
        Estimators set it from their ``covariates`` parameter.

    Attributes
    ----------
    pathway_layers : torch.nn.ModuleList of SparseLinear
    pathway_activations : torch.nn.ModuleList of torch.nn.Sequential
        Per pathway layer, the non-linearity as a ``torch.nn`` module, then
        an identity whose output is the layer's activation, shape
        ``(batch, n_nodes)``: where hooks (captum's attribution methods)
        read the pathway activations.
    head_layers : torch.nn.ModuleList of torch.nn.Linear
    head_activations : torch.nn.ModuleList
        The dense head's non-linearities, one module per head layer.
    output : torch.nn.Linear
    skip_levels : bool
        Whether a pathway layer reads the genes and every lower layer.
    source_edges : torch.nn.ModuleList
        Only in a skip-level network: per source (the genes, then each
        pathway layer below the top), the index of its edges into every
        layer that reads it (no parameters: the weights stay in
        ``pathway_layers``).

    Examples
    --------
    >>> import torch
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> from sklearn_binn.modules import BINNModule
    >>> module = BINNModule(make_pathway_mask(50, depth=2, random_state=0))
    >>> module(torch.zeros(3, 50)).shape
    torch.Size([3, 1])
    """

    n_covariates = 0  # modules pickled before covariates have none

    def __init__(self, mask, n_outputs=1, activation="tanh", dropout=0.0,
                 batch_norm=False, head_layer_sizes=(), head_activation="relu",
                 head_dropout=0.0, kernel="auto", n_covariates=0):
        super().__init__()
        self.n_covariates = int(n_covariates)
        layers = mask.layers if isinstance(mask, PathwayMask) else list(mask)
        self.skip_levels = isinstance(mask, PathwayMask) and mask.skip_levels
        self.activation = activation
        self.head_activation = head_activation
        act = get_activation(activation, "activation").module
        head_act = get_activation(head_activation, "head_activation").module
        self.pathway_layers = nn.ModuleList(
            SparseLinear(layer, kernel=kernel) for layer in layers
        )
        # one activation module per layer (what DeepLIFT's rescale rule
        # recognises), and after it an identity whose output, the layer's
        # activation of shape (batch, n_nodes), is where hooks read
        self.pathway_activations = nn.ModuleList(
            nn.Sequential(act(), nn.Identity()) for _ in layers
        )
        if self.skip_levels:
            # per source (the genes, then each layer but the top): its edges
            # into every higher layer, as one index
            self.source_edges = nn.ModuleList(
                _source_edges(layers, s) for s in range(-1, len(layers) - 1)
            )
            self._register_edge_gather()
        self.head_activations = nn.ModuleList(head_act() for _ in head_layer_sizes)
        self.batch_norms = nn.ModuleList(
            nn.BatchNorm1d(layer.out_features) if batch_norm else nn.Identity()
            for layer in self.pathway_layers
        )
        self.dropout = nn.Dropout(dropout)
        width = self.pathway_layers[-1].out_features
        head = []
        for size in head_layer_sizes:
            head.append(nn.Linear(width, int(size)))
            width = int(size)
        self.head_layers = nn.ModuleList(head)
        self.head_dropout = nn.Dropout(head_dropout)
        self.output = nn.Linear(width + self.n_covariates, n_outputs)

    def reset_parameters(self, generator=None):
        """Draw every weight afresh, as at construction, from ``generator``.

        The draws come in construction order with the distributions torch
        uses (:class:`SparseLinear` then :class:`torch.nn.Linear`), so a
        ``torch.Generator`` seeded with ``s`` gives the weights that
        ``torch.manual_seed(s)`` before construction gives, without touching
        torch's global random state.

        Parameters
        ----------
        generator : torch.Generator, default=None
            ``None`` draws from torch's global generator.

        Returns
        -------
        self
        """
        for layer in self.pathway_layers:
            layer.reset_parameters(generator=generator)
        for norm in self.batch_norms:
            if isinstance(norm, nn.BatchNorm1d):
                norm.reset_parameters()
        with torch.no_grad():
            for dense in [*self.head_layers, self.output]:
                nn.init.kaiming_uniform_(dense.weight, a=math.sqrt(5), generator=generator)
                bound = 1.0 / math.sqrt(dense.in_features) if dense.in_features else 0.0
                nn.init.uniform_(dense.bias, -bound, bound, generator=generator)
        return self

    @property
    def depth(self):
        """int: the number of pathway layers."""
        return len(self.pathway_layers)

    @property
    def gene_kernel(self):
        """{"dense", "csr"}: the kernel of the product that reads the genes.

        The CSR kernel reads its inputs feature-major, ``(n_genes, batch)``
        contiguous, and copies a batch-major batch into that layout on every
        call; the dense kernel reads either layout as it is.
        """
        layer = self.pathway_layers[0]
        if not self.skip_levels:
            return layer.active_kernel
        if layer.kernel != "auto":
            return layer.kernel
        return self.source_edges[0].auto_kernel()

    def input_sources(self, k):
        """Where the inputs of pathway layer ``k`` come from.

        Returns a list of ``(source, start, stop)``: inputs ``start:stop`` of
        layer ``k`` (rows of its weight matrix) are the genes
        (``source == -1``) or the nodes of pathway layer ``source``; as
        :meth:`PathwayMask.input_sources`.
        """
        if not self.skip_levels:
            return [(k - 1, 0, self.pathway_layers[k].in_features)]
        sizes = [self.pathway_layers[0].in_features]
        sizes += [layer.out_features for layer in self.pathway_layers[:k]]
        stops = np.cumsum(sizes).tolist()
        return [(j - 1, stop - size, stop) for j, (size, stop) in enumerate(zip(sizes, stops))]

    def _pathway_pass(self, X):
        """Pre- and post-activations of each pathway layer, feature-major.

        Dropout acts between pathway layers and before the head.
        """
        h, pres, posts = X.to(self.output.weight.dtype).T, [], []
        if self.skip_levels:
            return self._skip_pass(h)
        layers = zip(self.pathway_layers, self.batch_norms, self.pathway_activations)
        for layer, norm, act in layers:
            pre = layer.forward_feature_major(h)
            if not isinstance(norm, nn.Identity):
                pre = norm(pre.T).T
            post = act(pre.T).T
            pres.append(pre)
            posts.append(post)
            h = self.dropout(post)
        return pres, posts, h

    def _skip_pass(self, genes):
        """:meth:`_pathway_pass` of a skip-level network: layer ``k`` reads the
        genes and the (dropped-out) activations of layers ``0 .. k-1``.

        ``z`` holds what the nodes not yet computed have received, side by
        side in layer order, starting from their biases: each source's
        product accumulates into it (``addmm``'s addend), the bottom rows of
        ``z`` are then the next layer's pre-activations, and the rest is
        passed on. Every source's edge weights come from one gather over the
        concatenated layer weights.
        """
        layers = self.pathway_layers
        kernel = layers[0].kernel
        weights = torch.cat([layer.weight for layer in layers]).index_select(0, self.edge_gather)
        weights = weights.split(self._source_sizes)
        z = self._push(0, kernel, weights[0], torch.cat([layer.bias for layer in layers]),
                       genes)
        if z.dim() == 1:  # no gene edges at all: the biases alone
            z = z[:, None].expand(-1, genes.shape[1])
        pres, posts, h = [], [], None
        steps = zip(layers, self.batch_norms, self.pathway_activations)
        for k, (layer, norm, act) in enumerate(steps):
            pre, z = z.split([layer.out_features, z.shape[0] - layer.out_features])
            if not isinstance(norm, nn.Identity):
                pre = norm(pre.T).T
            post = act(pre.T).T
            pres.append(pre)
            posts.append(post)
            h = self.dropout(post)
            if k + 1 < len(layers):
                z = self._push(k + 1, kernel, weights[k + 1], z, h)
        return pres, posts, h

    def _push(self, s, kernel, weight, z, h):
        """``z`` plus ``h`` (feature-major) pushed through the edges of source
        ``s`` of :attr:`source_edges` into every node above it."""
        index = self.source_edges[s]
        if index.n_edges == 0:
            return z
        if kernel == "auto":
            kernel = index.auto_kernel()
        return edge_product(index, kernel, weight, z, h)

    def _register_edge_gather(self):
        """The gather from the concatenated pathway-layer weights to every
        source's edges in its index's order (not part of the state dict)."""
        offsets = np.cumsum([0] + [layer.n_edges for layer in self.pathway_layers])
        parts = [np.zeros(0, dtype=np.int64)]
        for index in self.source_edges:
            flat = [offsets[m] + np.arange(start, stop) for m, start, stop in index.slices]
            if flat:
                parts.append(np.concatenate(flat)[index.order.cpu().numpy()])
        gather = torch.as_tensor(np.concatenate(parts), dtype=torch.int64,
                                 device=self.pathway_layers[0].crow.device)
        self.register_buffer("edge_gather", gather, persistent=False)
        self._source_sizes = [int(index.n_edges) for index in self.source_edges]

    def _head(self, h, covariates=None):
        for layer, act in zip(self.head_layers, self.head_activations):
            h = act(layer(self.head_dropout(h)))
        if covariates is not None:
            h = torch.cat([h, covariates.to(h.dtype)], dim=1)
        return self.output(h)

    def _split_covariates(self, X):
        """``(genes, covariates or None)``: the covariates are the last columns."""
        if not self.n_covariates:
            return X, None
        return X[:, : X.shape[1] - self.n_covariates], X[:, X.shape[1] - self.n_covariates:]

    def forward(self, X, pathway_targets=None):
        """Outputs of shape ``(batch, n_outputs)`` for inputs ``(batch, n_genes)``.

        With ``pathway_targets`` (partial supervision of pathway activations:
        skorch hands every field of a batch to the module) the module returns
        ``(outputs, activations)``, the activations of all pathway nodes
        side by side, shape ``(batch, n_nodes)`` in layer order, for the
        estimator's loss to compare with the targets. Nothing of the batch is
        kept in the module.
        """
        X, covariates = self._split_covariates(X)
        _, posts, h = self._pathway_pass(X)
        output = self._head(h.T, covariates)
        if pathway_targets is None:
            return output
        return output, torch.cat(posts, dim=0).T

    def forward_with_activations(self, X, pre_activation=False):
        """Outputs and the activations of every pathway layer.

        Parameters
        ----------
        X : torch.Tensor of shape (batch, n_genes)
        pre_activation : bool, default=False
            Return the pathway pre-activations ``z = W x + b`` instead of
            ``activation(z)``.

        Returns
        -------
        output : torch.Tensor of shape (batch, n_outputs)
        activations : list of torch.Tensor of shape (batch, n_nodes)
        """
        X, covariates = self._split_covariates(X)
        pres, posts, h = self._pathway_pass(X)
        return self._head(h.T, covariates), [a.T for a in (pres if pre_activation else posts)]

    def __setstate__(self, state):
        super().__setstate__(state)
        if "skip_levels" not in self.__dict__:  # pickled before skip levels
            self.skip_levels = False
        if self.skip_levels and "edge_gather" not in self._buffers:
            self._register_edge_gather()  # pickled before the one gather

    def edge_parameters(self):
        """The per-edge weights of the pathway layers (what sparsity penalties act on)."""
        return [layer.weight for layer in self.pathway_layers]


def _source_edges(layers, source):
    """The edges leaving one source of a skip-level network, as one index.

    ``source`` is -1 for the genes, else a pathway layer. The index's matrix
    is ``(n_source, n_above)``: its rows the source's genes or nodes, its
    columns the nodes of every layer above the source side by side, in layer
    order (a layer with no edge from the source is a block of empty
    columns). Layer ``m``'s edges from the source are the contiguous slice
    ``start:stop`` of its weight (its rows are ordered by source); ``slices``
    lists them as ``(m, start, stop)`` and ``order`` maps the matrix's CSR
    order to their concatenation.
    """
    sizes = [layers[0].shape[0], *(layer.shape[1] for layer in layers)]
    start = sum(sizes[: source + 1])
    stop = start + sizes[source + 1]
    rows, cols, slices, offset = [], [], [], 0
    for m in range(source + 1, len(layers)):
        csr = sp.csr_matrix(layers[m])
        coo = csr[start:stop].tocoo()  # CSR (row-major) order, as the weights
        slices.append((m, int(csr.indptr[start]), int(csr.indptr[stop])))
        rows.append(coo.row)
        cols.append(coo.col + offset)
        offset += csr.shape[1]
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    order = np.lexsort((cols, rows))
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(stop - start, offset))
    index = RowBlock(matrix, 0, stop - start)
    index.register_buffer("order", torch.as_tensor(order, dtype=torch.int64), persistent=False)
    index.slices = slices
    return index
