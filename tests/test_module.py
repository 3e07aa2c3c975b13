"""Tests of BINNModule against a hand-written dense forward pass."""

import numpy as np
import pytest
import torch

from sklearn_binn import PathwayMask
from sklearn_binn.modules import BINNModule

RTOL, ATOL = 1e-5, 1e-6

NUMPY_ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "identity": lambda z: z,
}

# 6 genes -> 3 pathways -> 2 pathways (depth 2), gene 5 in no pathway
MASK = PathwayMask(
    [
        np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [0, 0, 0]]),
        np.array([[1, 0], [1, 1], [0, 1]]),
    ],
    feature_names=[f"g{i}" for i in range(6)],
)


def numpy_params(module):
    """Every parameter as float64 numpy, pathway weights as dense (n_in, n_out)."""
    return {
        "pathway": [
            (layer.weight_matrix().toarray(), layer.bias.detach().double().numpy())
            for layer in module.pathway_layers
        ],
        "head": [
            (lin.weight.detach().double().numpy(), lin.bias.detach().double().numpy())
            for lin in module.head_layers
        ],
        "output": (module.output.weight.detach().double().numpy(),
                   module.output.bias.detach().double().numpy()),
    }


def dense_forward(params, X, activation, head_activation="relu", norms=None):
    """The BINN written out with dense numpy matrices; ``norms`` maps z -> normalised z."""
    act, head_act = NUMPY_ACTIVATIONS[activation], NUMPY_ACTIVATIONS[head_activation]
    h, pres, posts = X, [], []
    for k, (W, b) in enumerate(params["pathway"]):
        z = h @ W + b
        if norms is not None:
            z = norms[k](z)
        h = act(z)
        pres.append(z)
        posts.append(h)
    for A, c in params["head"]:
        h = head_act(h @ A.T + c)
    O, o = params["output"]
    return h @ O.T + o, pres, posts


def randomise_biases(module, seed=0):
    """Biases drawn wide enough that relu/sigmoid see both signs."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in module.pathway_layers:
            layer.bias.copy_(torch.randn(layer.bias.shape, generator=gen))


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "identity"])
@pytest.mark.parametrize("head_layer_sizes", [(), (4,)])
def test_forward_matches_dense_numpy(activation, head_layer_sizes):
    torch.manual_seed(1)
    module = BINNModule(MASK, n_outputs=3, activation=activation,
                        head_layer_sizes=head_layer_sizes, dropout=0.0)
    randomise_biases(module)
    X = torch.randn(10, 6)
    expected, pres, posts = dense_forward(numpy_params(module), X.double().numpy(), activation)
    out = module(X)
    assert out.shape == (10, 3)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=RTOL, atol=ATOL)
    assert module.depth == 2
    assert len(module.head_layers) == len(head_layer_sizes)


@pytest.mark.parametrize("head_activation", ["relu", "tanh"])
def test_head_uses_head_activation(head_activation):
    torch.manual_seed(2)
    module = BINNModule(MASK, activation="sigmoid", head_layer_sizes=(4, 3),
                        head_activation=head_activation)
    X = torch.randn(7, 6)
    expected, _, _ = dense_forward(numpy_params(module), X.double().numpy(), "sigmoid",
                                   head_activation)
    np.testing.assert_allclose(module(X).detach().numpy(), expected, rtol=RTOL, atol=ATOL)
    assert [lin.out_features for lin in module.head_layers] == [4, 3]
    assert module.output.in_features == 3


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_forward_with_activations_pre_and_post(activation):
    torch.manual_seed(3)
    module = BINNModule(MASK, n_outputs=2, activation=activation, head_layer_sizes=(4,))
    randomise_biases(module, seed=1)
    X = torch.randn(8, 6)
    expected, pres, posts = dense_forward(numpy_params(module), X.double().numpy(), activation)
    out_post, post = module.forward_with_activations(X)
    out_pre, pre = module.forward_with_activations(X, pre_activation=True)
    for out in (out_post, out_pre):
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=RTOL, atol=ATOL)
    assert [a.shape for a in post] == [(8, 3), (8, 2)]
    for got, want in zip(post, posts):
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=RTOL, atol=ATOL)
    for got, want in zip(pre, pres):
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=RTOL, atol=ATOL)


def test_no_head_means_output_reads_the_top_pathways():
    torch.manual_seed(4)
    module = BINNModule(MASK, n_outputs=2, head_layer_sizes=())
    assert len(module.head_layers) == 0
    assert module.output.in_features == MASK.layer_sizes[-1]
    X = torch.randn(5, 6)
    _, posts = module.forward_with_activations(X)
    top = posts[-1].detach().double().numpy()
    O, o = numpy_params(module)["output"]
    np.testing.assert_allclose(module(X).detach().numpy(), top @ O.T + o, rtol=RTOL, atol=ATOL)
    n_params = sum(p.numel() for p in module.parameters())
    assert n_params == MASK.n_edges + sum(MASK.layer_sizes) + 2 * 2 + 2


def test_batch_norm_train_and_eval():
    torch.manual_seed(5)
    module = BINNModule(MASK, n_outputs=1, activation="tanh", batch_norm=True)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for norm in module.batch_norms:
            norm.weight.copy_(torch.rand(norm.weight.shape, generator=gen) + 0.5)
            norm.bias.copy_(torch.randn(norm.bias.shape, generator=gen))
    params = numpy_params(module)
    gammas = [n.weight.detach().double().numpy() for n in module.batch_norms]
    betas = [n.bias.detach().double().numpy() for n in module.batch_norms]
    eps = module.batch_norms[0].eps
    X = torch.randn(16, 6)

    batch_stats = []

    def batch_norm(k):
        def norm(z):
            mean, var = z.mean(axis=0), z.var(axis=0)
            batch_stats.append((mean, z.var(axis=0, ddof=1)))
            return (z - mean) / np.sqrt(var + eps) * gammas[k] + betas[k]
        return norm

    module.train()
    expected, _, _ = dense_forward(params, X.double().numpy(), "tanh",
                                   norms=[batch_norm(0), batch_norm(1)])
    np.testing.assert_allclose(module(X).detach().numpy(), expected, rtol=1e-4, atol=1e-5)
    # running statistics after one batch: 0.9 * initial + 0.1 * batch (unbiased variance)
    running = []
    for norm, (mean, var_unbiased) in zip(module.batch_norms, batch_stats):
        np.testing.assert_allclose(norm.running_mean.numpy(), 0.1 * mean, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(norm.running_var.numpy(), 0.9 + 0.1 * var_unbiased,
                                   rtol=1e-4, atol=1e-6)
        running.append((0.1 * mean, 0.9 + 0.1 * var_unbiased))

    module.eval()
    X_new = torch.randn(4, 6)
    eval_norms = [
        (lambda z, k=k: (z - running[k][0]) / np.sqrt(running[k][1] + eps) * gammas[k] + betas[k])
        for k in range(2)
    ]
    expected_eval, _, _ = dense_forward(params, X_new.double().numpy(), "tanh", norms=eval_norms)
    np.testing.assert_allclose(module(X_new).detach().numpy(), expected_eval, rtol=1e-4,
                               atol=1e-5)
    # eval mode is per-sample: a batch of one gives the same rows
    np.testing.assert_allclose(module(X_new[:1]).detach().numpy(), expected_eval[:1],
                               rtol=1e-4, atol=1e-5)


def test_dropout_only_acts_in_training():
    torch.manual_seed(6)
    module = BINNModule(MASK, n_outputs=1, dropout=0.5, head_layer_sizes=(4,), head_dropout=0.5)
    X = torch.randn(200, 6)
    module.eval()
    expected, _, _ = dense_forward(numpy_params(module), X.double().numpy(), "tanh")
    np.testing.assert_allclose(module(X).detach().numpy(), expected, rtol=RTOL, atol=ATOL)
    module.train()
    _, pres, posts = dense_forward(numpy_params(module), X.double().numpy(), "tanh")
    _, acts = module.forward_with_activations(X)
    # activations are reported before dropout; the output differs from eval
    np.testing.assert_allclose(acts[0].detach().numpy(), posts[0], rtol=RTOL, atol=ATOL)
    assert not np.allclose(module(X).detach().numpy(), expected, atol=1e-3)


def test_accepts_a_list_of_matrices_and_exposes_edge_parameters():
    torch.manual_seed(7)
    from_list = BINNModule(MASK.layers)
    assert [layer.n_edges for layer in from_list.pathway_layers] == [7, 4]
    edges = from_list.edge_parameters()
    assert [p.shape for p in edges] == [(7,), (4,)]
    assert edges[0] is from_list.pathway_layers[0].weight


def test_unknown_activation():
    with pytest.raises(ValueError, match=r"activation must be one of .*got 'swish'"):
        BINNModule(MASK, activation="swish")
    with pytest.raises(ValueError, match=r"activation must be one of .*got 'gelu'"):
        BINNModule(MASK, head_activation="gelu")
