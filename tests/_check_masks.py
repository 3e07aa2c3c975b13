"""Masks shared by the tests: picklable builders for the estimator checks (whose data have
1 to 10 features) and a small ring of overlapping gene sets."""

import numpy as np

from sklearn_binn import PathwayMask

#: Eight genes in four pathways of three, each pathway sharing a gene with the next (a ring).
RING_GENE_SETS = {
    "P1": ["G0", "G1", "G2"],
    "P2": ["G2", "G3", "G4"],
    "P3": ["G4", "G5", "G6"],
    "P4": ["G6", "G7", "G0"],
}


def two_layer_mask(features):
    """A small two-layer mask over whatever features the data have.

    Each feature feeds two of ``max(2, n // 2)`` first-layer pathways (wrapping
    around); those feed two top pathways.
    """
    names = list(features) if not isinstance(features, int) else None
    n = len(names) if names is not None else int(features)
    n_pathways = max(2, n // 2 + 1)
    first = np.zeros((n, n_pathways))
    for i in range(n):
        first[i, i % n_pathways] = 1
        first[i, (i + 1) % n_pathways] = 1
    first[:, first.sum(0) == 0] = 0
    first = first[:, first.sum(0) > 0]
    second = np.zeros((first.shape[1], 2))
    second[::2, 0] = 1
    second[1::2, 1] = 1
    second[0, 1] = 1
    return PathwayMask([first, second], feature_names=names)
