"""Tests of PathwayMask: every constructor against hand-made matrices, the
transforms, the value semantics and every validation error."""

import gzip
import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sklearn_binn import PathwayMask
from sklearn_binn._mask import RestrictReport


def dense_layers(mask):
    return [layer.toarray() for layer in mask.layers]


def assert_mask(mask, features, nodes, matrices):
    """The mask has exactly these names and these 0/1 matrices."""
    assert list(mask.feature_names) == list(features)
    assert [list(names) for names in mask.node_names] == [list(n) for n in nodes]
    got = dense_layers(mask)
    assert len(got) == len(matrices)
    for k, (actual, expected) in enumerate(zip(got, matrices)):
        np.testing.assert_array_equal(actual, np.asarray(expected, dtype=float),
                                      err_msg=f"layer {k}")


def edge_set(mask):
    return {tuple(row) for row in mask.to_edges().itertuples(index=False)}


# three pathway layers: a, b, c -> P0, P1, P2 -> Q0, Q1 -> R
L0 = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
L1 = np.array([[1, 0], [0, 1], [0, 1]])
L2 = np.array([[1], [1]])
NAMES = [["P0", "P1", "P2"], ["Q0", "Q1"], ["R"]]


@pytest.fixture
def chain():
    return PathwayMask([L0, L1, L2], feature_names=list("abc"), node_names=NAMES)


# ------------------------------------------------------------------ constructor
def test_list_of_numpy_matrices():
    layer0 = np.array([[1, 0], [1, 1], [0, 1]])
    mask = PathwayMask([layer0, np.ones((2, 1))], feature_names=["TP53", "MDM2", "CDKN1A"],
                       node_names=[["P1", "P2"], ["TOP"]])
    assert_mask(mask, ["TP53", "MDM2", "CDKN1A"], [["P1", "P2"], ["TOP"]], [layer0, [[1], [1]]])
    assert mask.depth == 2
    assert mask.n_features == 3
    assert mask.layer_sizes == (2, 1)
    assert mask.n_edges == 6
    assert repr(mask) == "PathwayMask(n_features=3, layer_sizes=(2, 1), n_edges=6)"
    for layer in mask.layers:
        assert sp.isspmatrix_csr(layer) and layer.dtype == np.float32


@pytest.mark.parametrize("fmt", ["coo", "csc", "csr", "lil"])
def test_list_of_scipy_matrices_with_stored_zeros(fmt):
    layer0 = sp.coo_matrix(
        (np.array([1.0, 0.0, 1.0, 1.0]), (np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]))),
        shape=(3, 2),
    ).asformat(fmt)
    mask = PathwayMask([layer0, sp.csr_matrix(np.ones((2, 1)))])
    # the stored zero is not an edge
    assert_mask(mask, ["x0", "x1", "x2"], [["layer0_node0", "layer0_node1"], ["layer1_node0"]],
                [[[1, 0], [0, 1], [0, 1]], [[1], [1]]])
    assert mask.n_edges == 5


def test_single_matrix_and_boolean_values():
    matrix = np.array([[True, False], [True, True]])
    mask = PathwayMask(matrix)
    assert mask.depth == 1
    np.testing.assert_array_equal(mask.layers[0].toarray(), matrix.astype(float))
    assert PathwayMask(sp.csr_matrix(matrix)) == mask


def test_feature_without_pathway_is_allowed_unless_strict():
    layer = np.array([[1], [0]])
    assert PathwayMask(layer).n_edges == 1
    with pytest.raises(ValueError, match=r"1 feature\(s\) are in no pathway, e.g. \['x1'\]"):
        PathwayMask(layer, strict=True)


def test_copy_constructor(chain):
    copy = PathwayMask(chain)
    assert copy == chain
    assert_mask(copy, "abc", NAMES, [L0, L1, L2])


# ------------------------------------------------------------- from_gene_sets
def test_from_gene_sets_without_hierarchy():
    mask = PathwayMask.from_gene_sets({"P1": ["B", "A"], "P2": ["C", "A", "A"]})
    # genes sorted, pathways in the given order, duplicate members merged
    assert_mask(mask, ["A", "B", "C"], [["P1", "P2"]], [[[1, 1], [1, 0], [0, 1]]])


def test_from_gene_sets_with_feature_names_reorders_and_adds_empty_rows():
    mask = PathwayMask.from_gene_sets({"P": ["a", "b"], "Q": ["c"]}, feature_names=["c", "x", "a"])
    assert_mask(mask, ["c", "x", "a"], [["P", "Q"]], [[[0, 1], [0, 0], [1, 0]]])


def test_from_gene_sets_strict_with_feature_names():
    with pytest.raises(ValueError, match="in no pathway"):
        PathwayMask.from_gene_sets({"P": ["a"]}, feature_names=["a", "x"], strict=True)


GENE_SETS = {"A1": ["g1", "g2"], "B": ["g2", "g3"], "A": ["g4"], "Z": ["g5"]}
# R -> A -> A1 and R -> A1 (skips a level), R -> B; E has no genes; Z has no parent
HIERARCHY = [("A1", "A"), ("A", "R"), ("B", "R"), ("A1", "R"), ("E", "R")]


def test_from_gene_sets_with_hierarchy():
    mask = PathwayMask.from_gene_sets(GENE_SETS, HIERARCHY, copies=True)
    # levels from the roots: {R, Z} -> layer 3, {A, B} -> layer 2, {A1} -> layer 1.
    # A and B hold genes but sit in layer 2: their genes reach them through
    # A_copy1 / B_copy1; A1 -> R skips layer 2 through A1_copy2; Z (a root
    # with genes) is carried up through Z_copy1, Z_copy2; E (no genes) is dropped.
    layer1 = ["A1", "A_copy1", "B_copy1", "Z_copy1"]
    layer2 = ["A", "B", "A1_copy2", "Z_copy2"]
    expected0 = [  # g1..g5 x layer1
        [1, 0, 0, 0],
        [1, 0, 1, 0],
        [0, 0, 1, 0],
        [0, 1, 0, 0],
        [0, 0, 0, 1],
    ]
    expected1 = [  # layer1 x layer2
        [1, 0, 1, 0],  # A1 -> A, A1_copy2
        [1, 0, 0, 0],  # A_copy1 -> A
        [0, 1, 0, 0],  # B_copy1 -> B
        [0, 0, 0, 1],  # Z_copy1 -> Z_copy2
    ]
    expected2 = [[1, 0], [1, 0], [1, 0], [0, 1]]  # layer2 x [R, Z]
    assert_mask(mask, ["g1", "g2", "g3", "g4", "g5"], [layer1, layer2, ["R", "Z"]],
                [expected0, expected1, expected2])


def test_from_gene_sets_n_levels_cut():
    mask = PathwayMask.from_gene_sets(GENE_SETS, HIERARCHY, n_levels=2, copies=True)
    # A1 (level 2) is cut: its genes g1, g2 go to its kept parents A and R;
    # R now holds genes itself, so they reach it through R_copy1.
    expected0 = [  # g1..g5 x [A, B, R_copy1, Z_copy1]
        [1, 0, 1, 0],
        [1, 1, 1, 0],
        [0, 1, 0, 0],
        [1, 0, 0, 0],
        [0, 0, 0, 1],
    ]
    assert_mask(mask, ["g1", "g2", "g3", "g4", "g5"],
                [["A", "B", "R_copy1", "Z_copy1"], ["R", "Z"]],
                [expected0, [[1, 0], [1, 0], [1, 0], [0, 1]]])
    top_only = PathwayMask.from_gene_sets(GENE_SETS, HIERARCHY, n_levels=1)
    assert_mask(top_only, ["g1", "g2", "g3", "g4", "g5"], [["R", "Z"]],
                [[[1, 0], [1, 0], [1, 0], [1, 0], [0, 1]]])


@pytest.mark.parametrize("n_levels", [0, -1, 1.5, True])
def test_from_gene_sets_bad_n_levels(n_levels):
    with pytest.raises(ValueError, match="n_levels must be a positive int"):
        PathwayMask.from_gene_sets(GENE_SETS, HIERARCHY, n_levels=n_levels)


def test_from_gene_sets_cycle_and_self_loop():
    with pytest.raises(ValueError, match="has a cycle: "):
        PathwayMask.from_gene_sets({"A": ["g"]}, [("A", "B"), ("B", "C"), ("C", "A")])
    with pytest.raises(ValueError, match="self-loop on pathway 'A'"):
        PathwayMask.from_gene_sets({"A": ["g"]}, [("A", "A")])
    with pytest.raises(ValueError, match=r"\(child, parent\) pairs"):
        PathwayMask.from_gene_sets({"A": ["g"]}, [("A", "B", "C")])


def test_from_gene_sets_invalid_input():
    with pytest.raises(ValueError, match=r"Gene set\(s\) \['Q'\] have no genes"):
        PathwayMask.from_gene_sets({"P": ["a"], "Q": []})
    with pytest.raises(ValueError, match="gene_sets is empty"):
        PathwayMask.from_gene_sets({})
    with pytest.raises(TypeError, match="gene_sets must be a mapping"):
        PathwayMask.from_gene_sets([("P", ["a"])])
    with pytest.raises(TypeError, match="Gene set 'P' must be a list of gene names"):
        PathwayMask.from_gene_sets({"P": "abc"})
    with pytest.raises(ValueError, match="No pathway of the hierarchy has any genes"):
        PathwayMask.from_gene_sets({"P": []}, [("P", "Q")])


# -------------------------------------------------------------------- from_gmt
GMT = "P1\tdesc one\tTP53\tMDM2\nP2\thttp://example.org\tMDM2\tATM\t\n\n"


def test_from_gmt_file(tmp_path):
    path = tmp_path / "sets.gmt"
    path.write_text(GMT)
    mask = PathwayMask.from_gmt(path)
    assert_mask(mask, ["ATM", "MDM2", "TP53"], [["P1", "P2"]], [[[0, 1], [1, 1], [1, 0]]])
    gz = tmp_path / "sets.gmt.gz"
    with gzip.open(gz, "wt") as handle:
        handle.write(GMT)
    assert PathwayMask.from_gmt(str(gz)) == mask


def test_from_gmt_with_hierarchy(tmp_path):
    path = tmp_path / "sets.gmt"
    path.write_text(GMT)
    mask = PathwayMask.from_gmt(path, hierarchy=[("P1", "TOP"), ("P2", "TOP")])
    # a skip-level mask: TOP's rows are the three genes, then P1 and P2
    assert mask.skip_levels
    assert_mask(mask, ["ATM", "MDM2", "TP53"], [["P1", "P2"], ["TOP"]],
                [[[0, 1], [1, 1], [1, 0]], [[0], [0], [0], [1], [1]]])
    copies = PathwayMask.from_gmt(path, hierarchy=[("P1", "TOP"), ("P2", "TOP")], copies=True)
    assert_mask(copies, ["ATM", "MDM2", "TP53"], [["P1", "P2"], ["TOP"]],
                [[[0, 1], [1, 1], [1, 0]], [[1], [1]]])


@pytest.mark.parametrize(
    "text, match",
    [
        ("P1\tdesc\n", "Malformed GMT line 1"),
        ("P1\tdesc\tA\nP2\tdesc\t\t\n", "Malformed GMT line 2"),
        ("P1\tdesc\tA\nP1\tdesc\tB\n", "gene set 'P1' appears twice"),
        ("\n\n", "holds no gene sets"),
    ],
)
def test_from_gmt_malformed(tmp_path, text, match):
    path = tmp_path / "bad.gmt"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        PathwayMask.from_gmt(path)


def test_from_gmt_rejects_non_path():
    with pytest.raises(TypeError, match="Expected a path or a file object"):
        PathwayMask.from_gmt(42)


# --------------------------------------------------------------- from_reactome
# Reactome layouts: ReactomePathwaysRelation.txt is "parent<TAB>child";
# UniProt2Reactome.txt is "gene, pathway, url, name, evidence, species".
RELATIONS = (
    "R-HSA-1\tR-HSA-2\n"
    "R-HSA-1\tR-HSA-3\n"
    "R-HSA-2\tR-HSA-4\n"
    "R-MMU-1\tR-MMU-2\n"
)
MAPPING = (
    "P00001\tR-HSA-4\thttps://reactome.org/PathwayBrowser/#/R-HSA-4\tLeaf\tTAS\tHomo sapiens\n"
    "P00002\tR-HSA-4\thttps://reactome.org/PathwayBrowser/#/R-HSA-4\tLeaf\tIEA\tHomo sapiens\n"
    "P00002\tR-HSA-4\thttps://reactome.org/PathwayBrowser/#/R-HSA-4\tLeaf\tTAS\tHomo sapiens\n"
    "P00002\tR-HSA-3\thttps://reactome.org/PathwayBrowser/#/R-HSA-3\tMid\tTAS\tHomo sapiens\n"
    "P00003\tR-HSA-3\thttps://reactome.org/PathwayBrowser/#/R-HSA-3\tMid\tIEA\tHomo sapiens\n"
    "M00001\tR-MMU-2\thttps://reactome.org/PathwayBrowser/#/R-MMU-2\tMouse\tIEA\tMus musculus\n"
)


def test_from_reactome_files_species_filter(tmp_path):
    relations = tmp_path / "ReactomePathwaysRelation.txt"
    mapping = tmp_path / "UniProt2Reactome.txt"
    relations.write_text(RELATIONS)
    mapping.write_text(MAPPING)
    mask = PathwayMask.from_reactome(relations, mapping, copies=True)
    # R-HSA-1 -> {2, 3}; 2 -> 4. Layer 1: R-HSA-4 and a copy of R-HSA-3 (genes at level 1).
    assert_mask(
        mask,
        ["P00001", "P00002", "P00003"],
        [["R-HSA-4", "R-HSA-3_copy1"], ["R-HSA-2", "R-HSA-3"], ["R-HSA-1"]],
        [[[1, 0], [1, 1], [0, 1]], [[1, 0], [0, 1]], [[1], [1]]],
    )


def test_from_reactome_all_species_and_dataframes():
    relations = pd.DataFrame([line.split("\t") for line in RELATIONS.splitlines()])
    mapping = pd.DataFrame([line.split("\t") for line in MAPPING.splitlines()])
    mask = PathwayMask.from_reactome(relations, mapping, species=None, copies=True)
    assert_mask(
        mask,
        ["M00001", "P00001", "P00002", "P00003"],
        [
            ["R-HSA-4", "R-HSA-3_copy1", "R-MMU-2_copy1"],
            ["R-HSA-2", "R-HSA-3", "R-MMU-2"],
            ["R-HSA-1", "R-MMU-1"],
        ],
        [
            [[0, 0, 1], [1, 0, 0], [1, 1, 0], [0, 1, 0]],
            [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
            [[1, 0], [1, 0], [0, 1]],
        ],
    )
    mouse = PathwayMask.from_reactome(relations, mapping, species="R-MMU", copies=True)
    assert_mask(mouse, ["M00001"], [["R-MMU-2"], ["R-MMU-1"]], [[[1]], [[1]]])


def test_from_reactome_errors(tmp_path):
    relations = tmp_path / "rel.txt"
    relations.write_text(RELATIONS)
    mapping = tmp_path / "map.txt"
    mapping.write_text(MAPPING)
    with pytest.raises(ValueError, match="no rows for species prefix 'R-DRE'"):
        PathwayMask.from_reactome(relations, mapping, species="R-DRE")
    bad = tmp_path / "bad.txt"
    bad.write_text("R-HSA-1\n")
    with pytest.raises(ValueError, match="Malformed relations file: line 1"):
        PathwayMask.from_reactome(bad, mapping)


# ------------------------------------------------------------------ from_edges
def test_from_edges_dataframe_and_tuples():
    triples = [("A", "P1", 0), ("B", "P1", 0), ("B", "P2", 0), ("P1", "TOP", 1), ("P2", "TOP", 1)]
    from_tuples = PathwayMask.from_edges(triples)
    assert_mask(from_tuples, ["A", "B"], [["P1", "P2"], ["TOP"]],
                [[[1, 0], [1, 1]], [[1], [1]]])
    frame = pd.DataFrame(triples, columns=["source", "target", "layer"]).assign(weight=1.0)
    assert PathwayMask.from_edges(frame) == from_tuples
    with_names = PathwayMask.from_edges(triples, feature_names=["B", "C", "A"])
    assert_mask(with_names, ["B", "C", "A"], [["P1", "P2"], ["TOP"]],
                [[[1, 1], [0, 0], [1, 0]], [[1], [1]]])


def test_to_edges_table(chain):
    expected = pd.DataFrame(
        {
            "source": ["a", "b", "c", "P0", "P1", "P2", "Q0", "Q1"],
            "target": ["P0", "P1", "P2", "Q0", "Q1", "Q1", "R", "R"],
            "layer": [0, 0, 0, 1, 1, 1, 2, 2],
        }
    )
    pd.testing.assert_frame_equal(chain.to_edges(), expected, check_dtype=False)
    assert PathwayMask.from_edges(chain.to_edges()) == chain


def test_to_edges_round_trip_keeps_edges_of_a_permuted_mask():
    mask = PathwayMask([np.array([[0, 1], [1, 0], [1, 1]]), np.ones((2, 1))],
                       node_names=[["P", "Q"], ["TOP"]])
    rebuilt = PathwayMask.from_edges(mask.to_edges(), feature_names=mask.feature_names)
    assert edge_set(rebuilt) == edge_set(mask)
    assert list(rebuilt.feature_names) == list(mask.feature_names)


def test_to_edges_round_trip_is_exact():
    mask = PathwayMask([np.array([[0, 1], [1, 0], [1, 1]]), np.ones((2, 1))],
                       node_names=[["P", "Q"], ["TOP"]])
    assert PathwayMask.from_edges(mask.to_edges(), feature_names=mask.feature_names) == mask


@pytest.mark.parametrize(
    "edges, match",
    [
        (pd.DataFrame(columns=["source", "target", "layer"]), "The edge table is empty"),
        ([], "The edge table is empty"),
        (pd.DataFrame({"source": ["a"], "target": ["P"]}), r"lacks column\(s\) \['layer'\]"),
        ([("a", "P", 0), ("P", "R", 2)], r"consecutive integers; got \[0, 2\]"),
        ([("a", "P", 0), ("a", "P", 0)], "Duplicate edge in the edge table"),
        ([("a", "P", 0), ("X", "R", 1)],
         r"Sources of edge layer 1 are not nodes of layer 0: \['X'\]"),
        ([("a", "P", "zero")], "'layer' column must hold integers"),
        ([("a", "P")], r"iterable of \(source, target, layer\) triples"),
    ],
)
def test_from_edges_invalid(edges, match):
    with pytest.raises(ValueError, match=match):
        PathwayMask.from_edges(edges)


def test_from_edges_source_not_a_feature():
    with pytest.raises(ValueError, match=r"Sources of edge layer 0 are not features: \['a'\]"):
        PathwayMask.from_edges([("a", "P", 0)], feature_names=["b"])


# ------------------------------------------------------------------ transforms
def test_truncate(chain):
    two = chain.truncate(2)
    assert_mask(two, "abc", NAMES[:2], [L0, L1])
    one = chain.truncate(1)
    assert_mask(one, "abc", NAMES[:1], [L0])


def test_truncate_full_depth_is_identity(chain):
    assert chain.truncate(3) is chain


@pytest.mark.parametrize("depth, error, match", [
    (0, ValueError, "depth must be between 1 and 3"),
    (4, ValueError, "depth must be between 1 and 3 .* got 4"),
    (2.0, TypeError, "depth must be an int; got float"),
    (True, TypeError, "depth must be an int; got bool"),
])
def test_truncate_out_of_range(chain, depth, error, match):
    with pytest.raises(error, match=match):
        chain.truncate(depth)


def test_restrict_reorders_drops_and_cascades(chain):
    new, report = chain.restrict(["c", "b", "z"], return_report=True)
    # a is missing -> P0 has no member -> Q0 has no child; R keeps Q1
    assert_mask(new, ["c", "b", "z"], [["P1", "P2"], ["Q1"], ["R"]],
                [[[0, 1], [1, 0], [0, 0]], [[1], [1]], [[1]]])
    assert isinstance(report, RestrictReport)
    assert report.missing_features == ["a"]
    assert report.unused_features == ["z"]
    assert report.dropped_nodes == [["P0"], ["Q0"], []]
    assert chain.restrict(["c", "b", "z"]) == new


def test_restrict_to_same_features_is_equal(chain):
    assert chain.restrict(["a", "b", "c"]) == chain


def test_restrict_errors(chain):
    with pytest.raises(ValueError, match="share no genes with the mask"):
        chain.restrict(["x", "y"])
    with pytest.raises(ValueError, match=r"Duplicate names in feature_names: \['a'\]"):
        chain.restrict(["a", "a", "b"])


def test_summary_values():
    mask = PathwayMask([np.array([[1, 1, 0], [0, 1, 0], [1, 0, 1], [0, 0, 0]]),
                        np.array([[1], [1], [1]])])
    table = mask.summary()
    expected = pd.DataFrame(
        {
            "n_inputs": [4, 3],
            "n_nodes": [3, 1],
            "n_edges": [5, 3],
            "density": [5 / 12, 1.0],
            "mean_in_degree": [5 / 3, 3.0],
            "max_in_degree": [2, 3],
            "mean_out_degree": [5 / 4, 1.0],
        },
        index=pd.Index([0, 1], name="layer"),
    )
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)


# ------------------------------------------------------------- value semantics
def test_equality_and_hash(chain):
    same = PathwayMask([sp.coo_matrix(L0), sp.csc_matrix(L1), L2.astype(bool)],
                       feature_names=list("abc"), node_names=NAMES)
    assert same == chain and hash(same) == hash(chain)
    assert len({chain, same}) == 1
    renamed = PathwayMask([L0, L1, L2], feature_names=list("abd"), node_names=NAMES)
    assert renamed != chain
    rewired = PathwayMask([L0, np.array([[1, 0], [1, 0], [0, 1]]), L2],
                          feature_names=list("abc"), node_names=NAMES)
    assert rewired != chain
    assert chain != PathwayMask([L0], feature_names=list("abc"), node_names=NAMES[:1])
    assert chain != "mask"


def test_pickle_round_trip_stays_read_only(chain):
    restored = pickle.loads(pickle.dumps(chain))
    assert restored == chain and hash(restored) == hash(chain)
    assert not restored.feature_names.flags.writeable
    assert all(not names.flags.writeable for names in restored.node_names)
    for layer in restored._layers:
        assert not (layer.data.flags.writeable or layer.indices.flags.writeable
                    or layer.indptr.flags.writeable)


def test_immutability(chain):
    with pytest.raises(ValueError, match="read-only"):
        chain.feature_names[0] = "zzz"
    with pytest.raises(ValueError, match="read-only"):
        chain.node_names[0][0] = "zzz"
    with pytest.raises(AttributeError):
        chain.feature_names = ["x", "y", "z"]
    layers = chain.layers
    layers[0].data[:] = 5.0
    layers[0].indices[0] = 2
    chain.node_names.append(["extra"])
    assert_mask(chain, "abc", NAMES, [L0, L1, L2])


def test_input_matrix_changes_do_not_leak(chain):
    layer0 = L0.astype(float).copy()
    mask = PathwayMask([layer0, L1, L2])
    layer0[0, 1] = 1.0
    np.testing.assert_array_equal(mask.layers[0].toarray(), L0)


# -------------------------------------------------------------- invalid inputs
@pytest.mark.parametrize(
    "layers, kwargs, error, match",
    [
        ([L0, np.ones((2, 1))], {}, ValueError, "layer 0 has 3 outputs but layer 1 has 2 inputs"),
        ([np.array([[1, 0], [1, 0]])], {}, ValueError,
         r"1 pathway node\(s\) with no inputs, e.g. \['layer0_node1'\]"),
        ([L0, np.array([[1, 0], [0, 1], [0, 0]])], {}, ValueError,
         r"1 node\(s\) of pathway layer 0 feed no node of layer 1, e.g. \['layer0_node2'\]"),
        ([L0], {"feature_names": ["a", "b", "a"]}, ValueError,
         r"Duplicate names in feature_names: \['a'\]"),
        ([L0], {"node_names": [["P", "P", "Q"]]}, ValueError,
         r"Duplicate names in node_names\[0\]: \['P'\]"),
        ([L0], {"feature_names": ["a", "b"]}, ValueError,
         "feature_names must have 3 entries; got 2"),
        ([L0], {"node_names": [["P"], ["Q"]]}, ValueError, r"one list per layer \(1\); got 2"),
        ([2 * L0], {}, ValueError, r"only 0 and 1; found values \[2.0\]"),
        ([0.5 * L0], {}, ValueError, r"only 0 and 1; found values \[0.5\]"),
        ([-L0], {}, ValueError, r"only 0 and 1; found values \[-1.0\]"),
        ([np.where(L0 == 1, np.nan, 0)], {}, ValueError, "only 0 and 1; found values"),
        ([np.ones((2, 2, 2))], {}, ValueError, r"must be 2-D \(n_inputs, n_outputs\)"),
        ([np.ones((0, 2))], {}, ValueError, "no input features"),
        ([np.ones((2, 0))], {}, ValueError, "Mask layer 0 has no nodes"),
        ([object()], {}, TypeError, "Layer 0 of the mask must be a 2-D 0/1 matrix"),
        ([], {}, TypeError, "non-empty list of 0/1 matrices"),
        ("not a mask", {}, TypeError, "non-empty list of 0/1 matrices"),
    ],
)
def test_invalid_constructor_input(layers, kwargs, error, match):
    with pytest.raises(error, match=match):
        PathwayMask(layers, **kwargs)


# ------------------------------------------------------------ property tests
@st.composite
def layer_chains(draw):
    """A valid chain: every node has an input, every non-top node a parent."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    widths = [draw(st.integers(1, 8))]
    widths += draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    density = draw(st.floats(0.05, 0.9))
    layers = []
    for k, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        matrix = (rng.random((n_in, n_out)) < density).astype(float)
        matrix[rng.integers(0, n_in, n_out), np.arange(n_out)] = 1.0  # every node has an input
        if k > 0:  # every node below the top feeds a parent
            matrix[np.arange(n_in), rng.integers(0, n_out, n_in)] = 1.0
        layers.append(matrix)
    features = [f"g{i}" for i in rng.permutation(widths[0])]
    nodes = [[f"L{k}_{j}" for j in rng.permutation(w)] for k, w in enumerate(widths[1:])]
    return PathwayMask(layers, feature_names=features, node_names=nodes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mask=layer_chains())
def test_property_edges_round_trip(mask):
    table = mask.to_edges()
    assert len(table) == mask.n_edges
    rebuilt = PathwayMask.from_edges(table, feature_names=mask.feature_names)
    assert rebuilt == mask and hash(rebuilt) == hash(mask)
    assert_mask(rebuilt, mask.feature_names, mask.node_names, dense_layers(mask))
    assert edge_set(rebuilt) == edge_set(mask)
    # without feature_names, the features come in order of first appearance
    without = PathwayMask.from_edges(table)
    assert edge_set(without) == edge_set(mask)
    assert [list(n) for n in without.node_names] == [list(n) for n in mask.node_names]


def _named_network(mask, weights, biases, X):
    """tanh network whose parameters are looked up by node name (numpy, float64)."""
    h, inputs = X, mask.feature_names
    for k, layer in enumerate(mask.layers):
        coo = layer.tocoo()
        W = np.zeros(layer.shape)
        W[coo.row, coo.col] = [weights[(inputs[i], mask.node_names[k][j])]
                               for i, j in zip(coo.row, coo.col)]
        b = np.array([biases[name] for name in mask.node_names[k]])
        h = np.tanh(h @ W + b)
        inputs = mask.node_names[k]
    return h


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mask=layer_chains(), data=st.data())
def test_property_restrict_to_a_permutation_preserves_the_network(mask, data):
    order = data.draw(st.permutations(list(mask.feature_names)))
    permuted = mask.restrict(order)
    assert list(permuted.feature_names) == list(order)
    assert edge_set(permuted) == edge_set(mask)
    rng = np.random.default_rng(0)
    weights = {edge[:2]: rng.normal() for edge in sorted(edge_set(mask))}
    biases = {name: rng.normal() for names in mask.node_names for name in names}
    X = rng.normal(size=(5, mask.n_features))
    position = {name: i for i, name in enumerate(mask.feature_names)}
    X_permuted = X[:, [position[name] for name in order]]
    np.testing.assert_allclose(
        _named_network(permuted, weights, biases, X_permuted),
        _named_network(mask, weights, biases, X)[:, [
            list(mask.node_names[-1]).index(n) for n in permuted.node_names[-1]]],
        rtol=1e-12, atol=1e-12,
    )
