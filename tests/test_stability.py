"""stability_report: refits agree where the model is identifiable and disagree where it is not."""

import sys
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control, norm, spearmanr
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_binn import (
    BINNClassifier,
    BINNRegressor,
    PathwayMask,
    StabilityReport,
    TeacherDataset,
    align_to_teacher,
    node_importance,
    stability_report,
)
from sklearn_binn.datasets import make_pathway_mask

FAST = {"batch_size": -1, "train_split": None}

# identifiable: disjoint gene sets, linear nodes, one layer, 100 samples per edge
PRIVATE = PathwayMask.from_gene_sets(
    {f"P{p}": [f"g{p}_{i}" for i in range(4)] for p in range(6)}
)
# not identifiable: overlapping genes, tanh, two layers, half a sample per edge
OVERLAPPING = make_pathway_mask(40, n_pathways=(10, 3), overlap=3, random_state=0)


@pytest.fixture(scope="module")
def identifiable():
    X, y = TeacherDataset(PRIVATE, activation="identity", random_state=0).sample(
        400, random_state=1
    )
    est = BINNRegressor(PRIVATE, activation="identity", lr=0.05, max_epochs=60, **FAST)
    return stability_report(est, X, y, n_repeats=3, random_state=0)


@pytest.fixture(scope="module")
def non_identifiable():
    X, y = TeacherDataset(OVERLAPPING, random_state=0).sample(60, random_state=1)
    est = BINNRegressor(OVERLAPPING, lr=0.02, max_epochs=100, **FAST)
    return est, X, y, stability_report(est, X, y, n_repeats=3, random_state=0)


def test_identifiable_case_is_reported_stable(identifiable):
    report = identifiable
    assert isinstance(report, StabilityReport) and report.n_repeats == 3
    layer = report.layers.loc[0]
    assert layer["rank_agreement"] > 0.95
    assert layer["weight_agreement"] > 0.95 and layer["activation_agreement"] > 0.95
    # and far above what untrained networks share
    assert layer["weight_agreement_chance"] < 0.7
    assert layer["activation_agreement_chance"] < 0.7
    assert (report.nodes["importance_cv"] < 0.1).all()
    assert report.scores.min() > 0.95
    text = " ".join(report.summary().split())  # joined across line breaks
    assert "ranking is stable" in text
    assert "weights are reproducible" in text and "activations are reproducible" in text
    assert "NOT" not in text and "UNSTABLE" not in text


def test_non_identifiable_case_is_reported_unstable(non_identifiable, identifiable):
    *_, report = non_identifiable
    layer0 = report.layers.loc[0]
    assert layer0["weight_agreement"] < 0.8
    assert layer0["activation_agreement"] < 0.8
    assert layer0["rank_agreement"] < identifiable.layers.loc[0, "rank_agreement"] - 0.2
    assert report.nodes["importance_cv"].median() > 0.15
    text = " ".join(report.summary().split())
    assert "Learned weights are NOT reproducible" in text
    assert "Learned activations are NOT reproducible" in text
    assert "ranking is stable" not in text.split("Pathway layer 1")[0]


def test_numbers_match_an_independent_computation(non_identifiable):
    est, X, y, report = non_identifiable
    refits = [clone(est).set_params(random_state=int(s)).fit(X, y) for s in report.random_states]
    importances = np.stack([np.concatenate([s.to_numpy() for s in node_importance(r, X)])
                            for r in refits])
    # the report's refits ran in joblib workers, these in this process: float32 sums whose
    # order follows the thread count agree to a few dozen float32 ulps, not bit for bit
    close = {"rtol": 1e-5, "atol": 1e-8}
    np.testing.assert_allclose(report.importances.to_numpy(), importances, **close)
    np.testing.assert_allclose(report.nodes["importance_mean"], importances.mean(axis=0), **close)
    np.testing.assert_allclose(report.nodes["importance_sd"], importances.std(axis=0, ddof=1),
                               **close)
    np.testing.assert_allclose(report.scores, [r.score(X, y) for r in refits], **close)

    weights, activations = [], []
    for a, b in combinations(refits, 2):
        aligned = align_to_teacher(b, a).weights  # b aligned to a, genes up
        reference = a.get_weights()
        acts_a, acts_b = a.pathway_activations(X), b.pathway_activations(X)
        w_pair, a_pair = [], []
        for k in range(2):
            ws, wt = aligned[k].toarray(), reference[k].toarray()
            cos = (ws * wt).sum(0) / np.sqrt((ws**2).sum(0) * (wt**2).sum(0))
            w_pair.append(np.abs(cos))
            a_pair.append([abs(np.corrcoef(acts_a[k][c], acts_b[k][c])[0, 1])
                           for c in acts_a[k].columns])
        weights.append(np.concatenate(w_pair))
        activations.append(np.concatenate(a_pair))
    np.testing.assert_allclose(report.nodes["weight_agreement"], np.mean(weights, 0), atol=1e-6)
    np.testing.assert_allclose(
        report.nodes["activation_agreement"], np.mean(activations, 0), atol=1e-5
    )
    for k in range(2):
        per_layer = report.importances[k].to_numpy()
        expected = np.mean([spearmanr(p, q).statistic for p, q in combinations(per_layer, 2)])
        assert report.layers.loc[k, "rank_agreement"] == pytest.approx(expected)
        sizes = np.diff(OVERLAPPING.layers[k].tocsc().indptr)
        np.testing.assert_array_equal(report.nodes.query("layer == @k")["n_inputs"], sizes)


@pytest.mark.parametrize("p_value", ["empirical", "normal"])
def test_the_null_flags_content_not_size(p_value):
    # y depends strongly on the 2 genes of P2 and weakly on every gene, so the
    # large pathways carry signal only in proportion to their size
    genes = [f"g{i}" for i in range(30)]
    bounds = np.cumsum([0, 2, 4, 6, 8, 10])
    mask = PathwayMask.from_gene_sets(
        {f"P{b - a}": genes[a:b] for a, b in zip(bounds[:-1], bounds[1:])}, feature_names=genes
    )
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 30))
    y = 3 * X[:, :2].sum(axis=1) + 0.3 * X.sum(axis=1)
    est = BINNRegressor(mask, activation="identity", lr=0.05, max_epochs=40, **FAST)
    report = stability_report(est, X, y, n_repeats=2, n_null=6, random_state=0,
                              p_value=p_value)
    assert report.p_value == p_value
    nodes = report.nodes.set_index("node")
    null = report.null_importances[0].to_numpy()
    mean = nodes["importance_mean"].to_numpy()
    z = (mean - null.mean(0)) / null.std(0, ddof=1)
    np.testing.assert_allclose(nodes["null_mean"], null.mean(axis=0))
    np.testing.assert_allclose(nodes["z_score"], z)
    np.testing.assert_allclose(
        nodes["p_adjusted"], false_discovery_control(nodes["p_value"], method="bh")
    )
    assert nodes.loc["P2", "z_score"] > 3
    assert (nodes.drop("P2")["z_score"] < 1).all()  # large, but no more than size explains
    text = " ".join(report.summary().split())
    if p_value == "empirical":
        np.testing.assert_allclose(nodes["p_value"], (1 + (null >= mean).sum(0)) / 7)
        assert nodes.loc["P2", "p_value"] == pytest.approx(1 / 7)  # above every rewired fit
        assert "smallest attainable empirical p-value is 1/(n_null + 1) = 0.14" in text
        assert "no p-value can pass the correction for 5 pathways" in text
        assert "use n_null >= 99 (5 pathways / 0.05 - 1) or p_value='normal'" in text
    else:
        np.testing.assert_allclose(nodes["p_value"], norm.sf(z))
        # the normal p is not floored at 1/7: P2 passes the correction
        assert nodes.loc["P2", "p_adjusted"] <= 0.05
        assert report.layers.loc[0, "n_significant"] >= 1
        assert "one-sided normal p" in text and "attainable" not in text


@pytest.mark.parametrize("seed", range(5))
def test_benjamini_hochberg_matches_scipy(seed):
    from sklearn_binn._stability import benjamini_hochberg

    rng = np.random.default_rng(seed)
    p = rng.choice([1 / 20, 2 / 20, 3 / 20, 0.5, 1.0], size=40) * rng.uniform(0.2, 1, 40)
    p[:3] = 0.001  # ties
    np.testing.assert_allclose(benjamini_hochberg(p), false_discovery_control(p, method="bh"))
    assert benjamini_hochberg(np.array([])).shape == (0,)
    # NaN p-values (untestable nodes) stay NaN and are not counted among the tests
    with_nan = np.insert(p, [5, 17], np.nan)
    adjusted = benjamini_hochberg(with_nan)
    assert np.isnan(adjusted[[5, 18]]).all()
    np.testing.assert_allclose(np.delete(adjusted, [5, 18]), false_discovery_control(p))


def _null_report(importance, null, p_value="empirical"):
    """A one-layer StabilityReport from hand-made importances (refits x nodes) and null fits."""
    importance, null = np.asarray(importance, float), np.asarray(null, float)
    m = importance.shape[1]
    names = [[f"P{i}" for i in range(m)]]
    columns = pd.MultiIndex.from_tuples([(0, n) for n in names[0]], names=["layer", "node"])
    from sklearn_binn._stability import _node_table

    nodes, layers = _node_table(
        [pd.DataFrame(importance)], [pd.DataFrame(null)], names, [np.full(m, 2)], None,
        ([np.ones(m)], [np.ones(m)]), ([np.zeros(m)], [np.zeros(m)]), p_value=p_value,
    )
    return StabilityReport(
        nodes=nodes, layers=layers, importances=pd.DataFrame(importance, columns=columns),
        null_importances=pd.DataFrame(null, columns=columns),
        scores=pd.Series(np.ones(len(importance))), random_states=np.arange(len(importance)),
        method="integrated_gradients", bootstrap=False, estimator_name="BINNRegressor",
        p_value=p_value,
    )


def test_normal_p_values_match_a_hand_computation():
    # 3 refits and 4 null fits of 4 pathways; P3's null is constant (sd 0: no z, no p)
    importance = [[5.0, 1.0, 2.0, 3.0], [6.0, 2.0, 2.5, 3.0], [7.0, 0.0, 1.5, 3.0]]
    null = [[1.0, 1.0, 2.0, 1.0], [2.0, 2.0, 1.0, 1.0], [1.5, 0.5, 3.0, 1.0],
            [2.5, 1.5, 2.0, 1.0]]
    report = _null_report(importance, null, "normal")
    nodes = report.nodes
    obs = np.mean(importance, axis=0)
    mu, sd = np.mean(null, axis=0), np.std(null, axis=0, ddof=1)
    z = (obs[:3] - mu[:3]) / sd[:3]
    np.testing.assert_allclose(nodes["z_score"][:3], z)
    np.testing.assert_allclose(nodes["p_value"][:3], norm.sf(z))
    np.testing.assert_allclose(nodes["p_value"][:3], [0.5 * math_erfc(v / np.sqrt(2)) for v in z])
    # Benjamini-Hochberg over the three testable nodes only
    np.testing.assert_allclose(nodes["p_adjusted"][:3],
                               false_discovery_control(norm.sf(z), method="bh"))
    assert np.isnan(nodes.loc[3, ["z_score", "p_value", "p_adjusted"]].to_numpy(float)).all()
    assert report.layers.loc[0, "n_significant"] == int(
        (false_discovery_control(norm.sf(z)) <= 0.05).sum()
    ) == 1  # P0 only: z = 4.25 / 0.645 = 6.6
    # the empirical p of the same data: (1 + #{null >= obs}) / 5, floored at 1 / 5
    empirical = _null_report(importance, null, "empirical").nodes
    np.testing.assert_allclose(empirical["p_value"], [1 / 5, 4 / 5, 4 / 5, 1 / 5])


def math_erfc(x):
    """The complementary error function by the standard library: an independent norm.sf."""
    import math

    return math.erfc(x)


@pytest.mark.parametrize(
    "n_top, p_value, floor_blocks",
    [(1, "empirical", True), (9, "empirical", True), (10, "empirical", False),
     (1, "normal", False)],
)
def test_the_summary_says_when_the_empirical_floor_blocks_every_finding(
        n_top, p_value, floor_blocks):
    # 19 null fits, 10 pathways: the floor 1/20 = 0.05 passes BH only when all
    # ten pathways reach it (the k-th smallest p must be <= k 0.05 / 10)
    rng = np.random.default_rng(0)
    null = 2.0 + rng.normal(scale=0.1, size=(19, 10))
    importance = np.ones((2, 10))
    importance[:, :n_top] = 3.0  # above every null fit
    report = _null_report(importance, null, p_value)
    text = " ".join(report.summary().split())
    hits = report.layers.loc[0, "n_significant"]
    assert hits == int((false_discovery_control(report.nodes["p_value"]) <= 0.05).sum())
    blocked = ("the correction for 10 pathways passes none unless at least 10 of them "
               f"reach it ({n_top} did)")
    fix = "use n_null >= 199 (10 pathways / 0.05 - 1) or p_value='normal'"
    if p_value == "empirical":
        assert "smallest attainable empirical p-value is 1/(n_null + 1) = 0.05" in text
        assert (hits == 0) == floor_blocks
    else:
        assert "attainable" not in text
        assert hits == n_top  # z-scores of about 10 pass the correction
    assert (blocked in text) == floor_blocks and (fix in text) == floor_blocks


def test_the_summary_counts_pathways_after_benjamini_hochberg():
    # 19 rewired fits: the smallest p-value is 0.05. With 10 pathways, one at
    # p = 0.05 and nine at p = 1, BH gives 0.5 for the first: nothing survives.
    # With all ten at p = 0.05, all survive the correction.
    genes = [f"g{i}" for i in range(20)]
    mask = PathwayMask.from_gene_sets(
        {f"P{p}": genes[2 * p: 2 * p + 2] for p in range(10)}, feature_names=genes
    )
    names = [list(mask.node_names[0])]
    columns = pd.MultiIndex.from_tuples([(0, n) for n in names[0]], names=["layer", "node"])
    importances = pd.DataFrame(np.ones((2, 10)), columns=columns)
    for n_top, expected in [(1, "no pathway is more important"), (10, "10 of 10 pathways")]:
        null = np.full((19, 10), 2.0)
        null[:, :n_top] = 0.0  # the first n_top nodes beat every rewired fit
        from sklearn_binn._stability import _node_table

        nodes, layers = _node_table(
            [importances[0]], [pd.DataFrame(null)], names, [np.full(10, 2)], None,
            ([np.ones(10)], [np.ones(10)]), ([np.zeros(10)], [np.zeros(10)]),
        )
        np.testing.assert_allclose(
            nodes["p_adjusted"], false_discovery_control(nodes["p_value"], method="bh")
        )
        report = StabilityReport(
            nodes=nodes, layers=layers, importances=importances,
            null_importances=pd.DataFrame(null, columns=columns), scores=pd.Series([1.0, 1.0]),
            random_states=np.arange(2), method="integrated_gradients", bootstrap=False,
            estimator_name="BINNRegressor",
        )
        text = " ".join(report.summary().split())
        assert expected in text
        assert "after Benjamini–Hochberg correction" in text
        assert layers.loc[0, "n_significant"] == (0 if n_top == 1 else 10)


def test_threads_warn_that_they_are_not_reproducible(non_identifiable):
    est, X, y, _ = non_identifiable
    with pytest.warns(UserWarning, match="threading.*not reproducible"):
        report = stability_report(est.set_params(max_epochs=2), X, y, n_repeats=2,
                                  n_jobs=2, backend="threading", random_state=0)
    assert report.n_repeats == 2


@pytest.mark.slow
def test_loky_processes_give_the_same_report(non_identifiable):
    est, X, y, _ = non_identifiable
    est = est.set_params(max_epochs=20)
    serial = stability_report(est, X, y, n_repeats=2, random_state=3)
    loky = stability_report(est, X, y, n_repeats=2, random_state=3, n_jobs=2, backend="loky")
    pd.testing.assert_frame_equal(serial.nodes, loky.nodes)


@pytest.mark.slow
def test_ray_gives_the_same_report(non_identifiable):
    pytest.importorskip("ray")
    est, X, y, _ = non_identifiable
    est = est.set_params(max_epochs=20)
    serial = stability_report(est, X, y, n_repeats=2, random_state=3)
    ray = stability_report(est, X, y, n_repeats=2, random_state=3, n_jobs=2, backend="ray")
    pd.testing.assert_frame_equal(serial.nodes, ray.nodes)


def test_ray_missing_is_a_clear_error(non_identifiable, monkeypatch):
    est, X, y, _ = non_identifiable
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "ray.util.joblib", None)
    with pytest.raises(ImportError, match="backend 'ray' needs Ray"):
        stability_report(est, X, y, n_repeats=2, n_jobs=2, backend="ray")


def test_bootstrap_pipeline_classifier():
    teacher = TeacherDataset(PRIVATE, task="classification", random_state=0)
    X, y = teacher.sample(120, random_state=0)
    X = pd.DataFrame(X * 5 + 2, columns=PRIVATE.feature_names)
    pipe = make_pipeline(StandardScaler(), BINNClassifier(PRIVATE, max_epochs=5, **FAST))
    report = stability_report(pipe, X, y, n_repeats=2, bootstrap=True, method="deeplift",
                              random_state=0)
    assert report.bootstrap and report.estimator_name == "BINNClassifier"
    assert list(report.nodes["node"]) == list(PRIVATE.node_names[0])
    text = " ".join(report.summary().split())
    assert "bootstrap resamples" in text and "deeplift" in text
    assert report.scores.between(0, 1).all()
    assert pipe.steps[-1][1].random_state is None  # the estimator is not modified


def test_bad_arguments():
    est = BINNRegressor(PRIVATE)
    X, y = np.zeros((20, 24)), np.zeros(20)
    with pytest.raises(ValueError, match="n_repeats must be an int >= 2; got 1"):
        stability_report(est, X, y, n_repeats=1)
    with pytest.raises(ValueError, match="n_null must be an int >= 0"):
        stability_report(est, X, y, n_null=-1)
    with pytest.raises(ValueError, match="method must be one of"):
        stability_report(est, X, y, method="lime")
    with pytest.raises(ValueError, match="p_value must be 'empirical' or 'normal'; got 'exact'"):
        stability_report(est, X, y, n_null=19, p_value="exact")
    with pytest.raises(ValueError, match="needs the mean and sd of at least 2 null fits; "
                                         "got n_null=1. Set n_null >= 2"):
        stability_report(est, X, y, n_null=1, p_value="normal")
    with pytest.raises(TypeError, match="stability_report audits a BINNClassifier"):
        stability_report(StandardScaler(), X, y)


def test_the_audit_shows_pathway_names_beside_ids():
    genes = [f"g{i}" for i in range(12)]
    mask = PathwayMask.from_gene_sets(
        {f"R-{p}": genes[3 * p: 3 * p + 3] for p in range(4)}, feature_names=genes
    ).with_display_names({f"R-{p}": f"Pathway number {p}" for p in range(4)})
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 12))
    y = X[:, :3].sum(axis=1)
    est = BINNRegressor(mask, activation="identity", lr=0.05, max_epochs=20, **FAST)
    report = stability_report(est, X, y, n_repeats=2, random_state=0, top_k=1)
    assert report.nodes["name"].tolist() == [f"Pathway number {p}" for p in range(4)]
    assert report.nodes["node"].tolist() == [f"R-{p}" for p in range(4)]
    assert "Pathway number 0 [R-0]" in " ".join(report.summary().split())
