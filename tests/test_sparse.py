"""Tests of SparseLinear: outputs and gradients against dense references."""

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.autograd.forward_ad as fwAD
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sklearn_binn._sparse import DENSE_MAX_ENTRIES, DENSE_MIN_DENSITY
from sklearn_binn.modules import DenseMaskedLinear, SparseLinear

# float32 products of a few hundred terms
RTOL, ATOL = 1e-5, 1e-5
TOLERANCES = {torch.float32: (RTOL, ATOL), torch.float64: (1e-12, 1e-12)}
KERNELS = ["dense", "csr"]
DTYPES = [torch.float32, torch.float64]


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
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_outputs_and_gradients_equal_dense_references(
    n_in, n_out, density, empty_rows, empty_cols, seed, kernel, dtype
):
    rtol, atol = TOLERANCES[dtype]
    mask = random_mask(n_in, n_out, density, seed, empty_rows, empty_cols)
    torch.manual_seed(seed)
    layer = SparseLinear(mask, kernel=kernel).to(dtype)
    assert layer.active_kernel == kernel
    dense = DenseMaskedLinear.from_sparse(layer).to(dtype)
    x = torch.randn(6, n_in, dtype=dtype, requires_grad=True)
    x_dense = x.detach().clone().requires_grad_(True)
    upstream = torch.randn(6, n_out, dtype=dtype)

    out = layer(x)
    (out * upstream).sum().backward()
    out_dense = dense(x_dense)
    (out_dense * upstream).sum().backward()

    # reference 1: DenseMaskedLinear with the same weights
    assert out.dtype == layer.weight.grad.dtype == dtype
    torch.testing.assert_close(out, out_dense, rtol=rtol, atol=atol)
    torch.testing.assert_close(x.grad, x_dense.grad, rtol=rtol, atol=atol)
    torch.testing.assert_close(layer.bias.grad, dense.bias.grad, rtol=rtol, atol=atol)
    rows, cols = layer.rows, layer.cols
    torch.testing.assert_close(layer.weight.grad, dense.weight.grad[rows, cols],
                               rtol=rtol, atol=atol)
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
    np.testing.assert_allclose(out.detach().numpy(), expected["out"], rtol=rtol, atol=atol)
    np.testing.assert_allclose(x.grad.numpy(), expected["grad_x"], rtol=rtol, atol=atol)
    np.testing.assert_allclose(layer.bias.grad.numpy(), expected["grad_b"], rtol=rtol, atol=atol)
    grad_w = sp.csr_matrix(
        (layer.weight.grad.double().numpy(), layer.col.numpy(), layer.crow.numpy()),
        shape=mask.shape,
    ).toarray()
    np.testing.assert_allclose(grad_w, expected["grad_W"], rtol=rtol, atol=atol)
    if empty_rows:
        assert torch.all(x.grad[:, list(empty_rows)] == 0)
    for j in empty_cols:  # a node without inputs outputs its bias
        torch.testing.assert_close(out[:, j], layer.bias[j].expand(6))


@pytest.mark.parametrize("kernel", KERNELS)
def test_forward_feature_major_is_the_transposed_forward(kernel):
    mask = random_mask(40, 9, 0.15, 3, empty_rows=(2,))
    layer = SparseLinear(mask, kernel=kernel)
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


@pytest.mark.parametrize("kernel", KERNELS)
def test_parameters_are_edges_plus_biases(kernel):
    mask = random_mask(25, 6, 0.3, 7, empty_rows=(3,))
    layer = SparseLinear(mask, kernel=kernel)
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
@pytest.mark.parametrize("kernel", KERNELS)
def test_masked_out_connections_never_receive_weight(optimizer, kernel):
    mask = random_mask(30, 8, 0.2, 13, empty_rows=(4, 9))
    layer = SparseLinear(mask, kernel=kernel)
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


def _double_layer(mask, seed=0, kernel="auto"):
    torch.manual_seed(seed)
    return SparseLinear(mask, kernel=kernel).double()


@pytest.mark.parametrize("kernel", KERNELS)
def test_forward_mode_ad_matches_dense_reference_and_finite_differences(kernel):
    mask = random_mask(20, 6, 0.25, 17, empty_rows=(1,))
    layer = _double_layer(mask, kernel=kernel)
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


# torch.func transforms take the gather/index_add path of the CSR kernel.
@pytest.mark.parametrize("kernel", KERNELS)
def test_torch_func_jvp_matches_dense_reference(kernel):
    mask = random_mask(20, 6, 0.25, 19)
    layer = _double_layer(mask, kernel=kernel)
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
    kernel=st.sampled_from(KERNELS),
)
def test_property_random_shapes_match_closed_form(n_in, n_out, batch, density, seed, kernel):
    mask = random_mask(n_in, n_out, density, seed)
    torch.manual_seed(seed)
    layer = SparseLinear(mask, kernel=kernel)
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


# ------------------------------------------------------------------ kernels
@pytest.mark.parametrize("kernel", KERNELS)
def test_torch_func_grad_jacrev_and_vmap_match_dense_reference(kernel):
    mask = random_mask(15, 5, 0.3, 23, empty_rows=(2,))
    layer = _double_layer(mask, kernel=kernel)
    dense = DenseMaskedLinear.from_sparse(layer)
    x = torch.randn(4, 15, dtype=torch.float64)
    upstream = torch.randn(4, 5, dtype=torch.float64)
    params = {"weight": layer.weight.detach(), "bias": layer.bias.detach()}

    def loss(params, x):
        return (torch.func.functional_call(layer, params, (x,)) * upstream).sum()

    grads = torch.func.grad(loss, argnums=(0, 1))(params, x)
    x_ref = x.clone().requires_grad_(True)
    (dense(x_ref) * upstream).sum().backward()
    torch.testing.assert_close(grads[1], x_ref.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grads[0]["weight"], dense.weight.grad[layer.rows, layer.cols],
                               rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grads[0]["bias"], dense.bias.grad, rtol=1e-12, atol=1e-12)

    # jacrev (vmap over output cotangents) w.r.t. the edge weights of one sample
    jac = torch.func.jacrev(
        lambda w: torch.func.functional_call(layer, {"weight": w, "bias": params["bias"]},
                                             (x[:1],))
    )(params["weight"])
    expected = torch.zeros(1, 5, layer.n_edges, dtype=torch.float64)
    expected[0, layer.cols, torch.arange(layer.n_edges)] = x[0, layer.rows]
    torch.testing.assert_close(jac, expected, rtol=1e-12, atol=1e-12)

    # vmap over several weight vectors: one output per vector
    weights = torch.randn(3, layer.n_edges, dtype=torch.float64)
    outs = torch.func.vmap(
        lambda w: torch.func.functional_call(layer, {"weight": w, "bias": params["bias"]}, (x,))
    )(weights)
    for w, out in zip(weights, outs):
        W = torch.zeros(15, 5, dtype=torch.float64)
        W[layer.rows, layer.cols] = w
        torch.testing.assert_close(out, x @ W + params["bias"], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kernels_agree_on_a_pathway_like_layer(dtype):
    from sklearn_binn.datasets import make_pathway_mask

    mask = make_pathway_mask(300, depth=2, random_state=0).layers[0]
    layers = {k: SparseLinear(mask, kernel=k, generator=torch.Generator().manual_seed(3)).to(dtype)
              for k in KERNELS}
    x_t = torch.randn(64, 300, dtype=dtype).T  # the module's feature-major, transposed view
    upstream = torch.randn(mask.shape[1], 64, dtype=dtype)
    results = {}
    for kernel, layer in layers.items():
        x = x_t.detach().clone().requires_grad_(True)
        out = layer.forward_feature_major(x)
        out.backward(upstream)
        results[kernel] = (out, x.grad, layer.weight.grad, layer.bias.grad)
    rtol, atol = TOLERANCES[dtype]
    for a, b in zip(results["dense"], results["csr"]):
        torch.testing.assert_close(a, b, rtol=rtol, atol=10 * atol)


def test_auto_kernel_is_dense_for_small_or_dense_layers_and_csr_for_large_sparse_ones():
    small = SparseLinear(random_mask(100, 20, 0.2, 0))
    assert small.kernel == "auto" and small.active_kernel == "dense"
    assert "kernel='dense'" in repr(small)
    side = int(np.sqrt(DENSE_MAX_ENTRIES)) + 1
    rows = np.arange(side)
    large = SparseLinear(sp.csr_matrix((np.ones(side), (rows, rows)), shape=(side, side)))
    assert large.active_kernel == "csr" and "kernel='csr'" in repr(large)
    # the rule at its boundaries
    rule = SparseLinear.auto_kernel
    assert rule(side - 1, side - 1, 1) == "dense"
    assert rule(side, side, side) == "csr"
    pairs = 1000 * 200
    assert rule(1000, 200, int(np.ceil(DENSE_MIN_DENSITY * pairs))) == "dense"
    assert rule(1000, 200, int(DENSE_MIN_DENSITY * pairs) - 1) == "csr"
    assert rule(2048, 1025, 2048 * 1025) == "csr"  # above DENSE_MAX_ENTRIES_DENSE
    assert rule(2048, 1024, 2048 * 1024) == "dense"
    dense_large = SparseLinear(random_mask(1000, 200, 0.3, 1))
    assert dense_large.active_kernel == "dense"


def test_kernel_can_be_forced_and_changed_later():
    mask = random_mask(30, 7, 0.2, 1)
    layer = SparseLinear(mask, kernel="csr")
    assert layer.kernel == layer.active_kernel == "csr"
    assert repr(layer).endswith("kernel='csr')")
    x = torch.randn(5, 30)
    before = layer(x)
    layer.kernel = "dense"
    assert layer.active_kernel == "dense" and "kernel='dense'" in repr(layer)
    torch.testing.assert_close(layer(x), before, rtol=RTOL, atol=ATOL)
    layer.kernel = "auto"
    assert layer.kernel == "auto"
    assert layer.active_kernel == SparseLinear.auto_kernel(30, 7, layer.n_edges)


@pytest.mark.parametrize("bad", ["sparse", "Dense", None, 1])
def test_unknown_kernel_is_a_clear_error(bad):
    with pytest.raises(ValueError, match=r"'kernel' parameter of SparseLinear must be a str "
                                         r"among \{'auto', 'dense', 'csr'\}\. Got .* instead"):
        SparseLinear(random_mask(5, 2, 0.5, 0), kernel=bad)
    layer = SparseLinear(random_mask(5, 2, 0.5, 0))
    with pytest.raises(ValueError, match="'kernel' parameter"):
        layer.kernel = bad
    assert layer.kernel == "auto"


def test_state_dicts_are_the_same_for_both_kernels_and_load_across():
    mask = random_mask(30, 7, 0.2, 2)
    dense = SparseLinear(mask, kernel="dense")
    csr = SparseLinear(mask, kernel="csr")
    assert list(dense.state_dict()) == list(csr.state_dict()) == [
        "weight", "bias", "crow", "col", "crow_t", "col_t", "perm", "rows", "cols"
    ]
    csr.load_state_dict(dense.state_dict())
    x = torch.randn(4, 30)
    torch.testing.assert_close(csr(x), dense(x), rtol=RTOL, atol=ATOL)
    assert torch.equal(csr.weight, dense.weight)


def test_layers_pickled_before_the_kernels_existed_still_load():
    mask = random_mask(30, 7, 0.2, 4)
    layer = SparseLinear(mask)
    x = torch.randn(4, 30)
    expected = layer(x)
    # what a pickle of the earlier layer held: neither the kernel nor the dense index
    del layer._buffers["dense_index"]
    layer._non_persistent_buffers_set.discard("dense_index")
    del layer.__dict__["_kernel"]
    restored = pickle.loads(pickle.dumps(layer))
    assert restored.kernel == "auto" and restored.active_kernel == "dense"
    torch.testing.assert_close(restored(x), expected)


# ---------------------------------------------------------------- generator
def test_a_seeded_generator_gives_the_weights_of_the_same_global_seed():
    mask = random_mask(60, 9, 0.2, 5, empty_cols=(4,))
    torch.manual_seed(123)
    seeded_globally = SparseLinear(mask)
    state = torch.get_rng_state()
    from_generator = SparseLinear(mask, generator=torch.Generator().manual_seed(123))
    # bit-identical weights and biases, and the global generator untouched
    assert torch.equal(from_generator.weight, seeded_globally.weight)
    assert torch.equal(from_generator.bias, seeded_globally.bias)
    assert torch.equal(torch.get_rng_state(), state)
    other = SparseLinear(mask, generator=torch.Generator().manual_seed(124))
    assert not torch.equal(other.weight, from_generator.weight)
    # reset_parameters draws again from a generator, weight first, then bias
    gen = torch.Generator().manual_seed(123)
    other.reset_parameters(generator=gen)
    assert torch.equal(other.weight, seeded_globally.weight)
    assert torch.equal(other.bias, seeded_globally.bias)
    torch.manual_seed(123)
    other.reset_parameters()
    assert torch.equal(other.weight, seeded_globally.weight)


# ----------------------------------------------------------------- warnings
def test_importing_changes_no_warning_filter_and_csr_never_warns():
    # torch warns once per process that CSR is in beta: check in a fresh one,
    # with every warning an error, that the layer silences that warning itself
    script = textwrap.dedent("""
        import warnings
        import numpy, scipy.sparse, torch, sklearn, skorch
        before = list(warnings.filters)
        import sklearn_binn, sklearn_binn.modules
        assert warnings.filters == before, [f for f in warnings.filters if f not in before]
        warnings.simplefilter("error")
        from sklearn_binn.modules import SparseLinear
        layer = SparseLinear(numpy.eye(4, 3), kernel="csr")
        x = torch.randn(5, 4, requires_grad=True)
        layer(x).sum().backward()
        assert warnings.filters[0][0] == "error"
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
