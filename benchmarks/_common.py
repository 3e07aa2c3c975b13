"""The command line every benchmark script shares, over the study's public runner.

A benchmark script declares three things: its *cells* (one dict of
parameters per measurement), a *worker* that turns one cell into one or more
result rows, and a summary table. The runner that does the rest lives in the
package, :mod:`sklearn_binn.study` (:func:`~sklearn_binn.study.run_cells`,
:func:`~sklearn_binn.study.print_summary`, ...), re-exported here; this
module adds only the shared command line (DESIGN.md, "Benchmark scripts"):

- :func:`build_parser`: ``--quick``, ``--out DIR`` (default a folder named
  after the script, in the current directory), ``--n-jobs N``,
  ``--backend loky|dask|ray`` and ``--scheduler ADDRESS`` (dask).

A minimal script::

    from _common import build_parser, print_summary, run_cells

    def worker(cell):
        return {"value": cell["n"] ** 2}

    def main(argv=None):
        args = build_parser(__file__, "Squares.").parse_args(argv)
        cells = [{"n": n} for n in (range(3) if args.quick else range(100))]
        table = run_cells(cells, worker, args.out / "squares.csv", ["n"],
                          n_jobs=args.n_jobs, backend=args.backend,
                          scheduler=args.scheduler)
        print_summary(table.describe(), title="Squares", out_dir=args.out)

Scripts run as ``python benchmarks/<script>.py``, which puts this folder on
``sys.path``; joblib's workers inherit it.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import shutil
from pathlib import Path

from sklearn_binn.study import (
    BACKENDS,
    CellError,
    headless_pyplot,
    open_log,
    parallel_backend,
    print_summary,
    run_cell,
    run_cells,
)

#: The attributions ``--rank`` accepts (those of :func:`sklearn_binn.pathway_importance`).
RANK_METHODS = ("integrated_gradients", "deeplift", "gradient_x_input")

__all__ = [
    "BACKENDS",
    "CellError",
    "RANK_METHODS",
    "add_rank_argument",
    "build_parser",
    "cell_worker",
    "copy_to_docs",
    "headless_pyplot",
    "open_log",
    "parallel_backend",
    "print_summary",
    "run_cells",
    "run_command",
]


def run_command(script, argv, flags=()):
    """The command line a run-time table records: where a run wrote (``--out``, ``--docs``)
    and the given ``flags`` left out, so that reruns of the same grid read the same.

    Parameters
    ----------
    script : str
        As the command starts, e.g. ``"benchmarks/regime_map.py"``.
    argv : list of str
        The run's arguments.
    flags : tuple of str, default=()
        Switches without a value to leave out too (e.g. ``"--render-only"``).

    Examples
    --------
    >>> run_command("benchmarks/x.py", ["--seeds", "3", "--out", "o", "--docs=d", "--quiet"],
    ...             flags=("--quiet",))
    'python benchmarks/x.py --seeds 3'
    """
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--out", "--docs"):
            skip = True
        elif arg not in flags and not arg.startswith(("--out=", "--docs=")):
            kept.append(arg)
    return " ".join([f"python {script}", *kept])


def copy_to_docs(out, prefix, files, *, rows=None, static=None, join="_", expand=None,
                 rows_name="rows.csv"):
    """Copy a run's tables and figures into the docs' ``_static`` folder.

    Parameters
    ----------
    out : pathlib.Path
        The run's output folder.
    prefix : str
        The files become ``<prefix><join><name>`` (e.g. ``"reactome_scale_full"``).
    files : iterable of str, or mapping of str to str
        Names of files in ``out`` to copy (those missing are left out), or
        ``{name in out: name after the prefix}``.
    rows : pandas.DataFrame, default=None
        The rows the tables were computed from (the run's cells, when the
        run's CSV holds more), written as ``<prefix>_<rows_name>``.
    static : pathlib.Path, default=None
        Default: this repository's ``docs/_static``.
    join : str, default="_"
        Between the prefix and each file's name (``""`` where the names
        carry their own, e.g. ``".png"``).
    expand : dict of str to list, default=None
        Fields of names that are templates: ``{"task": ["survival"]}``
        copies ``"summary_{task}.csv"`` once per task, its target formatted
        the same way.
    rows_name : str, default="rows.csv"

    Returns
    -------
    list of pathlib.Path
        The files written: the copies in the order of ``files``, then the rows.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = Path(tmp)
    ...     _ = (out / "cells.csv").write_text("task\\n")
    ...     _ = (out / "map_survival.png").write_text("")
    ...     written = copy_to_docs(out, "x_full", ["cells.csv", "absent.png"],
    ...                            rows=pd.DataFrame({"a": [1]}), static=out / "static")
    ...     more = copy_to_docs(out, "x_full", {"map_{task}.png": ".{task}.png"}, join="",
    ...                         expand={"task": ["survival", "regression"]},
    ...                         static=out / "static")
    ...     [p.name for p in written + more]
    ['x_full_cells.csv', 'x_full_rows.csv', 'x_full.survival.png']
    """
    static = Path(__file__).resolve().parents[1] / "docs" / "_static" if static is None else static
    static.mkdir(parents=True, exist_ok=True)
    files = files if isinstance(files, dict) else {name: name for name in files}
    pairs = []
    for source, target in files.items():
        fields = [field for field in (expand or {}) if f"{{{field}}}" in source]
        if not fields:
            pairs.append((source, target))
            continue
        for values in itertools.product(*(expand[field] for field in fields)):
            names = dict(zip(fields, values))
            pairs.append((source.format(**names), target.format(**names)))
    written = [Path(shutil.copyfile(out / source, static / f"{prefix}{join}{target}"))
               for source, target in pairs if (out / source).exists()]
    if rows is not None:
        path = static / f"{prefix}_{rows_name}"
        rows.to_csv(path, index=False)
        written.append(path)
    return written


def build_parser(script, description=None):
    """The argument parser every benchmark script starts from.

    Parameters
    ----------
    script : str or path-like
        The script's file (pass ``__file__``); its stem names the default
        output folder.
    description : str, default=None
        Shown by ``--help``; typically the script's docstring.

    Returns
    -------
    argparse.ArgumentParser
        With ``--quick``, ``--out`` (a :class:`pathlib.Path`), ``--n-jobs``,
        ``--backend`` and ``--scheduler``; scripts add their own options.

    Examples
    --------
    >>> parser = build_parser("benchmarks/speed.py", "Speed.")
    >>> args = parser.parse_args(["--quick", "--n-jobs", "2"])
    >>> args.quick, str(args.out), args.n_jobs, args.backend
    (True, 'speed', 2, 'loky')
    """
    name = Path(script).stem
    parser = argparse.ArgumentParser(
        prog=Path(script).name,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="run a small grid that finishes in minutes on 2 cores",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(name), metavar="DIR",
        help=f"folder for the CSV, figures, log and summary (default: ./{name})",
    )
    parser.add_argument(
        "--n-jobs", type=int, default=1, metavar="N",
        help="cells run in parallel (default: 1; -1 uses every core)",
    )
    parser.add_argument(
        "--backend", choices=BACKENDS, default="loky",
        help="joblib backend: loky (local processes, default), dask (a "
             "dask.distributed cluster) or ray (needs Ray installed)",
    )
    parser.add_argument(
        "--scheduler", default=None, metavar="ADDRESS",
        help="with --backend dask: address of a running scheduler, e.g. "
             "tcp://10.0.0.5:8786 (default: start a local cluster on 127.0.0.1)",
    )
    return parser


def add_rank_argument(parser):
    """Add ``--rank METHOD``: also score the students' pathway-importance ranking.

    Parameters
    ----------
    parser : argparse.ArgumentParser or argparse._ArgumentGroup

    Examples
    --------
    >>> parser = build_parser("benchmarks/x.py")
    >>> add_rank_argument(parser)
    >>> parser.parse_args(["--rank", "deeplift"]).rank, parser.parse_args([]).rank
    ('deeplift', None)
    """
    parser.add_argument(
        "--rank", metavar="METHOD", choices=RANK_METHODS,
        help="also score the students' pathway-importance ranking against the teacher's "
             f"with this attribution, one of {list(RANK_METHODS)} (study.run_cell's rank; "
             "rank_* columns in the rows; cells already in the CSV are not rerun)",
    )


def cell_worker(rank=None):
    """The worker that runs one study cell: :func:`~sklearn_binn.study.run_cell`,
    with ``rank`` when given.

    Parameters
    ----------
    rank : str, default=None
        ``--rank``'s value.

    Returns
    -------
    callable

    Examples
    --------
    >>> cell_worker() is run_cell, cell_worker("deeplift").keywords
    (True, {'rank': 'deeplift'})
    """
    return run_cell if rank is None else functools.partial(run_cell, rank=rank)
