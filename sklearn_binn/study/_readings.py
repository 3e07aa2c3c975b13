"""What a user reads against what the student learned: importance ranking vs weights.

People read a trained BINN's pathway importances (integrated gradients,
DeepLIFT, gradient × input), not its raw weights. A student can rank a
layer's pathways as its teacher does while its weights differ, and the
reverse. :func:`ranking_vs_weights` counts, over readings (one student
layer scored both ways), how often each happens: both recovered, the
ranking only, the weights only, neither.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._verdicts import RECOVERY_THRESHOLD

#: A student's importance ranking of a layer's pathways counts as recovered
#: when its Spearman correlation with the teacher's ranking reaches this.
RANKING_THRESHOLD = 0.9

#: The four shares of :func:`ranking_vs_weights`, in its column order.
READING_OUTCOMES = ("both", "ranking_only", "weights_only", "neither")


def ranking_vs_weights(frame, by, *, weight, ranking, unit, chance=None,
                       weight_threshold=RECOVERY_THRESHOLD,
                       ranking_threshold=RANKING_THRESHOLD):
    """Per group, how often the importance ranking and the weights are recovered.

    Each row of ``frame`` is one *reading*: one student layer, its weight
    recovery and the Spearman correlation of its importance ranking with
    the teacher's. Readings of the same ``unit`` (e.g. one seed scored by
    several attribution methods) share their weights; the means and
    spreads are taken over units (each unit's mean first), the shares over
    readings.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per reading with the ``by`` columns, ``unit``, ``weight``
        and ``ranking`` (and ``chance`` when given). Readings where either
        score is missing are left out of the shares.
    by : list of str
        The columns that define a group.
    weight, ranking : str
        The columns of weight recovery (mean over the layer's nodes) and of
        the ranking's Spearman correlation with the teacher's.
    unit : str
        The column whose values are the independent repeats (seeds, cells);
        the count column is named ``n_{unit}s``.
    chance : str, default=None
        A column of the same Spearman for untrained students, averaged into
        ``spearman_chance``.
    weight_threshold : float, default=RECOVERY_THRESHOLD
        Weights count as recovered at or above this (the study's verdict
        threshold, :data:`sklearn_binn.study.RECOVERY_THRESHOLD`).
    ranking_threshold : float, default=RANKING_THRESHOLD
        The ranking counts as recovered at or above this.

    Returns
    -------
    pandas.DataFrame
        One row per group, in order of first appearance: ``by``,
        ``n_{unit}s``, ``n_readings`` (valid readings), ``weight_recovery``
        and ``weight_recovery_sd``, ``spearman`` and ``spearman_sd`` (mean
        and standard deviation over units), ``spearman_chance`` (when
        ``chance`` is given), and the shares of valid readings where
        ``both`` are recovered, the ``ranking_only``, the ``weights_only``
        and ``neither``; the four add up to 1 (NaN with no valid reading).

    Examples
    --------
    Two seeds read by two methods each: the first seed's weights are
    recovered (0.95) and one of its rankings is; the second seed's weights
    are not (0.5) and one of its rankings is.

    >>> import pandas as pd
    >>> rows = pd.DataFrame({"layer": 0, "seed": [0, 0, 1, 1],
    ...                      "weights": [0.95, 0.95, 0.5, 0.5],
    ...                      "spearman": [0.92, 0.4, 0.3, 0.96]})
    >>> table = ranking_vs_weights(rows, ["layer"], weight="weights",
    ...                            ranking="spearman", unit="seed")
    >>> table[["both", "ranking_only", "weights_only", "neither"]].values.tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    >>> table[["n_seeds", "n_readings", "weight_recovery", "spearman"]].values.tolist()
    [[2.0, 4.0, 0.725, 0.645]]
    """
    missing = [c for c in [*by, unit, weight, ranking, *([chance] if chance else [])]
               if c not in frame.columns]
    if missing:
        raise ValueError(f"ranking_vs_weights needs the columns {missing}, which the frame "
                         f"lacks; it has {list(frame.columns)}.")
    rows = []
    for key, group in frame.groupby(list(by), sort=False, dropna=False):
        per_unit = group.groupby(unit, dropna=False).agg(weights=(weight, "mean"),
                                                         spearman=(ranking, "mean"))
        valid = group.dropna(subset=[weight, ranking])
        weights = valid[weight].to_numpy(float) >= weight_threshold
        ranked = valid[ranking].to_numpy(float) >= ranking_threshold
        n = len(valid)
        outcomes = (weights & ranked, ~weights & ranked, weights & ~ranked, ~weights & ~ranked)
        key = key if isinstance(key, tuple) else (key,)
        row = {**dict(zip(by, key)), f"n_{unit}s": len(per_unit), "n_readings": n,
               "weight_recovery": per_unit["weights"].mean(),
               "weight_recovery_sd": per_unit["weights"].std(ddof=1),
               "spearman": per_unit["spearman"].mean(),
               "spearman_sd": per_unit["spearman"].std(ddof=1)}
        if chance:
            row["spearman_chance"] = group[chance].mean()
        row.update({name: float(mask.sum() / n) if n else np.nan
                    for name, mask in zip(READING_OUTCOMES, outcomes)})
        rows.append(row)
    columns = [*by, f"n_{unit}s", "n_readings", "weight_recovery", "weight_recovery_sd",
               "spearman", "spearman_sd", *(["spearman_chance"] if chance else []),
               *READING_OUTCOMES]
    return pd.DataFrame(rows, columns=columns)
