"""Misspecified wiring: perturb_mask's counts and validity, misspecification_report's scores."""

import numpy as np
import pytest
import torch
from scipy.sparse import csr_matrix

from sklearn_binn import (
    BINNRegressor,
    PathwayMask,
    TeacherDataset,
    misspecification_report,
    perturb_mask,
)
from sklearn_binn.datasets import make_pathway_mask


def _overlapping_mask(seed=0):
    """A two-layer mask whose upper layer is not a tree, so both layers can lose edges."""
    rng = np.random.default_rng(seed)
    low = rng.random((40, 8)) < 0.3
    low[np.arange(8), np.arange(8)] = True  # every node has an input
    high = rng.random((8, 5)) < 0.4
    high[np.arange(8), np.arange(8) % 5] = True  # every node has a parent and an input
    return PathwayMask([csr_matrix(low.astype(float)), csr_matrix(high.astype(float))])


def _dense(mask):
    return [layer.toarray().astype(bool) for layer in mask.layers]


@pytest.mark.parametrize("missing, false", [(0.1, 0.1), (0.25, 0.0), (0.0, 0.3), (0.2, 0.5)])
def test_perturbation_counts_are_exact_per_layer(missing, false):
    mask = _overlapping_mask()
    perturbed = perturb_mask(mask, missing=missing, false=false, random_state=0, layers=None)
    for k, (before, after) in enumerate(zip(_dense(mask), _dense(perturbed.mask))):
        n_edges = before.sum()
        dropped = before & ~after
        added = after & ~before
        assert dropped.sum() == round(missing * n_edges)
        assert added.sum() == round(false * n_edges)
        assert (after.sum(axis=0) >= 1).all()  # every node keeps an input
        if k > 0:
            assert (after.sum(axis=1) >= 1).all()  # every node below keeps a parent
        edges = perturbed.edges[perturbed.edges["layer"] == k]
        counts = edges["status"].value_counts()
        assert counts.get("missing", 0) == dropped.sum()
        assert counts.get("false", 0) == added.sum()
        assert counts.get("true", 0) == (before & after).sum()
    assert perturbed.mask.feature_names.tolist() == mask.feature_names.tolist()
    assert [n.tolist() for n in perturbed.mask.node_names] == [
        n.tolist() for n in mask.node_names
    ]


def test_the_edge_table_names_the_edges_of_each_mask():
    mask = _overlapping_mask(1)
    perturbed = perturb_mask(mask, missing=0.2, false=0.2, random_state=3, layers=None)
    inputs = [list(mask.feature_names), list(mask.node_names[0])]
    for k in range(2):
        edges = perturbed.edges[perturbed.edges["layer"] == k]
        before, after = _dense(mask)[k], _dense(perturbed.mask)[k]
        for status, expected in (("true", before & after), ("missing", before & ~after),
                                 ("false", after & ~before)):
            rows = edges[edges["status"] == status]
            pairs = {(inputs[k].index(s), list(mask.node_names[k]).index(t))
                     for s, t in zip(rows["source"], rows["target"])}
            assert pairs == set(zip(*np.nonzero(expected)))


def test_perturb_mask_is_seeded_and_leaves_other_layers_alone():
    mask = _overlapping_mask()
    a = perturb_mask(mask, 0.2, 0.2, random_state=5, layers=None)
    b = perturb_mask(mask, 0.2, 0.2, random_state=5, layers=None)
    c = perturb_mask(mask, 0.2, 0.2, random_state=6, layers=None)
    assert a.mask == b.mask and a.mask != c.mask
    only_low = perturb_mask(mask, 0.2, 0.2, random_state=5)  # default: layer 0 only
    assert (only_low.mask.layers[1] != mask.layers[1]).nnz == 0
    assert (only_low.mask.layers[0] != mask.layers[0]).nnz > 0


def test_perturb_mask_rejects_what_it_cannot_do():
    tree = make_pathway_mask(100, depth=2, random_state=0)  # one parent per pathway
    with pytest.raises(ValueError, match="layer 1.*no inputs or no outputs"):
        perturb_mask(tree, missing=0.1, false=0.0, layers=None, random_state=0)
    with pytest.raises(ValueError, match="missing must be a fraction"):
        perturb_mask(tree, missing=1.0)
    with pytest.raises(ValueError, match="false must be a fraction"):
        perturb_mask(tree, false=-0.1)
    with pytest.raises(ValueError, match="layers must hold layer indices"):
        perturb_mask(tree, layers=[2])
    full = PathwayMask([np.ones((3, 2))])
    with pytest.raises(ValueError, match="unused input-node pairs"):
        perturb_mask(full, missing=0.0, false=0.5)


# ------------------------------------------------------------------ scoring
def _student_on(mask, teacher, weights, flips=()):
    """A zero-epoch student on ``mask`` carrying dense ``weights`` per layer, some nodes flipped.

    The biases and output layer are the teacher's; a flipped tanh node has
    its incoming weights, bias and outgoing weights negated (the same function).
    """
    student = BINNRegressor(mask, max_epochs=0, random_state=0)
    X, y = teacher.sample(30, random_state=0)
    student.fit(X, y)
    module = student.module_
    state = teacher.module.state_dict()
    with torch.no_grad():
        for k, layer in enumerate(module.pathway_layers):
            W = weights[k]
            layer.weight.copy_(torch.as_tensor(W[layer.rows.numpy(), layer.cols.numpy()]))
            layer.bias.copy_(state[f"pathway_layers.{k}.bias"])
        module.output.weight.copy_(state["output.weight"])
        module.output.bias.copy_(state["output.bias"])
        for k, node in flips:
            layer = module.pathway_layers[k]
            layer.weight[layer.cols == node] *= -1
            layer.bias[node] *= -1
            if k + 1 < module.depth:
                above = module.pathway_layers[k + 1]
                above.weight[above.rows == node] *= -1
            else:
                module.output.weight[:, node] *= -1
    return student


@pytest.fixture(scope="module")
def problem():
    mask = _overlapping_mask()
    teacher = TeacherDataset(mask, random_state=0)
    perturbed = perturb_mask(mask, missing=0.2, false=0.3, random_state=1, layers=None)
    X, _ = teacher.sample(300, random_state=2)
    return mask, teacher, perturbed, X


def test_the_teacher_scores_perfectly_against_itself(problem):
    mask, teacher, _, X = problem
    report = misspecification_report(teacher.to_estimator(), teacher, X)
    assert np.allclose(report.nodes["shared_recovery"], 1.0)
    assert np.allclose(report.nodes["activation_recovery"], 1.0)
    assert (report.layers["n_false"] == 0).all() and (report.layers["n_missing"] == 0).all()
    assert (report.nodes["false_weight_share"] == 0).all()
    assert report.layers["weight_auc"].isna().all()  # no false edge to tell apart


def test_shared_edge_recovery_is_one_for_the_teachers_weights_with_flips(problem):
    mask, teacher, perturbed, X = problem
    true_w = [W.toarray() for W in teacher.weights[:2]]
    student_pattern = _dense(perturbed.mask)
    rng = np.random.default_rng(0)
    weights = []
    for W, pattern in zip(true_w, student_pattern):
        # the teacher's weight on shared edges, a small weight on false ones
        smallest = np.abs(W[W != 0]).min()
        false = pattern & (W == 0)
        weights.append(np.where(pattern, W, 0.0)
                       + false * rng.uniform(0.1, 0.5, W.shape) * smallest)
    student = _student_on(perturbed.mask, teacher, weights, flips=[(0, 1), (0, 4), (1, 2)])
    report = misspecification_report(student, teacher, X)
    assert np.allclose(report.nodes["shared_recovery"], 1.0, atol=1e-6)
    for k in range(2):
        W, pattern, truth = weights[k], student_pattern[k], true_w[k] != 0
        false = pattern & ~truth
        assert report.layers.loc[k, "n_false"] == false.sum()
        assert report.layers.loc[k, "n_missing"] == (truth & ~pattern).sum()
        expected_share = np.abs(W[false]).sum() / np.abs(W[pattern]).sum()
        share = report.layers.loc[k, "false_weight_share"]
        assert share == pytest.approx(expected_share, rel=1e-5)
        # every false edge is lighter than every true one: the weight tells them apart
        assert report.layers.loc[k, "weight_auc"] == 1.0
    # the aligned weights are the teacher's on shared edges (flips undone) ...
    edges = report.edges
    true_rows = edges[edges["status"] == "true"]
    assert np.allclose(true_rows["weight"], true_rows["teacher_weight"], atol=1e-6)
    # ... and the teacher's weight is 0 on false edges
    assert (edges.loc[edges["status"] == "false", "teacher_weight"] == 0).all()


def test_edge_attribution_is_the_first_order_contribution():
    mask = PathwayMask.from_gene_sets({"P1": ["a", "b", "c"], "P2": ["b", "c", "d"]})
    teacher = TeacherDataset(mask, random_state=0)
    X, _ = teacher.sample(200, random_state=1)
    report = misspecification_report(teacher.to_estimator(), teacher, X)
    # f(x) = v . tanh(W^T x + b) + c: dF/dz_j = v_j (1 - tanh(z_j)^2)
    W = teacher.weights[0].toarray()
    b = teacher.biases[0]
    v = teacher.weights[1].toarray()[:, 0]
    z = X @ W + b
    sensitivity = v * (1 - np.tanh(z) ** 2)
    genes, nodes = list(mask.feature_names), list(mask.node_names[0])
    for _, edge in report.edges.iterrows():
        i, j = genes.index(edge["source"]), nodes.index(edge["target"])
        expected = np.mean(np.abs(W[i, j] * X[:, i] * sensitivity[:, j]))
        assert edge["attribution"] == pytest.approx(expected, rel=1e-4)


def test_a_trained_student_on_a_wrong_mask_is_scored(problem):
    mask, teacher, perturbed, X = problem
    X_train, y_train = teacher.sample(400, random_state=3)
    student = BINNRegressor(perturbed.mask, lr=0.05, random_state=0).fit(X_train, y_train)
    report = misspecification_report(student, teacher, X)
    assert report.nodes["shared_recovery"].between(-1, 1).all()
    assert report.layers[["weight_auc", "attribution_auc"]].stack().between(0, 1).all()
    assert report.layers["false_edge_fraction"].tolist() == pytest.approx([
        (perturbed.edges.query(f"layer == {k}")["status"] == "false").sum()
        / (perturbed.edges.query(f"layer == {k}")["status"] != "missing").sum()
        for k in range(2)
    ])


def test_other_nodes_are_rejected(problem):
    mask, teacher, _, X = problem
    renamed = PathwayMask(mask.layers, mask.feature_names,
                          [[f"Q{j}" for j in range(8)], list(mask.node_names[1])])
    X_train, y_train = teacher.sample(50, random_state=3)
    student = BINNRegressor(renamed, max_epochs=0).fit(X_train, y_train)
    with pytest.raises(ValueError, match="other nodes than the teacher's"):
        misspecification_report(student, teacher, X)
    with pytest.raises(TypeError, match="teacher must be a TeacherDataset"):
        misspecification_report(student, student, X)


def _skip_level_mask():
    rng = np.random.default_rng(0)
    low = rng.random((30, 6)) < 0.3
    low[np.arange(6), np.arange(6)] = True
    high = rng.random((36, 3)) < 0.3  # rows: 30 genes, then the 6 nodes of layer 0
    high[30 + np.arange(6), np.arange(6) % 3] = True
    return PathwayMask([low.astype(float), high.astype(float)], skip_levels=True)


@pytest.mark.skipif(not hasattr(PathwayMask, "input_names"), reason="no skip-level masks")
def test_skip_level_masks_are_perturbed_and_attributed():
    mask = _skip_level_mask()
    perturbed = perturb_mask(mask, 0.2, 0.2, random_state=0, layers=None)
    assert perturbed.mask.skip_levels
    for k, (before, after) in enumerate(zip(_dense(mask), _dense(perturbed.mask))):
        assert (before & ~after).sum() == round(0.2 * before.sum())
        assert (after & ~before).sum() == round(0.2 * before.sum())
    teacher = TeacherDataset(mask, random_state=0)
    X, _ = teacher.sample(100, random_state=1)
    report = misspecification_report(teacher.to_estimator(), teacher, X)
    assert np.allclose(report.nodes["shared_recovery"], 1.0)
    # F = v . tanh(z1) + c, z1 = [x, a0] W1 + b1, a0 = tanh(x W0 + b0)
    W0, W1 = (W.toarray() for W in teacher.weights[:2])
    b0, b1 = teacher.biases[:2]
    v = teacher.weights[2].toarray()[:, 0]
    a0 = np.tanh(X @ W0 + b0)
    inputs1 = np.hstack([X, a0])
    g1 = v * (1 - np.tanh(inputs1 @ W1 + b1) ** 2)
    g0 = (1 - a0**2) * (g1 @ W1[30:].T)
    names = [list(mask.input_names(k)) for k in range(2)]
    for k, (W, a, g) in enumerate([(W0, X, g0), (W1, inputs1, g1)]):
        edges = report.edges[report.edges["layer"] == k]
        for _, edge in edges.iterrows():
            i = names[k].index(edge["source"])
            j = list(mask.node_names[k]).index(edge["target"])
            expected = np.mean(np.abs(W[i, j] * a[:, i] * g[:, j]))
            assert edge["attribution"] == pytest.approx(expected, rel=1e-4)
