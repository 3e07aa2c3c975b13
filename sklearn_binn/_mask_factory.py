"""A picklable recipe that builds the Reactome mask from the training data's genes."""

from __future__ import annotations

import re

from sklearn.base import BaseEstimator

from .datasets import load_reactome

__all__ = ["ReactomeMask"]

# names scikit-learn gives the columns of data that lost their names
_GENERATED = re.compile(r"^x\d+$")


class ReactomeMask(BaseEstimator):
    """Build the bundled Reactome mask from the genes of the training data.

    Pass an instance as an estimator's ``mask``: at ``fit`` the estimator
    calls it with the names of ``X``'s columns, and it returns
    ``load_reactome(...)`` restricted to them (with ``data_types``, behind a
    per-gene input layer, see :meth:`PathwayMask.with_data_types`). Unlike
    a ``lambda``, it pickles, clones, prints its settings and can be
    searched over in ``GridSearchCV`` (``{"mask": [ReactomeMask(n_levels=2),
    ReactomeMask(n_levels=3)]}``).

    It needs column names. A Pipeline step such as ``StandardScaler``
    hands on a nameless numpy array unless told otherwise: call
    ``pipeline.set_output(transform="pandas")`` to keep the names (without
    names it raises a TypeError that says so). Column labels that are
    ``numpy.str_`` are accepted by the BINN estimators, but scikit-learn's
    transformers do not recognise them as names and rename the columns
    ``x0, x1, ...``; convert them first with ``X.columns = [str(c) for c
    in X.columns]`` (pandas' ``X.columns.astype(str)`` keeps ``numpy.str_``
    values).

    Parameters
    ----------
    n_levels : int, default=None
        Keep only the top ``n_levels`` levels of the hierarchy, see
        :func:`~sklearn_binn.datasets.load_reactome`; ``None`` keeps all.
    gene_ids : {"symbol", "uniprot"}, default="symbol"
        How the columns name genes, see
        :func:`~sklearn_binn.datasets.load_reactome`.
    data_types : list of str, default=None
        Several data types per gene: columns ``"{gene}{sep}{data type}"``
        (``TP53_mut``, ``TP53_cna``, ...) feed their gene's node, see
        :meth:`PathwayMask.with_data_types`. ``None``: columns are genes.
    sep : str, default="_"
        Separator between gene and data type in column names; a DataFrame
        with ``(gene, data type)`` MultiIndex columns is joined with it.

    See Also
    --------
    sklearn_binn.datasets.load_reactome : the bundled hierarchy.
    PathwayMask.restrict : align a mask to a data set's features.

    Examples
    --------
    >>> import pickle
    >>> from sklearn_binn import ReactomeMask
    >>> factory = ReactomeMask(n_levels=3)
    >>> factory
    ReactomeMask(n_levels=3)
    >>> mask = factory(["TP53", "BRCA1", "MDM2", "NOT_A_GENE"])
    >>> mask.feature_names.tolist(), mask.depth
    (['TP53', 'BRCA1', 'MDM2', 'NOT_A_GENE'], 3)
    >>> pickle.loads(pickle.dumps(factory)).n_levels
    3
    >>> ReactomeMask(n_levels=2, data_types=["mut", "cna"])(
    ...     ["TP53_mut", "TP53_cna", "MDM2_cna"]).feature_names.tolist()
    ['TP53_mut', 'TP53_cna', 'MDM2_cna']
    """

    def __init__(self, n_levels=None, *, gene_ids="symbol", data_types=None, sep="_"):
        self.n_levels = n_levels
        self.gene_ids = gene_ids
        self.data_types = data_types
        self.sep = sep

    @property
    def data_type_sep(self):
        """str or None: ``sep`` when there are data types (how estimators join a MultiIndex)."""
        return None if self.data_types is None else self.sep

    def __call__(self, feature_names):
        """The Reactome mask aligned to ``feature_names`` (the data's columns).

        Parameters
        ----------
        feature_names : sequence of str
            The training data's column names.

        Returns
        -------
        PathwayMask

        Raises
        ------
        TypeError
            If given a number of features instead of names (the data lost
            their column names on the way).
        ValueError
            If no column names a Reactome gene, or (with ``data_types``) a
            column is not ``"{gene}{sep}{data type}"``.
        """
        if isinstance(feature_names, int) or not hasattr(feature_names, "__iter__"):
            raise TypeError(
                f"ReactomeMask needs the training data's gene names, but got "
                f"{feature_names!r} instead: the data reached the BINN without "
                "column names (a numpy array, e.g. from a StandardScaler in a "
                "Pipeline). Pass a DataFrame whose columns are gene names and keep "
                "them through the pipeline with pipeline.set_output(transform='pandas')."
            )
        names = [str(name) for name in feature_names]
        reactome = load_reactome(n_levels=self.n_levels, gene_ids=self.gene_ids)
        genes = names if self.data_types is None else self._genes_of(names)
        known = set(reactome.feature_names.tolist())
        if not any(gene in known for gene in genes):
            raise ValueError(self._no_gene_message(genes))
        if self.data_types is None:
            return reactome.restrict(names)
        unique = list(dict.fromkeys(genes))
        return (
            reactome.restrict(unique)
            .with_data_types(self.data_types, sep=self.sep)
            .restrict(names)
        )

    def _genes_of(self, names):
        kinds = [str(kind) for kind in self.data_types]
        genes = []
        for name in names:
            gene, sep, kind = name.rpartition(self.sep)
            if not sep or not gene or kind not in kinds:
                raise ValueError(
                    f"Column {name!r} is not '{{gene}}{self.sep}{{data type}}' with a "
                    f"data type in {kinds} (ReactomeMask with data_types); rename the "
                    "columns, or fit the covariates with the estimator's covariates "
                    "parameter."
                )
            genes.append(gene)
        return genes

    def _no_gene_message(self, genes):
        example = genes[:5]
        if genes and all(_GENERATED.match(gene) for gene in genes):
            return (
                f"ReactomeMask got the column names {example}, which scikit-learn "
                "invents when a step loses the real ones: keep names with "
                "set_output(transform='pandas'), and give the data plain str column "
                "labels (X.columns = [str(c) for c in X.columns]; scikit-learn "
                "ignores numpy.str_ labels)."
            )
        return (
            f"None of the {len(genes)} columns is a gene of the bundled Reactome "
            f"(gene_ids={self.gene_ids!r}), e.g. {example}; "
            + ("use HGNC symbols such as 'TP53', or gene_ids='uniprot' for UniProt "
               "accessions." if self.gene_ids == "symbol" else
               "use UniProt accessions such as 'P04637', or gene_ids='symbol'.")
        )
