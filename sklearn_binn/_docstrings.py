"""The parameter documentation the three BINN estimators share.

Each estimator's docstring holds the marker ``{binn_parameters}`` where the
shared block goes; :func:`fill_parameters` fills in the few task-specific
phrases, so the block is written once.
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
    edge_l1 : float, default=0.0
        L1 penalty ``edge_l1 * sum(|w|)`` on the per-edge weights of the
        pathway layers, added to the training loss.
    edge_sign : {{"positive", "negative"}}, DataFrame or None, default=None
        Sign constraints on pathway edges, see
        :class:`~sklearn_binn.callbacks.SignConstraint`.
    supervision_weight : float, default=1.0
        Weight of the pathway-activation supervision term when ``fit`` gets
        ``pathway_targets``.
    optimizer : torch optimizer class, default=torch.optim.Adam
    lr : float, default=1e-3
    max_epochs : int, default=200
    batch_size : int, default=128
        ``-1`` trains on full batches.{batch_note}
    train_split : "auto", callable or None, default="auto"
        ``"auto"`` holds out ``validation_fraction`` of the training data
        ({stratified}drawn with ``random_state``) for early stopping when
        that gives at least 10 samples, else trains on all of it. A skorch
        split callable is used as is; ``None`` disables the hold-out (early
        stopping then watches the training loss).
    validation_fraction : float, default=0.1
    n_iter_no_change : int or None, default=10
        Early-stopping patience in epochs; ``None`` trains ``max_epochs``.
        The best epoch's weights are restored.
    tol : float, default=1e-4
        Relative improvement that counts for early stopping.
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


def fill_parameters(cls, *, output, criterion, epoch_columns, stratified="",
                    activation_note="", batch_note="", extra=""):
    """Put the shared parameter block into ``cls``'s docstring and return ``cls``."""
    block = _TEMPLATE.format(
        output=output, criterion=criterion, epoch_columns=epoch_columns,
        stratified=stratified, activation_note=activation_note,
        batch_note=batch_note, extra=extra,
    )
    cls.__doc__ = cls.__doc__.replace("{binn_parameters}", block)
    return cls
