"""Tests of SparseLinear: outputs and gradients against dense references."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.autograd.forward_ad as fwAD
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sklearn_binn.modules import DenseMaskedLinear, SparseLinear

# float32 products of a few hundred terms
RTOL, ATOL = 1e-5, 1e-5


def random_mask(n_in, n_out, density, seed, empty_rows=(), empty_cols=()):
    rng = np.random.default_rng(seed)
    mask = (rng.random((n_in, n_out)) < density).astype(np.float32)
    mask[list(empty_rows), :] = 0
    mask[:, list(empty_cols)] = 0
    return mask


def closed_form(mask, weight_matrix, bias, x, upstream):
    """Outputs and gradients of ``sum(upstream * (x @ (W*M) + b))`` in float64."""
    W = weight_matrix * mask
    out = x @ W + bias
    return {
        "out": out,
        "grad_x": upstream @ W.T,
        "grad_W": (x.T @ upstream) * mask,
        "grad_b": upstream.sum(axis=0),
    }


MASKS = [
    # (n_in, n_out, density, empty_rows, empty_cols)
    (30, 7, 0.2, (0, 5, 29), ()),
    (50, 12, 0.05, (), ()),
    (8, 5, 0.6, (1, 2), (3,)),
    (1, 1, 1.0, (), ()),
]


@pytest.mark.parametrize("n_in, n_out, density, empty_rows, empty_cols", MASKS)
@pytest.mark.parametrize("seed", [0, 1])
def test_outputs_and_gradients_equal_dense_references(
    n_in, n_out, density, empty_rows, empty_cols, seed
):
    mask = random_mask(n_in, n_out, density, seed, empty_rows, empty_cols)
    torch.manual_seed(seed)
    layer = SparseLinear(mask)
    dense = DenseMaskedLinear.from_sparse(layer)
    x = torch.randn(6, n_in, requires_grad=True)
    x_dense = x.detach().clone().requires_grad_(True)
    upstream = torch.randn(6, n_out)

    out = layer(x)
    (out * upstream).sum().backward()
    out_dense = dense(x_dense)
    (out_dense * upstream).sum().backward()

    # reference 1: DenseMaskedLinear with the same weights
    torch.testing.assert_close(out, out_dense, rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(x.grad, x_dense.grad, rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(layer.bias.grad, dense.bias.grad, rtol=RTOL, atol=ATOL)
    rows, cols = layer.rows, layer.cols
    torch.testing.assert_close(layer.weight.grad, dense.weight.grad[rows, cols],
                               rtol=RTOL, atol=ATOL)
    off_mask = torch.as_tensor(mask) == 0
    assert torch.all(dense.weight.grad[off_mask] == 0)

    # reference 2: a plain x @ (W * M) in float64 numpy
    expected = closed_form(
        mask.astype(np.float64),
        layer.weight_matrix().toarray(),
        layer.bias.detach().double().numpy(),
        x.detach().double().numpy(),
        upstream.double().numpy(),
    )
    np.testing.assert_allclose(out.detach().numpy(), expected["out"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(x.grad.numpy(), expected["grad_x"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(layer.bias.grad.numpy(), expected["grad_b"], rtol=RTOL, atol=ATOL)
    grad_w = sp.csr_matrix(
        (layer.weight.grad.double().numpy(), layer.col.numpy(), layer.crow.numpy()),
        shape=mask.shape,
    ).toarray()
    np.testing.assert_allclose(grad_w, expected["grad_W"], rtol=RTOL, atol=ATOL)
    if empty_rows:
        assert torch.all(x.grad[:, list(empty_rows)] == 0)
    for j in empty_cols:  # a node without inputs outputs its bias
        torch.testing.assert_close(out[:, j], layer.bias[j].expand(6))


def test_forward_feature_major_is_the_transposed_forward():
    mask = random_mask(40, 9, 0.15, 3, empty_rows=(2,))
    layer = SparseLinear(mask)
    x = torch.randn(5, 40)
    out_t = layer.forward_feature_major(x.T.contiguous())
    assert out_t.shape == (9, 5)
    W = torch.as_tensor(layer.weight_matrix().toarray(), dtype=torch.float32)
    torch.testing.assert_close(out_t, W.T @ x.T + layer.bias[:, None], rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(layer.forward_feature_major(x.T), layer(x).T)


def test_weight_matrix():
    mask = random_mask(12, 4, 0.4, 5, empty_rows=(0,))
    layer = SparseLinear(mask)
    matrix = layer.weight_matrix()
    assert sp.isspmatrix_csr(matrix) and matrix.shape == (12, 4) and matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix.toarray() != 0, mask != 0)
    dense = DenseMaskedLinear.from_sparse(layer)
    np.testing.assert_array_equal(matrix.toarray(), dense.weight.detach().double().numpy())
    # CSR order of the edges: row by row, columns ascending within a row
    rows, cols = np.nonzero(mask)
    np.testing.assert_array_equal(layer.weight.detach().numpy(),
                                  matrix.toarray()[rows, cols].astype(np.float32))


def test_parameters_are_edges_plus_biases():
    mask = random_mask(25, 6, 0.3, 7, empty_rows=(3,))
    layer = SparseLinear(mask)
    n_edges = int(mask.sum())
    assert layer.n_edges == n_edges
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.weight.shape == (n_edges,) and layer.bias.shape == (6,)
    assert sum(p.numel() for p in layer.parameters()) == n_edges + 6
    dense = DenseMaskedLinear(mask)
    assert sum(p.numel() for p in dense.parameters()) == 25 * 6 + 6


def test_parameter_count_grows_with_edges_not_genes_times_pathways():
    n_genes, n_pathways = 20_000, 2_000
    rows = np.repeat(np.arange(n_genes), 3)  # each gene in 3 distinct pathways
    cols = (3 * rows + np.tile(np.arange(3), n_genes)) % n_pathways
    mask = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n_genes, n_pathways))
    assert mask.nnz == 60_000
    layer = SparseLinear(mask)
    assert sum(p.numel() for p in layer.parameters()) == 62_000
    # a dense-masked layer would hold n_genes * n_pathways = 40,000,000 weights
    assert layer.weight.numel() * 600 < n_genes * n_pathways


def test_initialisation_uses_each_nodes_fan_in():
    mask = random_mask(200, 10, 0.2, 11)
    layer = SparseLinear(mask)
    bound = 1 / np.sqrt(mask.sum(axis=0))
    w = layer.weight_matrix().toarray()
    assert np.all(np.abs(w) <= bound[None, :] + 1e-7)
    assert np.all(np.abs(layer.bias.detach().numpy()) <= bound + 1e-7)
    # the draws fill their range: the largest |w| of a node is near its bound
    assert np.all(np.abs(w).max(axis=0) > 0.5 * bound)


@pytest.mark.parametrize("optimizer", [torch.optim.Adam, torch.optim.AdamW])
def test_masked_out_connections_never_receive_weight(optimizer):
    mask = random_mask(30, 8, 0.2, 13, empty_rows=(4, 9))
    layer = SparseLinear(mask)
    dense = DenseMaskedLinear.from_sparse(layer)
    opt_sparse = optimizer(layer.parameters(), lr=0.05, weight_decay=0.1)
    opt_dense = optimizer(dense.parameters(), lr=0.05, weight_decay=0.1)
    X, y = torch.randn(64, 30), torch.randn(64, 8)
    for step in range(25):
        for module, opt in ((layer, opt_sparse), (dense, opt_dense)):
            opt.zero_grad()
            torch.nn.functional.mse_loss(module(X[step % 4::4]), y[step % 4::4]).backward()
            opt.step()
    trained = layer.weight_matrix()
    # the dense view has exactly the mask's pattern: nothing grew off the mask
    np.testing.assert_array_equal(trained.toarray()[mask == 0], 0.0)
    np.testing.assert_array_equal(trained.indices, sp.csr_matrix(mask).indices)
    np.testing.assert_array_equal(trained.indptr, sp.csr_matrix(mask).indptr)
    # and the edges followed the same trajectory as the dense-masked reference
    assert torch.all(dense.weight.detach()[torch.as_tensor(mask) == 0] == 0)
    torch.testing.assert_close(layer.weight.detach(), dense.weight.detach()[layer.rows, layer.cols],
                               rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(layer.bias.detach(), dense.bias.detach(), rtol=1e-4, atol=1e-5)


def _double_layer(mask, seed=0):
    torch.manual_seed(seed)
    return SparseLinear(mask).double()


def test_forward_mode_ad_matches_dense_reference_and_finite_differences():
    mask = random_mask(20, 6, 0.25, 17, empty_rows=(1,))
    layer = _double_layer(mask)
    W = torch.as_tensor(layer.weight_matrix().toarray())
    x, x_dot = torch.randn(4, 20, dtype=torch.float64), torch.randn(4, 20, dtype=torch.float64)
    w_dot = torch.randn(layer.n_edges, dtype=torch.float64)
    b_dot = torch.randn(6, dtype=torch.float64)
    params = {"weight": layer.weight.detach(), "bias": layer.bias.detach()}

    def f(x, weight, bias):
        return torch.func.functional_call(layer, {"weight": weight, "bias": bias}, (x,))

    with fwAD.dual_level():
        out = f(fwAD.make_dual(x, x_dot), fwAD.make_dual(params["weight"], w_dot),
                fwAD.make_dual(params["bias"], b_dot))
        tangent = fwAD.unpack_dual(out).tangent
    W_dot = torch.as_tensor(sp.csr_matrix(
        (w_dot.numpy(), layer.col.numpy(), layer.crow.numpy()), shape=mask.shape).toarray())
    torch.testing.assert_close(tangent, x_dot @ W + x @ W_dot + b_dot, rtol=1e-12, atol=1e-12)
    eps = 1e-6
    finite = (f(x + eps * x_dot, params["weight"] + eps * w_dot, params["bias"] + eps * b_dot)
              - f(x - eps * x_dot, params["weight"] - eps * w_dot, params["bias"] - eps * b_dot)
              ) / (2 * eps)
    torch.testing.assert_close(tangent, finite.detach(), rtol=1e-7, atol=1e-7)


# torch.func transforms take the gather/index_add path of the layer.
def test_torch_func_jvp_matches_dense_reference():
    mask = random_mask(20, 6, 0.25, 19)
    layer = _double_layer(mask)
    W = torch.as_tensor(layer.weight_matrix().toarray())
    x, x_dot = torch.randn(4, 20, dtype=torch.float64), torch.randn(4, 20, dtype=torch.float64)
    _, tangent = torch.func.jvp(layer, (x,), (x_dot,))
    torch.testing.assert_close(tangent, x_dot @ W, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_in=st.integers(1, 40),
    n_out=st.integers(1, 12),
    batch=st.integers(1, 9),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_random_shapes_match_closed_form(n_in, n_out, batch, density, seed):
    mask = random_mask(n_in, n_out, density, seed)
    torch.manual_seed(seed)
    layer = SparseLinear(mask)
    x = torch.randn(batch, n_in, requires_grad=True)
    upstream = torch.randn(batch, n_out)
    out = layer(x)
    (out * upstream).sum().backward()
    expected = closed_form(mask.astype(np.float64), layer.weight_matrix().toarray(),
                           layer.bias.detach().double().numpy(), x.detach().double().numpy(),
                           upstream.double().numpy())
    np.testing.assert_allclose(out.detach().numpy(), expected["out"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(x.grad.numpy(), expected["grad_x"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(layer.bias.grad.numpy(), expected["grad_b"], rtol=RTOL, atol=ATOL)
    rows, cols = np.nonzero(mask)
    np.testing.assert_allclose(layer.weight.grad.numpy(), expected["grad_W"][rows, cols],
                               rtol=RTOL, atol=ATOL)
