"""The parameter and attribute documentation the three BINN estimators share.

Each estimator's docstring holds the markers ``{binn_parameters}`` and
``{binn_attributes}`` where the shared blocks go; :func:`fill_parameters`
fills in the few task-specific phrases, so each block is written once.
"""

_TEMPLATE = """\
    mask : PathwayMask, callable, list of matrices, mapping or DataFrame
        The wiring. A callable receives the training data's feature names
        (or their number, for arrays without names) and returns a mask;
        anything :class:`PathwayMask` accepts is converted.
    depth : int, default=None
        Keep only the first ``depth`` pathway layers; ``None`` uses all.
    activation : {{"tanh", "relu", "sigmoid", "identity"}}, default="tanh"
        Non-linearity of the pathway nodes.{activation_note}
    dropout : float, default=0.0
        Dropout after every pathway layer.
    batch_norm : bool, default=False
        Batch-normalise pathway pre-activations.
    head_layer_sizes : tuple of int, default=()
        Dense MLP between the top pathway layer and the {output}; ``()``
        keeps a pure BINN.
    head_activation : str, default="relu"
        Non-linearity of the dense head.
    head_dropout : float, default=0.0
        Dropout before each dense head layer.
    missing_genes : {{"raise", "drop"}}, default="raise"
        What to do when a DataFrame lacks genes of the mask.
    covariates : list of str or list of int, default=None
        Columns of ``X`` that are clinical covariates (age, stage, ...), by
        name (DataFrames) or position: they skip the pathway layers and join
        the output layer beside the top pathway layer (or the head), as in
        P-NET; the other columns are the genes. In a Pipeline keep the names
        with ``set_output(transform="pandas")`` (a ``ColumnTransformer``
        also with ``verbose_feature_names_out=False``).
    edge_l1 : float, default=0.0
        L1 penalty ``edge_l1 * sum(|w|)`` on the per-edge weights of the
        pathway layers, added to the training loss.
    edge_sign : {{"positive", "negative"}}, DataFrame or None, default=None
        Sign constraints on pathway edges, see
        :class:`~sklearn_binn.callbacks.SignConstraint`.
    supervision_weight : float, default=1.0
        Weight of the pathway-activation supervision term when ``fit`` gets
        ``pathway_targets``.
    solver : {{"adam", "lbfgs"}}, default="adam"
        ``"adam"`` trains on shuffled mini-batches with ``optimizer``.
        ``"lbfgs"`` trains on the full batch (``batch_size`` is ignored for
        training) with ``torch.optim.LBFGS`` and a strong-Wolfe line search,
        on all the data (no hold-out with ``train_split="auto"``), until the
        training loss stops improving by ``tol`` or the gradient vanishes;
        one epoch is one L-BFGS step of up to 20 iterations
        (``optimizer__max_iter``). It suits data that fit in memory, as in
        :class:`~sklearn.neural_network.MLPRegressor`. A user's own
        ``optimizer`` (not the default Adam) is kept, with full batches.
        To train to a tight ``tol`` use ``dtype="float64"``: in float32
        the loss bottoms out near 1e-9 (relative) and the line searches
        stall on round-off.
    n_init : int, default=1
        Number of trainings from different initialisations (restart ``k``
        seeded with ``random_state + k``, the validation split shared); the
        network of lowest training objective on the data passed to ``fit``
        is kept, as :class:`~sklearn.cluster.KMeans` keeps its best start.
        Callbacks passed in ``callbacks`` keep the state of the last restart.
        Not used when ``warm_start`` continues a fitted network.
    dtype : {{"float32", "float64"}}, default="float32"
        The floating-point type of training and prediction: ``X``, the
        targets and every weight of the network (pathway layers, head,
        output, the criterion's buffers). numpy's and torch's types of
        these names are accepted too. The weights are drawn as in float32
        whatever ``dtype``, so a float64 network starts where the float32
        one of the same ``random_state`` does. ``"float64"`` needs twice
        the memory and runs slower; use it with ``solver="lbfgs"`` to
        train to convergence. Changing it on a fitted network that
        ``warm_start`` or ``partial_fit`` continues converts the weights.
    optimizer : torch optimizer class, default=torch.optim.Adam
    lr : float, default=1e-3
        The learning rate; with ``solver="lbfgs"`` the default 1e-3 stands
        for L-BFGS's initial step length 1.0.
    max_epochs : int, default=200
        The epoch budget. A fit that spends it while the training loss is
        still falling sets ``converged_=False`` and warns with sklearn's
        ``ConvergenceWarning``.
    batch_size : int, default=128
        ``-1`` trains on full batches.{batch_note}
    train_split : "auto", callable or None, default="auto"
        ``"auto"`` holds out ``validation_fraction`` of the training data
        ({stratified}drawn with ``random_state``) for early stopping when
        that gives at least 10 samples (and ``solver="adam"``), else trains
        on all of it. A skorch split callable is used as is; ``None``
        disables the hold-out (early stopping then watches the training
        loss).
    validation_fraction : float, default=0.1
    n_iter_no_change : int or None, default=10
        Early-stopping patience in epochs; ``None`` trains ``max_epochs``.
        The best epoch's weights are restored.
    tol : float, default=1e-4
        Relative improvement that counts for early stopping and for judging
        convergence: a fit converged when early stopping ended it, or when
        over the last ``n_iter_no_change`` (or 10) epochs of its budget the
        training loss improved on its earlier best by less than ``tol``.
    callbacks : list of skorch callbacks, default=None
    warm_start : bool, default=False
    verbose : int, default=0
        ``1`` prints skorch's per-epoch table ({epoch_columns}).
    device : str, default="cpu"
    random_state : int, RandomState or None, default=None
        Seeds initialisation, shuffling, dropout and the validation split;
        the same value gives the same model. Initialisation and shuffling
        draw from the estimator's own ``torch.Generator``, so fits running
        in several threads give what they give alone. Dropout has no
        generator of its own in torch: a fit with dropout (or with a user's
        own module, dataset or loader) seeds torch's global generator while
        it runs and restores it after, which is not thread-safe.
    criterion : torch loss class, default=None
        {criterion}
    module : torch module class, default=BINNModule
    iterator_train, iterator_valid : DataLoader class, default=DataLoader
    dataset : skorch dataset class, default=skorch.dataset.Dataset
    predict_nonlinearity : callable, None or "auto", default="auto"
        Kept for skorch; ``predict`` and ``predict_proba`` do not use it.
    compile : bool, default=False
        ``torch.compile`` the module.
    use_caching : bool or "auto", default="auto"
        Re-use the validation predictions for the validation scores.
    torch_load_kwargs : dict, default=None{extra}
    **kwargs
        Prefixed skorch parameters such as ``optimizer__weight_decay``."""


_ATTRIBUTES = """\
    covariates_ : ndarray of str
        Names of the covariate columns, in the order they join the output
        layer (``x{i}`` for arrays); empty without ``covariates``.
    n_iter_ : int
        Epochs trained, over all calls to ``fit`` (with ``warm_start``) and
        ``partial_fit`` (for ``solver="lbfgs"`` one epoch is one L-BFGS step).
    loss_curve_ : list of float
        The training loss of every epoch (skorch's ``train_loss``; with
        L-BFGS the loss at the start of the epoch's step).
    converged_ : bool
        Whether the last training call stopped because the loss stopped
        improving (early stopping, a flat loss, a vanished gradient) rather
        than on its ``max_epochs`` budget with the loss still falling.
    init_losses_ : list of float
        With ``n_init > 1``: each restart's training objective on the data
        passed to ``fit``; the kept network has the smallest."""


def fill_parameters(cls, *, output, criterion, epoch_columns, stratified="",
                    activation_note="", batch_note="", extra=""):
    """Put the shared parameter (and attribute) blocks into ``cls``'s docstring; return ``cls``."""
    block = _TEMPLATE.format(
        output=output, criterion=criterion, epoch_columns=epoch_columns,
        stratified=stratified, activation_note=activation_note,
        batch_note=batch_note, extra=extra,
    )
    cls.__doc__ = cls.__doc__.replace("{binn_parameters}", block).replace(
        "{binn_attributes}", _ATTRIBUTES
    )
    return cls
