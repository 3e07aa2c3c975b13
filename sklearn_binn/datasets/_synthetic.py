"""Synthetic pathway masks.

:func:`make_pathway_mask` draws a hierarchy whose statistics follow the human
Reactome hierarchy bundled with the package; the measured values and how each
default follows them are listed in its Notes section.
:func:`make_overlapping_gene_sets` reproduces, draw for draw, the gene-set
generator of the published teacher-student study of BINN interpretability
(``build_sparse_overlapping_mask`` in its ``pathway_tasks_complete.py``).
"""

import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .._mask import PathwayMask

__all__ = ["make_pathway_mask", "make_overlapping_gene_sets"]

# Reactome (human, January 2025) statistics the defaults follow; see the module docstring.
REACTOME_PATHWAYS_PER_GENE = 4.0
_PATHWAYS_PER_GENE_DISPERSION = 0.4
_GENES_PER_FIRST_LAYER_PATHWAY = 5.12
_PATHWAY_SIZE_SIGMA = 1.3
_LAYER_WIDTH_RATIO = 0.3
_MULTI_PARENT_FRACTION = 0.0132
_EXTRA_PARENTS_MEAN = 0.31
_CHILDREN_SIGMA = 0.9
_MAX_DRAW_ROUNDS = 8


def _check_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} ({value!r}).")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}.")
    return int(value)


def _layer_widths(n_genes, n_pathways, depth):
    if depth is not None:
        depth = _check_int(depth, "depth")
    if n_pathways is None:
        depth = 3 if depth is None else depth
        widths = [max(1, round(n_genes / _GENES_PER_FIRST_LAYER_PATHWAY))]
        for _ in range(depth - 1):
            widths.append(max(1, round(widths[-1] * _LAYER_WIDTH_RATIO)))
        return widths
    if isinstance(n_pathways, (Integral, str)) or not hasattr(n_pathways, "__len__"):
        raise TypeError(
            "n_pathways must be a tuple of layer widths, e.g. (20, 6, 2), or None; "
            f"got {n_pathways!r}. For one layer of n pathways pass (n,)."
        )
    widths = [_check_int(w, "each entry of n_pathways") for w in n_pathways]
    if not widths:
        raise ValueError("n_pathways must name at least one layer width; got ().")
    if depth is not None and depth != len(widths):
        raise ValueError(
            f"depth={depth} does not match n_pathways, which has {len(widths)} layer "
            "widths; pass one of them, or make them agree."
        )
    if any(b > a for a, b in zip(widths, widths[1:])):
        raise ValueError(
            f"n_pathways must not increase from one layer to the next (every parent "
            f"needs a child of its own); got {tuple(widths)}."
        )
    return widths


def _pathways_per_gene(rng, n_genes, overlap, n_pathways):
    """Draw how many pathways each gene belongs to: 1 + negative binomial."""
    extra_mean = overlap - 1.0
    if extra_mean == 0:
        counts = np.ones(n_genes, dtype=np.int64)
    else:
        r = _PATHWAYS_PER_GENE_DISPERSION
        counts = 1 + rng.negative_binomial(r, r / (r + extra_mean), size=n_genes)
    return np.minimum(counts, n_pathways)


def _gene_layer(rng, n_genes, n_pathways, overlap):
    """Gene-to-pathway incidence as sorted codes ``gene * n_pathways + pathway``."""
    quota = _pathways_per_gene(rng, n_genes, overlap, n_pathways)
    popularity = rng.lognormal(0.0, _PATHWAY_SIZE_SIGMA, size=n_pathways)
    popularity /= popularity.sum()
    # every pathway gets one gene of its own (genes are reused only if pathways outnumber them)
    seed_genes = rng.permutation(n_genes)[np.arange(n_pathways) % n_genes]
    codes = np.unique(seed_genes * n_pathways + np.arange(n_pathways))
    for _ in range(_MAX_DRAW_ROUNDS):
        need = np.maximum(quota - np.bincount(codes // n_pathways, minlength=n_genes), 0)
        if not need.any():
            break
        genes = np.repeat(np.arange(n_genes), need)
        drawn = rng.choice(n_pathways, size=genes.size, p=popularity)
        codes = np.union1d(codes, genes * n_pathways + drawn)
    need = np.maximum(quota - np.bincount(codes // n_pathways, minlength=n_genes), 0)
    extra = []
    for gene in np.flatnonzero(need):  # rare: genes asking for nearly every pathway
        taken = codes[(codes // n_pathways) == gene] % n_pathways
        free = np.setdiff1d(np.arange(n_pathways), taken)
        extra.append(gene * n_pathways + rng.choice(free, size=need[gene], replace=False))
    if extra:
        codes = np.union1d(codes, np.concatenate(extra))
    return codes


def _parent_layer(rng, n_children, n_parents):
    """Child-to-parent incidence as sorted codes ``child * n_parents + parent``."""
    popularity = rng.lognormal(0.0, _CHILDREN_SIGMA, size=n_parents)
    popularity /= popularity.sum()
    order = rng.permutation(n_children)
    parent = np.empty(n_children, dtype=np.int64)
    parent[order[:n_parents]] = np.arange(n_parents)  # each parent gets a child
    parent[order[n_parents:]] = rng.choice(
        n_parents, size=n_children - n_parents, p=popularity
    )
    n_extra = rng.binomial(1, _MULTI_PARENT_FRACTION, size=n_children) * (
        1 + rng.poisson(_EXTRA_PARENTS_MEAN, size=n_children)
    )
    n_extra = np.minimum(n_extra, n_parents - 1)
    children = np.repeat(np.arange(n_children), n_extra)
    extra = rng.choice(n_parents, size=children.size, p=popularity)
    codes = np.concatenate(
        [np.arange(n_children) * n_parents + parent, children * n_parents + extra]
    )
    return np.unique(codes)


def _codes_to_csr(codes, n_rows, n_cols):
    return sp.csr_matrix(
        (np.ones(codes.size, dtype=np.float32), (codes // n_cols, codes % n_cols)),
        shape=(n_rows, n_cols),
    )


def make_pathway_mask(n_genes, n_pathways=None, depth=None, overlap=None, random_state=None):
    """Draw a random pathway hierarchy with Reactome-like statistics.

    Genes feed the first pathway layer; every pathway has at least one gene,
    every node below the top has at least one parent and every parent at
    least one child, and a few nodes have several parents (a DAG, as in
    Reactome). Layer widths never increase towards the top. Each default
    follows a statistic measured on the bundled human Reactome hierarchy
    (see Notes).

    Parameters
    ----------
    n_genes : int
        Number of input features (genes), named ``x0, x1, ...``. Every gene
        belongs to at least one pathway.
    n_pathways : tuple of int, default=None
        Width of each pathway layer, from the genes up, non-increasing.
        ``None`` uses ``round(n_genes / 5.12)`` first-layer pathways (the
        Reactome ratio of annotated genes to annotated pathways), each
        further layer 0.3 times as wide as the one below, at least 1.
    depth : int, default=None
        Number of pathway layers; ``len(n_pathways)`` when that is given,
        else 3.
    overlap : float, default=None
        Mean number of first-layer pathways per gene, at least 1. ``None``
        uses Reactome's 4.0. A gene cannot join more pathways than the
        first layer has, so with few pathways the realised mean is lower.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw; an int gives the same mask on every call.

    Returns
    -------
    mask : PathwayMask
        ``depth`` pathway layers over ``n_genes`` features.

    Raises
    ------
    TypeError
        If ``n_genes``, ``depth`` or a width is not an int, or ``n_pathways``
        is not a sequence.
    ValueError
        If a size is below 1, ``n_pathways`` increases or disagrees with
        ``depth``, or ``overlap`` is below 1 or not finite.

    Notes
    -----
    The defaults follow the human Reactome hierarchy bundled with the
    package (January 2025), measured on its lowest-level gene annotation
    (11,285 UniProt accessions, 2,205 annotated pathways; the 11,342 gene
    symbols give the same statistics to two digits) and on the masks
    :func:`load_reactome` builds:

    - pathways per gene: mean 4.0, median 2, 43 % of genes in exactly one
      pathway, a long tail up to 205. Drawn as ``1 + NegativeBinomial`` with
      dispersion 0.4 and mean ``overlap - 1``, which gives 42.5 % single-pathway
      genes and median 2 at the default ``overlap=4``;
    - pathway sizes (genes per lowest-level pathway): median 10, mean 20.5,
      90th percentile 51, 13 % of pathways with a single gene, up to 478. Each
      gene picks pathways with probability proportional to a log-normal
      popularity with ``sigma = 1.3``, which gives median 10, mean 20.5 and
      90th percentile 46 (but only 5 % single-gene pathways);
    - genes per first-layer pathway: 11,285 / 2,205 = 5.12, so by default the
      first layer has ``n_genes / 5.12`` pathways (mean pathway size
      ``4.0 * 5.12 = 20.5``, as in Reactome);
    - layer widths: consecutive ratios in Reactome's 3-, 4- and 5-level masks
      are 0.32, 0.16 / 0.43, 0.32, 0.16 / 0.68, 0.43, 0.32, 0.16 (geometric
      means 0.23, 0.28, 0.35); the default widths shrink by 0.3 per layer;
    - parents per pathway: 1.3 % of Reactome's non-top pathways have more than
      one parent (1.017 parents on average, at most 6), so the hierarchy is a
      DAG that is nearly a tree; drawn here as one parent plus, for 1.32 % of
      nodes, ``1 + Poisson(0.31)`` more;
    - children per parent: median 2, mean 3.4, 24 % with a single child, log
      standard deviation 0.72; drawn from a log-normal popularity with
      ``sigma = 0.9`` (25 % single-child parents, log standard deviation 0.72
      at the default width ratio).

    Measured on ``make_pathway_mask(11285, depth=4)`` (three seeds): 4.0
    pathways per gene, median 2, 42 % single-pathway genes; pathway size mean
    20.5, median 10; 1.0-2.0 % of nodes with more than one parent.

    See Also
    --------
    load_reactome : the real hierarchy these statistics come from.
    make_overlapping_gene_sets : the published study's one-layer generator.

    Examples
    --------
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(100, depth=3, random_state=0)
    >>> mask.layer_sizes
    (20, 6, 2)
    >>> make_pathway_mask(1000, n_pathways=(50, 10), random_state=0).layer_sizes
    (50, 10)
    """
    n_genes = _check_int(n_genes, "n_genes")
    widths = _layer_widths(n_genes, n_pathways, depth)
    if overlap is None:
        overlap = REACTOME_PATHWAYS_PER_GENE
    if (isinstance(overlap, bool) or not isinstance(overlap, Real)
            or not 1 <= overlap < math.inf):
        raise ValueError(
            f"overlap (mean pathways per gene) must be a finite number >= 1; got {overlap!r}."
        )
    rng = check_random_state(random_state)
    layers = [_codes_to_csr(_gene_layer(rng, n_genes, widths[0], float(overlap)),
                            n_genes, widths[0])]
    for below, above in zip(widths, widths[1:]):
        layers.append(_codes_to_csr(_parent_layer(rng, below, above), below, above))
    return PathwayMask(layers)


def make_overlapping_gene_sets(n_genes=400, n_pathways=60, size_range=(14, 22), overlap=0.55,
                               random_state=42):
    """One layer of overlapping gene sets, as in the published teacher-student study.

    Reproduces ``build_sparse_overlapping_mask`` of the study "The illusion
    of interpretability in biologically-informed neural networks" draw for
    draw. With ``rng = numpy.random.default_rng(random_state)``, for each
    pathway in turn:

    1. ``size = rng.integers(low, high + 1)``;
    2. ``k = min(floor(size * overlap), len(pool))`` genes are drawn without
       replacement from ``pool``, the sorted union of all genes used so far
       (no draw when ``k == 0``);
    3. ``min(size - k, len(rest))`` "fresh" genes are drawn without
       replacement from ``rest``, all genes not drawn in step 2 (so fresh
       genes may also be earlier ones);
    4. the pathway holds the union of both draws, and joins ``pool``.

    Genes that no pathway draws have no edges. With the defaults the mask
    has 1,086 gene-pathway entries over 60 pathways, and 291 of the 400
    genes are in some pathway.

    Parameters
    ----------
    n_genes : int, default=400
        Number of input features, named ``x0, x1, ...``.
    n_pathways : int, default=60
        Number of gene sets, named ``P0, P1, ...``.
    size_range : tuple of (int, int), default=(14, 22)
        Inclusive bounds of the uniform set size.
    overlap : float, default=0.55
        Fraction of each set drawn from the genes already used.
    random_state : int, numpy.random.Generator or None, default=42
        Seed of ``numpy.random.default_rng``; the study used 42.

    Returns
    -------
    mask : PathwayMask
        A one-layer mask of shape ``(n_genes, n_pathways)``.

    Raises
    ------
    TypeError
        If a count is not an int or ``random_state`` is of another type.
    ValueError
        If a count or a size bound is below 1, the bounds are reversed, or
        ``overlap`` is outside [0, 1].

    References
    ----------
    .. [1] "The illusion of interpretability in biologically-informed neural
       networks", code in the GitHub repository
       JhonatanFelix/The-illusion-of-interpretability-in-biologically-informed-neural-networks

    Examples
    --------
    >>> from sklearn_binn.datasets import make_overlapping_gene_sets
    >>> mask = make_overlapping_gene_sets(random_state=42)
    >>> mask.n_edges, mask.layer_sizes
    (1086, (60,))
    """
    n_genes = _check_int(n_genes, "n_genes")
    n_pathways = _check_int(n_pathways, "n_pathways")
    try:
        low, high = size_range
    except (TypeError, ValueError) as exc:
        raise TypeError(f"size_range must be a pair (low, high); got {size_range!r}.") from exc
    low, high = _check_int(low, "size_range[0]"), _check_int(high, "size_range[1]")
    if high < low:
        raise ValueError(f"size_range must have low <= high; got {size_range!r}.")
    if isinstance(overlap, bool) or not isinstance(overlap, Real) or not 0 <= overlap <= 1:
        raise ValueError(f"overlap must be a fraction in [0, 1]; got {overlap!r}.")
    if random_state is not None and not isinstance(random_state, (Integral, np.random.Generator)):
        raise TypeError(
            "random_state must be an int, a numpy.random.Generator or None (the study "
            f"draws with numpy.random.default_rng); got {type(random_state).__name__}."
        )
    rng = np.random.default_rng(random_state)
    all_genes = np.arange(n_genes)
    pool = np.array([], dtype=np.int64)
    rows, cols = [], []
    for pathway in range(n_pathways):
        size = int(rng.integers(low, high + 1))
        k_overlap = min(math.floor(size * overlap), pool.size)
        shared = (
            rng.choice(pool, size=k_overlap, replace=False)
            if k_overlap > 0
            else np.array([], dtype=np.int64)
        )
        rest = np.setdiff1d(all_genes, shared)
        k_fresh = min(size - k_overlap, rest.size)
        fresh = (
            rng.choice(rest, size=k_fresh, replace=False)
            if k_fresh > 0
            else np.array([], dtype=np.int64)
        )
        genes = np.unique(np.concatenate([shared, fresh]))
        pool = np.unique(np.concatenate([pool, genes]))
        rows.append(genes)
        cols.append(np.full(genes.size, pathway))
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    layer = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n_genes, n_pathways)
    )
    return PathwayMask([layer], node_names=[[f"P{p}" for p in range(n_pathways)]])
