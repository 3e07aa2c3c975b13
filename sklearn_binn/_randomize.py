"""Degree-preserving rewiring of a pathway mask: the null model of a BINN's wiring."""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import scipy.sparse as sp

from ._mask import PathwayMask, resolve_mask
from ._utils import seed_from

__all__ = ["randomize_mask", "selected_layers"]

# a layer whose rewiring makes no progress for this many rounds is left as is
_MAX_IDLE_ROUNDS = 50


def _swap_edges(rows, cols, n_cols, n_swaps, rng):
    """Rewire a bipartite edge list by checkerboard swaps, keeping every degree.

    A swap takes two edges ``a -> x`` and ``b -> y`` and replaces them by
    ``a -> y`` and ``b -> x``: every source keeps its out-degree and every
    target its in-degree. Each round pairs all edges at random into
    disjoint pairs and performs, at once, every proposed swap that creates
    no self-pairing, no existing edge and no edge proposed twice in the
    round, so the edge set stays simple. Returns the new targets and the
    number of swaps made.
    """
    cols = cols.copy()
    n_edges = len(rows)
    done, idle = 0, 0
    while done < n_swaps and n_edges >= 2:
        order = rng.permutation(n_edges)
        half = n_edges // 2
        i, j = order[:half], order[half : 2 * half]
        a, x, b, y = rows[i], cols[i], rows[j], cols[j]
        keys = np.sort(rows * n_cols + cols)
        new_ay, new_bx = a * n_cols + y, b * n_cols + x
        ok = (a != b) & (x != y) & ~_contains(keys, new_ay) & ~_contains(keys, new_bx)
        # two accepted swaps must not create the same edge
        proposed = np.concatenate([new_ay[ok], new_bx[ok]])
        uniq, counts = np.unique(proposed, return_counts=True)
        repeated = uniq[counts > 1]
        if repeated.size:
            ok &= ~(_contains(repeated, new_ay) | _contains(repeated, new_bx))
        ok = np.flatnonzero(ok)[: n_swaps - done]
        cols[i[ok]], cols[j[ok]] = y[ok], x[ok]
        done += ok.size
        idle = 0 if ok.size else idle + 1
        if idle >= _MAX_IDLE_ROUNDS:
            break
    return cols, done


def _contains(sorted_keys, values):
    """Whether each value is in ``sorted_keys`` (sorted, unique)."""
    pos = np.searchsorted(sorted_keys, values)
    pos = np.minimum(pos, len(sorted_keys) - 1)
    return sorted_keys[pos] == values if len(sorted_keys) else np.zeros(len(values), bool)


def randomize_mask(mask, random_state=None, n_swaps=None, layers=None):
    """Rewire a mask at random, keeping every node's in- and out-degree.

    The degree-preserving null model of a pathway hierarchy: every pathway
    keeps its number of members (its size) and its number of parents,
    every gene keeps its number of pathways, but which gene sits in which
    pathway (and which pathway under which parent) is shuffled. A BINN
    fitted on the rewired mask shows how important each pathway looks
    *because of its size and position alone*; see :func:`stability_report`
    with ``n_null``.

    Each rewired layer gets ``n_swaps`` checkerboard swaps (``a -> x``,
    ``b -> y`` become ``a -> y``, ``b -> x``), made in vectorised rounds of
    disjoint random edge pairs. Swaps that would duplicate an edge are
    rejected, so the result has no duplicate edges; since degrees are kept,
    no node becomes empty or disconnected and the result is a valid
    :class:`PathwayMask` with the same feature and node names. Pass-through
    copies (``"{pathway}_copy{k}"``) are rewired like any other node.

    Parameters
    ----------
    mask : PathwayMask or anything PathwayMask accepts
        The mask to rewire (not a callable).
    random_state : int, RandomState or None, default=None
        Seeds the swaps; an int gives the same rewiring on every call.
    n_swaps : int, default=None
        Successful swaps per rewired layer. ``None`` uses ten times the
        layer's number of edges, after which the rewired layer shares
        about as many edges with the original as a random layer with the
        same degrees would.
    layers : iterable of int, default=None
        The layers to rewire (0 = gene → pathway); ``None`` rewires all.

    Returns
    -------
    PathwayMask
        The rewired mask.

    Warns
    -----
    UserWarning
        If a layer admits no swap at all (e.g. a single pathway, or every
        gene in every pathway), which is then returned unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_binn import randomize_mask
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(200, depth=2, random_state=0)
    >>> null = randomize_mask(mask, random_state=0)
    >>> [bool(np.array_equal(a.sum(axis=0), b.sum(axis=0)))
    ...  for a, b in zip(mask.layers, null.layers)]
    [True, True]
    >>> shared = mask.layers[0].multiply(null.layers[0]).sum() / mask.layers[0].nnz
    >>> bool(shared < 0.5)
    True
    """
    if callable(mask) and not isinstance(mask, PathwayMask):
        raise TypeError(
            "randomize_mask needs a fixed mask, not a callable; call it on your gene "
            "names first (or rewire a fitted estimator's mask_)."
        )
    mask = resolve_mask(mask)
    if n_swaps is not None and (
        isinstance(n_swaps, bool) or not isinstance(n_swaps, Integral) or n_swaps < 0
    ):
        raise ValueError(f"n_swaps must be None or a non-negative int; got {n_swaps!r}.")
    chosen = selected_layers(mask, layers)
    rng = np.random.default_rng(seed_from(random_state))
    new_layers = []
    for k, csr in enumerate(mask.layers):
        if k not in chosen:
            new_layers.append(csr)
            continue
        coo = csr.tocoo()
        rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
        target = 10 * csr.nnz if n_swaps is None else int(n_swaps)
        cols, done = _swap_edges(rows, cols, csr.shape[1], target, rng)
        if target > 0 and done == 0:
            warnings.warn(
                f"Layer {k} of the mask admits no degree-preserving swap (e.g. one "
                "pathway, or every input in every node); it is left unchanged.",
                UserWarning,
            )
        new_layers.append(
            sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=csr.shape)
        )
    return mask.with_layers(new_layers)


def selected_layers(mask, layers):
    """The set of layer indices ``layers`` names (``None``: every layer), checked.

    Parameters
    ----------
    mask : PathwayMask
    layers : iterable of int or None

    Returns
    -------
    set of int

    Examples
    --------
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> from sklearn_binn._randomize import selected_layers
    >>> sorted(selected_layers(make_pathway_mask(30, depth=2, random_state=0), None))
    [0, 1]
    """
    if layers is None:
        return set(range(mask.depth))
    chosen = set()
    for k in layers:
        if isinstance(k, bool) or not isinstance(k, Integral) or not 0 <= k < mask.depth:
            raise ValueError(
                f"layers must hold layer indices between 0 and {mask.depth - 1}; "
                f"got {list(layers)!r}."
            )
        chosen.add(int(k))
    return chosen
