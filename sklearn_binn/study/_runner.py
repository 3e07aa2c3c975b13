"""The cell runner of the study: parallel, resumable, logged, with a summary printer.

A study declares its *cells* (one dict of parameters per measurement) and a
*worker* that turns one cell into one or more result rows. :func:`run_cells`
does the rest, the same way for every study (DESIGN.md, "Benchmark
scripts"): it skips cells already in the CSV, runs the rest in parallel with
joblib (one torch thread per worker unless told otherwise) behind a tqdm
progress bar, appends each finished cell's rows to the CSV atomically, logs
to ``out/log.txt`` and returns the whole table; :func:`print_summary` prints
the summary table last (and keeps a copy in ``out/summary.txt``).

A minimal study::

    from sklearn_binn.study import print_summary, run_cells

    def worker(cell):
        return {"value": cell["n"] ** 2}

    table = run_cells([{"n": n} for n in range(3)], worker, "out/squares.csv", ["n"])
    print_summary(table.describe(), title="Squares", out_dir="out")

``worker`` must be picklable (a module-level function) for ``n_jobs > 1``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import numbers
import os
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, parallel_config
from joblib.parallel import get_active_backend
from tqdm.auto import tqdm

from .._utils import atomic_write
from ..parallel import joblib_backend

__all__ = [
    "BACKENDS",
    "CellError",
    "headless_pyplot",
    "open_log",
    "parallel_backend",
    "print_summary",
    "run_cells",
]

BACKENDS = ("loky", "dask", "ray")
LOG_NAME = "log.txt"
SUMMARY_NAME = "summary.txt"


def open_log(out_dir):
    """A logger that appends to ``out_dir/log.txt``.

    Parameters
    ----------
    out_dir : str or path-like
        Created if missing.

    Returns
    -------
    logging.Logger
        Calling it again for the same folder returns the same logger
        without adding a second handler.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     open_log(folder).info("hello")
    ...     "hello" in (Path(folder) / "log.txt").read_text()
    True
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = (out_dir / LOG_NAME).resolve()
    logger = logging.getLogger(f"benchmarks.{path}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not any(getattr(h, "baseFilename", None) == str(path) for h in logger.handlers):
        handler = logging.FileHandler(path)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    return logger


@contextlib.contextmanager
def parallel_backend(backend="loky", n_jobs=1, scheduler=None):
    """Configure joblib for one of the benchmark backends inside a block.

    Parameters
    ----------
    backend : {"loky", "dask", "ray"}, default="loky"
        ``"dask"`` connects to ``scheduler`` or starts a local cluster of
        ``n_jobs`` single-threaded worker processes on 127.0.0.1;
        ``"ray"`` needs the ``ray`` package.
    n_jobs : int, default=1
    scheduler : str, default=None
        Address of a running dask scheduler.

    Yields
    ------
    None

    Raises
    ------
    ValueError
        For an unknown backend, or a scheduler given without dask.
    ImportError
        If the chosen backend's package is not installed.

    Examples
    --------
    >>> from joblib import Parallel, delayed
    >>> with parallel_backend("loky", n_jobs=1):
    ...     Parallel()(delayed(abs)(-i) for i in range(3))
    [0, 1, 2]
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}; got {backend!r}.")
    if scheduler is not None and backend != "dask":
        raise ValueError(
            f"--scheduler is an address of a dask scheduler; it needs --backend dask "
            f"(got --backend {backend})."
        )
    if backend == "loky":
        with parallel_config(backend="loky", n_jobs=n_jobs):
            yield
        return
    if backend == "dask":
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            raise ImportError(
                "--backend dask needs dask.distributed: pip install 'dask[distributed]', "
                "or use --backend loky."
            ) from exc
        with contextlib.ExitStack() as stack:
            if scheduler is not None:
                stack.enter_context(Client(scheduler))
            else:
                n_workers = os.cpu_count() if n_jobs is None or n_jobs < 1 else n_jobs
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=n_workers, threads_per_worker=1, processes=True,
                        host="127.0.0.1", dashboard_address=None,
                    )
                )
                stack.enter_context(Client(cluster))
            stack.enter_context(parallel_config(backend="dask", n_jobs=n_jobs))
            yield
        return
    with joblib_backend("ray", n_jobs=n_jobs):
        yield


class CellError(RuntimeError):
    """One or more benchmark cells raised; the finished cells are saved.

    Parameters
    ----------
    failures : list of (dict, str)
        Each failed cell and the traceback its worker raised.

    Attributes
    ----------
    failures : list of (dict, str)
    cells : list of dict
        The failed cells.

    Examples
    --------
    >>> error = CellError([({"n": 3}, "ZeroDivisionError: division by zero")])
    >>> print(error)
    1 benchmark cell(s) failed (finished cells are saved; rerun to retry):
      cell {'n': 3}: ZeroDivisionError: division by zero
    """

    def __init__(self, failures):
        self.failures = list(failures)
        self.cells = [cell for cell, _ in self.failures]
        lines = [
            f"{len(self.failures)} benchmark cell(s) failed (finished cells are saved; "
            "rerun to retry):"
        ]
        for cell, detail in self.failures:
            last = detail.strip().splitlines()[-1] if detail.strip() else ""
            lines.append(f"  cell {cell}: {last}")
        super().__init__("\n".join(lines))

    def __reduce__(self):
        return (type(self), (self.failures,))


def _key_text(value):
    """The text a key value is written as in the CSV."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    return str(value)


def key_value(value):
    """A cell key's value as compared: one text whether it comes from a cell or a CSV.

    Numbers compare by value whatever their text or type: ``100``, ``100.0``
    and the CSV texts ``"100"`` and ``"100.0"`` are all ``"100.0"`` (a CSV
    that pandas read and wrote back writes an integer column with a blank
    in it as floats); a missing value (``None``, NaN, ``""``) is ``""``;
    booleans and their texts are ``"True"``/``"False"``; other text is
    itself. What is written to the CSV is ``_key_text``'s, unchanged.

    Examples
    --------
    >>> key_value(100) == key_value("100.0") == key_value(np.float32(100))
    True
    >>> key_value(None), key_value(float("nan")), key_value(True), key_value("wide")
    ('', '', 'True', 'wide')
    """
    if isinstance(value, str):
        if value in ("", "True", "False"):
            return value
        try:
            value = float(value)
        except ValueError:
            return value
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        return "" if value != value else repr(value)
    return str(value)


def _cell_key(cell, key_columns):
    return tuple(key_value(cell[column]) for column in key_columns)


def _run_cell(worker, cell, torch_threads):
    """Run one cell in a worker process; never raises, reports errors instead."""
    previous = None
    if torch_threads is not None:
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(int(torch_threads))
    start = time.perf_counter()
    try:
        rows = worker(dict(cell))
        error = None
    except Exception:  # reported with its cell by run_cells
        rows, error = None, traceback.format_exc()
    finally:
        if previous is not None:
            import torch

            torch.set_num_threads(previous)
    return {"cell": cell, "rows": rows, "error": error,
            "seconds": time.perf_counter() - start}


def _outcomes_as_they_finish(cells, worker, torch_threads, n_jobs):
    """Yield each cell's outcome soon after it finishes, on the active joblib backend.

    Backends that stream results (loky, dask) yield every cell as it ends.
    Ray's joblib backend returns lists only, so cells go in rounds of
    ``2 * n_jobs`` and each round's outcomes are yielded (and saved by the
    caller) before the next starts: an interrupt loses at most one round.
    """
    tasks = [delayed(_run_cell)(worker, cell, torch_threads) for cell in cells]
    backend, _ = get_active_backend()
    if backend.supports_return_generator:
        yield from Parallel(return_as="generator_unordered")(tasks)
        return
    size = 2 * max(1, backend.effective_n_jobs(n_jobs))
    with Parallel() as parallel:
        for start in range(0, len(tasks), size):
            yield from parallel(tasks[start:start + size])


def _as_text_frame(rows, key_columns):
    """Rows as an all-text DataFrame, written exactly as they will sit in the CSV."""
    frame = pd.DataFrame(rows)
    for column in key_columns:
        frame[column] = [_key_text(value) for value in frame[column]]
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    buffer.seek(0)
    return pd.read_csv(buffer, dtype=str, keep_default_na=False)


def _read_text_csv(path):
    if not path.exists() or path.stat().st_size == 0:
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write_atomically(frame, path):
    """Replace ``path`` by ``frame`` in one step: a kill leaves the old or the new file."""
    with atomic_write(path, "w", newline="") as stream:
        frame.to_csv(stream, index=False)


@contextlib.contextmanager
def _exclusive(path):
    """Hold an advisory lock so two runs never write the same CSV."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, os.replace still keeps the file whole
        yield
        return
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RuntimeError(
                f"Another run is writing {path}; wait for it or use another --out."
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _rows_of(cell, result, key_columns):
    if isinstance(result, dict):
        result = [result]
    elif isinstance(result, pd.DataFrame):
        result = result.to_dict("records")
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        raise TypeError(
            "A benchmark worker must return a dict, a list of dicts or a DataFrame "
            f"(one row each); got {type(result).__name__} for cell {cell}."
        )
    rows = []
    for row in result:
        clash = [c for c in key_columns if c in row and key_value(row[c]) != key_value(cell[c])]
        if clash:
            raise ValueError(
                f"The worker changed key column(s) {clash} of cell {cell}; key columns "
                "come from the cell and must not be overwritten."
            )
        rows.append({**cell, **row})
    return rows


def run_cells(cells, worker, out_csv, key_columns, *, n_jobs=1, backend="loky",
              desc=None, scheduler=None, torch_threads=1):
    """Run the cells not yet in ``out_csv`` and append their rows atomically.

    Parameters
    ----------
    cells : list of dict
        One dict of parameters per measurement; each holds every key column.
    worker : callable
        ``worker(cell) -> dict | list of dict | DataFrame``: the result
        row(s) of one cell. Each row is stored with the cell's parameters in
        front. Must be picklable (a module-level function) for ``n_jobs > 1``.
    out_csv : str or path-like
        The results table; its folder also receives ``log.txt``.
    key_columns : list of str
        The columns that identify a cell; a cell whose key is already in the
        CSV is skipped (resume).
    n_jobs : int, default=1
        Cells run in parallel.
    backend : {"loky", "dask", "ray"}, default="loky"
        See :func:`parallel_backend`.
    desc : str, default=None
        Label of the progress bar; default the CSV's stem.
    scheduler : str, default=None
        Dask scheduler address (``backend="dask"`` only).
    torch_threads : int or None, default=1
        Torch intra-op threads inside each worker while it runs a cell;
        ``None`` leaves the setting to the worker.

    Returns
    -------
    pandas.DataFrame
        Every row of the CSV: earlier runs' and this run's.

    Raises
    ------
    CellError
        After every other cell has finished and been saved, if some cells'
        workers raised; it names each failed cell and its error (the log has
        the tracebacks).
    ValueError
        If a cell lacks a key column, or two cells have the same key.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     csv = Path(folder) / "squares.csv"
    ...     cells = [{"n": n} for n in range(3)]
    ...     table = run_cells(cells, lambda c: {"sq": c["n"] ** 2}, csv, ["n"],
    ...                       torch_threads=None)
    ...     again = run_cells(cells, lambda c: 1 / 0, csv, ["n"], torch_threads=None)
    >>> table.sort_values("n")["sq"].tolist(), len(again)
    ([0, 1, 4], 3)
    """
    out_csv = Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    key_columns = list(key_columns)
    cells = [dict(cell) for cell in cells]
    seen = set()
    for cell in cells:
        missing = [c for c in key_columns if c not in cell]
        if missing:
            raise ValueError(f"Cell {cell} lacks key column(s) {missing}.")
        key = _cell_key(cell, key_columns)
        if key in seen:
            raise ValueError(
                f"Two cells share the key {dict(zip(key_columns, key))}; add the "
                "parameter that tells them apart to key_columns."
            )
        seen.add(key)
    log = open_log(out_csv.parent)
    desc = desc or out_csv.stem
    failures = []
    with _exclusive(out_csv):
        table = _read_text_csv(out_csv)
        done = set()
        if table is not None:
            absent = [c for c in key_columns if c not in table.columns]
            if absent:
                raise ValueError(
                    f"{out_csv} has no column(s) {absent}: it was written by another "
                    "benchmark or grid. Use another --out, or delete the file."
                )
            done = {tuple(key_value(value) for value in key)
                    for key in table[key_columns].itertuples(index=False, name=None)}
        todo = [cell for cell in cells if _cell_key(cell, key_columns) not in done]
        log.info(
            "%s: %d cells, %d already in %s, running %d (backend=%s, n_jobs=%s)",
            desc, len(cells), len(cells) - len(todo), out_csv.name, len(todo), backend, n_jobs,
        )
        if todo:
            with parallel_backend(backend, n_jobs, scheduler), tqdm(
                total=len(todo), desc=desc, unit="cell"
            ) as bar:
                outcomes = _outcomes_as_they_finish(todo, worker, torch_threads, n_jobs)
                for outcome in outcomes:
                    cell = outcome["cell"]
                    if outcome["error"] is None:
                        try:
                            rows = _rows_of(cell, outcome["rows"], key_columns)
                        except (TypeError, ValueError):
                            outcome["error"] = traceback.format_exc()
                    if outcome["error"] is not None:
                        failures.append((cell, outcome["error"]))
                        log.error("%s: cell %s failed:\n%s", desc, cell, outcome["error"])
                    else:
                        new = _as_text_frame(rows, key_columns)
                        table = new if table is None else pd.concat(
                            [table, new], ignore_index=True
                        ).fillna("")
                        _write_atomically(table, out_csv)
                        log.info("%s: cell %s done in %.2f s (%d row(s))", desc, cell,
                                 outcome["seconds"], len(rows))
                    bar.update(1)
        log.info("%s: finished, %d failed", desc, len(failures))
    if failures:
        raise CellError(failures)
    if not out_csv.exists():
        return pd.DataFrame(columns=key_columns)
    return pd.read_csv(out_csv)


def headless_pyplot():
    """``matplotlib.pyplot`` on the file-only Agg backend, imported on first use.

    Benchmark scripts write PNGs and may run where no display exists
    (a cluster worker, CI); importing matplotlib only when a figure is drawn
    keeps it off the start-up of runs that draw none.

    Returns
    -------
    module
        ``matplotlib.pyplot``.

    Examples
    --------
    >>> headless_pyplot().get_backend().lower()
    'agg'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def print_summary(tables, *, title=None, out_dir=None, float_format="{:.4g}".format):
    """Print a benchmark's summary (last), and keep a copy on disk.

    Parameters
    ----------
    tables : pandas.DataFrame or mapping of str to DataFrame or str
        One table, or several sections ``{heading: table}``; a section may
        also be plain text (e.g. why a comparison could not run).
    title : str, default=None
        Heading of a single table (ignored for a mapping, whose keys are the
        headings).
    out_dir : str or path-like, default=None
        If given, the text is also written to ``out_dir/summary.txt``.
    float_format : callable, default="{:.4g}".format

    Returns
    -------
    str
        The printed text.

    Examples
    --------
    >>> text = print_summary(pd.DataFrame({"impl": ["sparse"], "ms": [1.23456]}),
    ...                      title="Layer")
    Layer
    =====
      impl    ms
    sparse 1.235
    >>> text = print_summary({"A": pd.DataFrame({"x": [1]}), "B": "not run: no GPU"})
    A
    =
     x
     1
    <BLANKLINE>
    B
    =
    not run: no GPU
    """
    sections = [(title, tables)] if isinstance(tables, pd.DataFrame) else list(tables.items())
    blocks = []
    for heading, body in sections:
        if isinstance(body, pd.DataFrame):
            body = body.to_string(index=False, float_format=float_format)
        blocks.append(str(body) if heading is None
                      else f"{heading}\n{'=' * len(heading)}\n{body}")
    text = "\n\n".join(blocks)
    print(text)
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / SUMMARY_NAME).write_text(text + "\n")
    return text
