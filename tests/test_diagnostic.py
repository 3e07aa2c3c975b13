"""identifiability_diagnostic: ranks against finite-difference Jacobians, closed forms."""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_binn import (
    BINNClassifier,
    BINNRegressor,
    IdentifiabilityDiagnostic,
    PathwayMask,
    TeacherDataset,
    identifiability_diagnostic,
    recovery_report,
)
from sklearn_binn._diagnostic import _OutputMap


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """The SVDs here are small: BLAS threads only contend on a shared machine."""
    with threadpool_limits(1):
        yield


# tolerance for comparisons with finite differences (their error is ~1e-10)
FD_TOL = 1e-6


def _private_mask(n_pathways=4, n_genes=3, duplicate=None, sizes=None):
    """Pathways with private genes; ``duplicate`` adds a copy of P0's gene set."""
    sizes = sizes or [n_genes] * n_pathways
    sets = {f"P{i}": [f"g{i}_{r}" for r in range(size)] for i, size in enumerate(sizes)}
    if duplicate:
        sets["Pdup"] = list(sets["P0"])
    return PathwayMask.from_gene_sets(sets)


def _teacher_estimator(mask, n_samples, activation="tanh", seed=0, **kwargs):
    teacher = TeacherDataset(mask, activation=activation, random_state=seed, **kwargs)
    X, _ = teacher.sample(n_samples, random_state=seed + 1)
    return teacher, teacher.to_estimator(), X


def _fd_jacobian(module, X, centre=None, h=1e-6):
    """Central finite differences of the outputs w.r.t. the linear layers' parameters."""
    net = copy.deepcopy(module).double().eval()
    params = [p for name, p in net.named_parameters() if not name.startswith("batch_norms")]
    X = torch.as_tensor(X, dtype=torch.float64)
    columns = []
    with torch.no_grad():
        for p in params:
            flat = p.view(-1)
            for i in range(flat.numel()):
                flat[i] += h
                plus = net(X)
                flat[i] -= 2 * h
                minus = net(X)
                flat[i] += h
                d = (plus - minus) / (2 * h)
                if centre == "samples":
                    d = d - d.mean(dim=0)
                elif centre == "outputs":
                    d = d - d.mean(dim=1, keepdim=True)
                columns.append(d.reshape(-1).numpy())
    return np.column_stack(columns)


def _set_node(estimator, node, like=None, output_weight=None):
    """Give pathway node ``node`` (layer 0) the weights and bias of node ``like``."""
    layer = estimator.module_.pathway_layers[0]
    names = list(estimator.mask_.node_names[0])
    cols = layer.cols.numpy()
    j = names.index(node)
    with torch.no_grad():
        if like is not None:
            i = names.index(like)
            layer.weight[cols == j] = layer.weight[cols == i]
            layer.bias[j] = layer.bias[i]
        if output_weight is not None:
            estimator.module_.output.weight[:, j] = output_weight


# ------------------------------------------------------------- the Jacobian
@pytest.mark.parametrize("n_samples", [40, 3])  # by columns (forward mode), by rows (reverse)
def test_jacobian_matches_finite_differences(n_samples):
    mask = PathwayMask([[[1, 0], [1, 1], [0, 1], [0, 1]], [[1], [1]]])
    _, est, X = _teacher_estimator(mask, n_samples, head_layer_sizes=(2,))
    net = _OutputMap(est.module_, X)
    J = net.jacobian()
    assert J.shape == (n_samples, net.n_parameters)
    assert (net.n_parameters <= net.n_rows) == (n_samples == 40)
    np.testing.assert_allclose(J, _fd_jacobian(est.module_, X), atol=FD_TOL)
    # G v through one forward-mode and one reverse-mode pass
    v = np.random.default_rng(0).standard_normal(net.n_parameters)
    np.testing.assert_allclose(net.gauss_newton(v), J.T @ (J @ v), rtol=1e-10, atol=1e-10)


# -------------------------------------------------------------------- ranks
@pytest.mark.parametrize(
    "activation, head",
    [("tanh", ()), ("relu", ()), ("sigmoid", ()), ("identity", ()), ("relu", (3,))],
)
def test_rank_matches_finite_difference_rank(activation, head):
    mask = PathwayMask([[[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1], [1, 0, 1]],
                        [[1, 0], [1, 1], [0, 1]]])
    _, est, X = _teacher_estimator(mask, 60, activation, head_layer_sizes=head)
    J = _fd_jacobian(est.module_, X)
    result = identifiability_diagnostic(est, X, tol=FD_TOL)
    assert result.method == "dense"
    assert result.n_parameters == J.shape[1]
    assert result.rank == np.linalg.matrix_rank(J, rtol=FD_TOL)
    assert result.rank + result.n_symmetries + result.deficiency == result.n_parameters
    # relu and identity nodes have one and two symmetry directions (head too)
    n_nodes = sum(mask.layer_sizes) + sum(head)
    expected = {"relu": n_nodes, "identity": 2 * n_nodes}.get(activation, 0)
    assert result.n_symmetries == expected
    if expected:
        assert result.symmetry_residual < 1e-12


@pytest.mark.parametrize("activation", ["relu", "identity"])
def test_symmetry_directions_are_null_and_discounted(activation):
    """Each relu/identity node's rescaling leaves the outputs unchanged, and is all that does."""
    mask = _private_mask(4, 3)
    teacher, est, X = _teacher_estimator(mask, 300, activation)
    J = _fd_jacobian(est.module_, X)
    # parameters: 12 edges, 4 biases, 4 output weights, 1 output bias
    W = teacher.weights[0].toarray()
    b, a = teacher.biases[0], teacher.weights[1].toarray()[:, 0]
    rows, cols = np.nonzero(W)  # CSR order: the layer's edge order
    tangents = []
    for j in range(4):
        t = np.zeros(J.shape[1])
        t[:12][cols == j] = W[rows, cols][cols == j]
        t[12 + j] = b[j]
        t[16 + j] = -a[j]
        tangents.append(t)
        if activation == "identity":  # shift the node, compensate in the output bias
            t = np.zeros(J.shape[1])
            t[12 + j], t[20] = 1.0, -a[j]
            tangents.append(t)
    tangents = np.column_stack(tangents)
    scale = np.linalg.norm(J, 2)
    assert np.linalg.norm(J @ tangents, axis=0).max() < FD_TOL * scale
    # they span the whole null space of J: after discounting nothing is left
    null_dim = J.shape[1] - np.linalg.matrix_rank(J, rtol=FD_TOL)
    assert null_dim == tangents.shape[1] == np.linalg.matrix_rank(tangents)
    result = identifiability_diagnostic(est, X)
    assert result.n_symmetries == tangents.shape[1]
    assert result.deficiency == 0 and result.identifiable
    assert result.nodes["identifiable"].all()


# --------------------------------------------------------- built to be (non-)identifiable
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_private_genes_are_identifiable(activation):
    mask = _private_mask(5, 4)
    _, est, X = _teacher_estimator(mask, 400, activation)
    result = identifiability_diagnostic(est, X)
    assert isinstance(result, IdentifiabilityDiagnostic)
    assert result.rank == result.n_parameters - result.n_symmetries
    assert result.deficiency == 0 and result.identifiable
    nodes = result.nodes
    assert list(nodes.columns) == ["layer", "node", "n_inputs", "null_fraction", "null_dim",
                                   "identifiable"]
    assert list(nodes["node"]) == [f"P{i}" for i in range(5)]
    assert (nodes["n_inputs"] == 4).all() and (nodes["null_dim"] == 0).all()
    assert nodes["identifiable"].all() and nodes["null_fraction"].max() < 1e-20
    assert result.eigenvalues[0] > 1e-10 * result.eigenvalue_max


def test_duplicated_linear_nodes_are_not_identifiable():
    """Identity nodes on the same genes: only the sum of their contributions is seen.

    With ``g`` shared genes the pair has ``2 g + 4`` parameters, 4 symmetry
    directions (two scales, two shifts) and ``g`` effective coefficients:
    the excess null space has dimension exactly ``g``.
    """
    mask = _private_mask(4, 5, duplicate=True)
    _, est, X = _teacher_estimator(mask, 300, "identity")
    result = identifiability_diagnostic(est, X)
    assert result.deficiency == 5
    nodes = result.nodes.set_index("node")
    assert not nodes.loc["P0", "identifiable"] and not nodes.loc["Pdup", "identifiable"]
    assert nodes.loc[["P1", "P2", "P3"], "identifiable"].all()
    # each node's weight vector can turn in all g - 1 = 4 directions beyond its own scale
    assert (nodes.loc[["P0", "Pdup"], "null_dim"] == 4).all()
    # every null direction moves the pair's weights against each other
    assert nodes.loc["P0", "null_fraction"] + nodes.loc["Pdup", "null_fraction"] > 0.99


def test_duplicated_tanh_nodes_only_when_equal():
    """Two tanh nodes on the same genes can be exchanged, a discrete symmetry.

    With different weights they are locally identifiable; at equal weights
    and bias ``a1 tanh(z) + a2 tanh(z)`` is lost along ``g + 1`` incoming
    and one outgoing direction: deficiency ``g + 2``.
    """
    mask = _private_mask(3, 4, duplicate=True)
    _, est, X = _teacher_estimator(mask, 300, "tanh")
    generic = identifiability_diagnostic(est, X)
    assert generic.deficiency == 0 and generic.nodes["identifiable"].all()
    _set_node(est, "Pdup", like="P0")
    result = identifiability_diagnostic(est, X)
    assert result.deficiency == 4 + 2
    flagged = result.nodes.loc[~result.nodes["identifiable"].astype(bool), "node"]
    assert sorted(flagged) == ["P0", "Pdup"]


def test_unused_node_is_not_identifiable():
    """A node the output does not use: its incoming weights can move alone."""
    mask = _private_mask(4, 3)
    _, est, X = _teacher_estimator(mask, 300, "tanh")
    _set_node(est, "P2", output_weight=0.0)
    result = identifiability_diagnostic(est, X)
    nodes = result.nodes.set_index("node")
    np.testing.assert_allclose(nodes.loc["P2", "null_fraction"], 1.0)
    assert nodes.loc["P2", "null_dim"] == 3 and not nodes.loc["P2", "identifiable"]
    assert nodes.loc[["P0", "P1", "P3"], "identifiable"].all()
    # its three weights and its bias
    assert result.deficiency == 4


def test_fewer_samples_than_parameters():
    mask = _private_mask(4, 5)  # 20 edges + 4 biases + 5 output parameters
    _, est, X = _teacher_estimator(mask, 12, "tanh")
    result = identifiability_diagnostic(est, X)
    assert result.n_parameters == 29
    assert result.rank == np.linalg.matrix_rank(_fd_jacobian(est.module_, X), rtol=FD_TOL) == 12
    assert result.deficiency == 29 - 12
    assert not result.identifiable
    assert not result.nodes["identifiable"].any()


# ---------------------------------------------------------- tasks and inputs
def test_survival_discounts_the_log_risk_shift():
    mask = _private_mask(3, 4)
    _, est, X = _teacher_estimator(mask, 200, "tanh", seed=2, task="survival")
    result = identifiability_diagnostic(est, X, tol=FD_TOL)
    J = _fd_jacobian(est.module_, X, centre="samples")
    assert result.rank == np.linalg.matrix_rank(J, rtol=FD_TOL) == result.n_parameters - 1
    assert result.n_symmetries == 1 and result.deficiency == 0


def test_multiclass_discounts_the_softmax_shift():
    mask = _private_mask(3, 4)
    _, est, X = _teacher_estimator(mask, 200, "tanh", task="classification", n_classes=3)
    result = identifiability_diagnostic(est, X, tol=FD_TOL)
    J = _fd_jacobian(est.module_, X, centre="outputs")
    # the output bias and each of the 3 columns of the output weights, over classes
    assert result.n_symmetries == 4
    assert result.rank == np.linalg.matrix_rank(J, rtol=FD_TOL) == result.n_parameters - 4
    assert result.deficiency == 0 and result.nodes["identifiable"].all()


@pytest.mark.parametrize("activation, deficiency", [("relu", 0), ("identity", 2)])
def test_covariates_are_output_inputs_whose_softmax_shift_is_discounted(activation, deficiency):
    """Covariates feed the output layer beside the top pathway layer (P-NET).

    Against the same network without them (same pathway weights, the output
    weights' covariate columns dropped): a 3-class output adds 3 x 2
    weights, of which the shift of each covariate's column over the classes
    (2 directions) leaves the softmax unchanged and the other 4 are seen by
    the outputs. The pathway nodes' verdicts do not change.
    """
    # identity: the pair P0, Pdup (4 shared genes) is seen only through the 2 x 4 product
    # of its centred output weights and its weights: 2 * 4 + 2 * 2 parameters, 2 scales,
    # 8 seen, so 2 excess null directions
    mask = _private_mask(3, 4, duplicate=True)
    genes = list(mask.feature_names)
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((150, len(genes))), columns=genes)
    X["age"], X["stage"] = rng.standard_normal((2, 150))
    y = rng.integers(0, 3, 150)
    params = {"activation": activation, "max_epochs": 5, "train_split": None,
              "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 5 epochs: not converged, not needed here
        with_cov = BINNClassifier(mask, covariates=["age", "stage"], **params).fit(X, y)
        plain = BINNClassifier(mask, **params).fit(X[genes], y)
    n_top = len(mask.node_names[-1])
    assert with_cov.module_.output.in_features == n_top + 2
    state = with_cov.module_.state_dict()
    state["output.weight"] = state["output.weight"][:, :n_top]
    plain.module_.load_state_dict(state)

    cov = identifiability_diagnostic(with_cov, X, tol=FD_TOL)
    ref = identifiability_diagnostic(plain, X[genes], tol=FD_TOL)
    assert cov.n_parameters == ref.n_parameters + 6
    assert cov.n_symmetries == ref.n_symmetries + 2
    assert cov.rank == ref.rank + 4
    # the rank of the finite-difference Jacobian on genes then covariates (network order)
    J = _fd_jacobian(with_cov.module_, X[genes + ["age", "stage"]].to_numpy(), centre="outputs")
    assert J.shape[1] == cov.n_parameters
    assert cov.rank == np.linalg.matrix_rank(J, rtol=FD_TOL)
    assert cov.deficiency == ref.deficiency == deficiency
    assert cov.symmetry_residual < 1e-12
    pd.testing.assert_frame_equal(cov.nodes.drop(columns="null_fraction"),
                                  ref.nodes.drop(columns="null_fraction"))
    np.testing.assert_allclose(cov.nodes["null_fraction"], ref.nodes["null_fraction"],
                               atol=1e-8)


def test_batch_norm_keeps_its_affine_map_fixed():
    mask = _private_mask(3, 4)
    teacher = TeacherDataset(mask, activation="relu", random_state=0)
    X, y = teacher.sample(200, random_state=1)
    est = BINNRegressor(mask, activation="relu", batch_norm=True, max_epochs=3,
                        train_split=None, random_state=0).fit(X, y)
    J = _fd_jacobian(est.module_, X)
    result = identifiability_diagnostic(est, X, tol=FD_TOL)
    assert result.n_parameters == J.shape[1] == 12 + 3 + 3 + 1
    assert result.rank == np.linalg.matrix_rank(J, rtol=FD_TOL)
    assert result.n_symmetries == 3 and result.symmetry_residual < 1e-12


def test_pipeline_transforms_X_first():
    mask = _private_mask(3, 3)
    teacher, est, X = _teacher_estimator(mask, 100, "relu")
    X_raw = X * 3.0 + 1.0
    pipe = make_pipeline(StandardScaler(), est)
    pipe[0].fit(X_raw)
    direct = identifiability_diagnostic(est, pipe[0].transform(X_raw))
    piped = identifiability_diagnostic(pipe, X_raw)
    assert (piped.rank, piped.deficiency) == (direct.rank, direct.deficiency)
    np.testing.assert_allclose(piped.eigenvalues, direct.eigenvalues)
    pd.testing.assert_frame_equal(piped.nodes, direct.nodes)


def test_bad_input():
    mask = _private_mask(2, 2)
    _, est, X = _teacher_estimator(mask, 20)
    with pytest.raises(TypeError, match="needs a fitted BINNClassifier"):
        identifiability_diagnostic(LinearRegression().fit(X, X[:, 0]), X)
    with pytest.raises(NotFittedError):
        identifiability_diagnostic(BINNRegressor(mask), X)
    with pytest.raises(ValueError, match="method must be"):
        identifiability_diagnostic(est, X, method="exact")
    with pytest.raises(ValueError, match="tol must be None or a float in"):
        identifiability_diagnostic(est, X, tol=0.0)
    with pytest.raises(ValueError, match="max_rank must be None or a positive int"):
        identifiability_diagnostic(est, X, max_rank=0)
    with pytest.raises(ValueError, match="too many for LOBPCG"):
        identifiability_diagnostic(est, X, method="iterative")
    with pytest.raises(ValueError, match="features"):
        identifiability_diagnostic(est, X[:, :3])


# ------------------------------------------------------------- iterative
def _medium_case():
    """12 tanh pathways of 5 private genes and an equal copy of P0: deficiency 7."""
    mask = _private_mask(12, 5, duplicate=True)
    _, est, X = _teacher_estimator(mask, 400, "tanh", weight_scale=0.5)
    _set_node(est, "Pdup", like="P0")
    return est, X


def test_iterative_agrees_with_dense():
    est, X = _medium_case()
    dense = identifiability_diagnostic(est, X, method="dense", tol=1e-4)
    iterative = identifiability_diagnostic(est, X, method="iterative", tol=1e-4,
                                           max_rank=10, random_state=0)
    assert dense.n_parameters == iterative.n_parameters == 92
    assert iterative.complete and iterative.method == "iterative"
    assert dense.deficiency == iterative.deficiency == 5 + 2
    assert dense.rank == iterative.rank
    np.testing.assert_allclose(iterative.eigenvalue_max, dense.eigenvalue_max, rtol=1e-6)
    # the null eigenvalues are below tol**2, the others agree
    thr = 1e-8 * dense.eigenvalue_max
    assert (iterative.eigenvalues[:7] <= thr).all() and (dense.eigenvalues[:7] <= thr).all()
    np.testing.assert_allclose(iterative.eigenvalues[7:10], dense.eigenvalues[7:10], rtol=1e-3)
    pd.testing.assert_series_equal(iterative.nodes["identifiable"], dense.nodes["identifiable"])
    np.testing.assert_allclose(iterative.nodes["null_fraction"], dense.nodes["null_fraction"],
                               atol=1e-4)


def test_iterative_reports_a_truncated_null_space():
    mask = _private_mask(10, 5, duplicate=True)
    _, est, X = _teacher_estimator(mask, 200, "identity")  # deficiency 5
    with pytest.warns(UserWarning, match="excess null space has dimension 3 or more"):
        result = identifiability_diagnostic(est, X, method="iterative", max_rank=3,
                                            random_state=0)
    assert not result.complete and not result.identifiable
    assert result.deficiency == 3
    nodes = result.nodes.set_index("node")
    assert not nodes.loc["P0", "identifiable"] and not nodes.loc["Pdup", "identifiable"]
    assert nodes["identifiable"].isna().sum() == len(nodes) - 2  # unknown, not True
    assert "deficiency=3+" in repr(result)


# ---------------------------------------------------- teacher-student check
@pytest.mark.parametrize(
    "n_pathways, genes_per_pathway, unused, seed",
    [(4, 6, 3, 0), (5, 5, 1, 1), (6, 4, 0, 2), (3, 8, 2, 3)],
)
def test_non_identifiable_nodes_are_the_unrecovered_ones(n_pathways, genes_per_pathway,
                                                         unused, seed):
    """On a small grid of teachers, the diagnostic flags exactly the node a trained student misses.

    Measured on the first cell: the three used nodes are recovered at 1.000,
    the unused one at 0.36, its chance level (0.37 over untrained students).
    """
    mask = _private_mask(n_pathways, genes_per_pathway)
    teacher = TeacherDataset(mask, activation="tanh", random_state=seed)
    with torch.no_grad():
        teacher.module.output.weight[:, unused] = 0.0
    X, y = teacher.sample(600, random_state=seed + 1)
    diagnostic = identifiability_diagnostic(teacher.to_estimator(), X)
    flagged = ~diagnostic.nodes["identifiable"].astype(bool)
    assert list(diagnostic.nodes.loc[flagged, "node"]) == [f"P{unused}"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        student = BINNRegressor(mask, lr=2e-2, max_epochs=400, batch_size=-1,
                                train_split=None, n_iter_no_change=None,
                                random_state=seed).fit(X, y)
    nodes = recovery_report(student, teacher, X, chance=True, n_chance_draws=20,
                            random_state=seed).nodes
    recovery = nodes["weight_recovery"]
    assert recovery[~flagged].min() > 0.95
    # the flagged node is recovered no better than an untrained student's (chance)
    chance = nodes.loc[flagged, "weight_chance"] + 3 * nodes.loc[flagged, "weight_chance_sd"]
    assert (recovery[flagged] < chance).all()
    assert recovery[flagged].max() < recovery[~flagged].min() - 0.15
