"""The module graph is one-way: no module takes another's private names, no import circles.

Every module of ``sklearn_binn`` and ``benchmarks`` is parsed with :mod:`ast`
(nothing is imported). Two rules:

- ``from .x import _name`` / ``from sklearn_binn.x import _name`` (or, in
  the benchmarks, ``from _common import _name``) of an underscore-prefixed
  *name* defined in another module is not allowed; importing a private
  *module* (``from ._mask import PathwayMask``, ``from . import _mask``) is.
- The package-internal import graph, counting imports inside functions,
  has no cycle.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "sklearn_binn"


def _module_name(path, root, package):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts] if package else parts)


def _modules(root, package):
    """``{module name: (path, is_package)}`` of the ``.py`` files under ``root``."""
    return {
        _module_name(path, root, package): (path, path.name == "__init__.py")
        for path in sorted(root.rglob("*.py"))
        if "_build" not in path.parts
    }


def _resolve(name, is_package, node):
    """The absolute module an ``ImportFrom`` node imports from."""
    if not node.level:
        return node.module or ""
    base = name.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_edges(modules):
    """``[(importer, imported module, imported name or None, line)]`` within ``modules``."""
    edges = []
    for name, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):  # every import, at any depth
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = alias.name
                    while target and target not in modules:
                        target = target.rpartition(".")[0]
                    if target:
                        edges.append((name, target, None, node.lineno))
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(name, is_package, node)
                for alias in node.names:
                    submodule = f"{source}.{alias.name}" if source else alias.name
                    if submodule in modules:  # ``from . import _mask``: a module
                        edges.append((name, submodule, None, node.lineno))
                    elif source in modules:
                        edges.append((name, source, alias.name, node.lineno))
    return edges


def private_name_imports(modules):
    """The imports of another module's underscore-prefixed names, as readable strings."""
    return [
        f"{importer}:{line} imports {imported}.{what}"
        for importer, imported, what, line in import_edges(modules)
        if what is not None and what.startswith("_") and not what.startswith("__")
        and imported != importer
    ]


def import_cycles(modules):
    """Each cycle of the import graph once, as a list of module names."""
    graph = {name: set() for name in modules}
    for importer, imported, _, _ in import_edges(modules):
        if importer != imported:
            graph[importer].add(imported)
    cycles, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


PACKAGE_MODULES = _modules(ROOT / PACKAGE, PACKAGE)
BENCHMARK_MODULES = _modules(ROOT / "benchmarks", "")


@pytest.mark.parametrize("modules", [PACKAGE_MODULES, BENCHMARK_MODULES],
                         ids=["sklearn_binn", "benchmarks"])
def test_no_module_imports_another_modules_private_names(modules):
    assert private_name_imports(modules) == []


def private_package_imports(modules):
    """Imports of ``sklearn_binn``'s private modules or names (what users may not rely on)."""
    wrong = []
    for path, _ in modules.values():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            wrong += [
                f"{path.name}:{node.lineno} imports {name}" for name in names
                if name.split(".")[0] == PACKAGE
                and any(part.startswith("_") for part in name.split(".")[1:])
            ]
    return wrong


def test_benchmarks_use_only_the_public_api():
    # the benchmarks are users: no sklearn_binn._x modules, no private names
    assert private_package_imports(BENCHMARK_MODULES) == []


def test_the_package_import_graph_has_no_cycle():
    assert import_cycles(PACKAGE_MODULES) == []


def test_the_benchmark_import_graph_has_no_cycle():
    assert import_cycles(BENCHMARK_MODULES) == []


# ------------------------------------------------------------ the test can fail
@pytest.fixture
def synthetic(tmp_path):
    """A package ``pkg`` with a private-name import and a function-level import circle."""
    root = tmp_path / "pkg"
    root.mkdir()
    files = {
        "__init__.py": "from .a import f\n",
        "_b.py": "from . import _c\n\n_secret = 1\n\n\ndef g():\n    return _c\n",
        "a.py": "from ._b import _secret, g\n\n\ndef f():\n    return _secret, g\n",
        "_c.py": "def h():\n    from .a import f\n    return f\n",
        "d.py": "from pkg._b import g\nimport pkg._c\n",
    }
    for name, text in files.items():
        (root / name).write_text(text)
    return _modules(root, "pkg")


def test_the_checks_catch_a_private_name_import(synthetic):
    assert private_name_imports(synthetic) == ["pkg.a:1 imports pkg._b._secret"]


def test_the_checks_catch_a_circle_through_a_function_level_import(synthetic):
    assert import_cycles(synthetic) == [["pkg.a", "pkg._b", "pkg._c", "pkg.a"]]


def test_the_benchmark_check_catches_a_private_module(tmp_path):
    (tmp_path / "bench.py").write_text(
        "from sklearn_binn import BINNRegressor\nfrom sklearn_binn._utils import seed_from\n"
        "import sklearn_binn._mask\n"
    )
    assert private_package_imports(_modules(tmp_path, "")) == [
        "bench.py:2 imports sklearn_binn._utils.seed_from",
        "bench.py:3 imports sklearn_binn._mask",
    ]


def test_the_checks_accept_a_one_way_graph(synthetic, tmp_path):
    (tmp_path / "pkg" / "_c.py").write_text("def h():\n    return 1\n")
    (tmp_path / "pkg" / "a.py").write_text("from ._b import g\n")
    modules = _modules(tmp_path / "pkg", "pkg")
    assert private_name_imports(modules) == []
    assert import_cycles(modules) == []
