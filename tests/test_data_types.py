"""Several data types per gene: PathwayMask.with_data_types, estimators and attributions.

References are hand-built matrices and dense numpy forward passes.
"""

import pickle

import numpy as np
import pandas as pd
import pytest

from sklearn_binn import (
    BINNRegressor,
    PathwayMask,
    TeacherDataset,
    data_type_importance,
    node_importance,
)

FAST = {"batch_size": -1, "train_split": None}
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
GENES = ["TP53", "MDM2", "CDKN1A", "ORPHAN"]
TYPES = ["mut", "cna", "expr"]
# a chain mask: genes -> 2 pathways -> 1 root; ORPHAN is in no pathway
GENE_MASK = PathwayMask(
    [np.array([[1, 0], [1, 1], [0, 1], [0, 0]]), np.ones((2, 1))],
    feature_names=GENES, node_names=[["P53 signalling", "Cell cycle"], ["Root"]],
)


def _dense_forward(est, X):
    """Identity-activation output from the learned weights, with dense numpy."""
    h = np.asarray(X, dtype=np.float64)
    for layer, weight in zip(est.module_.pathway_layers, est.get_weights()):
        h = h @ weight.toarray() + layer.bias.detach().double().numpy()
    out = est.module_.output
    return h @ out.weight.detach().double().numpy().T + out.bias.detach().double().numpy()


def _coefficients(est):
    """The linear map input -> output of an identity-activation chain network."""
    coef = np.eye(est.mask_.n_features)
    for weight in est.get_weights():
        coef = coef @ weight.toarray()
    return coef @ est.module_.output.weight.detach().double().numpy().T


def test_the_input_layer_is_one_edge_per_feature_into_its_gene():
    mask = GENE_MASK.with_data_types(TYPES, sep=".")
    features = [f"{g}.{t}" for g in GENES for t in TYPES]
    assert mask.feature_names.tolist() == features
    assert mask.data_types == tuple(TYPES) and mask.data_type_sep == "."
    # hand-built input layer; ORPHAN feeds no pathway, so it gets no gene node
    expected = np.zeros((12, 3))
    for g in range(3):
        expected[3 * g: 3 * g + 3, g] = 1
    np.testing.assert_array_equal(mask.layers[0].toarray(), expected)
    assert mask.node_names[0].tolist() == ["TP53", "MDM2", "CDKN1A"]
    # then the original pathway layers, their gene rows those of the kept genes
    np.testing.assert_array_equal(mask.layers[1].toarray(), GENE_MASK.layers[0].toarray()[:3])
    np.testing.assert_array_equal(mask.layers[2].toarray(), GENE_MASK.layers[1].toarray())
    assert [n.tolist() for n in mask.node_names[1:]] == [
        n.tolist() for n in GENE_MASK.node_names
    ]


def test_restrict_truncate_and_pickle_keep_the_data_types():
    mask = GENE_MASK.with_data_types(TYPES)
    small = mask.restrict(["MDM2_cna", "TP53_mut", "NEW_expr"])
    assert small.data_types == tuple(TYPES)
    assert small.feature_names.tolist() == ["MDM2_cna", "TP53_mut", "NEW_expr"]
    assert small.node_names[0].tolist() == ["TP53", "MDM2"]
    assert mask.truncate(2).data_types == tuple(TYPES)
    assert pickle.loads(pickle.dumps(mask)).data_type_sep == "_"
    assert GENE_MASK.data_types is None


@pytest.mark.parametrize(
    "data_types, sep, match",
    [([], "_", "non-empty"), (["a", "a"], "_", "distinct"), (["a"], "", "sep"),
     ("mut", "_", "list of data-type names")],
)
def test_bad_data_types_are_named(data_types, sep, match):
    with pytest.raises((ValueError, TypeError), match=match):
        GENE_MASK.with_data_types(data_types, sep=sep)


def test_data_types_cannot_be_added_twice():
    with pytest.raises(ValueError, match="already has data types"):
        GENE_MASK.with_data_types(TYPES).with_data_types(["x"])


@pytest.fixture(scope="module")
def fitted():
    mask = GENE_MASK.with_data_types(TYPES)
    X, y = TeacherDataset(mask, activation="identity", random_state=0).sample(
        300, random_state=1
    )
    columns = mask.feature_names.tolist()
    est = BINNRegressor(
        mask, activation="identity", max_epochs=30, lr=1e-2, random_state=0, **FAST
    ).fit(pd.DataFrame(X, columns=columns), y)
    return mask, pd.DataFrame(X, columns=columns), y, est


def test_the_teacher_generates_multi_omics_data(fitted):
    mask, X, y, _ = fitted
    teacher = TeacherDataset(mask, activation="identity", random_state=0)
    assert X.shape == (300, 12) and y.shape == (300,)
    # gene nodes first: the teacher's layer-0 activations are one column per gene
    acts = teacher.activations(X.to_numpy()[:5])
    assert acts[0].shape == (5, 3)


def test_the_network_matches_a_dense_reference(fitted):
    _, X, _, est = fitted
    np.testing.assert_allclose(est.predict(X), _dense_forward(est, X)[:, 0], rtol=1e-4,
                               atol=1e-4)


def test_multiindex_columns_are_joined_with_the_separator(fitted):
    mask, X, y, est = fitted
    tuples = [tuple(name.split("_")) for name in X.columns]
    multi = X.set_axis(pd.MultiIndex.from_tuples(tuples), axis=1)
    np.testing.assert_allclose(est.predict(multi), est.predict(X))
    shuffled = multi.iloc[:, ::-1]  # columns are matched by name, in any order
    np.testing.assert_allclose(est.predict(shuffled), est.predict(X), rtol=1e-6)
    refit = BINNRegressor(
        mask, activation="identity", max_epochs=30, lr=1e-2, random_state=0, **FAST
    ).fit(multi, y)
    np.testing.assert_allclose(refit.predict(X), est.predict(X), rtol=1e-6)
    assert refit.feature_names_in_.tolist() == X.columns.tolist()


def test_data_type_importance_against_a_hand_computation(fitted):
    # a linear network: integrated gradients from the zero baseline is exact,
    # feature i's attribution is x_i times its end-to-end coefficient
    mask, X, _, est = fitted
    coef = _coefficients(est)[:, 0]
    per_feature = np.abs(X.to_numpy() * coef).mean(axis=0)
    table = data_type_importance(est, X)
    assert table.index.tolist() == GENES and table.columns.tolist() == TYPES
    np.testing.assert_allclose(table.to_numpy().ravel(), per_feature, rtol=1e-4, atol=1e-7)
    # ORPHAN's features feed nothing: zero importance
    np.testing.assert_allclose(table.loc["ORPHAN"], 0.0, atol=1e-12)
    # per gene node (layer 0): the gene's activation times its coefficient
    gene_coef = np.eye(3)
    for weight in est.get_weights()[1:]:
        gene_coef = gene_coef @ weight.toarray()
    gene_coef = (gene_coef @ est.module_.output.weight.detach().double().numpy().T)[:, 0]
    W0 = est.get_weights()[0].toarray()
    expected = np.abs((X.to_numpy() @ W0) * gene_coef).mean(axis=0)
    genes = node_importance(est, X, layer=0)
    assert genes.index.tolist() == ["TP53", "MDM2", "CDKN1A"]
    np.testing.assert_allclose(genes.to_numpy(), expected, rtol=1e-4, atol=1e-7)


def test_data_type_importance_needs_data_types():
    X = np.random.default_rng(0).normal(size=(40, 4))
    est = BINNRegressor(GENE_MASK, max_epochs=1, random_state=0, **FAST).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="with_data_types"):
        data_type_importance(est, X)


def test_a_skip_level_mask_gets_the_same_input_layer():
    genes = PathwayMask.from_gene_sets(
        {"P1": ["A", "B"], "P2": ["C"], "TOP": ["D"]},
        hierarchy=[("P1", "TOP"), ("P2", "TOP")], feature_names=["A", "B", "C", "D", "E"],
    )
    if not genes.skip_levels:
        pytest.skip("from_gene_sets builds a chain here")
    mask = genes.with_data_types(["mut", "expr"])
    assert mask.skip_levels and mask.node_names[0].tolist() == ["A", "B", "C", "D"]
    n_features = 10
    # every higher layer: no edge from the features, the gene nodes' rows are
    # the genes' rows of the original layer, then the original pathway rows
    for new, old in zip(mask.layers[1:], genes.layers):
        new, old = new.toarray(), old.toarray()
        np.testing.assert_array_equal(new[:n_features], 0)
        np.testing.assert_array_equal(new[n_features:n_features + 4], old[:4])
        np.testing.assert_array_equal(new[n_features + 4:], old[5:])
    X, y = TeacherDataset(mask, random_state=0).sample(80, random_state=0)
    est = BINNRegressor(mask, max_epochs=2, random_state=0, **FAST).fit(X, y)
    assert data_type_importance(est, X).shape == (5, 2)
