"""skorch callbacks that BINN estimators use by default."""

from __future__ import annotations

import math

import numpy as np
import torch

from skorch.callbacks import Callback
from skorch.callbacks import EarlyStopping as SkorchEarlyStopping

__all__ = ["DivergenceCheck", "EarlyStopping", "SignConstraint", "StopTraining", "edge_signs"]


class DivergenceCheck(Callback):
    """Stop training with a clear error when the training loss stops being finite.

    Without it a diverging fit returns a network full of NaN that predicts
    garbage without complaint.

    Parameters
    ----------
    monitor : str, default="train_loss"
        The history key to watch.

    Examples
    --------
    >>> from sklearn_binn.callbacks import DivergenceCheck
    >>> DivergenceCheck().monitor
    'train_loss'
    """

    def __init__(self, monitor="train_loss"):
        self.monitor = monitor

    def on_epoch_end(self, net, **kwargs):
        value = net.history[-1, self.monitor]
        if not math.isfinite(value):
            epoch = net.history[-1, "epoch"]
            raise FloatingPointError(
                f"Training of {type(net).__name__} diverged: {self.monitor} is "
                f"{value} at epoch {epoch}. Lower the learning rate (lr), "
                "standardize X (and y for regression), or add weight decay "
                "(optimizer__weight_decay)."
            )


class StopTraining(KeyboardInterrupt):
    """Raised by a callback to end training quietly, keeping the model.

    skorch ends a fit quietly on any ``KeyboardInterrupt`` raised inside it,
    which would also swallow a user's Ctrl-C. BINN estimators end quietly only
    on this subclass; a plain ``KeyboardInterrupt`` (the user's) propagates.
    skorch's own :class:`skorch.callbacks.EarlyStopping` raises a plain one
    when its patience runs out: the estimators recognise that case by the
    callback's state and treat it as this signal.

    Examples
    --------
    >>> from skorch.callbacks import Callback
    >>> from sklearn_binn.callbacks import StopTraining
    >>> class StopAfterThree(Callback):
    ...     def on_epoch_end(self, net, **kwargs):
    ...         if len(net.history) == 3:
    ...             raise StopTraining
    """


class EarlyStopping(SkorchEarlyStopping):
    """skorch's early stopping that picks the loss it watches and keeps the best weights.

    A subclass of :class:`skorch.callbacks.EarlyStopping` with one addition:
    ``monitor="auto"`` watches the validation loss when the net has a
    validation split and the training loss otherwise, so one default serves
    both. It ends training with :class:`StopTraining`.

    Parameters
    ----------
    monitor : str, default="auto"
        History key to watch, or ``"auto"``.
    patience : int, default=10
        Epochs without improvement before stopping.
    threshold : float, default=1e-4
        Minimum improvement: with ``threshold_mode="rel"`` a new loss counts
        when it is below ``best - threshold * best``.
    threshold_mode : {"rel", "abs"}, default="rel"
    lower_is_better : bool, default=True
    sink : callable, default=print
        Where the stopping message goes (when the net is verbose).
    load_best : bool, default=True
        Restore the weights of the best epoch when training ends.

    Attributes
    ----------
    monitor_ : str
        The key actually watched.
    best_epoch_ : int
    misses_ : int

    Examples
    --------
    >>> from sklearn_binn.callbacks import EarlyStopping
    >>> EarlyStopping(patience=5).patience
    5
    """

    def __init__(self, monitor="auto", patience=10, threshold=1e-4, threshold_mode="rel",
                 lower_is_better=True, sink=print, load_best=True):
        super().__init__(
            monitor=monitor, patience=patience, threshold=threshold,
            threshold_mode=threshold_mode, lower_is_better=lower_is_better, sink=sink,
            load_best=load_best,
        )

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.monitor_ = None

    def on_epoch_end(self, net, **kwargs):
        if self.monitor_ is None:
            row = net.history[-1]
            if self.monitor != "auto":
                self.monitor_ = self.monitor
            else:
                self.monitor_ = "valid_loss" if "valid_loss" in row else "train_loss"
        # skorch's rule reads ``monitor``: show it the resolved key for this call
        configured, self.monitor = self.monitor, self.monitor_
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            if self.misses_ >= self.patience:  # skorch's stop, not a user's Ctrl-C
                raise StopTraining from None
            raise
        finally:
            self.monitor = configured

    def on_train_end(self, net, **kwargs):
        if len(net.history):  # skorch's rule reads the last epoch; a 0-epoch fit has none
            super().on_train_end(net, **kwargs)


class SignConstraint(Callback):
    """Keep chosen edge weights at a fixed sign (projected after every step).

    Known biology sometimes fixes a sign: an activator's edge is positive, an
    inhibitor's negative. Constrained edges start at ``|w|`` times their sign
    and are projected back onto their half-line after each optimizer step
    (weights that cross zero are set to zero).

    Parameters
    ----------
    signs : {"positive", "negative"} or pandas.DataFrame
        One sign for every pathway edge, or an edge table with columns
        ``source``, ``target`` and ``sign`` (+1 / -1; optionally ``layer``)
        naming the constrained edges by gene / pathway names. Edges absent
        from the table are free.

    Attributes
    ----------
    edge_signs_ : list of torch.Tensor
        Per pathway layer, +1 / -1 / 0 (free) for every edge in CSR order.

    Examples
    --------
    >>> from sklearn_binn.callbacks import SignConstraint
    >>> SignConstraint("positive").signs
    'positive'
    """

    def __init__(self, signs="positive"):
        self.signs = signs

    def on_train_begin(self, net, **kwargs):
        self.edge_signs_ = edge_signs(net.mask_, self.signs, device=net.device)
        with torch.no_grad():
            for layer, sign in zip(net.module_.pathway_layers, self.edge_signs_):
                constrained = sign != 0
                layer.weight[constrained] = layer.weight[constrained].abs() * sign[constrained]

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        with torch.no_grad():
            for layer, sign in zip(net.module_.pathway_layers, self.edge_signs_):
                layer.weight.masked_fill_(layer.weight * sign < 0, 0.0)


def edge_signs(mask, signs, device="cpu"):
    """Per-layer +1/-1/0 edge signs in CSR order from a sign specification.

    Parameters
    ----------
    mask : PathwayMask
    signs : {"positive", "negative"} or pandas.DataFrame
        See :class:`SignConstraint`.
    device : str, default="cpu"

    Returns
    -------
    list of torch.Tensor

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_binn import PathwayMask
    >>> from sklearn_binn.callbacks import edge_signs
    >>> mask = PathwayMask.from_gene_sets({"P1": ["A", "B"], "P2": ["B"]})
    >>> table = pd.DataFrame({"source": ["B"], "target": ["P2"], "sign": [-1]})
    >>> edge_signs(mask, table)[0].tolist()
    [0.0, 0.0, -1.0]
    """
    if isinstance(signs, str):
        if signs not in ("positive", "negative"):
            raise ValueError(
                f"edge_sign must be 'positive', 'negative' or an edge table; got {signs!r}."
            )
        value = 1.0 if signs == "positive" else -1.0
        return [torch.full((layer.nnz,), value, device=device) for layer in mask.layers]
    table = signs
    missing = {"source", "target", "sign"} - set(getattr(table, "columns", []))
    if missing:
        raise ValueError(
            "An edge_sign table needs columns 'source', 'target', 'sign'; missing "
            f"{sorted(missing)}."
        )
    bad = set(np.unique(table["sign"])) - {-1, 1}
    if bad:
        raise ValueError(f"edge_sign values must be +1 or -1; got {sorted(bad)[:5]}.")
    edges = mask._edge_frame()
    keys = ["source", "target"] + (["layer"] if "layer" in table.columns else [])
    merged = table.astype({"source": str, "target": str}).merge(edges, on=keys, how="left")
    unknown = merged[merged["position"].isna()]
    if len(unknown):
        raise ValueError(
            "edge_sign names edges that are not in the fitted mask, e.g. "
            f"{unknown[['source', 'target']].head(3).values.tolist()}."
        )
    result = [torch.zeros(layer.nnz, device=device) for layer in mask.layers]
    for layer, position, sign in zip(merged["layer"], merged["position"], merged["sign"]):
        result[int(layer)][int(position)] = float(sign)
    return result
