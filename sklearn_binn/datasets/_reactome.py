"""The human Reactome pathway hierarchy bundled with the package.

The files under ``sklearn_binn/datasets/data`` are Reactome's January-2025
export (the copy shipped in the ``binn`` 0.1.1 wheel) cut down to human
pathways by ``scripts/build_reactome_data.py``, in Reactome's own layouts:
``parent<TAB>child`` relations and the first two columns of
``UniProt2Reactome`` (gene, lowest-level pathway). ``reactome_manifest.json``
records the source files, the release date, the licence (CC0) and counts
taken from the source files.

Genes are identified by **UniProt accession** (``P04637`` is TP53), which is
the identifier Reactome annotates; isoform accessions are folded into their
canonical accession and only human proteins are kept. The source data carry
no gene symbols, so data keyed by symbol must be mapped to accessions (for
instance with HGNC's ``uniprot_ids`` column) before
:meth:`~sklearn_binn.PathwayMask.restrict`.
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
    """Read the bundled files once: relations, gene map, pathway names."""
    manifest = json.loads(_data_bytes(_MANIFEST).decode("utf-8"))
    files = manifest["files"]
    relations = _read_gzip_table(files["relations"], ["parent", "child"])
    gene_map = _read_gzip_table(files["gene_map"], ["gene", "pathway"])
    names = _read_gzip_table(files["names"], ["pathway", "name"])
    return relations, gene_map, dict(zip(names["pathway"], names["name"]))


@functools.lru_cache(maxsize=16)
def _build_mask(n_levels):
    relations, gene_map, _ = _bundled_tables()
    return PathwayMask.from_reactome(relations, gene_map, n_levels=n_levels)


def load_reactome(*, n_levels=None, return_names=False):
    """Load the bundled human Reactome hierarchy as a :class:`PathwayMask`.

    The mask is built with :meth:`PathwayMask.from_reactome` from Reactome's
    January-2025 human files bundled with the package (no network access).
    Input features are the 11,285 human proteins (UniProt accessions, sorted)
    that Reactome annotates to a lowest-level pathway; pathways are layered
    by their longest distance from Reactome's 29 top-level pathways, the
    deepest level first, with pass-through copies named
    ``"{pathway}_copy{layer}"`` where a connection skips levels (see
    :meth:`PathwayMask.from_gene_sets`). The full hierarchy has 12 levels.

    Parameters
    ----------
    n_levels : int, default=None
        Keep only the top ``n_levels`` levels of the hierarchy, counted from
        the 29 top-level pathways; genes of deeper pathways are given to
        their ancestors at the cut. ``None`` keeps all 12 levels.
        ``n_levels=3`` gives layers of 558, 180 and 29 nodes.
    return_names : bool, default=False
        Also return the human-readable name of every human pathway.

    Returns
    -------
    mask : PathwayMask
        The wiring; the mask is immutable and shared between calls with the
        same ``n_levels``.
    names : dict of str to str
        Only if ``return_names`` is True: Reactome identifier → pathway name
        for all 2,751 human pathways (a copy, safe to modify). A
        pass-through node ``"{pathway}_copy{layer}"`` has the name of
        ``pathway``.

    Raises
    ------
    ValueError
        If ``n_levels`` is not a positive int.

    See Also
    --------
    PathwayMask.from_reactome : build a mask from other Reactome files.
    make_pathway_mask : a synthetic hierarchy with Reactome-like statistics.

    Notes
    -----
    Genes are UniProt accessions, not gene symbols: the source export has no
    symbol column (see ``sklearn_binn/datasets/data/README.md``). Counts and
    layer sizes of every ``n_levels`` are listed in
    ``sklearn_binn/datasets/data/reactome_manifest.json``.

    References
    ----------
    .. [1] Milacic M. et al. "The Reactome Pathway Knowledgebase 2024".
       Nucleic Acids Research 52(D1), D672-D678 (2024).

    Examples
    --------
    >>> from sklearn_binn.datasets import load_reactome
    >>> mask, names = load_reactome(n_levels=3, return_names=True)
    >>> mask
    PathwayMask(n_features=11285, layer_sizes=(558, 180, 29), n_edges=32820)
    >>> names["R-HSA-73894"]
    'DNA Repair'
    >>> small = mask.restrict(["P04637", "P38398", "Q00987"])
    >>> small.layer_sizes
    (30, 21, 13)
    """
    if n_levels is not None:
        if isinstance(n_levels, bool) or not isinstance(n_levels, Integral) or n_levels < 1:
            raise ValueError(
                "n_levels must be a positive int (the number of hierarchy levels to "
                f"keep, counted from the top) or None; got {n_levels!r}."
            )
        n_levels = int(n_levels)
    mask = _build_mask(n_levels)
    if return_names:
        return mask, dict(_bundled_tables()[2])
    return mask
