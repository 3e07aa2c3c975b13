"""The published teacher–student study of BINNs: its teacher, its data, its metrics.

"The illusion of interpretability in biologically-informed neural
networks" (code in the GitHub repository
``JhonatanFelix/The-illusion-of-interpretability-in-biologically-informed-neural-networks``)
trains a student BINN on the outputs of a random teacher BINN with the same
wiring and asks whether the student recovers the teacher's gene → pathway
weights and pathway activations. This module rebuilds its recipe exactly,
on this package's estimators, so that its numbers can be reproduced and
set beside this package's own scores:

- :class:`PublishedTeacher`: their teacher (dense-fan-in ``nn.Linear``
  initialisation, zero pathway biases, never trained) and their input model
  (latent pathway activities, genes standardised over the sample drawn);
- :func:`make_published_problem`: their train / test split and targets
  (the output amplified to ``6 * (raw - mean) / sd`` with training
  statistics, the binary logits, the simulated survival times);
- :class:`PublishedInit`: a skorch callback that initialises a student as
  theirs was, and leaves torch's random state where theirs was, so that the
  mini-batches come in the same order;
- :func:`published_weight_scores`, :func:`published_activation_scores` and
  :func:`published_metrics`: their recovery metrics;
- :func:`load_published_results`: their published per-seed numbers.

These serve ``benchmarks/reproduce_published.py``; they are imported from
this submodule (``from sklearn_binn.published import PublishedTeacher``),
not from ``sklearn_binn``.

**Their metrics and ours.** For the gene → pathway layer of a ReLU
network (one pathway layer is all the study scores), the symmetry of a
pathway node is a positive rescaling of its incoming weights and bias (its
outgoing weights divided by the same factor). How each metric treats it:

=====================  ==========================================  ==============================
metric                 definition                                  invariant to the node's
                                                                   positive rescaling?
=====================  ==========================================  ==============================
``cos_std``            cosine of incoming weights (bias left out)  yes; equals our
                                                                   ``weight_recovery`` on layer 0
``cos_pos``            ``max(0, cos_std)``                         yes, but hides anti-aligned
                                                                   nodes (they count as 0)
``relL2``              ``|a wS - wT| / |wT|`` with ``a >= 0``      yes; but ``a`` is fitted with
                       fitted on weights *and* bias                the bias, so ``relL2 >=
                                                                   sqrt(1 - cos^2)`` (equality
                                                                   iff the student bias is 0),
                                                                   and 1 whenever ``a = 0``
``act_corr``           Pearson r of pre-activations, per pathway   yes (and to any affine map of
                                                                   the pre-activation, which is
                                                                   not a symmetry: the bias
                                                                   moves the ReLU's kink)
``act_cosine``         per-sample cosine across pathways,          no: only to one scale shared
                       uncentred                                   by all pathways
``act_r2``             R² of the teacher's pre-activations by      no: any rescaling lowers it,
                       the student's, no alignment                 and it falls as students
                                                                   grow larger weights
=====================  ==========================================  ==============================

Our :func:`~sklearn_binn.recovery_report` aligns every node layer by
layer and scores signed cosines of incoming weights and signed Pearson r
of the *post*-activation (what the next layer sees). On layer 0 its weight
score is ``cos_std``; above layer 0 the study's metrics would compare
unaligned weights (a child's rescaling changes its parents' incoming
weights entry by entry), which ours does not.
"""

from __future__ import annotations

import math
from importlib.resources import files
from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from skorch.callbacks import Callback
from sklearn.utils import Bunch
from sksurv.util import Surv

from ._module import BINNModule
from ._network import as_network, binn_step, correlations, step_inputs
from ._teacher import TeacherDataset
from ._utils import seed_from, torch_seeded
from .datasets import make_overlapping_gene_sets

__all__ = [
    "PublishedInit",
    "PublishedTeacher",
    "load_published_results",
    "make_published_problem",
    "published_activation_scores",
    "published_metrics",
    "published_weight_scores",
]


# ------------------------------------------------------------ initialisation
def _draw_published_parameters(module):
    """Overwrite ``module``'s parameters with the study's draws from torch's global RNG.

    In the study's order: each pathway layer as a dense ``(n_nodes,
    n_inputs)`` weight drawn by ``kaiming_uniform_(a=sqrt(5))`` (that is
    ``U(-1/sqrt(n_inputs), 1/sqrt(n_inputs))`` with the *dense* fan-in)
    of which the masked entries are kept, and a zero bias; then each dense
    head layer and the output layer as a fresh ``torch.nn.Linear``.
    """
    with torch.no_grad():
        for layer in module.pathway_layers:
            dense = torch.empty(layer.out_features, layer.in_features)
            torch.nn.init.kaiming_uniform_(dense, a=math.sqrt(5))
            layer.weight.copy_(dense[layer.cols.cpu(), layer.rows.cpu()])
            layer.bias.zero_()
        for target in [*module.head_layers, module.output]:
            fresh = torch.nn.Linear(target.in_features, target.out_features)
            target.weight.copy_(fresh.weight)
            target.bias.copy_(fresh.bias)


class PublishedInit(Callback):
    """Initialise a BINN student the way the published study initialised its students.

    Before the first epoch of a fit, torch's global RNG is seeded and the
    module's parameters are drawn as the study's code draws them: each
    pathway layer as a dense ``torch.nn.Linear``-style weight,
    ``U(-1/sqrt(n_inputs), 1/sqrt(n_inputs))`` with the *dense* fan-in (all
    genes, 1/sqrt(400) = 0.05 in the study, where this package's
    :class:`~sklearn_binn.modules.SparseLinear` uses each node's own fan-in,
    about 0.2), masked, with a zero bias; then the dense head and output
    layers as ``torch.nn.Linear`` draws them. The global RNG is left where
    the study's was after building its student, so a training iterator
    with ``iterator_train__shuffle=True`` draws the study's mini-batches.

    A fit that continues training (``partial_fit``, ``warm_start=True``)
    is left alone. The callback declares ``draws_from_global_rng = True``:
    the estimator then shuffles from torch's global generator (as the
    study's ``DataLoader`` did) inside a seeded block, so torch's global RNG
    is restored after ``fit``.

    Parameters
    ----------
    seed : int, default=None
        The torch seed (the study's ``student_seed``). ``None`` takes the
        estimator's ``random_state`` when it is an int, else a seed drawn
        from torch's global RNG.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_binn import BINNRegressor
    >>> from sklearn_binn.published import PublishedInit
    >>> from sklearn_binn.datasets import make_overlapping_gene_sets
    >>> mask = make_overlapping_gene_sets(40, 5, size_range=(4, 6), random_state=0)
    >>> X = np.random.default_rng(0).normal(size=(50, 40)).astype("float32")
    >>> reg = BINNRegressor(mask, activation="relu", max_epochs=0, random_state=0,
    ...                     callbacks=[PublishedInit()]).fit(X, X[:, 0])
    >>> float(reg.module_.pathway_layers[0].bias.detach().abs().max())
    0.0
    >>> bool(reg.module_.pathway_layers[0].weight.detach().abs().max() <= 1 / np.sqrt(40))
    True
    """

    # the study's mini-batches come from torch's global generator, seeded here
    draws_from_global_rng = True

    def __init__(self, seed=None):
        self.seed = seed

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if len(net.history) > 0:  # continued training: keep the trained weights
            return
        seed = self.seed
        if seed is None:
            state = getattr(net, "random_state", None)
            if isinstance(state, Integral) and not isinstance(state, bool):
                seed = int(state)
            else:
                seed = int(torch.randint(2**31 - 1, ()).item())
        if isinstance(seed, bool) or not isinstance(seed, Integral):
            raise TypeError(f"PublishedInit's seed must be an int or None; got {seed!r}.")
        torch.manual_seed(int(seed))
        _draw_published_parameters(net.module_)


# ------------------------------------------------------------------- teacher
class PublishedTeacher(TeacherDataset):
    """The teacher of the published study, and its input model.

    A :class:`~sklearn_binn.TeacherDataset` (so :func:`~sklearn_binn.recovery_report`,
    :class:`~sklearn_binn.IdentifiabilityScorer`, :func:`~sklearn_binn.chance_level` and
    :meth:`to_estimator` all work on it) whose network and inputs follow the
    study's code exactly, not this package's own teacher recipe:

    - **network**: ReLU pathway layers, then a dense ReLU head (``(64, 64)``)
      and a linear output; the weights are the study's ``nn.Linear``-style
      draws from ``torch.manual_seed(random_state)`` (see
      :class:`PublishedInit`): pathway weights ``U(+-1/sqrt(n_inputs))`` with
      the dense fan-in (0.05 for 400 genes), zero pathway biases, default
      ``nn.Linear`` head and output. Random and never trained. The study's
      teacher also has dropout 0.15 after the pathway ReLU, but it is only
      ever evaluated in eval mode, where dropout does nothing, so it is
      left out;
    - **inputs** (``input_model="latent"``): with
      ``rng = numpy.random.default_rng(seed)``, latent pathway activities
      ``A = rng.normal(size=(n, n_pathways))`` are drawn first, then gene
      noise ``rng.normal(scale=gene_noise, size=(n, n_genes))``; each gene
      gets ``beta * A_p`` added for every pathway ``p`` containing it, and
      every gene is standardised over the ``n`` rows drawn
      (``(x - mean) / (std + 1e-6)``, ``ddof=0``). So :meth:`sample` with
      ``random_state=123`` gives the study's ``X`` draw for draw; train and
      test rows are standardised *together* (see
      :func:`make_published_problem`).

    :meth:`sample` returns the teacher's *raw* output as ``y`` (regression),
    labels ``logit > 0`` (classification); the study's targets (amplified
    output, survival times) come from :func:`make_published_problem`.

    Parameters
    ----------
    mask : PathwayMask, default=None
        The wiring; ``None`` is the study's, ``make_overlapping_gene_sets()``
        (400 genes, 60 pathways, 1,086 edges).
    task : {"regression", "classification", "survival"}, default="regression"
        Decides the estimator of :meth:`to_estimator` and the dummy data of
        :func:`~sklearn_binn.chance_level`; the network is the same for every task, as in
        the study.
    depth : int, default=None
        Use the first ``depth`` pathway layers of ``mask``.
    head_layer_sizes : tuple of int, default=(64, 64)
        The dense ReLU head; ``()`` gives a pure BINN.
    beta : float, default=0.7
        Loading of each gene on the latent activity of each of its pathways.
    gene_noise : float, default=0.6
        Standard deviation of the gene-specific noise.
    random_state : int, default=42
        The torch seed of the teacher's weights (the study's
        ``teacher_seed``).

    Attributes
    ----------
    mask, module, weights, biases, n_outputs, output_std
        As in :class:`~sklearn_binn.TeacherDataset` (``output_std`` on a reference sample
        of 2,000 inputs).

    See Also
    --------
    make_published_problem, published_metrics, PublishedInit

    Examples
    --------
    >>> from sklearn_binn.published import PublishedTeacher
    >>> teacher = PublishedTeacher()
    >>> teacher.mask
    PathwayMask(n_features=400, layer_sizes=(60,), n_edges=1086)
    >>> float(abs(teacher.weights[0]).max()) <= 0.05, float(abs(teacher.biases[0]).max())
    (True, 0.0)
    >>> X, raw = teacher.sample(5, random_state=123)
    >>> X.shape, raw.shape
    ((5, 400), (5,))
    """

    def __init__(self, mask=None, task="regression", *, depth=None,
                 head_layer_sizes=(64, 64), beta=0.7, gene_noise=0.6, random_state=42):
        if mask is None:
            mask = make_overlapping_gene_sets()
        super().__init__(
            mask, task, depth=depth, activation="relu", head_layer_sizes=head_layer_sizes,
            head_activation="relu", label_noise="threshold", input_model="latent",
            beta=beta, gene_noise=gene_noise, random_state=random_state,
        )

    def _build_module(self, reference, rng):
        module = BINNModule(
            self.mask, n_outputs=self.n_outputs, activation="relu",
            head_layer_sizes=self.head_layer_sizes, head_activation="relu",
        )
        with torch_seeded(seed_from(self.random_state)):
            _draw_published_parameters(module)
        return module.float().eval()

    def _draw_inputs(self, n_samples, rng):
        membership = self.mask.layers[0].tocsc()
        latent = rng.normal(size=(n_samples, membership.shape[1]))
        X = rng.normal(scale=self.gene_noise, size=(n_samples, membership.shape[0]))
        for p in range(membership.shape[1]):
            genes = membership.indices[membership.indptr[p]:membership.indptr[p + 1]]
            X[:, genes] += self.beta * latent[:, p:p + 1]
        return (X - X.mean(axis=0, keepdims=True)) / (X.std(axis=0, keepdims=True) + 1e-6)

    def __repr__(self):
        return f"PublishedTeacher(task={self.task!r}, mask={self.mask!r}, " \
               f"head_layer_sizes={self.head_layer_sizes!r}, random_state={self.random_state!r})"


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}.")
    return int(value)


def make_published_problem(n_train=12000, n_test=3000, *, n_pool=None, teacher=None,
                           data_seed=123, gamma=6.0, censoring_rate=0.05, survival_seed=42):
    """The study's data: inputs, targets for each task, one train / test split.

    One draw of ``n_pool + n_test`` inputs from the teacher's input model
    (``teacher.sample(n_pool + n_test, random_state=data_seed)``,
    standardised over all of them); the first ``n_train`` rows train, the
    last ``n_test`` rows test. With ``n_pool=None`` the pool is ``n_train``
    (the study's fixed 12k problem); its nested sample-size sweep uses one
    pool of 96,000 for every ``n_train``, so the training sets are nested
    prefixes and the test set is the same for all.

    Targets, all from the teacher's raw output ``raw`` (float32, as in the
    study):

    - ``y_*`` (regression, and the study's survival "risk"):
      ``gamma * (raw - mu) / (sd + 1e-8)`` with ``mu`` and ``sd``
      (``ddof=1``) of the *training* rows, no noise;
    - ``logit_*`` and ``label_*`` (binary): the raw output, not rescaled (the
      study's binary student regresses on it by MSE), and ``logit > 0``;
    - ``survival_*`` (structured arrays ``(event, time)``): event times
      ``-log(U) / exp(y)`` censored at ``-log(U_c) / censoring_rate``. The
      test times reproduce the study's draw (``U`` then ``U_c`` from
      ``numpy.random.RandomState(survival_seed)``); the study simulated no
      training times, so those (for a Cox-loss student) are drawn the same
      way from ``RandomState(survival_seed + 1)``.

    Parameters
    ----------
    n_train : int, default=12000
    n_test : int, default=3000
    n_pool : int, default=None
        Rows drawn before the test rows; at least ``n_train``.
    teacher : PublishedTeacher, default=None
        ``None`` builds ``PublishedTeacher()``.
    data_seed : int, default=123
    gamma : float, default=6.0
        The target amplification.
    censoring_rate : float, default=0.05
    survival_seed : int, default=42

    Returns
    -------
    Bunch
        ``teacher``, ``X_train``, ``X_test`` (float32), ``raw_train``,
        ``raw_test``, ``target_mean``, ``target_std``, ``y_train``,
        ``y_test``, ``logit_train``, ``logit_test``, ``label_train``,
        ``label_test``, ``survival_train``, ``survival_test``.

    Examples
    --------
    >>> from sklearn_binn.published import make_published_problem
    >>> problem = make_published_problem(1000, 200)
    >>> problem.X_train.shape, problem.X_test.shape
    ((1000, 400), (200, 400))
    >>> round(float(problem.y_train.std(ddof=1)), 4)
    6.0
    """
    n_train = _positive_int(n_train, "n_train")
    n_test = _positive_int(n_test, "n_test")
    n_pool = n_train if n_pool is None else _positive_int(n_pool, "n_pool")
    if n_pool < n_train:
        raise ValueError(f"n_pool ({n_pool}) must be at least n_train ({n_train}).")
    if teacher is None:
        teacher = PublishedTeacher()
    elif not isinstance(teacher, TeacherDataset):
        raise TypeError(f"teacher must be a PublishedTeacher; got {type(teacher).__name__}.")
    X_all, _ = teacher.sample(n_pool + n_test, random_state=data_seed)
    X_all = X_all.astype(np.float32)
    X_train, X_test = X_all[:n_train], X_all[n_pool:]
    del X_all
    raw_train = torch.as_tensor(teacher.predict(X_train), dtype=torch.float32)
    raw_test = torch.as_tensor(teacher.predict(X_test), dtype=torch.float32)
    mu, sd = raw_train.mean(), raw_train.std()
    y_train = (gamma * (raw_train - mu) / (sd + 1e-8)).numpy()
    y_test = (gamma * (raw_test - mu) / (sd + 1e-8)).numpy()

    def times(risk, seed):
        draws = np.random.RandomState(seed)
        hazard = np.exp(risk.astype(np.float64)) + 1e-12
        event_time = -np.log(draws.uniform(size=len(risk))) / hazard
        censor_time = -np.log(draws.uniform(size=len(risk))) / censoring_rate
        return Surv.from_arrays(event_time <= censor_time, np.minimum(event_time, censor_time))

    return Bunch(
        teacher=teacher, X_train=X_train, X_test=X_test,
        raw_train=raw_train.numpy(), raw_test=raw_test.numpy(),
        target_mean=float(mu), target_std=float(sd),
        y_train=y_train, y_test=y_test,
        logit_train=raw_train.numpy(), logit_test=raw_test.numpy(),
        label_train=(raw_train > 0).numpy().astype(np.int64),
        label_test=(raw_test > 0).numpy().astype(np.int64),
        survival_train=times(y_train, survival_seed + 1),
        survival_test=times(y_test, survival_seed),
    )


# ------------------------------------------------------------------- metrics
def published_weight_scores(student_weights, student_bias, teacher_weights, teacher_bias,
                            *, bias_weight=1.0):
    """The study's per-node weight recovery: relative L2 error and cosines.

    For each node (column) with incoming weights ``wS`` (student) and
    ``wT`` (teacher) over its masked entries and biases ``bS``, ``bT``:

    - ``alpha = max(0, (wS.wT + bias_weight * bS bT) / (wS.wS +
      bias_weight * bS^2 + 1e-12))``, the best positive rescaling of the
      student, fitted with the bias included;
    - ``relL2 = |alpha wS - wT| / (|wT| + 1e-12)``, the error over the
      weights only (1 when ``alpha`` is clamped to 0);
    - ``cos_std = wT.wS / (|wT| |wS| + 1e-12)``, signed, weights only;
    - ``cos_pos = max(0, cos_std)``.

    Parameters
    ----------
    student_weights, teacher_weights : sparse matrix or ndarray of shape (n_inputs, n_nodes)
        With the same sparsity pattern (the mask); dense arrays are read
        as sparse, so exact zeros must be absent edges in both.
    student_bias, teacher_bias : array-like of shape (n_nodes,)
    bias_weight : float, default=1.0
        The study's ``lambda_b``.

    Returns
    -------
    pandas.DataFrame
        One row per node: ``alpha``, ``relL2``, ``cos_std``, ``cos_pos``.
        The study reports the mean of each over the nodes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_binn.published import published_weight_scores
    >>> W = np.array([[1.0, 2.0], [3.0, 0.0], [0.0, 1.0]])
    >>> scores = published_weight_scores(2 * W, [0.0, 0.0], W, [0.0, 0.0])
    >>> scores.round(6).to_dict("list")
    {'alpha': [0.5, 0.5], 'relL2': [0.0, 0.0], 'cos_std': [1.0, 1.0], 'cos_pos': [1.0, 1.0]}
    >>> published_weight_scores(-W, [0.0, 0.0], W, [0.0, 0.0])["relL2"].tolist()
    [1.0, 1.0]
    """
    Ws = sp.csr_matrix(student_weights, dtype=np.float64)
    Wt = sp.csr_matrix(teacher_weights, dtype=np.float64)
    for W in (Ws, Wt):
        W.sort_indices()
    if Ws.shape != Wt.shape or not (
        np.array_equal(Ws.indptr, Wt.indptr) and np.array_equal(Ws.indices, Wt.indices)
    ):
        raise ValueError(
            "student_weights and teacher_weights must have the same shape and sparsity "
            f"pattern (the mask); got shapes {Ws.shape} and {Wt.shape} with "
            f"{Ws.nnz} and {Wt.nnz} entries. Pass both networks' weights on one mask."
        )
    n_nodes = Ws.shape[1]
    bs = np.asarray(student_bias, dtype=np.float64).ravel()
    bt = np.asarray(teacher_bias, dtype=np.float64).ravel()
    if bs.shape != (n_nodes,) or bt.shape != (n_nodes,):
        raise ValueError(
            f"The biases must have one entry per node ({n_nodes}); got {bs.size} and {bt.size}."
        )

    def per_node(values):
        return np.bincount(Ws.indices, weights=values, minlength=n_nodes)

    st, ss, tt = per_node(Ws.data * Wt.data), per_node(Ws.data**2), per_node(Wt.data**2)
    alpha = np.maximum(0.0, (st + bias_weight * bs * bt) / (ss + bias_weight * bs**2 + 1e-12))
    error = np.sqrt(per_node((alpha[Ws.indices] * Ws.data - Wt.data) ** 2))
    cos_std = st / (np.sqrt(tt) * np.sqrt(ss) + 1e-12)
    return pd.DataFrame({
        "alpha": alpha,
        "relL2": error / (np.sqrt(tt) + 1e-12),
        "cos_std": cos_std,
        "cos_pos": np.maximum(cos_std, 0.0),
    })


def published_activation_scores(student_pre, teacher_pre):
    """The study's activation recovery, from pre-activations on one data set.

    Parameters
    ----------
    student_pre, teacher_pre : array-like of shape (n_samples, n_nodes)
        Pre-activations ``z = W x + b`` of one pathway layer (the study uses
        its 3,000 test rows).

    Returns
    -------
    dict
        ``act_corr_mean``: mean over nodes of the signed Pearson r between
        teacher and student, over the nodes whose both columns have a
        standard deviation (``ddof=1``) above 1e-6 (NaN if none);
        ``act_cosine_mean``: mean over samples of the cosine between the
        teacher's and the student's rows (across nodes, uncentred);
        ``act_r2``: ``1 - sum((zT - zS)^2) / (sum((zT - mean_col(zT))^2) +
        1e-12)`` over all entries, with no alignment of scales.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_binn.published import published_activation_scores
    >>> z = np.random.default_rng(0).normal(size=(100, 3))
    >>> doubled = published_activation_scores(2 * z, z)  # a rescaled student
    >>> {k: round(v, 3) for k, v in doubled.items()}
    {'act_corr_mean': 1.0, 'act_cosine_mean': 1.0, 'act_r2': -0.003}
    >>> shifted = published_activation_scores(z + 1, z)
    >>> {k: round(v, 3) for k, v in shifted.items()}
    {'act_corr_mean': 1.0, 'act_cosine_mean': 0.58, 'act_r2': 0.033}
    """
    zs = np.asarray(student_pre, dtype=np.float64)
    zt = np.asarray(teacher_pre, dtype=np.float64)
    if zs.ndim != 2 or zs.shape != zt.shape:
        raise ValueError(
            "student_pre and teacher_pre must be 2-D arrays of one shape (n_samples, "
            f"n_nodes); got {zs.shape} and {zt.shape}."
        )
    varying = (zs.std(axis=0, ddof=1) > 1e-6) & (zt.std(axis=0, ddof=1) > 1e-6)
    r = correlations(zs[:, varying], zt[:, varying], signed=True)
    dots = (zs * zt).sum(axis=1)
    norms = np.sqrt(np.maximum((zs**2).sum(axis=1) * (zt**2).sum(axis=1), 1e-16))
    ss_res = ((zt - zs) ** 2).sum()
    ss_tot = ((zt - zt.mean(axis=0)) ** 2).sum()
    return {
        "act_corr_mean": float(r.mean()) if r.size else float("nan"),
        "act_cosine_mean": float((dots / norms).mean()),
        "act_r2": float(1.0 - ss_res / (ss_tot + 1e-12)),
    }


def _pre_activations(obj, X, layer):
    if isinstance(obj, TeacherDataset):
        return obj.activations(X, pre_activation=True)[layer]
    if isinstance(obj, BINNModule):
        was_training = obj.training
        obj.eval()
        try:
            with torch.no_grad():
                X = torch.as_tensor(np.asarray(X), dtype=obj.output.weight.dtype)
                return obj.forward_with_activations(X, True)[1][layer].double().numpy()
        finally:
            obj.train(was_training)
    pre, final = binn_step(obj)
    return final.pathway_activations(
        step_inputs(pre, X), layer, pre_activation=True, as_frame=False
    )


def published_metrics(student, teacher, X, *, layer=0, bias_weight=1.0):
    """The study's six recovery metrics of one pathway layer of a student.

    Weight metrics (:func:`published_weight_scores`, averaged over the
    layer's nodes) compare the incoming weights and biases as they are,
    with no alignment of the layers below (the study scores only layer
    0, where none is needed); activation metrics
    (:func:`published_activation_scores`) compare the layer's
    pre-activations on ``X``.

    Parameters
    ----------
    student : fitted BINN estimator, Pipeline ending in one, BINNModule or TeacherDataset
    teacher : TeacherDataset, fitted BINN estimator or BINNModule
        With the same wiring up to ``layer``.
    X : array-like of shape (n_samples, n_genes)
        Inputs for the activations (the study uses its test set). Both
        networks see ``X`` as given (a pipeline's earlier steps transform it
        for the student).
    layer : int, default=0
        The pathway layer scored (0 = gene → pathway).
    bias_weight : float, default=1.0

    Returns
    -------
    dict
        ``relL2_mean``, ``cos_std_mean``, ``cos_pos_mean``,
        ``act_corr_mean``, ``act_cosine_mean``, ``act_r2``: the columns of
        the study's result tables.

    See Also
    --------
    recovery_report : this package's scores, invariant to exactly the
        network's symmetries.

    Examples
    --------
    >>> from sklearn_binn.published import PublishedTeacher, published_metrics
    >>> teacher = PublishedTeacher()
    >>> X, _ = teacher.sample(200, random_state=0)
    >>> metrics = published_metrics(teacher.to_estimator(), teacher, X)
    >>> {k: round(v, 6) for k, v in metrics.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'relL2_mean': 0.0, 'cos_std_mean': 1.0, 'cos_pos_mean': 1.0,
     'act_corr_mean': 1.0, 'act_cosine_mean': 1.0, 'act_r2': 1.0}
    """
    student_net = as_network(student, "student")
    teacher_net = as_network(teacher, "teacher")
    depth = min(student_net.depth, teacher_net.depth)
    if isinstance(layer, bool) or not isinstance(layer, Integral) or not 0 <= layer < depth:
        raise ValueError(
            f"layer must be an int between 0 and {depth - 1} (the pathway layers both "
            f"networks have); got {layer!r}."
        )
    weights = published_weight_scores(
        student_net.weights[layer], student_net.biases[layer],
        teacher_net.weights[layer], teacher_net.biases[layer], bias_weight=bias_weight,
    )
    activations = published_activation_scores(
        _pre_activations(student, X, layer), _pre_activations(teacher, X, layer)
    )
    return {
        "relL2_mean": float(weights["relL2"].mean()),
        "cos_std_mean": float(weights["cos_std"].mean()),
        "cos_pos_mean": float(weights["cos_pos"].mean()),
        **activations,
    }


def load_published_results():
    """The study's published per-seed regression results.

    A copy of the numbers in two result tables of the study's repository
    (commit ``41438d30``): ``source="fixed_test_sample_size_trials"`` is
    its nested sample-size sweep (students 9000–9002 at 12k, 24k, 48k and
    96k training rows, one fixed test set), ``source="repeated_trials_baseline"``
    its fixed 12k problem (students 9000–9004). See the data folder's
    README for the columns.

    Returns
    -------
    pandas.DataFrame
        One row per student: ``source``, ``n_train``, ``student_seed``,
        ``train_r2``, ``test_r2`` and the six columns of
        :func:`published_metrics`.

    Examples
    --------
    >>> from sklearn_binn.published import load_published_results
    >>> published = load_published_results()
    >>> published.groupby("source").size().to_dict()
    {'fixed_test_sample_size_trials': 12, 'repeated_trials_baseline': 5}
    """
    with (files("sklearn_binn.datasets") / "data" / "published_results.csv").open() as f:
        return pd.read_csv(f)
