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
import mmap
import sys
import warnings
from numbers import Number

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, LRScheduler, PrintLog
from skorch.utils import TeeGenerator
from torch import nn

from ._modules import AutoencoderModule, VAEModule

__all__ = ["AutoencoderNet", "VAENet", "make_net"]


class _Rows:
    """Rows ``index`` (all rows when None) of one 2-D tensor, without copying."""

    def __init__(self, data, index=None):
        self.data = data
        self.index = index

    def __len__(self):
        return len(self.data) if self.index is None else len(self.index)


class _TensorBatches:
    """Mini-batches of :class:`_Rows`, built by indexing the tensor.

    No per-sample ``__getitem__`` or collate: one ``randperm`` per epoch when
    shuffling, then one indexing operation per batch, on the data's device.
    Yields ``(batch, batch)``: an autoencoder's target is its input.
    """

    def __init__(self, rows, batch_size, shuffle=False, generator=None):
        self.rows = rows
        self.batch_size = max(1, int(batch_size))
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return math.ceil(len(self.rows) / self.batch_size)

    def __iter__(self):
        data, order, n = self.rows.data, self.rows.index, len(self.rows)
        if self.shuffle:
            perm = torch.randperm(n, generator=self.generator).to(data.device)
            order = perm if order is None else order[perm]
        for start in range(0, n, self.batch_size):
            stop = start + self.batch_size
            batch = data[start:stop] if order is None else data[order[start:stop]]
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
        return _Rows(data, index[n_valid:]), _Rows(data, index[:n_valid])


class _LossGuard(Callback):
    """Stop with a clear error when a loss stops being finite, and warn once
    when the training loss explodes (rises by nine times the magnitude of its
    best value: tenfold for a positive loss)."""

    def on_train_begin(self, net, **kwargs):
        self.best_ = math.inf
        self.warned_ = False

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for key, name in (("train_loss", "training"), ("valid_loss", "validation")):
            if key in row and not math.isfinite(row[key]):
                raise FloatingPointError(
                    f"The {name} loss became {row[key]} at epoch {len(net.history)}. The "
                    f"learning rate (lr={net.lr}) is probably too high: lower lr (e.g. "
                    f"lr={net.lr / 10:g})."
                )
        loss = row["train_loss"]
        # Tenfold past the best, measured from the best (losses such as a
        # negative ELBO can be negative).
        if loss - self.best_ > 9 * abs(self.best_) and not self.warned_:
            self.warned_ = True
            warnings.warn(
                f"The training loss grew from {self.best_:.4g} to {loss:.4g} at epoch "
                f"{len(net.history)}: training is unstable. Lower the learning rate "
                f"(lr={net.lr}).", ConvergenceWarning, stacklevel=2)
        self.best_ = min(self.best_, loss)


class _EpochLog(PrintLog):
    """What ``verbose`` shows: on a terminal, a progress bar over the epochs
    with the latest losses; elsewhere (logs, pipes, notebooks' captured
    output), skorch's per-epoch table without colour codes, the best values
    marked with ``*``."""

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.bar_ = None
        if net.verbose and sys.stdout.isatty():
            try:
                from tqdm.auto import tqdm
            except ImportError:
                return
            self.bar_ = tqdm(total=net.max_epochs, unit="epoch", leave=False,
                             desc="fit")

    def on_epoch_end(self, net, **kwargs):
        if self.bar_ is None:
            return super().on_epoch_end(net, **kwargs)
        row = net.history[-1]
        self.bar_.set_postfix({k: f"{row[k]:.4g}" for k in ("train_loss", "valid_loss")
                               if k in row}, refresh=False)
        self.bar_.update()

    def on_train_end(self, net, **kwargs):
        if getattr(self, "bar_", None) is not None:
            self.bar_.close()
            self.bar_ = None

    def format_row(self, row, key, color):
        value = row[key]
        if isinstance(value, bool) or value is None or not isinstance(value, Number):
            return super().format_row(row, key, color)
        text = ("{}" if float(value).is_integer() else "{:" + self.floatfmt + "}").format(value)
        return text + ("*" if row.get(key + "_best") else "")


class _EarlyStoppingFromStart(EarlyStopping):
    """skorch's ``EarlyStopping`` that counts the network as it is before
    training as epoch 0: its validation loss is the first to beat, and its
    weights are restored if no epoch beats it. ``stopped_`` tells whether it
    ended the training."""

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.stopped_ = False
        _, dataset_valid = net.get_split_datasets(X, y)
        if dataset_valid is None or not len(dataset_valid):
            return
        net.module_.eval()
        net.start_validation()
        total, rows = 0.0, 0
        for batch in net.get_iterator(dataset_valid, training=False):
            total += float(net.validation_step(batch)["loss"]) * len(batch[0])
            rows += len(batch[0])
        self.initial_score_ = total / rows
        if math.isfinite(self.initial_score_):
            self.dynamic_threshold_ = self._calc_new_threshold(self.initial_score_)
            if self.load_best:
                self.best_model_weights_ = copy.deepcopy(net.module_.state_dict())

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:  # skorch's way to end training
            self.stopped_ = True
            raise


class AutoencoderNet(NeuralNet):
    """skorch net training an :class:`~skae._modules.AutoencoderModule`.

    Parameters beyond :class:`skorch.NeuralNet`'s
    ---------------------------------------------
    loss : {"mse", "bce"}
        Mean squared error, or binary cross-entropy on the decoder's logits.
    noise : float
        Strength of the corruption of training inputs: the standard deviation
        of Gaussian noise, or the fraction of inputs set to zero (masking).
    corruption : {"gaussian", "masking"}
        Kind of corruption.
    seed : int
        Seed of the batch order, the corruption and the VAE's posterior
        draws, each drawn from a generator of the net's own (global random
        states are neither used nor changed).
    precision : {"32", "bf16"}
        Precision of the training forward pass: float32, or bfloat16 autocast
        (weights, gradients and losses stay float32).
    """

    def __init__(self, module, *args, criterion=nn.MSELoss, loss="mse", noise=0.0,
                 corruption="gaussian", seed=0, precision="32", **kwargs):
        # The loss is computed by get_loss; criterion stays skorch's default.
        super().__init__(module, *args, criterion=criterion, **kwargs)
        self.loss = loss
        self.noise = noise
        self.corruption = corruption
        self.seed = seed
        self.precision = precision

    _GENERATORS = ("generator_", "noise_generator_", "valid_noise_generator_",
                   "sample_generator_")

    def initialize(self):
        self._make_generators()
        return super().initialize()

    def _make_generators(self):
        # Batch order on the CPU; corruption and posterior draws where the data is.
        self.generator_ = torch.Generator().manual_seed(self.seed)
        self.noise_generator_ = torch.Generator(device=self.device).manual_seed(self.seed + 1)
        self.valid_noise_generator_ = torch.Generator(device=self.device)
        self.sample_generator_ = torch.Generator(device=self.device).manual_seed(self.seed + 3)

    def __getstate__(self):
        # Generators are tied to a device (a CUDA one cannot be unpickled
        # without CUDA): they are made anew, seeded, on the loading device.
        state = super().__getstate__()
        for name in self._GENERATORS:
            state.pop(name, None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if getattr(self, "initialized_", False):
            self._make_generators()

    def stopped_by_user(self, epochs):
        """Whether the last training, asked for ``epochs`` epochs, was cut
        short by an interrupt (Ctrl-C) rather than ended by early stopping."""
        rows = self.history
        complete = bool(len(rows)) and "train_loss" in rows[-1] and (
            not self.train_split or "valid_loss" in rows[-1])
        stopping = dict(self.callbacks_).get("early_stopping")
        if stopping is not None and getattr(stopping, "stopped_", False):
            return False
        return not complete or len(rows) < epochs

    # data path ---------------------------------------------------------
    def get_dataset(self, X, y=None):
        return _Rows(X)

    def get_split_datasets(self, X, y=None, **fit_params):
        if not self.train_split:
            return self.get_dataset(X), None
        return self.train_split(X)

    def get_iterator(self, dataset, training=False):
        return _TensorBatches(dataset, self.batch_size, shuffle=training,
                              generator=self.generator_)

    # training ------------------------------------------------------------
    def get_default_callbacks(self):
        # The epoch losses are recorded by run_single_epoch: skorch's
        # PassthroughScoring would need a per-batch ``.item()`` sync.
        return [(name, _EpochLog() if name == "print_log" else cb)
                for name, cb in super().get_default_callbacks()
                if name not in ("train_loss", "valid_loss")]

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over ``iterator`` with one host-device sync per epoch.

        The mode switch happens once, the per-batch losses are summed on the
        device, and the history gets the epoch's mean ``{prefix}_loss`` (and
        ``{prefix}_loss_best``) instead of per-batch records. Batch callbacks
        are notified as in skorch.
        """
        if iterator is None:
            return
        self._set_training(training)
        if not training:
            self.start_validation()
        begin, end = self.batch_hooks_
        total = torch.zeros((), device=self.device)
        n_rows = n_batches = 0
        for batch in iterator:
            if begin:
                self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            total += step["loss"].detach() * len(batch[0])
            n_rows += len(batch[0])
            n_batches += 1
            if end:
                self.notify("on_batch_end", batch=batch, training=training, **step)
            # Free this batch's outputs before the next forward pass allocates.
            del step
        loss = total.item() / max(n_rows, 1)
        key = prefix + "_loss"
        earlier = [row[key] for row in self.history[:-1] if key in row]
        self.history.record(prefix + "_batch_count", n_batches)
        self.history.record(key, loss)
        self.history.record(key + "_best", not earlier or loss < min(earlier))

    def _listens(self, hook):
        """Whether the net or any callback overrides the no-op ``hook``.

        Notifying costs some 10 us per call through every callback, so batch
        hooks nobody implements are skipped; those that are implemented run.
        """
        owners = [self] + [cb for _, cb in self.callbacks_]
        return any(getattr(type(obj), hook) is not getattr(base, hook)
                   for obj, base in zip(owners, [NeuralNet] + [Callback] * len(owners[1:]),
                                        strict=True))

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        # Which hooks any callback implements, decided once per fit.
        self.batch_hooks_ = (self._listens("on_batch_begin"), self._listens("on_batch_end"))
        self.grad_hook_ = self._listens("on_grad_computed")
        return super().on_train_begin(net, X=X, y=y, **kwargs)

    def train_step(self, batch, **fit_params):
        """One optimizer step (no closure: the optimizer is AdamW)."""
        self._zero_grad_optimizer(set_to_none=True)
        step = self.train_step_single(batch, **fit_params)
        if self.grad_hook_:
            self.notify("on_grad_computed",
                        named_parameters=TeeGenerator(self.get_all_learnable_params()),
                        batch=batch, training=True)
        self._step_optimizer(None)
        return step

    def validation_step(self, batch, **fit_params):
        """Validation loss of a batch: of reconstructing it from its
        corruption for a denoising autoencoder, the task it trains for."""
        Xi, target = batch
        with torch.no_grad():
            y_pred = self.infer(self.corrupt(Xi, self.valid_noise_generator_), **fit_params)
            return {"loss": self.get_loss(y_pred, target, X=Xi, training=False),
                    "y_pred": y_pred}

    def start_validation(self):
        """Reset the validation corruption: every validation pass corrupts
        the same rows the same way, so epochs compare on equal terms."""
        self.valid_noise_generator_.manual_seed(self.seed + 2)

    def corrupt(self, X, generator=None):
        """Corrupted copy of a batch (identity when noise is 0), drawn from
        ``generator`` (default: the training corruption's)."""
        if not self.noise:
            return X
        generator = self.noise_generator_ if generator is None else generator
        if self.corruption == "masking":
            draw = torch.rand(X.shape, generator=generator, device=X.device, dtype=X.dtype)
            return X * (draw >= self.noise)
        eps = torch.randn(X.shape, generator=generator, device=X.device, dtype=X.dtype)
        return X + self.noise * eps

    def infer(self, x, **fit_params):
        """Forward pass, under bfloat16 autocast with ``precision="bf16"``;
        outputs are returned as float32."""
        if self.precision == "32":
            return super().infer(x, **fit_params)
        with torch.autocast(torch.device(self.device).type, dtype=torch.bfloat16):
            y_pred = super().infer(x, **fit_params)
        return tuple(t.float() for t in y_pred)

    def train_step_single(self, batch, **fit_params):
        # The module is put in training mode once per epoch (run_single_epoch).
        Xi, target = batch
        y_pred = self.infer(self.corrupt(Xi), **fit_params)
        loss = self.get_loss(y_pred, target, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Mean reconstruction loss in the module's internal space."""
        return self.module_.reconstruction.mean(y_pred[0], self.module_.normalize(y_true))

    # inference -------------------------------------------------------------
    def feature_errors(self, module, X):
        """Per-feature reconstruction errors of ``X`` in the data's units
        (squared units for MSE; BCE trains on the data as it is)."""
        loss = module.reconstruction
        error = loss.per_element(module(X)[0], module.normalize(X))
        return loss.to_data_units(error, module.scale)

    def score_batch(self, module, X):
        """Per-sample score: minus the mean reconstruction error."""
        return -self.feature_errors(module, X).mean(dim=-1)


class VAENet(AutoencoderNet):
    """skorch net training a :class:`~skae._modules.VAEModule` on the
    negative ELBO (reconstruction log-likelihood plus ``beta`` times KL),
    averaged over the batch and summed over features."""

    def __init__(self, module, *args, beta=1.0, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.beta = beta

    def infer(self, x, **fit_params):
        """Forward pass; in training mode the posterior draws come from the
        net's own generator."""
        if self.module_.training:
            fit_params = {**fit_params, "generator": self.sample_generator_}
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        raw, _, mu, logvar = y_pred
        target = self.module_.normalize(y_true)
        if training and self.module_.reconstruction.learns_variance:
            self.module_.update_variance(raw.detach(), target)
        ll = self.module_.log_likelihood(raw, target)
        kl = self.module_.kl_divergence(mu, logvar)
        return (self.beta * kl - ll).mean()

    def score_batch(self, module, X):
        """Per-sample ELBO (nats) with ``beta`` = 1."""
        return module.elbo_per_sample(X)


def make_net(kind, *, n_samples, n_features, latent_dim, hidden_layer_sizes, activation, loss,
             max_epochs, batch_size, lr, weight_decay, early_stopping,
             validation_fraction, patience, device, seed, verbose, precision="32",
             lr_schedule="constant", architecture="mlp", image_shape=None,
             conv_channels=(32, 64), noise=0.0, corruption="gaussian", beta=1.0,
             min_variance=1e-3, linear_path=False):
    """Build an uninitialized net for ``kind`` in {"ae", "vae"}.

    Early stopping holds out data only when ``n_samples`` leaves both the
    training and the validation part non-empty; otherwise it is off.
    """
    module_kwargs = dict(
        module__n_features=n_features, module__latent_dim=latent_dim,
        module__hidden_layer_sizes=tuple(hidden_layer_sizes),
        module__activation=activation,
        module__loss=loss,
        module__architecture=architecture, module__image_shape=image_shape,
        module__channels=tuple(conv_channels), module__linear_path=linear_path,
        module__seed=seed,
    )
    if kind == "vae":
        net_class, module = VAENet, VAEModule
        extra = dict(beta=beta, module__min_variance=min_variance)
    else:
        net_class, module = AutoencoderNet, AutoencoderModule
        extra = dict(noise=noise, corruption=corruption)
    callbacks = [("loss_guard", _LossGuard())]
    n_valid = _n_validation(n_samples, validation_fraction) if early_stopping else 0
    validate = n_valid > 0
    if lr_schedule == "cosine":
        # Cosine decay to zero over max_epochs, stepped after every batch.
        steps = max_epochs * math.ceil((n_samples - n_valid) / batch_size)
        callbacks.append(("lr_schedule", LRScheduler(
            policy=torch.optim.lr_scheduler.CosineAnnealingLR, T_max=steps,
            step_every="batch", event_name=None)))
    if validate:
        callbacks.append(("early_stopping", _EarlyStoppingFromStart(
            monitor="valid_loss", patience=patience, threshold=0.0,
            threshold_mode="abs", load_best=True)))
    return net_class(
        module, **module_kwargs, **extra,
        loss=loss, seed=seed, precision=precision, max_epochs=max_epochs,
        batch_size=batch_size, lr=lr,
        optimizer=torch.optim.AdamW, optimizer__weight_decay=weight_decay,
        train_split=_SeededSplit(validation_fraction, seed) if validate else None,
        callbacks=callbacks, device=device, verbose=verbose,
    )


def _memmap_pages(X):
    """``(mmap, offset of X's data in it)`` for a read-only or shared memmap
    view ``X`` with contiguous rows, else None."""
    base = X
    # Owners of borrowed memory (torch tensors, bytes, memoryviews, polars or
    # pyarrow buffers) end the walk: only numpy arrays have a numpy .base.
    while isinstance(base, np.ndarray) and not isinstance(base, np.memmap):
        base = base.base
    if not isinstance(base, np.memmap):
        return None
    if (getattr(base, "_mmap", None) is None or base.mode == "c"
            or not X.flags.c_contiguous or not hasattr(mmap, "MADV_DONTNEED")):
        return None
    # numpy maps from the file offset rounded down to the allocation granularity.
    mm_address = base.ctypes.data - base.offset % mmap.ALLOCATIONGRANULARITY
    return base._mmap, X.ctypes.data - mm_address


def _release_pages(pages, start, stop):
    """Drop the resident pages of bytes [start, stop) of a file mapping: they
    are clean or written back, and are read again from the file if needed."""
    mm, _ = pages
    first = start - start % mmap.PAGESIZE
    last = min(stop - stop % mmap.PAGESIZE, len(mm))
    if last > first:
        mm.madvise(mmap.MADV_DONTNEED, first, last - first)


def map_batches(net, fn, X, dtype, batch_size, check=None):
    """Apply ``fn(module, tensor_batch)`` to ``X`` batch by batch.

    Runs in eval mode under ``torch.inference_mode``. ``X`` is converted batch
    by batch (``check``, if given, validates each converted numpy batch), so a
    large or memory-mapped array is never copied whole; the pages of a memmap
    are released once read, keeping the resident memory bounded. With float64
    ``dtype`` the computation runs on a float64 copy of the module so that a
    row's result does not depend on the batch it is in.
    """
    module = net.module_
    if dtype == np.float64:
        module = copy.deepcopy(module).double()
    module.eval()
    pages = _memmap_pages(X)
    row_bytes = X.strides[0]
    # One output array, filled in place: per-batch results kept in a list
    # would pin the heap between the large per-batch buffers and grow memory
    # with the number of rows.
    out = None
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            # np.array copies the slice: the tensor never aliases read-only
            # or memory-mapped input.
            rows = np.array(X[start:start + batch_size], dtype=dtype)
            if pages is not None:
                _release_pages(pages, pages[1] + start * row_bytes,
                               pages[1] + (start + len(rows)) * row_bytes)
            if check is not None:
                check(rows)
            batch = torch.from_numpy(rows).to(net.device)
            result = fn(module, batch).cpu().numpy()
            if out is None:
                out = np.empty((len(X), *result.shape[1:]), dtype=dtype)
            out[start:start + len(result)] = result
    return out
