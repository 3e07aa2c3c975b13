"""Every public name is documented with a runnable example (the doctests run in the suite)."""

import pytest

import sklearn_binn
from sklearn_binn import callbacks, datasets, modules

# Objects that are returned by a public function rather than built by users,
# and plain constants: their docs point to the function that makes them.
RESULT_CONTAINERS = {
    "RecoveryReport", "IdentifiabilityDiagnostic", "StabilityReport", "ACTIVATIONS",
}

PUBLIC = [
    (module, name)
    for module in (sklearn_binn, modules, callbacks, datasets)
    for name in module.__all__
]


@pytest.mark.parametrize("module, name", PUBLIC, ids=[f"{m.__name__}.{n}" for m, n in PUBLIC])
def test_public_name_has_docstring_with_example(module, name):
    obj = getattr(module, name)
    doc = obj.__doc__ or ""
    assert len(doc.strip()) > 40, f"{module.__name__}.{name} has no real docstring"
    if name not in RESULT_CONTAINERS:
        assert "Examples\n" in doc and ">>> " in doc, f"{name} has no runnable example"


def test_every_public_name_is_in_the_api_reference():
    from pathlib import Path

    api = (Path(__file__).resolve().parents[1] / "docs" / "api.rst").read_text()
    missing = [name for name in sklearn_binn.__all__ if name not in api]
    assert missing == []
