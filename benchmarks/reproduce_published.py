"""Reproduce the published teacher–student study of BINNs, then repeat it on fully wired BINNs.

What it measures
----------------
The study "The illusion of interpretability in biologically-informed neural
networks" (GitHub: JhonatanFelix/The-illusion-of-interpretability-in-
biologically-informed-neural-networks) draws a random, never-trained teacher
(400 genes → 60 overlapping pathways → dense ReLU head 64-64 → output; seed 42),
inputs from a latent pathway model (seed 123), and trains students with the same
wiring (Adam, lr 0.002, batch 512, 120 epochs, MSE on the teacher's output
amplified to sd 6, seeds 9000, 9001, ...). This script rebuilds that recipe with
``sklearn_binn.published`` (:class:`~sklearn_binn.published.PublishedTeacher`,
:func:`~sklearn_binn.published.make_published_problem`, students are this package's
``BINNRegressor`` / ``BINNClassifier`` / ``BINNSurvival`` started by
:class:`~sklearn_binn.published.PublishedInit`) and reports, per student, the study's
metrics (:func:`~sklearn_binn.published.published_metrics`) beside this package's
(:func:`~sklearn_binn.recovery_report`) and the chance level of untrained
students. Parts (``--parts``):

- ``reproduce``: the nested design's 12k students 9000–9002 (pool of 96,000,
  one test set of 3,000), regression;
- ``sweep``: the same design at 24k, 48k and 96k;
- ``fixed``: the fixed 12k problem (12,000 + 3,000 rows drawn together),
  students 9000–9004;
- ``init``: the 12k students again, started from this package's own
  initialisation (per-node fan-in, random biases) instead of the study's;
- ``wired``: fully wired BINNs: the same teacher recipe with no dense head and
  1–3 pathway layers (60 → 15 → 4 parents), at 1.5k–96k samples, and the
  study's architecture at 1.5k and 3k (matching samples per parameter);
- ``teacher_start``: students started *at* the teacher (its output layer
  rescaled to the amplified target, so at zero loss) and trained the same 120
  epochs, 12k, each architecture: if they stay, the teacher is a stable
  solution and students from random starts miss it through optimisation;
- ``tasks``: the fixed 12k problem for the other tasks: binary (the study's
  student: MSE on the raw logit), binary with a proper BCE classifier on the
  labels ``logit > 0``, survival with a Cox-loss ``BINNSurvival`` on simulated
  times (the study's own survival student is the regression student; its
  C-index is reported with ``regression``).

How to run
----------
::

    python benchmarks/reproduce_published.py --n-jobs 2             # all parts
    python benchmarks/reproduce_published.py --parts reproduce,sweep --n-jobs 2
    python benchmarks/reproduce_published.py --quick                # minutes

Results go to ``--out`` (``reproduce_published_results.csv``, one row per
student; the summary tables as CSV; the figure). A rerun skips finished students.

What passes
-----------
A published row (one ``n_train`` and one metric) is *reproduced* when the mean
over our students differs from the mean over theirs by at most twice the
standard error of that difference from the pooled seed-to-seed sd:
``|m_ours - m_theirs| <= 2 * s_pooled * sqrt(1/n_ours + 1/n_theirs)``.
A recovery score is *above chance* when the mean over trained students exceeds
the mean over untrained students by more than twice the standard error of the
difference (``2 * sqrt(sd_t^2/n_t + sd_c^2/n_c)``). ``--quick`` trains fewer
epochs (the ``epochs`` column says how many); its rows are never compared with
the published ones.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch
from sklearn.base import clone
from sklearn.metrics import r2_score
from sksurv.metrics import concordance_index_censored

from _common import build_parser, headless_pyplot, print_summary, run_cells
from sklearn_binn import BINNClassifier, BINNRegressor, BINNSurvival, PathwayMask, recovery_report
from sklearn_binn.datasets import make_overlapping_gene_sets, make_pathway_mask
from sklearn_binn.published import (
    PublishedInit,
    PublishedTeacher,
    load_published_results,
    make_published_problem,
    published_metrics,
)

STEM = "reproduce_published"
EPOCHS = 120
N_TEST = 3000
POOL = 96000
SWEEP = (12000, 24000, 48000, 96000)
WIRED_SIZES = (1500, 3000, 12000, 24000, 48000, 96000)
WIRED_WIDTHS = (60, 15, 4)
CHANCE_SEED = 100  # untrained students are drawn with seeds 100, 101, ...
PUBLISHED_METRICS = [
    "train_r2", "test_r2", "relL2_mean", "cos_std_mean", "cos_pos_mean",
    "act_corr_mean", "act_cosine_mean", "act_r2",
]
KEYS = ["design", "task", "arch", "student", "n_train", "n_pool", "n_test", "seed", "epochs"]
PARTS = ("reproduce", "sweep", "fixed", "init", "wired", "tasks", "teacher_start")
ARCH_LABELS = {
    "published": "study (head 64-64)",
    "published_pkg_init": "study, package init",
    "wired_d1": "wired, depth 1",
    "wired_d2": "wired, depth 2",
    "wired_d3": "wired, depth 3",
}
# The study's task audit (task_fidelity_audit.csv at commit 41438d30, student 9000,
# fixed 12k problem); these tasks are not in published_results.csv.
AUDIT = {
    "regression": {"test_r2": 0.7916066793383273, "task_metric": 0.8489543514904939,
                   "teacher_task_metric": 0.941317787705447},
    "binary": {"test_r2": 0.7626233857927107, "task_metric": 0.9316666722297668,
               "margin_metric": 1.0, "majority_baseline": 0.9020000100135803},
}


# ------------------------------------------------------------------ the setup
def hierarchy():
    """The study's 60 gene sets with two random parent layers above them (60 → 15 → 4)."""
    genes = make_overlapping_gene_sets()
    upper = make_pathway_mask(400, n_pathways=WIRED_WIDTHS, random_state=0)
    return PathwayMask(
        [genes.layers[0], *upper.layers[1:]], feature_names=genes.feature_names,
        node_names=[genes.node_names[0], *upper.node_names[1:]],
    )


def architecture(arch):
    """(mask, depth, head_layer_sizes) of an architecture name."""
    if arch.startswith("published"):
        return make_overlapping_gene_sets(), 1, (64, 64)
    return hierarchy(), int(arch[-1]), ()


_TEACHER_TASK = {"regression": "regression", "binary": "regression",
                 "binary_bce": "classification", "survival_cox": "survival"}


def problem_of(cell):
    mask, depth, head = architecture(cell["arch"])
    teacher = PublishedTeacher(mask, _TEACHER_TASK[cell["task"]], depth=depth,
                               head_layer_sizes=head)
    return make_published_problem(cell["n_train"], cell["n_test"], n_pool=cell["n_pool"],
                                  teacher=teacher)


def student_of(cell, problem, epochs, seed):
    mask, depth, head = architecture(cell["arch"])
    estimator = {"regression": BINNRegressor, "binary": BINNRegressor,
                 "binary_bce": BINNClassifier, "survival_cox": BINNSurvival}[cell["task"]]
    callbacks = None if cell["arch"] == "published_pkg_init" else [
        ("published_init", PublishedInit())
    ]
    return estimator(
        mask, depth=depth, activation="relu", head_layer_sizes=head, head_activation="relu",
        train_split=None, n_iter_no_change=None, max_epochs=epochs, batch_size=512, lr=0.002,
        iterator_train__shuffle=True, callbacks=callbacks, random_state=seed,
    )


def training_target(task, problem):
    return {"regression": problem.y_train, "binary": problem.logit_train,
            "binary_bce": problem.label_train, "survival_cox": problem.survival_train}[task]


# ------------------------------------------------------------------ the scores
def _output(student, X):
    if isinstance(student, BINNClassifier):
        return student.decision_function(X)
    return student.predict(X)


def _cindex(survival, risk):
    return float(concordance_index_censored(survival["event"], survival["time"], risk)[0])


def output_scores(task, student, problem):
    """Output fit and the task's own metric, against the teacher's target."""
    test = _output(student, problem.X_test)
    row = {}
    if task in ("regression", "binary"):
        target_train = problem.y_train if task == "regression" else problem.logit_train
        target_test = problem.y_test if task == "regression" else problem.logit_test
        row["train_r2"] = r2_score(target_train, _output(student, problem.X_train))
        row["test_r2"] = r2_score(target_test, test)
    elif task == "survival_cox":  # Cox fixes the log-risk up to a shift
        row["test_r2"] = r2_score(problem.y_test - problem.y_test.mean(), test - test.mean())
    reference = problem.y_test if task in ("regression", "survival_cox") else problem.logit_test
    row["test_corr2"] = float(np.corrcoef(reference, test)[0, 1] ** 2)
    if task in ("regression", "survival_cox"):
        row["task_metric"] = _cindex(problem.survival_test, test)
        row["teacher_task_metric"] = _cindex(problem.survival_test, problem.y_test)
    else:
        labels = problem.label_test.astype(bool)
        hard = test > 0
        margin = np.abs(problem.logit_test) >= 1e-2
        row["task_metric"] = float((hard == labels).mean())
        row["margin_metric"] = float((hard[margin] == labels[margin]).mean())
        row["majority_baseline"] = float(max(labels.mean(), 1 - labels.mean()))
    return row


def recovery_scores(student, teacher, X):
    """The study's metrics on layer 0 and ours per layer (all nodes and live nodes)."""
    row = published_metrics(student, teacher, X)
    report = recovery_report(student, teacher, X)
    row["weight_recovery"] = report.summary["weight_recovery"]
    row["activation_recovery"] = report.summary["activation_recovery"]
    nodes = report.nodes
    live = nodes[nodes["influence"] > 0]
    row["weight_recovery_live"] = live.groupby("layer")["weight_recovery"].mean().mean()
    row["activation_recovery_live"] = live.groupby("layer")["activation_recovery"].mean().mean()
    for layer, frame in nodes.groupby("layer"):
        row[f"weight_L{layer}"] = frame["weight_recovery"].mean()
        row[f"activation_L{layer}"] = frame["activation_recovery"].mean()
        row[f"dead_teacher_L{layer}"] = int((frame["influence"] == 0).sum())
    return row


def n_parameters(student):
    return int(sum(p.numel() for p in student.module_.parameters() if p.requires_grad))


def teacher_start_row(cell, problem):
    """A student started at the teacher, trained as the others: optimisation or identifiability?

    The teacher's output layer is first rescaled to the amplified target (the
    study's ``oracle_clone``), so the student starts at zero loss.
    """
    teacher = problem.teacher
    student = teacher.to_estimator(
        train_split=None, n_iter_no_change=None, max_epochs=cell["epochs"], batch_size=512,
        lr=0.002, iterator_train__shuffle=True, random_state=cell["seed"], warm_start=True,
    )
    scale = 6.0 / (problem.target_std + 1e-8)
    with torch.no_grad():
        student.module_.output.weight.mul_(scale)
        student.module_.output.bias.sub_(problem.target_mean).mul_(scale)
    start_r2 = r2_score(problem.y_test, student.predict(problem.X_test))
    begin = time.perf_counter()
    student.fit(problem.X_train, problem.y_train)
    row = {"fit_seconds": time.perf_counter() - begin, "n_params": n_parameters(student),
           "start_test_r2": start_r2}
    row["samples_per_param"] = cell["n_train"] / row["n_params"]
    row.update(output_scores(cell["task"], student, problem))
    row.update(recovery_scores(student, teacher, problem.X_test))
    return row


# ------------------------------------------------------------------ the worker
def run_cell(cell):
    """One cell: a trained student, the untrained draws, the teacher, or a teacher start."""
    problem = problem_of(cell)
    teacher = problem.teacher
    y = training_target(cell["task"], problem)
    if cell["student"] == "teacher":
        estimator = teacher.to_estimator()
        row = recovery_scores(estimator, teacher, problem.X_test)
        row["n_params"] = n_parameters(estimator)
        row["teacher_task_metric"] = _cindex(problem.survival_test, problem.y_test)
        row["teacher_output_sd"] = float(problem.y_test.std(ddof=1))
        return row
    if cell["student"] == "teacher_start":
        return teacher_start_row(cell, problem)
    if cell["student"] == "untrained":
        rows = []
        template = student_of(cell, problem, 0, None)
        for draw in range(cell["n_draws"]):
            untrained = clone(template).set_params(random_state=CHANCE_SEED + draw)
            untrained.fit(problem.X_train[:64], y[:64])
            row = {"draw": draw, "n_params": n_parameters(untrained)}
            row.update(output_scores(cell["task"], untrained, problem))
            row.update(recovery_scores(untrained, teacher, problem.X_test))
            rows.append(row)
        return rows
    student = student_of(cell, problem, cell["epochs"], cell["seed"])
    start = time.perf_counter()
    student.fit(problem.X_train, y)
    row = {"fit_seconds": time.perf_counter() - start, "n_params": n_parameters(student),
           "final_train_loss": float(student.history_[-1, "train_loss"])}
    row["samples_per_param"] = cell["n_train"] / row["n_params"]
    row.update(output_scores(cell["task"], student, problem))
    row.update(recovery_scores(student, teacher, problem.X_test))
    return row


# ------------------------------------------------------------------- the grid
def cells_of(args):
    """Per part, the list of cells to run, in the order of the brief's priorities."""
    quick = args.quick
    epochs = args.epochs if args.epochs is not None else (30 if quick else EPOCHS)
    sweep = tuple(args.sizes) if args.sizes else ((12000,) if quick else SWEEP)
    pool = max(args.pool, max(sweep))
    n_seeds = args.seeds if args.seeds is not None else (1 if quick else 3)
    n_fixed = args.seeds if args.seeds is not None else (1 if quick else 5)
    draws = args.chance_draws if args.chance_draws is not None else (3 if quick else 10)
    wired_sizes = tuple(args.wired_sizes) if args.wired_sizes else (
        tuple(args.sizes) if args.sizes else ((12000,) if quick else WIRED_SIZES))
    wired = ("wired_d1",) if quick else ("wired_d1", "wired_d2", "wired_d3")

    def cell(design, task, arch, n_train, seed, student="trained"):
        n_pool = pool if design == "nested" else n_train
        return {"design": design, "task": task, "arch": arch, "student": student,
                "n_train": n_train, "n_pool": n_pool, "n_test": args.n_test,
                "seed": seed,
                "epochs": epochs if student in ("trained", "teacher_start") else 0,
                "n_draws": draws if student == "untrained" else 0}

    def references(design, arch, n_train, task="regression"):
        return [cell(design, task, arch, n_train, 0, "untrained"),
                cell(design, task, arch, n_train, 42, "teacher")]

    seeds = [9000 + i for i in range(n_seeds)]
    first = min(sweep)
    parts = {
        "reproduce": [cell("nested", "regression", "published", first, s) for s in seeds]
        + references("nested", "published", first),
        "sweep": [cell("nested", "regression", "published", n, s)
                  for n in sorted(sweep, reverse=True) if n != first for s in seeds],
        "fixed": [cell("fixed", "regression", "published", first, 9000 + i)
                  for i in range(n_fixed)] + references("fixed", "published", first),
        "init": [cell("nested", "regression", "published_pkg_init", first, s) for s in seeds]
        + references("nested", "published_pkg_init", first)[:1],
        "wired": [cell("nested", "regression", arch, n, s)
                  for n in sorted(wired_sizes, reverse=True) for arch in wired for s in seeds]
        + [cell("nested", "regression", "published", n, s)
           for n in sorted(wired_sizes, reverse=True) if n < first for s in seeds]
        + [c for arch in wired for c in references("nested", arch, first)],
        "tasks": [cell("fixed", task, "published", first, s)
                  for task in ("survival_cox", "binary", "binary_bce") for s in seeds],
        "teacher_start": [cell("nested", "regression", arch, first, 9000, "teacher_start")
                          for arch in ("published", *wired)],
    }
    return {name: parts[name] for name in args.parts}


# ------------------------------------------------------------------ summaries
def _mean_sd(values):
    values = pd.Series(values, dtype=float).dropna()
    return values.mean(), values.std(ddof=1) if len(values) > 1 else np.nan, len(values)


def comparison_table(results, published):
    """Ours beside theirs for each published row and metric, with the verdict."""
    sources = {"nested": "fixed_test_sample_size_trials", "fixed": "repeated_trials_baseline"}
    trained = results[(results["student"] == "trained") & (results["arch"] == "published")
                      & (results["task"] == "regression")]
    rows = []
    for (design, n_train, epochs, n_pool, n_test), ours in trained.groupby(
            ["design", "n_train", "epochs", "n_pool", "n_test"]):
        theirs = published[(published["source"] == sources[design])
                           & (published["n_train"] == n_train)]
        comparable = (epochs == EPOCHS and n_test == N_TEST and len(theirs)
                      and n_pool == (POOL if design == "nested" else n_train))
        for metric in PUBLISHED_METRICS:
            m1, s1, n1 = _mean_sd(ours[metric])
            row = {"design": design, "n_train": n_train, "epochs": epochs, "metric": metric,
                   "ours_mean": m1, "ours_sd": s1, "n_ours": n1}
            if comparable:
                m2, s2, n2 = _mean_sd(theirs[metric])
                pooled = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
                tolerance = 2 * pooled * np.sqrt(1 / n1 + 1 / n2)
                paired = ours.set_index("seed")[metric].sub(
                    theirs.set_index("student_seed")[metric]).dropna()
                row.update({
                    "theirs_mean": m2, "theirs_sd": s2, "n_theirs": n2,
                    "difference": m1 - m2, "tolerance": tolerance,
                    "max_paired_difference": paired.abs().max(),
                    "reproduced": "yes" if abs(m1 - m2) <= tolerance else "NO",
                })
            else:
                row["reproduced"] = f"not comparable ({epochs} epochs)" if epochs != EPOCHS \
                    else "not comparable (other design)"
            rows.append(row)
    return pd.DataFrame(rows)


RECOVERY_COLUMNS = ["weight_recovery", "activation_recovery", "weight_recovery_live",
                    "activation_recovery_live", "weight_L0", "activation_L0", "cos_std_mean",
                    "act_corr_mean"]


def recovery_table(results):
    """Output fit and recovery per architecture and sample size, against chance."""
    regression = results[results["task"] == "regression"]
    chance = regression[regression["student"] == "untrained"]
    trained = regression[regression["student"] == "trained"]
    rows = []
    for (design, arch, n_train, epochs), group in trained.groupby(
            ["design", "arch", "n_train", "epochs"]):
        base = chance[(chance["design"] == design) & (chance["arch"] == arch)]
        row = {"design": design, "arch": arch, "n_train": n_train, "epochs": epochs,
               "n_students": len(group), "n_params": int(group["n_params"].iloc[0]),
               "samples_per_param": n_train / group["n_params"].iloc[0]}
        m, s, _ = _mean_sd(group["test_r2"])
        row["test_r2"], row["test_r2_sd"] = m, s
        for column in RECOVERY_COLUMNS:
            m1, s1, n1 = _mean_sd(group[column])
            row[column], row[f"{column}_sd"] = m1, s1
            if len(base):
                m2, s2, n2 = _mean_sd(base[column])
                row[f"{column}_chance"] = m2
                row[f"{column}_chance_sd"] = s2
                margin = 2 * np.sqrt(np.nan_to_num(s1) ** 2 / n1 + s2**2 / n2)
                row[f"{column}_above_chance"] = "yes" if m1 - m2 > margin else "no"
        rows.append(row)
    return pd.DataFrame(rows)


def layer_table(results):
    """Our per-layer recovery of the fully wired students."""
    wired = results[(results["student"] == "trained") & results["arch"].str.startswith("wired")]
    columns = [c for c in results.columns
               if c.startswith(("weight_L", "activation_L", "dead_teacher_L"))]
    if wired.empty:
        return pd.DataFrame()
    return wired.groupby(["arch", "n_train"])[columns].mean().reset_index()


def teacher_start_table(results):
    """Students started at the teacher, beside the randomly started ones."""
    start = results[results["student"] == "teacher_start"]
    if start.empty:
        return pd.DataFrame()
    trained = results[(results["student"] == "trained") & (results["design"] == "nested")
                      & (results["task"] == "regression")]
    columns = ["test_r2", "cos_std_mean", "act_corr_mean", "act_r2", "weight_recovery",
               "activation_recovery", "weight_L0", "activation_L0"]
    rows = []
    for _, row in start.iterrows():
        same = trained[(trained["arch"] == row["arch"]) & (trained["n_train"] == row["n_train"])
                       & (trained["seed"] == row["seed"])]
        rows.append({"arch": row["arch"], "n_train": row["n_train"], "seed": row["seed"],
                     "start": "teacher", "start_test_r2": row["start_test_r2"],
                     **{c: row[c] for c in columns}})
        if len(same):
            rows.append({"arch": row["arch"], "n_train": row["n_train"], "seed": row["seed"],
                         "start": "random", **{c: same.iloc[0][c] for c in columns}})
    return pd.DataFrame(rows)


def task_table(results):
    rows = []
    trained = results[(results["student"] == "trained") & (results["design"] == "fixed")
                      & (results["arch"] == "published") & (results["n_train"] == 12000)]
    for task, group in trained.groupby("task"):
        row = {"task": task, "n_students": len(group)}
        for column in ["test_r2", "test_corr2", "task_metric", "teacher_task_metric",
                       "margin_metric", "majority_baseline", "cos_std_mean", "act_corr_mean",
                       "weight_recovery", "activation_recovery"]:
            if column in group:
                row[column] = group[column].mean()
        for name, value in AUDIT.get(task, {}).items():
            row[f"study_{name}"] = value
        seed_9000 = group[group["seed"] == 9000]
        if len(seed_9000):
            row["test_r2_seed9000"] = seed_9000["test_r2"].iloc[0]
            row["task_metric_seed9000"] = seed_9000["task_metric"].iloc[0]
        rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ the figure
def plot(results, published, path):
    plt = headless_pyplot()

    nested = results[(results["design"] == "nested") & (results["task"] == "regression")]
    trained = nested[nested["student"] == "trained"]
    chance = nested[nested["student"] == "untrained"]
    if trained.empty:
        return None
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    panels = [(axes[0, 0], "test_r2", "output fit: test R²"),
              (axes[0, 1], "weight_recovery", "weight recovery (ours; = cos_std on layer 0)"),
              (axes[1, 0], "activation_recovery", "activation recovery (ours)")]
    colors = dict(zip(ARCH_LABELS, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for arch, group in trained.groupby("arch"):
        stats = group.groupby("n_train")
        for ax, column, title in panels:
            m, s = stats[column].mean(), stats[column].std()
            ax.errorbar(m.index, m, yerr=s, marker="o", capsize=3, color=colors[arch],
                        label=ARCH_LABELS[arch])
            base = chance[chance["arch"] == arch][column]
            if column != "test_r2" and len(base):
                ax.axhspan(base.mean() - 2 * base.std(), base.mean() + 2 * base.std(),
                           color=colors[arch], alpha=0.12)
        spp = stats["samples_per_param"].mean()
        for column, marker, style in (("weight_L0", "o", "-"), ("activation_L0", "s", "--")):
            axes[1, 1].plot(spp, stats[column].mean(), marker=marker, linestyle=style,
                            color=colors[arch])
    layer0 = chance[chance["arch"] == "published"]["weight_L0"]
    if len(layer0):  # every architecture draws the same layer 0 for its untrained students
        axes[1, 1].axhspan(layer0.mean() - 2 * layer0.std(), layer0.mean() + 2 * layer0.std(),
                           color="grey", alpha=0.15)
    theirs = published[published["source"] == "fixed_test_sample_size_trials"]
    for ax, column in ((axes[0, 0], "test_r2"), (axes[0, 1], "cos_std_mean")):
        stats = theirs.groupby("n_train")[column]
        ax.errorbar(stats.mean().index, stats.mean(), yerr=stats.std(), marker="x",
                    linestyle=":", color="black", capsize=3, label="study's published numbers")
    for ax, column, title in panels:
        ax.set(xscale="log", xlabel="training samples", title=title)
    axes[0, 0].legend(fontsize=8)
    axes[1, 1].set(xscale="log", xlabel="training samples per trainable parameter",
                   title="layer 0 (the 60 gene sets): o weights, s activations")
    for ax in (axes[0, 1], axes[1, 0], axes[1, 1]):
        ax.axhline(0, color="grey", linewidth=0.5)
    fig.suptitle("Teacher–student: output fit vs recovery (shaded: untrained students, "
                 "mean ± 2 sd)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ------------------------------------------------------------------------ main
def main(argv=None):
    parser = build_parser(__file__, __doc__)
    parser.add_argument("--parts", type=lambda s: [p for p in s.split(",") if p],
                        default=list(PARTS), metavar="LIST",
                        help=f"comma-separated parts to run, of {','.join(PARTS)} (default: all)")
    parser.add_argument("--seeds", type=int, default=None,
                        help="students per setting (default 3; 5 for the fixed 12k problem)")
    parser.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")], default=None,
                        metavar="LIST",
                        help="training sizes of the sweep (the smallest also serves the "
                             "chance levels) and, unless --wired-sizes, of the wired part")
    parser.add_argument("--wired-sizes", type=lambda s: [int(v) for v in s.split(",")],
                        default=None, metavar="LIST", help="training sizes of the wired part")
    parser.add_argument("--pool", type=int, default=POOL,
                        help=f"rows of the nested pool (default {POOL})")
    parser.add_argument("--n-test", type=int, default=N_TEST, help="test rows (default 3000)")
    parser.add_argument("--chance-draws", type=int, default=None,
                        help="untrained students per chance level (default 10; 3 with --quick)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs; only with --quick (default 30 there, else 120)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {unknown}; choose from {', '.join(PARTS)}")
    if args.epochs is not None and not args.quick:
        parser.error("--epochs changes the study's 120 epochs; it is only allowed with --quick")
    if args.quick and args.parts == list(PARTS):
        args.parts = ["reproduce", "wired"]
    csv = args.out / f"{STEM}_results.csv"
    timings = {}
    for part, cells in cells_of(args).items():
        start = time.perf_counter()
        results = run_cells(cells, run_cell, csv, KEYS, n_jobs=args.n_jobs,
                            backend=args.backend, scheduler=args.scheduler, desc=part)
        timings[part] = time.perf_counter() - start
    published = load_published_results()
    tables = {
        "comparison": comparison_table(results, published),
        "recovery": recovery_table(results),
        "layers": layer_table(results),
        "tasks": task_table(results),
        "teacher_start": teacher_start_table(results),
    }
    for name, table in tables.items():
        table.to_csv(args.out / f"{STEM}_{name}.csv", index=False)
    figure = plot(results, published, args.out / f"{STEM}_recovery.png")
    show = {
        "comparison": ["design", "n_train", "epochs", "metric", "ours_mean", "ours_sd",
                       "theirs_mean", "theirs_sd", "tolerance", "max_paired_difference",
                       "reproduced"],
        "recovery": ["design", "arch", "n_train", "samples_per_param", "test_r2", "cos_std_mean",
                     "act_corr_mean", "weight_recovery", "weight_recovery_chance",
                     "weight_recovery_above_chance", "activation_recovery",
                     "activation_recovery_chance", "activation_recovery_above_chance",
                     "weight_L0_above_chance", "activation_L0_above_chance"],
    }
    sections = {}
    for name, table in tables.items():
        if table.empty:
            continue
        columns = [c for c in show.get(name, table.columns) if c in table.columns]
        sections[f"{name} ({STEM}_{name}.csv)"] = table[columns]
    sections["run"] = "\n".join(
        [f"{part}: {seconds:.0f} s wall" for part, seconds in timings.items()]
        + ([f"figure: {figure}"] if figure else [])
        + (["--quick: fewer epochs, NOT comparable with the published numbers"]
           if args.quick else [])
    )
    print_summary(sections, out_dir=args.out)
    return results


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
