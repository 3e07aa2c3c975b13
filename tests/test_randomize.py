"""randomize_mask: degree-preserving rewiring of gene -> pathway -> parent edges."""


import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_binn import PathwayMask, randomize_mask
from sklearn_binn.datasets import make_pathway_mask

MASK = make_pathway_mask(300, n_pathways=(40, 12, 4), overlap=3, random_state=0)


def _degrees(layer):
    return np.diff(layer.tocsr().indptr), np.diff(layer.tocsc().indptr)


def _shared_fraction(a, b):
    return a.multiply(b).sum() / a.nnz


def _expected_random_overlap(layer):
    """Expected share of edges kept by a random graph with the same degrees: sum d_i d_j / E^2."""
    out_deg, in_deg = _degrees(layer)
    coo = layer.tocoo()
    return float((out_deg[coo.row] * in_deg[coo.col]).sum() / layer.nnz**2)


def test_every_degree_is_preserved_and_edges_stay_simple():
    null = randomize_mask(MASK, random_state=0)
    assert isinstance(null, PathwayMask)
    assert list(null.feature_names) == list(MASK.feature_names)
    for names_a, names_b in zip(MASK.node_names, null.node_names):
        assert list(names_a) == list(names_b)
    for original, rewired in zip(MASK.layers, null.layers):
        assert rewired.shape == original.shape and rewired.nnz == original.nnz
        for deg_a, deg_b in zip(_degrees(original), _degrees(rewired)):
            np.testing.assert_array_equal(deg_a, deg_b)
        # no duplicate edge: summing duplicates would give values above 1
        assert rewired.max() == 1.0
        coo = rewired.tocoo()
        assert len(set(zip(coo.row, coo.col))) == rewired.nnz


def test_most_edges_change_down_to_the_random_overlap():
    null = randomize_mask(MASK, random_state=1)
    for k, (original, rewired) in enumerate(zip(MASK.layers, null.layers)):
        shared = _shared_fraction(original, rewired)
        assert shared < 1.0, k
        if original.nnz >= 100:  # the mean-field estimate needs a large layer
            # a degree-matched random layer keeps about `expected` of the edges
            expected = _expected_random_overlap(original)
            assert shared < expected + 0.1, (k, shared, expected)
    assert _shared_fraction(MASK.layers[0], null.layers[0]) < 0.5  # most edges moved


def test_reproducible_with_a_seed_and_different_across_seeds():
    a = randomize_mask(MASK, random_state=3)
    b = randomize_mask(MASK, random_state=3)
    c = randomize_mask(MASK, random_state=4)
    assert a == b
    assert a != c


def test_only_the_chosen_layers_are_rewired():
    null = randomize_mask(MASK, random_state=0, layers=[1])
    assert (null.layers[0] != MASK.layers[0]).nnz == 0
    assert (null.layers[2] != MASK.layers[2]).nnz == 0
    assert (null.layers[1] != MASK.layers[1]).nnz > 0


def test_n_swaps_zero_is_the_identity():
    assert randomize_mask(MASK, random_state=0, n_swaps=0) == MASK


def test_one_swap_moves_exactly_two_edges():
    null = randomize_mask(MASK, random_state=0, n_swaps=1, layers=[0])
    assert (null.layers[0] != MASK.layers[0]).nnz == 4  # two removed, two added


def test_a_layer_without_possible_swaps_warns_and_is_kept():
    mask = PathwayMask.from_gene_sets({"P": ["A", "B", "C"]})
    with pytest.warns(UserWarning, match="admits no degree-preserving swap"):
        assert randomize_mask(mask, random_state=0) == mask


def test_fifty_thousand_edges_in_about_a_second():
    rng = np.random.default_rng(0)
    n_genes, n_pathways, n_edges = 12000, 2000, 50000
    keys = rng.choice(n_genes * n_pathways, size=n_edges, replace=False)
    layer = sp.csr_matrix(
        (np.ones(n_edges), (keys // n_pathways, keys % n_pathways)), shape=(n_genes, n_pathways)
    )
    layer = layer[:, np.diff(layer.tocsc().indptr) > 0]
    mask = PathwayMask([layer])
    null = randomize_mask(mask, random_state=0)
    for deg_a, deg_b in zip(_degrees(mask.layers[0]), _degrees(null.layers[0])):
        np.testing.assert_array_equal(deg_a, deg_b)
    assert _shared_fraction(mask.layers[0], null.layers[0]) < 0.01


def test_bad_arguments():
    with pytest.raises(TypeError, match="needs a fixed mask, not a callable"):
        randomize_mask(lambda genes: MASK)
    with pytest.raises(ValueError, match="n_swaps must be None or a non-negative int"):
        randomize_mask(MASK, n_swaps=-1)
    with pytest.raises(ValueError, match="layers must hold layer indices between 0 and 2"):
        randomize_mask(MASK, layers=[3])


def test_rewired_and_perturbed_masks_keep_names_layout_and_data_types():
    from sklearn_binn import perturb_mask

    mask = PathwayMask.from_gene_sets(
        {"R-1": ["A", "B", "C"], "R-2": ["C", "D", "E"], "R-3": ["A", "E", "F"]},
        [("R-1", "R-4"), ("R-2", "R-4"), ("R-3", "R-5")],
    ).with_display_names({"R-1": "DNA repair", "R-4": "Cell cycle"})
    multi = mask.with_data_types(["mut", "cna"])
    for original in (mask, multi):
        for new in (randomize_mask(original, random_state=0),
                    perturb_mask(original, missing=0.2, false=0.2, random_state=0).mask):
            assert new.skip_levels == original.skip_levels
            assert new.display_names == original.display_names
            assert new.data_types == original.data_types
            assert [list(n) for n in new.node_names] == [list(n) for n in original.node_names]
    with pytest.raises(ValueError, match="Only the edges may change"):
        mask.with_layers([np.ones((2, 2))])
