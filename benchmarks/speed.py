"""Speed and memory of sparse BINN layers against the usual dense × mask layers.

What it measures, in one run, on the same masks, data and optimiser:

(a) one pathway layer, forward + backward (weight and bias gradients), batch
    128: :class:`~sklearn_binn.modules.SparseLinear` against
    :class:`~sklearn_binn.modules.DenseMaskedLinear`, at 1,000, 5,000 and
    20,000 genes. The layer is the gene layer of
    ``make_pathway_mask(n_genes, depth=4)`` (Reactome-like: ~4 pathways per
    gene, ``n_genes / 5.12`` pathways);
(b) a whole training epoch (1,000 samples, batch 128, Adam, cross-entropy) of
    a depth-4 :class:`~sklearn_binn.modules.BINNModule` against the same
    network built from ``DenseMaskedLinear`` layers with the same initial
    weights (the two must end at the same loss), and of ``BINNClassifier``
    (skorch) on the same data;
(c) the PyPI ``binn`` package 0.1.1 training its own default human Reactome
    network for one epoch with its own ``BINNTrainer``, against a
    ``BINNModule`` on exactly its wiring trained by the same trainer. binn is
    installed with ``--no-deps`` into ``<out>/cache/binn-0.1.1`` (never
    pulling torch); when it cannot be installed or run, the summary says why;
(d) peak memory of an epoch above the data (peak RSS, in a fresh process per
    measurement) and parameter count against edge count;
(e) how epoch time scales with genes (1k to 20k) and with edges (~10k to
    ~100k at 10k genes): log-log exponents and ``scaling.png``;
(f) the floor: a dense GEMM forward + backward doing the same useful FLOPs as
    the sparse layer (a ``k × k`` weight with ``k² = n_edges``);
(g) inference throughput (samples/s, batches of 128, no gradients);
(h) the two kernels of :class:`~sklearn_binn.modules.SparseLinear`, dense
    (edge weights scattered into a dense matrix, one GEMM) and CSR, forward
    + backward of one layer, on random masks of 100 to 10,000 inputs
    (``n_outputs = n_inputs / 5``), densities 1 % to 20 %, batches of 128
    and 4,000, one thread: the measurement behind the ``"auto"`` rule;
(i) the small case: 100 genes -> 20 -> 6 pathways
    (``make_pathway_mask(100, depth=2)``), 4,000 samples, batch 128 and
    full batch: one epoch of ``BINNRegressor``, of a hand-written torch loop
    on the same ``BINNModule`` and of scikit-learn's
    ``MLPRegressor(hidden_layer_sizes=(20, 6))``, the first two with each
    kernel (dense, csr, auto); besides, with the "auto" kernel, the
    estimator with a callback that listens to batches (which brings back
    skorch's per-batch loop: the estimators' path before the batch loop was
    trimmed), both the estimator and the torch loop with
    ``Adam(fused=True)``, the estimator with torch's per-tensor Adam
    (``foreach=False``; the estimators run the multi-tensor one, the same
    weights bit for bit) and the torch loop with the multi-tensor one; and
    the torch loop on a dense ``nn.Linear`` MLP of the same widths (what
    eager PyTorch costs on MLPRegressor's network);
(j) peer layers on the gene layer of (a) at 1,000 to 20,000 genes, forward
    + backward, batch 128, sample-major input: ``SparseLinear`` with each
    kernel, the dense-masked layer and ``PackedLinear`` (gather + ``index_add``) of the
    PyPI package ``kpnn2`` 0.3.0, installed with ``--no-deps`` into
    ``<out>/cache/kpnn2-0.3.0`` like binn; when it cannot be installed the
    table says why.

(k) the whole human Reactome, all 12 levels (``load_reactome``), 10,000
    samples, 50 epochs of ``BINNRegressor`` (Adam, batch 128), 2 threads:
    P-NET's chain with pass-through copies (``copies=True``, 19,227 nodes)
    against the skip-level mask (one node per pathway, 2,705 nodes), whole
    fits interleaved; the copies' 50-epoch time is extrapolated from 5
    epochs (labelled in the table). Target: skip edges under 30 s.

Parts (a)-(g) run with 1 and with 2 torch threads; a time there is the best
of several repeats (as ``timeit`` recommends: on a machine shared with other
jobs the slower repeats measure the other jobs); the CSV also keeps medians.
Parts (h)-(j) run with one thread and time their contenders side by side:
round after round, each contender once per round in a rotating order, so
that load from other jobs falls on all alike; they report the median and
the quartiles.

How to run (from the repository root)::

    python benchmarks/speed.py --quick      # under a minute on 2 cores, without binn
    python benchmarks/speed.py              # full grid (its measured wall time:
                                            # docs/speed.rst, the run table)
                                            # (the first run also builds binn's
                                            # network with binn's code: 3-5 min)
    python benchmarks/speed.py --no-binn    # skip the binn comparison
    python benchmarks/speed.py --parts kernels,small   # only parts (h) and (i)
    python benchmarks/speed.py --parts reactome        # only part (k)
    python benchmarks/speed.py --docs-tables docs/_static  # refresh the docs' tables

Results go to ``./speed`` (``--out``): ``speed.csv`` (``speed_quick.csv``
with ``--quick``) for (a)-(g), ``speed_kernels.csv``, ``speed_small.csv`` and
``speed_peers.csv`` (every repeat's statistics) for (h)-(j) and their
summary tables ``table_kernels.csv``, ``table_small.csv``,
``table_peers.csv`` (which ``docs/speed.rst`` includes, from
``--docs-tables``), ``table_reactome.csv``, issue 15's whole-fit targets
from (i) and (k) (``table_fit_targets.csv``, :func:`fit_targets`), the
page's tables of (a)-(g) (``table_layer.csv``, ``table_epoch.csv``,
``table_memory.csv``, ``table_binn.csv``, ``table_scaling.csv``,
``table_targets.csv``) and the run's command, date, machine, load and wall
time (``table_run_info.csv``; a run without the layers part writes
``table_run_info_<parts>.csv``, e.g. ``table_run_info_small_reactome.csv``),
``scaling.png``, ``summary.txt``,
``log.txt``. A rerun skips finished cells. Keep ``--n-jobs 1`` for timings: cells running side by
side share the cores.

What passes (DESIGN.md, "Performance"): at 20,000 genes with one thread, the
sparse layer's forward + backward is at least 25 times faster than the
dense-masked layer and within 10 times of the dense-GEMM floor; a whole
epoch is at least 10 times faster than the dense-masked network; and on
binn's own network an epoch is at least 30 times faster than binn's. The
summary's last table lists each target with its measured value.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import functools
import gc
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
import types
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from _common import build_parser, headless_pyplot, open_log, print_summary, run_cells
from skorch.callbacks import Callback
from sklearn.exceptions import ConvergenceWarning
from torch import nn

from sklearn_binn import BINNClassifier, BINNRegressor, PathwayMask
from sklearn_binn.datasets import load_reactome, make_pathway_mask
from sklearn_binn.modules import ACTIVATIONS, BINNModule, DenseMaskedLinear, SparseLinear

BATCH = 128
N_SAMPLES = 1000
DEPTH = 4
LR = 1e-3
BINN_VERSION = "0.1.1"
KEY_COLUMNS = ["kind", "impl", "n_genes", "overlap", "threads"]
TARGETS = {
    "layer_vs_dense": 25.0,
    "layer_vs_floor": 10.0,
    "epoch_vs_dense": 10.0,
    "epoch_vs_binn": 30.0,
}
MIB = 2.0**20
WARM_UP_GENES = 100


# ---------------------------------------------------------------- the grid
def make_cells(quick, binn_inputs=None):
    """The cells of one run; ``binn_inputs`` (binn network width) adds binn's."""
    threads = (1,) if quick else (1, 2)
    cells = [
        {"kind": "layer", "impl": impl, "n_genes": n, "overlap": None, "threads": t}
        for n in ((1000, 5000) if quick else (1000, 5000, 20000))
        for impl in ("sparse", "dense", "floor")
        for t in threads
    ]
    genes = (1000, 2000) if quick else (1000, 2000, 5000, 10000, 20000)
    for n in genes:
        for t in threads:
            cells += [
                {"kind": "epoch", "impl": impl, "n_genes": n, "overlap": None, "threads": t}
                for impl in ("sparse", "dense")
            ]
    for n in () if quick else (5000, 20000):  # --quick: the estimator is in part (i)
        for t in threads:
            cells.append(
                {"kind": "epoch", "impl": "estimator", "n_genes": n, "overlap": None,
                 "threads": t}
            )
    edge_genes, overlaps = (1000, (1.0, 4.0)) if quick else (10000, (1.0, 2.0, 5.0, 10.0))
    for overlap in overlaps:
        for t in threads:
            cells.append(
                {"kind": "edges", "impl": "sparse", "n_genes": edge_genes, "overlap": overlap,
                 "threads": t}
            )
    if binn_inputs is not None:
        cells += [
            {"kind": "binn", "impl": impl, "n_genes": binn_inputs, "overlap": None, "threads": t}
            for impl in ("binn", "sparse")
            for t in threads
        ]
    return cells


def reactome_like_layers(n_genes, overlap=None):
    """The pathway layers of a Reactome-like depth-4 mask (fixed seed)."""
    return make_pathway_mask(n_genes, depth=DEPTH, overlap=overlap, random_state=0).layers


# ------------------------------------------------------------ measurements
def timed(step, min_repeats, min_seconds, warm_up=True):
    """Wall and process CPU times of repeated ``step()`` calls.

    Repeats until both ``min_repeats`` calls and ``min_seconds`` of wall
    time are reached (at most 200 calls). CPU time counts every thread of
    the process; with one thread it is the wall time minus the time the
    process waited for a core, which on a shared machine is the cleaner
    measure of the code itself.

    Returns
    -------
    wall, cpu : ndarray
        Seconds per call.
    """
    if warm_up:
        step()
    wall, cpu = [], []
    while len(wall) < min_repeats or (sum(wall) < min_seconds and len(wall) < 200):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return np.array(wall), np.array(cpu)


def _status_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"/proc/self/status has no {field}")


def rss_bytes():
    """The process's resident memory now."""
    try:
        return _status_kib("VmRSS") * 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss():
    """Reset the kernel's peak-RSS mark (Linux); False where that is impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes():
    """Peak resident memory since the last reset (or since the process started)."""
    try:
        return _status_kib("VmHWM") * 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure_layer(cell, quick):
    """(a) and (f): one layer's forward + backward, sparse, dense-masked or the GEMM floor."""
    previous = torch.get_num_threads()
    torch.set_num_threads(cell["threads"])
    try:
        gen = torch.Generator().manual_seed(0)
        mask = reactome_like_layers(cell["n_genes"])[0]
        n_edges = mask.nnz
        torch.manual_seed(0)
        if cell["impl"] == "floor":
            k = int(round(np.sqrt(n_edges)))
            layer = nn.Linear(k, k)
            x = torch.randn(BATCH, k, generator=gen)
        else:
            layer = SparseLinear(mask)
            if cell["impl"] == "dense":
                layer = DenseMaskedLinear.from_sparse(layer)
            x = torch.randn(BATCH, mask.shape[0], generator=gen)
        upstream = torch.randn(BATCH, layer(x).shape[1], generator=gen)

        def step():
            layer.zero_grad(set_to_none=True)
            layer(x).backward(upstream)

        times, cpu = timed(step, 3 if quick else 5, 0.3 if quick else 1.0)
    finally:
        torch.set_num_threads(previous)
    return {
        "n_pathways": mask.shape[1],
        "n_edges": n_edges,
        "n_params": sum(p.numel() for p in layer.parameters()),
        "seconds": float(times.min()),
        "median_seconds": float(np.median(times)),
        "cpu_seconds": float(cpu.min()),
        "repeats": len(times),
        # useful work: forward and weight gradient, 2 flops per edge and sample each
        "useful_gflops": 4 * n_edges * BATCH / float(times.min()) / 1e9,
    }


class DenseMaskedBINN(nn.Module):
    """A BINNModule's network with ``DenseMaskedLinear`` pathway layers.

    What most BINN code does: each pathway layer stores a dense weight and
    multiplies it by the 0/1 mask. Built from a :class:`BINNModule` with the
    same weights, so both compute the same function.
    """

    def __init__(self, module):
        super().__init__()
        self.pathway_layers = nn.ModuleList(
            DenseMaskedLinear.from_sparse(layer) for layer in module.pathway_layers
        )
        self.batch_norms = copy.deepcopy(module.batch_norms)
        self.activation = ACTIVATIONS[module.activation]
        self.output = copy.deepcopy(module.output)

    def forward(self, X):
        h = X
        for layer, norm in zip(self.pathway_layers, self.batch_norms):
            h = self.activation(norm(layer(h)))
        return self.output(h)


def train_epoch(model, optimizer, X, y, generator):
    """One epoch of Adam on shuffled batches of 128."""
    model.train()
    order = torch.randperm(X.shape[0], generator=generator)
    for start in range(0, X.shape[0], BATCH):
        index = order[start:start + BATCH]
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(X[index]), y[index]).backward()
        optimizer.step()


def inference_rate(predict, X):
    """Samples per second of ``predict`` over ``X`` in batches of 128 (best of 3)."""
    def run():
        with torch.no_grad():
            for start in range(0, X.shape[0], BATCH):
                predict(X[start:start + BATCH])

    return X.shape[0] / float(timed(run, 3, 0.0)[0].min())


def _fit_modules(cell, layers, X, y):
    """Sparse or dense-masked BINN network trained with a plain loop."""
    torch.manual_seed(0)
    module = BINNModule(layers, n_outputs=2)
    extra = {"max_abs_diff": 0.0}
    if cell["impl"] == "dense":
        model = DenseMaskedBINN(module)
        with torch.no_grad():
            extra["max_abs_diff"] = float((model(X[:32]) - module(X[:32])).abs().max())
        del module
    else:
        model = module
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(1)
    return model, extra, lambda: train_epoch(model, optimizer, X, y, gen)


def measure_fit(cell, cache_dir, quick):
    """(b), (c), (d), (g): epoch time, peak memory and inference rate in this process.

    A small network of the same kind first runs the same code once, so that
    libraries and kernels are loaded before anything is measured. The peak
    is then the highest resident memory during the first epoch minus the
    memory before the model was built: the data excluded; the model, its
    gradients, the optimiser state and the activations included.
    """
    torch.set_num_threads(cell["threads"])
    if cell["kind"] == "binn":
        layers = load_binn_layers(cache_dir)
    else:
        layers = reactome_like_layers(cell["n_genes"], cell["overlap"])
    warm_layers = reactome_like_layers(WARM_UP_GENES)
    _fit_once(cell, warm_layers, *_data(WARM_UP_GENES, 2 * BATCH), cache_dir, n_timed=1)
    gc.collect()
    X, y = _data(layers[0].shape[0], N_SAMPLES)
    result = _fit_once(cell, layers, X, y, cache_dir, n_timed=2 if quick else 3)
    return {
        "n_pathways": "-".join(str(layer.shape[1]) for layer in layers),
        "n_edges": int(sum(layer.nnz for layer in layers)),
        **result,
    }


def _data(n_genes, n_samples):
    gen = torch.Generator().manual_seed(0)
    return (torch.randn(n_samples, n_genes, generator=gen),
            torch.randint(0, 2, (n_samples,), generator=gen))


def _fit_once(cell, layers, X, y, cache_dir, n_timed):
    """Build the cell's network on ``layers``, train ``1 + n_timed`` epochs, predict."""
    base = rss_bytes()
    if cell["impl"] == "estimator":
        return _fit_estimator(layers, X, y, n_timed, base)
    if cell["kind"] == "binn":
        model, extra, epoch = _fit_with_binn_trainer(cell, layers, X, y, cache_dir)
    else:
        model, extra, epoch = _fit_modules(cell, layers, X, y)
    model_bytes = rss_bytes() - base
    exact_peak = reset_peak_rss()
    first_seconds = timed(epoch, 1, 0.0, warm_up=False)[0][0]
    peak = peak_rss_bytes() - base
    times, cpu = timed(epoch, n_timed, 0.0, warm_up=False)
    model.eval()
    with torch.no_grad():  # a function of the trained weights: sparse and dense must agree
        loss = F.cross_entropy(model(X[:BATCH]), y[:BATCH]).item()
    return {
        "n_params": sum(p.numel() for p in model.parameters()),
        "seconds": float(np.min(times)),
        "median_seconds": float(np.median(times)),
        "cpu_seconds": float(np.min(cpu)),
        "repeats": n_timed,
        "first_epoch_seconds": first_seconds,
        "model_mib": model_bytes / MIB,
        "peak_mib": peak / MIB,
        "peak_method": "VmHWM reset" if exact_peak else "process peak",
        "samples_per_second": inference_rate(model, X),
        "final_loss": loss,
        **extra,
    }


def _fit_estimator(layers, X, y, n_timed, base):
    """BINNClassifier (skorch) fitting ``1 + n_timed`` epochs; times from its history."""
    clf = BINNClassifier(PathwayMask(layers), max_epochs=1 + n_timed, batch_size=BATCH, lr=LR,
                         train_split=None, random_state=0)
    exact_peak = reset_peak_rss()
    clf.fit(X.numpy(), y.numpy())
    peak = peak_rss_bytes() - base
    durations = clf.history_[:, "dur"]
    return {
        "n_params": sum(p.numel() for p in clf.module_.parameters()),
        "seconds": float(np.min(durations[1:])),
        "median_seconds": float(np.median(durations[1:])),
        "cpu_seconds": np.nan,
        "repeats": n_timed,
        "first_epoch_seconds": float(durations[0]),
        "model_mib": np.nan,
        "peak_mib": peak / MIB,
        "peak_method": "VmHWM reset" if exact_peak else "process peak",
        "samples_per_second": inference_rate(lambda Xb: clf.predict_proba(Xb.numpy()), X),
        "final_loss": float(clf.history_[-1, "train_loss"]),
        "max_abs_diff": 0.0,
    }


# ------------------------------------------------------------------- binn
def _binn_target(cache_dir):
    return Path(cache_dir) / f"binn-{BINN_VERSION}"


def install_binn(cache_dir, log):
    """Make binn 0.1.1 importable without letting pip touch torch.

    Returns the folder to put on ``sys.path`` (``None`` when binn is
    already importable), or raises RuntimeError saying why not.
    """
    spec = importlib.util.find_spec("binn")
    if spec is not None:
        version = importlib.metadata.version("binn")
        if version != BINN_VERSION:
            raise RuntimeError(f"binn {version} is installed; this benchmark needs {BINN_VERSION}")
        return None
    target = _binn_target(cache_dir)
    if not (target / "binn" / "model" / "binn.py").exists():
        _pip_no_deps("binn", BINN_VERSION, target, log)
    return target


def _pip_no_deps(name, version, target, log):
    """``pip download`` one wheel and install it with ``--no-deps`` into ``target``."""
    with tempfile.TemporaryDirectory() as download:
        command = [sys.executable, "-m", "pip", "download", f"{name}=={version}",
                   "--no-deps", "--disable-pip-version-check", "--quiet", "-d", download]
        log.info("running %s", " ".join(command))
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"pip download {name}=={version} failed: "
                               + (done.stderr.strip().splitlines() or ["no output"])[-1])
        wheels = sorted(Path(download).glob(f"{name}-*.whl"))
        if not wheels:
            raise RuntimeError(f"pip download {name}=={version} produced no wheel")
        command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile",
                   "--disable-pip-version-check", "--quiet", "--target", str(target),
                   str(wheels[0])]
        log.info("running %s", " ".join(command))
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"pip install --no-deps {name} failed: "
                               + (done.stderr.strip().splitlines() or ["no output"])[-1])


def _enter_package(name, target, heavy_dependency):
    """Make package ``name`` importable from ``target``, skipping its ``__init__`` if need be.

    Some peers' ``__init__`` imports a dependency (``heavy_dependency``) that
    the parts measured here do not use; when it is missing, the package is
    entered as a bare namespace so that its submodules still import.
    """
    if target is not None and str(target) not in sys.path:
        sys.path.insert(0, str(target))
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise RuntimeError(f"{name} is not importable")
    if importlib.util.find_spec(heavy_dependency) is not None:
        importlib.import_module(name)
        return
    package = types.ModuleType(name)
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    sys.modules[name] = package


def import_binn_model(target):
    """Import ``binn.model`` (binn's network and trainer).

    ``binn/__init__.py`` also imports binn's SHAP explainer, and with it
    ``shap``, which the network and the trainer do not use; when ``shap``
    is missing the package is entered without running that file.
    """
    _enter_package("binn", target, "shap")
    return (importlib.import_module("binn.model.binn"),
            importlib.import_module("binn.model.trainer"))


def _binn_network_file(cache_dir):
    return Path(cache_dir) / f"binn-{BINN_VERSION}-reactome-4-layers.npz"


def build_binn_network(cache_dir):
    """Build binn's default human network with binn's own code; cache its wiring.

    binn's ``BINN(network_source="reactome")`` reads its bundled Reactome
    files (January 2025); the inputs are the 52,335 human UniProt entries of
    its bundled ``uniprotkb_human_2025_01_21.tsv``, of which those Reactome
    maps become the network's inputs.
    """
    binn_module, _ = import_binn_model(_binn_target_if_any(cache_dir))
    data_dir = Path(binn_module.__file__).parent.parent / "data" / "downloads"
    proteins = pd.read_csv(data_dir / "uniprotkb_human_2025_01_21.tsv", sep="\t",
                           usecols=["Entry"]).rename(columns={"Entry": "Protein"})
    model = binn_module.BINN(data_matrix=proteins, network_source="reactome", n_layers=4,
                             n_outputs=2)
    layers = [sp.csr_matrix(frame.to_numpy(dtype=np.float32))
              for frame in model.connectivity_matrices[:4]]
    arrays = {}
    for k, layer in enumerate(layers):
        arrays.update({f"indptr{k}": layer.indptr, f"indices{k}": layer.indices,
                       f"shape{k}": np.array(layer.shape)})
    path = _binn_network_file(cache_dir)
    np.savez_compressed(path, n_layers=len(layers), **arrays)
    return path


def _binn_target_if_any(cache_dir):
    target = _binn_target(cache_dir)
    return target if target.exists() else None


def load_binn_layers(cache_dir):
    """binn's cached wiring as CSR 0/1 matrices, one per pathway layer."""
    with np.load(_binn_network_file(cache_dir)) as data:
        return [
            sp.csr_matrix(
                (np.ones(data[f"indices{k}"].size, dtype=np.float32), data[f"indices{k}"],
                 data[f"indptr{k}"]),
                shape=tuple(data[f"shape{k}"]),
            )
            for k in range(int(data["n_layers"]))
        ]


def _binn_model(binn_module, layers):
    """binn's own network on the cached wiring, as ``BINN.__init__`` assembles it.

    ``BINN.__init__`` spends minutes deriving the wiring from Reactome;
    here the wiring comes from the cache and binn's ``_generate_sequential``
    builds the layers (Linear, BatchNorm, Dropout, Tanh; pruned by the mask)
    and ``_init_weights`` initialises them.
    """
    frames = [pd.DataFrame(layer.toarray()) for layer in layers]
    model = binn_module.BINN.__new__(binn_module.BINN)
    nn.Module.__init__(model)
    model.device, model.n_layers, model.heads_ensemble = "cpu", len(layers), False
    model.layers = binn_module._generate_sequential(
        [layers[0].shape[0]] + [layer.shape[1] for layer in layers], frames,
        activation="tanh", n_outputs=2, dropout=0, bias=True,
    )
    model.apply(binn_module._init_weights)
    return model


def _fit_with_binn_trainer(cell, layers, X, y, cache_dir):
    """binn's network, or a BINNModule on its wiring, trained by binn's BINNTrainer."""
    binn_module, trainer_module = import_binn_model(_binn_target_if_any(cache_dir))
    torch.manual_seed(0)
    extra = {"max_abs_diff": 0.0}
    if cell["impl"] == "binn":
        model = _binn_model(binn_module, layers)
        linears = [m for name, m in model.layers.named_children() if name.startswith("Layer_")]
        extra["wiring_matches"] = all(
            np.array_equal(lin.weight_mask.T.numpy() != 0, layer.toarray() != 0)
            for lin, layer in zip(linears, layers)
        )
    else:
        # binn's layout: Linear -> BatchNorm -> Dropout(0) -> Tanh per layer, then Linear
        model = BINNModule(layers, n_outputs=2, batch_norm=True)
        model.device = "cpu"  # read by BINNTrainer
    trainer = trainer_module.BINNTrainer(model, save_dir=tempfile.gettempdir())
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y),
                                         batch_size=BATCH, shuffle=True,
                                         generator=torch.Generator().manual_seed(1))

    def epoch():
        trainer.fit({"train": loader}, num_epochs=1, learning_rate=LR)

    return model, extra, epoch


def prepare_binn(args, log):
    """Install binn and build (or load) its network; returns (n_inputs, reason)."""
    cache_dir = args.out / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    if args.no_binn:
        return None, "not run: --no-binn"
    if args.quick:
        return None, ("not run with --quick: binn's network takes 3 to 5 minutes to build and "
                      "15 to 25 s per epoch on 2 cores; run without --quick")
    if _binn_network_file(cache_dir).exists():
        return load_binn_layers(cache_dir)[0].shape[0], None
    try:
        install_binn(cache_dir, log)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        log.error("binn unavailable: %s", exc)
        return None, f"not run: binn {BINN_VERSION} could not be installed ({exc})"
    print("Building binn's default Reactome network with binn's code (3 to 5 minutes)...",
          flush=True)
    done = subprocess.run(
        [sys.executable, __file__, "--out", str(args.out), "--build-binn"],
        capture_output=True, text=True,
    )
    if done.returncode != 0 or not _binn_network_file(cache_dir).exists():
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        log.error("building binn's network failed:\n%s", done.stderr)
        return None, f"not run: binn {BINN_VERSION} failed to build its network ({tail})"
    return load_binn_layers(cache_dir)[0].shape[0], None


# ------------------------------- (h, i, j) kernels, a small network, peers
SMALL_GENES = 100
SMALL_SAMPLES = 4000
KERNEL_NAMES = ("dense", "csr")
KPNN2_VERSION = "0.3.0"
# no dense product (dense kernel or dense-masked layer) above this many
# input-output pairs: it would take seconds per call and hundreds of MiB
MAX_DENSE_PAIRS = 4_000_000


def interleaved(steps, min_rounds, min_seconds, max_rounds=100):
    """Time several steps side by side, one call of each per round.

    Every step runs once untimed first; then round after round each step
    runs once, in an order rotated by one each round, so that a burst of
    load from other jobs falls on all of them alike. A step may return its
    own duration in seconds (e.g. an epoch read from a training history);
    otherwise its wall time is taken.

    Returns
    -------
    dict of ndarray
        Seconds per call of each step, in the order of ``steps``.
    """
    names = list(steps)
    for name in names:
        steps[name]()
    times = {name: [] for name in names}
    start, rounds = time.perf_counter(), 0
    while rounds < min_rounds or (time.perf_counter() - start < min_seconds
                                  and rounds < max_rounds):
        shift = rounds % len(names)
        for name in names[shift:] + names[:shift]:
            begin = time.perf_counter()
            own = steps[name]()
            times[name].append(own if isinstance(own, float) else time.perf_counter() - begin)
        rounds += 1
    return {name: np.array(times[name]) for name in names}


def spread(seconds, scale=1e3):
    """Median, quartiles, best and count of repeated timings (in ms by default)."""
    q25, median, q75 = np.percentile(seconds, [25, 50, 75])
    return {"median_ms": scale * median, "q25_ms": scale * q25, "q75_ms": scale * q75,
            "min_ms": scale * seconds.min(), "repeats": len(seconds)}


def random_layer_mask(n_in, n_out, density, seed=0):
    """A random 0/1 ``(n_in, n_out)`` mask of about this density, every node fed."""
    rng = np.random.default_rng(seed)
    mask = sp.random(n_in, n_out, density=density, format="lil", random_state=rng,
                     data_rvs=np.ones)
    for j in np.flatnonzero(np.asarray(mask.sum(axis=0)).ravel() == 0):
        mask[rng.integers(n_in), j] = 1.0
    return mask.tocsr()


def make_kernel_cells(quick):
    """(h): layer shapes on both sides of the dense/CSR crossover."""
    if quick:
        return [{"n_in": n, "n_out": n // 5, "density": 0.05, "batch": b, "threads": 1}
                for n in (100, 1000) for b in (128, 4000)]
    cells = []
    for n in (100, 300, 500, 700, 1000, 1400, 2000, 3000, 10000):
        for density in (0.01, 0.05, 0.1, 0.2):
            if density * n * (n // 5) > 1e6:  # denser than any pathway layer of this size
                continue
            cells += [{"n_in": n, "n_out": n // 5, "density": density, "batch": b, "threads": 1}
                      for b in (128, 4000)]
    return cells


def measure_kernels(cell, quick):
    """(h): forward + backward of one layer with each kernel, side by side.

    The input is laid out as :class:`~sklearn_binn.modules.BINNModule`
    hands it to a layer (feature-major) and requires a gradient, as in a
    pathway layer above the genes. Both kernels get the same weights; the
    row records how far their outputs and gradients differ (the largest
    difference relative to the largest entry of each).
    """
    mask = random_layer_mask(cell["n_in"], cell["n_out"], cell["density"])
    gen = torch.Generator().manual_seed(0)
    layers = {k: SparseLinear(mask, kernel=k, generator=torch.Generator().manual_seed(0))
              for k in KERNEL_NAMES}
    pairs = cell["n_in"] * cell["n_out"]
    if pairs > MAX_DENSE_PAIRS:
        del layers["dense"]
    x_t = torch.randn(cell["batch"], cell["n_in"], generator=gen).T.requires_grad_(True)
    upstream = torch.randn(cell["n_out"], cell["batch"], generator=gen)

    def make_step(layer):
        def step():
            layer.zero_grad(set_to_none=True)
            x_t.grad = None
            layer.forward_feature_major(x_t).backward(upstream)
        return step

    results = {}
    for name, layer in layers.items():
        make_step(layer)()
        results[name] = [layer.forward_feature_major(x_t).detach(), x_t.grad.clone(),
                         layer.weight.grad.clone(), layer.bias.grad.clone()]
    diff = np.nan
    if len(results) == 2:  # relative to each quantity's largest entry
        diff = max(float((a - b).abs().max() / b.abs().max().clamp(min=1e-30))
                   for a, b in zip(*results.values()))
    times = interleaved({name: make_step(layer) for name, layer in layers.items()},
                        3 if quick else 7, 0.2 if quick else 1.0)
    auto = SparseLinear(mask).active_kernel
    rows = []
    for name in KERNEL_NAMES:
        row = {"kernel": name, "pairs": pairs, "n_edges": mask.nnz, "auto": auto,
               "max_rel_diff": diff}
        row.update(spread(times[name]) if name in times else {"median_ms": np.nan})
        rows.append(row)
    return rows


class _KernelChoice(Callback):
    """Sets every pathway layer's kernel when training begins (benchmarks only)."""

    def __init__(self, kernel):
        self.kernel = kernel

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        for layer in net.module_.pathway_layers:
            layer.kernel = self.kernel


def small_data():
    """(i): a 100-gene mask (100 -> 20 -> 6) and 4,000 regression samples."""
    mask = make_pathway_mask(SMALL_GENES, depth=2, random_state=0)
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(SMALL_SAMPLES, SMALL_GENES, generator=gen)
    y = X[:, :10].sum(dim=1) / 3.0 + 0.1 * torch.randn(SMALL_SAMPLES, generator=gen)
    return mask, X, y


def make_small_cells(quick):
    return [{"batch": b, "threads": 1} for b in (128, SMALL_SAMPLES)]


class _BatchListener(Callback):
    """A callback that hears every batch (and does nothing): skorch's per-batch loop runs."""

    def on_batch_end(self, net, **kwargs):
        pass


def _torch_loop(mask, X, y, batch, kernel, module=None, **adam):
    """One epoch of a hand-written torch loop on a BINNModule: shuffled slices, Adam, MSE.

    ``module`` replaces the BINNModule (the dense MLP of the same widths);
    ``adam`` goes to ``torch.optim.Adam`` (``fused=True``, ``foreach=True``).
    """
    torch.manual_seed(0)
    if module is None:
        module = BINNModule(mask)
        for layer in module.pathway_layers:
            layer.kernel = kernel
    optimizer = torch.optim.Adam(module.parameters(), lr=LR, **adam)
    gen = torch.Generator().manual_seed(1)

    def epoch():
        module.train()
        order = torch.randperm(X.shape[0], generator=gen)
        for start in range(0, X.shape[0], batch):
            index = order[start:start + batch]
            optimizer.zero_grad(set_to_none=True)
            F.mse_loss(module(X[index])[:, 0], y[index]).backward()
            optimizer.step()

    return epoch


def _torch_mlp(widths):
    """The dense network of MLPRegressor's shape in torch: Linear and tanh layers."""
    layers, width = [], SMALL_GENES
    for size in widths:
        layers += [nn.Linear(width, size), nn.Tanh()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, 1))


def _estimator_epoch(mask, X, y, batch, kernel, callbacks=(), **params):
    """BINNRegressor fitting two epochs; returns the second epoch's time from its history."""
    X_np, y_np = X.numpy(), y.numpy()

    def epoch():
        reg = BINNRegressor(mask, max_epochs=2, batch_size=batch, lr=LR, train_split=None,
                            random_state=0,
                            callbacks=[("kernel", _KernelChoice(kernel)), *callbacks], **params)
        with warnings.catch_warnings():  # two epochs do not converge, by design
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg.fit(X_np, y_np)
        return float(reg.history_[-1, "dur"])

    return epoch


def _sklearn_epoch(X, y, batch):
    """scikit-learn's MLPRegressor(hidden_layer_sizes=(20, 6)): one partial_fit is one epoch."""
    from sklearn.neural_network import MLPRegressor

    mlp = MLPRegressor(hidden_layer_sizes=(20, 6), activation="tanh", batch_size=batch,
                       learning_rate_init=LR, random_state=0)
    X_np, y_np = X.numpy(), y.numpy()
    return lambda: mlp.partial_fit(X_np, y_np)


def measure_small(cell, quick):
    """(i): an epoch on 100 genes, 4,000 samples: estimator, torch loop, scikit-learn."""
    from threadpoolctl import threadpool_limits

    mask, X, y = small_data()
    batch = cell["batch"]
    widths = [layer.shape[1] for layer in mask.layers]
    steps = {("sklearn MLPRegressor", "-"): _sklearn_epoch(X, y, batch)}
    for kernel in ("dense", "csr", "auto"):
        steps[("torch loop", kernel)] = _torch_loop(mask, X, y, batch, kernel)
        steps[("BINNRegressor", kernel)] = _estimator_epoch(mask, X, y, batch, kernel)
    # skorch's per-batch loop, which any callback listening to batches brings back
    steps[("BINNRegressor + batch callback", "auto")] = _estimator_epoch(
        mask, X, y, batch, "auto", callbacks=[("listener", _BatchListener())])
    steps[("BINNRegressor, Adam(fused=True)", "auto")] = _estimator_epoch(
        mask, X, y, batch, "auto", optimizer__fused=True)
    steps[("torch loop, Adam(fused=True)", "auto")] = _torch_loop(
        mask, X, y, batch, "auto", fused=True)
    # the estimators' Adam is torch's multi-tensor one; the per-tensor loop
    # (torch's CPU default, the estimators' before) gives the same weights
    steps[("BINNRegressor, Adam(foreach=False)", "auto")] = _estimator_epoch(
        mask, X, y, batch, "auto", optimizer__foreach=False)
    steps[("torch loop, Adam(foreach=True)", "auto")] = _torch_loop(
        mask, X, y, batch, "auto", foreach=True)
    steps[("torch loop, dense MLP (nn.Linear)", "-")] = _torch_loop(
        mask, X, y, batch, None, module=_torch_mlp(widths))
    with threadpool_limits(limits=cell["threads"]):
        times = interleaved(steps, 3 if quick else 15, 0.0 if quick else 20.0)
    return [{"impl": impl, "kernel": kernel, "network": "-".join(map(str, [SMALL_GENES, *widths])),
             "n_edges": int(sum(layer.nnz for layer in mask.layers)), **spread(times[impl, kernel])}
            for impl, kernel in steps]


def make_peer_cells(quick):
    """(j): peer layers on the gene layer of the Reactome-like masks."""
    return [{"n_genes": n, "batch": BATCH, "threads": 1}
            for n in ((1000, 5000) if quick else (1000, 2000, 5000, 10000, 20000))]


def install_kpnn2(cache_dir, log):
    """Make kpnn2 importable (``pip download --no-deps``, never touching torch).

    Returns the folder to put on ``sys.path`` (``None`` when kpnn2 is
    already importable), or raises RuntimeError saying why not.
    """
    if importlib.util.find_spec("kpnn2") is not None:
        return None
    target = Path(cache_dir) / f"kpnn2-{KPNN2_VERSION}"
    if not (target / "kpnn2" / "_packed_linear.py").exists():
        _pip_no_deps("kpnn2", KPNN2_VERSION, target, log)
    return target


def import_packed_linear(target):
    """kpnn2's ``PackedLinear``.

    kpnn2's ``__init__`` also imports its attribution helpers and with them
    ``xarray``, which ``PackedLinear`` does not use; when ``xarray`` is
    missing the package is entered without running that file.
    """
    _enter_package("kpnn2", target, "xarray")
    return importlib.import_module("kpnn2._packed_linear").PackedLinear


def measure_peers(cell, quick, kpnn2_target):
    """(j): forward + backward of the gene layer, sample-major batch of 128, side by side.

    SparseLinear with each kernel, kpnn2's PackedLinear (gather and
    ``index_add``, the same per-edge parameters) and the dense-masked layer,
    all with the same weights; the row records the largest output
    difference from SparseLinear's.
    """
    mask = reactome_like_layers(cell["n_genes"])[0]
    pairs = mask.shape[0] * mask.shape[1]
    layers = {f"SparseLinear {k}": SparseLinear(mask, kernel=k,
                                                generator=torch.Generator().manual_seed(0))
              for k in KERNEL_NAMES}
    reference = layers["SparseLinear csr"]
    auto = SparseLinear(mask).active_kernel
    if pairs <= MAX_DENSE_PAIRS:
        layers["DenseMaskedLinear"] = DenseMaskedLinear.from_sparse(reference)
    else:
        del layers["SparseLinear dense"]
    if kpnn2_target is not False:
        packed_linear = import_packed_linear(kpnn2_target)
        packed = packed_linear(reference.rows, reference.cols, mask.shape[1], mask.shape[0])
        with torch.no_grad():
            packed.weight.copy_(reference.weight)
            packed.bias.copy_(reference.bias)
        layers[f"kpnn2 {KPNN2_VERSION} PackedLinear"] = packed
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(cell["batch"], mask.shape[0], generator=gen)
    upstream = torch.randn(cell["batch"], mask.shape[1], generator=gen)
    with torch.no_grad():
        expected = reference(x)
        diffs = {name: float((layer(x) - expected).abs().max()) for name, layer in layers.items()}

    def make_step(layer):
        def step():
            layer.zero_grad(set_to_none=True)
            layer(x).backward(upstream)
        return step

    times = interleaved({name: make_step(layer) for name, layer in layers.items()},
                        3 if quick else 7, 0.2 if quick else 1.0)
    return [{"impl": name, "kernel": getattr(layer, "active_kernel", "-"), "auto": auto,
             "n_pathways": mask.shape[1], "n_edges": mask.nnz,
             "n_params": sum(p.numel() for p in layer.parameters()),
             "max_abs_diff": diffs[name], **spread(times[name])}
            for name, layer in layers.items()]


def _numeric(table):
    """The CSV's text columns as numbers where they are numbers."""
    table = table.copy()
    for column in table.columns:
        converted = pd.to_numeric(table[column], errors="coerce")
        if converted.notna().sum() == (table[column] != "").sum():
            table[column] = converted
    return table


def _interval(frame, scale=1.0, digits=3):
    """'median [q25, q75]' text of timing columns in ms."""
    def fmt(value):
        return f"{value * scale:.{digits}g}"
    return [f"{fmt(m)} [{fmt(a)}, {fmt(b)}]" if np.isfinite(m) else "not run"
            for m, a, b in zip(frame["median_ms"], frame["q25_ms"], frame["q75_ms"])]


def summarise_kernels(table):
    """(h): one row per layer shape and batch, the two kernels side by side."""
    table = _numeric(table)
    keys = ["n_in", "n_out", "density", "batch"]
    dense = table[table["kernel"] == "dense"].set_index(keys)
    csr = table[table["kernel"] == "csr"].set_index(keys)
    out = pd.DataFrame({
        "pairs": csr["pairs"], "edges": csr["n_edges"],
        "dense ms": _interval(dense.reindex(csr.index)),
        "csr ms": _interval(csr),
    }, index=csr.index)
    ratio = csr["median_ms"] / dense["median_ms"].reindex(csr.index)
    out["csr/dense"] = ratio.round(2)
    out["fastest"] = np.where(ratio.isna(), "csr", np.where(ratio > 1, "dense", "csr"))
    out["auto"] = [SparseLinear.auto_kernel(n_in, n_out, edges)  # the rule as it is now
                   for (n_in, n_out, _, _), edges in zip(csr.index, csr["n_edges"])]
    out["max rel. diff"] = [f"{d:.1e}" if np.isfinite(d) else "-" for d in csr["max_rel_diff"]]
    return out.reset_index().sort_values(["pairs", "density", "batch"])


def summarise_small(table):
    """(i): epoch times on the 100-gene network, relative to scikit-learn's MLP."""
    table = _numeric(table)
    rows = []
    for batch, part in table.groupby("batch", sort=True):
        mlp = float(part.loc[part["impl"] == "sklearn MLPRegressor", "median_ms"].iloc[0])
        for _, row in part.iterrows():
            rows.append({"batch": int(batch), "impl": row["impl"], "kernel": row["kernel"],
                         "epoch ms": _interval(row.to_frame().T)[0],
                         "/ MLPRegressor": round(row["median_ms"] / mlp, 2)})
    return pd.DataFrame(rows)


def summarise_peers(table):
    """(j): peer layers against SparseLinear with the kernel "auto" picks."""
    table = _numeric(table)
    rows = []
    for n_genes, part in table.groupby("n_genes", sort=True):
        pick = f"SparseLinear {part['auto'].iloc[0]}"
        auto = float(part.loc[part["impl"] == pick, "median_ms"].iloc[0])
        for _, row in part.iterrows():
            rows.append({"genes": int(n_genes), "pathways": int(row["n_pathways"]),
                         "edges": int(row["n_edges"]),
                         "impl": row["impl"] + (" (auto)" if row["impl"] == pick else ""),
                         "params": int(row["n_params"]),
                         "ms": _interval(row.to_frame().T)[0],
                         "/ SparseLinear auto": round(row["median_ms"] / auto, 2),
                         "max abs. difference": f"{float(row['max_abs_diff']):.1e}"})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ driver
def run_cell(cell, *, out_dir, quick):
    """The worker: layers in this process, epochs in a fresh one (clean peak RSS)."""
    if cell["kind"] == "layer":
        return measure_layer(cell, quick)
    env = dict(os.environ, OMP_NUM_THREADS=str(cell["threads"]),
               MKL_NUM_THREADS=str(cell["threads"]))
    payload = json.dumps({"cell": cell, "quick": quick})
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--out", str(out_dir), "--child",
         payload],
        capture_output=True, text=True, env=env,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"measurement process failed (exit {done.returncode}):\n"
                           f"{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def loglog_exponent(x, y):
    """Slope of log(y) against log(x) (least squares)."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


class _Wide:
    """Rows of one kind spread over implementations: ``wide["seconds", "sparse"]``."""

    def __init__(self, rows, index):
        self.frame = rows.set_index(index + ["impl"]).unstack("impl")
        self.index = self.frame.index

    def level(self, name):
        return self.frame.index.get_level_values(name).to_numpy()

    def __getitem__(self, key):
        if key in self.frame.columns:
            return pd.to_numeric(self.frame[key], errors="coerce").to_numpy()
        return np.full(len(self.frame), np.nan)


def summary_tables(table):
    """The layers part's tables, computed from its measurements (``speed.csv``).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per cell of parts (a)-(g), as :func:`run_cells` returns it.

    Returns
    -------
    dict
        ``layer`` (a, f), ``epoch`` (b), ``memory`` (d, g; one thread), ``binn`` (c;
        ``None`` when binn did not run), ``scaling`` (e) and ``targets``: data frames
        with every thread count measured (except ``memory``) and unrounded values.
    """
    layer = _Wide(table[table["kind"] == "layer"], ["n_genes", "threads"])
    layer_table = pd.DataFrame({
        "genes": layer.level("n_genes"),
        "threads": layer.level("threads"),
        "pathways": layer["n_pathways", "sparse"],
        "edges": layer["n_edges", "sparse"],
        "sparse_ms": 1e3 * layer["seconds", "sparse"],
        "dense_ms": 1e3 * layer["seconds", "dense"],
        "floor_ms": 1e3 * layer["seconds", "floor"],
        "sparse_cpu_ms": 1e3 * layer["cpu_seconds", "sparse"],
        "dense_cpu_ms": 1e3 * layer["cpu_seconds", "dense"],
        "floor_cpu_ms": 1e3 * layer["cpu_seconds", "floor"],
    })
    layer_table["dense/sparse"] = layer_table["dense_ms"] / layer_table["sparse_ms"]
    layer_table["sparse/floor"] = layer_table["sparse_ms"] / layer_table["floor_ms"]
    layer_table["dense/sparse cpu"] = layer_table["dense_cpu_ms"] / layer_table["sparse_cpu_ms"]
    layer_table["sparse/floor cpu"] = layer_table["sparse_cpu_ms"] / layer_table["floor_cpu_ms"]
    layer_table = layer_table.drop(columns=["dense_cpu_ms", "floor_cpu_ms"])

    epoch = _Wide(table[table["kind"] == "epoch"], ["n_genes", "threads"])
    fit_table = pd.DataFrame({
        "genes": epoch.level("n_genes"),
        "threads": epoch.level("threads"),
        "edges": epoch["n_edges", "sparse"],
        "sparse_s": epoch["seconds", "sparse"],
        "dense_s": epoch["seconds", "dense"],
        "skorch_s": epoch["seconds", "estimator"],
        "sparse_cpu_s": epoch["cpu_seconds", "sparse"],
        "dense_cpu_s": epoch["cpu_seconds", "dense"],
    })
    fit_table["dense/sparse"] = fit_table["dense_s"] / fit_table["sparse_s"]
    fit_table["dense/sparse cpu"] = fit_table["dense_cpu_s"] / fit_table["sparse_cpu_s"]
    fit_table = fit_table.drop(columns=["dense_cpu_s"])
    fit_table["|loss diff|"] = np.abs(epoch["final_loss", "sparse"] - epoch["final_loss", "dense"])
    # the dense-masked network's initial outputs against the sparse one's (_fit_modules)
    fit_table["|initial output diff|"] = epoch["max_abs_diff", "dense"]

    memory_table = pd.DataFrame({
        "genes": epoch.level("n_genes"),
        "threads": epoch.level("threads"),
        "edges": epoch["n_edges", "sparse"],
        "sparse_params": epoch["n_params", "sparse"],
        "dense_params": epoch["n_params", "dense"],
        "sparse_MiB": epoch["peak_mib", "sparse"],
        "dense_MiB": epoch["peak_mib", "dense"],
        "skorch_MiB": epoch["peak_mib", "estimator"],
        "sparse_samples/s": epoch["samples_per_second", "sparse"],
        "dense_samples/s": epoch["samples_per_second", "dense"],
    })
    memory_table["dense/sparse MiB"] = memory_table["dense_MiB"] / memory_table["sparse_MiB"]
    memory_table = memory_table[memory_table["threads"] == 1].drop(columns="threads")

    binn_rows = table[table["kind"] == "binn"]
    binn_table = None
    if len(binn_rows):
        binn = _Wide(binn_rows, ["threads"])
        binn_table = pd.DataFrame({
            "threads": binn.level("threads"),
            "inputs": int(binn_rows["n_genes"].iloc[0]),
            "pathways": binn_rows["n_pathways"].iloc[0],
            "edges": binn["n_edges", "binn"],
            "binn_params": binn["n_params", "binn"],
            "sparse_params": binn["n_params", "sparse"],
            "binn_s": binn["seconds", "binn"],
            "sparse_s": binn["seconds", "sparse"],
            "binn_cpu_s": binn["cpu_seconds", "binn"],
            "sparse_cpu_s": binn["cpu_seconds", "sparse"],
            "binn_MiB": binn["peak_mib", "binn"],
            "sparse_MiB": binn["peak_mib", "sparse"],
            "binn_samples/s": binn["samples_per_second", "binn"],
            "sparse_samples/s": binn["samples_per_second", "sparse"],
        })
        binn_table["binn/sparse"] = binn_table["binn_s"] / binn_table["sparse_s"]
        binn_table["binn/sparse cpu"] = binn_table["binn_cpu_s"] / binn_table["sparse_cpu_s"]
        binn_table = binn_table.drop(columns=["binn_cpu_s"])

    series = scaling_series(table)
    edge_genes = table.loc[(table["kind"] == "edges") & (table["threads"] == 1), "n_genes"]
    scaling_table = pd.DataFrame(
        [
            {"series": name, "from": float(x.min()), "to": float(x.max()), "points": len(x),
             "at genes": (int(edge_genes.iloc[0]) if x_name == "edges" and len(edge_genes)
                          else None),
             "exponent (wall)": loglog_exponent(x, wall),
             "exponent (CPU)": loglog_exponent(x, cpu)}
            for name, (x_name, x, wall, cpu) in series.items() if len(x) >= 2
        ],
        columns=["series", "from", "to", "points", "at genes", "exponent (wall)",
                 "exponent (CPU)"],
    )
    return {"layer": layer_table, "epoch": fit_table, "memory": memory_table,
            "binn": binn_table, "scaling": scaling_table,
            "targets": target_checks(layer_table, fit_table, binn_table)}


def summarise(table, binn_reason, tables=None):
    """The summary sections and the scaling series (``tables``: :func:`summary_tables`)."""
    tables = summary_tables(table) if tables is None else tables
    sections = {
        "(a, f) One gene layer, forward + backward, batch 128": tables["layer"],
        "(b) One training epoch, 1,000 samples, batch 128, Adam, depth 4": tables["epoch"],
        "(d, g) Peak memory of an epoch above the data, parameters, inference "
        "(1 thread)": tables["memory"],
    }
    binn_table = tables["binn"]
    if binn_table is not None:
        inputs, sizes = binn_table["inputs"].iloc[0], binn_table["pathways"].iloc[0]
        sections[f"(c) binn {BINN_VERSION} on its own network ({inputs} inputs -> {sizes} "
                 "pathways), one epoch, both trained by binn's BINNTrainer"] = binn_table
    else:
        sections[f"(c) binn {BINN_VERSION}"] = binn_reason
    sections["(e) Scaling of epoch time (log-log exponent, 1 thread)"] = tables["scaling"]
    sections["Targets (DESIGN.md), 1 thread, largest size measured"] = tables["targets"]
    return sections, scaling_series(table)


def table_cell(value, digits=3):
    """A docs table's cell: ``digits`` significant digits, whole numbers from 10**(digits-1).

    Counts and values of ``10**(digits - 1)`` or more are rounded to whole numbers
    and written with thousands separators, smaller values to ``digits``
    significant digits; a missing value (NaN, None) is a dash.

    Examples
    --------
    >>> [table_cell(v) for v in (20000, 855.4, 31.62, 0.04912, 4.47e-08, 0.0, np.nan)]
    ['20,000', '855', '31.6', '0.0491', '4.47e-08', '0', '–']
    """
    value = np.nan if value is None else float(value)
    if not np.isfinite(value):
        return "–"
    if value == 0:
        return "0"
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _cells(frame, columns):
    """{page column: formatted cells} of ``frame``'s columns, in the page's order."""
    return pd.DataFrame({page: [table_cell(v) for v in frame[column]]
                         for page, column in columns.items()})


def docs_layer_tables(tables, binn_reason):
    """The tables of docs/speed.rst's parts (a)-(g) and targets, one thread, formatted.

    Parameters
    ----------
    tables : dict
        :func:`summary_tables`' frames.
    binn_reason : str or None
        Why binn did not run (the binn table's only cell when it did not).

    Returns
    -------
    dict
        ``layer``, ``epoch``, ``memory``, ``binn``, ``scaling``, ``targets``: data
        frames of text cells (:func:`table_cell`), which ``--docs-tables DIR``
        writes as ``DIR/speed_<name>.csv``.
    """
    one = {name: frame[frame["threads"] == 1] for name, frame in tables.items()
           if name in ("layer", "epoch")}
    docs = {
        "layer": _cells(one["layer"], {
            "genes": "genes", "pathways": "pathways", "edges": "edges",
            "sparse ms": "sparse_ms", "dense ms": "dense_ms", "floor ms": "floor_ms",
            "dense/sparse": "dense/sparse", "sparse/floor": "sparse/floor",
            "sparse CPU ms": "sparse_cpu_ms", "dense/sparse CPU": "dense/sparse cpu",
            "sparse/floor CPU": "sparse/floor cpu"}),
        "epoch": _cells(one["epoch"], {
            "genes": "genes", "edges": "edges", "sparse s": "sparse_s", "dense s": "dense_s",
            "skorch s": "skorch_s", "dense/sparse wall": "dense/sparse",
            "dense/sparse CPU": "dense/sparse cpu", "final loss diff": "|loss diff|",
            "max initial output diff": "|initial output diff|"}),
        "memory": _cells(tables["memory"], {
            "genes": "genes", "edges": "edges", "sparse params": "sparse_params",
            "dense params": "dense_params", "sparse MiB": "sparse_MiB",
            "dense MiB": "dense_MiB", "skorch MiB": "skorch_MiB",
            "dense/sparse MiB": "dense/sparse MiB", "sparse samples/s": "sparse_samples/s",
            "dense samples/s": "dense_samples/s"}),
    }
    binn = tables["binn"]
    if binn is None:
        docs["binn"] = pd.DataFrame({f"binn {BINN_VERSION}": [binn_reason or "not run"]})
    else:
        binn = binn.assign(**{"binn/sparse params": binn["binn_params"] / binn["sparse_params"],
                              "binn/sparse MiB": binn["binn_MiB"] / binn["sparse_MiB"]})
        docs["binn"] = _cells(binn, {
            "threads": "threads", "inputs": "inputs", "edges": "edges",
            "binn params": "binn_params", "sparse params": "sparse_params",
            "binn/sparse params": "binn/sparse params", "binn s": "binn_s",
            "sparse s": "sparse_s", "binn/sparse wall": "binn/sparse",
            "binn/sparse CPU": "binn/sparse cpu", "binn MiB": "binn_MiB",
            "sparse MiB": "sparse_MiB", "binn/sparse MiB": "binn/sparse MiB",
            "binn samples/s": "binn_samples/s", "sparse samples/s": "sparse_samples/s"})
        docs["binn"].insert(2, "pathways", [" → ".join(table_cell(int(n)) for n in p.split("-"))
                                            for p in binn["pathways"]])

    scaling = tables["scaling"]
    labels = []
    for _, row in scaling.iterrows():
        impl, x_name = row["series"].split(", ")
        label = f"{impl}, {table_cell(row['from'])} → {table_cell(row['to'])} {x_name}"
        if pd.notna(row["at genes"]):
            label += f" ({table_cell(row['at genes'])} genes)"
        labels.append(label)
    docs["scaling"] = _cells(scaling, {"slope, wall": "exponent (wall)",
                                       "slope, CPU": "exponent (CPU)"})
    docs["scaling"].insert(0, "series", labels)

    targets = tables["targets"]
    rows = []
    if len(targets):
        checks = targets.assign(
            clock=targets["check"].str.extract(r"\((wall|CPU)\)$", expand=False),
            name=targets["check"].str.replace(r" \((wall|CPU)\)$", "", regex=True))
        for name, pair in checks.groupby("name", sort=False):
            wall, cpu = (pair[pair["clock"] == clock] for clock in ("wall", "CPU"))
            first = (wall if len(wall) else cpu).iloc[0]
            where = ("" if first["genes"] == "binn"
                     else f", {table_cell(first['genes'])} genes")
            measured = " ".join(
                [table_cell(wall["measured"].iloc[0])] * bool(len(wall))
                + [f"(CPU {table_cell(cpu['measured'].iloc[0])})"] * bool(len(cpu)))
            met = {(True, True): "yes", (False, False): "no",
                   (True, False): "wall yes, CPU no", (False, True): "wall no, CPU yes"}
            rows.append({
                "target (DESIGN.md), one thread, largest size": name + where,
                "measured": measured,
                "target": first["target"].replace(">=", "≥").replace("<=", "≤"),
                "met": met[(bool(wall["pass"].all()), bool(cpu["pass"].all()))],
            })
    docs["targets"] = pd.DataFrame(
        rows, columns=["target (DESIGN.md), one thread, largest size", "measured", "target",
                       "met"])
    return docs


def run_info_table(command, started, load_start, load_end, wall_seconds):
    """The run's command, date, machine, load and wall time: ``speed_run_info.csv``.

    Parameters
    ----------
    command : str
        The command line that ran.
    started : datetime.datetime
        When the run began (timezone-aware).
    load_start, load_end : tuple of float
        ``os.getloadavg()`` at the start and at the end of the run.
    wall_seconds : float
        The run's wall time.

    Returns
    -------
    pandas.DataFrame
        Columns ``item`` and ``value``, one row per fact.

    Examples
    --------
    >>> import datetime
    >>> info = run_info_table("python benchmarks/speed.py --quick",
    ...                       datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.timezone.utc),
    ...                       (1.0, 2.0, 3.0), (4.0, 5.0, 6.0), 62.4)
    >>> facts = dict(zip(info["item"], info["value"]))
    >>> facts["date"], facts["load average at the start"], facts["wall time"]
    ('2026-01-02 03:04 UTC', '1.0, 2.0, 3.0', '62 s')
    """
    for name, load in (("load_start", load_start), ("load_end", load_end)):
        if len(load) != 3:
            raise ValueError(f"{name} must be os.getloadavg()'s three averages (1, 5, 15 "
                             f"minutes); got {load!r}.")
    mkl = re.search(r"Math Kernel Library Version ([\d.]+)", torch.__config__.show())
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory = f"{pages * page_size / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        memory = "unknown"
    versions = [f"Python {platform.python_version()}",
                f"torch {torch.__version__}" + (f" (MKL {mkl.group(1)})" if mkl else ""),
                f"numpy {np.__version__}", f"scipy {importlib.metadata.version('scipy')}",
                f"pandas {pd.__version__}"]
    items = {
        "command": command,
        "date": started.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "CPUs": f"{os.cpu_count()} ({cpu_model()})",
        "memory": memory,
        "system": platform.platform(),
        "versions": ", ".join(versions),
        "load average at the start": ", ".join(f"{v:.1f}" for v in load_start),
        "load average at the end": ", ".join(f"{v:.1f}" for v in load_end),
        "wall time": (f"{wall_seconds:.0f} s" if wall_seconds < 600
                      else f"{wall_seconds / 60:.1f} min"),
    }
    return pd.DataFrame({"item": list(items), "value": list(items.values())})


def cpu_model():
    """The CPU's model name from ``/proc/cpuinfo``, else :func:`platform.processor`."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def write_tables(docs, out_dir, quick, docs_dir=None):
    """Write each table to ``out_dir/table_<name>[_quick].csv``, ``docs_dir/speed_<name>.csv``."""
    suffix = "_quick" if quick else ""
    for name, frame in docs.items():
        frame.to_csv(out_dir / f"table_{name}{suffix}.csv", index=False)
        if docs_dir is not None:
            docs_dir.mkdir(parents=True, exist_ok=True)
            frame.to_csv(docs_dir / f"speed_{name}.csv", index=False)


def scaling_series(table):
    """{name: (x label, x, wall seconds, CPU seconds)} of one-thread epochs."""
    one = table[table["threads"] == 1]
    chosen = {f"{impl}, genes": ("genes", (one["kind"] == "epoch") & (one["impl"] == impl))
              for impl in ("sparse", "dense")}
    chosen["sparse, edges"] = ("edges", one["kind"] == "edges")
    series = {}
    for name, (x_name, selected) in chosen.items():
        rows = one[selected].sort_values("n_genes" if x_name == "genes" else "n_edges")
        series[name] = (x_name, rows["n_genes" if x_name == "genes" else "n_edges"].to_numpy(),
                        rows["seconds"].to_numpy(), rows["cpu_seconds"].to_numpy())
    return series


def target_checks(layer_table, fit_table, binn_table):
    """Each DESIGN.md target at its largest measured size, one thread."""
    checks = []

    def add(name, frame, column, target, larger_is_better=True):
        if frame is None or column not in frame:
            return
        rows = frame[(frame["threads"] == 1) & frame[column].notna()]
        if rows.empty:
            return
        row = rows.iloc[-1] if "genes" not in rows else rows.sort_values("genes").iloc[-1]
        value = float(row[column])
        checks.append({
            "check": name,
            "genes": int(row["genes"]) if "genes" in row else "binn",
            "measured": value,
            "target": f"{'>=' if larger_is_better else '<='} {target:g}",
            "pass": bool(value >= target if larger_is_better else value <= target),
        })

    for clock, suffix in (("wall", ""), ("CPU", " cpu")):
        add(f"layer: dense-masked / sparse ({clock})", layer_table, "dense/sparse" + suffix,
            TARGETS["layer_vs_dense"])
        add(f"layer: sparse / GEMM floor ({clock})", layer_table, "sparse/floor" + suffix,
            TARGETS["layer_vs_floor"], larger_is_better=False)
        add(f"epoch: dense-masked / sparse ({clock})", fit_table, "dense/sparse" + suffix,
            TARGETS["epoch_vs_dense"])
        add(f"epoch: binn / sparse on binn's network ({clock})", binn_table,
            "binn/sparse" + suffix, TARGETS["epoch_vs_binn"])
    return pd.DataFrame(checks)


def plot_scaling(series, path):
    """Log-log plot of epoch time against genes and against edges, with fitted slopes."""
    plt = headless_pyplot()

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, (x_name, x, wall, cpu) in series.items():
        if len(x) < 2:
            continue
        ax = axes[0] if x_name == "genes" else axes[1]
        color = None
        for y, clock, style in ((wall, "wall", "o-"), (cpu, "CPU", "s--")):
            slope = loglog_exponent(x, y)
            intercept = np.mean(np.log(y) - slope * np.log(x))
            grid = np.geomspace(x.min(), x.max(), 50)
            marker, line = style[0], style[1:]
            points, = ax.loglog(x, y, marker, color=color, mfc="none" if clock == "CPU" else None,
                                label=f"{name}, {clock}: slope {slope:.2f}")
            color = points.get_color()
            ax.loglog(grid, np.exp(intercept) * grid**slope, line, color=color, alpha=0.5)
    axes[0].set(xlabel="genes (Reactome-like mask, depth 4)", ylabel="seconds per epoch",
                title="Epoch time against genes")
    axes[1].set(xlabel="edges (fixed genes and pathways)", ylabel="seconds per epoch",
                title="Sparse epoch time against edges")
    for ax in axes:
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(f"One epoch: 1,000 samples, batch 128, Adam, 1 thread, torch {torch.__version__} "
                 "(filled: wall time, hollow: process CPU time)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ----------------------------------------- (k) the whole Reactome: copies or skips
REACTOME_SAMPLES = 10_000
REACTOME_EPOCHS = 50
REACTOME_THREADS = 2


def make_reactome_cells(quick, threads=REACTOME_THREADS):
    """(k): one cell, both constructions of the whole human Reactome side by side."""
    return [{"n_samples": 1_000 if quick else REACTOME_SAMPLES, "threads": threads}]


def _reactome_fit(mask, X, y, epochs):
    """A BINNRegressor fit of ``epochs`` epochs (defaults: Adam, batch 128, no split);
    returns its wall time and keeps the timed fits' per-epoch durations and process
    CPU times. The first call, the untimed warm-up of :func:`interleaved`, fits one
    epoch only."""
    durations, calls, cpu = [], [], []

    def fit():
        warm_up = not calls
        calls.append(1)
        reg = BINNRegressor(mask, max_epochs=1 if warm_up else epochs, train_split=None,
                            random_state=0)
        begin, begin_cpu = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():  # a fixed epoch budget, by design
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg.fit(X, y)
        seconds = time.perf_counter() - begin
        if not warm_up:
            cpu.append(time.process_time() - begin_cpu)
            durations.extend(float(d) for d in reg.history_[:, "dur"])
        return seconds

    return fit, durations, cpu


def measure_reactome(cell, quick):
    """(k): the whole human Reactome (all 12 levels), copies against skip edges.

    ``load_reactome(copies=True)`` (P-NET's chain, 19,227 nodes) against
    ``load_reactome()`` (skip-level, one node per pathway, 2,705 nodes):
    whole ``BINNRegressor`` fits on the same data, interleaved. The skip
    network is fitted for all ``REACTOME_EPOCHS`` epochs; the copies network,
    whose fit is slower, for ``REACTOME_EPOCHS / 10`` epochs, and its
    50-epoch time is extrapolated from its median epoch (column
    ``extrapolated``). Two interleaved rounds after a one-epoch warm-up of
    each. ``--quick``: 1,000 samples, 2 and 1 epochs.
    """
    from threadpoolctl import threadpool_limits

    gen = torch.Generator().manual_seed(0)
    masks = {"skip edges": load_reactome(), "copies": load_reactome(copies=True)}
    n_genes = masks["skip edges"].n_features
    X = torch.randn(cell["n_samples"], n_genes, generator=gen).numpy()
    y = (X[:, :50].sum(axis=1) / 7.0).astype(np.float32)
    epochs = {"skip edges": 2 if quick else REACTOME_EPOCHS,
              "copies": 1 if quick else REACTOME_EPOCHS // 10}
    fits = {name: _reactome_fit(mask, X, y, epochs[name]) for name, mask in masks.items()}
    with threadpool_limits(limits=cell["threads"]):
        times = interleaved({name: fit for name, (fit, _, _) in fits.items()}, 2, 0.0)
    rows = []
    for name, mask in masks.items():
        per_epoch = np.array(fits[name][1])  # every epoch of the timed fits
        module = BINNModule(mask)
        fit_s = spread(times[name], scale=1.0)
        epoch_median = float(np.median(per_epoch))
        full = epochs[name] == REACTOME_EPOCHS
        rows.append({
            "impl": name, "n_nodes": int(sum(mask.layer_sizes)), "depth": mask.depth,
            "n_edges": mask.n_edges,
            "n_parameters": int(sum(p.numel() for p in module.parameters())),
            "epochs": epochs[name], "fit_median_s": fit_s["median_ms"],
            "fit_q25_s": fit_s["q25_ms"], "fit_q75_s": fit_s["q75_ms"],
            "repeats": fit_s["repeats"], "epoch_median_s": epoch_median,
            "epoch_q25_s": float(np.percentile(per_epoch, 25)),
            "epoch_q75_s": float(np.percentile(per_epoch, 75)),
            "fit_50_epochs_s": fit_s["median_ms"] if full else REACTOME_EPOCHS * epoch_median,
            # process CPU time: the work itself, whatever other jobs load the machine
            # (with one thread; with two it adds both threads' time)
            "fit_cpu_median_s": float(np.median(fits[name][2])),
            "cpu_50_epochs_s": float(np.median(fits[name][2])) * REACTOME_EPOCHS / epochs[name],
            "extrapolated": not full,
        })
    return rows


def summarise_reactome(table):
    """(k): the whole Reactome, 50 epochs, copies against skip edges."""
    table = _numeric(table)
    rows = []
    for _, row in table.iterrows():
        same = table[(table["n_samples"] == row["n_samples"])
                     & (table["threads"] == row["threads"])]
        skip = same.loc[same["impl"] == "skip edges", "fit_50_epochs_s"].iloc[0]
        skip_cpu = same.loc[same["impl"] == "skip edges", "cpu_50_epochs_s"].iloc[0]
        rows.append({
            "samples": int(row["n_samples"]), "threads": int(row["threads"]),
            "network": row["impl"],
            "nodes": int(row["n_nodes"]), "edges": int(row["n_edges"]),
            "parameters": int(row["n_parameters"]),
            "epoch s": f"{row['epoch_median_s']:.2f} [{row['epoch_q25_s']:.2f}, "
                       f"{row['epoch_q75_s']:.2f}]",
            "fit s (epochs fitted)": f"{row['fit_median_s']:.1f} [{row['fit_q25_s']:.1f}, "
                                     f"{row['fit_q75_s']:.1f}] ({int(row['epochs'])})",
            "50 epochs s": round(float(row["fit_50_epochs_s"]), 1),
            "50 epochs CPU s": round(float(row["cpu_50_epochs_s"]), 1),
            "extrapolated": bool(row["extrapolated"] in (True, "True")),
            "/ skip edges": round(float(row["fit_50_epochs_s"]) / skip, 2),
            "CPU / skip edges": round(float(row["cpu_50_epochs_s"]) / skip_cpu, 2),
        })
    return pd.DataFrame(rows)


#: Issue 15's targets for whole fits: (i) at batch 128, an epoch of the estimator no slower
#: than scikit-learn's MLPRegressor; (i) full batch, within 2 times of a hand-written torch
#: loop; (k) the skip-level whole Reactome, 50 epochs, under 30 s on 2 cores.
FIT_TARGETS = {"small_vs_mlp": 1.0, "full_batch_vs_loop": 2.0, "reactome_s": 30.0}


def fit_targets(small=None, reactome=None):
    """Issue 15's whole-fit targets (:data:`FIT_TARGETS`), measured: ``speed_fit_targets.csv``.

    Parameters
    ----------
    small : pandas.DataFrame, default=None
        The rows of part (i) (``speed_small.csv``: ``batch``, ``impl``,
        ``kernel``, ``median_ms``).
    reactome : pandas.DataFrame, default=None
        The rows of part (k) (``speed_reactome.csv``: ``threads``, ``impl``,
        ``fit_50_epochs_s``, ``extrapolated``).

    Returns
    -------
    pandas.DataFrame
        One row per target the given parts measure: ``check``, ``measured``
        (median ratio, or seconds), ``target`` and ``met``.

    Examples
    --------
    >>> small = pd.DataFrame({"batch": [128, 128, 4000, 4000],
    ...     "impl": ["sklearn MLPRegressor", "BINNRegressor", "torch loop", "BINNRegressor"],
    ...     "kernel": ["-", "auto", "auto", "auto"], "median_ms": [30.0, 60.0, 10.0, 12.0]})
    >>> fit_targets(small)[["measured", "met"]].values.tolist()
    [[2.0, False], [1.2, True]]
    """
    checks = []

    def add(check, value, target, larger=False):
        checks.append({"check": check, "measured": round(float(value), 3),
                       "target": f"{'>' if larger else '<='} {target:g}",
                       "met": bool(value > target if larger else value <= target)})

    if small is not None and len(small):
        small = _numeric(small)
        auto = small["kernel"].isin(["auto", "-"])

        def median(batch, impl):
            rows = small[(small["batch"] == batch) & (small["impl"] == impl) & auto]
            return float(rows["median_ms"].iloc[0]) if len(rows) else np.nan

        if 128 in set(small["batch"]):
            add("small case, batch 128: BINNRegressor / MLPRegressor epoch",
                median(128, "BINNRegressor") / median(128, "sklearn MLPRegressor"),
                FIT_TARGETS["small_vs_mlp"])
        full = small["batch"].max()
        if full != 128:
            add(f"small case, full batch ({int(full):,}): BINNRegressor / torch loop epoch",
                median(full, "BINNRegressor") / median(full, "torch loop"),
                FIT_TARGETS["full_batch_vs_loop"])
    if reactome is not None and len(reactome):
        reactome = _numeric(reactome)
        for _, row in reactome[reactome["impl"] == "skip edges"].iterrows():
            add(f"whole Reactome, skip edges, {REACTOME_EPOCHS} epochs, "
                f"{int(row['threads'])} thread(s): wall s (target on 2 cores)",
                row["fit_50_epochs_s"], FIT_TARGETS["reactome_s"])
    return pd.DataFrame(checks, columns=["check", "measured", "target", "met"])


PARTS = ("layers", "kernels", "small", "peers", "reactome")


def parse_args(argv=None):
    parser = build_parser(__file__, __doc__)
    parser.add_argument("--no-binn", action="store_true",
                        help="skip the comparison with the binn 0.1.1 package")
    parser.add_argument("--no-kpnn2", action="store_true",
                        help="skip kpnn2's PackedLinear in the peer-layer table")
    parser.add_argument("--parts", default=",".join(PARTS), metavar="LIST",
                        help="comma-separated parts to run, among " + ", ".join(PARTS)
                        + " (default: all)")
    parser.add_argument("--docs-tables", type=Path, default=None, metavar="DIR",
                        help="also write the tables that docs/speed.rst includes "
                             "(speed_<table>.csv: layer, epoch, memory, binn, scaling, "
                             "targets, run_info from the layers part; kernels, small, peers, "
                             "reactome; run_info_<parts> for a run without the layers part) "
                             "into DIR, e.g. docs/_static")
    parser.add_argument("--reactome-threads", type=int, default=REACTOME_THREADS, metavar="N",
                        help="torch threads of part (k), the whole Reactome (default: "
                             f"{REACTOME_THREADS}; on a machine loaded by other jobs two "
                             "threads wait on each other, and 1 measures the work)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--build-binn", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        parser.error(f"--parts must list parts among {', '.join(PARTS)}; got {unknown}.")
    return args


def prepare_kpnn2(args, log):
    """kpnn2's folder for :func:`import_packed_linear`, or (False, reason)."""
    if args.no_kpnn2:
        return False, "not run: --no-kpnn2"
    try:
        target = install_kpnn2(args.out / "cache", log)
        import_packed_linear(target)
    except (RuntimeError, OSError, ImportError, subprocess.SubprocessError) as exc:
        log.error("kpnn2 unavailable: %s", exc)
        return False, f"kpnn2 {KPNN2_VERSION} not run: {exc}"
    return target, None


def run_part(args, name, cells, worker, keys):
    """Run one part's cells (one torch thread each) into ``<out>/speed_<name>.csv``."""
    suffix = "_quick" if args.quick else ""
    return run_cells(cells, worker, args.out / f"speed_{name}{suffix}.csv", keys,
                     n_jobs=args.n_jobs, backend=args.backend, desc=name,
                     scheduler=args.scheduler, torch_threads=1)


def main(argv=None):
    args = parse_args(argv)
    if args.child is not None:  # one fit measurement in a fresh process
        payload = json.loads(args.child)
        print(json.dumps(measure_fit(payload["cell"], args.out / "cache", payload["quick"])))
        return 0
    if args.build_binn:
        build_binn_network(args.out / "cache")
        return 0
    started, clock = datetime.datetime.now(datetime.timezone.utc), time.time()
    load_start = os.getloadavg()
    command = shlex.join(["python", "benchmarks/speed.py",
                          *(sys.argv[1:] if argv is None else argv)])
    args.out.mkdir(parents=True, exist_ok=True)
    log = open_log(args.out)
    log.info("speed benchmark: torch %s, python %s, %s, %d CPUs, quick=%s, parts=%s",
             torch.__version__, platform.python_version(), platform.platform(),
             os.cpu_count(), args.quick, args.parts)
    log.info("load average (1, 5, 15 min) at the start: %.1f, %.1f, %.1f", *load_start)
    sections, docs, fit_parts = {}, {}, {}
    if "layers" in args.parts:
        binn_inputs, binn_reason = prepare_binn(args, log)
        cells = make_cells(args.quick, binn_inputs)
        csv = args.out / ("speed_quick.csv" if args.quick else "speed.csv")
        table = run_cells(
            cells, functools.partial(run_cell, out_dir=args.out.resolve(), quick=args.quick),
            csv, KEY_COLUMNS, n_jobs=args.n_jobs, backend=args.backend, desc="speed",
            scheduler=args.scheduler, torch_threads=None,
        )
        tables = summary_tables(table)
        sections, series = summarise(table, binn_reason, tables)
        docs.update(docs_layer_tables(tables, binn_reason))
        plot_scaling(series, args.out / "scaling.png")
    if "kernels" in args.parts:
        table = run_part(args, "kernels", make_kernel_cells(args.quick),
                         functools.partial(measure_kernels, quick=args.quick),
                         ["n_in", "n_out", "density", "batch", "threads"])
        docs["kernels"] = summarise_kernels(table)
        sections["(h) Dense against CSR kernel, one layer, forward + backward, 1 thread "
                 "(median [quartiles], ms)"] = docs["kernels"]
    if "small" in args.parts:
        table = run_part(args, "small", make_small_cells(args.quick),
                         functools.partial(measure_small, quick=args.quick),
                         ["batch", "threads"])
        docs["small"] = summarise_small(table)
        fit_parts["small"] = table
        sections[f"(i) One epoch, {SMALL_GENES} genes, {SMALL_SAMPLES:,} samples, 1 thread "
                 "(median [quartiles], ms)"] = docs["small"]
    if "peers" in args.parts:
        target, reason = prepare_kpnn2(args, log)
        table = run_part(args, "peers", make_peer_cells(args.quick),
                         functools.partial(measure_peers, quick=args.quick,
                                           kpnn2_target=target),
                         ["n_genes", "batch", "threads"])
        docs["peers"] = summarise_peers(table)
        title = (f"(j) Peer layers, gene layer, forward + backward, batch {BATCH}, 1 thread "
                 "(median [quartiles], ms)")
        sections[title] = docs["peers"] if reason is None else f"{reason}\n{docs['peers']}"
    if "reactome" in args.parts:
        suffix = "_quick" if args.quick else ""
        table = run_cells(make_reactome_cells(args.quick, args.reactome_threads),
                          functools.partial(measure_reactome, quick=args.quick),
                          args.out / f"speed_reactome{suffix}.csv", ["n_samples", "threads"],
                          n_jobs=1, backend=args.backend, desc="reactome",
                          scheduler=args.scheduler, torch_threads=args.reactome_threads)
        docs["reactome"] = summarise_reactome(table)
        fit_parts["reactome"] = table
        sections[f"(k) Whole human Reactome, {REACTOME_EPOCHS} epochs of BINNRegressor: "
                 "P-NET copies against skip edges (median [quartiles])"] = docs["reactome"]
    if fit_parts:
        docs["fit_targets"] = fit_targets(**fit_parts)
        sections["Issue 15's whole-fit targets"] = docs["fit_targets"]
    load_end = os.getloadavg()
    # the run the page's machine section describes: run_info for a run with the
    # layers part, run_info_<parts> for a run of other parts alone
    info = "run_info" if "layers" in args.parts else "run_info_" + "_".join(args.parts)
    docs[info] = run_info_table(command, started, load_start, load_end, time.time() - clock)
    write_tables(docs, args.out, args.quick, args.docs_tables)
    log.info("load average (1, 5, 15 min) at the end: %.1f, %.1f, %.1f", *load_end)
    print_summary(sections, out_dir=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
