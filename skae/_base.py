"""Shared base class of skae's estimators: the parameters every one has and
the fit (data to a trained skorch net); what the transformers add is in
``_transformer.py``."""

import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ._batches import dense_rows, is_memory_mapped
from ._checks import network_kwargs, validate_X
from ._linear_start import linear_start
from ._loss import LOSSES, get_loss
from ._networks import ACTIVATIONS
from ._policy import training_policy, warn_if_still_improving
from ._runtime import (
    as_float32_tensor,
    resolve_device,
    seed_from,
    seeded_global_rng,
    shared_seed,
    torch_threads,
    training_threads,
)
from ._table import Schema

#: A sparse matrix of up to this many entries (16 MB as dense float32) is
#: trained from one dense copy (its unstored entries zeros, or holes);
#: larger ones are densified a batch at a time.
_DENSE_SPARSE_VALUES = 2**22


class _BaseAutoencoder(BaseEstimator):
    """Base class of skae's estimators: the shared parameters and the fit.

    A leaf sets what it trains through hooks: :meth:`_build_net` (the skorch
    net and module classes), :meth:`_code_width`, :meth:`_start_maps` (the
    linear model the network starts from, of :meth:`_linear_start`),
    :meth:`_training_rows` (X validated as the rows the network trains on);
    :meth:`_before_training` and :meth:`_after_training` add to a training.
    ``_imputes`` says whether the rows have holes to fill.

    Warning: This class should not be used directly. Use derived classes instead.
    """

    #: The rows have holes (NaN) that the estimator fills: its module reads
    #: the mask of observed entries, its loss counts those entries, its
    #: early stopping holds entries out and its start is NaN-aware.
    _imputes = False
    #: The network: the code through the activation; a linear path (where the
    #: loss trains in an internal space); the last layer at zero, so the
    #: untrained network predicts the centre (as it does with a linear path).
    _code_activation, _linear_path, _zero_start = False, True, False
    #: Early stopping waits at least the epochs that train on this many rows.
    _patience_rows = 0

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "architecture": [StrOptions({"mlp", "conv"})],
        "image_shape": [None, "array-like"],
        "conv_channels": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "loss": [StrOptions(set(LOSSES))],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "lr_schedule": [StrOptions({"constant", "cosine", "plateau"})],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "device": [str],
        "precision": [StrOptions({"32", "bf16"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "encoder": [None, callable],
        "decoder": [None, callable],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like"],
    }

    def __init__(
        self,
        latent_dim=2,
        *,
        hidden_layer_sizes=(256, 128),
        architecture="mlp",
        image_shape=None,
        conv_channels=(32, 64),
        activation="relu",
        loss="mse",
        max_epochs=200,
        batch_size="auto",
        lr="auto",
        lr_schedule="plateau",
        weight_decay=1e-4,
        early_stopping=True,
        validation_fraction=0.1,
        patience=10,
        tol="auto",
        device="cpu",
        precision="32",
        random_state=None,
        verbose=0,
        encoder=None,
        decoder=None,
        categorical_features="from_dtype",
    ):
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.architecture = architecture
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.activation = activation
        self.loss = loss
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tol = tol
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.encoder = encoder
        self.decoder = decoder
        self.categorical_features = categorical_features

    # ------------------------------------------------------------- the hooks
    def _build_net(self, module_kwargs, policy):
        """The leaf's uninitialized skorch net, from the module's keyword
        arguments (``module__*``) and :func:`skae._policy.training_policy`'s."""
        raise NotImplementedError

    def _start_maps(self, start, width):
        """Arguments of ``module.set_linear_start`` for the
        :class:`~skae._linear_start.LinearStart` ``start`` and a code
        ``width`` wide: PCA's maps (codes start as the principal scores, in
        the data's units; rows with holes start imputing the column means)."""
        return start.pca_maps(width)

    def _code_width(self, X, seed):  # the width of the code a fit of X trains
        return self.latent_dim

    def _holdout(self):
        """What early stopping holds out: rows, or the entries of rows with
        holes (every row trains, and validation imputes the held-out ones)."""
        return "entries" if self._imputes else "rows"

    def _linear_start(self, X, module, seed, width):
        """The :class:`~skae._linear_start.LinearStart` of X for ``module``
        (its code ``width`` wide): the internal space of a loss that trains in
        one (MSE, a table's), the principal axes where the network has a
        linear path; BCE's targets stay in [0, 1]."""
        schema = self._trained_schema()
        return linear_start(X, width, seed=seed,
                            internal=module.reconstruction.trains_in_internal_space,
                            axes=module.linear_path, holes=self._imputes,
                            numeric=None if schema is None else schema.numeric_mask())

    def _training_rows(self, X, reset):
        """X validated as the rows the network trains on (at fit, ``reset``:
        checked against the loss; a table encoded)."""
        if not reset:
            return validate_X(self, X, reset=False, loss=self.net_.loss)
        X = validate_X(self, X, reset=True, loss=get_loss(self.loss))
        self._check_table_loss()
        return X

    def _check_table_loss(self):
        """A table trains with its own likelihood: ``loss`` must be "mse"."""
        if self._schema is not None and self.loss != "mse":
            raise ValueError(f"loss={self.loss!r} takes numbers alone; a table with boolean or "
                             "categorical columns trains with loss='mse' (each column then "
                             "with its own likelihood).")

    def _map_fit(self):  # whether a fit lays the rows out (the transformers' structure)
        return False

    def _before_training(self, net, X, done):
        """What a training of ``net`` on X adds (``done``: epochs already run),
        as a dict (``"structure"``: a term of the loss on the codes)."""
        return {}

    def _after_training(self, X, added):  # fitted attributes of what was added
        pass

    # --------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        with self._unchanged_on_failure(), torch.inference_mode(False), torch.enable_grad():
            self._fit(X)
        return self

    @contextmanager
    def _unchanged_on_failure(self):
        """Restore the estimator's attributes if the block raises (a failed
        or interrupted re-fit leaves the previous model whole)."""
        saved = dict(self.__dict__)
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _table_schema(self, X):
        """The :class:`~skae._table.Schema` of a table X with boolean or
        categorical columns, None for numbers alone: whether the data is a
        table is decided here, once per fit, and read everywhere else."""
        chosen = self.categorical_features
        return Schema.infer(X, None if isinstance(chosen, str) else chosen)

    def _trained_schema(self):  # the schema of the columns read (None: numbers)
        return getattr(self, "_schema", None)

    def _loss_spec(self):  # ``loss``, or a fitted table's (skae._table)
        schema = self._trained_schema()
        return self.loss if schema is None else schema.loss_spec()

    def _make_net(self, n_samples, n_features, seed, device, incremental=False,
                  latent_dim=None):
        """The uninitialized skorch net of this estimator's parameters, for
        data of ``n_samples`` x ``n_features`` and a code ``latent_dim`` wide
        (default: the parameter's; also what :func:`skae.load` rebuilds).
        ``incremental`` (:meth:`partial_fit`): no validation split, early
        stopping or schedule."""
        loss = self._loss_spec()
        module_kwargs = {
            "n_features": n_features, "latent_dim": latent_dim or self.latent_dim, "loss": loss,
            "linear_path": self._linear_path and get_loss(loss).trains_in_internal_space,
            "seed": seed,
            "encoder": self.encoder, "decoder": self.decoder,
            "observed_input": self._imputes, "code_activation": self._code_activation,
            "zero_start": self._zero_start,
            **network_kwargs(self, n_features),
        }
        policy = training_policy(
            n_samples=n_samples, max_epochs=self.max_epochs, batch_size=self.batch_size,
            lr=self.lr, lr_schedule="constant" if incremental else self.lr_schedule,
            weight_decay=self.weight_decay,
            early_stopping=self.early_stopping and not incremental,
            validation_fraction=self.validation_fraction, patience=self.patience,
            device=device, seed=seed, verbose=int(self.verbose), precision=self.precision,
            holdout=self._holdout(), hole=np.nan if self._imputes else 0.0,
            patience_rows=self._patience_rows, tol=self.tol, map_fit=self._map_fit(),
            column_of=get_loss(loss).column_of(n_features))
        return self._build_net({f"module__{k}": v for k, v in module_kwargs.items()}, policy)

    def _start(self, X, incremental=False):
        """A new, initialized net for X, at its linear start."""
        device = resolve_device(self.device)
        seed = shared_seed(seed_from(self.random_state))
        width = self._code_width(X, seed)
        if width >= X.shape[1] and not getattr(self, "noise", 0):
            warnings.warn(
                f"latent_dim={width} is not smaller than the {X.shape[1]} features: "
                "the code is no reduction and the network can learn to copy its input. Use a "
                "smaller latent_dim, or noise > 0 for an overcomplete denoising autoencoder.",
                UserWarning, stacklevel=5)
        net = self._make_net(X.shape[0], X.shape[1], seed, device, incremental, width)
        net.initialize()
        module = net.module_
        start = self._linear_start(X, module, seed, width)
        module.set_linear_start(**self._start_maps(start, width))
        # What skae.load needs to rebuild the net.
        self._net_config = {"n_samples": X.shape[0], "n_features": X.shape[1], "seed": seed,
                            "device": device, "incremental": incremental, "latent_dim": width}
        return net

    def _train(self, net, X, epochs):
        """Train ``net`` on X for ``epochs`` (None: ``max_epochs``) and set the
        fitted attributes. A memory-mapped X is read batch by batch."""
        device, module = str(net.device), net.module_
        if sp.issparse(X) and X.shape[0] * X.shape[1] <= _DENSE_SPARSE_VALUES:
            # A small sparse matrix trains faster from one dense copy.
            data = torch.from_numpy(dense_rows(X, 0, X.shape[0], unstored=net.unstored)).to(
                device)
        elif sp.issparse(X):  # densified batch by batch
            data = X.astype(np.float32)
        else:
            data = X if is_memory_mapped(X) else as_float32_tensor(X).to(device)
        done = len(net.history)
        with torch_threads(training_threads(module, net.batch_size, device)), \
                seeded_global_rng(net.seed + done, device, enabled=bool(module.user_parts)):
            added = self._before_training(net, X, done)
            net.partial_fit(data, epochs=epochs, structure=added.get("structure"))
        if net.stopped_by_user(done + (epochs or self.max_epochs)):
            # skorch ends training quietly on KeyboardInterrupt; the estimator re-raises it.
            raise KeyboardInterrupt(
                f"{type(self).__name__} training was interrupted"
                + ("; the estimator is left as it was before the call." if epochs is None
                   else "; the steps already taken are kept."))
        self.net_ = net
        self._after_training(X, added)
        self.device_ = device
        self.n_iter_ = len(net.history)
        self.loss_curve_, self.validation_loss_curve_ = net.loss_curves()

    def _fit(self, X, incremental=False):
        """Validate X, train a new net and set the fitted attributes."""
        self._schema = self._table_schema(X)
        X = self._training_rows(X, reset=True)
        self._train(self._start(X, incremental), X, epochs=1 if incremental else None)
        if not incremental:
            warn_if_still_improving(self)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One pass of mini-batch steps over X, continuing the training.

        For data that comes in chunks (a stream, a Dask array's blocks, files).
        The first call sets ``n_features_in_`` and the feature names, and
        builds the network at its linear start, with the internal centre and
        scale fixed from this first chunk (make it representative). Each call
        then runs one epoch over its chunk with the optimizer's state kept;
        ``n_iter_`` and ``loss_curve_`` grow by one. A network started by
        ``partial_fit`` has no validation split, early stopping or
        learning-rate schedule (they need the whole data); after :meth:`fit`,
        ``partial_fit`` continues the fitted network with its settings, and
        :meth:`fit` always starts anew. A chunk of another width is a
        ``ValueError``. An interrupted call keeps the steps already taken.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of training data.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        if not hasattr(self, "net_"):
            with self._unchanged_on_failure(), torch.inference_mode(False), \
                    torch.enable_grad():
                self._fit(X, incremental=True)
            return self
        X = self._training_rows(X, reset=False)
        with torch.inference_mode(False), torch.enable_grad():
            self._train(self.net_, X, epochs=1)
        return self

    # ----------------------------------------------------- saving (skae.save)
    def _fitted_state(self):
        """A leaf's fitted state beyond the net, as plain data and arrays
        (what :func:`skae.save` writes and :meth:`_restore_fitted_state`
        reads back)."""
        return {}

    def _restore_fitted_state(self, state):  # the inverse of _fitted_state
        pass

    def __setstate__(self, state):
        super().__setstate__(state)
        if hasattr(self, "net_"):
            # skorch maps a net pickled on CUDA to the CPU where CUDA is missing.
            self.device_ = str(self.net_.device)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
