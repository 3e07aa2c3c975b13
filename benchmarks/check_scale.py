"""``identifiability_check`` at Reactome scale: a user's 2,000 genes, 300 samples.

What it measures
----------------
What a user with a real data set would run before reading their BINN:
:func:`sklearn_binn.identifiability_check` on the three-level bundled human
Reactome restricted to their genes (here
:func:`sklearn_binn.study.reactome_subset`: ``load_reactome(n_levels=3)``
restricted to a fixed sample of ``--n-genes`` genes, the mask of the
study's ``reactome_genes`` hierarchy) at ``--n-samples`` training samples,
with pathway names (``load_reactome(..., return_names=True)``), under the
user's training settings (``--lr``, ``--max-epochs``: Adam with early
stopping) and the converged protocol, ``--n-teachers`` simulated teachers,
replicates in parallel with ``--n-jobs``. It records the wall time of the
call and writes the check's tables and figure.

Outputs (in ``--out``)
----------------------
``nodes.csv``, ``layers.csv``, ``replicates.csv``
    The check's :attr:`~sklearn_binn.IdentifiabilityCheck.nodes` (one row
    per protocol and pathway node, with its name),
    :attr:`~sklearn_binn.IdentifiabilityCheck.layers` and
    :attr:`~sklearn_binn.IdentifiabilityCheck.replicates`.
``readable.csv``
    :meth:`~sklearn_binn.IdentifiabilityCheck.readable`: the nodes whose
    weights and activation are recovered in at least 80 % of the replicates
    under a protocol (and whose weights untrained students do not recover),
    with their names.
``run_time.csv``
    The command, the mask (genes, pathways per layer, edges), samples,
    task, teachers, ``--n-jobs``, the check's jobs (one per teacher and
    protocol, one per teacher for the untrained students) fitted and read
    from the cache, the
    call's wall time (seconds and minutes), the machine's CPUs and its
    one-minute load average at the start and end (other jobs share the
    cores when it is above what the check itself puts on them), the summed
    fit time of the students and the date.
``check.png``, ``summary.txt`` (:meth:`~sklearn_binn.IdentifiabilityCheck.summary`
and the tables), ``cache/`` (the check's resumable cache: a rerun reads the
finished jobs back instead of refitting; its wall time then measures
reading, and ``run_time.csv`` says how many jobs were read).

``--docs NAME`` copies the tables, figure and summary into
``docs/_static/check_scale_<NAME>_<file>`` (what
``docs/identifiability_check.rst`` includes).

How to run
----------
From the repository root::

    python benchmarks/check_scale.py --quick --n-jobs 2   # 200 genes, 2 teachers
    python benchmarks/check_scale.py --n-jobs 2            # 2,000 genes, 300 samples
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import build_parser, copy_to_docs, print_summary, run_command  # noqa: E402
from sklearn_binn import identifiability_check, load_reactome  # noqa: E402
from sklearn_binn.study import headless_pyplot, reactome_subset  # noqa: E402

FULL = {"n_genes": 2000, "n_teachers": 5}
QUICK = {"n_genes": 200, "n_teachers": 2}
# --tiny (hidden, for the test suite): toy budgets
TINY = {"converged_params": {"max_epochs": 3, "n_init": 1}, "n_test": 40,
        "n_chance_draws": 1, "method": "gradient_x_input"}
SCRIPT = "benchmarks/check_scale.py"
DOCS_FILES = ("nodes.csv", "layers.csv", "replicates.csv", "readable.csv", "run_time.csv",
              "check.png", "summary.txt")


def build_arg_parser():
    """The shared command line plus the check's settings.

    Examples
    --------
    >>> args = build_arg_parser().parse_args(["--quick"])
    >>> args.n_samples, args.task, args.lr, args.max_epochs
    (300, 'classification', 0.01, 300)
    """
    parser = build_parser(__file__, __doc__)
    parser.add_argument("--n-genes", type=int, metavar="N",
                        help=f"Reactome genes kept (default {FULL['n_genes']}, "
                             f"--quick {QUICK['n_genes']})")
    parser.add_argument("--n-samples", type=int, default=300, metavar="N",
                        help="training samples per teacher (default 300)")
    parser.add_argument("--task", choices=("classification", "regression", "survival"),
                        default="classification", help="default: classification")
    parser.add_argument("--n-teachers", type=int, metavar="N",
                        help=f"teachers (default {FULL['n_teachers']}, "
                             f"--quick {QUICK['n_teachers']})")
    parser.add_argument("--lr", type=float, default=1e-2,
                        help="the user's Adam learning rate (default 0.01)")
    parser.add_argument("--max-epochs", type=int, default=300,
                        help="the user's epoch budget (default 300)")
    parser.add_argument("--docs", metavar="NAME",
                        help="copy the tables, figure and summary into docs/_static as "
                             "check_scale_NAME_*")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    """Run the check, write its tables, figure and run time; return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_arg_parser().parse_args(argv)
    grid = QUICK if args.quick else FULL
    n_genes = args.n_genes or grid["n_genes"]
    n_teachers = args.n_teachers or grid["n_teachers"]
    mask = reactome_subset(n_genes)
    _, names = load_reactome(n_levels=3, return_names=True)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()[0]
    start = time.perf_counter()
    check = identifiability_check(
        mask, args.n_samples, task=args.task,
        estimator_params={"lr": args.lr, "max_epochs": args.max_epochs},
        n_teachers=n_teachers, names=names, n_jobs=args.n_jobs, backend=args.backend,
        cache=out / "cache", random_state=0, **(TINY if args.tiny else {}),
    )
    seconds = time.perf_counter() - start
    check.nodes.to_csv(out / "nodes.csv", index=False, float_format="%.4g")
    check.layers.to_csv(out / "layers.csv", float_format="%.4g")
    check.replicates.to_csv(out / "replicates.csv", index=False, float_format="%.4g")
    readable = check.readable()
    readable.to_csv(out / "readable.csv", index=False, float_format="%.4g")
    run_time = pd.DataFrame([{
        "command": run_command(SCRIPT, argv), "n_genes": mask.n_features,
        "pathways_per_layer": "/".join(str(n) for n in mask.layer_sizes),
        "n_edges": mask.n_edges, "n_samples": args.n_samples, "task": args.task,
        "n_teachers": n_teachers, "n_jobs": args.n_jobs,
        "jobs_fitted": check.n_fitted, "jobs_cached": check.n_cached,
        "wall_s": round(seconds, 1), "wall_min": round(seconds / 60, 2),
        "cpus": os.cpu_count(), "load_1min_start": round(load_start, 2),
        "load_1min_end": round(os.getloadavg()[0], 2),
        "fit_time_s_total": round(float(check.replicates["fit_time_s"].sum()), 1),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
    }])
    run_time.to_csv(out / "run_time.csv", index=False)
    plt = headless_pyplot()
    figure = check.plot()
    figure.savefig(out / "check.png", dpi=100)
    plt.close(figure)
    print_summary({"Run": run_time.drop(columns="command"), "Summary": check.summary(),
                   "Readable nodes (IdentifiabilityCheck.readable)": readable,
                   "Layers": check.layers.reset_index()}, out_dir=out)
    if args.docs:
        copy_to_docs(out, f"check_scale_{args.docs}", DOCS_FILES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
