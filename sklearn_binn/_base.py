"""What the three BINN estimators share: mask handling, validation, training, reading."""

from __future__ import annotations

import contextlib
import math
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from skorch import NeuralNet
from skorch.callbacks import (
    BatchScoring,
    Callback,
    EpochScoring,
    EpochTimer,
    PassthroughScoring,
    PrintLog,
)
from skorch.dataset import Dataset, ValidSplit, get_len, unpack_data
from skorch.utils import to_tensor
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    Options,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping as SkorchEarlyStopping
from torch.utils.data import DataLoader

from ._batches import SlicedBatches, sliceable
from ._mask import resolve_mask
from ._module import ACTIVATIONS, BINNModule
from ._utils import seed_from, torch_seeded
from .callbacks import DivergenceCheck, EarlyStopping, SignConstraint, StopTraining

__all__ = ["BINNBase"]

_MIN_VALIDATION_SAMPLES = 10

# Predictions run the network on blocks of exactly this many rows (the last
# one zero-padded): a dense matrix product rounds differently for different
# numbers of rows, so fixed blocks make every sample's prediction independent
# of how many samples arrive together.
_INFERENCE_ROWS = 256

# ``lr``'s default suits Adam; with ``solver="lbfgs"`` it stands for L-BFGS's
# own default step length, which the strong-Wolfe line search then adapts.
_DEFAULT_LR = 1e-3
_LBFGS_LR = 1.0
# epochs over which "the training loss is still falling" is judged when
# n_iter_no_change is None
_CONVERGENCE_WINDOW = 10
# the floating-point types a BINN trains in, by name (``dtype`` also takes the
# numpy and torch types of these names)
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


class _HoldoutSplit(ValidSplit):
    """skorch's ``ValidSplit``, stratified by labels the estimator chooses.

    skorch stratifies by the ``y`` it is handed; a survival target is
    stratified by its event indicator and an encoded class target by its
    codes, which the estimator passes here as ``labels`` (``None``: not
    stratified).
    """

    def __init__(self, fraction, labels, random_state):
        super().__init__(cv=fraction, stratified=labels is not None, random_state=random_state)
        self.labels = labels

    def __call__(self, dataset, y=None, groups=None, **fit_params):
        return super().__call__(dataset, self.labels, groups)


class BINNBase(NeuralNet):
    """Base class of the BINN estimators; use a subclass.

    Subclasses define the task through four hooks: ``_prepare_target``
    (validate and encode ``y``, return the output width), ``_default_criterion``,
    ``_stratify_labels`` and ``_scoring_callbacks``.
    """

    _parameter_constraints = {
        "depth": [Interval(Integral, 1, None, closed="left"), None],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "head_layer_sizes": ["array-like"],
        "head_activation": [StrOptions(set(ACTIVATIONS))],
        "head_dropout": [Interval(Real, 0, 1, closed="left")],
        "missing_genes": [StrOptions({"raise", "drop"})],
        "covariates": ["array-like", None],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, -1, None, closed="left")],
        "train_split": [StrOptions({"auto"}), callable, None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "optimizer": [callable],
        "callbacks": [list, None],
        "device": [str, torch.device, None],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "module": [HasMethods("__call__")],
        "edge_l1": [Interval(Real, 0, None, closed="left")],
        "edge_sign": [StrOptions({"positive", "negative"}), pd.DataFrame, None],
        "supervision_weight": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"adam", "lbfgs"})],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "dtype": [
            StrOptions(set(_DTYPES)),
            Options(object, {np.float32, np.float64, torch.float32, torch.float64}),
        ],
    }

    def __init__(
        self,
        mask,
        *,
        depth=None,
        activation="tanh",
        dropout=0.0,
        batch_norm=False,
        head_layer_sizes=(),
        head_activation="relu",
        head_dropout=0.0,
        missing_genes="raise",
        covariates=None,
        edge_l1=0.0,
        edge_sign=None,
        supervision_weight=1.0,
        solver="adam",
        n_init=1,
        dtype="float32",
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=200,
        batch_size=128,
        train_split="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        callbacks=None,
        warm_start=False,
        verbose=0,
        device="cpu",
        random_state=None,
        criterion=None,
        module=BINNModule,
        iterator_train=DataLoader,
        iterator_valid=DataLoader,
        dataset=Dataset,
        predict_nonlinearity="auto",
        compile=False,
        use_caching="auto",
        torch_load_kwargs=None,
        **kwargs,
    ):
        self.mask = mask
        self.depth = depth
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.head_layer_sizes = head_layer_sizes
        self.head_activation = head_activation
        self.head_dropout = head_dropout
        self.missing_genes = missing_genes
        self.covariates = covariates
        self.edge_l1 = edge_l1
        self.edge_sign = edge_sign
        self.supervision_weight = supervision_weight
        self.solver = solver
        self.n_init = n_init
        self.dtype = dtype
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.train_split = train_split
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.verbose = verbose
        self.device = device
        self.random_state = random_state
        self.criterion = criterion
        self.module = module
        self.iterator_train = iterator_train
        self.iterator_valid = iterator_valid
        self.dataset = dataset
        self.predict_nonlinearity = predict_nonlinearity
        self.compile = compile
        self.use_caching = use_caching
        self.torch_load_kwargs = torch_load_kwargs
        self._params_to_validate = set(kwargs)
        vars(self).update(kwargs)

    # skorch keeps these as instance state set in __init__; scikit-learn wants
    # no state there, so they start as class defaults and become instance
    # attributes when the net is initialised.
    history_ = None
    initialized_ = False
    virtual_params_ = {}

    def _get_param_names(self):
        return [k for k in self.__dict__ if not k.endswith("_") and not k.startswith("_")]

    def __sklearn_is_fitted__(self):
        return bool(self.initialized_) and hasattr(self, "mask_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        tags.target_tags.required = True
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------- callbacks
    @property
    def _default_callbacks(self):
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            *self._scoring_callbacks(),
            ("divergence_check", DivergenceCheck()),
        ]
        if self.edge_sign is not None:
            callbacks.append(("sign_constraint", SignConstraint(self.edge_sign)))
        if self.n_iter_no_change is not None:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(patience=self.n_iter_no_change, threshold=self.tol),
                )
            )
        callbacks.append(("print_log", PrintLog()))
        return callbacks

    def _get_params_callbacks(self, deep=True):
        # Report the callbacks as configured, not the trained instances in
        # ``callbacks_`` (which carry state), so fitting changes no parameter.
        if not deep:
            return {}
        user = self.callbacks if isinstance(self.callbacks, list) else []
        named = [item for item in user if isinstance(item, tuple) and len(item) == 2]
        params = {}
        for name, callback in [*self._default_callbacks, *named]:
            params[f"callbacks__{name}"] = callback
            if hasattr(callback, "get_params"):
                for key, value in callback.get_params().items():
                    params[f"callbacks__{name}__{key}"] = value
        return params

    def set_params(self, **params):
        """Set parameters; nested ``prefix__name`` keys go through skorch.

        Returns
        -------
        self
        """
        plain = {k: v for k, v in params.items() if "__" not in k}
        nested = {k: v for k, v in params.items() if "__" in k}
        if plain:
            BaseEstimator.set_params(self, **plain)
        if nested:
            NeuralNet.set_params(self, **nested)
        return self

    def _scoring_callbacks(self):
        return []

    # ------------------------------------------------------------- components
    def _module_kwargs(self):
        kwargs = {
            "mask": self.mask_,
            "n_outputs": self._n_outputs,
            "activation": self.activation,
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
            "head_layer_sizes": tuple(self.head_layer_sizes),
            "head_activation": self.head_activation,
            "head_dropout": self.head_dropout,
        }
        covariates = getattr(self, "covariates_", ())
        if len(covariates):  # only then: a user's own module need not know them
            kwargs["n_covariates"] = len(covariates)
        kwargs.update(self.get_params_for("module"))
        return kwargs

    def initialize_optimizer(self, triggered_directly=None):
        """skorch's optimizer; ``solver="lbfgs"`` replaces the default Adam by L-BFGS.

        The default Adam runs torch's multi-tensor update (``foreach=True``),
        which gives the weights of its per-tensor default bit for bit with
        fewer calls per step; ``optimizer__foreach=False`` or
        ``optimizer__fused=True`` choose otherwise.

        One epoch is one ``torch.optim.LBFGS.step``: up to ``max_iter=20``
        L-BFGS iterations with a strong-Wolfe line search, the curvature
        memory carried from epoch to epoch; ``optimizer__max_iter`` and the
        other ``optimizer__*`` parameters override these. ``lr`` left at its
        default (1e-3) becomes L-BFGS's step length 1.0. With
        ``dtype="float64"`` torch's stopping thresholds ``tolerance_grad``
        (1e-7) and ``tolerance_change`` (1e-9) are scaled by the ratio of the
        machine epsilons (to about 2e-16 and 2e-18).
        """
        if self.optimizer is not torch.optim.Adam:
            return super().initialize_optimizer(triggered_directly)
        args, kwargs = self.get_params_for_optimizer(
            "optimizer", self.get_all_learnable_params()
        )
        if self.solver != "lbfgs":
            if not kwargs.get("fused"):
                # torch's multi-tensor Adam: on the CPU the same arithmetic as
                # its default per-tensor loop, bit for bit, in fewer calls
                kwargs.setdefault("foreach", True)
            self.optimizer_ = torch.optim.Adam(*args, **kwargs)
            return self
        if "lr" not in self.get_params_for("optimizer") and self.lr == _DEFAULT_LR:
            kwargs["lr"] = _LBFGS_LR
        kwargs.setdefault("max_iter", 20)
        kwargs.setdefault("line_search_fn", "strong_wolfe")
        if self._torch_dtype() is not torch.float32:
            # torch's stopping thresholds (on the gradient 1e-7, on the change
            # of loss and step 1e-9, absolute) suit float32 round-off: scale
            # them to float64's, or they would end every step far from it
            ratio = torch.finfo(self._torch_dtype()).eps / torch.finfo(torch.float32).eps
            kwargs.setdefault("tolerance_grad", 1e-7 * ratio)
            kwargs.setdefault("tolerance_change", 1e-9 * ratio)
        self.optimizer_ = torch.optim.LBFGS(*args, **kwargs)
        return self

    def train_step(self, batch, **fit_params):
        """skorch's optimizer step; a stalled L-BFGS restarts its curvature memory.

        When a line search fails, ``torch.optim.LBFGS`` leaves the weights
        where they were and would try the same direction at every later step.
        A step that moves no weight therefore clears L-BFGS's memory, so the
        next one starts from steepest descent; if that cannot move either, the
        loss stays flat and early stopping ends training.
        """
        if not isinstance(self.optimizer_, torch.optim.LBFGS):
            return super().train_step(batch, **fit_params)
        before = torch.nn.utils.parameters_to_vector(self.module_.parameters()).detach().clone()
        step = super().train_step(batch, **fit_params)
        after = torch.nn.utils.parameters_to_vector(self.module_.parameters())
        if torch.equal(before, after):
            self.optimizer_.state.clear()
        return step

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's pass over one epoch's batches, minus the per-batch work nobody uses.

        skorch announces every batch to every callback, records each batch's
        loss and size in the history as it goes and runs each optimizer step
        through a closure. When no callback listens to batches
        (``on_batch_begin``, ``on_batch_end``; skorch's scoring callbacks count
        only for batches of their own phase) and the net's batch hooks are
        skorch's, the batches run back to back and their history entries
        (``"train_loss"``/``"train_batch_size"``, or ``"valid_..."``) are
        written when the pass ends, the same entries skorch writes. A
        training step is then ``zero_grad``, forward, loss, backward and
        ``step`` without the closure, unless the optimizer needs one (L-BFGS),
        a callback listens to ``on_grad_computed`` or the net overrides a part
        of skorch's step. The weights, losses and history are the same, bit
        for bit, as skorch's loop gives; any listener brings skorch's loop
        back unchanged.
        """
        if iterator is None or self._batches_heard(training):
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        if training and self._plain_step(step_fn):
            self._set_training(True)
            step_fn = self._fused_train_step
        losses, sizes = [], []
        try:
            for batch in iterator:
                step = step_fn(batch, **fit_params)
                losses.append(step["loss"].detach().reshape(()))
                sizes.append(_batch_len(batch))
        finally:  # an interrupted pass keeps the batches it finished, as skorch's does
            values = torch.stack(losses).tolist() if losses else []
            for value, size in zip(values, sizes):
                self.history.new_batch()
                self.history.record_batch(prefix + "_loss", value)
                self.history.record_batch(prefix + "_batch_size", size)
        self.history.record(prefix + "_batch_count", len(sizes))

    def _batches_heard(self, training):
        """Whether the net's own batch hooks or a callback must hear of each batch."""
        own = type(self)
        if any(getattr(own, hook) is not getattr(NeuralNet, hook) for hook in _BATCH_HOOKS):
            return True
        return any(_hears_batches(cb, training) for _, cb in self.callbacks_)

    def _plain_step(self, step_fn):
        """Whether a training step may run without skorch's closure (same result)."""
        own = type(self)
        if getattr(step_fn, "__func__", None) is not BINNBase.train_step:
            return False
        if any(getattr(own, name) is not getattr(NeuralNet, name) for name in _STEP_PARTS):
            return False
        if list(self._optimizers) != ["optimizer"] or isinstance(
            self.optimizer_, torch.optim.LBFGS
        ):
            return False
        return not any(_overrides(cb, "on_grad_computed") for _, cb in self.callbacks_)

    def _fused_train_step(self, batch, **fit_params):
        """skorch's ``train_step`` without the closure, for an optimizer that needs none.

        The module is already in training mode (set once per pass).
        """
        optimizer = self.optimizer_
        optimizer.zero_grad()
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        optimizer.step()
        return {"loss": loss, "y_pred": y_pred}

    def initialize_criterion(self):
        criterion = self.criterion if self.criterion is not None else self._default_criterion()
        self.criterion_ = self.initialized_instance(criterion, self.get_params_for("criterion"))
        if isinstance(self.criterion_, torch.nn.Module):  # its buffers (class weights, ...)
            self.criterion_.to(self._torch_dtype())
        return self

    def get_iterator(self, dataset, training=False):
        """Batches sliced from tensors, shuffling training batches unless told otherwise.

        Like scikit-learn's ``MLPRegressor``, BINN estimators reshuffle the
        training samples every epoch (seeded by ``random_state``); pass
        ``iterator_train__shuffle=False`` for a fixed order. With skorch's
        default ``DataLoader`` and ``Dataset`` the batches are sliced from
        tensors held in memory, placed on ``device`` once
        (:class:`~sklearn_binn._batches.SlicedBatches`), instead of fetched
        and collated sample by sample; a user's own
        ``iterator_train``/``iterator_valid``, ``dataset`` or loader options
        (``iterator_train__num_workers``, ...) go through skorch's path.
        """
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        if training and self.solver == "lbfgs":  # full batch: nothing to shuffle
            kwargs["batch_size"] = -1
            kwargs.setdefault("shuffle", False)
        if training:
            kwargs.setdefault("shuffle", True)
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        iterator = getattr(self, prefix)
        parts = sliceable(dataset)
        if iterator is DataLoader and set(kwargs) <= {"shuffle", "batch_size"} and parts:
            generator = getattr(self, "_generator", None)  # None: torch's global one
            # a full batch is read many times per epoch (L-BFGS): lay it out
            # as the CSR kernel reads it, once, instead of copying it per call
            layout = training and isinstance(self.module_, BINNModule) and (
                self.module_.gene_kernel == "csr")
            return SlicedBatches(*parts, generator=generator, device=self.device,
                                 feature_major=layout, **kwargs)
        return iterator(dataset, **kwargs)

    def get_split_datasets(self, X, y=None, **fit_params):
        dataset = self.get_dataset(X, y)
        if self._split is None:
            return dataset, None
        return self._split(dataset, y, **fit_params)

    # ------------------------------------------------------------ validation
    def _prepare_target(self, y, n_samples, reset):
        """Validate and encode ``y``; set ``_n_outputs`` when ``reset``."""
        raise NotImplementedError

    def _check_params(self):
        validate_parameter_constraints(
            self._parameter_constraints,
            {k: v for k, v in self.get_params(deep=False).items()},
            caller_name=type(self).__name__,
        )
        for size in self.head_layer_sizes:
            if isinstance(size, bool) or not isinstance(size, (Integral, np.integer)) or size < 1:
                raise ValueError(
                    f"head_layer_sizes of {type(self).__name__} must hold positive "
                    f"ints; got {tuple(self.head_layer_sizes)!r}."
                )

    def _resolve_inputs(self, columns, n_features):
        """The fitted mask, the input columns in network order, the covariates' names.

        The network reads the mask's genes in the mask's order, then the
        covariates in the order given; ``None`` input columns: X as it is.
        """
        covariates = self._covariate_positions(columns, n_features)
        if not covariates.size:
            mask, input_columns = self._resolve_fit_mask(columns, n_features)
            return mask, input_columns, np.array([], dtype=object)
        genes = np.setdiff1d(np.arange(n_features), covariates)
        gene_columns = None if columns is None else [columns[i] for i in genes]
        names = [columns[i] if columns is not None else f"x{i}" for i in covariates]
        overlap = set(names) & set(getattr(self.mask, "feature_names", ()))
        if columns is not None and overlap:
            raise ValueError(
                f"Covariate(s) {sorted(overlap)[:5]} of {type(self).__name__} are also "
                "genes of the mask; a column either feeds the pathways or joins the "
                "output, not both."
            )
        mask, input_columns = self._resolve_fit_mask(gene_columns, genes.size)
        genes = genes if input_columns is None else genes[input_columns]
        return mask, np.concatenate([genes, covariates]), np.array(names, dtype=object)

    def _resolve_fit_mask(self, columns, n_features):
        """The fitted mask (resolved, truncated, genes absent from X dropped).

        Returns the mask and, for named columns, the position of each of its
        genes among the columns (the network always sees genes in the mask's
        order, so the fitted model does not depend on the column order).
        """
        mask = resolve_mask(self.mask, feature_names=columns, n_features=n_features)
        if self.depth is not None:
            if self.depth > mask.depth:
                raise ValueError(
                    f"depth={self.depth} exceeds the depth of the mask of "
                    f"{type(self).__name__} ({mask.depth} pathway layers); use "
                    f"depth between 1 and {mask.depth} or None."
                )
            mask = mask.truncate(self.depth)
        if columns is None:
            if n_features != mask.n_features:
                raise ValueError(
                    f"X has {n_features} features, but the mask of "
                    f"{type(self).__name__} has {mask.n_features} genes; pass data "
                    "with one column per gene of the mask (or a DataFrame whose "
                    "columns are gene names)."
                )
            return mask, None
        position = {name: i for i, name in enumerate(columns)}
        missing = [g for g in mask.feature_names if g not in position]
        if missing and self.missing_genes == "raise":
            raise ValueError(
                f"{len(missing)} gene(s) of the mask are missing from X's columns, "
                f"e.g. {missing[:10]}. Add them, or set missing_genes='drop' to "
                "drop them (and pathways left empty) from the network."
            )
        if missing:
            warnings.warn(
                f"Dropping {len(missing)} gene(s) of the mask missing from X, e.g. "
                f"{missing[:5]}.",
                UserWarning,
            )
            mask = mask.restrict([g for g in mask.feature_names if g in position])
        return mask, np.array([position[g] for g in mask.feature_names], dtype=np.intp)

    def _covariate_positions(self, columns, n_features):
        """Positions of the ``covariates`` among X's columns (an int array, maybe empty)."""
        name = type(self).__name__
        if self.covariates is None:
            return np.empty(0, dtype=np.intp)
        wanted = [self.covariates] if isinstance(self.covariates, (str, Integral)) else list(
            self.covariates
        )
        positions = []
        for item in wanted:
            if isinstance(item, (Integral, np.integer)) and not isinstance(item, bool):
                if not -n_features <= item < n_features:
                    raise ValueError(
                        f"covariates of {name} holds the column index {item}, but X has "
                        f"{n_features} columns."
                    )
                positions.append(int(item) % n_features)
            elif isinstance(item, str):
                if columns is None:
                    raise TypeError(
                        f"covariates of {name} names columns ({item!r}), but X has no "
                        "column names (a numpy array, e.g. from a ColumnTransformer or "
                        "scaler in a Pipeline). Pass a DataFrame and keep its names "
                        "with set_output(transform='pandas') (ColumnTransformer: also "
                        "verbose_feature_names_out=False), or give integer column "
                        "indices."
                    )
                if item not in columns:
                    raise ValueError(
                        f"covariates of {name} names {item!r}, which is not a column "
                        f"of X; X's columns include {list(columns)[:5]}."
                    )
                positions.append(columns.index(item))
            else:
                raise TypeError(
                    f"covariates of {name} must hold column names (str) or column "
                    f"indices (int); got {item!r}."
                )
        if len(set(positions)) != len(positions):
            raise ValueError(f"covariates of {name} lists a column twice: {wanted}.")
        if len(positions) >= n_features:
            raise ValueError(
                f"covariates of {name} takes all {n_features} columns of X; at least "
                "one gene column must feed the pathway layers."
            )
        return np.array(positions, dtype=np.intp)

    def _named_columns(self, X):
        """A DataFrame's column labels as plain ``str``; a (gene, data type) MultiIndex joined.

        scikit-learn only records names that are all ``str`` (``np.str_``
        labels are ignored), and a two-level MultiIndex is joined with the
        mask's ``data_type_sep`` (``"_"`` when it has none), as in
        :meth:`PathwayMask.with_data_types`.
        """
        columns = getattr(X, "columns", None)
        if not isinstance(X, pd.DataFrame) or columns is None:
            return X
        if isinstance(columns, pd.MultiIndex):
            if columns.nlevels != 2:
                raise ValueError(
                    f"{type(self).__name__} reads MultiIndex columns as (gene, data type) "
                    f"pairs; got {columns.nlevels} levels."
                )
            sep = getattr(self.mask, "data_type_sep", None) or "_"
            X = X.copy(deep=False)
            X.columns = [f"{gene}{sep}{kind}" for gene, kind in columns]
            return X
        if any(isinstance(c, np.str_) for c in columns):
            X = X.copy(deep=False)
            X.columns = [str(c) if isinstance(c, str) else c for c in columns]
        return X

    def _validate_X(self, X, reset):
        """Validate ``X``; after fit also select the mask's genes, in the mask's order."""
        _reject_lazy_frame(X, type(self).__name__)
        X = self._named_columns(X)
        if not reset:
            X = self._align_columns(X)
        X = validate_data(self, X, reset=reset, dtype=[np.float32, np.float64])
        X = X.astype(self._numpy_dtype(), copy=False)
        if not reset and self._input_columns is not None:
            X = X[:, self._input_columns]
        return X

    def _align_columns(self, X):
        names = getattr(self, "feature_names_in_", None)
        columns = _string_columns(X)
        if names is not None and columns is not None and list(columns) != list(names):
            if set(columns) >= set(names):
                return X[list(names)]
        return X

    # ---------------------------------------------------------------- fitting
    def fit(self, X, y, pathway_targets=None, **fit_params):
        """Fit the network on ``X`` (numpy or DataFrame) and ``y``.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_genes)
            With a DataFrame the columns are matched to the mask's genes by
            name, in any order.
        y : array-like
            Targets, see the subclass.
        pathway_targets : pandas.DataFrame of shape (n_samples, n_supervised), default=None
            Partial supervision of pathway activations: measured activities or
            scores of some pathway nodes (columns named like the nodes, any
            layer), NaN where unknown. Training adds ``supervision_weight``
            times the mean over these nodes of ``1 - corr(activation,
            target)`` within each batch (scale-free, so scores on any scale
            serve; it also fixes each supervised node's sign).
        **fit_params
            Passed to skorch's fit loop.

        Returns
        -------
        self
        """
        self._check_params()
        _reject_lazy_frame(X, type(self).__name__)
        X = self._named_columns(X)
        columns = _string_columns(X)
        X = self._validate_X(X, reset=True)
        mask, input_columns, covariates = self._resolve_inputs(columns, X.shape[1])
        if input_columns is not None:
            X = X[:, input_columns]
        if self.warm_start and self.__sklearn_is_fitted__() and mask != self.mask_:
            raise ValueError(
                "warm_start=True but the mask resolved for this data differs from "
                "the fitted one; fit a fresh estimator instead."
            )
        y = self._prepare_target(y, len(X), reset=True)
        self.mask_ = mask
        self.covariates_ = covariates
        self._input_columns = input_columns
        n_samples = len(X)
        X = self._attach_pathway_targets(X, pathway_targets)
        seed = seed_from(self.random_state)
        self._split = self._make_split(n_samples, seed)
        if self.warm_start and self.initialized_:  # continue the fitted model
            with self._random_source(seed):
                self._train(X, y, _routing_method="fit", **fit_params)
        else:
            self._fit_restarts(X, y, seed, **fit_params)
        self._warn_if_not_converged(_epoch_budget(self, fit_params))
        return self

    def _fit_restarts(self, X, y, seed, **fit_params):
        """Train ``n_init`` fresh networks, keep the one of lowest training objective.

        Restart ``k`` draws its initialisation and shuffling with seed
        ``seed + k``; all share the validation split. With ``n_init=1`` this
        is one plain fit.
        """
        best, losses = None, []
        for k in range(self.n_init):
            with self._random_source(seed + k):
                self.initialize()
                self._train(X, y, _routing_method="fit", **fit_params)
            if self.n_init == 1:
                return
            losses.append(self._objective(X, y))
            if best is None or losses[-1] < best[0]:
                # initialize() rebinds every fitted attribute: a shallow copy keeps them
                fitted = {name: v for name, v in vars(self).items() if name.endswith("_")}
                best = (losses[-1], fitted)
        vars(self).update(best[1])
        self.init_losses_ = losses

    def _objective(self, X, y):
        """The training objective (loss and penalties) of the network on all of ``(X, y)``."""
        return float(self.validation_step((X, y))["loss"])

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initialising.

        The first call on an unfitted estimator is :meth:`fit`.

        Returns
        -------
        self
        """
        if not self.__sklearn_is_fitted__():
            return self.fit(X, y, **fit_params)
        X = self._validate_X(X, reset=False)
        y = self._prepare_target(y, len(X), reset=False)
        seed = seed_from(self.random_state) + len(self.history_)
        self._split = self._make_split(len(X), seed)
        with self._random_source(seed):
            self._train(X, y, _routing_method="partial_fit", **fit_params)
        return self

    def _record_convergence(self, done, budget):
        """Set ``n_iter_``, ``loss_curve_`` and ``converged_`` after a call trained.

        ``done`` epochs were in the history before the call and ``budget``
        was its epoch budget. A call converged when a callback stopped it
        (early stopping: the loss stopped improving; with L-BFGS also a
        vanished gradient, which leaves the loss unchanged), or when it used
        its whole budget with the training loss no longer falling: over the
        last ``n_iter_no_change`` (or 10) epochs its best value improved on
        the best before them by less than ``tol`` (relative).
        """
        self.loss_curve_ = [float(row.get("train_loss", np.nan)) for row in self.history_]
        self.n_iter_ = len(self.loss_curve_)
        run = self.loss_curve_[done:]
        stopped = len(run) < budget or _patience_ran_out(self)
        window = self.n_iter_no_change or _CONVERGENCE_WINDOW
        self.converged_ = bool(stopped or (run and not _still_falling(run, window, self.tol)))

    def _warn_if_not_converged(self, budget):
        """sklearn's ``ConvergenceWarning`` when the epoch budget, not convergence, ended a fit.

        A fit that did not converge ran its whole ``budget`` of epochs (one
        that stopped earlier converged); the kept restart of ``n_init`` too.
        """
        if self.converged_ or not budget:
            return
        fix = "raise max_epochs" + (
            ", or use solver='lbfgs' (full batch) when the data fit in memory"
            if self.solver == "adam" else " or lower tol"
        )
        recent = max(1, min(budget - 1, self.n_iter_no_change or _CONVERGENCE_WINDOW))
        warnings.warn(
            f"{type(self).__name__} (solver={self.solver!r}) reached max_epochs="
            f"{budget} with the training loss still falling (by more than "
            f"tol={self.tol:g}, relative, in the last {recent} epoch(s)): the fit "
            f"has not converged. To train to convergence, {fix}.",
            ConvergenceWarning,
        )

    @contextlib.contextmanager
    def _random_source(self, seed):
        """Where a fit's random draws come from, seeded by ``seed``.

        Initialisation and shuffling draw from the estimator's own
        ``torch.Generator``, in the order the old global-seeded path drew
        them, so the results are the same bit for bit and torch's global
        generator is neither read nor changed: fits in several threads do
        not disturb each other. Dropout can only draw from torch's global
        generator, and a user's own module, dataset or loader may too, as
        may a callback that says so (``draws_from_global_rng = True``); such
        fits seed the global generator for their duration and restore it
        after, which is not thread-safe.
        """
        if self._needs_global_rng():
            self._generator = None
            with torch_seeded(seed, self.device):
                yield
            return
        self._generator = torch.Generator().manual_seed(seed)
        try:
            yield
        finally:
            del self._generator  # a Generator is no model state (nor picklable everywhere)

    def _needs_global_rng(self):
        own_loaders = self.iterator_train is DataLoader and self.iterator_valid is DataLoader
        own_loaders = own_loaders and self.dataset is Dataset
        options = {*self.get_params_for("iterator_train"), *self.get_params_for("iterator_valid")}
        own_loaders = own_loaders and options <= {"shuffle", "batch_size"}
        dropout = self.dropout > 0 or self.head_dropout > 0
        callbacks = [cb[-1] if isinstance(cb, tuple) else cb for cb in self.callbacks or []]
        # a callback that seeds torch's global generator itself (PublishedInit)
        # wants the batches drawn from it, as DataLoader draws them
        seeds_global = any(getattr(cb, "draws_from_global_rng", False) for cb in callbacks)
        return dropout or seeds_global or not own_loaders or not _draws_from_generator(self.module)

    def _train(self, X, y, **fit_params):
        """skorch's own training loop (``NeuralNet.partial_fit``), user interrupts kept.

        skorch ends a fit quietly on any ``KeyboardInterrupt``, so a Ctrl-C
        (or a SIGINT sent to a study) would silently return a half-trained
        model. :meth:`fit_loop` lets :class:`~sklearn_binn.callbacks.StopTraining`
        through to skorch and carries any other interrupt past it, re-raised
        here.
        """
        done = len(self.history_) if self.history_ is not None else 0
        if self.initialized_:
            self._match_dtype()
        try:
            NeuralNet.partial_fit(self, X, y, **fit_params)
        except _UserInterrupt as wrapped:
            raise wrapped.interrupt from None
        self._record_convergence(done, _epoch_budget(self, fit_params))

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """skorch's epoch loop; only a callback's stop signal ends it quietly.

        Returns
        -------
        self
        """
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except StopTraining:
            raise
        except KeyboardInterrupt as exc:
            raise _UserInterrupt(exc) from None

    def notify(self, method_name, **cb_kwargs):
        """skorch's callback dispatch; a skorch early stopping's interrupt means "stop".

        skorch's own :class:`skorch.callbacks.EarlyStopping` raises a plain
        ``KeyboardInterrupt`` when its patience runs out; that (and only that)
        becomes :class:`~sklearn_binn.callbacks.StopTraining`.
        """
        try:
            super().notify(method_name, **cb_kwargs)
        except KeyboardInterrupt as exc:
            if isinstance(exc, StopTraining) or not _patience_ran_out(self):
                raise
            raise StopTraining from None

    def initialize_module(self):
        """Build the module; its weights drawn from the estimator's own generator."""
        generator = getattr(self, "_generator", None)
        if generator is None:
            self.module_ = self.module(**self._module_kwargs()).to(self._torch_dtype())
            return self
        # torch draws a first set of weights at construction: let those draws
        # leave no trace on the global generator, then draw the real ones
        # (in float32 whatever ``dtype``: a float64 network starts where the
        # float32 one of the same seed does)
        with torch.random.fork_rng(devices=[]):
            self.module_ = self.module(**self._module_kwargs())
        self.module_.reset_parameters(generator=generator)
        self.module_.to(self._torch_dtype())
        return self

    def _torch_dtype(self):
        """The torch floating-point type of ``dtype`` (float32 for estimators pickled before it)."""
        dtype = getattr(self, "dtype", "float32")
        name = dtype if isinstance(dtype, str) else None
        if isinstance(dtype, torch.dtype):
            name = str(dtype).removeprefix("torch.")
        elif dtype is np.float32 or dtype is np.float64:
            name = np.dtype(dtype).name
        if name not in _DTYPES:
            raise ValueError(
                f"The 'dtype' parameter of {type(self).__name__} must be 'float32' or "
                f"'float64' (or numpy's or torch's type of that name); got {dtype!r}."
            )
        return _DTYPES[name]

    def _numpy_dtype(self):
        """The numpy floating-point type of ``dtype``: what X and the targets are cast to."""
        return np.float64 if self._torch_dtype() is torch.float64 else np.float32

    def _match_dtype(self):
        """Bring a fitted network (and its optimizer's state) to ``dtype`` if it changed.

        Continuing a fit (``warm_start``, ``partial_fit``) after
        ``set_params(dtype=...)`` converts the weights; Adam's moments are
        cast with them; L-BFGS starts afresh (its curvature memory and its
        stopping thresholds belong to the old type).
        """
        dtype = self._torch_dtype()
        floating = [p for p in self.module_.parameters() if p.is_floating_point()]
        if all(p.dtype == dtype for p in floating):
            return
        self.module_.to(dtype)
        if isinstance(self.criterion_, torch.nn.Module):
            self.criterion_.to(dtype)
        if isinstance(self.optimizer_, torch.optim.LBFGS):
            self.initialize_optimizer()
        elif isinstance(self.optimizer_, torch.optim.Optimizer):
            # load_state_dict casts the floating state to its parameters' dtype
            self.optimizer_.load_state_dict(self.optimizer_.state_dict())

    def _attach_pathway_targets(self, X, pathway_targets):
        """Bundle pathway targets with X as skorch's dict input, keyed by node."""
        if pathway_targets is None:
            self._supervised_columns = None
            return X
        if not isinstance(pathway_targets, pd.DataFrame):
            raise TypeError(
                "pathway_targets must be a DataFrame whose columns name pathway "
                f"nodes; got {type(pathway_targets).__name__}."
            )
        if len(pathway_targets) != len(X):
            raise ValueError(
                f"pathway_targets has {len(pathway_targets)} rows but X has {len(X)}."
            )
        where = {}
        for k, names in enumerate(self.mask_.node_names):
            for j, name in enumerate(names):
                where.setdefault(name, []).append((k, j))
        nodes = []
        for column in pathway_targets.columns:
            places = where.get(str(column), [])
            if len(places) != 1:
                raise ValueError(
                    f"pathway_targets column {column!r} "
                    + ("is not a node of the fitted mask." if not places else
                       "names nodes in several layers; rename them.")
                )
            nodes.append(places[0])
        offsets = np.cumsum([0, *(len(names) for names in self.mask_.node_names)])
        try:
            targets = np.array(pathway_targets.to_numpy(dtype=self._numpy_dtype()), copy=True)
        except (TypeError, ValueError) as exc:
            raise ValueError("pathway_targets must be numeric (NaN where unknown).") from exc
        if np.isinf(targets).any():
            raise ValueError("pathway_targets contains infinity; use NaN for unknown entries.")
        self._supervised_columns = torch.as_tensor([offsets[k] + j for k, j in nodes])
        return {"X": X, "pathway_targets": targets}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The task loss plus the edge penalty and the pathway supervision term.

        The validation loss is the same objective on the held-out samples, so
        early stopping watches what training optimises.
        """
        y_pred, activations = y_pred if isinstance(y_pred, tuple) else (y_pred, None)
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if self.edge_l1:
            loss = loss + self.edge_l1 * sum(w.abs().sum() for w in self.module_.edge_parameters())
        if isinstance(X, dict) and self.supervision_weight:
            supervised = activations[:, self._supervised_columns]
            targets = torch.as_tensor(X["pathway_targets"], device=supervised.device)
            loss = loss + self.supervision_weight * _correlation_loss(supervised, targets)
        return loss

    def _make_split(self, n_samples, seed):
        if self.train_split != "auto":
            return self.train_split
        if self.solver == "lbfgs":  # full batch on all the data, like MLPRegressor's
            return None
        n_valid = math.ceil(n_samples * self.validation_fraction)
        if n_valid < _MIN_VALIDATION_SAMPLES or n_samples - n_valid < 1:
            return None
        labels = self._stratify_labels()
        if labels is not None:
            _, counts = np.unique(labels, return_counts=True)
            if counts.min() < 2 or n_valid < len(counts):
                labels = None
        return _HoldoutSplit(self.validation_fraction, labels, seed)

    def _stratify_labels(self):
        return None

    # ------------------------------------------------------------- inference
    def _raw_output(self, X):
        """Validated X -> network outputs as a float64 numpy array.

        The network runs on blocks of a fixed number of rows, so a sample's
        prediction does not depend on which samples come with it.
        """
        check_is_fitted(self)
        if isinstance(X, torch.utils.data.Dataset):  # skorch's scoring passes its datasets
            out = self.forward(X, training=False, device="cpu")
            return (out[0] if isinstance(out, tuple) else out).double().numpy()
        X = torch.as_tensor(np.require(self._validate_X(X, reset=False), requirements="W"))
        self.module_.eval()
        blocks = []
        with torch.no_grad():
            for start in range(0, len(X), _INFERENCE_ROWS):
                block = X[start : start + _INFERENCE_ROWS]
                n_rows = len(block)
                if n_rows < _INFERENCE_ROWS:
                    padding = block.new_zeros(_INFERENCE_ROWS - n_rows, block.shape[1])
                    block = torch.cat([block, padding])
                out = self.module_(to_tensor(block, device=self.device))
                blocks.append(out[:n_rows].to("cpu", torch.float64))
        if not blocks:
            return np.empty((0, self._n_outputs))
        return torch.cat(blocks).numpy()

    @available_if(lambda self: False)
    def predict_proba(self, X):
        """Not available: only a classifier has class probabilities."""

    # ---------------------------------------------------------------- reading
    def get_weights(self, *, include_output=False, as_frame=False):
        """The learned edge weights of each pathway layer.

        Parameters
        ----------
        include_output : bool, default=False
            Also return the weights into the output layer (dense, as a sparse
            matrix), after the pathway layers and any dense head.
        as_frame : bool, default=False
            Return DataFrames (sparse dtype) labelled with gene / pathway names.

        Returns
        -------
        list of scipy.sparse.csr_matrix or pandas.DataFrame
            Entry ``k`` has shape ``(n_inputs_k, n_nodes_k)`` and the pattern of
            ``mask_.layers[k]``.
        """
        check_is_fitted(self)
        weights = [layer.weight_matrix() for layer in self.module_.pathway_layers]
        # rows: the genes, or the previous layer's nodes (in a skip-level mask
        # the genes then every lower layer's nodes)
        row_names = [self.mask_.input_names(k) for k in range(self.mask_.depth)]
        col_names = list(self.mask_.node_names)
        if include_output:
            for dense in [*self.module_.head_layers, self.module_.output]:
                weights.append(sp.csr_matrix(dense.weight.detach().cpu().double().numpy().T))
                row_names.append(col_names[-1])
                if dense is self.module_.output and len(getattr(self, "covariates_", ())):
                    row_names[-1] = np.concatenate([col_names[-1], self.covariates_])
                n_out = weights[-1].shape[1]
                col_names.append(np.array([f"head{len(col_names)}_{j}" for j in range(n_out)]))
        if not as_frame:
            return weights
        return [
            pd.DataFrame.sparse.from_spmatrix(w, index=list(r), columns=list(c))
            for w, r, c in zip(weights, row_names, col_names)
        ]

    def pathway_activations(self, X, layer=None, *, pre_activation=False, as_frame=True):
        """Activations of every pathway node for the samples in ``X``.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_genes)
        layer : int, default=None
            Index of one pathway layer (0 = the gene → pathway layer);
            ``None`` returns all layers.
        pre_activation : bool, default=False
            Return ``W x + b`` before the non-linearity.
        as_frame : bool, default=True
            Return DataFrames with node names as columns (and ``X``'s index).

        Returns
        -------
        list of DataFrame or ndarray, or one of them if ``layer`` is given
        """
        check_is_fitted(self)
        index = X.index if isinstance(X, pd.DataFrame) else None
        X = self._validate_X(X, reset=False)
        if layer is not None and not (-self.mask_.depth <= layer < self.mask_.depth):
            raise ValueError(
                f"layer must be between 0 and {self.mask_.depth - 1}; got {layer}."
            )
        chunks = []
        self.module_.eval()
        with torch.no_grad():
            for start in range(0, len(X), 4096):
                batch = torch.as_tensor(X[start : start + 4096], device=self.device)
                _, acts = self.module_.forward_with_activations(batch, pre_activation)
                chunks.append([a.double().cpu().numpy() for a in acts])
        per_layer = [np.concatenate([c[k] for c in chunks]) for k in range(self.mask_.depth)]
        if as_frame:
            per_layer = [
                pd.DataFrame(a, index=index, columns=list(names))
                for a, names in zip(per_layer, self.mask_.node_names)
            ]
        return per_layer if layer is None else per_layer[layer]

    @property
    def n_edges_(self):
        """int: the number of trainable edge weights of the fitted network."""
        check_is_fitted(self)
        return self.mask_.n_edges


# the net's per-batch hooks (skorch's own record the batch in the history) and
# the parts of skorch's training step that a fused step replaces
_BATCH_HOOKS = ("on_batch_begin", "on_batch_end")
_STEP_PARTS = ("train_step_single", "_zero_grad_optimizer", "_step_optimizer",
               "get_train_step_accumulator", "on_grad_computed")


def _batch_len(batch):
    """skorch's count of a batch's samples (``get_len``), direct for a tensor."""
    data = batch[0] if isinstance(batch, (tuple, list)) else batch
    return len(data) if isinstance(data, torch.Tensor) else get_len(data)


def _overrides(callback, hook):
    """Whether ``callback`` does something in ``hook`` (skorch's base does nothing)."""
    return getattr(type(callback), hook, None) is not getattr(Callback, hook)


def _hears_batches(callback, training):
    """Whether ``callback`` must be told of each batch of this phase.

    skorch's batch and epoch scoring callbacks look only at the batches of
    their own phase (``on_train``).
    """
    if _overrides(callback, "on_batch_begin"):
        return True
    if not _overrides(callback, "on_batch_end"):
        return False
    scoring = (BatchScoring.on_batch_end, EpochScoring.on_batch_end)
    if type(callback).on_batch_end in scoring and training != callback.on_train:
        return False
    return True


class _UserInterrupt(Exception):
    """Carries a user's ``KeyboardInterrupt`` past skorch's quiet stop."""

    def __init__(self, interrupt):
        super().__init__("training interrupted by the user")
        self.interrupt = interrupt


def _patience_ran_out(net):
    """Whether one of the net's skorch early-stopping callbacks has run out of patience."""
    return any(
        isinstance(cb, SkorchEarlyStopping) and getattr(cb, "misses_", 0) >= cb.patience
        for _, cb in getattr(net, "callbacks_", [])
    )


def _epoch_budget(net, fit_params):
    """The epochs one training call may run: skorch's ``epochs`` fit parameter or ``max_epochs``."""
    return fit_params.get("epochs") or net.max_epochs


def _still_falling(losses, window, tol):
    """Whether the best of the last ``window`` losses beats the best before by > ``tol``.

    A single epoch shows no trend and counts as still falling.
    """
    if len(losses) < 2:
        return True
    recent = min(len(losses) - 1, window)
    before = min(losses[:-recent])
    return min(losses[-recent:]) < before - tol * abs(before)


def _draws_from_generator(module):
    """Whether ``module`` (a class) can draw its weights from a given generator."""
    return isinstance(module, type) and issubclass(module, BINNModule)


def _correlation_loss(acts, targets):
    """Mean over columns of ``1 - Pearson(acts, targets)`` on the non-NaN entries."""
    observed = ~torch.isnan(targets)
    weight = observed.to(acts.dtype)
    count = weight.sum(0)
    t = torch.where(observed, targets, torch.zeros_like(targets))
    a_centered = (acts - (acts * weight).sum(0) / count.clamp(min=1)) * weight
    t_centered = (t - t.sum(0) / count.clamp(min=1)) * weight
    corr = (a_centered * t_centered).sum(0) / (
        a_centered.pow(2).sum(0).sqrt() * t_centered.pow(2).sum(0).sqrt() + 1e-8
    )
    usable = count >= 3
    if not usable.any():
        return acts.sum() * 0.0
    return (1.0 - corr[usable]).mean()


def check_target(estimator, y, n_samples):
    """Common checks on ``y``: present and one entry per sample."""
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None."
        )
    n_y = _num_samples(y)
    if n_y != n_samples:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: X has "
            f"{n_samples} samples but y has {n_y}."
        )
    return np.asarray(y)


def _reject_lazy_frame(X, estimator_name):
    """A lazy query (polars' ``LazyFrame``) holds no data yet: say how to get it."""
    kind = type(X)
    if kind.__name__ == "LazyFrame" and kind.__module__.split(".")[0] == "polars":
        raise TypeError(
            f"{estimator_name} got a polars LazyFrame, a query that holds no data "
            "yet; call X.collect() to run it and pass the resulting DataFrame."
        )


def _string_columns(X):
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    columns = list(columns)
    if not all(isinstance(c, str) for c in columns):
        return None
    if len(set(columns)) != len(columns):
        dup = pd.Index(columns)[pd.Index(columns).duplicated()].tolist()
        raise ValueError(f"X has duplicated column names: {dup[:10]}.")
    return columns


def _n_columns(X):
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 2:
        return int(shape[1])
    arr = np.asarray(X, dtype=object)
    if arr.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {arr.ndim}D array instead; reshape your data "
            "to (n_samples, n_genes)."
        )
    return int(arr.shape[1])
