"""Shared base class of skae's public estimators."""

import re
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import assert_all_finite, check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._linear_start import MIN_VARIANCE, linear_start
from ._loss import LOSSES, get_loss
from ._modules import ACTIVATIONS
from ._net import make_net, map_batches

# Rows per batch at inference time: large enough to amortise the Python
# overhead, small enough to keep memory bounded on big inputs.
_INFERENCE_BATCH_SIZE = 4096
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def resolve_device(device):
    """Return the torch device string that ``device`` names.

    Parameters
    ----------
    device : str
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (CUDA when available,
        else CPU).

    Returns
    -------
    device : str

    Raises
    ------
    ValueError
        If ``device`` is malformed or names a CUDA device that is not available.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    match = re.fullmatch(r"cuda(?::(\d+))?", device)
    if match is None:
        raise ValueError(
            f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto'; got {device!r}."
        )
    if not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine (torch.cuda.is_available() is False). Use device='cpu', or "
            "device='auto' to take CUDA only where it exists."
        )
    if match.group(1) is not None and int(match.group(1)) >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r} was requested but only {torch.cuda.device_count()} "
            "CUDA device(s) are available."
        )
    return device


def _seed_from(random_state):
    """An int seed from ``random_state``, without touching global RNG state.

    ``None`` draws fresh OS entropy (each fit differs), not numpy's global RNG.
    """
    if random_state is None:
        return int(np.random.default_rng().integers(np.iinfo(np.int32).max))
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _as_float32_tensor(X):
    """X as a float32 tensor, sharing memory with X where torch can."""
    if X.dtype == np.float32 and X.flags.c_contiguous and X.flags.writeable:
        return torch.from_numpy(X)  # never written to
    return torch.from_numpy(np.array(X, dtype=np.float32, order="C"))


#: Multiply-adds per training batch that keep one more CPU thread busy.
_WORK_PER_THREAD = 50_000_000


def _training_threads(module, batch_size, device):
    """CPU threads for training ``module``: one per ``_WORK_PER_THREAD``
    multiply-adds of a batch's forward pass, at most torch's current setting.

    A small network gains nothing from a second thread, and on a machine
    where other processes use the cores, idle threads spinning for work slow
    it many times over.
    """
    if torch.device(device).type != "cpu":
        return None
    work = _multiply_adds_per_row(module) * batch_size
    return max(1, min(torch.get_num_threads(), work // _WORK_PER_THREAD))


def _multiply_adds_per_row(module):
    """Multiply-adds of ``module``'s forward pass on one row, counted by
    running it on one row with hooks on its linear and convolutional layers."""
    counts = []

    def count(layer, inputs, output):
        per_position = layer.weight.numel()
        if isinstance(layer, torch.nn.Conv2d):
            counts.append(per_position * output.shape[-1] * output.shape[-2])
        elif isinstance(layer, torch.nn.ConvTranspose2d):
            counts.append(per_position * inputs[0].shape[-1] * inputs[0].shape[-2])
        else:
            counts.append(per_position)

    layers = (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d)
    hooks = [m.register_forward_hook(count) for m in module.modules() if isinstance(m, layers)]
    try:
        with torch.no_grad():
            module.eval()(module.center[None])
    finally:
        for hook in hooks:
            hook.remove()
    return sum(counts)


@contextmanager
def _torch_threads(n):
    """torch's intra-op thread count set to ``n`` for the block, then restored
    (``None`` changes nothing)."""
    previous = torch.get_num_threads()
    if n is None or n == previous:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def corruption_net_kwargs(noise, corruption):
    """skorch-net arguments of a denoising autoencoder's input corruption."""
    if corruption == "masking" and noise >= 1:
        raise ValueError(f"corruption='masking' needs noise < 1 (the fraction of inputs "
                         f"set to zero); got noise={noise}.")
    return {"noise": noise, "corruption": corruption}


def vae_net_kwargs(start, beta):
    """skorch-net arguments of a VAE: ``beta`` and the Gaussian decoder's
    variance floor, relative to the variance of the data in the network's
    internal space (:class:`~skae._linear_start.LinearStart`), so that a
    perfect reconstruction cannot drive the likelihood to infinity."""
    return {"beta": beta, "min_variance": MIN_VARIANCE * max(start.internal_variance, 1e-12)}


class _AutoencoderCore(BaseEstimator):
    """What every skae estimator does: train a skorch net, run it in batches.

    Warning: This class should not be used directly. Use derived classes instead.
    """

    _kind = None  # "ae" or "vae": which skorch net the leaf trains

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "architecture": [StrOptions({"mlp", "conv"})],
        "image_shape": [None, "array-like"],
        "conv_channels": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "loss": [StrOptions(set(LOSSES))],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions({"constant", "cosine"})],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "precision": [StrOptions({"32", "bf16"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
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
        batch_size=64,
        lr=1e-3,
        lr_schedule="constant",
        weight_decay=1e-4,
        early_stopping=True,
        validation_fraction=0.1,
        patience=10,
        device="cpu",
        precision="32",
        random_state=None,
        verbose=0,
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
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if not all(isinstance(s, Integral) and s >= 1 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be positive integers; got "
                f"{self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _architecture_kwargs(self, n_features):
        """Validated ``architecture``, ``image_shape`` and ``conv_channels``."""
        if self.architecture == "mlp":
            return {"architecture": "mlp"}
        if self.image_shape is None:
            raise ValueError("architecture='conv' needs image_shape, e.g. (28, 28).")
        shape = tuple(self.image_shape)
        if (len(shape) not in (2, 3)
                or not all(isinstance(d, Integral) and d >= 1 for d in shape)):
            raise ValueError("image_shape must be (height, width) or (channels, height, "
                             f"width) of positive integers; got {self.image_shape!r}.")
        if int(np.prod(shape)) != n_features:
            raise ValueError(f"image_shape {shape} has {int(np.prod(shape))} values but X has "
                             f"{n_features} features per row.")
        channels = tuple(self.conv_channels)
        if not channels or not all(isinstance(c, Integral) and c >= 1 for c in channels):
            raise ValueError("conv_channels must be a non-empty tuple of positive integers; "
                             f"got {self.conv_channels!r}.")
        return {"architecture": "conv", "image_shape": tuple(int(d) for d in shape),
                "conv_channels": tuple(int(c) for c in channels)}

    def _validate_X(self, X, reset, whole=True):
        """X validated as float32/float64 (no copy when already one of them).

        With ``whole=False`` only the shape and dtype are checked here, and
        :meth:`_check_values` must be applied to each batch: inference then
        reads large or memory-mapped input only once, batch by batch.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=reset,
                          ensure_all_finite=whole)
        if whole:
            self._check_values(X, finite_checked=True, loss=self.loss if reset else None)
        return X

    def _check_values(self, X, finite_checked=False, loss=None):
        """Value checks: finite, representable in float32, in [0, 1] for BCE.

        ``loss`` defaults to the fitted model's: parameters set after ``fit``
        change nothing until the next ``fit``.
        """
        loss = self.net_.loss if loss is None else loss
        if not X.size:
            return
        if not finite_checked:
            assert_all_finite(X, input_name="X", estimator_name=type(self).__name__)
        if X.dtype == np.float64 and max(X.max(), -X.min()) > _FLOAT32_MAX:
            raise ValueError(
                "X has values too large for float32, the precision the network "
                "computes in; scale the data (e.g. StandardScaler)."
            )
        get_loss(loss).check_domain(X)

    def _start_maps(self, start):
        """Arguments of the module's ``set_linear_start``: PCA's maps."""
        return start.pca_maps(self.latent_dim)

    def _net_kwargs(self, start):
        """Keyword arguments of :func:`skae._net.make_net` for leaf specifics,
        given the :class:`~skae._linear_start.LinearStart` of the data."""
        return {}

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

    def _fit(self, X):
        """Validate X, train the net and set the fitted attributes."""
        X = self._validate_X(X, reset=True)
        device = resolve_device(self.device)
        if self.latent_dim >= X.shape[1] and not getattr(self, "noise", 0):
            warnings.warn(
                f"latent_dim={self.latent_dim} is not smaller than the {X.shape[1]} features: "
                "the code is no reduction and the network can learn to copy its input. Use a "
                "smaller latent_dim, or noise > 0 for an overcomplete denoising autoencoder.",
                UserWarning, stacklevel=4)
        seed = _seed_from(self.random_state)
        # MSE trains in a centred, scaled space from the PCA solution; BCE's
        # targets must stay in [0, 1].
        start = linear_start(X, self.latent_dim,
                             linear=get_loss(self.loss).trains_in_internal_space, seed=seed)
        config = dict(
            n_samples=X.shape[0],
            n_features=X.shape[1],
            latent_dim=self.latent_dim,
            hidden_layer_sizes=self._hidden_sizes(),
            activation=self.activation,
            loss=self.loss,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            lr_schedule=self.lr_schedule,
            weight_decay=self.weight_decay,
            early_stopping=self.early_stopping,
            validation_fraction=self.validation_fraction,
            patience=self.patience,
            device=device,
            precision=self.precision,
            seed=seed,
            verbose=int(self.verbose),
            linear_path=start.linear_path,
            **self._architecture_kwargs(X.shape[1]),
            **self._net_kwargs(start),
        )
        net = make_net(self._kind, **config)
        data = _as_float32_tensor(X).to(device)
        net.initialize()
        net.module_.set_linear_start(**self._start_maps(start))
        with _torch_threads(_training_threads(net.module_, self.batch_size, device)):
            net.partial_fit(data)
        if net.stopped_by_user(self.max_epochs):
            # skorch ends training quietly on KeyboardInterrupt; the
            # estimator re-raises it and keeps its previous state.
            raise KeyboardInterrupt(f"{type(self).__name__}.fit was interrupted; the "
                                    "estimator is left as it was before the call.")

        history = net.history
        self._net_config = config  # what skae.load needs to rebuild the net
        self.net_ = net
        self.device_ = device
        self.n_iter_ = len(history)
        self.loss_curve_ = np.asarray(history[:, "train_loss"], dtype=float)
        self.validation_loss_curve_ = (
            np.asarray(history[:, "valid_loss"], dtype=float)
            if "valid_loss" in history[-1]
            else None
        )
        self._warn_if_still_improving()

    def _warn_if_still_improving(self):
        """ConvergenceWarning when ``max_epochs`` ended a training whose
        monitored loss improved in its last epoch."""
        curve, name = self.loss_curve_, "training"
        if self.validation_loss_curve_ is not None:
            curve, name = self.validation_loss_curve_, "validation"
        if (self.n_iter_ >= self.max_epochs and len(curve) > 1
                and curve[-1] < np.min(curve[:-1])):
            warnings.warn(
                f"{type(self).__name__} reached max_epochs={self.max_epochs} while the "
                f"{name} loss was still improving; increase max_epochs for a better fit.",
                ConvergenceWarning, stacklevel=5)

    # --------------------------------------------------------------- inference
    def _map(self, fn, X, check=None):
        return map_batches(self.net_, fn, X, X.dtype.type, _INFERENCE_BATCH_SIZE, check)

    def score_samples(self, X):
        """Per-sample score (higher is better); see the leaf class for its unit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False, whole=False)
        return self._map(self.net_.score_batch, X, self._check_values)

    def __setstate__(self, state):
        super().__setstate__(state)
        if hasattr(self, "net_"):
            # skorch maps a net pickled on CUDA to the CPU where CUDA is missing.
            self.device_ = str(self.net_.device)


class _BaseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _AutoencoderCore):
    """Base class of the autoencoder transformers.

    Warning: This class should not be used directly. Use derived classes instead.
    """

    def transform(self, X):
        """Encode X: its code in the latent space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, latent_dim)
            Codes, in X's floating dtype.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False, whole=False)
        return self._map(lambda module, batch: module.encode(batch), X, self._check_values)

    def inverse_transform(self, X):
        """Decode codes back to the data space.

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)
            Codes, e.g. the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Reconstructions, in the codes' floating dtype.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self._n_features_out:
            raise ValueError(
                f"X has {Z.shape[1]} features, but {type(self).__name__} decodes "
                f"codes of {self._n_features_out} features (latent_dim)."
            )
        return self._map(lambda module, batch: module.decode(batch), Z)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` over X (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self):
        """Width of the code (raises AttributeError before fit)."""
        return self.net_.module__latent_dim

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
