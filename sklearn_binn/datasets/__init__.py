"""Pathway hierarchies: the bundled human Reactome and synthetic masks."""

from ._reactome import load_reactome
from ._synthetic import make_overlapping_gene_sets, make_pathway_mask

__all__ = ["load_reactome", "make_overlapping_gene_sets", "make_pathway_mask"]
