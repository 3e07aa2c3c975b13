"""Checks shared by the tests of the docs pages whose tables come from committed CSVs.

A page includes its tables with ``.. csv-table:: :file: _static/<name>.csv``; the
scripts wrote those CSVs, and the tests recompute them from committed rows.
"""

import importlib
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
_CSV_TABLE = r"\.\. csv-table::[^\n]*\n(?:[ \t]+[^\n]*\n)*?[ \t]+:file:\s*(\S+)"


def table_files(page):
    """The ``:file:`` of every ``csv-table`` of a page, resolved from the page's folder."""
    return [(page.parent / f).resolve() for f in re.findall(_CSV_TABLE, page.read_text())]


def assert_no_typed_table(page):
    """The page has no table typed by hand (list, simple or grid tables)."""
    text = page.read_text()
    assert ".. list-table::" not in text
    assert ".. table::" not in text
    assert not re.search(r"^\s*=+\s+=+", text, flags=re.M), "a simple table typed by hand"
    assert not re.search(r"^\s*\+[-=]+\+", text, flags=re.M), "a grid table typed by hand"


def assert_same_table(computed, committed, rtol=1e-9):
    """Two tables with the same columns and rows; numbers within ``rtol``, text equal."""
    assert list(computed.columns) == list(committed.columns)
    assert len(computed) == len(committed)
    for column in committed.columns:
        left, right = computed[column], committed[column]
        if pd.api.types.is_numeric_dtype(right) and pd.api.types.is_numeric_dtype(left):
            np.testing.assert_allclose(left.to_numpy(float), right.to_numpy(float),
                                       rtol=rtol, atol=1e-12, err_msg=column)
        else:
            assert (left.fillna("").astype(str).tolist()
                    == right.fillna("").astype(str).tolist()), column


def import_benchmark(name):
    """A script of ``benchmarks/`` as a module (they import their neighbours by name)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))
