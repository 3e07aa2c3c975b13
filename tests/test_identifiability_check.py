"""identifiability_check: simulated teachers on the user's own wiring, per-node recovery."""

import numpy as np
import pandas as pd
import pytest

from sklearn_binn import (
    BINNRegressor,
    IdentifiabilityCheck,
    PathwayMask,
    identifiability_check,
)
from sklearn_binn.datasets import make_pathway_mask

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SHARES = ["weight_recovered", "activation_recovered", "rank_recovered"]


def _quick(mask, **kwargs):
    """A cheap check: a few epochs per protocol, a cheap importance."""
    options = {
        "n_teachers": 2, "estimator_params": {"max_epochs": 3},
        "converged_params": {"max_epochs": 3, "n_init": 1}, "n_test": 40,
        "n_chance_draws": 1, "method": "gradient_x_input", "progress": False,
        "random_state": 0,
    }
    return identifiability_check(mask, 60, **{**options, **kwargs})


@pytest.fixture(scope="module")
def mask():
    return make_pathway_mask(24, depth=2, random_state=0)


@pytest.fixture(scope="module")
def check(mask):
    return _quick(mask)


def _frames(result):
    return result.nodes, result.replicates.drop(columns="fit_time_s")


def test_per_node_shares_are_frequencies_over_the_teachers(check, mask):
    assert isinstance(check, IdentifiabilityCheck)
    nodes = check.nodes
    assert len(nodes) == 2 * sum(mask.layer_sizes)  # two protocols, every node
    assert sorted(nodes["protocol"].unique()) == ["converged", "user"]
    for column in SHARES + [f"{c}_chance" for c in SHARES]:
        values = nodes[column].to_numpy()
        assert ((values >= 0) & (values <= 1)).all(), column
    # two teachers, one untrained student each: every share is 0, 1/2 or 1
    assert np.allclose((nodes[SHARES + [f"{c}_chance" for c in SHARES]] * 2) % 1, 0)
    sizes = np.concatenate([np.diff(layer.tocsc().indptr) for layer in mask.layers])
    assert (nodes.loc[nodes["protocol"] == "user", "n_inputs"].to_numpy() == sizes).all()


def test_node_means_agree_with_the_replicates(check):
    # two routes to the same number: per node over teachers, per teacher over nodes
    for protocol, group in check.nodes.groupby("protocol"):
        layer_means = group.groupby("layer")["weight_recovery"].mean()
        per_teacher = check.replicates.query("protocol == @protocol")["weight_recovery"]
        assert layer_means.mean() == pytest.approx(per_teacher.mean())
    assert len(check.replicates) == 4
    assert set(check.replicates["verdict"]) <= {
        "recovered", "non-identifiable", "optimisation shortfall", "no fit"
    }
    assert {"converged", "n_iter", "grad_norm", "train_gap"} <= set(check.replicates)


def test_the_same_random_state_gives_the_same_result(check, mask):
    again = _quick(mask)
    for a, b in zip(_frames(check), _frames(again)):
        pd.testing.assert_frame_equal(a, b)
    other = _quick(mask, random_state=1)
    assert not check.nodes.equals(other.nodes)


def test_two_jobs_give_what_one_gives(check, mask):
    parallel = _quick(mask, n_jobs=2)
    for a, b in zip(_frames(check), _frames(parallel)):
        pd.testing.assert_frame_equal(a, b)


def test_a_resumed_check_reuses_its_cached_replicates(mask, tmp_path, monkeypatch):
    first = _quick(mask, cache=tmp_path, protocols=("user",))
    assert (first.n_fitted, first.n_cached) == (4, 0)  # per teacher: chance, user
    assert len(list(tmp_path.glob("replicate*.pkl"))) == 4
    fits = []
    original = BINNRegressor.fit

    def counting_fit(self, *args, **kwargs):
        fits.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(BINNRegressor, "fit", counting_fit)
    resumed = _quick(mask, cache=tmp_path, protocols=("user",))
    assert fits == [] and (resumed.n_fitted, resumed.n_cached) == (0, 4)
    for a, b in zip(_frames(first), _frames(resumed)):
        pd.testing.assert_frame_equal(a, b)
    grown = _quick(mask, cache=tmp_path, protocols=("user",), n_teachers=3)
    assert (grown.n_fitted, grown.n_cached) == (2, 4)
    assert len(fits) > 0  # the third teacher's students were fitted
    with pytest.raises(ValueError, match="holds replicates of other settings"):
        _quick(mask, cache=tmp_path, protocols=("user",), n_test=41)
    with pytest.raises(ValueError, match="cache needs an int random_state"):
        _quick(mask, cache=tmp_path / "other", random_state=None)


def test_a_private_gene_layer_is_identifiable_and_linear_overlap_is_not():
    # known answers: tanh pathways over disjoint genes are pinned down by
    # their outputs; identity pathways sharing genes are not (only the sums
    # of their weights on a shared gene enter the output)
    private = PathwayMask.from_gene_sets(
        {"P1": ["a", "b", "c"], "P2": ["d", "e", "f"], "P3": ["g", "h", "i"]}
    )
    linear = PathwayMask.from_gene_sets(
        {"P1": ["a", "b", "c", "d"], "P2": ["c", "d", "e", "f"], "P3": ["e", "f", "a", "b"]}
    )
    kwargs = {"protocols": ("converged",), "n_teachers": 2, "n_test": 100,
              "converged_params": {"max_epochs": 100}, "method": "weight",
              "progress": False, "random_state": 0}
    easy = identifiability_check(private, 150, **kwargs)
    hard = identifiability_check(linear, 150, estimator_params={"activation": "identity"},
                                 **kwargs)
    assert (easy.nodes["weight_recovered"] == 1.0).all()
    assert (easy.nodes["activation_recovered"] == 1.0).all()
    assert (easy.replicates["verdict"] == "recovered").all()
    assert (hard.replicates["verdict"] == "non-identifiable").all()
    assert hard.nodes["weight_recovered"].mean() <= 0.5
    assert (hard.replicates["train_gap"] < 1e-5).all()  # exact fits, other internals


def test_names_summary_and_figure(mask):
    import matplotlib

    matplotlib.use("Agg")
    names = {node: f"Pathway {node}" for node in mask.node_names[0]}
    result = _quick(mask, names=names, n_teachers=1)
    layer0 = result.nodes[result.nodes["layer"] == 0]
    assert (layer0["name"] == "Pathway " + layer0["node"]).all()
    layer1 = result.nodes[result.nodes["layer"] == 1]
    assert (layer1["name"] == layer1["node"]).all()  # unnamed nodes keep their id
    text = result.summary()
    assert "Protocol 'user'" in text and "Protocol 'converged'" in text
    fig = result.plot()
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == [
        "weights recovered", "activation recovered", "importance rank recovered"
    ]


def test_bad_input_is_named(mask):
    with pytest.raises(ValueError, match="task must be one of"):
        identifiability_check(mask, 50, task="ranking")
    with pytest.raises(ValueError, match="protocols must be distinct values"):
        identifiability_check(mask, 50, protocols=("practice",))
    with pytest.raises(ValueError, match="teacher_params must not set \\['activation'\\]"):
        identifiability_check(mask, 50, teacher_params={"activation": "relu"})
    with pytest.raises(ValueError, match="estimator_params must not set \\['mask'\\]"):
        identifiability_check(mask, 50, estimator_params={"mask": mask})
    with pytest.raises(ValueError, match="n_samples must be an int"):
        identifiability_check(mask, 1.5)


def test_readable_nodes_are_recovered_above_what_untrained_students_give(check):
    for share in (0.5, 1.0):
        readable = check.readable(share=share)
        nodes = check.nodes
        expected = [i for i, row in nodes.iterrows()
                    if row["weight_recovered"] >= share and row["activation_recovered"] >= share
                    and row["weight_recovered_chance"] < share]
        assert readable.index.tolist() == expected
    # the summary lists what readable() returns, per protocol (default share 0.8)
    text = check.summary()
    for protocol, group in check.nodes.groupby("protocol"):
        n = int((check.readable()["protocol"] == protocol).sum())
        assert f"{n} of {len(group)} nodes have weights and activation" in text
    with pytest.raises(ValueError, match="share must be a number in"):
        check.readable(share=0)
