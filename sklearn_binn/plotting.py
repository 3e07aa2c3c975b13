"""Figures for reading a BINN: importance with its stability, attribution flow, the audit.

matplotlib is imported inside the functions, so ``import sklearn_binn``
does not need it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._attribution import node_importance
from ._figures import axes, importance_bars, report_importance_table, stability_figure
from ._network import binn_step
from ._stability import StabilityReport

__all__ = ["plot_attribution_flow", "plot_importance", "plot_stability"]


def _importance_table(importance, layer):
    """``(DataFrame with mean, sd, null_mean, null_sd, p_value, or NaN; label)``."""
    if isinstance(importance, StabilityReport):
        return report_importance_table(importance, layer)
    if isinstance(importance, pd.DataFrame):  # per-sample attributions
        values, label = importance.abs().mean(axis=0), "mean |attribution|"
    elif isinstance(importance, pd.Series):
        values, label = importance, str(importance.name or "importance")
    else:
        raise TypeError(
            "importance must be a StabilityReport, a Series of node importances or a "
            f"DataFrame of per-sample attributions; got {type(importance).__name__}."
        )
    table = pd.DataFrame({"mean": values.astype(float)})
    for column in ("sd", "null_mean", "null_sd", "p_value"):
        table[column] = np.nan
    return table, label


def plot_importance(importance, layer=0, top=20, ax=None):
    """Horizontal bars of node importance, with stability error bars when known.

    Parameters
    ----------
    importance : StabilityReport, pandas.Series or pandas.DataFrame
        A :func:`stability_report` result (bars: mean importance over the
        refits, error bars: its sd, the lower bar clipped at 0 since an
        importance is a mean absolute attribution; with a null, orange
        diamonds with error bars (clipped likewise) below each bar show the
        rewired-mask mean ± sd, and nodes with
        ``p <= 0.05`` are starred), a Series from :func:`node_importance`, or a DataFrame
        of per-sample attributions from :func:`pathway_importance` (bars:
        mean absolute attribution).
    layer : int, default=0
        With a StabilityReport, the pathway layer shown.
    top : int, default=20
        Show the ``top`` most important nodes, most important on top.
    ax : matplotlib Axes, default=None
        Where to draw; ``None`` makes a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from sklearn_binn.plotting import plot_importance
    >>> ax = plot_importance(pd.Series({"P1": 0.5, "P2": 1.5, "P3": 1.0}), top=2)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['P3', 'P2']
    """
    table, label = _importance_table(importance, layer)
    return importance_bars(table, label, top, ax)


def _flow_columns(estimator, X, method, top, baseline, target):
    """Per column (genes, pathway layers), the names, positions in the mask and importances."""
    kwargs = {"method": method, "baseline": baseline, "target": target}
    per_column = [node_importance(estimator, X, layer="genes", **kwargs)]
    per_column += node_importance(estimator, X, layer=None, **kwargs)
    _, final = binn_step(estimator)
    columns = []
    for values in per_column:
        chosen = values.sort_values(ascending=False).head(top)
        position = {name: i for i, name in enumerate(values.index)}
        columns.append((list(chosen.index), np.array([position[n] for n in chosen.index]),
                        chosen.to_numpy(dtype=float)))
    return final, columns


def plot_attribution_flow(estimator, X, method="integrated_gradients", top=5, baseline=None,
                          target=None, ax=None):
    """Genes → pathway layers → output: the top attributed nodes of each layer and their edges.

    Each column shows the ``top`` nodes of one layer by :func:`node_importance`
    (genes on the left, the output on the right), the most important on top,
    with marker area proportional to the importance (relative to the column's
    largest). A line joins two shown nodes of adjacent columns when the mask
    connects them (in a skip-level mask, of any two columns it connects);
    its width is proportional to the absolute learned weight of that edge
    (relative to the layer's largest shown edge), its colour gives the
    weight's sign (red positive, blue negative; a legend says so).
    Every shown node of the top pathway layer is joined to the output.

    Parameters
    ----------
    estimator : fitted BINN estimator or Pipeline ending in one
    X : array-like or pandas.DataFrame of shape (n_samples, n_features)
    method : str, default="integrated_gradients"
        See :func:`pathway_importance`.
    top : int, default=5
        Nodes shown per layer.
    baseline, target
        See :func:`pathway_importance`.
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_binn import BINNRegressor, PathwayMask, TeacherDataset
    >>> from sklearn_binn.plotting import plot_attribution_flow
    >>> mask = PathwayMask.from_gene_sets({"P1": ["A", "B"], "P2": ["B", "C"]})
    >>> X, y = TeacherDataset(mask, random_state=0).sample(50, random_state=0)
    >>> est = BINNRegressor(mask, max_epochs=5, random_state=0).fit(X, y)
    >>> ax = plot_attribution_flow(est, X, top=2)
    >>> sorted(t.get_text() for t in ax.texts)[-3:]
    ['P1', 'P2', 'output']
    """
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"top must be a positive int; got {top!r}.")
    final, columns = _flow_columns(estimator, X, method, top, baseline, target)
    weights = final.get_weights()
    n_columns = len(columns) + 1
    ax = axes(ax, (2.2 * n_columns + 1, 0.6 * top + 1.5))

    def ys(n):
        return np.linspace(1.0, 0.0, n) if n > 1 else np.array([0.5])

    coords = []
    for c, (names, _, values) in enumerate(columns):
        y = ys(len(names))
        coords.append(y)
        size = 40 + 400 * values / (values.max() if values.max() > 0 else 1.0)
        ax.scatter(np.full(len(names), c), y, s=size, color="tab:gray", zorder=3)
        for name, y_i in zip(names, y):
            ax.text(c, y_i + 0.05, name, ha="center", va="bottom", fontsize="small")
    ax.scatter([n_columns - 1], [0.5], s=200, color="black", zorder=3)
    ax.text(n_columns - 1, 0.55, "output", ha="center", va="bottom", fontsize="small")

    for k, W in enumerate(weights):  # edges into column k + 1
        _, cols, _ = columns[k + 1]
        # from column k; in a skip-level mask from the genes and every lower layer
        found = []
        for source, start, _ in final.mask_.input_sources(k):
            _, rows, _ = columns[source + 1]
            block = W[start + rows][:, cols].toarray()
            i, j = np.nonzero(W[start + rows][:, cols].astype(bool).toarray())
            found += [(source + 1, a, b, block[a, b]) for a, b in zip(i, j)]
        if not found:
            continue
        w = np.array([edge[3] for edge in found])
        segments = [[(c, coords[c][a]), (k + 1, coords[k + 1][b])] for c, a, b, _ in found]
        scale = np.abs(w).max() if np.abs(w).max() > 0 else 1.0
        ax.add_collection(LineCollection(
            segments, linewidths=0.5 + 4 * np.abs(w) / scale,
            colors=np.where(w >= 0, "tab:red", "tab:blue"), alpha=0.6, zorder=1,
        ))
    last = coords[-1]
    ax.add_collection(LineCollection(
        [[(n_columns - 2, y_i), (n_columns - 1, 0.5)] for y_i in last],
        linewidths=1.0, colors="black", alpha=0.4, zorder=1,
    ))
    headers = ["genes"] + [f"pathway layer {k}" for k in range(len(weights))] + ["output"]
    ax.set_xticks(range(n_columns), headers)
    ax.set_yticks([])
    ax.set_xlim(-0.5, n_columns - 0.5)
    ax.set_ylim(-0.15, 1.25)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.legend(handles=[Line2D([], [], color=color, linewidth=2, alpha=0.6, label=label)
                       for color, label in (("tab:red", "positive weight"),
                                            ("tab:blue", "negative weight"))],
              loc="upper right", fontsize="small", frameon=False,
              title="edges: width ∝ |learned weight|", title_fontsize="small")
    ax.set_title(f"Top {top} nodes per layer by {method.replace('_', ' ')}")
    return ax


def plot_stability(report, layer=0, top=15, figsize=None):
    """The stability audit on one figure.

    Panels: (a) per pathway layer, the rank agreement of importance and
    the replicate agreement of weights and activations, with the untrained
    networks' agreement (chance level) as black markers; (b) the ``top``
    nodes of ``layer`` by mean importance with their sd over refits (and the
    rewired null, when computed), see :func:`plot_importance`; (c) each
    node's mean importance against its number of members (the size effect);
    (d) with a null, the z-scores of the ``top`` nodes of ``layer`` (red:
    ``p <= 0.05``).

    Parameters
    ----------
    report : StabilityReport
    layer : int, default=0
        The pathway layer of panels (b) and (d).
    top : int, default=15
    figsize : tuple, default=None

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_binn import BINNRegressor, TeacherDataset, stability_report
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(30, n_pathways=(6,), random_state=0)
    >>> X, y = TeacherDataset(mask, random_state=0).sample(100, random_state=0)
    >>> est = BINNRegressor(mask, max_epochs=5, random_state=0)
    >>> fig = stability_report(est, X, y, n_repeats=2, random_state=0).plot()
    >>> len(fig.axes)
    3
    """
    if not isinstance(report, StabilityReport):
        raise TypeError(
            f"report must be a StabilityReport (from stability_report); got "
            f"{type(report).__name__}."
        )
    return stability_figure(report, layer=layer, top=top, figsize=figsize)
