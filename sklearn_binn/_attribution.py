"""Which genes and pathways a fitted BINN's output depends on: attributions per node.

Gene attributions act on the network's input; pathway attributions on a
pathway layer's output, both through the module's own ``forward``
(:class:`_AttributionNet` only wraps it). The pathway layers run
feature-major through ``SparseLinear.forward_feature_major``, which module
hooks never see; what is hooked instead are the module's activation modules
(``BINNModule.pathway_activations``: the non-linearity, which DeepLIFT's
rescale rule recognises, then an identity "tap" whose output is the layer's
activation, batch-major). DeepLIFT comes from captum. Integrated gradients
and gradient × input compute what captum's classes compute, with one
backward pass per block of samples instead of captum's one gradient per
sample (tested against captum).
"""

from __future__ import annotations

import contextlib
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
import torch
from torch import nn

from ._classifier import BINNClassifier
from ._network import binn_step
from ._survival import BINNSurvival

__all__ = [
    "pathway_importance", "node_importance", "data_type_importance", "ATTRIBUTION_METHODS"
]

#: per-sample methods (captum) and whole-network readings
ATTRIBUTION_METHODS = (
    "integrated_gradients",
    "deeplift",
    "gradient_x_input",
    "weight",
    "activation_variance",
)
_PER_SAMPLE = ("integrated_gradients", "deeplift", "gradient_x_input")
# samples per pass of captum's methods
_ROWS_PER_PASS = 1024
# input values (rows x genes, rows = samples x integration steps) per pass of
# integrated gradients: 16 MiB of float32 inputs, so a few large passes for
# small networks (each pass has a fixed cost) and small ones for wide inputs
_VALUES_PER_PASS = 2**22


class _AttributionNet(nn.Module):
    """A BINNModule's output times ``sign``, with its activations where captum hooks.

    ``forward`` is ``module(X) * sign``: the module's own forward pass. Its
    activations are ``nn.Module`` s (what DeepLIFT's rescale rule hooks);
    ``taps[k]`` is the identity after pathway layer ``k``'s activation,
    whose output is that layer's activation, shape ``(batch, n_nodes)``
    (what captum's layer methods hook).
    """

    def __init__(self, module, sign=1.0):
        super().__init__()
        self.module = module
        self.sign = float(sign)

    @property
    def taps(self):
        return [activation[-1] for activation in self.module.pathway_activations]

    def forward(self, X):
        return self.module(X) * self.sign


@contextlib.contextmanager
def _inference_mode(module):
    """Eval mode and frozen parameters (no weight gradients) inside the block."""
    training = module.training
    flags = [p.requires_grad for p in module.parameters()]
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)
        module.train(training)


# ----------------------------------------------------------------- inputs
def _split_estimator(estimator):
    """``(preprocessing or None, final BINN step)`` of a fitted estimator or Pipeline."""
    try:
        return binn_step(estimator)
    except TypeError as exc:
        raise TypeError(
            "Attribution needs a fitted BINNClassifier, BINNRegressor or BINNSurvival, "
            f"or a Pipeline ending in one; got {type(estimator).__name__}."
        ) from exc


def _binn_inputs(pre, final, X):
    """X through the pipeline's earlier steps, validated, in the mask's gene order."""
    Xt = X if pre is None else pre.transform(X)
    return final._validate_X(Xt, reset=False)


def _baseline_rows(baseline, pre, final, X, Xb):
    """The baseline in the BINN's input space: shape (1, n_genes) or like ``Xb``."""
    n_genes = Xb.shape[1]
    if baseline is None:
        return np.zeros((1, n_genes), dtype=np.float32)
    if isinstance(baseline, str):
        if baseline != "mean":
            raise ValueError(
                f"baseline must be None, 'mean', a number or an array; got {baseline!r}."
            )
        return Xb.mean(axis=0, keepdims=True).astype(np.float32)
    if np.isscalar(baseline):
        return np.full((1, n_genes), float(baseline), dtype=np.float32)
    values = np.asarray(baseline)
    if values.ndim == 1:
        values = values[None, :]
    n_columns = np.shape(X)[1]
    if values.ndim != 2 or values.shape[0] not in (1, len(Xb)) or (
        values.shape[1] != n_columns
    ):
        raise ValueError(
            f"baseline must have shape ({n_columns},), (1, {n_columns}) or "
            f"({len(Xb)}, {n_columns}) like X; got {np.shape(baseline)}."
        )
    if isinstance(X, pd.DataFrame) and not isinstance(baseline, pd.DataFrame):
        baseline = pd.DataFrame(values, columns=X.columns)
    elif not isinstance(baseline, pd.DataFrame):
        baseline = values
    return _binn_inputs(pre, final, baseline)


def _target(final, target):
    """``(sign, output index or None for the per-sample predicted class)``."""
    name = type(final).__name__
    if isinstance(final, BINNClassifier):
        classes = list(final.classes_)
        if target is None:
            return (1.0, 0) if len(classes) == 2 else (1.0, None)
        matches = [i for i, c in enumerate(classes) if c == target]
        if not matches:
            raise ValueError(
                f"target must be one of the classes of the {name}, "
                f"{classes}, or None; got {target!r}."
            )
        if len(classes) == 2:  # one logit: the log-odds of classes_[1]
            return (1.0 if matches[0] == 1 else -1.0), 0
        return 1.0, matches[0]
    if isinstance(final, BINNSurvival):
        if target is not None:
            raise ValueError(
                f"{name} has one output, the log-risk; pass target=None "
                f"(got {target!r})."
            )
        return 1.0, 0
    n_outputs = final.module_.output.out_features
    if target is None:
        if n_outputs > 1:
            raise ValueError(
                f"This {name} has {n_outputs} outputs; pass target=<output index> "
                f"(0 to {n_outputs - 1}) to choose the one to explain."
            )
        return 1.0, 0
    if isinstance(target, bool) or not isinstance(target, Integral) or not (
        0 <= target < n_outputs
    ):
        raise ValueError(
            f"target must be an output index between 0 and {n_outputs - 1} for this "
            f"{name}; got {target!r}."
        )
    return 1.0, int(target)


def _check_layer(layer, depth):
    """Normalise ``layer`` to None, "genes" or a pathway-layer index."""
    if layer is None or (isinstance(layer, str) and layer == "genes"):
        return layer
    if isinstance(layer, bool) or not isinstance(layer, Integral) or not (
        -depth <= layer < depth
    ):
        raise ValueError(
            f"layer must be None (every pathway layer), 'genes', or a pathway-layer "
            f"index between {-depth} and {depth - 1}; got {layer!r}."
        )
    return int(layer) % depth


# ---------------------------------------------------------------- methods
def _blocks(net, Xb, base, target_index, per_block):
    """``(x, baseline, target)`` per block of at most ``per_block`` samples, on the
    network's device; the target of the multiclass default is each sample's
    predicted class."""
    device = net.module.output.weight.device
    for start in range(0, len(Xb), per_block):
        stop = min(start + per_block, len(Xb))
        x = torch.as_tensor(Xb[start:stop], device=device)
        b = None
        if base is not None:
            rows = base if len(base) == 1 else base[start:stop]
            b = torch.as_tensor(np.broadcast_to(rows, x.shape).copy(), device=device)
        if target_index is None:
            with torch.no_grad():
                target = net(x).argmax(dim=1)
        else:
            target = torch.full((len(x),), target_index, dtype=torch.int64, device=device)
        yield x, b, target


def _integrated_gradients(net, layer, Xb, base, target_index, n_steps):
    """Integrated gradients of one layer as float64, shape (n_samples, n_nodes).

    What captum's ``IntegratedGradients`` (genes) and
    ``LayerIntegratedGradients`` (a pathway layer's tap) compute, with their
    default Gauss–Legendre rule: the layer's values on the straight path from
    the baseline's to the sample's, ``n_steps`` points, the gradient of the
    explained output at each (for a pathway layer, the network runs on the
    sample with the tap's output replaced by the path point, so everything
    that reads the layer, skip-level edges included, sees it), summed with
    the rule's weights and multiplied by the difference of the two ends.
    Samples are independent in eval mode, so the gradient of the summed
    outputs of a pass is every row's own gradient: one backward per pass
    instead of captum's one per sample (its cost at the study's sizes).
    """
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    per_block = max(1, _VALUES_PER_PASS // (n_steps * Xb.shape[1]))
    chunks = []
    for x, b, target in _blocks(net, Xb, base, target_index, per_block):
        m = len(x)
        alphas = torch.as_tensor(0.5 * (1 + nodes), dtype=x.dtype, device=x.device)
        step = torch.as_tensor(0.5 * weights, dtype=x.dtype, device=x.device)
        if layer == "genes":
            ends = x, b
        else:
            with torch.no_grad(), _tapped(net.taps[layer]) as seen:
                net(x)
                net(b)
            ends = seen
        start, delta = ends[1], ends[0] - ends[1]
        path = (start.repeat(n_steps, 1)
                + alphas.repeat_interleave(m)[:, None] * delta.repeat(n_steps, 1))
        path.requires_grad_()
        if layer == "genes":
            out = net(path)
        else:
            with _replaced(net.taps[layer], path):
                out = net(x.repeat(n_steps, 1))
        picked = out.gather(1, target.repeat(n_steps)[:, None])
        grad, = torch.autograd.grad(picked.sum(), path)
        total = (grad.view(n_steps, m, -1) * step[:, None, None]).sum(dim=0)
        chunks.append((delta * total).detach().double().cpu().numpy())
    return np.concatenate(chunks)


@contextlib.contextmanager
def _tapped(tap):
    """Collect the tap's outputs, one per forward pass, inside the block."""
    seen = []
    handle = tap.register_forward_hook(lambda module, args, out: seen.append(out))
    try:
        yield seen
    finally:
        handle.remove()


@contextlib.contextmanager
def _replaced(tap, values):
    """The tap outputs ``values`` instead of its input inside the block."""
    handle = tap.register_forward_hook(lambda module, args, out: values)
    try:
        yield
    finally:
        handle.remove()


def _per_sample_attribution(net, method, layer, Xb, base, target_index, n_steps):
    """Per-sample attributions of one layer as float64, shape (n_samples, n_nodes)."""
    if method == "integrated_gradients":
        return _integrated_gradients(net, layer, Xb, base, target_index, n_steps)
    if method == "gradient_x_input":
        return _gradient_x_input(net, layer, Xb, target_index)
    return _deeplift(net, layer, Xb, base, target_index)


def _gradient_x_input(net, layer, Xb, target_index):
    """Gradient × input of one layer as float64, shape (n_samples, n_nodes).

    What captum's ``InputXGradient`` (genes) and ``LayerGradientXActivation``
    (a pathway layer's tap) compute: the layer's values times the gradient
    of the explained output with respect to them, one backward per pass
    (see :func:`_integrated_gradients`).
    """
    chunks = []
    rows = max(1, _VALUES_PER_PASS // Xb.shape[1])
    for x, _, target in _blocks(net, Xb, None, target_index, rows):
        if layer == "genes":
            values = x
        else:
            with torch.no_grad(), _tapped(net.taps[layer]) as seen:
                net(x)
            values = seen[0]
        point = values.clone().requires_grad_()
        if layer == "genes":
            out = net(point)
        else:
            with _replaced(net.taps[layer], point):
                out = net(x)
        grad, = torch.autograd.grad(out.gather(1, target[:, None]).sum(), point)
        chunks.append((values * grad).double().cpu().numpy())
    return np.concatenate(chunks)


def _deeplift(net, layer, Xb, base, target_index):
    """DeepLIFT (rescale rule) of one layer by captum, float64."""
    from captum.attr import DeepLift, LayerDeepLift

    explainer = DeepLift(net) if layer == "genes" else LayerDeepLift(net, net.taps[layer])
    chunks = []
    for x, b, target in _blocks(net, Xb, base, target_index, _ROWS_PER_PASS):
        # the graph must reach the layers below a tapped one (DeepLIFT hooks
        # their non-linearities), and the parameters are frozen
        target = target.tolist() if target_index is None else target_index
        with warnings.catch_warnings():
            # DeepLIFT announces that it hooks the activations while it runs
            warnings.filterwarnings("ignore", message="Setting forward, backward hooks")
            attribution = explainer.attribute(x.requires_grad_(), baselines=b, target=target)
        chunks.append(attribution.detach().double().cpu().numpy())
    return np.concatenate(chunks)


def _outgoing_weight(final, layer):
    """Per node of ``layer``, the sum of the absolute weights leaving it."""
    module = final.module_
    depth = module.depth
    # covariates (BINN estimators' ``covariates``) are the output layer's last inputs
    n_covariates = getattr(module, "n_covariates", 0)
    output = np.abs(module.output.weight.detach().double().cpu().numpy()).sum(axis=0)
    if module.skip_levels and (layer == "genes" or layer + 1 < depth):
        # a skip-level node (or gene) feeds every higher layer that reads it
        source = -1 if layer == "genes" else layer
        total = 0.0
        for k in range(source + 1, depth):
            W = module.pathway_layers[k].weight_matrix()
            for src, start, stop in module.input_sources(k):
                if src == source:
                    total = total + np.asarray(abs(W[start:stop]).sum(axis=1)).ravel()
        if layer == "genes":
            return np.concatenate([total, output[output.size - n_covariates:]])
        return total
    if layer == "genes":
        W = module.pathway_layers[0].weight_matrix()
        genes = np.asarray(abs(W).sum(axis=1)).ravel()
        return np.concatenate([genes, output[output.size - n_covariates:]])
    elif layer + 1 < depth:
        W = module.pathway_layers[layer + 1].weight_matrix()
    else:
        if not len(module.head_layers):
            return output[: output.size - n_covariates]
        first = module.head_layers[0]
        return np.abs(first.weight.detach().double().cpu().numpy()).sum(axis=0)
    return np.asarray(abs(W).sum(axis=1)).ravel()


def _activation_variance(final, Xb, layer):
    """Variance over the samples of each node's activation (of each gene's value)."""
    if layer == "genes":
        return Xb.astype(np.float64).var(axis=0)
    module = final.module_
    device = module.output.weight.device
    chunks = []
    with _inference_mode(module), torch.no_grad():
        for start in range(0, len(Xb), _ROWS_PER_PASS):
            x = torch.as_tensor(Xb[start:start + _ROWS_PER_PASS], device=device)
            chunks.append(module.forward_with_activations(x)[1][layer].double().cpu().numpy())
    return np.concatenate(chunks).var(axis=0)


def _names(final, layer):
    if layer == "genes":  # the network's inputs: the genes, then any covariates
        return [*final.mask_.feature_names, *getattr(final, "covariates_", ())]
    return list(final.mask_.node_names[layer])


# ----------------------------------------------------------------- public
def pathway_importance(estimator, X, method="integrated_gradients", layer=None,
                       baseline=None, target=None, n_steps=50):
    """Attribute a fitted BINN's output to its genes or pathway nodes.

    For the per-sample methods, each sample's output is split among the
    nodes of a layer by one of captum's attribution methods (integrated
    gradients and gradient × input computed here, batched, equal to
    captum's): on the genes (``layer="genes"``) the plain methods on the
    network input, on a pathway layer the layer methods on that layer's
    activations (its nodes' contributions to the output, through everything
    above them).

    ==========================  ======================================  ==========
    ``method``                  genes / pathway layer (captum)          result
    ==========================  ======================================  ==========
    ``"integrated_gradients"``  ``IntegratedGradients`` /               per sample
                                ``LayerIntegratedGradients``
    ``"deeplift"``              ``DeepLift`` / ``LayerDeepLift``        per sample
                                (rescale rule)
    ``"gradient_x_input"``      ``InputXGradient`` /                    per sample
                                ``LayerGradientXActivation``
    ``"weight"``                sum of the node's absolute outgoing     per node
                                weights (the raw-weight reading)
    ``"activation_variance"``   variance of the node's activation       per node
                                (of the gene, for genes) over ``X``
    ==========================  ======================================  ==========

    Integrated gradients and DeepLIFT are *complete*: a sample's
    attributions over one layer sum to ``f(x) - f(baseline)``, where ``f``
    is the explained output (for DeepLIFT, exactly only with the rescale
    rule that captum applies to the network's activations). Gradient ×
    input has no baseline. Attributions explain one fitted network; they
    change with its random seed — see :func:`stability_report` before
    reading them as biology.

    Parameters
    ----------
    estimator : fitted BINNClassifier, BINNRegressor, BINNSurvival, or Pipeline ending in one
        A Pipeline's earlier steps transform ``X`` (and an array
        ``baseline``) first.
    X : array-like or pandas.DataFrame of shape (n_samples, n_features)
        The samples to explain, as for ``estimator.predict``.
    method : {"integrated_gradients", "deeplift", "gradient_x_input", "weight", \
"activation_variance"}, default="integrated_gradients"
    layer : None, "genes" or int, default=None
        ``None``: every pathway layer (a list, from the genes up);
        ``"genes"``: the input genes (in the fitted mask's gene order),
        then the estimator's ``covariates`` (inputs that join the output
        layer directly); an int: one pathway layer, ``0`` the gene → pathway layer, negative
        values count from the top (``-1`` the last pathway layer).
    baseline : None, "mean", float or array-like, default=None
        The reference input of integrated gradients and DeepLIFT. ``None``:
        all genes 0 at the network's input (after a pipeline's
        pre-processing; for standardised data, the mean sample);
        ``"mean"``: the mean of the (pre-processed) ``X``; a float: that
        value for every gene; an array of shape ``(n_features,)`` or
        ``(n_samples, n_features)``: in ``X``'s space, passed through the
        pipeline like ``X``. Must be None for ``"gradient_x_input"``.
    target : class label, int or None, default=None
        What is explained. :class:`BINNClassifier`: the logit of this class
        (binary problems have one logit, the log-odds of ``classes_[1]``;
        ``target=classes_[0]`` explains its negative); ``None`` explains
        ``classes_[1]`` for binary problems and each sample's predicted
        class for multiclass ones. :class:`BINNRegressor`: the output index,
        ``None`` for a single output. :class:`BINNSurvival`: always the
        log-risk (``None``). The per-node methods ignore ``target``.
    n_steps : int, default=50
        Integration steps of integrated gradients (Gauss–Legendre).

    Returns
    -------
    pandas.DataFrame, pandas.Series or list of them
        Per-sample methods: a DataFrame of shape ``(n_samples, n_nodes)``,
        indexed like ``X`` (when a DataFrame), columns named by gene or
        pathway. ``"weight"`` and ``"activation_variance"``: a Series
        indexed by node name. With ``layer=None``, a list with one entry
        per pathway layer.

    Raises
    ------
    ValueError
        For an unknown method, layer or target, or a baseline of the wrong
        shape (or given to ``"gradient_x_input"``).

    See Also
    --------
    node_importance : one number per node (mean absolute attribution).
    stability_report : how much these numbers move between refits.

    Examples
    --------
    >>> from sklearn_binn import BINNRegressor, PathwayMask, pathway_importance
    >>> from sklearn_binn import TeacherDataset
    >>> mask = PathwayMask.from_gene_sets({"P1": ["A", "B"], "P2": ["B", "C"]})
    >>> X, y = TeacherDataset(mask, random_state=0).sample(100, random_state=0)
    >>> est = BINNRegressor(mask, max_epochs=5, random_state=0).fit(X, y)
    >>> attr = pathway_importance(est, X[:3], layer=0)
    >>> attr.shape, list(attr.columns)
    ((3, 2), ['P1', 'P2'])
    >>> pathway_importance(est, X, method="weight", layer="genes").index.tolist()
    ['A', 'B', 'C']
    """
    if method not in ATTRIBUTION_METHODS:
        raise ValueError(
            f"method must be one of {list(ATTRIBUTION_METHODS)}; got {method!r}."
        )
    if isinstance(n_steps, bool) or not isinstance(n_steps, Integral) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive int; got {n_steps!r}.")
    if method == "gradient_x_input" and baseline is not None:
        raise ValueError(
            "method='gradient_x_input' has no baseline; pass baseline=None, or use "
            "'integrated_gradients' or 'deeplift' to explain relative to a baseline."
        )
    pre, final = _split_estimator(estimator)
    depth = final.mask_.depth
    layer = _check_layer(layer, depth)
    index = X.index if isinstance(X, pd.DataFrame) else None
    Xb = _binn_inputs(pre, final, X)
    layers = list(range(depth)) if layer is None else [layer]

    if method in _PER_SAMPLE:
        sign, target_index = _target(final, target)
        base = None if method == "gradient_x_input" else _baseline_rows(
            baseline, pre, final, X, Xb
        )
        net = _AttributionNet(final.module_, sign)
        with _inference_mode(final.module_):
            results = [
                pd.DataFrame(
                    _per_sample_attribution(net, method, k, Xb, base, target_index, n_steps),
                    index=index, columns=_names(final, k),
                )
                for k in layers
            ]
    else:
        reader = _outgoing_weight if method == "weight" else (
            lambda est, k: _activation_variance(est, Xb, k)
        )
        results = [
            pd.Series(reader(final, k), index=_names(final, k), name=method)
            for k in layers
        ]
    return results if layer is None else results[0]


def node_importance(estimator, X, method="integrated_gradients", layer=None,
                    baseline=None, target=None, n_steps=50):
    """One importance per node: the mean absolute attribution over ``X``.

    For the per-sample methods of :func:`pathway_importance` this is the
    mean over the samples of the absolute attribution (how much the output
    moves through the node, whatever the direction); ``"weight"`` and
    ``"activation_variance"`` are already one number per node.

    Parameters
    ----------
    estimator, X, method, layer, baseline, target, n_steps
        As for :func:`pathway_importance`.

    Returns
    -------
    pandas.Series or list of pandas.Series
        Indexed by node name, named ``method``; a list over the pathway
        layers when ``layer`` is None.

    Examples
    --------
    >>> from sklearn_binn import BINNRegressor, PathwayMask, TeacherDataset, node_importance
    >>> mask = PathwayMask.from_gene_sets({"P1": ["A", "B"], "P2": ["B", "C"]})
    >>> X, y = TeacherDataset(mask, random_state=0).sample(100, random_state=0)
    >>> est = BINNRegressor(mask, max_epochs=5, random_state=0).fit(X, y)
    >>> node_importance(est, X, layer=0).index.tolist()
    ['P1', 'P2']
    """
    result = pathway_importance(
        estimator, X, method=method, layer=layer, baseline=baseline, target=target,
        n_steps=n_steps,
    )

    def reduce(frame):
        if isinstance(frame, pd.Series):
            return frame
        return frame.abs().mean(axis=0).rename(method)

    return [reduce(r) for r in result] if isinstance(result, list) else reduce(result)


def data_type_importance(estimator, X, method="integrated_gradients", baseline=None,
                         target=None, n_steps=50):
    """Importance per gene and data type, for a mask from :meth:`PathwayMask.with_data_types`.

    The importance of each input feature ``"{gene}{sep}{data type}"``, as
    :func:`node_importance` with ``layer="genes"`` gives it (mean absolute
    attribution over ``X``), laid out as a gene × data type table. Its
    column sums rank the data types; the per-gene importance through the
    network's gene nodes is ``node_importance(estimator, X, layer=0)``.

    Parameters
    ----------
    estimator, X, method, baseline, target, n_steps
        As for :func:`pathway_importance`.

    Returns
    -------
    pandas.DataFrame
        Indexed by gene (in the fitted mask's order), one column per data
        type; NaN where the data have no such feature. Covariates are left
        out.

    Raises
    ------
    ValueError
        If the fitted mask has no data types.

    Examples
    --------
    >>> from sklearn_binn import BINNRegressor, PathwayMask, TeacherDataset
    >>> from sklearn_binn import data_type_importance
    >>> genes = PathwayMask.from_gene_sets({"P1": ["A", "B"], "P2": ["B", "C"]})
    >>> mask = genes.with_data_types(["mut", "expr"])
    >>> X, y = TeacherDataset(mask, random_state=0).sample(100, random_state=0)
    >>> est = BINNRegressor(mask, max_epochs=5, random_state=0).fit(X, y)
    >>> table = data_type_importance(est, X)
    >>> table.index.tolist(), table.columns.tolist()
    (['A', 'B', 'C'], ['mut', 'expr'])
    """
    _, final = _split_estimator(estimator)
    mask = final.mask_
    if mask.data_types is None:
        raise ValueError(
            "data_type_importance needs a BINN fitted on a mask with several data "
            "types per gene (PathwayMask.with_data_types); for a mask of genes use "
            "node_importance(estimator, X, layer='genes')."
        )
    importance = node_importance(
        estimator, X, method=method, layer="genes", baseline=baseline, target=target,
        n_steps=n_steps,
    )
    rows = []
    for name in mask.feature_names:
        gene, _, kind = name.rpartition(mask.data_type_sep)
        rows.append((gene, kind, importance[name]))
    table = pd.DataFrame(rows, columns=["gene", "data_type", method])
    genes = list(dict.fromkeys(table["gene"]))
    wide = table.pivot(index="gene", columns="data_type", values=method)
    wide = wide.reindex(index=genes, columns=list(mask.data_types))
    wide.index.name, wide.columns.name = "gene", "data_type"
    return wide
