"""The wiring of a BINN: which gene feeds which pathway, which pathway which parent."""

from __future__ import annotations

import io  # noqa: F401 (used by the doctests)
import os
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping
from numbers import Integral

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["PathwayMask", "RestrictReport", "resolve_mask"]

RestrictReport = namedtuple(
    "RestrictReport", ["missing_features", "unused_features", "dropped_nodes"]
)
RestrictReport.__doc__ = """What :meth:`PathwayMask.restrict` changed.

Attributes
----------
missing_features : list of str
    Genes of the mask that the data set does not have (dropped).
unused_features : list of str
    Columns of the data set that no pathway contains (kept, with no edges).
dropped_nodes : list of list of str
    Per pathway layer, the nodes left without inputs and therefore dropped.
"""


def _readonly(array):
    array = np.asarray(array)
    array.flags.writeable = False
    return array


def _as_binary_csr(matrix, index):
    """Convert one layer to a float32 CSR 0/1 matrix, or say what is wrong."""
    if sp.issparse(matrix):
        csr = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    else:
        try:
            dense = np.asarray(matrix, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Layer {index} of the mask must be a 2-D 0/1 matrix (numpy or "
                f"scipy.sparse); got {type(matrix).__name__}."
            ) from exc
        if dense.ndim != 2:
            raise ValueError(
                f"Layer {index} of the mask must be 2-D (n_inputs, n_outputs); "
                f"got an array with shape {dense.shape}."
            )
        csr = sp.csr_matrix(dense)
    csr.eliminate_zeros()
    if not np.all(np.isfinite(csr.data)) or not np.all(csr.data == 1.0):
        bad = np.unique(csr.data[csr.data != 1.0])[:5]
        raise ValueError(
            f"Layer {index} of the mask must contain only 0 and 1; found values "
            f"{bad.tolist()}."
        )
    csr.sort_indices()
    csr = csr.astype(np.float32)
    for arr in (csr.data, csr.indices, csr.indptr):
        arr.flags.writeable = False
    return csr


def _check_names(names, n, what):
    if names is None:
        return None
    names = np.asarray(list(names), dtype=object)
    if names.ndim != 1 or names.shape[0] != n:
        raise ValueError(f"{what} must have {n} entries; got {names.shape[0]}.")
    names = np.array([str(name) for name in names], dtype=object)
    uniq, counts = np.unique(names, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(
            f"Duplicate names in {what}: {uniq[counts > 1][:10].tolist()}. "
            "Names must be unique."
        )
    return names


class PathwayMask:
    """The sparse wiring of a biologically informed neural network.

    A mask is a list of 0/1 matrices, one per pathway layer: layer 0 connects
    the input features (genes) to the first pathway layer. In a *chain* mask
    (the default) layer ``k`` connects pathway layer ``k - 1`` to pathway
    layer ``k``. In a *skip-level* mask (``skip_levels=True``) layer ``k``
    reads the genes and every lower pathway layer: its rows are the
    concatenation ``[genes, layer 0 nodes, ..., layer k-1 nodes]``, so an edge
    may skip levels (a hierarchy whose pathways sit at different depths
    needs no pass-through copies). Entry ``(i, j)`` of a layer is 1 when
    input ``i`` feeds node ``j``. The object is immutable: methods return new
    masks.

    Parameters
    ----------
    layers : list of array-like or sparse matrices
        The 0/1 matrices, each of shape ``(n_inputs, n_outputs)``. In a chain
        mask the outputs of one layer are the inputs of the next; in a
        skip-level mask layer ``k`` has ``n_features + n_0 + ... + n_{k-1}``
        rows. A single 2-D matrix is treated as a one-layer mask.
    feature_names : sequence of str, default=None
        Names of the input features (genes), in column order. ``None`` names
        them ``x0, x1, ...``.
    node_names : list of sequences of str, default=None
        Per pathway layer, the names of its nodes. ``None`` names them
        ``layer{k}_node{j}``.
    strict : bool, default=False
        If True, a feature that feeds no pathway is an error.
    skip_levels : bool, default=None
        Whether layer ``k`` reads the genes and all lower layers (True) or
        only layer ``k - 1`` (False, a chain). ``None``: the flag of
        ``layers`` when it is a PathwayMask, else False. In a skip-level mask
        the feature and node names must be unique across all layers.

    Attributes
    ----------
    feature_names : ndarray of str
        Input features, in column order.
    node_names : list of ndarray of str
        Node names per pathway layer.
    layers : list of scipy.sparse.csr_matrix
        Copies of the 0/1 matrices, shape ``(n_inputs, n_outputs)``.
    depth : int
        Number of pathway layers.
    n_edges : int
        Total number of connections.
    skip_levels : bool
        Whether a layer reads the genes and every lower layer.

    Raises
    ------
    ValueError
        If the shapes do not chain (or, with ``skip_levels``, a layer does not
        have the rows of the genes and all lower layers), a pathway has no
        inputs, a pathway below the top layer feeds nothing, names are
        duplicated or mis-sized, or a matrix holds values other than 0 and 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_binn import PathwayMask
    >>> mask = PathwayMask([np.array([[1, 0], [1, 1], [0, 1]]), np.ones((2, 1))],
    ...                    feature_names=["TP53", "MDM2", "CDKN1A"])
    >>> mask
    PathwayMask(n_features=3, layer_sizes=(2, 1), n_edges=6)
    >>> mask.depth, mask.n_edges
    (2, 6)

    A skip-level mask: the top node reads a gene and both lower nodes.

    >>> skip = PathwayMask([np.array([[1, 0], [1, 1], [0, 1]]),
    ...                     np.array([[1], [0], [0], [1], [1]])],
    ...                    feature_names=["TP53", "MDM2", "CDKN1A"],
    ...                    node_names=[["P1", "P2"], ["TOP"]], skip_levels=True)
    >>> skip.input_names(1).tolist()
    ['TP53', 'MDM2', 'CDKN1A', 'P1', 'P2']
    >>> skip.n_edges
    7
    """

    def __init__(self, layers, feature_names=None, node_names=None, *, strict=False,
                 skip_levels=None):
        if isinstance(layers, PathwayMask):
            feature_names = layers.feature_names if feature_names is None else feature_names
            node_names = layers.node_names if node_names is None else node_names
            skip_levels = layers.skip_levels if skip_levels is None else skip_levels
            self._data_types = layers._data_types
            self._display_names = layers._display_names
            layers = layers._layers
        if skip_levels is None:
            skip_levels = False
        if not isinstance(skip_levels, (bool, np.bool_)):
            raise TypeError(
                f"skip_levels must be True or False; got {skip_levels!r}."
            )
        self._skip_levels = bool(skip_levels)
        if sp.issparse(layers) or (isinstance(layers, np.ndarray) and layers.ndim == 2):
            layers = [layers]
        if not isinstance(layers, (list, tuple)) or len(layers) == 0:
            raise TypeError(
                "PathwayMask expects a non-empty list of 0/1 matrices (one per "
                f"pathway layer); got {type(layers).__name__}."
            )
        csrs = [_as_binary_csr(layer, k) for k, layer in enumerate(layers)]
        n_rows = csrs[0].shape[0]
        for k in range(1, len(csrs)):
            if self._skip_levels:
                n_rows += csrs[k - 1].shape[1]
                if csrs[k].shape[0] != n_rows:
                    raise ValueError(
                        f"Skip-level mask layer {k} must have one row per gene and "
                        f"per node of layers 0..{k - 1} ({n_rows} rows); got "
                        f"{csrs[k].shape[0]}."
                    )
                continue
            if csrs[k - 1].shape[1] != csrs[k].shape[0]:
                raise ValueError(
                    f"Mask layers do not chain: layer {k - 1} has "
                    f"{csrs[k - 1].shape[1]} outputs but layer {k} has "
                    f"{csrs[k].shape[0]} inputs."
                )
        for k, csr in enumerate(csrs):
            if csr.shape[1] == 0:
                raise ValueError(f"Mask layer {k} has no nodes.")
        if csrs[0].shape[0] == 0:
            raise ValueError("The mask has no input features.")

        n_features = csrs[0].shape[0]
        if feature_names is None:
            feature_names = [f"x{i}" for i in range(n_features)]
        self._feature_names = _readonly(
            _check_names(feature_names, n_features, "feature_names")
        )
        if node_names is None:
            node_names = [None] * len(csrs)
        if len(node_names) != len(csrs):
            raise ValueError(
                f"node_names must hold one list per layer ({len(csrs)}); "
                f"got {len(node_names)}."
            )
        self._node_names = [
            _readonly(
                _check_names(
                    [f"layer{k}_node{j}" for j in range(csr.shape[1])]
                    if names is None
                    else names,
                    csr.shape[1],
                    f"node_names[{k}]",
                )
            )
            for k, (csr, names) in enumerate(zip(csrs, node_names))
        ]
        self._layers = csrs
        if self._skip_levels:
            _check_names(
                np.concatenate([self._feature_names, *self._node_names]),
                self.n_features + sum(self.layer_sizes),
                "the feature and node names of a skip-level mask",
            )
        self._validate_connectivity(strict)

    def _validate_connectivity(self, strict):
        if self._skip_levels:
            self._validate_skip_connectivity(strict)
            return
        for k, csr in enumerate(self._layers):
            in_degree = np.diff(csr.tocsc().indptr)
            empty = np.flatnonzero(in_degree == 0)
            if empty.size:
                names = self._node_names[k][empty[:5]].tolist()
                raise ValueError(
                    f"Mask layer {k} has {empty.size} pathway node(s) with no "
                    f"inputs, e.g. {names}; every pathway needs at least one "
                    "member (drop empty pathways, or use PathwayMask.restrict)."
                )
            out_degree = np.diff(csr.indptr)
            unused = np.flatnonzero(out_degree == 0)
            if k > 0 and unused.size:
                names = self._node_names[k - 1][unused[:5]].tolist()
                raise ValueError(
                    f"{unused.size} node(s) of pathway layer {k - 1} feed no node "
                    f"of layer {k}, e.g. {names}; they are disconnected from the "
                    "output. Give them a parent or remove them."
                )
            if k == 0 and strict and unused.size:
                names = self._feature_names[unused[:5]].tolist()
                raise ValueError(
                    f"{unused.size} feature(s) are in no pathway, e.g. {names} "
                    "(strict=True). Drop them from the data or pass strict=False."
                )

    def _out_degrees(self):
        """Per source (the genes, then each pathway layer), how many nodes it feeds."""
        degrees = [np.zeros(self.n_features, dtype=np.int64)]
        degrees += [np.zeros(n, dtype=np.int64) for n in self.layer_sizes]
        for k, csr in enumerate(self._layers):
            out = np.diff(csr.indptr)
            for source, start, stop in self.input_sources(k):
                degrees[source + 1] += out[start:stop]
        return degrees

    def _validate_skip_connectivity(self, strict):
        for k, csr in enumerate(self._layers):
            empty = np.flatnonzero(np.diff(csr.tocsc().indptr) == 0)
            if empty.size:
                names = self._node_names[k][empty[:5]].tolist()
                raise ValueError(
                    f"Mask layer {k} has {empty.size} pathway node(s) with no "
                    f"inputs, e.g. {names}; every pathway needs at least one "
                    "member (drop empty pathways, or use PathwayMask.restrict)."
                )
        degrees = self._out_degrees()
        for k in range(self.depth - 1):
            unused = np.flatnonzero(degrees[k + 1] == 0)
            if unused.size:
                names = self._node_names[k][unused[:5]].tolist()
                raise ValueError(
                    f"{unused.size} node(s) of pathway layer {k} feed no node of a "
                    f"higher layer, e.g. {names}; they are disconnected from the "
                    "output. Give them a parent or remove them."
                )
        unused = np.flatnonzero(degrees[0] == 0)
        if strict and unused.size:
            names = self._feature_names[unused[:5]].tolist()
            raise ValueError(
                f"{unused.size} feature(s) are in no pathway, e.g. {names} "
                "(strict=True). Drop them from the data or pass strict=False."
            )

    # ------------------------------------------------------------------ access
    @property
    def skip_levels(self):
        """bool: whether layer ``k`` reads the genes and every lower layer."""
        return self._skip_levels

    def input_sources(self, k):
        """Where the rows of layer ``k`` come from.

        Parameters
        ----------
        k : int
            A pathway layer, ``0 <= k < depth``.

        Returns
        -------
        list of (int, int, int)
            ``(source, start, stop)``: rows ``start:stop`` of layer ``k`` are
            the genes (``source == -1``) or the nodes of pathway layer
            ``source``, in order. A chain mask has one block per layer; a
            skip-level mask has the genes then layers ``0 .. k-1``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_binn import PathwayMask
        >>> mask = PathwayMask([np.eye(2), np.ones((4, 1))], skip_levels=True)
        >>> mask.input_sources(1)
        [(-1, 0, 2), (0, 2, 4)]
        """
        k = self._layer_index(k)
        if not self._skip_levels:
            return [(k - 1, 0, self._layers[k].shape[0])]
        sizes = [self.n_features, *self.layer_sizes[:k]]
        stops = np.cumsum(sizes).tolist()
        return [(j - 1, stop - size, stop) for j, (size, stop) in enumerate(zip(sizes, stops))]

    def input_names(self, k):
        """The names of the rows of layer ``k`` (its possible inputs).

        Parameters
        ----------
        k : int
            A pathway layer, ``0 <= k < depth``.

        Returns
        -------
        ndarray of str
            The genes for layer 0 and, in a chain mask, the nodes of layer
            ``k - 1``; in a skip-level mask the genes followed by the nodes of
            layers ``0 .. k-1``.

        Examples
        --------
        >>> from sklearn_binn import PathwayMask
        >>> mask = PathwayMask.from_gene_sets({"P1": ["A", "B"], "P2": ["B"]})
        >>> mask.input_names(0).tolist()
        ['A', 'B']
        """
        names = [
            self._feature_names if source < 0 else self._node_names[source]
            for source, _, _ in self.input_sources(k)
        ]
        return np.concatenate(names) if len(names) > 1 else names[0].copy()

    def _layer_index(self, k):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not (
            -self.depth <= k < self.depth
        ):
            raise ValueError(
                f"layer must be an int between 0 and {self.depth - 1}; got {k!r}."
            )
        return int(k) % self.depth

    @property
    def feature_names(self):
        """ndarray of str: the input features (genes), in column order."""
        return self._feature_names

    @property
    def node_names(self):
        """list of ndarray of str: node names per pathway layer."""
        return list(self._node_names)

    @property
    def layers(self):
        """list of scipy.sparse.csr_matrix: copies of the 0/1 layer matrices."""
        return [csr.copy() for csr in self._layers]

    @property
    def depth(self):
        """int: the number of pathway layers."""
        return len(self._layers)

    @property
    def n_features(self):
        """int: the number of input features."""
        return self._layers[0].shape[0]

    @property
    def layer_sizes(self):
        """tuple of int: the number of nodes in each pathway layer."""
        return tuple(csr.shape[1] for csr in self._layers)

    @property
    def n_edges(self):
        """int: the total number of connections over all layers."""
        return int(sum(csr.nnz for csr in self._layers))

    def __repr__(self):
        return (
            f"PathwayMask(n_features={self.n_features}, "
            f"layer_sizes={self.layer_sizes}, n_edges={self.n_edges}"
            + (", skip_levels=True)" if self._skip_levels else ")")
        )

    def __eq__(self, other):
        if not isinstance(other, PathwayMask) or self.depth != other.depth:
            return NotImplemented if not isinstance(other, PathwayMask) else False
        if self.skip_levels != other.skip_levels:
            return False
        if not np.array_equal(self._feature_names, other._feature_names):
            return False
        for a, b, na, nb in zip(
            self._layers, other._layers, self._node_names, other._node_names
        ):
            if a.shape != b.shape or not np.array_equal(na, nb):
                return False
            if not (
                np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
            ):
                return False
        return True

    def __hash__(self):
        return hash(
            (
                self.skip_levels,
                tuple(self._feature_names),
                tuple(tuple(names) for names in self._node_names),
                tuple((csr.indptr.tobytes(), csr.indices.tobytes()) for csr in self._layers),
            )
        )

    def __setstate__(self, state):
        state.setdefault("_skip_levels", False)  # masks pickled before skip levels
        self.__dict__.update(state)
        for csr in self._layers:
            for arr in (csr.data, csr.indices, csr.indptr):
                arr.flags.writeable = False
        self._feature_names.flags.writeable = False
        for names in self._node_names:
            names.flags.writeable = False

    # node ID -> display name (load_reactome's pathway names), else None
    _display_names = None

    @property
    def display_names(self):
        """dict of str to str: each node's display name (its ID when it has none).

        Masks from :func:`~sklearn_binn.load_reactome` (and what
        ``restrict``, ``truncate`` and ``with_data_types`` make of them) know
        Reactome's pathway names; a pass-through copy of a pathway (P-NET's
        layering, see :meth:`from_gene_sets`) is shown as
        ``"<name> [copy]"``, never as a pathway of its own.

        Examples
        --------
        >>> from sklearn_binn import PathwayMask
        >>> mask = PathwayMask.from_gene_sets({"R-1": ["A"], "R-2": ["B"]})
        >>> mask.with_display_names({"R-1": "DNA repair"}).display_names
        {'R-1': 'DNA repair', 'R-2': 'R-2'}
        """
        known = self._display_names or {}
        labels = {}
        for names in self._node_names:
            for node in names.tolist():
                if node in known:
                    labels[node] = known[node]
                    continue
                base, copy, _ = node.rpartition("_copy")
                labels[node] = f"{known.get(base, base)} [copy]" if copy and base else node
        return labels

    def with_display_names(self, names):
        """A copy of the mask that knows its nodes' display names.

        Parameters
        ----------
        names : mapping of str to str
            Node ID → display name; IDs not in it are shown as themselves.

        Returns
        -------
        PathwayMask

        Examples
        --------
        >>> from sklearn_binn import PathwayMask
        >>> mask = PathwayMask.from_gene_sets({"R-1": ["A"]})
        >>> mask.with_display_names({"R-1": "DNA repair"}).annotate({"R-1": 0.5})
              name  value
        R-1  DNA repair    0.5
        """
        if not isinstance(names, Mapping):
            raise TypeError(
                f"names must be a mapping {{node ID: display name}}; got "
                f"{type(names).__name__}."
            )
        mask = PathwayMask(self)
        mask._display_names = {str(k): str(v) for k, v in names.items()}
        return mask

    def annotate(self, values):
        """Put each node's display name beside its ID in a table of node values.

        Parameters
        ----------
        values : pandas.Series, mapping or list of them
            Values indexed by node ID, e.g. from
            :func:`~sklearn_binn.node_importance` (a list, one per layer,
            is concatenated).

        Returns
        -------
        pandas.DataFrame
            Indexed by node ID, columns ``name`` then the values (named as
            the Series, else ``value``).

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn_binn import load_reactome
        >>> mask = load_reactome(n_levels=1)
        >>> mask.annotate(pd.Series({"R-HSA-73894": 0.7}, name="importance"))
                            name  importance
        R-HSA-73894  DNA Repair         0.7
        """
        if isinstance(values, list):
            values = pd.concat([pd.Series(v) for v in values])
        values = pd.Series(values)
        labels = self.display_names
        table = values.to_frame(values.name if values.name is not None else "value")
        table.insert(0, "name", [labels.get(str(node), str(node)) for node in table.index])
        return table

    # (data types, separator) of a mask made by with_data_types, else None;
    # a class default so that masks pickled before data types load
    _data_types = None

    @property
    def data_types(self):
        """tuple of str or None: the data types of a mask from :meth:`with_data_types`."""
        return None if self._data_types is None else self._data_types[0]

    @property
    def data_type_sep(self):
        """str or None: the separator of ``"{gene}{sep}{data type}"`` feature names."""
        return None if self._data_types is None else self._data_types[1]

    def with_data_types(self, data_types, sep="_"):
        """Several data types per gene: a sparse input layer in front of the genes.

        P-NET's input layer: every feature ``"{gene}{sep}{data type}"`` (for
        instance ``TP53_mut``, ``TP53_cna``, ``TP53_expr``) feeds its gene's
        node through one edge, and the gene nodes feed the pathways as the
        genes did. The new mask's layer 0 is this features → genes layer
        (its node names are the genes), followed by the original layers, so
        the estimators, the teacher, the scorer and the attribution readers
        work on it unchanged: ``pathway_importance(est, X, layer=0)`` gives
        per-gene importances, :func:`~sklearn_binn.data_type_importance`
        per gene and data type. A gene that feeds no pathway gets no gene
        node (its features get no edges).

        Estimators also accept a DataFrame whose columns are a two-level
        ``(gene, data type)`` MultiIndex: they join the levels with ``sep``.

        Parameters
        ----------
        data_types : sequence of str
            The data types, e.g. ``["mut", "cna", "expr"]``; features are
            ordered gene by gene, data types in this order within a gene.
        sep : str, default="_"
            Between the gene and the data type in a feature name.

        Returns
        -------
        PathwayMask
            With ``depth + 1`` layers and ``n_features * len(data_types)``
            features; ``data_types`` and ``data_type_sep`` record the layout.

        Raises
        ------
        ValueError
            If ``data_types`` is empty or has duplicates, ``sep`` is empty, or
            the mask already has data types.

        Examples
        --------
        >>> from sklearn_binn import PathwayMask
        >>> mask = PathwayMask.from_gene_sets({"P1": ["TP53", "MDM2"], "P2": ["MDM2"]})
        >>> multi = mask.with_data_types(["mut", "cna"])
        >>> multi.feature_names.tolist()
        ['MDM2_mut', 'MDM2_cna', 'TP53_mut', 'TP53_cna']
        >>> multi.layer_sizes, multi.node_names[0].tolist()
        ((2, 2), ['MDM2', 'TP53'])
        """
        if isinstance(data_types, str) or not isinstance(data_types, Iterable):
            raise TypeError(
                "data_types must be a list of data-type names such as ['mut', 'cna']; "
                f"got {data_types!r}."
            )
        data_types = [str(t) for t in data_types]
        if not data_types or len(set(data_types)) != len(data_types):
            raise ValueError(
                f"data_types must be a non-empty list of distinct names; got {data_types}."
            )
        if not isinstance(sep, str) or not sep:
            raise ValueError(f"sep must be a non-empty string; got {sep!r}.")
        if self._data_types is not None:
            raise ValueError(
                f"This mask already has data types {list(self.data_types)}; call "
                "with_data_types on the mask of genes."
            )
        genes = self._feature_names
        n_types = len(data_types)
        skip = getattr(self, "_skip_levels", False)
        # genes that feed nothing get no node (a node below the top must feed one)
        degree = self._out_degrees()[0] if skip else np.diff(self._layers[0].indptr)
        kept = np.flatnonzero(degree > 0)
        rows = (kept[:, None] * n_types + np.arange(n_types)).ravel()
        first = sp.csr_matrix(
            (np.ones(rows.size), (rows, np.repeat(np.arange(kept.size), n_types))),
            shape=(genes.size * n_types, kept.size),
        )
        features = [f"{gene}{sep}{t}" for gene in genes for t in data_types]
        node_names = [genes[kept], *self._node_names]
        if skip:
            # a layer's gene rows now come from the gene nodes; the features
            # feed only the gene layer
            layers = [first]
            for csr in self._layers:
                zeros = sp.csr_matrix((len(features), csr.shape[1]))
                layers.append(sp.vstack([zeros, csr[kept], csr[genes.size:]]).tocsr())
            mask = PathwayMask(layers, features, node_names, skip_levels=True)
        else:
            mask = PathwayMask([first, self._layers[0][kept], *self._layers[1:]],
                               features, node_names)
        mask._data_types = (tuple(data_types), sep)
        mask._display_names = self._display_names
        return mask

    # ------------------------------------------------------------- transforms
    def with_layers(self, layers):
        """A mask with new edges on this mask's nodes.

        Names, layout (chain or skip-level), display names and data types are
        kept; only which edges exist changes. This is what rewired
        (:func:`~sklearn_binn.randomize_mask`) and perturbed
        (:func:`~sklearn_binn.perturb_mask`) masks are made of.

        Parameters
        ----------
        layers : list of sparse matrices or arrays
            One 0/1 matrix per layer, each of the shape of the layer it
            replaces.

        Returns
        -------
        PathwayMask

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_binn import PathwayMask
        >>> mask = PathwayMask.from_gene_sets({"R-1": ["A"], "R-2": ["B"]})
        >>> named = mask.with_display_names({"R-1": "DNA repair"})
        >>> swapped = named.with_layers([np.array([[0, 1], [1, 0]])])
        >>> swapped.layers[0].toarray().astype(int).tolist(), swapped.display_names["R-1"]
        ([[0, 1], [1, 0]], 'DNA repair')
        """
        layers = list(layers)
        shapes = [tuple(layer.shape) for layer in layers]
        expected = [tuple(layer.shape) for layer in self._layers]
        if shapes != expected:
            raise ValueError(
                f"with_layers needs one matrix per layer of the shapes {expected}; got "
                f"{shapes}. Only the edges may change, not the nodes."
            )
        mask = PathwayMask(layers, self._feature_names, self._node_names,
                           skip_levels=self._skip_levels)
        mask._data_types = self._data_types
        mask._display_names = self._display_names
        return mask

    def truncate(self, depth):
        """Keep the first ``depth`` pathway layers (counted from the genes).

        Parameters
        ----------
        depth : int
            Number of pathway layers to keep, ``1 <= depth <= self.depth``.

        Returns
        -------
        PathwayMask

        Examples
        --------
        >>> from sklearn_binn.datasets import make_pathway_mask
        >>> make_pathway_mask(100, depth=3, random_state=0).truncate(2).depth
        2
        """
        if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)):
            raise TypeError(f"depth must be an int; got {type(depth).__name__}.")
        if not 1 <= depth <= self.depth:
            raise ValueError(
                f"depth must be between 1 and {self.depth} (the mask's depth); "
                f"got {depth}."
            )
        if depth == self.depth:
            return self
        if self._skip_levels:
            truncated = _prune_skip(
                self._layers[:depth], self._feature_names, self._node_names[:depth]
            )
        else:
            truncated = PathwayMask(
                self._layers[:depth], self._feature_names, self._node_names[:depth]
            )
        truncated._data_types = self._data_types
        truncated._display_names = self._display_names
        return truncated

    def restrict(self, feature_names, *, return_report=False):
        """Align the mask to a data set's features.

        The new mask's features are exactly ``feature_names``, in that order.
        Genes of the mask absent from ``feature_names`` are dropped, pathways
        left without members are dropped (layer by layer upwards), and
        features that no pathway contains get no edges.

        Parameters
        ----------
        feature_names : sequence of str
            The data set's columns.
        return_report : bool, default=False
            Also return a :class:`RestrictReport` of what was dropped.

        Returns
        -------
        mask : PathwayMask
        report : RestrictReport
            Only if ``return_report`` is True.

        Raises
        ------
        ValueError
            If ``feature_names`` has duplicates, or no pathway of some layer
            keeps any member.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_binn import PathwayMask
        >>> mask = PathwayMask.from_gene_sets({"P1": ["A", "B"], "P2": ["C"]})
        >>> new, report = mask.restrict(["B", "A", "Z"], return_report=True)
        >>> list(new.feature_names), report.dropped_nodes
        (['B', 'A', 'Z'], [['P2']])
        """
        feature_names = _feature_name_list(feature_names, "PathwayMask.restrict")
        feature_names = _check_names(feature_names, len(feature_names), "feature_names")
        position = {name: i for i, name in enumerate(self._feature_names)}
        rows = np.array([position.get(name, -1) for name in feature_names], dtype=np.int64)
        present = set(feature_names.tolist())
        missing = [name for name in self._feature_names if name not in present]

        # select the rows of layer 0 in the data's order; absent genes give zero rows
        selector = sp.csr_matrix(
            (np.ones(int((rows >= 0).sum())), (np.flatnonzero(rows >= 0), rows[rows >= 0])),
            shape=(len(feature_names), self.n_features),
        )
        current = (selector @ self._layers[0]).tocsr()
        new_layers, new_names, dropped, keeps = [], [], [], []
        for k in range(self.depth):
            if self._skip_levels and k > 0:
                # the genes' rows as layer 0's, each lower layer's rows kept as
                # its nodes are (a dropped node no longer feeds anything)
                blocks = [
                    selector @ self._layers[k][start:stop] if source < 0
                    else self._layers[k][start:stop][keeps[source]]
                    for source, start, stop in self.input_sources(k)
                ]
                current = sp.vstack(blocks).tocsr()
            keep = np.diff(current.tocsc().indptr) > 0
            keeps.append(keep)
            dropped.append(self._node_names[k][~keep].tolist())
            if not keep.any():
                raise ValueError(
                    f"After restricting to the given features, no node of pathway "
                    f"layer {k} keeps any member; the data share no genes with "
                    "the mask (check gene identifiers)."
                )
            new_layers.append(current[:, keep])
            new_names.append(self._node_names[k][keep])
            if k + 1 < self.depth and not self._skip_levels:
                current = self._layers[k + 1][keep, :]
        gene_degree = sum(
            np.diff(layer[: len(feature_names)].tocsr().indptr)
            for layer in (new_layers if self._skip_levels else new_layers[:1])
        )
        unused = [name for name, deg in zip(feature_names, gene_degree) if deg == 0]
        mask = PathwayMask(
            new_layers, feature_names, new_names, skip_levels=self._skip_levels
        )
        mask._data_types = self._data_types
        mask._display_names = self._display_names
        if return_report:
            return mask, RestrictReport(missing, unused, dropped)
        return mask

    def summary(self):
        """Sizes, edges and density per layer.

        Returns
        -------
        pandas.DataFrame
            One row per layer: inputs, nodes, edges, density, mean and max
            members per node, mean parents per input.

        Examples
        --------
        >>> from sklearn_binn import PathwayMask
        >>> summary = PathwayMask.from_gene_sets({"P1": ["A", "B"], "P2": ["B"]}).summary()
        >>> summary[["n_nodes", "n_edges", "density", "mean_in_degree"]]
               n_nodes  n_edges  density  mean_in_degree
        layer
        0            2        3     0.75             1.5
        """
        rows = []
        for k, csr in enumerate(self._layers):
            in_degree = np.diff(csr.tocsc().indptr)
            rows.append(
                {
                    "layer": k,
                    # a skip-level layer's inputs: the genes and all lower nodes
                    "n_inputs": csr.shape[0],
                    "n_nodes": csr.shape[1],
                    "n_edges": csr.nnz,
                    "density": csr.nnz / (csr.shape[0] * csr.shape[1]),
                    "mean_in_degree": float(in_degree.mean()),
                    "max_in_degree": int(in_degree.max()),
                    "mean_out_degree": csr.nnz / csr.shape[0],
                }
            )
        return pd.DataFrame(rows).set_index("layer")

    def to_edges(self):
        """The mask as an edge table.

        Returns
        -------
        pandas.DataFrame
            Columns ``source``, ``target``, ``layer`` (0 = gene → pathway),
            ordered by layer and target node;
            ``from_edges(mask.to_edges(), feature_names=mask.feature_names,
            skip_levels=mask.skip_levels)`` rebuilds the same mask. In a
            skip-level mask a source may be a gene or a node of any lower
            layer.
        """
        edges = self._edge_frame().sort_values(["layer", "_column", "_row"], kind="stable")
        return edges[["source", "target", "layer"]].reset_index(drop=True)

    def _edge_frame(self):
        """Every edge: ``source``, ``target``, ``layer``, and its ``position`` in
        the layer's CSR order (the order of a sparse layer's edge weights),
        with the row and column indices ``_row``, ``_column``."""
        frames = []
        for k, csr in enumerate(self._layers):
            inputs = self.input_names(k)
            coo = csr.tocoo()  # row-major, as the CSR arrays
            frames.append(
                pd.DataFrame(
                    {
                        "source": inputs[coo.row],
                        "target": self._node_names[k][coo.col],
                        "layer": k,
                        "position": np.arange(csr.nnz),
                        "_row": coo.row,
                        "_column": coo.col,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    # ----------------------------------------------------------- constructors
    @classmethod
    def from_edges(cls, edges, *, feature_names=None, strict=False, skip_levels=None):
        """Build a mask from an edge table.

        Parameters
        ----------
        edges : pandas.DataFrame or iterable of (source, target, layer)
            A DataFrame needs columns ``source``, ``target`` and ``layer``.
            Layers are consecutive integers; the smallest is the gene →
            pathway layer. Sources of a higher layer must be targets of the
            layer below (a chain) or, in a skip-level mask, genes or targets
            of any lower layer. Nodes are ordered by first appearance.
        feature_names : sequence of str, default=None
            The input order; default the order in which genes first appear
            (in a skip-level mask, as sources of any layer).
        strict : bool, default=False
            See :class:`PathwayMask`.
        skip_levels : bool, default=None
            Build a skip-level mask (see :class:`PathwayMask`). ``None``: a
            skip-level mask when some edge of a higher layer reads a gene (a
            source of the first layer or one of ``feature_names``) or a node
            below the layer just below it, else a chain.

        Returns
        -------
        PathwayMask

        Examples
        --------
        >>> from sklearn_binn import PathwayMask
        >>> PathwayMask.from_edges([("A", "P1", 0), ("B", "P1", 0), ("P1", "TOP", 1)])
        PathwayMask(n_features=2, layer_sizes=(1, 1), n_edges=3)
        >>> PathwayMask.from_edges([("A", "P1", 0), ("B", "P1", 0), ("A", "TOP", 1),
        ...                         ("P1", "TOP", 1)])
        PathwayMask(n_features=2, layer_sizes=(1, 1), n_edges=4, skip_levels=True)
        """
        if isinstance(edges, pd.DataFrame):
            missing = {"source", "target", "layer"} - set(edges.columns)
            if missing:
                raise ValueError(
                    f"The edge table lacks column(s) {sorted(missing)}; it needs "
                    "'source', 'target' and 'layer'."
                )
            table = edges[["source", "target", "layer"]]
        else:
            try:
                table = pd.DataFrame(list(edges), columns=["source", "target", "layer"])
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    "edges must be a DataFrame or an iterable of "
                    "(source, target, layer) triples."
                ) from exc
        if table.empty:
            raise ValueError("The edge table is empty; a mask needs at least one edge.")
        try:
            layer_ids = np.sort(table["layer"].astype(int).unique())
        except (TypeError, ValueError) as exc:
            raise ValueError("The 'layer' column must hold integers.") from exc
        if not np.array_equal(layer_ids, np.arange(layer_ids[0], layer_ids[0] + len(layer_ids))):
            raise ValueError(
                f"Edge layers must be consecutive integers; got {layer_ids.tolist()}."
            )
        table = table.assign(
            source=table["source"].astype(str), target=table["target"].astype(str)
        )
        if table.duplicated().any():
            dup = table[table.duplicated()].iloc[0].tolist()
            raise ValueError(f"Duplicate edge in the edge table: {dup}.")
        first = table[table["layer"].astype(int) == layer_ids[0]]
        if skip_levels is None:
            skip_levels = _edges_skip_levels(table, layer_ids, feature_names)
        if skip_levels:
            return cls._from_skip_edges(table, layer_ids, feature_names, strict)
        inputs = (
            pd.unique(first["source"]) if feature_names is None else np.asarray(feature_names)
        )
        layers, node_names = [], []
        for layer_id in layer_ids:
            part = table[table["layer"].astype(int) == layer_id]
            targets = pd.unique(part["target"])
            in_pos = {name: i for i, name in enumerate(inputs)}
            unknown = sorted(set(part["source"]) - set(in_pos))
            if unknown:
                where = "features" if layer_id == layer_ids[0] else f"nodes of layer {layer_id - 1}"
                raise ValueError(
                    f"Sources of edge layer {layer_id} are not {where}: {unknown[:5]}."
                )
            out_pos = {name: j for j, name in enumerate(targets)}
            rows = part["source"].map(in_pos).to_numpy()
            cols = part["target"].map(out_pos).to_numpy()
            layers.append(
                sp.csr_matrix(
                    (np.ones(len(rows)), (rows, cols)), shape=(len(inputs), len(targets))
                )
            )
            node_names.append(targets)
            inputs = targets
        first_inputs = (
            pd.unique(first["source"]) if feature_names is None else feature_names
        )
        return cls(layers, first_inputs, node_names, strict=strict)

    @classmethod
    def _from_skip_edges(cls, table, layer_ids, feature_names, strict):
        layer_of_edge = table["layer"].astype(int).to_numpy()
        node_names = [
            pd.unique(table["target"][layer_of_edge == layer_id]) for layer_id in layer_ids
        ]
        all_nodes = np.concatenate(node_names)
        if feature_names is None:
            sources = pd.unique(table["source"])
            feature_names = sources[~np.isin(sources, all_nodes)]
        feature_names = np.asarray([str(name) for name in feature_names], dtype=object)
        position = {name: i for i, name in enumerate(feature_names)}
        offset = len(feature_names)
        layers = []
        for k, layer_id in enumerate(layer_ids):
            part = table[layer_of_edge == layer_id]
            out_pos = {name: j for j, name in enumerate(node_names[k])}
            unknown = sorted(set(part["source"]) - set(position))
            if unknown:
                raise ValueError(
                    f"Sources of edge layer {layer_id} are neither features nor "
                    f"nodes of a lower layer: {unknown[:5]}."
                )
            rows = part["source"].map(position).to_numpy()
            cols = part["target"].map(out_pos).to_numpy()
            layers.append(
                sp.csr_matrix(
                    (np.ones(len(rows)), (rows, cols)), shape=(offset, len(node_names[k]))
                )
            )
            for name in node_names[k]:
                if name in position:
                    raise ValueError(
                        f"{name!r} is a feature or a node of a lower layer and a "
                        f"target of edge layer {layer_id}; names of a skip-level "
                        "mask must be unique."
                    )
                position[name] = offset
                offset += 1
        return cls(layers, feature_names, node_names, strict=strict, skip_levels=True)

    @classmethod
    def from_gene_sets(cls, gene_sets, hierarchy=None, *, feature_names=None,
                       n_levels=None, strict=False, copies=False):
        """Build a mask from gene sets and, optionally, a pathway hierarchy.

        Without ``hierarchy`` the mask has one layer: gene → pathway. With a
        hierarchy the mask is by default a skip-level mask (see
        :class:`PathwayMask`) with exactly one node per pathway: a pathway
        sits in the layer after its deepest child (a pathway with only genes
        in layer 0), the roots of the hierarchy in the top layer, and each
        pathway reads its genes and its child pathways directly, whatever
        their layers.

        With ``copies=True`` the mask is P-NET's chain instead: pathways are
        placed by their distance from the roots (the longest path from a
        root, so every edge climbs at least one layer; the deepest level is
        the first pathway layer), and a connection that skips levels is
        carried through pass-through nodes named ``"{pathway}_copy{layer}"``
        so that every layer only connects adjacent levels; genes annotated to
        a pathway above the first layer reach it through such copies. Each
        copy is a trainable node with its own activation, so the two
        constructions are different models.

        Parameters
        ----------
        gene_sets : mapping of str to iterable of str
            ``{pathway: [genes]}``; genes are annotated to these pathways.
        hierarchy : iterable of (child, parent), default=None
            Pathway-to-parent relations forming a directed acyclic graph.
        feature_names : sequence of str, default=None
            Input order; default the sorted union of all genes.
        n_levels : int, default=None
            Keep only the top ``n_levels`` levels of the hierarchy (counted
            from the roots); genes of deeper pathways are given to their
            ancestors at the cut, as P-NET does.
        strict : bool, default=False
            If True, a gene of ``feature_names`` in no pathway is an error.
        copies : bool, default=False
            Build P-NET's chain with pass-through copies instead of a
            skip-level mask (only matters with a hierarchy).

        Returns
        -------
        PathwayMask

        Raises
        ------
        ValueError
            If a gene set is empty (without a hierarchy), or the hierarchy
            has a cycle.

        Examples
        --------
        >>> from sklearn_binn import PathwayMask
        >>> mask = PathwayMask.from_gene_sets(
        ...     {"DNA repair": ["BRCA1", "BRCA2"], "Cell cycle": ["CDK1", "BRCA1"]},
        ...     hierarchy=[("DNA repair", "Disease"), ("Cell cycle", "Disease")])
        >>> mask.layer_sizes
        (2, 1)

        A gene annotated to the parent itself: read directly, or through a copy.

        >>> sets = {"DNA repair": ["BRCA1"], "Disease": ["TP53"]}
        >>> PathwayMask.from_gene_sets(sets, [("DNA repair", "Disease")]).node_names
        [array(['DNA repair'], dtype=object), array(['Disease'], dtype=object)]
        >>> PathwayMask.from_gene_sets(sets, [("DNA repair", "Disease")],
        ...                            copies=True).node_names[0].tolist()
        ['DNA repair', 'Disease_copy1']
        """
        if not isinstance(copies, (bool, np.bool_)):
            raise TypeError(f"copies must be True or False; got {copies!r}.")
        if not isinstance(gene_sets, Mapping):
            raise TypeError(
                f"gene_sets must be a mapping {{pathway: [genes]}}; got "
                f"{type(gene_sets).__name__}."
            )
        if len(gene_sets) == 0:
            raise ValueError("gene_sets is empty; a mask needs at least one pathway.")
        sets = {}
        for name, genes in gene_sets.items():
            if isinstance(genes, str) or not isinstance(genes, Iterable):
                raise TypeError(
                    f"Gene set {name!r} must be a list of gene names; got "
                    f"{type(genes).__name__}."
                )
            sets[str(name)] = list(dict.fromkeys(str(g) for g in genes))
        if hierarchy is None:
            empty = [name for name, genes in sets.items() if not genes]
            if empty:
                raise ValueError(f"Gene set(s) {empty[:5]} have no genes.")
            mask = cls._from_layered(_gene_order(sets), [list(sets)], {}, sets, False)
        else:
            graph = _hierarchy_graph(sets, hierarchy)
            if n_levels is not None:
                sets, graph = _cut_levels(sets, graph, n_levels)
            mask = cls._from_dag(sets, graph) if copies else cls._from_dag_skip(sets, graph)
        if feature_names is not None:
            mask = mask.restrict(feature_names)
        if strict:
            mask = cls(mask, strict=True)
        return mask

    @classmethod
    def _from_dag_skip(cls, sets, graph):
        """One node per pathway, each in the layer after its deepest child."""
        graph = _with_genes(sets, graph)
        layer_of = {}
        for name in reversed(list(nx.topological_sort(graph))):  # children first
            children = list(graph.successors(name))
            layer_of[name] = 1 + max((layer_of[c] for c in children), default=-1)
        n_layers = 1 + max(layer_of.values())
        for name in graph.nodes:
            if graph.in_degree(name) == 0:  # a root: the output reads the top layer
                layer_of[name] = n_layers - 1
        genes = _gene_order(sets)
        node_names = [
            sorted(n for n, lay in layer_of.items() if lay == k) for k in range(n_layers)
        ]
        position = {name: i for i, name in enumerate(genes)}
        offset = len(genes)
        layers = []
        for k, names in enumerate(node_names):
            rows, cols = [], []
            for j, name in enumerate(names):
                sources = list(dict.fromkeys(sets.get(name, ())))
                sources += sorted(graph.successors(name))
                rows += [position[source] for source in sources]
                cols += [j] * len(sources)
            layers.append(
                sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(offset, len(names)))
            )
            for name in names:
                position[name] = offset
                offset += 1
        return cls(layers, genes, node_names, skip_levels=True)

    @classmethod
    def _from_dag(cls, sets, graph):
        graph = _with_genes(sets, graph)
        generations = [sorted(g) for g in nx.topological_generations(graph)]
        n_layers = len(generations)
        layer_of = {
            name: n_layers - level for level, gen in enumerate(generations) for name in gen
        }
        return cls._from_layered(
            _gene_order(sets),
            [sorted(n for n, lay in layer_of.items() if lay == k + 1) for k in range(n_layers)],
            layer_of,
            sets,
            False,
            graph=graph,
        )

    @classmethod
    def _from_layered(cls, genes, real_nodes, layer_of, sets, strict, graph=None):
        """Assemble layers, inserting pass-through copies for skipped levels."""
        n_layers = len(real_nodes)
        if not layer_of:
            layer_of = {name: 1 for name in real_nodes[0]}

        def node(name, k):  # key of `name` as it appears in layer k (1-based)
            return name if layer_of[name] == k else f"{name}_copy{k}"

        edges = [set() for _ in range(n_layers)]  # per layer: (source, target)
        for name in layer_of:
            for gene in sets.get(name, ()):
                edges[0].add((gene, node(name, 1)))
            for k in range(1, layer_of[name]):  # genes carried up to `name`
                if sets.get(name):
                    edges[k].add((node(name, k), node(name, k + 1)))
        if graph is not None:
            for parent, child in graph.edges:
                for k in range(layer_of[child], layer_of[parent] - 1):
                    edges[k].add((node(child, k), node(child, k + 1)))
                top = layer_of[parent] - 1
                edges[top].add((node(child, top), parent))
        table = pd.DataFrame(
            [(s, t, k) for k, layer in enumerate(edges) for s, t in sorted(layer)],
            columns=["source", "target", "layer"],
        )
        # real pathways in the given order, then pass-through copies by name
        rank = {}
        for k, names in enumerate(real_nodes):
            present = set(table.loc[table["layer"] == k, "target"])
            ordered = [n for n in names if n in present] + sorted(present - set(names))
            rank.update({(k, name): r for r, name in enumerate(ordered)})
        table["rank"] = [rank[(k, t)] for k, t in zip(table["layer"], table["target"])]
        table = table.sort_values(["layer", "rank"], kind="stable")
        return cls.from_edges(
            table[["source", "target", "layer"]], feature_names=genes, strict=strict
        )

    @classmethod
    def from_gmt(cls, path, hierarchy=None, **kwargs):
        """Build a mask from a GMT gene-set file.

        Each line of a GMT file is ``name<TAB>description<TAB>gene1<TAB>gene2...``.

        Parameters
        ----------
        path : str, path-like or file-like
            The GMT file.
        hierarchy : iterable of (child, parent), default=None
            Optional relations between the gene sets, see :meth:`from_gene_sets`.
        **kwargs
            Passed to :meth:`from_gene_sets`.

        Returns
        -------
        PathwayMask

        Raises
        ------
        ValueError
            If a line has fewer than three fields, no genes, or a duplicated
            gene-set name.

        Examples
        --------
        >>> import io
        >>> from sklearn_binn import PathwayMask
        >>> gmt = io.StringIO("P1\\tdesc\\tTP53\\tMDM2\\nP2\\tdesc\\tMDM2\\n")
        >>> PathwayMask.from_gmt(gmt).n_edges
        3
        """
        text = _read_text(path)
        gene_sets = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            fields = [f.strip() for f in line.rstrip("\n").split("\t")]
            if len(fields) < 3 or not any(fields[2:]):
                raise ValueError(
                    f"Malformed GMT line {number}: expected "
                    "'name<TAB>description<TAB>gene...' with at least one gene; "
                    f"got {line[:80]!r}."
                )
            if fields[0] in gene_sets:
                raise ValueError(f"GMT line {number}: gene set {fields[0]!r} appears twice.")
            gene_sets[fields[0]] = [g for g in fields[2:] if g]
        if not gene_sets:
            raise ValueError("The GMT file holds no gene sets.")
        return cls.from_gene_sets(gene_sets, hierarchy, **kwargs)

    @classmethod
    def from_reactome(cls, relations, gene_map, *, species="R-HSA", n_levels=None,
                      feature_names=None, strict=False, copies=False):
        """Build a mask from Reactome's relation and gene-mapping files.

        Parameters
        ----------
        relations : str, path-like, file-like or DataFrame
            Reactome's ``ReactomePathwaysRelation.txt``: two tab-separated
            columns, parent pathway then child pathway.
        gene_map : str, path-like, file-like or DataFrame
            A gene-to-lowest-pathway file in Reactome's mapping layout
            (``UniProt2Reactome.txt`` and the like): the gene identifier in the
            first column, the pathway identifier in the second; further columns
            are ignored.
        species : str or None, default="R-HSA"
            Keep only pathways whose identifier starts with this prefix (the
            files cover every species). ``None`` keeps all.
        n_levels : int, default=None
            Keep only the top levels of the hierarchy, see
            :meth:`from_gene_sets`.
        feature_names : sequence of str, default=None
            Input order; default the sorted genes.
        strict : bool, default=False
            See :class:`PathwayMask`.
        copies : bool, default=False
            P-NET's chain with pass-through copies instead of a skip-level
            mask, see :meth:`from_gene_sets`.

        Returns
        -------
        PathwayMask

        Examples
        --------
        >>> import io
        >>> from sklearn_binn import PathwayMask
        >>> rel = io.StringIO("R-HSA-1\\tR-HSA-2\\nR-HSA-1\\tR-HSA-3\\n")
        >>> genes = io.StringIO("TP53\\tR-HSA-2\\nMDM2\\tR-HSA-3\\nATM\\tR-MMU-9\\n")
        >>> PathwayMask.from_reactome(rel, genes).layer_sizes
        (2, 1)
        """
        rel = _read_table(relations, 2, "relations")
        mapping = _read_table(gene_map, 2, "gene_map")
        if species is not None:
            rel = rel[rel[0].str.startswith(species) & rel[1].str.startswith(species)]
            mapping = mapping[mapping[1].str.startswith(species)]
        if mapping.empty:
            raise ValueError(
                f"The gene map has no rows for species prefix {species!r}; check "
                "the file and the `species` argument."
            )
        gene_sets = {}
        for gene, pathway in zip(mapping[0], mapping[1]):
            gene_sets.setdefault(pathway, []).append(gene)
        hierarchy = list(zip(rel[1], rel[0]))
        return cls.from_gene_sets(
            gene_sets, hierarchy, feature_names=feature_names, n_levels=n_levels,
            strict=strict, copies=copies,
        )


def _feature_name_list(feature_names, caller):
    """``feature_names`` as a list of str, or a TypeError saying how to keep names.

    A callable mask receives the number of features instead of their names
    when the data reach the estimator without column names (a numpy array,
    for instance from a ``StandardScaler`` in a Pipeline).
    """
    if isinstance(feature_names, (Integral, np.integer)) or feature_names is None:
        raise TypeError(
            f"{caller} needs the data's feature names, but got {feature_names!r}: the "
            "data reached the BINN without column names (a numpy array, e.g. from a "
            "StandardScaler in a Pipeline). Pass a DataFrame with gene names as "
            "columns and keep them through the pipeline with "
            "pipeline.set_output(transform='pandas')."
        )
    if isinstance(feature_names, str) or not isinstance(feature_names, Iterable):
        raise TypeError(
            f"{caller} needs a sequence of feature names; got "
            f"{type(feature_names).__name__}."
        )
    return [str(name) for name in feature_names]


def _gene_order(sets):
    return sorted({gene for genes in sets.values() for gene in genes})


def _with_genes(sets, graph):
    """The hierarchy cut to the pathways whose subtree holds genes."""
    has_genes = {name for name, genes in sets.items() if genes}
    keep = set(has_genes)
    for name in has_genes:
        keep |= nx.ancestors(graph, name)
    graph = graph.subgraph(keep).copy()
    if graph.number_of_nodes() == 0:
        raise ValueError("No pathway of the hierarchy has any genes.")
    return graph


def _edges_skip_levels(table, layer_ids, feature_names=None):
    """Whether some edge of the table reads a gene or a node below the layer
    just below its own (a source known nowhere is left to the chain's error)."""
    layer = table["layer"].astype(int).to_numpy()
    lower = set(table["source"][layer == layer_ids[0]])
    if feature_names is not None:
        lower |= {str(name) for name in feature_names}
    for layer_id in layer_ids[1:]:
        below = set(table["target"][layer == layer_id - 1])
        sources = set(table["source"][layer == layer_id])
        if (sources - below) & lower:
            return True
        lower |= below
    return False


def _prune_skip(layers, feature_names, node_names):
    """A skip-level mask without the nodes that no longer reach the top layer."""
    layers, node_names = list(layers), list(node_names)
    sizes = [len(feature_names), *(len(names) for names in node_names)]
    for k in range(len(layers) - 2, -1, -1):
        start = sum(sizes[: k + 1])
        fed = sum(
            np.diff(layers[j][start:start + sizes[k + 1]].tocsr().indptr) > 0
            for j in range(k + 1, len(layers))
        ) > 0
        if fed.all():
            continue
        rows = np.concatenate([np.arange(start), start + np.flatnonzero(fed)])
        for j in range(k + 1, len(layers)):
            keep_rows = np.concatenate([rows, np.arange(start + sizes[k + 1], layers[j].shape[0])])
            layers[j] = layers[j].tocsr()[keep_rows]
        layers[k] = layers[k].tocsc()[:, fed].tocsr()
        node_names[k] = np.asarray(node_names[k])[fed]
        sizes[k + 1] = int(fed.sum())
    return PathwayMask(layers, feature_names, node_names, skip_levels=True)


def _hierarchy_graph(sets, hierarchy):
    graph = nx.DiGraph()
    graph.add_nodes_from(sets)
    for pair in hierarchy:
        try:
            child, parent = pair
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"hierarchy must hold (child, parent) pairs; got {pair!r}."
            ) from exc
        if str(child) == str(parent):
            raise ValueError(f"hierarchy has a self-loop on pathway {child!r}.")
        graph.add_edge(str(parent), str(child))
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return graph
    path = " -> ".join([cycle[0][0]] + [edge[1] for edge in cycle])
    raise ValueError(f"The pathway hierarchy has a cycle: {path}.")


def _cut_levels(sets, graph, n_levels):
    if isinstance(n_levels, bool) or not isinstance(n_levels, (int, np.integer)) or n_levels < 1:
        raise ValueError(f"n_levels must be a positive int; got {n_levels!r}.")
    level = {
        name: k for k, gen in enumerate(nx.topological_generations(graph)) for name in gen
    }
    sets = {name: list(genes) for name, genes in sets.items()}
    kept = {name for name, lev in level.items() if lev < n_levels}
    for name in graph.nodes:
        if name in kept:
            continue
        subtree_genes = list(sets.get(name, ()))
        for desc in nx.descendants(graph, name):
            subtree_genes += sets.get(desc, [])
        for parent in graph.predecessors(name):
            if parent in kept:
                sets.setdefault(parent, []).extend(subtree_genes)
    sets = {name: list(dict.fromkeys(g)) for name, g in sets.items() if name in kept}
    return sets, graph.subgraph(kept).copy()


def _read_text(source):
    if hasattr(source, "read"):
        text = source.read()
        return text.decode() if isinstance(text, bytes) else text
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"Expected a path or a file object; got {type(source).__name__}.")
    opener = open
    if str(source).endswith(".gz"):
        import gzip

        opener = gzip.open
    with opener(source, "rt") as handle:
        return handle.read()


def _read_table(source, n_columns, what):
    if isinstance(source, pd.DataFrame):
        table = source.copy()
        table.columns = range(table.shape[1])
    else:
        text = _read_text(source)
        rows = [line.split("\t") for line in text.splitlines() if line.strip()]
        bad = [i + 1 for i, row in enumerate(rows) if len(row) < n_columns]
        if bad:
            raise ValueError(
                f"Malformed {what} file: line {bad[0]} has fewer than {n_columns} "
                "tab-separated columns."
            )
        table = pd.DataFrame([row[:n_columns] for row in rows])
    if table.shape[1] < n_columns or table.empty:
        raise ValueError(f"The {what} table needs at least {n_columns} columns and one row.")
    return table.iloc[:, :n_columns].astype(str).apply(lambda col: col.str.strip())


def resolve_mask(mask, feature_names=None, n_features=None):
    """Turn whatever an estimator's ``mask`` parameter holds into a PathwayMask.

    Parameters
    ----------
    mask : PathwayMask, callable, list of matrices, mapping or DataFrame
        A callable receives the data's feature names (or, without names, the
        number of features) and returns a mask or anything accepted here. A
        mapping is read as gene sets, a DataFrame as an edge table, a list as
        layer matrices.
    feature_names : sequence of str, default=None
    n_features : int, default=None

    Returns
    -------
    PathwayMask
    """
    if isinstance(mask, PathwayMask):
        return mask
    if callable(mask) and not isinstance(mask, type):
        produced = mask(list(feature_names) if feature_names is not None else n_features)
        if isinstance(produced, Callable) and not isinstance(produced, PathwayMask):
            raise TypeError("A mask callable must return a mask, not another callable.")
        return resolve_mask(produced)
    if isinstance(mask, Mapping):
        return PathwayMask.from_gene_sets(mask)
    if isinstance(mask, pd.DataFrame):
        return PathwayMask.from_edges(mask)
    if mask is None:
        raise TypeError(
            "mask is None: pass a PathwayMask, layer matrices, gene sets, an edge "
            "table, or a callable that builds a mask from the feature names."
        )
    return PathwayMask(mask)
