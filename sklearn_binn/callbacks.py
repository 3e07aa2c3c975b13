"""skorch callbacks that BINN estimators use by default."""

from __future__ import annotations

import math

from skorch.callbacks import Callback

__all__ = ["DivergenceCheck"]


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
