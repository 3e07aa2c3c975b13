"""Can I trust my own BINN? Simulated teachers on the user's wiring, at the user's sample size.

:func:`identifiability_check` takes a user's mask, sample size, task and
training settings, draws teachers on exactly that wiring, trains students
on their data under the user's settings and under the converged protocol
(L-BFGS to tolerance with restarts), and reports per pathway node how often
its weights, its activation and its importance rank are recovered, beside
what untrained students reach (chance).
"""

from __future__ import annotations

import json
import pickle
import textwrap
import time
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from tqdm.auto import tqdm

from ._classifier import BINNClassifier
from ._identifiability import output_fit, recovery_report
from ._mask import PathwayMask, resolve_mask
from ._ranking import importance_recovery
from ._regressor import BINNRegressor
from ._survival import BINNSurvival
from ._teacher import TeacherDataset, zero_epoch_fit
from ._utils import atomic_write, joblib_backend, seed_from, torch_threads
from .study import VERDICTS, judge_student, protocol_params

__all__ = ["IdentifiabilityCheck", "identifiability_check"]

_ESTIMATORS = {
    "regression": BINNRegressor,
    "classification": BINNClassifier,
    "survival": BINNSurvival,
}
# the user's settings that describe training, not the network; the converged
# protocol replaces them with sklearn_binn.study.protocol_params("converged")
_TRAINING = {
    "solver", "n_init", "optimizer", "lr", "max_epochs", "batch_size", "train_split",
    "validation_fraction", "n_iter_no_change", "tol", "callbacks", "warm_start", "verbose",
}
_TRAINING_PREFIXES = ("optimizer__", "iterator_train__", "iterator_valid__", "callbacks__")
# the network's shape: the teachers take it from the student's settings
_ARCHITECTURE = {"activation", "head_layer_sizes", "head_activation", "batch_norm", "depth",
                 "module"}
_TEACHER_ARCHITECTURE = ("activation", "head_layer_sizes", "head_activation")
_READABLE = 0.8  # a node is "readable" when recovered in this share of replicates
_CACHE_VERSION = 1


# ---------------------------------------------------------------- settings
def _check_positive_int(value, name, low=1):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}; got {value!r}.")
    return int(value)


def _check_fraction(value, name):
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value <= 1:
        raise ValueError(f"{name} must be a number in (0, 1]; got {value!r}.")
    return float(value)


def _protocol_params(user, converged_params):
    """``{"user": params, "converged": params}`` of the student estimators."""
    network = {
        k: v for k, v in user.items()
        if k not in _TRAINING and not k.startswith(_TRAINING_PREFIXES)
    }
    converged = {**network, **protocol_params("converged"), **converged_params}
    return {"user": dict(user), "converged": converged}


def _check_params(estimator_class, params, what):
    bad = sorted(set(params) & {"mask", "random_state"})
    if bad:
        raise ValueError(
            f"{what} must not set {bad}: the check gives every student the mask and a "
            "seed of its own."
        )
    try:
        estimator_class(None, **params)._check_params()
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{what} are not valid {estimator_class.__name__} settings: {exc}")


# --------------------------------------------------------------- one replicate
def _seeds(base, replicate):
    names = ("teacher", "train", "test", "student", "chance")
    children = np.random.SeedSequence([int(base), int(replicate), 18]).spawn(len(names))
    return {n: int(c.generate_state(1)[0] >> 1) for n, c in zip(names, children)}


def _node_scores(report, ranking):
    nodes = report.nodes[["layer", "node", "weight_recovery", "activation_recovery"]].copy()
    ranked = ranking.nodes.set_index(["layer", "node"])["rank_recovered"]
    nodes["rank_recovered"] = ranked.loc[list(zip(nodes["layer"], nodes["node"]))].to_numpy()
    return nodes


def _run_replicate(spec):
    """Train (or, for "chance", only initialise) the students of one teacher; score them."""
    seeds = _seeds(spec["seed"], spec["replicate"])
    with torch_threads(1):
        teacher = TeacherDataset(
            spec["mask"], spec["task"], random_state=seeds["teacher"], **spec["teacher_params"]
        )
        X_test, y_test = teacher.sample(spec["n_test"], random_state=seeds["test"])
        estimator = _ESTIMATORS[spec["task"]](spec["mask"], **spec["params"])
        score = {"method": spec["method"], "rank_tolerance": spec["rank_tolerance"],
                 "n_steps": spec["n_steps"]}
        start = time.perf_counter()
        if spec["protocol"] == "chance":
            draws = []
            for d in range(spec["n_chance_draws"]):
                untrained = zero_epoch_fit(
                    estimator.set_params(random_state=seeds["chance"] + d, n_init=1),
                    *teacher._dummy_data(),
                )
                draws.append(_node_scores(
                    recovery_report(untrained, teacher, X_test),
                    importance_recovery(untrained, teacher, X_test, **score),
                ))
            return {"nodes": draws, "fit": {"fit_time_s": time.perf_counter() - start}}
        X, y = teacher.sample(spec["n_samples"], random_state=seeds["train"])
        estimator.set_params(random_state=seeds["student"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)
        fit_time = time.perf_counter() - start
        report = recovery_report(estimator, teacher, X_test)
        ranking = importance_recovery(estimator, teacher, X_test, **score)
        test_fit = output_fit(estimator, teacher, X_test, y_test)
        training = {k: v for k, v in spec["params"].items() if k not in _ARCHITECTURE}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            judged, _ = judge_student(
                estimator, teacher, X, y, X_test,
                {**training, "random_state": seeds["student"]}, n_restarts=spec["n_restarts"],
            )
    fit = {
        **judged,
        "fit_time_s": fit_time,
        "test_r2_vs_teacher": test_fit["r2_vs_teacher"],
        "weight_recovery": float(report.summary["weight_recovery"]),
        "activation_recovery": float(report.summary["activation_recovery"]),
        "importance_spearman": float(ranking.summary["spearman"]),
        "rank_recovered": float(ranking.summary["rank_recovered"]),
    }
    fit["verdict"] = fit.pop("verdict")  # last column
    return {"nodes": [_node_scores(report, ranking)], "fit": fit}


# ------------------------------------------------------------------ the cache
class _Cache:
    """One pickle per finished (replicate, protocol), under a folder keyed by the settings."""

    def __init__(self, folder, key):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        settings = self.folder / "settings.json"
        if settings.exists():
            stored = json.loads(settings.read_text()).get("key")
            if stored != key:
                raise ValueError(
                    f"The cache folder {str(self.folder)!r} holds replicates of other "
                    "settings (mask, n_samples, task, parameters or random_state); pass "
                    "another cache folder or delete this one."
                )
        else:
            settings.write_text(json.dumps({"key": key, "version": _CACHE_VERSION}))

    def path(self, replicate, protocol):
        return self.folder / _file_name(replicate, protocol)

    def load(self, replicate, protocol):
        path = self.path(replicate, protocol)
        if not path.exists():
            return None
        with open(path, "rb") as f:
            return pickle.load(f)


def _file_name(replicate, protocol):
    return f"replicate{replicate:04d}_{protocol}.pkl"


def _write_atomically(path, result):
    """Pickle ``result`` to ``path`` so that a reader never sees half a file."""
    with atomic_write(path, "wb") as f:
        pickle.dump(result, f)


def _run_and_store(spec, folder):
    """One replicate, written to ``folder`` (when given) as soon as it is done."""
    result = _run_replicate(spec)
    if folder is not None:
        _write_atomically(Path(folder) / _file_name(spec["replicate"], spec["protocol"]), result)
    return spec["replicate"], spec["protocol"], result


# ------------------------------------------------------------------- results
@dataclass(frozen=True)
class IdentifiabilityCheck:
    """Per pathway node, how often simulated teachers on this wiring are recovered.

    Returned by :func:`identifiability_check`.

    Attributes
    ----------
    nodes : pandas.DataFrame
        One row per ``(protocol, layer, node)``: ``protocol`` (``"user"``:
        the given training settings, ``"converged"``: L-BFGS with restarts),
        ``layer`` (0 = gene → pathway), ``node``, ``name`` (the readable
        name when ``names`` was given, else the node), ``n_inputs``;
        ``weight_recovered``, ``activation_recovered``, ``rank_recovered``:
        the share of replicates in which the node's aligned weights and its
        activation were recovered (score ≥ ``threshold``, see
        :func:`recovery_report`) and its importance rank was within the
        tolerance of the teacher's (see :func:`importance_recovery`); the
        same shares for untrained students (``*_chance``); and the mean
        scores ``weight_recovery``, ``activation_recovery`` and their chance
        means.
    layers : pandas.DataFrame
        Per ``(protocol, layer)``: ``n_nodes`` and the node means of every
        share and score above.
    replicates : pandas.DataFrame
        One row per ``(replicate, protocol)`` trained: its convergence
        evidence (``converged``, ``n_iter``, ``train_loss``,
        ``teacher_train_loss``, ``relative_excess_loss``), held-out
        ``test_r2_vs_teacher``, mean recoveries, ``fit_time_s`` and
        ``verdict`` (see ``verdict_source``).
    settings : dict
        What was checked: ``n_samples``, ``task``, ``n_teachers``, the
        students' parameters per protocol, ``threshold``, ``method``, ...
    n_fitted : int
        Jobs computed by this call (the rest came from the cache): one per
        teacher and protocol, and one per teacher for its untrained
        (chance) students.
    n_cached : int
        Jobs read back from the cache.
    verdict_source : str
        Where the verdict rule comes from.

    Examples
    --------
    >>> from sklearn_binn import identifiability_check
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> check = identifiability_check(make_pathway_mask(20, depth=1, random_state=0), 100,
    ...                               n_teachers=1, estimator_params={"max_epochs": 2},
    ...                               converged_params={"max_epochs": 2}, n_test=20,
    ...                               n_chance_draws=1, method="weight", progress=False,
    ...                               random_state=0)
    >>> sorted(check.nodes["protocol"].unique())
    ['converged', 'user']
    """

    nodes: pd.DataFrame
    layers: pd.DataFrame
    replicates: pd.DataFrame
    settings: dict
    n_fitted: int
    n_cached: int
    verdict_source: str

    def __repr__(self):
        return (
            f"IdentifiabilityCheck(task={self.settings['task']!r}, "
            f"n_samples={self.settings['n_samples']}, "
            f"n_teachers={self.settings['n_teachers']})\n"
            f"{self.layers.round(3).to_string()}"
        )

    def summary(self):
        """A plain-language account of which pathways are readable at this sample size.

        Returns
        -------
        str
        """
        s = self.settings
        lines = [textwrap.fill(
            f"Identifiability check: {s['n_teachers']} simulated {s['task']} teachers on "
            f"this mask ({s['n_nodes']} pathway nodes, {s['n_edges']} edges), "
            f"{s['n_samples']} training samples each. A node counts as recovered at a "
            f"score >= {s['threshold']}; chance = untrained students.", width=88,
        )]
        for protocol, group in self.replicates.groupby("protocol", sort=False):
            counts = group["verdict"].value_counts()
            verdicts = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if v in counts)
            lines += ["", textwrap.fill(
                f"Protocol {protocol!r}: {int(group['converged'].sum())} of {len(group)} "
                f"students converged; held-out R² against the teacher "
                f"{group['test_r2_vs_teacher'].mean():.3f}; verdicts: {verdicts}.",
                width=88,
            )]
            for k, row in self.layers.loc[protocol].iterrows():
                lines.append(_bullet(
                    f"layer {k} ({int(row['n_nodes'])} nodes): weights recovered "
                    f"{row['weight_recovered']:.0%} (chance {row['weight_recovered_chance']:.0%}), "
                    f"activations {row['activation_recovered']:.0%} "
                    f"(chance {row['activation_recovered_chance']:.0%}), importance rank "
                    f"{row['rank_recovered']:.0%} (chance {row['rank_recovered_chance']:.0%})."
                ))
            nodes = self.nodes[self.nodes["protocol"] == protocol]
            readable = self.readable()
            readable = readable[readable["protocol"] == protocol]
            lines.append(_bullet(
                f"{len(readable)} of {len(nodes)} nodes have weights and activation "
                f"recovered in >= {_READABLE:.0%} of replicates"
                + (f": {_list(readable)}." if len(readable) else ".")
            ))
        lines += ["", textwrap.fill(
            "Reading: read a pathway's weights or activation as mechanism only where they "
            "are recovered well above chance under the converged protocol; where the "
            "converged protocol recovers a node and your settings do not, train longer "
            f"(verdicts: {self.verdict_source}).", width=88,
        )]
        return "\n".join(lines)

    def readable(self, share=_READABLE):
        """The nodes readable under each protocol: weights and activation recovered
        in at least ``share`` of the replicates, while untrained students' weights
        are not (a node with one input is "recovered" by any student).

        Parameters
        ----------
        share : float, default=0.8
            The share of replicates (the summary's rule).

        Returns
        -------
        pandas.DataFrame
            Those rows of :attr:`nodes`, in its order.

        Examples
        --------
        >>> import pandas as pd
        >>> nodes = pd.DataFrame({"protocol": "converged", "node": ["a", "b", "c"],
        ...                       "weight_recovered": [0.9, 1.0, 0.9],
        ...                       "activation_recovered": [0.8, 1.0, 0.2],
        ...                       "weight_recovered_chance": [0.0, 1.0, 0.0]})
        >>> check = IdentifiabilityCheck(nodes, None, None, {}, 0, 0, "")
        >>> check.readable()["node"].tolist()  # b: one input, c: activation not recovered
        ['a']
        """
        share = _check_fraction(share, "share")
        nodes = self.nodes
        return nodes[(nodes["weight_recovered"] >= share)
                     & (nodes["activation_recovered"] >= share)
                     & (nodes["weight_recovered_chance"] < share)]

    def plot(self, *, axes=None):
        """Per node, how often weights, activation and rank are recovered, by node size.

        One panel per measure: each node's recovered share (y) against its
        number of inputs (x, log scale), one marker per protocol, untrained
        students in grey.

        Parameters
        ----------
        axes : sequence of 3 matplotlib Axes, default=None
            ``None`` makes a new figure.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        if axes is None:
            fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
        else:
            fig = axes[0].figure
        rng = np.random.default_rng(0)  # jitter, so overlapping nodes stay visible
        markers = {"user": ("o", "tab:orange"), "converged": ("s", "tab:blue")}
        titles = ("weights", "activation", "importance rank")
        for ax, measure, title in zip(axes, ("weight", "activation", "rank"), titles):
            column = f"{measure}_recovered"
            first = True
            for protocol, group in self.nodes.groupby("protocol", sort=False):
                x = group["n_inputs"].to_numpy() * np.exp(rng.uniform(-0.08, 0.08, len(group)))
                if first:
                    ax.scatter(x, group[f"{column}_chance"], s=10, c="0.6", marker=".",
                               label="untrained (chance)")
                    first = False
                marker, color = markers.get(protocol, ("^", "tab:green"))
                ax.scatter(x, group[column], s=16, marker=marker, facecolors="none",
                           edgecolors=color, label=f"{protocol} protocol")
            ax.set_xscale("log")
            ax.set_ylim(-0.05, 1.05)
            ax.set_xlabel("inputs of the node")
            ax.set_title(f"{title} recovered")
        axes[0].set_ylabel(f"share of {self.settings['n_teachers']} teachers")
        axes[0].legend(loc="best", fontsize="small")
        fig.suptitle(
            f"{self.settings['task']}, {self.settings['n_samples']} samples: "
            "per pathway node", fontsize="medium",
        )
        fig.tight_layout()
        return fig


def _bullet(text):
    return textwrap.fill(text, width=88, initial_indent="  - ", subsequent_indent="    ")


def _list(frame, limit=8):
    names = frame.sort_values("weight_recovered", ascending=False)["name"].head(limit)
    more = f" and {len(frame) - limit} more" if len(frame) > limit else ""
    return ", ".join(map(str, names)) + more


def _aggregate(mask, results, protocols, names, threshold):
    """Per-node shares and means over replicates, the chance beside them."""
    base = pd.concat([
        pd.DataFrame({
            "layer": k, "node": mask.node_names[k],
            "n_inputs": np.diff(mask.layers[k].tocsc().indptr),
        })
        for k in range(mask.depth)
    ], ignore_index=True)
    base.insert(2, "name", [names.get(n, n) for n in base["node"]] if names else base["node"])

    def shares(frames):
        stacked = pd.concat(frames, ignore_index=True)
        stacked["weight_recovered"] = stacked["weight_recovery"] >= threshold
        stacked["activation_recovered"] = stacked["activation_recovery"] >= threshold
        stacked["rank_recovered"] = stacked["rank_recovered"].astype(float)
        columns = ["weight_recovered", "activation_recovered", "rank_recovered",
                   "weight_recovery", "activation_recovery"]
        return stacked.groupby(["layer", "node"], sort=False)[columns].mean()

    chance = shares([f for r in results if r[1] == "chance" for f in r[2]["nodes"]])
    chance.columns = [f"{c}_chance" for c in chance.columns]
    frames = []
    for protocol in protocols:
        trained = shares([f for r in results if r[1] == protocol for f in r[2]["nodes"]])
        frame = base.join(trained, on=["layer", "node"]).join(chance, on=["layer", "node"])
        frame.insert(0, "protocol", protocol)
        frames.append(frame)
    nodes = pd.concat(frames, ignore_index=True)
    value_columns = [c for c in nodes.columns if c.endswith(("recovered", "recovery", "chance"))]
    layers = nodes.groupby(["protocol", "layer"], sort=False)[value_columns].mean()
    layers.insert(0, "n_nodes", nodes.groupby(["protocol", "layer"], sort=False).size())
    return nodes, layers


def _progress(iterable, total, enabled):
    if not enabled:
        return iterable
    return tqdm(iterable, total=total, desc="identifiability check", unit="fit")


def identifiability_check(mask, n_samples, task="regression", *, estimator_params=None,
                          converged_params=None, protocols=("user", "converged"),
                          n_teachers=5, teacher_params=None, method="integrated_gradients",
                          n_test=500, n_chance_draws=2, threshold=0.9, rank_tolerance=0.1,
                          n_steps=50, n_restarts=0, names=None, n_jobs=None, backend=None,
                          cache=None, progress=True, random_state=None):
    """Check, before reading a BINN, whether its pathways are readable at your sample size.

    For ``n_teachers`` replicates, a teacher BINN with random known weights
    (:class:`TeacherDataset`) is drawn on exactly ``mask``; ``n_samples``
    training samples from it train a student under each protocol:

    - ``"user"``: the estimator with ``estimator_params`` (your settings);
    - ``"converged"``: the same network trained to convergence, the
      converged protocol of :func:`sklearn_binn.study.protocol_params`
      (full-batch L-BFGS, ``solver="lbfgs"``, to ``tol=1e-6`` with
      ``n_init=3`` restarts keeping the lowest training loss): your
      training settings (``lr``, ``max_epochs``, ``optimizer``, ...) are
      replaced by these and ``converged_params``, your network settings
      (``activation``, ``depth``, ``edge_l1``, ...) kept.

    Each student is scored on ``n_test`` held-out teacher samples: per
    pathway node its weight and activation recovery
    (:func:`recovery_report`) and whether its importance rank is recovered
    (:func:`importance_recovery`); per replicate its convergence evidence
    and verdict from :func:`sklearn_binn.study.judge_student`
    (``converged``, gradient norm, the training gap to the teacher's own
    loss on the same samples, and ``"recovered"``, ``"non-identifiable"``,
    ``"optimisation shortfall"`` or ``"no fit"``; a student converged above
    the teacher's loss is compared with a student started at the teacher,
    one fit more). ``n_chance_draws`` untrained students per teacher give the chance
    levels. The result says per node how often each is recovered.

    Parameters
    ----------
    mask : PathwayMask or anything PathwayMask accepts
        Your wiring, e.g. ``load_reactome(n_levels=3).restrict(your_genes)``.
    n_samples : int
        Your number of training samples.
    task : {"regression", "classification", "survival"}, default="regression"
    estimator_params : dict, default=None
        Your estimator's settings (:class:`BINNRegressor`,
        :class:`BINNClassifier` or :class:`BINNSurvival` parameters other
        than ``mask`` and ``random_state``).
    converged_params : dict, default=None
        Settings that override the converged protocol's (e.g.
        ``{"n_init": 5, "max_epochs": 500}``).
    protocols : sequence of {"user", "converged"}, default=("user", "converged")
    n_teachers : int, default=5
        Replicates: teachers drawn, each with its own data.
    teacher_params : dict, default=None
        :class:`TeacherDataset` parameters (``noise``, ``input_model``,
        ``weight_scale``, ...). The teachers' network shape
        (``activation``, ``head_layer_sizes``, ``head_activation``, depth)
        is the student's, from ``estimator_params``.
    method : str, default="integrated_gradients"
        The attribution method of the importance ranking, see
        :func:`pathway_importance`.
    n_test : int, default=500
        Held-out samples per teacher for scoring.
    n_chance_draws : int, default=2
        Untrained students per teacher.
    threshold : float, default=0.9
        A node's weights (activation) count as recovered at a score of at
        least this.
    rank_tolerance : float, default=0.1
        A node's importance rank counts as recovered within
        ``max(1, floor(rank_tolerance * n))`` places of the teacher's, in a
        layer of ``n`` nodes.
    n_steps : int, default=50
        Integration steps of integrated gradients.
    n_restarts : int, default=0
        Students refitted from other starts when a student converges to the
        teacher's training loss, scored against each other
        (``judge_student``'s uniqueness of exact fits); each costs a fit.
    names : mapping, default=None
        Readable node names (e.g. ``load_reactome(..., return_names=True)[1]``)
        for the ``name`` column.
    n_jobs : int, default=None
        Replicates trained in parallel (joblib; ``None`` is 1, ``-1`` all
        cores); each fit uses one torch thread.
    backend : str, default=None
        joblib backend, as for :func:`stability_report` (``"loky"``,
        ``"dask"``, ``"ray"``).
    cache : str or path-like, default=None
        A folder: every finished replicate is written there as it finishes,
        and a later call with the same settings reads it back instead of
        refitting (so an interrupted check resumes, and ``n_teachers`` can
        grow). Needs an int ``random_state``.
    progress : bool, default=True
        Show a tqdm progress bar.
    random_state : int or None, default=None
        Seeds the teachers, samples and students; an int gives the same
        result whatever ``n_jobs``.

    Returns
    -------
    IdentifiabilityCheck
        ``.nodes`` (per node), ``.layers``, ``.replicates``,
        ``.summary()`` and ``.plot()``.

    See Also
    --------
    recovery_report, importance_recovery, stability_report, TeacherDataset

    Examples
    --------
    >>> from sklearn_binn import identifiability_check
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(30, depth=1, random_state=0)
    >>> check = identifiability_check(
    ...     mask, 300, n_teachers=2, estimator_params={"max_epochs": 10},
    ...     converged_params={"max_epochs": 10, "n_init": 1}, n_test=100,
    ...     n_chance_draws=1, method="gradient_x_input", progress=False, random_state=0)
    >>> list(check.nodes.columns[:5])
    ['protocol', 'layer', 'node', 'name', 'n_inputs']
    >>> bool(check.nodes["weight_recovered"].between(0, 1).all())
    True
    """
    if callable(mask) and not isinstance(mask, PathwayMask):
        raise TypeError(
            "identifiability_check needs a fixed mask, not a callable; call it on your "
            "gene names first."
        )
    mask = resolve_mask(mask)
    n_samples = _check_positive_int(n_samples, "n_samples", 2)
    if task not in _ESTIMATORS:
        raise ValueError(f"task must be one of {list(_ESTIMATORS)}; got {task!r}.")
    n_teachers = _check_positive_int(n_teachers, "n_teachers")
    n_test = _check_positive_int(n_test, "n_test", 10)
    n_chance_draws = _check_positive_int(n_chance_draws, "n_chance_draws")
    threshold = _check_fraction(threshold, "threshold")
    rank_tolerance = _check_fraction(rank_tolerance, "rank_tolerance")
    protocols = tuple(protocols)
    if not protocols or len(set(protocols)) != len(protocols) or not set(protocols) <= {
        "user", "converged"
    }:
        raise ValueError(
            f"protocols must be distinct values among 'user' and 'converged'; got "
            f"{list(protocols)!r}."
        )
    n_restarts = _check_positive_int(n_restarts, "n_restarts", 0)
    estimator_class = _ESTIMATORS[task]
    user = dict(estimator_params or {})
    _check_params(estimator_class, user, "estimator_params")
    if user.get("depth") is not None:  # the teachers have the student's depth
        mask = mask.truncate(_check_positive_int(user["depth"], "depth"))
    user.pop("depth", None)
    params = _protocol_params(user, dict(converged_params or {}))
    _check_params(estimator_class, params["converged"], "converged_params")
    teacher_params = dict(teacher_params or {})
    fixed = sorted(set(teacher_params) & (_ARCHITECTURE | {"task", "random_state", "mask"}))
    if fixed:
        raise ValueError(
            f"teacher_params must not set {fixed}: the teachers take the task, the mask "
            "and the network's shape from the check's arguments and estimator_params, and "
            "a seed of their own."
        )
    teacher_params.update({k: user[k] for k in _TEACHER_ARCHITECTURE if k in user})
    if cache is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, Integral)
    ):
        raise ValueError(
            "cache needs an int random_state, so that a resumed check draws the same "
            f"teachers; got random_state={random_state!r}."
        )
    seed = seed_from(random_state)
    common = {
        "mask": mask, "task": task, "n_samples": n_samples, "n_test": n_test,
        "teacher_params": teacher_params, "method": method, "threshold": threshold,
        "rank_tolerance": rank_tolerance, "n_steps": n_steps, "seed": seed,
        "n_chance_draws": n_chance_draws, "n_restarts": n_restarts,
    }
    TeacherDataset(mask, task, random_state=0, n_reference=10, **teacher_params)  # validate

    specs = []
    for r in range(n_teachers):
        specs.append({**common, "replicate": r, "protocol": "chance",
                      "params": params["user"]})
        specs += [{**common, "replicate": r, "protocol": p, "params": params[p]}
                  for p in protocols]
    store = None
    results, todo = [], specs
    if cache is not None:
        key = joblib.hash({
            k: v for k, v in common.items() if k != "n_chance_draws"
        } | {"params": params, "n_chance_draws": n_chance_draws})
        store = _Cache(cache, key)
        todo = []
        for spec in specs:
            found = store.load(spec["replicate"], spec["protocol"])
            if found is None:
                todo.append(spec)
            else:
                results.append((spec["replicate"], spec["protocol"], found))
    n_cached = len(results)
    folder = None if store is None else str(store.folder)
    tasks = [delayed(_run_and_store)(spec, folder) for spec in todo]
    if tasks:
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        if backend is None:
            results += list(_progress(parallel(tasks), len(tasks), progress))
        else:
            with joblib_backend(backend):
                results += list(_progress(parallel(tasks), len(tasks), progress))
    results.sort(key=lambda r: (r[0], ("chance", "user", "converged").index(r[1])))
    nodes, layers = _aggregate(mask, results, protocols, dict(names or {}), threshold)
    replicates = pd.DataFrame([
        {"replicate": r, "protocol": p, **result["fit"]}
        for r, p, result in results if p != "chance"
    ])
    settings = {
        "n_samples": n_samples, "task": task, "n_teachers": n_teachers,
        "params": params, "protocols": protocols, "teacher_params": teacher_params,
        "method": method, "threshold": threshold, "rank_tolerance": rank_tolerance,
        "n_test": n_test, "n_chance_draws": n_chance_draws, "n_restarts": n_restarts,
        "random_state": random_state,
        "n_nodes": int(sum(mask.layer_sizes)), "n_edges": mask.n_edges,
    }
    return IdentifiabilityCheck(
        nodes=nodes, layers=layers, replicates=replicates, settings=settings,
        n_fitted=len(todo), n_cached=n_cached,
        verdict_source="sklearn_binn.study.judge_student",
    )
