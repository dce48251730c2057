"""skorch nets for skae's modules (the only layer that imports skorch).

The nets customise skorch through its extension points: ``get_dataset`` and
``get_split_datasets`` keep the data as one tensor, ``get_iterator`` yields
batches by indexing it, ``train_step_single`` corrupts the inputs of a
denoising autoencoder, and ``get_loss`` computes the reconstruction loss or
the negative ELBO. Callbacks, history, early stopping and printing are
skorch's own.
"""

import copy
import math

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping
from torch import nn

from ._modules import AutoencoderModule, VAEModule

__all__ = ["AutoencoderNet", "VAENet", "make_net"]


class _TensorBatches:
    """Mini-batches of a 2-D tensor obtained by indexing it, not per sample.

    Yields ``(batch, batch)``: an autoencoder's target is its input.
    """

    def __init__(self, data, batch_size, shuffle=False, generator=None):
        self.data = data
        self.batch_size = max(1, min(int(batch_size), len(data))) if len(data) else 1
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return math.ceil(len(self.data) / self.batch_size)

    def __iter__(self):
        n = len(self.data)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.data.device)
            for start in range(0, n, self.batch_size):
                batch = self.data[order[start:start + self.batch_size]]
                yield batch, batch
        else:
            for start in range(0, n, self.batch_size):
                batch = self.data[start:start + self.batch_size]
                yield batch, batch


def _n_validation(n_samples, fraction):
    """Rows to hold out for validation: 0 when either part would be empty."""
    n_valid = math.ceil(fraction * n_samples)
    return n_valid if 1 <= n_valid < n_samples else 0


class _SeededSplit:
    """skorch ``train_split``: a seeded random holdout of a data tensor."""

    def __init__(self, fraction, seed):
        self.fraction = fraction
        self.seed = seed

    def __call__(self, data, y=None):
        n_valid = _n_validation(len(data), self.fraction)
        perm = np.random.default_rng(self.seed).permutation(len(data))
        index = torch.as_tensor(perm, device=data.device)
        return data[index[n_valid:]], data[index[:n_valid]]


class _NonFiniteLossGuard(Callback):
    """Stop training with a clear error when the loss stops being finite."""

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"The training loss became {loss} at epoch {len(net.history)}. "
                f"The learning rate (lr={net.lr}) is probably too high, or the "
                "data is not scaled: standardize the features (StandardScaler) "
                "or lower lr."
            )


class AutoencoderNet(NeuralNet):
    """skorch net training an :class:`~skae._modules.AutoencoderModule`.

    Parameters beyond :class:`skorch.NeuralNet`'s
    ---------------------------------------------
    loss : {"mse", "bce"}
        Mean squared error, or binary cross-entropy on the decoder's logits.
    noise : float
        Standard deviation of the Gaussian corruption of training inputs.
    seed : int
        Seed of the batch order and of the corruption.
    """

    def __init__(self, module, *args, loss="mse", noise=0.0, seed=0, **kwargs):
        super().__init__(module, *args, criterion=nn.MSELoss, **kwargs)
        self.loss = loss
        self.noise = noise
        self.seed = seed

    def initialize(self):
        self.generator_ = torch.Generator().manual_seed(self.seed)
        return super().initialize()

    # data path ---------------------------------------------------------
    def get_dataset(self, X, y=None):
        return X

    def get_iterator(self, dataset, training=False):
        return _TensorBatches(dataset, self.batch_size, shuffle=training,
                              generator=self.generator_)

    # training ------------------------------------------------------------
    def corrupt(self, X):
        """Corrupted copy of a training batch (identity when noise is 0)."""
        if not self.noise:
            return X
        eps = torch.randn(X.shape, generator=self.generator_, dtype=X.dtype)
        return X + self.noise * eps.to(X.device)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, target = batch
        y_pred = self.infer(self.corrupt(Xi), **fit_params)
        loss = self.get_loss(y_pred, target, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def reconstruction_error(self, raw, target):
        """Per-element reconstruction loss from raw decoder output."""
        if self.loss == "bce":
            return nn.functional.binary_cross_entropy_with_logits(raw, target,
                                                                  reduction="none")
        return (raw - target) ** 2

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.reconstruction_error(y_pred[0], y_true).mean()

    # inference -------------------------------------------------------------
    def score_batch(self, module, X):
        """Per-sample score: minus the mean reconstruction error."""
        return -self.reconstruction_error(module(X)[0], X).mean(dim=-1)


class VAENet(AutoencoderNet):
    """skorch net training a :class:`~skae._modules.VAEModule` on the
    negative ELBO (reconstruction log-likelihood plus ``beta`` times KL),
    averaged over the batch and summed over features."""

    def __init__(self, module, *args, beta=1.0, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.beta = beta

    def get_loss(self, y_pred, y_true, X=None, training=False):
        raw, _, mu, logvar = y_pred
        if training and self.loss == "mse":
            self.module_.update_variance(raw.detach(), y_true)
        ll = self.module_.log_likelihood(raw, y_true)
        kl = self.module_.kl_divergence(mu, logvar)
        return (self.beta * kl - ll).mean()

    def score_batch(self, module, X):
        """Per-sample ELBO (nats) with ``beta`` = 1."""
        return module.elbo_per_sample(X)


def make_net(kind, *, n_samples, n_features, latent_dim, hidden_layer_sizes, activation, loss,
             max_epochs, batch_size, lr, weight_decay, early_stopping,
             validation_fraction, patience, device, seed, verbose, noise=0.0,
             beta=1.0, min_variance=1e-3):
    """Build an uninitialized net for ``kind`` in {"ae", "vae"}.

    Early stopping holds out data only when ``n_samples`` leaves both the
    training and the validation part non-empty; otherwise it is off.
    """
    module_kwargs = dict(
        module__n_features=n_features, module__latent_dim=latent_dim,
        module__hidden_layer_sizes=tuple(hidden_layer_sizes),
        module__activation=activation,
        module__output="sigmoid" if loss == "bce" else "identity",
    )
    if kind == "vae":
        net_class, module = VAENet, VAEModule
        extra = dict(beta=beta, module__min_variance=min_variance)
    else:
        net_class, module = AutoencoderNet, AutoencoderModule
        extra = dict(noise=noise)
    callbacks = [("nonfinite", _NonFiniteLossGuard())]
    validate = early_stopping and _n_validation(n_samples, validation_fraction) > 0
    if validate:
        callbacks.append(("early_stopping", EarlyStopping(
            monitor="valid_loss", patience=patience, threshold=0.0,
            threshold_mode="abs", load_best=True)))
    return net_class(
        module, **module_kwargs, **extra,
        loss=loss, seed=seed, max_epochs=max_epochs, batch_size=batch_size, lr=lr,
        optimizer=torch.optim.AdamW, optimizer__weight_decay=weight_decay,
        train_split=_SeededSplit(validation_fraction, seed) if validate else None,
        callbacks=callbacks, device=device, verbose=verbose,
    )


def map_batches(net, fn, X, dtype, batch_size):
    """Apply ``fn(module, tensor_batch)`` to ``X`` batch by batch.

    Runs in eval mode under ``torch.inference_mode``. ``X`` is converted batch
    by batch, so a memory-mapped array is never copied whole. With float64
    ``dtype`` the computation runs on a float64 copy of the module so that a
    row's result does not depend on the batch it is in.
    """
    module = net.module_
    if dtype == np.float64:
        module = copy.deepcopy(module).double()
    module.eval()
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            # np.array copies the slice: the tensor never aliases read-only
            # or memory-mapped input.
            rows = np.array(X[start:start + batch_size], dtype=dtype)
            batch = torch.from_numpy(rows).to(net.device)
            outputs.append(fn(module, batch).cpu().numpy())
    return np.concatenate(outputs).astype(dtype, copy=False)
