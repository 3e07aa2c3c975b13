"""Teacher BINNs with known weights, and the data they generate."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from scipy.optimize import brentq
from scipy.special import expit, softmax
from sklearn.base import clone
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import check_array

from ._mask import PathwayMask, resolve_mask
from ._module import ACTIVATIONS, BINNModule
from ._sparse import SparseLinear
from ._utils import seed_from

__all__ = ["TeacherDataset"]

_TASKS = ("regression", "classification", "survival")
# estimator parameters that define the network; to_estimator copies the teacher's
_ARCHITECTURE = (
    "mask", "depth", "activation", "head_layer_sizes", "head_activation",
    "batch_norm", "module",
)


class TeacherDataset:
    """Data drawn from a teacher BINN whose weights are known.

    The teacher is a :class:`~sklearn_binn.modules.BINNModule` on ``mask``
    (genes → pathway layers → optional dense head → output) with random,
    untrained weights. It generates inputs ``X`` from a known distribution
    and targets ``y`` for regression, classification or survival, and it
    exposes its weights and its pathway activations, so that a student
    fitted on ``(X, y)`` can be checked against the truth (see
    :class:`IdentifiabilityScorer` and :func:`recovery_report`).

    **How the teacher is drawn.** On a reference sample of ``n_reference``
    inputs, layer by layer from the genes up: the incoming weights of every
    node (on the mask's edges only) are drawn i.i.d. ``N(0, 1)``, then scaled
    together so that the node's pre-activation has standard deviation
    ``weight_scale`` on the reference sample, and the node's bias is set to
    minus the mean of that pre-activation, which *centres* it. So every node
    has a pre-activation of mean about 0 and standard deviation about
    ``weight_scale`` (within a few per cent, the error of the reference
    sample), whatever the input model and depth, and a ReLU teacher has no
    dead nodes: each node is active on about half the samples (from a third to
    two thirds above the first layer, whose inputs are skewed). For ``tanh``
    and a normal pre-activation, ``weight_scale=1`` keeps 93 % of the variance
    of ``tanh(z)`` linear in ``z`` with 7 % of the samples saturated
    (``|tanh(z)| > 0.95``); ``weight_scale=2`` gives 84 % and 36 %. The dense head
    is drawn the same way; the output layer is scaled so that each output has
    standard deviation ``output_scale`` and is centred.

    Parameters
    ----------
    mask : PathwayMask, list of matrices, mapping or DataFrame
        The teacher's wiring; anything :class:`PathwayMask` accepts (but not
        a callable: the teacher needs one fixed mask).
    task : {"regression", "classification", "survival"}, default="regression"
        What ``y`` is: the teacher's output plus Gaussian noise; class labels
        drawn from its logit(s); or censored event times from a Cox model with
        the teacher's output as log-risk.
    depth : int, default=None
        Use only the first ``depth`` pathway layers of ``mask``.
    activation : {"tanh", "relu", "sigmoid", "identity"}, default="tanh"
        Non-linearity of the pathway nodes.
    head_layer_sizes : tuple of int, default=()
        Widths of a dense MLP between the top pathway layer and the output.
    head_activation : {"tanh", "relu", "sigmoid", "identity"}, default="relu"
        Non-linearity of the dense head.
    weight_scale : float, default=1.0
        Standard deviation of every pathway (and head) node's pre-activation
        on the input distribution, see above.
    output_scale : float, default=1.0
        Standard deviation of each output (regression value, logit, log-risk)
        on the input distribution. For classification it sets how separable
        the classes are: with ``label_noise="bernoulli"`` and a normal logit a
        binary teacher labels 67 % of the samples with its more likely class
        at ``output_scale=1``, 78 % at 2 and 84 % at 3 (the Bayes accuracy).
    noise : float, default=0.0
        Regression only: ``y`` = teacher output + ``N(0, (noise * sd)^2)``
        where ``sd`` is the standard deviation of the noiseless output on the
        reference sample (so ``noise=0.5`` gives a signal-to-noise variance
        ratio of 4).
    n_classes : int, default=2
        Classification only: the number of classes; the teacher has one
        logit for 2 classes and ``n_classes`` logits otherwise.
    label_noise : {"bernoulli", "threshold"}, default="bernoulli"
        Classification only. ``"bernoulli"`` draws each label from the
        teacher's class probabilities (``sigmoid`` of the logit, or the
        ``softmax`` of the logits: a categorical draw); ``"threshold"`` takes
        the most probable class (logit > 0, or the argmax), noiseless.
    censoring : float, default=0.3
        Survival only: the expected fraction of censored samples, in
        ``[0, 1)``. Censoring times are independent exponential draws whose
        rate is solved (``scipy.optimize.brentq``) so that the expected
        censored fraction on the reference sample equals ``censoring``.
    baseline : {"weibull", "exponential"}, default="weibull"
        Survival only: the baseline cumulative hazard, ``H0(t) = t **
        weibull_shape`` or ``H0(t) = t``. Event times follow ``S(t | x) =
        exp(-H0(t) * exp(f(x)))`` with ``f`` the teacher's output.
    weibull_shape : float, default=1.5
        Shape of the Weibull baseline (> 1: hazard rising with time).
    input_model : {"independent", "equicorrelated", "latent"}, default="independent"
        The distribution of the genes, each with mean 0 and variance 1:

        - ``"independent"``: i.i.d. standard normal genes;
        - ``"equicorrelated"``: every pair of genes has correlation
          ``input_correlation`` (one shared normal factor);
        - ``"latent"``: the model of the published teacher–student study of
          BINNs: each pathway of the first layer has a latent activity
          ``A_p ~ N(0, 1)``, each gene is ``beta * (sum of A_p over the
          pathways that contain it) + N(0, gene_noise^2)``, standardised by
          its population standard deviation. The covariance is
          ``D^-1/2 (beta^2 M M^T + gene_noise^2 I) D^-1/2`` with ``M`` the
          gene × pathway 0/1 matrix of layer 0 and ``D`` its diagonal, see
          :meth:`input_covariance`. Genes in no pathway are pure noise.
    input_correlation : float, default=0.5
        The correlation of ``input_model="equicorrelated"``, in ``[0, 1)``.
    beta : float, default=0.7
        The latent loading of ``input_model="latent"``.
    gene_noise : float, default=0.6
        The gene-specific noise standard deviation of ``input_model="latent"``.
    n_reference : int, default=2000
        Size of the reference sample used to scale and centre the nodes and
        to solve the censoring rate. It is drawn once; memory grows as
        ``n_reference * n_genes``.
    random_state : int, RandomState or None, default=None
        Seeds the teacher's weights and its reference sample (``None``: a new
        teacher on every construction). :meth:`sample` has its own seed.

    Attributes
    ----------
    mask : PathwayMask
        The resolved mask, truncated to ``depth``.
    module : BINNModule
        The teacher network (float32, eval mode), the one forward pass that
        :meth:`predict`, :meth:`activations` and :meth:`sample` use.
    weights : list of scipy.sparse.csr_matrix
        The true weights: per pathway layer ``(n_inputs, n_nodes)`` with the
        mask's pattern, then the head and output layers.
    biases : list of ndarray
        The true biases, in the order of ``weights``.
    n_outputs : int
        Width of the output layer: ``n_classes`` for multiclass, else 1.
    output_std : ndarray of shape (n_outputs,)
        Standard deviation of each noiseless output on the reference sample.
    censoring_rate : float or None
        Rate of the exponential censoring times (survival; 0 without
        censoring), else None.

    See Also
    --------
    IdentifiabilityScorer, recovery_report

    Examples
    --------
    >>> from sklearn_binn import PathwayMask, TeacherDataset
    >>> mask = PathwayMask.from_gene_sets(
    ...     {"P1": ["A", "B", "C"], "P2": ["C", "D", "E"], "P3": ["E", "F"]})
    >>> teacher = TeacherDataset(mask, noise=0.1, random_state=0)
    >>> X, y = teacher.sample(500, random_state=1)
    >>> X.shape, y.shape
    ((500, 6), (500,))
    >>> [w.shape for w in teacher.weights]
    [(6, 3), (3, 1)]
    >>> teacher.activations(X)[0].shape
    (500, 3)
    """

    _parameter_constraints = {
        "task": [StrOptions(set(_TASKS))],
        "depth": [Interval(Integral, 1, None, closed="left"), None],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "head_layer_sizes": ["array-like"],
        "head_activation": [StrOptions(set(ACTIVATIONS))],
        "weight_scale": [Interval(Real, 0, None, closed="neither")],
        "output_scale": [Interval(Real, 0, None, closed="neither")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "label_noise": [StrOptions({"bernoulli", "threshold"})],
        "censoring": [Interval(Real, 0, 1, closed="left")],
        "baseline": [StrOptions({"weibull", "exponential"})],
        "weibull_shape": [Interval(Real, 0, None, closed="neither")],
        "input_model": [StrOptions({"independent", "equicorrelated", "latent"})],
        "input_correlation": [Interval(Real, 0, 1, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "gene_noise": [Interval(Real, 0, None, closed="neither")],
        "n_reference": [Interval(Integral, 10, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        mask,
        task="regression",
        *,
        depth=None,
        activation="tanh",
        head_layer_sizes=(),
        head_activation="relu",
        weight_scale=1.0,
        output_scale=1.0,
        noise=0.0,
        n_classes=2,
        label_noise="bernoulli",
        censoring=0.3,
        baseline="weibull",
        weibull_shape=1.5,
        input_model="independent",
        input_correlation=0.5,
        beta=0.7,
        gene_noise=0.6,
        n_reference=2000,
        random_state=None,
    ):
        params = dict(locals())
        del params["self"], params["mask"]
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name="TeacherDataset"
        )
        vars(self).update(params)
        self.head_layer_sizes = _check_sizes(head_layer_sizes)
        if noise != 0 and task != "regression":
            raise ValueError(
                f"noise={noise} applies to task='regression' only; for {task!r} the "
                "targets are random through "
                + ("label_noise." if task == "classification" else "the Cox model.")
                + " Use noise=0."
            )
        self.mask = _resolve_teacher_mask(mask, depth)
        seeds = np.random.SeedSequence(seed_from(random_state)).spawn(3)
        reference = self._draw_inputs(self.n_reference, np.random.default_rng(seeds[0]))
        self.module = self._build_module(reference, np.random.default_rng(seeds[1]))
        output = self._output(reference)
        self.output_std = output.std(axis=0)
        self.censoring_rate = None
        if task == "survival":
            times = self._event_times(output[:, 0], np.random.default_rng(seeds[2]))
            self.censoring_rate = _censoring_rate(times, censoring)

    # ------------------------------------------------------------ the teacher
    @property
    def n_outputs(self):
        """int: the width of the output layer."""
        if self.task == "classification" and self.n_classes > 2:
            return int(self.n_classes)
        return 1

    def _build_module(self, reference, rng):
        """Draw, scale and centre every layer on the reference sample."""
        with torch.random.fork_rng(devices=[]):  # its own draws are overwritten below
            module = BINNModule(
                self.mask, n_outputs=self.n_outputs, activation=self.activation,
                head_layer_sizes=self.head_layer_sizes,
                head_activation=self.head_activation,
            )
        module = module.double().eval()
        act, head_act = ACTIVATIONS[self.activation], ACTIVATIONS[self.head_activation]
        with torch.no_grad():
            h = torch.from_numpy(reference)
            inputs = [h]  # a skip-level layer reads the genes and every lower layer
            for layer in module.pathway_layers:
                h = act(_draw_layer(
                    layer, torch.cat(inputs, dim=1) if module.skip_levels else h,
                    rng, self.weight_scale,
                ))
                inputs.append(h)
            for layer in module.head_layers:
                h = head_act(_draw_layer(layer, h, rng, self.weight_scale))
            _draw_layer(module.output, h, rng, self.output_scale)
        return module.float()

    @property
    def weights(self):
        """list of scipy.sparse.csr_matrix: the teacher's weights.

        One ``(n_inputs, n_nodes)`` matrix per pathway layer, with the mask's
        pattern, then one per dense head layer and the output layer (dense
        patterns); the layout of ``BINNRegressor.get_weights(include_output=True)``.
        """
        mats = [layer.weight_matrix() for layer in self.module.pathway_layers]
        dense = [*self.module.head_layers, self.module.output]
        return mats + [sp.csr_matrix(d.weight.detach().double().numpy().T) for d in dense]

    @property
    def biases(self):
        """list of ndarray: the biases, in the order of :attr:`weights`."""
        layers = [*self.module.pathway_layers, *self.module.head_layers, self.module.output]
        return [layer.bias.detach().double().numpy().copy() for layer in layers]

    # -------------------------------------------------------------- the inputs
    def _draw_inputs(self, n_samples, rng):
        n_genes = self.mask.n_features
        if self.input_model == "independent":
            return rng.standard_normal((n_samples, n_genes))
        if self.input_model == "equicorrelated":
            rho = self.input_correlation
            shared = rng.standard_normal((n_samples, 1))
            own = rng.standard_normal((n_samples, n_genes))
            return np.sqrt(rho) * shared + np.sqrt(1.0 - rho) * own
        membership = self._membership()  # genes x pathways, 0/1
        latent = rng.standard_normal((n_samples, membership.shape[1]))
        own = rng.standard_normal((n_samples, n_genes))
        X = self.beta * np.asarray(membership @ latent.T).T + self.gene_noise * own
        return X / self._latent_sd()

    def _membership(self):
        """Genes x pathways, 0/1: the pathways each gene feeds directly (in a
        skip-level mask, those of every layer)."""
        if not self.mask.skip_levels:
            return self.mask.layers[0]
        n_genes = self.mask.n_features
        return sp.hstack([layer[:n_genes] for layer in self.mask.layers]).tocsr()

    def _latent_sd(self):
        n_pathways = np.asarray(self._membership().sum(axis=1), dtype=np.float64).ravel()
        return np.sqrt(self.beta**2 * n_pathways + self.gene_noise**2)

    def input_covariance(self):
        """The population covariance of the genes (also their correlation).

        Returns
        -------
        ndarray of shape (n_genes, n_genes)
            The identity for ``"independent"``; ``input_correlation`` off the
            diagonal for ``"equicorrelated"``; ``D^-1/2 (beta^2 M M^T +
            gene_noise^2 I) D^-1/2`` for ``"latent"``.

        Examples
        --------
        >>> from sklearn_binn import PathwayMask, TeacherDataset
        >>> mask = PathwayMask.from_gene_sets({"P1": ["A", "B"], "P2": ["B", "C"]})
        >>> TeacherDataset(mask, input_model="latent", random_state=0).input_covariance().round(3)
        array([[1.   , 0.459, 0.   ],
               [0.459, 1.   , 0.459],
               [0.   , 0.459, 1.   ]])
        """
        n_genes = self.mask.n_features
        if self.input_model == "independent":
            return np.eye(n_genes)
        if self.input_model == "equicorrelated":
            rho = self.input_correlation
            return np.full((n_genes, n_genes), rho) + (1.0 - rho) * np.eye(n_genes)
        membership = self._membership().astype(np.float64)
        cov = self.beta**2 * (membership @ membership.T).toarray()
        cov += self.gene_noise**2 * np.eye(n_genes)
        sd = self._latent_sd()
        return cov / np.outer(sd, sd)

    # --------------------------------------------------------- the teacher's view
    def _check_X(self, X):
        names = self.mask.feature_names
        if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
            missing = [g for g in names if g not in set(X.columns)]
            if missing:
                raise ValueError(
                    f"X lacks {len(missing)} gene(s) of the teacher's mask, e.g. "
                    f"{missing[:5]}; pass a column for every gene."
                )
            X = X[list(names)]
        X = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        if X.shape[1] != len(names):
            raise ValueError(
                f"X has {X.shape[1]} features, but the teacher's mask has "
                f"{len(names)} genes."
            )
        return torch.tensor(X, dtype=torch.float32)

    def _forward(self, X, pre_activation=False):
        X = self._check_X(X)
        outs, acts = [], []
        with torch.no_grad():
            for start in range(0, len(X), 4096):
                out, a = self.module.forward_with_activations(
                    X[start:start + 4096], pre_activation
                )
                outs.append(out.double().numpy())
                acts.append([layer.double().numpy() for layer in a])
        return np.concatenate(outs), [np.concatenate(layer) for layer in zip(*acts)]

    def _output(self, X):
        return self._forward(X)[0]

    def predict(self, X):
        """The teacher's noiseless output.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_genes)
            A DataFrame's columns are matched to the genes by name.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            The regression value, the logit (binary) or the logits
            (multiclass), or the log-risk (survival).

        Examples
        --------
        >>> from sklearn_binn import PathwayMask, TeacherDataset
        >>> teacher = TeacherDataset(PathwayMask.from_gene_sets({"P": ["A", "B"]}),
        ...                          random_state=0)
        >>> X, y = teacher.sample(4, random_state=0)
        >>> bool((teacher.predict(X) == y).all())
        True
        """
        out = self._output(X)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict_proba(self, X):
        """Class probabilities of a classification teacher, ``(n_samples, n_classes)``.

        Examples
        --------
        >>> from sklearn_binn import PathwayMask, TeacherDataset
        >>> teacher = TeacherDataset(PathwayMask.from_gene_sets({"P": ["A", "B"]}),
        ...                          task="classification", random_state=0)
        >>> teacher.predict_proba([[0.0, 1.0]]).sum()
        np.float64(1.0)
        """
        if self.task != "classification":
            raise ValueError(
                f"predict_proba needs task='classification'; this teacher's task is "
                f"{self.task!r}. Use predict for its output."
            )
        out = self._output(X)
        if out.shape[1] == 1:
            p = expit(out[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(out, axis=1)

    def activations(self, X, pre_activation=False):
        """The teacher's pathway activations.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_genes)
        pre_activation : bool, default=False
            Return ``z = W x + b`` instead of ``activation(z)``.

        Returns
        -------
        list of ndarray
            One ``(n_samples, n_nodes)`` array per pathway layer.

        Examples
        --------
        >>> from sklearn_binn import PathwayMask, TeacherDataset
        >>> teacher = TeacherDataset(PathwayMask.from_gene_sets({"P": ["A", "B"]}),
        ...                          random_state=0)
        >>> [a.shape for a in teacher.activations([[0.0, 1.0], [1.0, 0.0]])]
        [(2, 1)]
        """
        return self._forward(X, pre_activation)[1]

    # ------------------------------------------------------------- the data
    def sample(self, n_samples, random_state=None):
        """Draw a data set from the teacher.

        Parameters
        ----------
        n_samples : int
        random_state : int, RandomState or None, default=None
            Seeds the inputs and the noise of the targets; the same int
            gives the same data, ``None`` fresh data on every call.
            Independent of the teacher's own seed: two teachers given the
            same value draw the same ``X``.

        Returns
        -------
        X : ndarray of shape (n_samples, n_genes)
        y : ndarray
            Regression: float ``(n_samples,)``. Classification: int labels
            ``0 .. n_classes - 1``. Survival: the structured array of
            ``sksurv.util.Surv.from_arrays(event, time)``.

        Examples
        --------
        >>> from sklearn_binn import PathwayMask, TeacherDataset
        >>> teacher = TeacherDataset(PathwayMask.from_gene_sets({"P": ["A", "B"]}),
        ...                          task="survival", censoring=0.3, random_state=0)
        >>> X, y = teacher.sample(3, random_state=0)
        >>> y.dtype.names
        ('event', 'time')
        """
        if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int; got {n_samples!r}.")
        rng = np.random.default_rng(seed_from(random_state))
        X = self._draw_inputs(int(n_samples), rng)
        out = self._output(X)
        if self.task == "regression":
            y = out[:, 0]
            if self.noise > 0:
                y = y + rng.normal(scale=self.noise * self.output_std[0], size=len(y))
            return X, y
        if self.task == "classification":
            return X, self._labels(out, rng)
        return X, self._survival_target(out[:, 0], rng)

    def _labels(self, out, rng):
        if out.shape[1] == 1:
            if self.label_noise == "threshold":
                return (out[:, 0] > 0).astype(np.int64)
            return (rng.random(len(out)) < expit(out[:, 0])).astype(np.int64)
        if self.label_noise == "threshold":
            return np.argmax(out, axis=1).astype(np.int64)
        cumulative = np.cumsum(softmax(out, axis=1), axis=1)
        draws = (cumulative < rng.random((len(out), 1))).sum(axis=1)
        return np.minimum(draws, out.shape[1] - 1).astype(np.int64)

    def _event_times(self, log_risk, rng):
        """Invert ``S(t) = exp(-H0(t) exp(log_risk))`` at Exp(1) draws."""
        cumulative_hazard = rng.exponential(size=len(log_risk)) * np.exp(-log_risk)
        shape = self.weibull_shape if self.baseline == "weibull" else 1.0
        return cumulative_hazard ** (1.0 / shape)

    def _survival_target(self, log_risk, rng):
        from sksurv.util import Surv

        times = self._event_times(log_risk, rng)
        if self.censoring_rate > 0:
            censor = rng.exponential(scale=1.0 / self.censoring_rate, size=len(times))
        else:
            censor = np.full(len(times), np.inf)
        return Surv.from_arrays(times <= censor, np.minimum(times, censor))

    # -------------------------------------------------------- as an estimator
    def _estimator_class(self):
        if self.task == "regression":
            from ._regressor import BINNRegressor

            return BINNRegressor
        if self.task == "classification":
            from ._classifier import BINNClassifier

            return BINNClassifier
        try:
            from ._survival import BINNSurvival
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "to_estimator for task='survival' needs BINNSurvival "
                "(sklearn_binn._survival), which could not be imported."
            ) from exc
        return BINNSurvival

    def _dummy_data(self):
        """Data that give an estimator this teacher's output layout; values unused."""
        y = np.arange(2 * max(self.n_classes, 10))
        if self.task == "classification":
            y = y % self.n_classes
        elif self.task == "survival":
            from sksurv.util import Surv

            y = Surv.from_arrays(np.ones(len(y), dtype=bool), y + 1.0)
        return np.zeros((len(y), self.mask.n_features)), y

    def to_estimator(self, **params):
        """A fitted BINN estimator that carries exactly the teacher's weights.

        The estimator (:class:`BINNRegressor`, :class:`BINNClassifier` or
        :class:`BINNSurvival`, by ``task``) has the teacher's mask,
        activations and head. It is fitted for zero epochs (which sets every
        fitted attribute through the estimator's own ``fit`` and trains
        nothing) and then gets the teacher's weights, so whatever scores a
        student scores the teacher, e.g. the identifiability ceiling of
        exactly 1.0. A survival estimator's Breslow baseline hazard is then
        fitted, again without training, on a teacher sample of
        ``n_reference`` rows (``sample(n_reference, random_state=0)``).

        Parameters
        ----------
        **params
            Other estimator parameters (``device``, ``max_epochs``, ...).
            Parameters that define the network (``mask``, ``depth``,
            ``activation``, ``head_layer_sizes``, ``head_activation``,
            ``batch_norm``, ``module``) are the teacher's.

        Returns
        -------
        estimator : BINNRegressor, BINNClassifier or BINNSurvival

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_binn import PathwayMask, TeacherDataset
        >>> teacher = TeacherDataset(PathwayMask.from_gene_sets({"P": ["A", "B"]}),
        ...                          random_state=0)
        >>> X, y = teacher.sample(20, random_state=0)
        >>> est = teacher.to_estimator()
        >>> bool(np.allclose(est.predict(X), teacher.predict(X)))
        True
        """
        fixed = sorted(set(params) & set(_ARCHITECTURE))
        if fixed:
            raise ValueError(
                f"to_estimator takes the network's architecture from the teacher; "
                f"do not pass {fixed}."
            )
        estimator = self._estimator_class()(
            self.mask,
            activation=self.activation,
            head_layer_sizes=tuple(self.head_layer_sizes),
            head_activation=self.head_activation,
            **params,
        )
        estimator = zero_epoch_fit(estimator, *self._dummy_data())
        estimator.module_.load_state_dict(self.module.state_dict())
        if self.task == "survival":
            # a zero-epoch warm start refits only the Breslow baseline
            warm_start = estimator.warm_start
            estimator.set_params(warm_start=True)
            zero_epoch_fit(
                estimator, *self.sample(self.n_reference, random_state=0), clone_first=False
            )
            estimator.set_params(warm_start=warm_start)
        return estimator

    def __repr__(self):
        return (
            f"TeacherDataset(task={self.task!r}, mask={self.mask!r}, "
            f"activation={self.activation!r}, random_state={self.random_state!r})"
        )


# ---------------------------------------------------------------- helpers
def _check_sizes(sizes):
    sizes = tuple(sizes)
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, (Integral, np.integer)) or size < 1:
            raise ValueError(
                f"head_layer_sizes of TeacherDataset must hold positive ints; got {sizes!r}."
            )
    return tuple(int(s) for s in sizes)


def _resolve_teacher_mask(mask, depth):
    if callable(mask) and not isinstance(mask, (PathwayMask, type)):
        raise TypeError(
            "TeacherDataset needs a fixed mask (a PathwayMask, layer matrices, gene "
            "sets or an edge table); got a callable. Call it on your gene names first."
        )
    mask = resolve_mask(mask)
    if depth is not None:
        if depth > mask.depth:
            raise ValueError(
                f"depth={depth} exceeds the depth of the teacher's mask "
                f"({mask.depth} pathway layers); use depth between 1 and {mask.depth}."
            )
        mask = mask.truncate(depth)
    return mask


def _draw_layer(layer, h, rng, target_sd):
    """Give ``layer`` N(0, 1) weights scaled to pre-activation sd ``target_sd``, centred.

    ``h`` holds the layer's inputs on the reference sample; returns the
    layer's pre-activations there.
    """
    layer.weight.copy_(torch.from_numpy(rng.standard_normal(tuple(layer.weight.shape))))
    layer.bias.zero_()
    pre = layer(h)
    sd = pre.std(dim=0)
    factor = torch.where(sd > 0, target_sd / sd, torch.ones_like(sd))
    if isinstance(layer, SparseLinear):
        layer.weight.mul_(factor[layer.cols])
    else:
        layer.weight.mul_(factor[:, None])
    pre = pre * factor
    mean = pre.mean(dim=0)
    layer.bias.copy_(-mean)
    return pre - mean


def _censoring_rate(times, censoring):
    """The exponential censoring rate giving an expected censored fraction ``censoring``.

    With censoring times ``C ~ Exp(rate)`` independent of the event times
    ``T``, ``P(C < T) = mean(1 - exp(-rate * T))`` over the reference times.
    """
    if censoring == 0:
        return 0.0

    def excess(rate):
        return np.mean(-np.expm1(-rate * times)) - censoring

    high = 1.0 / np.median(times)
    while excess(high) < 0:
        high *= 2.0
    return float(brentq(excess, 0.0, high, xtol=1e-12, rtol=1e-10))


def zero_epoch_fit(estimator, X, y, *, clone_first=True):
    """A BINN estimator fitted for zero epochs: fitted attributes, initial weights.

    Goes through the estimator's own ``fit`` with ``max_epochs=0``, so the
    mask, the output layout and the initial weights are exactly those a
    ``fit`` with the same ``random_state`` starts training from; ``X`` and
    ``y`` only need the right shape and kind. ``max_epochs`` is restored.
    """
    if clone_first:
        estimator = clone(estimator)
    max_epochs = estimator.max_epochs
    estimator.set_params(max_epochs=0)
    try:
        estimator.fit(X, y)
    finally:
        estimator.set_params(max_epochs=max_epochs)
    estimator.module_.eval()
    return estimator
