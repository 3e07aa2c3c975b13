"""sklearn_binn.plotting: what the figures show (bars, error bars, labels, edges)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402

from sklearn_binn import BINNRegressor, PathwayMask, StabilityReport, node_importance  # noqa: E402
from sklearn_binn._stability import _node_table  # noqa: E402
from sklearn_binn.plotting import (  # noqa: E402
    plot_attribution_flow,
    plot_importance,
    plot_stability,
)


def _bars(ax):
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    return bars


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _report(with_null):
    """A StabilityReport from made-up importances: layer 0 has 6 nodes, layer 1 has 2."""
    rng = np.random.default_rng(0)
    names = [[f"P{i}" for i in range(6)], ["TOP0", "TOP1"]]
    sizes = [np.array([2, 3, 4, 5, 6, 7]), np.array([3, 3])]
    columns = pd.MultiIndex.from_tuples(
        [(k, n) for k, layer in enumerate(names) for n in layer], names=["layer", "node"]
    )
    means = np.array([6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 1.0, 2.0])
    importances = pd.DataFrame(means + rng.normal(scale=0.1, size=(4, 8)), columns=columns)
    nulls = pd.DataFrame(rng.normal(2.0, 0.5, size=(19, 8)), columns=columns) if with_null else None
    agreement = ([np.full(6, 0.5), np.full(2, 0.9)], [np.full(6, 0.6), np.full(2, 0.8)])
    chance = ([np.full(6, 0.2), np.full(2, 0.3)], [np.full(6, 0.25), np.full(2, 0.35)])
    nodes, layers = _node_table(
        [importances[k] for k in range(2)],
        None if nulls is None else [nulls[k] for k in range(2)],
        names, sizes, None, agreement, chance,
    )
    return StabilityReport(nodes, layers, importances, nulls, pd.Series([0.9] * 4),
                           np.arange(4), "integrated_gradients", False, "BINNRegressor")


def test_importance_bars_from_a_series_most_important_on_top():
    values = pd.Series({"P1": 0.5, "P2": 1.5, "P3": 1.0, "P4": 0.1})
    ax = plot_importance(values, top=3)
    bars = _bars(ax)
    assert len(bars) == 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["P1", "P3", "P2"]
    np.testing.assert_allclose([b.get_width() for b in bars], [0.5, 1.0, 1.5])
    assert bars.errorbar is None


def test_importance_from_per_sample_attributions_is_the_mean_absolute_value():
    attributions = pd.DataFrame({"A": [1.0, -3.0], "B": [0.5, 0.5]})
    ax = plot_importance(attributions)
    np.testing.assert_allclose([b.get_width() for b in _bars(ax)], [0.5, 2.0])


def test_importance_from_a_report_has_stability_error_bars_and_the_null():
    report = _report(with_null=True)
    ax = plot_importance(report, layer=0, top=4)
    bars = _bars(ax)
    layer0 = report.nodes[report.nodes["layer"] == 0].sort_values("importance_mean")
    shown = layer0.tail(4)
    np.testing.assert_allclose([b.get_width() for b in bars], shown["importance_mean"])
    # the error bar of each bar spans mean +- sd over the refits
    segments = bars.errorbar.lines[2][0].get_segments()
    np.testing.assert_allclose([s[0][0] for s in segments],
                               shown["importance_mean"] - shown["importance_sd"])
    np.testing.assert_allclose([s[1][0] for s in segments],
                               shown["importance_mean"] + shown["importance_sd"])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    expected = [f"{n} *" if p <= 0.05 else n for n, p in zip(shown["node"], shown["p_value"])]
    assert labels == expected and labels[-1] == "P0 *"
    (null_markers,) = [  # the rewired null's mean +- sd
        c for c in ax.containers if isinstance(c, ErrorbarContainer) and c is not bars.errorbar
    ]
    null_x = np.asarray(null_markers.lines[0].get_xdata(), dtype=float)
    np.testing.assert_allclose(null_x, shown["null_mean"])
    with pytest.raises(ValueError, match="layer must be one of the report's pathway layers"):
        plot_importance(report, layer=5)
    with pytest.raises(TypeError, match="importance must be a StabilityReport"):
        plot_importance([1, 2, 3])


def test_stability_figure_panels():
    report = _report(with_null=True)
    fig = report.plot(top=5)
    assert len(fig.axes) == 4
    agreement, importance, size, null = fig.axes
    # (a) three measures per layer, chance markers for the two internal ones
    assert len(agreement.patches) == 3 * 2
    measures = ["rank_agreement", "weight_agreement", "activation_agreement"]
    heights = [p.get_height() for p in agreement.patches]  # measure by measure
    # layer 1 has two nodes: no rank agreement (NaN), no bar drawn
    np.testing.assert_allclose(heights, report.layers[measures].to_numpy().T.ravel())
    assert np.isnan(report.layers.loc[1, "rank_agreement"])
    assert [t.get_text() for t in agreement.get_xticklabels()] == ["layer 0", "layer 1"]
    # (b) the top 5 of layer 0; (c) one point per node; (d) a z-score per shown node
    assert len(_bars(importance)) == 5
    points = sum(len(c.get_offsets()) for c in size.collections if isinstance(c, PathCollection))
    assert points == len(report.nodes)
    assert len(null.patches) == 5
    layer0 = report.nodes[report.nodes["layer"] == 0].sort_values("importance_mean").tail(5)
    np.testing.assert_allclose([p.get_width() for p in null.patches], layer0["z_score"])
    red = [p for p in null.patches if p.get_facecolor()[:3] == matplotlib.colors.to_rgb("tab:red")]
    assert len(red) == int((layer0["p_value"] <= 0.05).sum())


def test_stability_figure_without_null_has_three_panels():
    fig = plot_stability(_report(with_null=False))
    assert len(fig.axes) == 3
    with pytest.raises(TypeError, match="report must be a StabilityReport"):
        plot_stability(pd.DataFrame())


def test_attribution_flow_shows_the_top_nodes_and_their_edges():
    genes = [f"g{i}" for i in range(8)]
    mask = PathwayMask.from_gene_sets(
        {"P1": genes[:3], "P2": genes[2:6], "P3": genes[5:]},
        hierarchy=[("P1", "R1"), ("P2", "R1"), ("P3", "R2"), ("P2", "R2")],
    )
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 8))
    est = BINNRegressor(mask, max_epochs=3, random_state=0).fit(X, X[:, 0] - X[:, 6])
    top = 2
    ax = plot_attribution_flow(est, X, top=top)

    # independent: the top nodes per column and the mask edges among them
    per_column = [node_importance(est, X, layer="genes")] + node_importance(est, X)
    shown = [list(s.sort_values(ascending=False).head(top).index) for s in per_column]
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted([name for column in shown for name in column] + ["output"])
    edges = []
    inputs = [list(mask.feature_names)] + [list(n) for n in mask.node_names]
    for k, layer in enumerate(mask.layers):
        # a skip-level layer's rows: the genes then the lower nodes (here
        # only the adjacent layer's nodes have edges into it)
        rows = [list(mask.input_names(k)).index(n) for n in shown[k]]
        cols = [inputs[k + 1].index(n) for n in shown[k + 1]]
        edges.append(int(layer[rows][:, cols].sum()))
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    counts = [len(c.get_segments()) for c in lines]
    assert counts == [e for e in edges if e] + [len(shown[-1])]  # + edges to the output
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["genes", "pathway layer 0", "pathway layer 1", "output"]
    with pytest.raises(ValueError, match="top must be a positive int"):
        plot_attribution_flow(est, X, top=0)


def test_error_bars_of_an_importance_stop_at_zero():
    """A mean |attribution| is >= 0: its error bars (and the null's) are clipped at 0."""
    report = _report(with_null=True)
    layer0 = report.nodes["layer"] == 0
    report.nodes.loc[layer0, "importance_sd"] = 10.0
    report.nodes.loc[layer0, "null_sd"] = 10.0
    ax = plot_importance(report, layer=0, top=4)
    shown = report.nodes[layer0].sort_values("importance_mean").tail(4)
    segments = _bars(ax).errorbar.lines[2][0].get_segments()
    np.testing.assert_allclose([s[0][0] for s in segments], 0.0)
    np.testing.assert_allclose([s[1][0] for s in segments], shown["importance_mean"] + 10.0)
    (null_markers,) = [c for c in ax.containers
                       if isinstance(c, ErrorbarContainer) and c is not _bars(ax).errorbar]
    null_segments = null_markers.lines[2][0].get_segments()
    np.testing.assert_allclose([s[0][0] for s in null_segments], 0.0)


def test_attribution_flow_has_a_legend_for_the_edge_colours():
    mask = PathwayMask.from_gene_sets({"P1": ["A", "B"], "P2": ["B", "C"]})
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    est = BINNRegressor(mask, max_epochs=2, random_state=0).fit(X, X[:, 0])
    ax = plot_attribution_flow(est, X, top=2)
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == ["positive weight", "negative weight"]
    colours = [matplotlib.colors.to_hex(h.get_color()) for h in legend.legend_handles]
    assert colours == [matplotlib.colors.to_hex("tab:red"), matplotlib.colors.to_hex("tab:blue")]
