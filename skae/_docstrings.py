"""Descriptions shared by the transformers' docstrings, written once.

A leaf's docstring names a block on a line of its own, ``    {network}``;
:func:`fill_docstring` puts the block in its place when the class is made,
so ``help()``, Sphinx and the doctests see the whole text.
"""

import ast
import inspect
import re

NETWORK = """\
    latent_dim : int, default=2
        Size of the code (the number of output features of :meth:`transform`).

    hidden_layer_sizes : int or tuple of int, default=(256, 128)
        Widths of the encoder's hidden layers, input side first. The decoder
        mirrors them. ``()`` gives a linear network.

    architecture : {"mlp", "conv"}, default="mlp"
        ``"mlp"``: fully connected layers (``hidden_layer_sizes``). ``"conv"``:
        a convolutional encoder (stride-2 3x3 convolutions with
        ``conv_channels`` channels, then a linear code) and its mirror as
        decoder, for rows that are flattened images of ``image_shape``.

    image_shape : tuple of int, default=None
        ``(height, width)`` or ``(channels, height, width)`` of one row, whose
        product must be the number of features. Required by ``"conv"``.

    conv_channels : tuple of int, default=(32, 64)
        Channels of the convolutional encoder's layers (``"conv"`` only).
"""

ACTIVATION = """\
    activation : str, default="relu"
        Nonlinearity after each hidden layer: ``"relu"``, ``"leaky_relu"``,
        ``"elu"``, ``"gelu"``, ``"selu"``, ``"silu"``, ``"tanh"``,
        ``"sigmoid"`` or ``"identity"``.
"""

NETWORK += "\n" + ACTIVATION

#: The transformers' code: a width, or a fraction of the variance; ordered.
CODE = """\
    latent_dim : int or float, default=2
        Size of the code (the number of output features of :meth:`transform`).
        A float in (0, 1) is a fraction of the variance, as in ``PCA(0.95)``:
        an ordered code (``ordered``) is trained as wide as the number of
        principal components that explain (1 + fraction) / 2 of the training
        variance (at most 256 and the number of features), then cut to its
        smallest prefix whose held-out R² (``explained_variance_ratio_``
        summed) reaches the fraction. Not with your own networks or
        ``partial_fit``.

    ordered : bool, default=False
        Train an ordered code: every prefix of it (its first ``k``
        dimensions, the others zero) reconstructs as well as it can, so that
        one fit serves every width (:meth:`truncate`) and
        ``explained_variance_ratio_`` says what each dimension adds. Each
        training row is decoded from one prefix, the whole code for half
        the rows and a log-uniform width for the others (nested
        dropout), a step at the cost of an ordinary one; a prefix then
        reconstructs worse than a fit of its width alone, though mostly
        better than PCA (see the user guide's "Reduction" page). Not with
        ``structure``. True for a float ``latent_dim``.
"""

TRAINING = """\
    max_epochs : int, default=200
        Maximum number of passes over the training data.

    batch_size : int or "auto", default="auto"
        Mini-batch size of the AdamW optimizer. ``"auto"``: a power of two
        near one row in 200 of the training rows, between 64 and 256 (64 up
        to 25,599 training rows, 256 from 51,200): on large data, larger
        steps on more CPU threads. A map's fit (``structure="umap"``): one
        row in 20, between 64 and 512.

    lr : float or "auto", default="auto"
        Learning rate. ``"auto"``: 1e-3 times ``sqrt(batch_size / 64)``
        (1e-3 at 64 rows per batch, 2e-3 at 256).

    lr_schedule : {"plateau", "constant", "cosine"}, default="plateau"
        ``"plateau"`` cuts the learning rate to 0.3 times its value whenever
        the validation loss (the training loss without a validation split)
        has not improved by 0.1% for 2 epochs, or for the epochs that train
        on 5,000 rows if more (small data gives each rate longer); with
        early stopping, it reached the held-out error of a constant rate in
        about half its epochs on MNIST. ``"constant"`` keeps ``lr``. ``"cosine"`` decays
        it from ``lr`` to 0 along a cosine over ``max_epochs``, stepping
        after every batch: for a fixed number of epochs.

    weight_decay : float, default=1e-4
        Decoupled weight decay (AdamW).

    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data and stop when
        the loss on it has not improved for ``patience`` epochs, keeping the
        best weights. Without it, training runs ``max_epochs`` epochs.

    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping. Ignored
        when ``early_stopping=False`` or when the data is too small to split.

    patience : int, default=10
        Epochs without improvement of the validation loss before stopping.

    tol : float or "auto", default="auto"
        An epoch improves the validation loss when it lowers its best value
        by more than ``tol`` times that value. ``"auto"``: 0 (any fall
        counts), or 0.01 for a map's fit (``structure="umap"``), which then
        stops when more epochs no longer pay; set ``tol=0`` there for the
        best ``inverse_transform`` at a longer fit.

    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (CUDA if available).

    precision : {"32", "bf16"}, default="32"
        Precision of the training forward pass: float32, or bfloat16 autocast
        (weights, gradients and the loss stay float32). On a CPU with AMX-BF16
        ``"bf16"`` took 0.66x the time for a 784-512-256-30 network but 2.2x
        for a small one (``benchmarks/bench_speed.py``). Inference always runs
        in the input's precision.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization (a user's network is built with torch's
        generator seeded from it, and torch's global state restored after),
        the validation split, batch order and the random draws of training
        (noise, posterior samples). An int gives identical results in every
        fit, thread and process on one machine (across machines the last bits
        of floating-point sums may differ, and a training follows them).
        Global numpy and torch random states are left untouched.

    verbose : int, default=0
        0 prints nothing; 1 or more prints the per-epoch losses: a progress
        bar on a terminal (with tqdm), skorch's per-epoch table elsewhere
        (logs, pipes, captured output).

    encoder : callable, default=None
        Your own encoder instead of the built-in one:
        ``encoder(n_features_in, latent_dim)`` returns a
        :class:`torch.nn.Module` mapping a float32 batch of shape
        ``(n, n_features_in)`` to ``(n, width)``; a module class or any
        factory, called in ``fit`` (so ``clone``, refits and grid searches
        over ``latent_dim`` build fresh networks). ``width`` is described
        in the class's introduction. The network trains on the data centred and divided by one
        common scale; with your network there is no PCA linear path.

    decoder : callable, default=None
        Your own decoder: ``decoder(n_features_in, latent_dim)`` returns a
        module mapping ``(n, latent_dim)`` codes to ``(n, n_features_in)``
        (before the loss's output link: logits for ``loss="bce"``).
"""

STRUCTURE = """\
    structure : {None, "umap"}, default=None
        ``"umap"``: codes that keep neighbourhoods as UMAP's do, and stay
        invertible and fast to compute for new rows. ``fit`` builds UMAP's
        graph of the training rows (their ``n_neighbors`` nearest neighbours,
        with UMAP's fuzzy memberships) and lays the rows out by UMAP's own
        optimisation of its cross-entropy, started from the encoder's initial
        codes (``embedding_``). Every training step then adds, times
        ``structure_weight``, a structure loss on the codes of the batch's
        rows (the VAE's posterior means): UMAP's cross-entropy between each
        code and the layout codes of the row's neighbours and of random rows
        (parametric UMAP against the fitted layout, as UMAP's ``transform``
        places new rows), plus the squared distance of the code to the row's
        own layout code. Early stopping monitors the held-out rows'
        reconstruction loss plus, times ``structure_weight``, their codes'
        squared distance to their layout codes. ``partial_fit`` lays out
        each chunk anew, started from the current encoder's codes.

    structure_weight : float, default=1.0
        Weight of the structure loss against the reconstruction loss.

    n_neighbors : int, default=15
        Neighbours per row of the structure's graph.

    transform_neighbors : int, default=None
        If set, :meth:`transform` places each row among the codes of its
        ``transform_neighbors`` nearest training rows instead of returning
        the encoder's code: with ``structure="umap"``, as UMAP's
        ``transform`` places new rows among ``embedding_`` (from the
        membership-weighted mean of the neighbours' layout codes, 60 epochs
        of UMAP's optimisation against the layout; 15 neighbours, UMAP's
        default, suit it); otherwise at the membership-weighted mean of the
        neighbours' codes. Neighbourhoods of new rows are then kept better,
        at the cost of keeping, for every training row (of the last ``fit``,
        or the last ``partial_fit`` chunk), its search point and its code,
        and a nearest-neighbour search per call: dense rows of more than 64
        features are searched among their first 50 principal components (as
        is the structure's graph), so 50 values a row are kept; other rows
        are kept as they are.
        :meth:`inverse_transform` is unchanged.
"""

TABLE = """\
    categorical_features : "from_dtype" or array-like, default="from_dtype"
        Which columns of a table (a pandas or polars DataFrame, or an object
        array) are categorical: ``"from_dtype"`` takes category, string and
        object columns, and boolean columns as booleans; column names,
        positions or a boolean mask make columns of numbers (integer codes,
        say) categorical too. Each categorical column is a group of one-hot
        inputs predicted with a softmax and cross-entropy, each boolean one
        a sigmoid and binary cross-entropy, numbers the squared error.
        Categories not seen in ``fit`` encode as all zeros, with a warning.
        Numbers alone, none of them named here, take the numeric path. See
        the user guide's "Tables" page.
"""

#: What every fit leaves (the estimators without codes use it alone).
TRAINED = """\
    net_ : skorch.NeuralNet
        The fitted skorch net; ``net_.module_`` is the torch module and
        ``net_.history`` the training history.

    device_ : str
        Device the model was trained on.

    n_iter_ : int
        Number of epochs run.

    loss_curve_ : ndarray of shape (n_epochs,)
        Training loss of each epoch.

    validation_loss_curve_ : ndarray of shape (n_epochs,) or None
        Validation loss of each epoch, when early stopping held data out.
"""

ATTRIBUTES = TRAINED + """
    n_components_ : int
        Width of the fitted code (``latent_dim``, or the width a fraction
        chose).

    explained_variance_ratio_ : ndarray of shape (`n_components_`,)
        Of an ordered code only: what each code dimension adds to the R² of
        its prefix, ``1 - |X - X_k|^2 / |X - mean(X)|^2`` for the
        reconstruction ``X_k`` from the first ``k`` dimensions, on the rows
        early stopping held out (the training rows without them), in the
        space the network is trained in (the data's units for numbers; for a
        table, standardized numbers and 0/1 categories). Its cumulative sum
        is each prefix's R². Unlike PCA's, measured on held-out rows, and a
        nonlinear code's shares are not additive: a dimension's may be
        negative.

    embedding_ : ndarray of shape (n_samples, latent_dim)
        With ``structure="umap"`` only: UMAP's layout of the training rows
        (of the last ``fit``, or the last ``partial_fit`` chunk), centred,
        which the encoder's codes were trained towards.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.
"""

_BLOCKS = {"network": NETWORK, "activation": ACTIVATION, "training": TRAINING,
           "structure": STRUCTURE, "table": TABLE, "attributes": ATTRIBUTES,
           "trained": TRAINED, "code": CODE}


def _default(value, written):
    """A default as numpydoc writes it: as ``written`` in the block, when
    that is the same value."""
    try:
        same = ast.literal_eval(written) == value
    except (ValueError, SyntaxError):
        same = False
    if same:
        return written
    return f'"{value}"' if isinstance(value, str) else repr(value)


def fill_docstring(cls):
    """Class decorator: each line ``    {name}`` of the docstring replaced by
    the block ``name``, whose parameters' defaults are the class's own (a
    leaf may change a shared parameter's default, or describe it itself)."""
    defaults = {name: p.default for name, p in
                inspect.signature(cls.__init__).parameters.items()}
    # A parameter the leaf (or an earlier block) describes is left out of the blocks.
    own = set(re.findall(r"^    (\w+) : ", cls.__doc__, flags=re.MULTILINE))

    def block(match):
        entries = re.split(r"\n\n(?=    \w)", _BLOCKS[match.group(1)].rstrip("\n"))
        kept = [e for e in entries if re.match(r"    (\w+) : ", e).group(1) not in own]
        own.update(re.match(r"    (\w+) : ", e).group(1) for e in kept)
        text = "\n\n".join(kept) + "\n"
        return re.sub(r"^(    (\w+) : .*, default=)(.*)$",
                      lambda m: m.group(1) + (_default(defaults[m.group(2)], m.group(3))
                                              if m.group(2) in defaults else m.group(3)),
                      text, flags=re.MULTILINE) + "\n"

    cls.__doc__ = re.sub(r"^    \{(\w+)\}\n", block, cls.__doc__, flags=re.MULTILINE)
    return cls
