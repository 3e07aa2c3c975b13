"""The matplotlib drawing behind :mod:`sklearn_binn.plotting` and ``StabilityReport.plot``.

It draws from tables and reports already made and checks nothing (the
public functions in :mod:`sklearn_binn.plotting` validate their arguments),
so that both the figures module and the stability report can use it.
matplotlib is imported inside the functions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["axes", "importance_bars", "report_importance_table", "stability_figure"]


def axes(ax, figsize):
    """``ax``, or the axes of a new figure of size ``figsize``."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def report_importance_table(report, layer):
    """``(DataFrame with mean, sd, null_mean, null_sd, p_value; label)`` of a stability report."""
    layers = sorted(report.nodes["layer"].unique())
    if layer not in layers:
        raise ValueError(
            f"layer must be one of the report's pathway layers {layers}; got {layer!r}."
        )
    nodes = report.nodes[report.nodes["layer"] == layer].set_index("node")
    if "name" in nodes:  # display names (Reactome's pathway names) beside the IDs
        nodes.index = [
            node if name == node else f"{_shorten(name)} [{node}]"
            for node, name in zip(nodes.index, nodes["name"])
        ]
    table = pd.DataFrame({
        "mean": nodes["importance_mean"],
        "sd": nodes["importance_sd"],
        "null_mean": nodes.get("null_mean", np.nan),
        "null_sd": nodes.get("null_sd", np.nan),
        "p_value": nodes.get("p_value", np.nan),
    })
    return table, f"{report.method.replace('_', ' ')}, mean ± sd over refits"


def _shorten(text, limit=40):
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clipped(mean, sd):
    """Error bars ``mean ± sd`` whose lower end stops at 0 (an importance is >= 0)."""
    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    lower = np.where(mean >= 0, np.minimum(sd, np.maximum(mean, 0.0)), sd)
    return np.vstack([lower, sd])


def importance_bars(table, label, top, ax):
    """Horizontal bars of ``table["mean"]`` (see :func:`sklearn_binn.plotting.plot_importance`)."""
    table = table.sort_values("mean", ascending=False).head(top).iloc[::-1]
    ax = axes(ax, (6, 0.3 * len(table) + 1.2))
    positions = np.arange(len(table))
    has_sd = table["sd"].notna().any()
    ax.barh(
        positions, table["mean"], xerr=_clipped(table["mean"], table["sd"]) if has_sd else None,
        color="tab:blue", alpha=0.8, capsize=3, label="importance",
    )
    if table["null_mean"].notna().any():
        ax.errorbar(
            table["null_mean"], positions - 0.25,
            xerr=_clipped(table["null_mean"], table["null_sd"]), fmt="d",
            color="tab:orange", markersize=5, capsize=2, label="rewired null (mean ± sd)",
        )
        ax.legend(loc="lower right", fontsize="small")
    labels = [
        f"{name} *" if p <= 0.05 else str(name)
        for name, p in zip(table.index, table["p_value"].fillna(1.0))
    ]
    ax.set_yticks(positions, labels)
    ax.set_xlabel(f"importance ({label})")
    return ax


def stability_figure(report, layer=0, top=15, figsize=None):
    """The audit summary figure (see :func:`sklearn_binn.plotting.plot_stability`)."""
    import matplotlib.pyplot as plt

    has_null = report.null_importances is not None
    n_panels = 4 if has_null else 3
    fig, panels = plt.subplots(1, n_panels, figsize=figsize or (5 * n_panels, 4.5))

    ax = panels[0]
    layers = report.layers
    measures = ["rank_agreement", "weight_agreement", "activation_agreement"]
    width = 0.8 / len(measures)
    for m, measure in enumerate(measures):
        x = np.arange(len(layers)) + (m - 1) * width
        # a NaN (rank agreement of a layer below 3 nodes) draws no bar
        ax.bar(x, layers[measure], width, label=measure.replace("_", " "))
        chance = f"{measure}_chance"
        if chance in layers:
            ax.plot(x, layers[chance], "k_", markersize=14, markeredgewidth=2)
    ax.plot([], [], "k_", markersize=14, markeredgewidth=2, label="untrained (chance)")
    ax.set_xticks(np.arange(len(layers)), [f"layer {k}" for k in layers.index])
    ax.set_ylim(min(0.0, float(np.nanmin(layers[measures].to_numpy()))), 1.45)
    ax.set_yticks(np.linspace(0.0, 1.0, 6))
    ax.set_ylabel("agreement between refits")
    ax.legend(fontsize="small", loc="upper center", ncol=2)
    ax.set_title(f"(a) {report.n_repeats} refits: what reproduces")

    importance_bars(*report_importance_table(report, layer), top, panels[1])
    panels[1].set_title(f"(b) importance, layer {layer}")

    ax = panels[2]
    for k, nodes in report.nodes.groupby("layer"):
        ax.scatter(nodes["n_inputs"], nodes["importance_mean"], label=f"layer {k}", s=20)
    ax.set_xlabel("pathway size (number of members)")
    ax.set_ylabel("mean importance")
    ax.legend(fontsize="small")
    rho = layers.loc[layer, "importance_size_spearman"]
    ax.set_title(f"(c) importance vs size (layer {layer}: Spearman {rho:.2f})")

    if has_null:
        ax = panels[3]
        nodes = report.nodes[report.nodes["layer"] == layer]
        nodes = nodes.sort_values("importance_mean", ascending=False).head(top).iloc[::-1]
        colors = np.where(nodes["p_value"] <= 0.05, "tab:red", "tab:gray")
        ax.barh(np.arange(len(nodes)), nodes["z_score"].fillna(0.0), color=colors)
        ax.set_yticks(np.arange(len(nodes)), nodes["node"])
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel(f"z-score against {report.n_null} rewired masks")
        ax.set_title("(d) beyond size (red: p <= 0.05)")
    fig.tight_layout()
    return fig
