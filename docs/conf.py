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

# curly quotes and ellipses, but no dashes: "--out" in a table cell stays "--out"
smartquotes_action = "qe"
html_theme = "pydata_sphinx_theme"
html_title = "sklearn_binn"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
# Pages without sub-pages need no left-hand section navigation: the article gets the width.
html_sidebars = {page: [] for page in ("index", "getting_started", "architecture")}
templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
nitpicky = False


# ---------------------------------------------------------------- estimator signatures
# The estimators are skorch nets: their ``__init__`` lists skorch's whole
# signature (``iterator_train=<class 'torch.utils.data.dataloader.DataLoader'>``,
# ...). The API pages show the package's parameters first, then the training
# parameters whose defaults the package sets, then ``**skorch_params``; the
# other skorch parameters are documented under "Inherited from skorch". Only
# the rendered page changes: ``__init__`` (and so ``get_params``) is untouched.
_PACKAGE_DEFAULTS = ("optimizer", "lr", "max_epochs", "batch_size", "train_split", "callbacks")
_SKORCH_NOTE = ("Inherited from skorch's :class:`~skorch.net.NeuralNet`, passed through "
                "unchanged (any skorch parameter, including prefixed ones such as "
                "``optimizer__weight_decay``, is accepted as a keyword argument)")


def _skorch_parameters():
    import inspect

    from skorch import NeuralNet

    return set(inspect.signature(NeuralNet.__init__).parameters) - {"self"}


class _Shown:
    """A default value printed as given (``torch.optim.Adam``, not ``<class ...>``)."""

    def __init__(self, value):
        module = getattr(value, "__module__", "")
        name = getattr(value, "__qualname__", None)
        if isinstance(value, type) and name:
            public = {"torch.optim.adam": "torch.optim"}.get(module, module)
            self.text = f"{public}.{name}"
        else:
            self.text = repr(value)

    def __repr__(self):
        return self.text


def _is_skorch_net(obj):
    try:
        from skorch import NeuralNet
    except ImportError:  # pragma: no cover - skorch is a dependency
        return False
    return isinstance(obj, type) and issubclass(obj, NeuralNet)


def _estimator_signature(app, what, name, obj, options, signature, return_annotation):
    import inspect

    if what != "class" or not _is_skorch_net(obj):
        return None
    skorch = _skorch_parameters()
    parameters = list(inspect.signature(obj.__init__).parameters.values())[1:]
    own = [p for p in parameters if p.name not in skorch]
    set_here = [p for name in _PACKAGE_DEFAULTS for p in parameters if p.name == name]
    shown = [p.replace(default=_Shown(p.default)) if p.default is not p.empty else p
             for p in own + set_here]
    shown.append(inspect.Parameter("skorch_params", inspect.Parameter.VAR_KEYWORD))
    return str(inspect.Signature(shown)), return_annotation


def _entry_names(line):
    head = line.split(" : ")[0].strip()
    return {part.strip().lstrip("*") for part in head.split(",")}


def _inherited_parameters(app, what, name, obj, options, lines):
    """Move skorch's own parameters to an "Other Parameters" section (before numpydoc)."""
    if what != "class" or not _is_skorch_net(obj):
        return
    inherited = (_skorch_parameters() | {"kwargs"}) - set(_PACKAGE_DEFAULTS)
    try:
        start = lines.index("Parameters") + 2
    except ValueError:
        return
    end = next((i for i in range(start, len(lines) - 1)
                if lines[i] and not lines[i].startswith(" ")
                and set(lines[i + 1]) == {"-"}), len(lines))
    keep, moved, target = [], [], None
    for line in lines[start:end]:
        if line and not line.startswith(" "):
            target = moved if _entry_names(line) <= inherited else keep
        (target if target is not None else keep).append(line)
    if not moved:
        return
    while keep and not keep[-1].strip():
        keep.pop()
    lines[start:end] = keep + ["", "Other Parameters", "----------------", *moved, ""]


def _name_inherited_section(app, what, name, obj, options, lines):
    """After numpydoc: title the moved parameters as skorch's."""
    if what != "class" or not _is_skorch_net(obj):
        return
    for i, line in enumerate(lines):
        if line.strip() == ":Other Parameters:":
            lines[i] = line.replace(":Other Parameters:", ":Inherited from skorch:")
            lines[i + 1:i + 1] = ["", "    " + _SKORCH_NOTE + ".", ""]
            break


# ------------------------------------------------------- excerpts of result tables
# ``.. csv-excerpt:: optional title`` with ``:source: _static/file.csv``, ``:columns: a, b``
# and ``:where: col=value; col2=value`` shows some columns and rows of a committed result
# table, so a page (the index) can quote results without typing a number.
def _csv_excerpt_directive():
    import csv
    from pathlib import Path

    from docutils.parsers.rst import directives
    from docutils.parsers.rst.directives.tables import CSVTable

    class CSVExcerpt(CSVTable):
        option_spec = {**CSVTable.option_spec, "source": directives.path,
                       "columns": directives.unchanged_required,
                       "where": directives.unchanged}

        def get_csv_data(self):
            env = self.state.document.settings.env
            source = Path(env.srcdir) / self.options["source"]
            with open(source, newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
            columns = [c.strip() for c in self.options["columns"].split(",")]
            conditions = [[part.strip() for part in c.split("=", 1)]
                          for c in self.options.get("where", "").split(";") if c.strip()]
            missing = [c for c in columns + [k for k, _ in conditions]
                       if rows and c not in rows[0]]
            if missing:
                raise self.error(f"csv-excerpt: {source.name} has no column(s) {missing}")
            rows = [r for r in rows if all(r[k] == v for k, v in conditions)]
            if not rows:
                raise self.error(f"csv-excerpt: no row of {source.name} matches {conditions}")
            self.options["header-rows"] = 1
            env.note_dependency(str(source))
            lines = [",".join(f'"{c}"' for c in columns)]
            lines += [",".join('"' + r[c].replace('"', '""') + '"' for c in columns)
                      for r in rows]
            return lines, str(source)

    return CSVExcerpt


def setup(app):
    app.connect("autodoc-process-signature", _estimator_signature)
    app.connect("autodoc-process-docstring", _inherited_parameters, priority=100)
    app.connect("autodoc-process-docstring", _name_inherited_section, priority=900)
    app.add_directive("csv-excerpt", _csv_excerpt_directive())
