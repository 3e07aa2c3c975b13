"""Skip-level masks: a pathway layer reads the genes and every lower layer.

Checked against independent computations: a dense forward over the
concatenation ``[genes, layer 0, ..., layer k-1]`` written here by hand, the
P-NET chain with pass-through copies set to identities (identity activation,
where the two must agree exactly), recovery of a teacher against its own
transformed copy, integrated-gradients completeness, and the bundled
Reactome's pathway count.
"""

import pickle
import re

import numpy as np
import pytest
import torch

from sklearn_binn import (
    BINNRegressor,
    PathwayMask,
    TeacherDataset,
    pathway_importance,
    randomize_mask,
    recovery_report,
)
from sklearn_binn.datasets import load_reactome
from sklearn_binn.modules import BINNModule, SparseLinear

# R -> A -> A1 and R -> A1 (skips a level), R -> B, R holds a gene itself;
# Z is a root with genes only; C -> B
GENE_SETS = {
    "A1": ["g1", "g2", "g6"], "B": ["g2", "g3"], "A": ["g4", "g1"], "Z": ["g5", "g6"],
    "C": ["g6", "g7", "g3"], "R": ["g7"],
}
HIERARCHY = [("A1", "A"), ("A", "R"), ("B", "R"), ("A1", "R"), ("C", "B")]
ACT = {"tanh": torch.tanh, "identity": lambda z: z, "relu": torch.relu}


@pytest.fixture(scope="module")
def skip():
    return PathwayMask.from_gene_sets(GENE_SETS, HIERARCHY)


def dense_forward(module, mask, X, activation):
    """The network by hand: layer k's dense weights over the concatenation."""
    h = [X]
    for layer in module.pathway_layers:
        W = torch.zeros(layer.in_features, layer.out_features, dtype=X.dtype)
        W[layer.rows, layer.cols] = layer.weight
        h.append(ACT[activation](torch.cat(h, dim=1) @ W + layer.bias))
    return module.output(h[-1]), h[1:]


# ------------------------------------------------------------------ the mask
def test_one_node_per_pathway_in_the_layer_after_its_deepest_child(skip):
    assert skip.skip_levels
    # A1, C: genes only (layer 0); A, B: above them (layer 1); R, Z: roots (top)
    assert [list(n) for n in skip.node_names] == [["A1", "C"], ["A", "B"], ["R", "Z"]]
    genes = list(skip.feature_names)
    assert genes == ["g1", "g2", "g3", "g4", "g5", "g6", "g7"]
    edges = set(map(tuple, skip.to_edges()[["source", "target"]].to_numpy()))
    expected = {(g, p) for p, members in GENE_SETS.items() for g in members}
    expected |= set(HIERARCHY)
    assert edges == expected  # every relation is one edge, no copies
    assert skip.n_edges == len(expected)
    assert skip.input_names(2).tolist() == genes + ["A1", "C", "A", "B"]
    assert skip.input_sources(2) == [(-1, 0, 7), (0, 7, 9), (1, 9, 11)]
    assert [layer.shape for layer in skip.layers] == [(7, 2), (9, 2), (11, 2)]


def test_copies_option_keeps_pnet_chain(skip):
    chain = PathwayMask.from_gene_sets(GENE_SETS, HIERARCHY, copies=True)
    assert not chain.skip_levels
    real = {re.sub(r"_copy\d+$", "", n) for names in chain.node_names for n in names}
    assert real == {n for names in skip.node_names for n in names}
    assert sum(chain.layer_sizes) > sum(skip.layer_sizes)


def test_skip_mask_validation():
    genes_then_p = np.array([[1], [1]])
    with pytest.raises(ValueError, match=r"must have one row per gene and per node of layers "
                                         r"0\.\.0 \(3 rows\); got 1"):
        PathwayMask([genes_then_p, np.ones((1, 1))], skip_levels=True)
    # node Q of layer 0 feeds nothing above
    with pytest.raises(ValueError, match=r"pathway layer 0 feed no node of a higher layer"):
        PathwayMask([np.eye(2), np.array([[1], [0], [1], [0]])], skip_levels=True)
    with pytest.raises(ValueError, match="must be unique"):
        PathwayMask([np.eye(2), np.array([[0], [0], [1], [1]])], feature_names=["a", "P"],
                    node_names=[["P", "Q"], ["T"]], skip_levels=True)
    with pytest.raises(TypeError, match="skip_levels must be True or False"):
        PathwayMask([np.eye(2)], skip_levels="yes")
    with pytest.raises(TypeError, match="copies must be True or False"):
        PathwayMask.from_gene_sets(GENE_SETS, HIERARCHY, copies="no")


def test_value_semantics_pickle_and_edges_round_trip(skip):
    assert PathwayMask(skip) == skip and hash(PathwayMask(skip)) == hash(skip)
    assert pickle.loads(pickle.dumps(skip)) == skip
    assert skip != PathwayMask.from_gene_sets(GENE_SETS, HIERARCHY, copies=True)
    one = skip.truncate(1)  # one layer: the same matrices, but a different flag
    assert PathwayMask(one, skip_levels=False) != one
    rebuilt = PathwayMask.from_edges(skip.to_edges(), feature_names=skip.feature_names)
    assert rebuilt == skip  # skip levels detected from the table
    forced = PathwayMask.from_edges(skip.to_edges(), feature_names=skip.feature_names,
                                    skip_levels=True)
    assert forced == skip
    assert "skip_levels=True" in repr(skip)
    summary = skip.summary()
    assert summary["n_inputs"].tolist() == [7, 9, 11]
    assert summary["n_edges"].sum() == skip.n_edges


def test_truncate_drops_nodes_that_no_longer_reach_the_top(skip):
    two = skip.truncate(2)
    # C feeds B (kept) ; A1 feeds A (kept) and R (cut): both stay
    assert [list(n) for n in two.node_names] == [["A1", "C"], ["A", "B"]]
    one = skip.truncate(1)
    assert [list(n) for n in one.node_names] == [["A1", "C"]]
    # S's only parent T is in layer 2: cut to two layers, S reaches no top node
    mask = PathwayMask.from_gene_sets({"P": ["a"], "Q": ["b"], "S": ["c"], "T": ["d"]},
                                      [("P", "Q"), ("Q", "T"), ("S", "T")])
    assert [list(n) for n in mask.node_names] == [["P", "S"], ["Q"], ["T"]]
    cut = mask.truncate(2)
    assert [list(n) for n in cut.node_names] == [["P"], ["Q"]]
    assert cut.layers[1].shape == (5, 1)


def test_restrict_propagates_dropped_nodes_to_every_reader(skip):
    # without g1, g2, g6 the pathway A1 is empty: A and R lose that input
    small, report = skip.restrict(["g3", "g4", "g5", "g7", "extra"], return_report=True)
    assert small.skip_levels
    assert report.dropped_nodes == [["A1"], [], []]
    assert report.missing_features == ["g1", "g2", "g6"]
    assert report.unused_features == ["extra"]
    assert small.input_names(2).tolist() == ["g3", "g4", "g5", "g7", "extra", "C", "A", "B"]
    edges = set(map(tuple, small.to_edges()[["source", "target"]].to_numpy()))
    assert ("A1", "R") not in edges and ("A", "R") in edges and ("g7", "R") in edges
    assert ("C", "B") in edges


def test_randomize_preserves_degrees_per_layer(skip):
    mask = load_reactome(n_levels=4)
    null = randomize_mask(mask, random_state=0)
    assert null.skip_levels
    for a, b in zip(mask.layers, null.layers):
        assert a.shape == b.shape and a.nnz == b.nnz
        np.testing.assert_array_equal(np.diff(a.indptr), np.diff(b.indptr))
        np.testing.assert_array_equal(np.diff(a.tocsc().indptr), np.diff(b.tocsc().indptr))
    assert (mask.layers[0].multiply(null.layers[0])).sum() < 0.5 * mask.layers[0].nnz


def test_reactome_default_has_one_node_per_pathway():
    skip, copies = load_reactome(), load_reactome(copies=True)
    real = {re.sub(r"_copy\d+$", "", n) for names in copies.node_names for n in names}
    nodes = [n for names in skip.node_names for n in names]
    assert len(nodes) == len(set(nodes)) == len(real) == 2705
    assert set(nodes) == real
    assert sum(copies.layer_sizes) == 19227
    assert set(skip.node_names[-1]) == set(copies.node_names[-1])  # the 29 roots on top
    assert len(skip.node_names[-1]) == 29


# --------------------------------------------------------------- the network
@pytest.mark.parametrize("kernel", ["auto", "csr", "dense"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_forward_and_gradients_equal_the_dense_reference(skip, kernel, activation):
    torch.manual_seed(0)
    module = BINNModule(skip, activation=activation, kernel=kernel).double()
    X = torch.randn(9, skip.n_features, dtype=torch.float64)
    out, acts = module.forward_with_activations(X)
    ref, ref_acts = dense_forward(module, skip, X, activation)
    torch.testing.assert_close(out, ref)
    for a, b in zip(acts, ref_acts):
        torch.testing.assert_close(a, b)
    # partial supervision: all activations side by side
    _, side = module(X, pathway_targets=torch.zeros(9, sum(skip.layer_sizes)))
    torch.testing.assert_close(side, torch.cat(ref_acts, dim=1))
    params = list(module.parameters())
    grads = torch.autograd.grad((out**2).sum(), params)
    ref_grads = torch.autograd.grad((dense_forward(module, skip, X, activation)[0]**2).sum(),
                                    params)
    for g, r in zip(grads, ref_grads):
        torch.testing.assert_close(g, r)
    # the input gradient too (attribution needs it)
    Xg = X.clone().requires_grad_()
    Xr = X.clone().requires_grad_()
    (gx,) = torch.autograd.grad(module(Xg).sum(), Xg)
    (rx,) = torch.autograd.grad(dense_forward(module, skip, Xr, activation)[0].sum(), Xr)
    torch.testing.assert_close(gx, rx)


def test_blocks_equal_the_whole_concatenation():
    rng = np.random.default_rng(0)
    mask = (rng.random((50, 6)) < 0.2).astype(float)
    mask[0] = 1
    layer = SparseLinear(mask, row_splits=(30, 0, 20)).double()
    x = torch.randn(50, 4, dtype=torch.float64)
    whole = layer.forward_feature_major(x)
    torch.testing.assert_close(layer.forward_blocks([x[:30], x[30:30], x[30:]]), whole)
    with pytest.raises(ValueError, match="row_splits must be non-negative block sizes"):
        SparseLinear(mask, row_splits=(30, 10))
    with pytest.raises(ValueError, match="one input per row block"):
        layer.forward_blocks([x])


def test_parameters_are_edges_plus_biases_plus_head(skip):
    module = BINNModule(skip, n_outputs=2, head_layer_sizes=(3,))
    n_params = sum(p.numel() for p in module.parameters())
    top = skip.layer_sizes[-1]
    assert n_params == skip.n_edges + sum(skip.layer_sizes) + (top * 3 + 3) + (3 * 2 + 2)
    reactome = load_reactome()
    n_params = sum(p.numel() for p in BINNModule(reactome).parameters())
    assert n_params == reactome.n_edges + sum(reactome.layer_sizes) + 29 + 1


def _set_weight(layer, weights):
    """Give a SparseLinear the weights of a dense ``(n_in, n_out)`` array."""
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weights[layer.rows.numpy(), layer.cols.numpy()]))


def test_skip_network_equals_the_chain_with_identity_copies(skip):
    """Identity activation: the chain whose copies pass their input on unchanged (weight
    1, bias 0) computes exactly what the skip-level network computes."""
    chain = PathwayMask.from_gene_sets(GENE_SETS, HIERARCHY, copies=True)
    torch.manual_seed(0)
    net = BINNModule(skip, activation="identity").double()
    weight = {}  # (source, target) -> weight of the skip network
    for k, layer in enumerate(net.pathway_layers):
        names, targets = skip.input_names(k), skip.node_names[k]
        for r, c, w in zip(layer.rows.numpy(), layer.cols.numpy(), layer.weight.detach()):
            weight[names[r], targets[c]] = float(w)
    bias = {n: float(b) for layer, names in zip(net.pathway_layers, skip.node_names)
            for n, b in zip(names, layer.bias.detach())}
    copies = BINNModule(chain, activation="identity").double()
    edges = chain.to_edges()
    base = lambda name: re.sub(r"_copy\d+$", "", name)  # noqa: E731
    with torch.no_grad():
        for k, layer in enumerate(copies.pathway_layers):
            names = list(chain.input_names(k))
            dense = np.zeros((layer.in_features, layer.out_features))
            targets = list(chain.node_names[k])
            for s, t in edges.loc[edges["layer"] == k, ["source", "target"]].to_numpy():
                if base(s) == base(t):
                    w = 1.0  # a copy carrying its pathway up
                else:
                    w = weight[base(s), base(t)]
                dense[names.index(s), targets.index(t)] = w
            _set_weight(layer, dense)
            layer.bias.copy_(torch.tensor([bias[t] if base(t) == t else 0.0 for t in targets]))
        assert list(chain.node_names[-1]) == list(skip.node_names[-1])
        copies.output.weight.copy_(net.output.weight)
        copies.output.bias.copy_(net.output.bias)
    X = torch.randn(11, skip.n_features, dtype=torch.float64)
    torch.testing.assert_close(copies(X), net(X))


# ----------------------------------------------------- teacher and recovery
def _flipped_student(teacher, rng):
    """The teacher with every pathway node's sign flipped at random (tanh is odd):
    the function is unchanged, the weights of every layer that reads it change."""
    est = teacher.to_estimator()
    module, mask = est.module_, teacher.mask
    factors = [rng.choice([-1.0, 1.0], size=n) for n in mask.layer_sizes]
    for f in factors:
        f[0] = -1.0
    with torch.no_grad():
        for k, layer in enumerate(module.pathway_layers):
            inputs = np.concatenate([np.ones(mask.n_features), *factors[:k]])
            rows, cols = layer.rows.numpy(), layer.cols.numpy()
            scale = inputs[rows] * factors[k][cols]
            layer.weight.mul_(torch.as_tensor(scale, dtype=layer.weight.dtype))
            layer.bias.mul_(torch.as_tensor(factors[k], dtype=layer.bias.dtype))
        module.output.weight.mul_(torch.as_tensor(factors[-1], dtype=torch.float32))
    return est


def test_teacher_on_a_skip_mask_is_centred_and_its_flipped_copy_recovers_fully(skip):
    teacher = TeacherDataset(skip, random_state=0)
    X, y = teacher.sample(400, random_state=1)
    module = teacher.module.double()
    with torch.no_grad():
        _, pres = module.forward_with_activations(
            torch.as_tensor(teacher._draw_inputs(2000, np.random.default_rng(5))),
            pre_activation=True)
    teacher.module.float()
    for pre in pres:  # every node centred on the reference sample: means near 0
        assert np.abs(pre.mean(dim=0).numpy()).max() < 0.2
    student = _flipped_student(teacher, np.random.default_rng(0))
    np.testing.assert_allclose(student.predict(X), teacher.predict(X), rtol=1e-4, atol=1e-5)
    for k in range(skip.depth):
        assert not np.allclose(student.get_weights()[k].data, teacher.weights[k].data)
    report = recovery_report(student, teacher, X)
    np.testing.assert_allclose(report.nodes["weight_recovery"], 1.0, atol=1e-6)
    np.testing.assert_allclose(report.nodes["activation_recovery"], 1.0, atol=1e-6)
    assert np.isfinite(report.nodes["influence"]).all()


def test_latent_inputs_use_every_gene_edge(skip):
    teacher = TeacherDataset(skip, input_model="latent", random_state=0)
    cov = teacher.input_covariance()
    # g7 feeds C (layer 0) and R (top): it shares C's latent factor with g3 and g6
    genes = list(skip.feature_names)
    assert cov[genes.index("g7"), genes.index("g3")] > 0
    assert cov[genes.index("g4"), genes.index("g5")] == 0


# ------------------------------------------------------------- reading it
@pytest.fixture(scope="module")
def fitted(skip):
    teacher = TeacherDataset(skip, random_state=0)
    X, y = teacher.sample(80, random_state=0)
    est = BINNRegressor(skip, max_epochs=3, random_state=0).fit(X, y)
    return est, X


def test_get_weights_rows_are_the_concatenation(skip, fitted):
    est, _ = fitted
    frames = est.get_weights(as_frame=True)
    assert list(frames[2].index) == skip.input_names(2).tolist()
    assert list(frames[2].columns) == ["R", "Z"]
    w = frames[2].sparse.to_dense()
    assert w.loc["A1", "R"] != 0 and w.loc["g7", "R"] != 0 and w.loc["C", "R"] == 0


def test_integrated_gradients_are_complete_on_a_skip_mask(skip, fitted):
    est, X = fitted
    rows = X[:4]
    baseline = np.random.default_rng(0).normal(size=skip.n_features)
    f_x = est.predict(rows)
    f_b = est.predict(baseline[None, :].astype(np.float32))
    genes = pathway_importance(est, rows, "integrated_gradients", "genes", baseline,
                               n_steps=300)
    np.testing.assert_allclose(genes.sum(axis=1), f_x - f_b, atol=2e-4)
    # a pathway layer below the top is no cut (genes reach higher layers directly):
    # its attributions sum to the change of the output when only that layer's
    # activations move from the baseline's to the sample's
    module = est.module_.double().eval()
    with torch.no_grad():
        xs = torch.as_tensor(rows, dtype=torch.float64)
        _, acts_b = module.forward_with_activations(
            torch.as_tensor(np.broadcast_to(baseline, rows.shape).copy()))
        swapped = module.pathway_activations[0][1].register_forward_hook(
            lambda mod, inp, out: acts_b[0])
        f_layer_b = module(xs)[:, 0].numpy()
        swapped.remove()
        f_x64 = module(xs)[:, 0].numpy()
    module.float()
    layer0 = pathway_importance(est, rows, "integrated_gradients", 0, baseline, n_steps=300)
    np.testing.assert_allclose(layer0.sum(axis=1), f_x64 - f_layer_b, atol=5e-4)
    weight = pathway_importance(est, rows, "weight", 0)
    expected = [abs(est.get_weights(as_frame=True)[k].sparse.to_dense().loc[n]).sum()
                for n in ("A1", "C") for k in (1, 2)]
    np.testing.assert_allclose(weight.to_numpy(), [expected[0] + expected[1],
                                                   expected[2] + expected[3]], rtol=1e-6)


def test_plot_attribution_flow_draws_skip_edges(skip, fitted):
    import matplotlib

    matplotlib.use("Agg")
    from sklearn_binn.plotting import plot_attribution_flow

    est, X = fitted
    ax = plot_attribution_flow(est, X[:10], method="weight", top=3)
    # an edge from the gene column (0) straight to the top layer's column (3)
    from matplotlib.collections import LineCollection

    spans = {(round(seg[0][0]), round(seg[1][0])) for coll in ax.collections
             if isinstance(coll, LineCollection) for seg in coll.get_segments()}
    # columns: genes 0, layers 1-3, output 4; a gene feeds R (top) directly when g7
    # is among the top genes, and A1 (layer 0, column 1) always feeds R (column 3)
    assert (1, 3) in spans
    assert all(b > a for a, b in spans)


@pytest.mark.parametrize("activation", ["relu", "identity"])
def test_diagnostic_symmetries_of_a_skip_network_leave_the_outputs_unchanged(skip, activation):
    """A node's rescaling must be compensated in every layer that reads it: the
    diagnostic's symmetry directions are then null directions of the Jacobian."""
    from sklearn_binn._diagnostic import _OutputMap, _symmetry_tangents

    teacher = TeacherDataset(skip, activation=activation, random_state=0)
    X, _ = teacher.sample(50, random_state=1)
    net = _OutputMap(teacher.to_estimator().module_, X)
    S, _ = _symmetry_tangents(net)
    assert S.shape[1] >= sum(skip.layer_sizes)
    moved = np.array([np.linalg.norm(net.jvp(t)) / np.linalg.norm(t) for t in S.T])
    typical = np.array([np.linalg.norm(net.jvp(v)) / np.linalg.norm(v) for v in
                        np.random.default_rng(0).standard_normal((5, S.shape[0]))])
    assert moved.max() < 1e-8 * typical.min()


def test_fitted_skip_estimator_pickles_and_reloads_its_weights(skip, fitted):
    est, X = fitted
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    assert again.module_.skip_levels and again.mask_ == skip
    # the saved weights refuse a chain network of the same pathways
    other = BINNRegressor(PathwayMask.from_gene_sets(GENE_SETS, HIERARCHY, copies=True),
                          max_epochs=0, random_state=0).fit(X, est.predict(X))
    with pytest.raises((ValueError, RuntimeError)):
        other.module_.load_state_dict(est.module_.state_dict())


def test_edge_signs_find_skip_edges(skip):
    import pandas as pd

    from sklearn_binn.callbacks import edge_signs

    table = pd.DataFrame({"source": ["g7", "A1"], "target": ["R", "R"], "sign": [-1, 1]})
    signs = edge_signs(skip, table)
    frame = skip.to_edges()
    layer2 = frame[frame["layer"] == 2].reset_index(drop=True)
    # the top layer's weights are in CSR order over [genes, layer 0, layer 1]
    names = list(skip.input_names(2))
    order = sorted(range(len(layer2)), key=lambda i: (names.index(layer2["source"][i]),
                                                      list(skip.node_names[2]).index(
                                                          layer2["target"][i])))
    expected = [{("g7", "R"): -1.0, ("A1", "R"): 1.0}.get(
        (layer2["source"][i], layer2["target"][i]), 0.0) for i in order]
    assert signs[2].tolist() == expected
    assert not signs[0].any() and not signs[1].any()
