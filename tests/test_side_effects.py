"""Importing sklearn_binn changes no global state, and the package ships no test set-up.

The import runs in a fresh interpreter. Every third-party module that the
package's source imports is imported first, so what is compared before and
after is what ``sklearn_binn``'s own modules do: warnings filters, torch's and
numpy's global random states, torch's thread count and default dtype.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import sklearn_binn

PACKAGE = Path(sklearn_binn.__file__).resolve().parent

PROBE = r"""
import hashlib, importlib, json, pkgutil, sys, warnings

for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError:  # optional back-ends (ray, dask) may be absent
        pass

import numpy as np
import torch


def snapshot():
    return {
        "warnings.filters": [repr(f) for f in warnings.filters],
        "torch rng": hashlib.sha256(torch.random.get_rng_state().numpy().tobytes()).hexdigest(),
        "numpy rng": hashlib.sha256(repr(np.random.get_state()).encode()).hexdigest(),
        "torch threads": torch.get_num_threads(),
        "torch dtype": str(torch.get_default_dtype()),
    }


before = snapshot()
import sklearn_binn

modules = ["sklearn_binn"]
for info in pkgutil.walk_packages(sklearn_binn.__path__, "sklearn_binn."):
    importlib.import_module(info.name)
    modules.append(info.name)
after = snapshot()
changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
if "warnings.filters" in changed:
    old, new = before["warnings.filters"], after["warnings.filters"]
    changed["warnings.filters"] = [
        [f for f in old if f not in new], [f for f in new if f not in old]
    ]
print(json.dumps({"modules": modules, "changed": changed}))
"""


def _third_party_imports():
    """Absolute module names imported anywhere in the package's source."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return sorted(n for n in names if n.split(".")[0] != "sklearn_binn")


def test_importing_the_package_changes_no_global_state():
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *_third_party_imports()],
        capture_output=True, text=True, timeout=300, check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "sklearn_binn.datasets" in report["modules"]
    changed = report["changed"]
    assert not changed, "importing sklearn_binn changed " + "; ".join(
        f"{key} from {before} to {after}" for key, (before, after) in changed.items()
    )


def test_package_ships_no_conftest():
    # pytest set-up belongs to the repository (conftest.py at its root, tests/),
    # not to the installed package
    assert sorted(PACKAGE.rglob("conftest.py")) == []
