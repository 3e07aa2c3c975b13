"""A stability audit of what a BINN learned on real data, where no teacher exists.

Refit the same estimator with different random seeds (and, optionally, on
bootstrap resamples) and compare the refits with each other: how much each
pathway's importance moves, whether the ranking of pathways survives, and
whether the refits learned the same weights and activations, scored with
the symmetry-invariant measures of the identifiability scorer (each refit
aligned to another one instead of to a teacher). With ``n_null`` it also
refits on degree-preserving rewired masks, which tells apart pathways that
are important because of what they contain from pathways that are
important because they are large.
"""

from __future__ import annotations

import textwrap
import warnings
from dataclasses import dataclass
from itertools import combinations
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.stats import false_discovery_control, norm, rankdata
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, resample

from ._attribution import ATTRIBUTION_METHODS, node_importance
from ._classifier import BINNClassifier
from ._figures import stability_figure
from ._activations import REGISTRY
from ._network import align, binn_step, correlations, read_network, spearman, weight_scores
from ._randomize import randomize_mask
from ._utils import joblib_backend, seed_from, torch_threads

__all__ = ["StabilityReport", "stability_report"]

# verdict thresholds of StabilityReport.summary
_RANK_STABLE = 0.8  # mean pairwise Spearman of importance vectors
_RANK_PARTLY = 0.5
_REPRODUCIBLE = 0.9  # replicate agreement of weights / activations
_TOP_ROBUST = 0.9  # share of refits a node must be in the top k to be "robust"
_SIZE_DRIVEN = 0.5  # Spearman of importance with pathway size
_ALPHA = 0.05  # threshold of the Benjamini–Hochberg-adjusted p-values against the null
P_VALUES = ("empirical", "normal")  # the p_value options of stability_report
_MIN_NODES_SIZE = 5  # fewer nodes say nothing about importance versus size


# --------------------------------------------------------------- one refit
def _final_params(estimator, **params):
    """Parameter names that reach the final BINN step of a bare estimator or Pipeline."""
    if isinstance(estimator, Pipeline):
        name = estimator.steps[-1][0]
        return {f"{name}__{key}": value for key, value in params.items()}
    return params


def _refit(estimator, X, y, seed, rows, mask, method, n_steps, with_internals):
    """Fit one clone and read what the audit compares.

    Returns the importance per pathway layer and, with ``with_internals``,
    the network's parameters and activations on ``X``, trained and at
    initialisation (the same seed, zero epochs: the chance level).
    """
    with torch_threads(1):
        est = clone(estimator)
        params = {"random_state": int(seed)}
        if mask is not None:
            params.update(mask=mask, depth=None)
        est.set_params(**_final_params(est, **params))
        X_fit = X if rows is None else _safe_indexing(X, rows)
        y_fit = y if rows is None else _safe_indexing(y, rows)
        est.fit(X_fit, y_fit)
        out = {
            "importance": [
                s.to_numpy() for s in node_importance(est, X, method=method, n_steps=n_steps)
            ],
            "score": float(est.score(X, y)),
        }
        if not with_internals:
            return out
        untrained = clone(est).set_params(**_final_params(est, max_epochs=0))
        untrained.fit(X_fit, y_fit)
        for key, fitted in (("trained", est), ("untrained", untrained)):
            pre, final = binn_step(fitted)
            Xt = X if pre is None else pre.transform(X)
            out[key] = (
                read_network(final.module_),
                final.pathway_activations(Xt, as_frame=False),
            )
        return out


# -------------------------------------------------------------- agreement
def _pairwise_agreement(internals, activation):
    """Per layer and node, the mean over refit pairs of weight and activation agreement.

    Each pair ``(i, j)`` is scored as the identifiability scorer scores a
    student against a teacher: refit ``j`` aligned to refit ``i`` layer by
    layer from the genes up, then the cosine of each node's incoming
    weights and the correlation of its activations.
    """
    signed = REGISTRY[activation].signed_scores
    weights, activations = [], []
    for (net_i, acts_i), (net_j, acts_j) in combinations(internals, 2):
        aligned, _, depth = align(net_j, net_i, activation)
        weights.append(weight_scores(aligned, net_i, depth))
        activations.append(
            [correlations(acts_j[k], acts_i[k], signed) for k in range(depth)]
        )
    depth = len(weights[0])
    return (
        [np.mean([w[k] for w in weights], axis=0) for k in range(depth)],
        [np.mean([a[k] for a in activations], axis=0) for k in range(depth)],
    )


def _mean_pairwise_spearman(matrix):
    """Mean Spearman correlation between the rows of ``matrix`` (NaN-free pairs)."""
    values = [spearman(a, b) for a, b in combinations(matrix, 2)]
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else np.nan


# ----------------------------------------------------------------- report
@dataclass(frozen=True)
class StabilityReport:
    """What survives refitting a BINN: the result of :func:`stability_report`.

    Attributes
    ----------
    nodes : pandas.DataFrame
        One row per pathway node: ``layer`` (0 = the gene → pathway layer),
        ``node`` (its ID), ``name`` (its display name, e.g. Reactome's
        pathway name; pass-through copies marked ``[copy]``), ``n_inputs``
        (its number of members), ``importance_mean``,
        ``importance_sd`` (sd over the refits, ``ddof=1``),
        ``importance_cv`` (sd / mean), ``rank_mean`` (1 = most important in
        its layer; tied nodes share the better rank), ``top_k_frequency``
        (share of refits in which the node is among its layer's ``top_k``), ``weight_agreement`` and
        ``activation_agreement`` (mean over refit pairs of the aligned
        incoming-weight cosine and the activation correlation, as
        :func:`recovery_report` scores a student against a teacher) and
        their chance levels ``weight_agreement_chance`` and
        ``activation_agreement_chance`` (the same between the refits'
        untrained initialisations). With a null: ``null_mean``,
        ``null_sd`` (``ddof=1``), ``z_score`` (``(importance_mean -
        null_mean) / null_sd``), ``p_value`` (with ``p_value="empirical"``
        ``(1 + #{null >= importance_mean}) / (1 + n_null)``, never below
        ``1 / (1 + n_null)``; with ``"normal"`` the one-sided
        ``norm.sf(z_score)``, NaN where ``null_sd`` is 0) and ``p_adjusted``
        (the p-values after the Benjamini–Hochberg correction for testing
        all the nodes of a layer with a p-value, which controls the false
        discovery rate within each layer; what the summary and
        ``n_significant`` use).
    layers : pandas.DataFrame
        Indexed by ``layer``: ``n_nodes``, ``top_k``, ``rank_agreement``
        (mean pairwise Spearman correlation of the refits' importance
        vectors), ``importance_size_spearman`` (Spearman correlation of
        ``importance_mean`` with ``n_inputs``), the layer means of the four
        agreement columns and, with a null, ``n_significant`` (nodes with
        ``p_adjusted <= 0.05``, the Benjamini–Hochberg-corrected p-values).
    importances : pandas.DataFrame
        The importance of every node (columns: ``(layer, node)``) in every
        refit (rows).
    null_importances : pandas.DataFrame or None
        The same for the fits on rewired masks.
    scores : pandas.Series
        Each refit's ``score(X, y)`` (R², accuracy or concordance index):
        whether the refits fit the data equally well.
    random_states : ndarray of int
        Each refit's ``random_state``, to refit any of them exactly (with
        ``bootstrap=False``).
    method : str
        The importance method, see :func:`pathway_importance`.
    bootstrap : bool
        Whether the refits saw bootstrap resamples.
    estimator_name : str
        The class of the audited BINN.
    p_value : {"empirical", "normal"}
        How the p-values against the null were computed, see
        :func:`stability_report`.
    """

    nodes: pd.DataFrame
    layers: pd.DataFrame
    importances: pd.DataFrame
    null_importances: pd.DataFrame | None
    scores: pd.Series
    random_states: np.ndarray
    method: str
    bootstrap: bool
    estimator_name: str
    p_value: str = "empirical"

    @property
    def n_repeats(self):
        """int: the number of refits."""
        return len(self.importances)

    @property
    def n_null(self):
        """int: the number of fits on rewired masks (0 without a null)."""
        return 0 if self.null_importances is None else len(self.null_importances)

    def __repr__(self):
        columns = [
            c for c in ("rank_agreement", "weight_agreement", "activation_agreement")
            if c in self.layers
        ]
        return (
            f"StabilityReport({self.estimator_name}, n_repeats={self.n_repeats}, "
            f"n_null={self.n_null}, method={self.method!r})\n"
            f"{self.layers[['n_nodes', *columns]].round(3)}"
        )

    def summary(self):
        """A plain-language account of which conclusions are stable and which are not.

        Returns
        -------
        str
        """
        resampling = "bootstrap resamples of the data" if self.bootstrap else "the same data"
        lines = [
            textwrap.fill(
                f"Stability audit of a {self.estimator_name}: {self.n_repeats} refits with "
                f"different random seeds on {resampling}; importance = "
                f"{self.method.replace('_', ' ')} (mean |attribution| per pathway).",
                width=88,
            ),
            f"The refits fit the data alike: score {self.scores.mean():.3f} "
            f"(sd {self.scores.std():.3f}) on X.",
        ]
        for k, row in self.layers.iterrows():
            nodes = self.nodes[self.nodes["layer"] == k]
            lines.append("")
            lines.append(f"Pathway layer {k} ({int(row['n_nodes'])} nodes):")
            lines.extend(_bullet(text) for text in self._layer_findings(row, nodes))
        lines.append("")
        lines.append(textwrap.fill(
            "Reading: treat a pathway as a finding only if it is robust across refits "
            "and, with a null, more important than rewired pathways of the same size.",
            width=88,
        ))
        return "\n".join(lines)

    def _layer_findings(self, row, nodes):
        findings = []
        rho = row["rank_agreement"]
        if np.isnan(rho):
            findings.append("Ranking: too few nodes to compare rankings.")
        else:
            verdict = (
                "stable" if rho >= _RANK_STABLE
                else "partly stable" if rho >= _RANK_PARTLY
                else "UNSTABLE"
            )
            findings.append(
                f"Importance ranking is {verdict}: refits rank the pathways alike "
                f"with mean pairwise Spearman {rho:.2f}."
            )
        k = int(row["top_k"])
        robust = nodes[nodes["top_k_frequency"] >= _TOP_ROBUST].sort_values("rank_mean")
        shaky = nodes[
            (nodes["top_k_frequency"] > 0) & (nodes["top_k_frequency"] < 0.5)
        ].sort_values("top_k_frequency", ascending=False)
        if len(robust):
            findings.append(
                f"In the top {k} in at least {_TOP_ROBUST:.0%} of refits: "
                f"{_names(robust)}."
            )
        else:
            frequent = nodes[nodes["top_k_frequency"] >= 0.5].sort_values(
                "top_k_frequency", ascending=False
            )
            findings.append(
                f"No pathway is in the top {k} in {_TOP_ROBUST:.0%} of refits"
                + (f"; most often there: {_names(frequent)}." if len(frequent) else ".")
            )
        if len(shaky):
            findings.append(
                f"In the top {k} in fewer than half of the refits (seed-dependent): "
                f"{_names(shaky)}."
            )
        for what in ("weight", "activation"):
            agree, chance = row[f"{what}_agreement"], row[f"{what}_agreement_chance"]
            if agree >= _REPRODUCIBLE:
                findings.append(
                    f"Learned {what}s are reproducible: refits agree at {agree:.2f} "
                    f"(untrained networks: {chance:.2f})."
                )
            else:
                findings.append(
                    f"Learned {what}s are NOT reproducible: refits agree at {agree:.2f} "
                    f"(untrained networks: {chance:.2f}); different seeds learn different "
                    f"internal {what}s, so an individual {what} is not evidence of "
                    "mechanism."
                )
        size_rho = row["importance_size_spearman"]
        if len(nodes) >= _MIN_NODES_SIZE and size_rho >= _SIZE_DRIVEN:
            findings.append(
                f"Importance follows pathway size (Spearman {size_rho:.2f} with the "
                "number of members): large pathways look important whatever they do."
            )
        if "p_value" in nodes:
            findings.append(self._null_finding(nodes))
        return findings

    def _null_finding(self, nodes):
        m = int(nodes["p_value"].notna().sum())  # the tested pathways (normal: sd > 0)
        against = f"Against {self.n_null} fits on degree-preserving rewired masks"
        kind = (
            "empirical p" if self.p_value == "empirical"
            else "one-sided normal p of the z-score against the rewired fits' mean and sd"
        )
        hits = nodes[nodes["p_adjusted"] <= _ALPHA].sort_values("p_adjusted")
        if len(hits):
            text = (
                f"{against}, {len(hits)} of {len(nodes)} pathways are more important than "
                f"random pathways of the same size ({kind} <= {_ALPHA} after Benjamini–Hochberg "
                f"correction): {_names(hits, 'p_adjusted')}; the others are not "
                "distinguishable from size alone."
            )
        else:
            text = (
                f"{against}, no pathway is more important than random pathways of the "
                f"same size (all {kind} > {_ALPHA} after Benjamini–Hochberg correction for "
                f"{m} pathways; uncorrected, {int((nodes['p_value'] <= _ALPHA).sum())} had "
                f"p <= {_ALPHA})."
            )
        if self.p_value != "empirical":
            return text
        floor = 1.0 / (1 + self.n_null)
        text += (
            f" The smallest attainable empirical p-value is 1/(n_null + 1) = {floor:.2g}."
        )
        # BH passes the k-th smallest p when p_(k) <= k alpha / m: at the floor
        # that needs k >= m floor / alpha pathways there (1e-9: float round-off)
        needed = int(np.ceil(m * floor / _ALPHA - 1e-9))
        if len(hits) or needed <= 1:
            return text
        at_floor = int((nodes["p_value"] <= floor * (1 + 1e-9)).sum())
        blocked = (
            f"no p-value can pass the correction for {m} pathways" if needed > m
            else f"the correction for {m} pathways passes none unless at least {needed} "
            f"of them reach it ({at_floor} did)"
        )
        largest = nodes.sort_values("z_score", ascending=False).head(3)
        return text + (
            f" At that floor {blocked}, so finding nothing here is no evidence either "
            f"way. To test single pathways use n_null >= "
            f"{int(np.ceil(m / _ALPHA - 1e-9)) - 1} ({m} pathways / {_ALPHA} - 1) or "
            f"p_value='normal'. Largest z-scores: {_names(largest, 'z_score')}."
        )

    def plot(self, **kwargs):
        """Draw the audit summary figure, see :func:`sklearn_binn.plotting.plot_stability`.

        Returns
        -------
        matplotlib.figure.Figure
        """
        return stability_figure(self, **kwargs)


def _bullet(text):
    return textwrap.fill(text, width=88, initial_indent="  - ", subsequent_indent="    ")


def _names(frame, value=None, limit=8):
    items = []
    for _, row in frame.head(limit).iterrows():
        name = row.get("name", row["node"])
        label = row["node"] if name == row["node"] else f"{name} [{row['node']}]"
        if value is None:
            items.append(f"{label} ({row['top_k_frequency']:.0%})")
        else:
            items.append(f"{label} ({value.replace('_', ' ')} {row[value]:.2g})")
    more = f" and {len(frame) - limit} more" if len(frame) > limit else ""
    return ", ".join(items) + more


def _check_int(value, name, low):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}; got {value!r}.")


def benjamini_hochberg(p_values):
    """Benjamini–Hochberg adjusted p-values, ignoring NaN.

    :func:`scipy.stats.false_discovery_control` (``method="bh"``) over the
    finite p-values; NaN entries (nodes without a p-value) stay NaN and do
    not count among the tests.

    Parameters
    ----------
    p_values : array-like of float in [0, 1] or NaN

    Returns
    -------
    ndarray of float

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, float("nan"), 0.03])
    array([0.03, 0.04,  nan, 0.04])
    """
    p_values = np.asarray(p_values, dtype=float)
    out = np.full(p_values.shape, np.nan)
    finite = np.isfinite(p_values)
    if finite.any():
        out[finite] = false_discovery_control(p_values[finite], method="bh")
    return out


def normal_p_values(z_score):
    """One-sided p-values of z-scores under a standard normal null: ``norm.sf(z)``.

    What ``stability_report(..., p_value="normal")`` uses: the z-score is
    a pathway's importance against the mean and sd of its importance in
    the rewired fits. NaN z-scores (a null sd of 0) give NaN.

    Parameters
    ----------
    z_score : array-like of float

    Returns
    -------
    ndarray of float

    Examples
    --------
    >>> normal_p_values([0.0, 1.6448536269514722, float("nan")]).round(3)
    array([0.5 , 0.05,   nan])
    """
    return norm.sf(np.asarray(z_score, dtype=float))


def _importance_frame(results, names):
    columns = pd.MultiIndex.from_tuples(
        [(k, node) for k, layer in enumerate(names) for node in layer],
        names=["layer", "node"],
    )
    return pd.DataFrame(
        [np.concatenate(r["importance"]) for r in results], columns=columns
    )


def _node_table(importances, nulls, names, sizes, top_k, agreement, chance, labels=None,
                p_value="empirical"):
    frames, layer_rows = [], []
    for k, layer_names in enumerate(names):
        values = importances[k].to_numpy()  # refits x nodes
        n_nodes = values.shape[1]
        k_top = min(n_nodes, top_k if top_k is not None else max(1, min(10, n_nodes // 5)))
        ranks = rankdata(-values, method="min", axis=1)  # ties share the better rank
        mean = values.mean(axis=0)
        sd = values.std(axis=0, ddof=1)
        frame = pd.DataFrame({
            "layer": k,
            "node": layer_names,
            "name": [(labels or {}).get(n, n) for n in layer_names],
            "n_inputs": sizes[k],
            "importance_mean": mean,
            "importance_sd": sd,
            "importance_cv": np.divide(sd, mean, out=np.full_like(mean, np.nan), where=mean > 0),
            "rank_mean": ranks.mean(axis=0),
            "top_k_frequency": (ranks <= k_top).mean(axis=0),
            "weight_agreement": agreement[0][k],
            "activation_agreement": agreement[1][k],
            "weight_agreement_chance": chance[0][k],
            "activation_agreement_chance": chance[1][k],
        })
        layer_row = {
            "layer": k,
            "n_nodes": n_nodes,
            "top_k": k_top,
            "rank_agreement": _mean_pairwise_spearman(values),
            "importance_size_spearman": spearman(mean, np.asarray(sizes[k], float)),
        }
        if nulls is not None:
            null = nulls[k].to_numpy()
            frame["null_mean"] = null.mean(axis=0)
            frame["null_sd"] = null.std(axis=0, ddof=1) if len(null) > 1 else np.nan
            frame["z_score"] = np.divide(
                mean - frame["null_mean"], frame["null_sd"],
                out=np.full(n_nodes, np.nan), where=frame["null_sd"].to_numpy() > 0,
            )
            if p_value == "normal":
                frame["p_value"] = normal_p_values(frame["z_score"].to_numpy())
            else:
                frame["p_value"] = (1 + (null >= mean).sum(axis=0)) / (1 + len(null))
            frame["p_adjusted"] = benjamini_hochberg(frame["p_value"].to_numpy())
            layer_row["n_significant"] = int((frame["p_adjusted"] <= _ALPHA).sum())
        frames.append(frame)
        layer_rows.append(layer_row)
    nodes = pd.concat(frames, ignore_index=True)
    layers = pd.DataFrame(layer_rows).set_index("layer")
    agreement_columns = [c for c in nodes.columns if "agreement" in c]
    means = nodes.groupby("layer")[agreement_columns].mean()
    layers = layers.join(means)
    order = ["n_nodes", "top_k", "rank_agreement", "importance_size_spearman",
             *agreement_columns]
    return nodes, layers[order + [c for c in layers.columns if c not in order]]


def stability_report(estimator, X, y, n_repeats=10, bootstrap=False,
                     method="integrated_gradients", n_null=0, n_jobs=None, backend=None,
                     random_state=None, *, top_k=None, n_steps=50, p_value="empirical"):
    """Audit which of a BINN's readings survive refitting with another seed.

    On real data there is no teacher to score a BINN against, but there is
    a necessary condition for reading its internals as biology: refitting
    the same model on the same data must give the same answer. This fits
    ``n_repeats`` clones of ``estimator`` that differ only in their
    ``random_state`` (and, with ``bootstrap=True``, in a bootstrap resample
    of the data), in parallel with joblib (one torch thread per fit), and
    compares them on ``X``:

    - **importance**: each pathway's :func:`node_importance` (mean absolute
      attribution); its mean and sd over the refits, its mean rank, how
      often it is in its layer's top ``k``, and per layer the mean pairwise
      Spearman correlation of the refits' importance vectors;
    - **internals**: the agreement of every pair of refits in incoming
      weights (cosine after aligning one refit to the other layer by layer
      from the genes up) and in activations (correlation across ``X``) —
      the identifiability scorer's symmetry-invariant measures with one
      refit as the "teacher" — next to the same agreement between the
      refits' untrained initialisations (chance level);
    - **size**: the Spearman correlation of importance with pathway size;
    - **null** (``n_null > 0``): ``n_null`` further fits, each on its own
      :func:`randomize_mask` rewiring of the fitted mask (same sizes, random
      members), give each pathway a z-score and a p-value of its importance
      against pathways of the same size and position, Benjamini–Hochberg
      adjusted within each layer.

    Parameters
    ----------
    estimator : BINN estimator or Pipeline ending in one
        Fitted or not; it is cloned, never modified. Its ``random_state``
        is replaced in each refit.
    X : array-like or pandas.DataFrame of shape (n_samples, n_features)
        The data; every fit is evaluated on all of ``X``.
    y : array-like
        Targets as the estimator's ``fit`` takes them.
    n_repeats : int, default=10
        Number of refits, at least 2.
    bootstrap : bool, default=False
        Fit each refit (and each null fit) on a bootstrap resample of
        ``(X, y)`` (stratified by class for classifiers) instead of all of it.
    method : str, default="integrated_gradients"
        Importance method, see :func:`pathway_importance`.
    n_null : int, default=0
        Number of fits on rewired masks; 0 skips the null. An empirical
        p-value is at least ``1 / (n_null + 1)``: it reaches 0.05 from
        ``n_null=19`` on, but a single pathway passes the Benjamini–Hochberg
        correction over a layer of ``m`` pathways only from ``n_null >=
        m / 0.05 - 1`` on (the summary says when that blocks every finding).
    n_jobs : int, default=None
        Parallel fits (joblib; ``None`` is 1, ``-1`` all cores).
    backend : str, default=None
        joblib backend, e.g. ``"loky"`` (processes, joblib's default for
        ``None``), ``"dask"`` (on the cluster of the current
        ``dask.distributed.Client``) or ``"ray"`` (registered here; on the
        cluster named by ``RAY_ADDRESS``, else a local one).
        ``"threading"`` runs but is not reproducible: each fit seeds torch's
        global random generator, which threads share.
    random_state : int, RandomState or None, default=None
        Seeds the refits' seeds, resamples and rewirings; an int gives the
        same report every time, whatever ``n_jobs``.
    top_k : int, default=None
        How many top nodes per layer ``top_k_frequency`` counts; ``None``
        uses a fifth of the layer, between 1 and 10.
    n_steps : int, default=50
        Integration steps for integrated gradients.
    p_value : {"empirical", "normal"}, default="empirical"
        The p-value of each pathway against the null. ``"empirical"``:
        ``(1 + #{null >= importance_mean}) / (1 + n_null)``, valid whatever
        the null's distribution but never below ``1 / (n_null + 1)``.
        ``"normal"``: the one-sided ``scipy.stats.norm.sf(z_score)`` of the
        z-score against the null fits' mean and sd (``n_null >= 2``), which
        can go as low as the data support, so Benjamini–Hochberg over
        hundreds of pathways can pass some with a few dozen null fits; it
        assumes the null importance is roughly normal and its sd well
        estimated (more null fits make it sounder). Both are adjusted by
        Benjamini–Hochberg within each layer (``p_adjusted``).

    Returns
    -------
    StabilityReport
        ``.nodes``, ``.layers``, ``.summary()`` and ``.plot()``.

    See Also
    --------
    pathway_importance, randomize_mask, recovery_report

    Examples
    --------
    >>> from sklearn_binn import BINNRegressor, TeacherDataset, stability_report
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> mask = make_pathway_mask(30, n_pathways=(6,), random_state=0)
    >>> X, y = TeacherDataset(mask, random_state=0).sample(200, random_state=0)
    >>> est = BINNRegressor(mask, max_epochs=20, lr=0.01, random_state=0)
    >>> report = stability_report(est, X, y, n_repeats=3, random_state=0)
    >>> list(report.layers.columns[:4])
    ['n_nodes', 'top_k', 'rank_agreement', 'importance_size_spearman']
    >>> print(report.summary())  # doctest: +ELLIPSIS
    Stability audit of a BINNRegressor: 3 refits with different random seeds on the same...
    """
    try:
        binn_step(estimator, fitted=False)
    except TypeError as exc:
        raise TypeError(
            "stability_report audits a BINNClassifier, BINNRegressor or BINNSurvival, "
            f"or a Pipeline ending in one; got {type(estimator).__name__}."
        ) from exc
    _check_int(n_repeats, "n_repeats", 2)
    _check_int(n_null, "n_null", 0)
    if top_k is not None:
        _check_int(top_k, "top_k", 1)
    if method not in ATTRIBUTION_METHODS:
        raise ValueError(
            f"method must be one of {list(ATTRIBUTION_METHODS)}; got {method!r}."
        )
    if not isinstance(p_value, str) or p_value not in P_VALUES:
        raise ValueError(f"p_value must be 'empirical' or 'normal'; got {p_value!r}.")
    if p_value == "normal" and n_null < 2:
        raise ValueError(
            "p_value='normal' needs the mean and sd of at least 2 null fits; got "
            f"n_null={n_null}. Set n_null >= 2 (19 or more for a usable sd)."
        )
    rng = np.random.default_rng(seed_from(random_state))
    seeds = rng.integers(0, np.iinfo(np.int32).max, size=(n_repeats + n_null, 3))

    # the fitted mask (resolved, truncated, aligned to X): the null rewires it
    reference = clone(estimator).set_params(**_final_params(estimator, max_epochs=0))
    reference.fit(X, y)
    _, final = binn_step(reference)
    mask = final.mask_
    activation = final.module_.activation
    stratify = y if isinstance(final, BINNClassifier) else None

    def rows(seed):
        if not bootstrap:
            return None
        return resample(np.arange(len(X)), random_state=int(seed), stratify=stratify)

    tasks = [
        delayed(_refit)(estimator, X, y, fit_seed, rows(row_seed), None, method, n_steps, True)
        for fit_seed, row_seed, _ in seeds[:n_repeats]
    ] + [
        delayed(_refit)(
            estimator, X, y, fit_seed, rows(row_seed),
            randomize_mask(mask, random_state=int(null_seed)), method, n_steps, False,
        )
        for fit_seed, row_seed, null_seed in seeds[n_repeats:]
    ]
    if backend == "threading" and n_jobs not in (None, 1):
        warnings.warn(
            "stability_report with backend='threading' is not reproducible: the fits "
            "seed torch's global random generator, which threads share. Use a process "
            "backend ('loky', the default) for a reproducible report.",
            UserWarning,
        )
    if backend is None:
        results = Parallel(n_jobs=n_jobs)(tasks)
    else:
        with joblib_backend(backend):
            results = Parallel(n_jobs=n_jobs)(tasks)

    names = [list(n) for n in mask.node_names]
    sizes = [np.diff(layer.tocsc().indptr) for layer in mask.layers]
    importances = _importance_frame(results[:n_repeats], names)
    nulls = _importance_frame(results[n_repeats:], names) if n_null else None
    agreement = _pairwise_agreement([r["trained"] for r in results[:n_repeats]], activation)
    chance = _pairwise_agreement([r["untrained"] for r in results[:n_repeats]], activation)
    nodes, layers = _node_table(
        [importances[k] for k in range(mask.depth)],
        None if nulls is None else [nulls[k] for k in range(mask.depth)],
        names, sizes, top_k, agreement, chance, labels=mask.display_names, p_value=p_value,
    )
    return StabilityReport(
        nodes=nodes, layers=layers, importances=importances, null_importances=nulls,
        scores=pd.Series([r["score"] for r in results[:n_repeats]], name="score"),
        random_states=seeds[:n_repeats, 0].copy(),
        method=method, bootstrap=bool(bootstrap), estimator_name=type(final).__name__,
        p_value=p_value,
    )
