"""Sphinx configuration for sklearn_binn (builds offline)."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import sklearn_binn  # noqa: E402

project = "sklearn_binn"
author = "sklearn_binn developers"
release = sklearn_binn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
}

html_theme = "pydata_sphinx_theme"
html_title = "sklearn_binn"
html_static_path = []
templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
nitpicky = False
