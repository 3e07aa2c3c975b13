"""The fast paths of the skip-level pass against dense references.

A skip-level network accumulates what its nodes receive into one running
tensor (each source's product added by its own ``addmm``, the CSR kernel
taking that tensor as a whole ``(n_out, batch)`` addend), takes every
source's weights from one gather over all layers' weights, and transposes
small batches by a strided copy. Each is checked here against a dense
forward over the concatenation ``[genes, layer 0, ..., layer k-1]`` written
by hand: outputs, activations and the gradients of every parameter and of
the input, in float32 and float64, for both kernels and ``"auto"``.
"""

import pickle

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as fwAD

from sklearn_binn import PathwayMask
from sklearn_binn._sparse import TRANSPOSE_COPY_MAX_SAMPLES, edge_product, feature_major
from sklearn_binn.modules import BINNModule, SparseLinear

TOLERANCES = {
    torch.float32: dict(rtol=1e-4, atol=1e-5),
    torch.float64: dict(rtol=1e-10, atol=1e-12),
}


def random_skip_mask(n_genes=400, sizes=(60, 14, 6, 3), gene_density=0.004, density=0.08,
                     seed=0):
    """A skip-level mask: sparse gene edges (CSR under "auto"), small dense-kernel
    sources above; every node has an input and every node below the top a parent."""
    rng = np.random.default_rng(seed)
    starts = np.cumsum([0, n_genes, *sizes])  # row offset of each source in the inputs
    layers = []
    for k, n_out in enumerate(sizes):
        n_in = starts[k + 1]
        M = np.zeros((n_in, n_out))
        M[:n_genes] = rng.random((n_genes, n_out)) < gene_density
        M[n_genes:] = rng.random((n_in - n_genes, n_out)) < density
        M[rng.integers(0, n_in, size=n_out), np.arange(n_out)] = 1  # an input each
        layers.append(M)
    for k, n in enumerate(sizes[:-1]):  # a parent for every node below the top
        for i in range(n):
            row = starts[k + 1] + i
            if not any(layers[m][row].any() for m in range(k + 1, len(sizes))):
                layers[k + 1][row, rng.integers(0, sizes[k + 1])] = 1
    return PathwayMask([M.astype(np.float32) for M in layers], skip_levels=True)


def dense_reference(module, X):
    """Output, pre- and post-activations with dense weights over the concatenation."""
    h, pres, posts = [X], [], []
    for layer in module.pathway_layers:
        W = torch.zeros(layer.in_features, layer.out_features, dtype=X.dtype)
        W = W.index_put((layer.rows, layer.cols), layer.weight)
        pre = torch.cat(h, dim=1) @ W + layer.bias
        post = torch.tanh(pre)
        pres.append(pre)
        posts.append(post)
        h.append(post)
    return module.output(posts[-1]), pres, posts


@pytest.fixture(scope="module")
def mask():
    return random_skip_mask()


def test_the_mask_exercises_both_kernels_under_auto(mask):
    module = BINNModule(mask)
    kernels = [index.auto_kernel() for index in module.source_edges if index.n_edges]
    assert kernels[0] == "csr" and "dense" in kernels[1:]


@pytest.mark.parametrize("kernel", ["auto", "csr", "dense"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("batch", [5, TRANSPOSE_COPY_MAX_SAMPLES + 3])
def test_skip_pass_equals_the_dense_reference(mask, kernel, dtype, batch):
    torch.manual_seed(0)
    module = BINNModule(mask, kernel=kernel).to(dtype)
    X = torch.randn(batch, mask.n_features, dtype=dtype)
    Xa, Xb = X.clone().requires_grad_(), X.clone().requires_grad_()
    out, pres = module.forward_with_activations(Xa, pre_activation=True)
    _, posts = module.forward_with_activations(X)
    ref, ref_pres, ref_posts = dense_reference(module, Xb)
    tol = TOLERANCES[dtype]
    torch.testing.assert_close(out, ref, **tol)
    for a, b in zip(pres + posts, ref_pres + ref_posts):
        torch.testing.assert_close(a, b, **tol)
    upstream = torch.randn_like(out)
    params = list(module.parameters())
    grads = torch.autograd.grad(out, [Xa, *params], upstream)
    ref_grads = torch.autograd.grad(ref, [Xb, *params], upstream)
    for g, r in zip(grads, ref_grads):
        torch.testing.assert_close(g, r, **tol)


def test_skip_pass_forward_mode_equals_the_dense_reference(mask):
    """``fwAD`` runs the CSR kernel's own jvp rule (a whole addend included);
    ``torch.func.jvp`` runs its gather path."""
    torch.manual_seed(1)
    module = BINNModule(mask, kernel="csr").double()
    X, X_dot = (torch.randn(4, mask.n_features, dtype=torch.float64) for _ in range(2))
    _, expected = torch.func.jvp(lambda x: dense_reference(module, x)[0], (X,), (X_dot,))
    with fwAD.dual_level():
        tangent = fwAD.unpack_dual(module(fwAD.make_dual(X, X_dot))).tangent
    torch.testing.assert_close(tangent, expected, rtol=1e-10, atol=1e-12)
    _, tangent = torch.func.jvp(module, (X,), (X_dot,))
    torch.testing.assert_close(tangent, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kernel", ["csr", "dense"])
@pytest.mark.parametrize("addend_shape", ["bias", "whole"])
def test_edge_product_adds_a_bias_or_a_whole_addend(kernel, addend_shape):
    rng = np.random.default_rng(3)
    mask = (rng.random((30, 8)) < 0.2).astype(np.float32)
    layer = SparseLinear(mask).double()
    batch = 6
    c = torch.randn(8, dtype=torch.float64) if addend_shape == "bias" else torch.randn(
        8, batch, dtype=torch.float64)
    c.requires_grad_()
    x_t = torch.randn(batch, 30, dtype=torch.float64).T.requires_grad_()  # a transposed view
    out = edge_product(layer, kernel, layer.weight, c, x_t)
    W = torch.zeros(30, 8, dtype=torch.float64).index_put((layer.rows, layer.cols),
                                                          layer.weight)
    expected = W.T @ x_t + (c[:, None] if c.dim() == 1 else c)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)
    upstream = torch.randn_like(out)
    grads = torch.autograd.grad(out, [x_t, layer.weight, c], upstream)
    ref = torch.autograd.grad(expected, [x_t, layer.weight, c], upstream)
    for g, r in zip(grads, ref):
        torch.testing.assert_close(g, r, rtol=1e-12, atol=1e-12)
    if kernel == "csr":  # the kernel's forward-mode rule, addend included
        x_dot, c_dot = torch.randn_like(x_t), torch.randn_like(c)
        with fwAD.dual_level():
            dual = edge_product(layer, kernel, layer.weight.detach(),
                                fwAD.make_dual(c.detach(), c_dot),
                                fwAD.make_dual(x_t.detach(), x_dot))
            tangent = fwAD.unpack_dual(dual).tangent
        expected_dot = W.detach().T @ x_dot + (c_dot[:, None] if c.dim() == 1 else c_dot)
        torch.testing.assert_close(tangent, expected_dot, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(1, 1), (7, 300), (128, 50),
                                   (TRANSPOSE_COPY_MAX_SAMPLES + 1, 20)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_feature_major_copy_equals_contiguous(shape, dtype):
    x = torch.randn(*shape, dtype=dtype, requires_grad=True)
    x_t = feature_major(x.T)
    assert x_t.is_contiguous() and torch.equal(x_t, x.T.contiguous())
    upstream = torch.randn_like(x_t)
    (grad,) = torch.autograd.grad(x_t, x, upstream)
    assert torch.equal(grad, upstream.T)
    already = torch.randn(shape[1], shape[0], dtype=dtype)
    assert feature_major(already) is already


def test_module_pickled_before_the_gather_rebuilds_it(mask):
    torch.manual_seed(2)
    module = BINNModule(mask)
    X = torch.randn(3, mask.n_features)
    expected = module(X)
    del module._buffers["edge_gather"]  # as pickled before the one gather existed
    del module._source_sizes
    restored = pickle.loads(pickle.dumps(module))
    torch.testing.assert_close(restored(X), expected, rtol=0, atol=0)
    assert "edge_gather" not in restored.state_dict()  # derived, not state
