"""The BINN torch module: sparse pathway layers, an optional dense head, an output layer."""

from __future__ import annotations

import math

import torch
from torch import nn

from ._activations import ACTIVATIONS, get_activation
from ._mask import PathwayMask
from ._sparse import SparseLinear

__all__ = ["BINNModule", "ACTIVATIONS"]


class BINNModule(nn.Module):
    """A stack of sparse pathway layers ending in an output layer.

    ``genes -> pathway layer 0 -> ... -> pathway layer k-1 -> [dense head]
    -> outputs``. Each pathway layer is a :class:`SparseLinear` followed by
    the activation (and optional batch norm and dropout); the output layer
    is dense over the last pathway layer (or the head).

    Parameters
    ----------
    mask : PathwayMask or list of sparse matrices
        The wiring, one ``(n_inputs, n_outputs)`` matrix per pathway layer.
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
        layer's size. Estimators take it as ``module__kernel``.

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

    Examples
    --------
    >>> import torch
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> from sklearn_binn.modules import BINNModule
    >>> module = BINNModule(make_pathway_mask(50, depth=2, random_state=0))
    >>> module(torch.zeros(3, 50)).shape
    torch.Size([3, 1])
    """

    def __init__(self, mask, n_outputs=1, activation="tanh", dropout=0.0,
                 batch_norm=False, head_layer_sizes=(), head_activation="relu",
                 head_dropout=0.0, kernel="auto"):
        super().__init__()
        layers = mask.layers if isinstance(mask, PathwayMask) else list(mask)
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
        self.output = nn.Linear(width, n_outputs)

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

    def _pathway_pass(self, X):
        """Pre- and post-activations of each pathway layer, feature-major.

        Dropout acts between pathway layers and before the head.
        """
        h, pres, posts = X.to(self.output.weight.dtype).T, [], []
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

    def _head(self, h):
        for layer, act in zip(self.head_layers, self.head_activations):
            h = act(layer(self.head_dropout(h)))
        return self.output(h)

    def forward(self, X, pathway_targets=None):
        """Outputs of shape ``(batch, n_outputs)`` for inputs ``(batch, n_genes)``.

        With ``pathway_targets`` (partial supervision of pathway activations:
        skorch hands every field of a batch to the module) the module returns
        ``(outputs, activations)``, the activations of all pathway nodes
        side by side, shape ``(batch, n_nodes)`` in layer order, for the
        estimator's loss to compare with the targets. Nothing of the batch is
        kept in the module.
        """
        _, posts, h = self._pathway_pass(X)
        output = self._head(h.T)
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
        pres, posts, h = self._pathway_pass(X)
        return self._head(h.T), [a.T for a in (pres if pre_activation else posts)]

    def edge_parameters(self):
        """The per-edge weights of the pathway layers (what sparsity penalties act on)."""
        return [layer.weight for layer in self.pathway_layers]
