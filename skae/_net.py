"""skorch nets for skae's modules, and the training policy they share.

skae customises skorch only through its public extension points:
``get_dataset``, ``get_split_datasets`` and ``get_iterator`` keep the data as
one tensor and batch it by indexing; ``train_step_single`` and
``validation_step`` corrupt a denoising autoencoder's inputs;
``run_single_epoch`` sums the batch losses on the device (one host sync per
epoch); ``notify`` skips batch events that no callback listens to; ``infer``
adds bfloat16 autocast; ``get_loss`` asks the module's loss object.
History, callbacks and printing are skorch's own. With the callbacks in
``_policy.py`` (the training policy every net follows), this is the only layer
that imports skorch.
"""

import numpy as np
import scipy.sparse as sp
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.utils import TeeGenerator
from torch import nn

from ._batches import Rows, Shards, SparseBatches, StreamedBatches, TensorBatches
from ._holdout import ColumnDraws, EntrySplit
from ._ordered import PrefixDraws
from ._policy import EpochLog
from ._runtime import data_parallel

__all__ = ["AutoencoderNet"]

_BATCH_EVENTS = ("on_batch_begin", "on_batch_end", "on_grad_computed")


class AutoencoderNet(NeuralNet):
    """skorch net training an :class:`~skae._modules.AutoencoderModule`.

    Parameters beyond :class:`skorch.NeuralNet`'s
    ---------------------------------------------
    noise : float
        Strength of the corruption of training inputs: the standard deviation
        of Gaussian noise, or the fraction of inputs hidden (masking: set to
        zero, or made holes for a module that reads holes; a table's
        categorical column hidden whole).
    corruption : {"gaussian", "masking"}
        Kind of corruption.
    seed : int
        Seed of the batch order, the corruption and the VAE's posterior
        draws, each drawn from a generator of the net's own (global random
        states are neither used nor changed).
    precision : {"32", "bf16"}
        Precision of the training forward pass: float32, or bfloat16 autocast
        (weights, gradients and losses stay float32).
    unstored : float
        What a sparse matrix's unstored entries are: zeros (0.0), or holes
        (NaN: a ratings matrix, whose stored entries are the observed ones).
    ordered : bool
        Train an ordered code: each row decoded from a prefix of its code
        (:mod:`skae._ordered`).

    The loss is the module's (``module__loss``): ``criterion`` is unused.
    A module that reads rows with holes (``observed_input``) is trained on
    its loss over the observed entries; with an :class:`~skae._holdout.EntrySplit`
    as ``train_split``, the held-out entries are hidden from every training
    step and the validation loss is the error of imputing them.
    """

    def __init__(self, module, *args, criterion=nn.MSELoss, noise=0.0, corruption="gaussian",
                 seed=0, precision="32", structure_weight=0.0, unstored=0.0, ordered=False,
                 **kwargs):
        super().__init__(module, *args, criterion=criterion, **kwargs)
        self.noise = noise
        self.corruption = corruption
        self.seed = seed
        self.precision = precision
        self.structure_weight = structure_weight
        self.unstored = unstored
        self.ordered = ordered

    _TRANSIENT = ("generator_", "noise_generator_", "valid_noise_generator_",
                   "sample_generator_", "split_", "trained_", "trained_sizes_", "structure_",
                   "column_draws_", "width_draws_")

    @property
    def loss(self):  # the reconstruction loss object (skae._loss) of the module
        return self.module_.reconstruction

    def initialize(self):
        self._make_generators()
        return super().initialize()

    def _make_generators(self):
        # Batch order on the CPU (the same in every process of a data-parallel fit);
        # corruption and posterior draws where the data is (each process's own).
        rank = 4 * data_parallel()[0]
        self.generator_ = torch.Generator().manual_seed(self.seed)
        self.noise_generator_ = torch.Generator(device=self.device).manual_seed(
            self.seed + 1 + rank)
        self.valid_noise_generator_ = torch.Generator(device=self.device)
        self.sample_generator_ = torch.Generator(device=self.device).manual_seed(
            self.seed + 3 + rank)
        self.width_draws_ = PrefixDraws(self.seed + 7 + rank)

    def __getstate__(self):
        # Generators are tied to a device (a CUDA one cannot be unpickled
        # without CUDA): they are made anew, seeded, on the loading device.
        state = super().__getstate__()
        for name in self._TRANSIENT:
            state.pop(name, None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if getattr(self, "initialized_", False):
            self._make_generators()

    def restore_history(self, rows):  # rows: a saved ``list(history)``
        self.history = type(self.history)(rows)

    def loss_curves(self):
        """Training and validation (None without a split) loss of each epoch."""
        rows = self.history
        valid = "valid_loss" in rows[-1]
        return (np.asarray(rows[:, "train_loss"], dtype=float),
                np.asarray(rows[:, "valid_loss"], dtype=float) if valid else None)

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
        return Rows(X)

    def get_split_datasets(self, X, y=None, **fit_params):
        # One split per training (early stopping asks for it too): a
        # memory-mapped X's held-out rows are copied once.
        cached = getattr(self, "split_", None)
        if cached is not None and cached[0] is X:
            return cached[1]
        split = (self.get_dataset(X), None) if not self.train_split else self.train_split(X)
        self.split_ = (X, split)
        return split

    def partial_fit(self, X, y=None, classes=None, structure=None, **fit_params):
        """skorch's ``partial_fit``; ``structure``: the :class:`~skae._structure.LayoutTarget`
        of X, whose loss on a batch's codes (times ``structure_weight``) is added to every
        step's loss, the held-out codes' distance to the layout to the validation loss, and
        whose layout codes the decoder reads (:meth:`_read`)."""
        self.structure_ = structure
        try:
            return super().partial_fit(X, y, classes, **fit_params)
        finally:
            self.split_ = self.structure_ = None  # the data is not the net's to keep

    def get_iterator(self, dataset, training=False):
        if sp.issparse(dataset.data):  # densified batch by batch
            batches = SparseBatches(dataset, self.batch_size, shuffle=training,
                                    generator=self.generator_, device=self.device,
                                    unstored=self.unstored)
        elif isinstance(dataset.data, np.ndarray):  # memory-mapped: read block by block
            batches = StreamedBatches(dataset, self.batch_size, shuffle=training,
                                      generator=self.generator_, device=self.device)
        else:
            batches = TensorBatches(dataset, self.batch_size, shuffle=training,
                                    generator=self.generator_)
        if training and getattr(self, "world_", 1) > 1:
            return Shards(self, batches)
        return batches

    # training ------------------------------------------------------------
    def get_default_callbacks(self):
        # The epoch losses are recorded by run_single_epoch: skorch's
        # PassthroughScoring would need a per-batch ``.item()`` sync.
        return [(name, EpochLog() if name == "print_log" else cb)
                for name, cb in super().get_default_callbacks()
                if name not in ("train_loss", "valid_loss")]

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        # Which batch events anyone listens to, decided once per fit.
        self.silent_events_ = {event for event in _BATCH_EVENTS if not self._listens(event)}
        self.rank_, self.world_ = data_parallel()
        # The parameters each step updates (and a data-parallel step
        # all-reduces the gradients of).
        self.trained_ = [p for group in self.optimizer_.param_groups for p in group["params"]]
        self.trained_sizes_ = [p.numel() for p in self.trained_]
        return super().on_train_begin(net, X=X, y=y, **kwargs)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self.silent_events_ = set()
        self.trained_ = self.trained_sizes_ = None
        # The last step's gradients are spent (a size of the model each).
        self.module_.zero_grad(set_to_none=True)
        return super().on_train_end(net, X=X, y=y, **kwargs)

    def _listens(self, event):
        """Whether the net or any callback overrides the no-op ``event``."""
        owners = [(self, NeuralNet)] + [(cb, Callback) for _, cb in self.callbacks_]
        return any(getattr(type(obj), event) is not getattr(base, event)
                   for obj, base in owners)

    def notify(self, method_name, **cb_kwargs):
        """skorch's ``notify``, skipping batch events that nobody implements
        (each notification costs some 10 us through every callback)."""
        if method_name in getattr(self, "silent_events_", ()):
            return
        super().notify(method_name, **cb_kwargs)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over ``iterator`` with one host-device sync per epoch.

        The mode is set once, the per-batch losses are summed on the device,
        and the history gets the epoch's mean ``{prefix}_loss`` (and
        ``{prefix}_loss_best``) instead of per-batch records. Batch callbacks
        are notified as in skorch.
        """
        if iterator is None:
            return
        self.module_.train(training)
        if not training:
            self.start_validation()
        # On the CPU a loss's value is read at no cost; elsewhere the batch
        # losses are summed where they are and read once.
        on_cpu = torch.device(self.device).type == "cpu"
        total = 0.0 if on_cpu else torch.zeros((), device=self.device)
        n_rows = n_batches = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            size = len(batch[0])
            total += (step["loss"].item() if on_cpu else step["loss"].detach()) * size
            n_rows += size
            n_batches += 1
            self.notify("on_batch_end", batch=batch, training=training, **step)
            # Free this batch's outputs before the next forward pass allocates.
            del step
        if training and getattr(self, "world_", 1) > 1:  # every process's rows
            both = torch.as_tensor([0.0, float(n_rows)], device=self.device)
            both[0] += total
            torch.distributed.all_reduce(both)
            total, n_rows = both[0], int(both[1])
        loss = float(total) / max(n_rows, 1)
        key = prefix + "_loss"
        earlier = [row[key] for row in self.history[:-1] if key in row]
        self.history.record(prefix + "_batch_count", n_batches)
        self.history.record(key, loss)
        self.history.record(key + "_best", not earlier or loss < min(earlier))

    def train_step(self, batch, **fit_params):
        """One optimizer step on ``batch``: gradients zeroed, the forward
        and backward pass of :meth:`train_step_single`, skorch's
        ``on_grad_computed`` event (when a callback listens), then AdamW's
        step. skorch's own ``train_step`` passes a closure, which only
        optimizers such as L-BFGS need, and ``zero_grad`` runs under the
        profiler's bookkeeping: some 20 us a step together."""
        for p in self.trained_:  # optimizer.zero_grad(set_to_none=True), unprofiled
            p.grad = None
        step = self.train_step_single(batch, **fit_params)
        if "on_grad_computed" not in self.silent_events_:
            self.notify("on_grad_computed",
                        named_parameters=TeeGenerator(self.get_all_learnable_params()),
                        batch=batch, training=True)
        self.optimizer_.step()
        return step

    def _entry_split(self):  # the holdout of entries, when this training holds entries out
        return self.train_split if isinstance(self.train_split, EntrySplit) else None

    def train_step_single(self, batch, **fit_params):
        """Forward and backward pass on the corrupted batch (the module is in
        training mode for the whole epoch, see :meth:`run_single_epoch`)."""
        Xi, rows = batch  # an autoencoder's target is its input
        split = self._entry_split()
        if split is not None and split.per_batch:  # held-out entries are never trained on
            Xi = split.split(Xi, rows)[0]
        y_pred = self.infer(self.corrupt(Xi), **fit_params, **self._prefixes(Xi, True),
                            **self._read(rows))
        self.before_loss(y_pred, Xi)
        loss = self.get_loss(y_pred, Xi, X=Xi, training=True)
        if self._structured():
            loss = loss + self.structure_weight * self.structure_.loss(
                self.module_.code_of(y_pred), rows)
        loss.backward()
        self.sync_gradients(len(Xi))
        return {"loss": loss, "y_pred": y_pred}

    def before_loss(self, y_pred, target):  # between a step's forward pass and its loss
        pass

    def sync_gradients(self, n_rows):
        """In a data-parallel fit, replace each process's gradient (of the
        mean loss over its ``n_rows``) by the gradient of the mean over the
        whole batch: one all-reduce per step, so every process makes the same
        update as a single process on the whole batch would."""
        if getattr(self, "world_", 1) == 1:
            return
        flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                          for p in self.trained_]) * n_rows
        torch.distributed.all_reduce(flat)
        flat /= self.global_rows_
        for p, grad in zip(self.trained_, flat.split(self.trained_sizes_), strict=True):
            p.grad = grad.view_as(p)

    def validation_step(self, batch, **fit_params):
        """Validation loss of a batch: of reconstructing it from its
        corruption for a denoising autoencoder, the task it trains for; of
        imputing its held-out entries from the rest of their rows for an
        :class:`~skae._holdout.EntrySplit` (of counts, such as interactions:
        the likelihood of the held-out items among those not kept, which
        ranks them as ``recommend`` does)."""
        Xi, rows = batch
        split = self._entry_split()
        if split is not None:
            kept, held_out = split.unpack(Xi, rows)
            with torch.no_grad():
                y_pred = self.infer(kept, **fit_params)
                scored = y_pred
                if split.hole == 0:  # counts: the held-out items among those not kept
                    # (-1e30, not -inf: no mass in the softmax, and 0 x it is 0)
                    scored = (y_pred[0].masked_fill(kept != 0, -1e30), *y_pred[1:])
                return {"loss": self.get_loss(scored, held_out), "y_pred": y_pred}
        with torch.no_grad():
            y_pred = self.infer(self.corrupt(Xi, self.valid_noise_generator_), **fit_params,
                                **self._prefixes(Xi, False), **self._read(rows))
            loss = self.get_loss(y_pred, Xi, X=Xi, training=False)
            if self._structured():
                loss = loss + self.structure_weight * self.structure_.fit(
                    self.module_.code_of(y_pred), rows)
            return {"loss": loss, "y_pred": y_pred}

    def _structured(self):  # whether this training adds a structure term to its losses
        return getattr(self, "structure_", None) is not None and bool(self.structure_weight)

    def _read(self, rows):  # the codes decoded: a structure's layout codes (its map's inverse)
        return {"codes": self.structure_.layout[rows]} if self._structured() else {}

    def start_validation(self):
        """Reset the validation corruption: every validation pass corrupts
        the same rows the same way, so epochs compare on equal terms."""
        self.valid_noise_generator_.manual_seed(self.seed + 2)
        self.width_draws_.restart()

    def _prefixes(self, Xi, training):
        """The prefix widths of an ordered code's forward pass over ``Xi``."""
        if not self.ordered:
            return {}
        return self.width_draws_.widths(len(Xi), self.module__latent_dim, Xi.device, training)

    def corrupt(self, X, generator=None):
        """Corrupted copy of a batch (identity when noise is 0), drawn from
        ``generator`` (default: the training corruption's)."""
        if not self.noise:
            return X
        generator = self.noise_generator_ if generator is None else generator
        if self.corruption == "masking":
            draw = self._column_draws().uniform(X, generator)
            return torch.where(draw < self.noise, torch.full((), self.module_.hole,
                                                             dtype=X.dtype, device=X.device), X)
        eps = torch.randn(X.shape, generator=generator, device=X.device, dtype=X.dtype)
        return X + self.noise * eps

    def _column_draws(self):
        """Draws per original column of the module's loss (a table's
        categorical column hidden whole), made once."""
        draws = getattr(self, "column_draws_", None)
        if draws is None:
            draws = self.column_draws_ = ColumnDraws(
                self.loss.column_of(self.module_.center.shape[0]))
        return draws

    def infer(self, x, **fit_params):
        """Forward pass, under bfloat16 autocast with ``precision="bf16"``;
        outputs are returned as float32."""
        if self.precision == "32":
            return super().infer(x, **fit_params)
        with torch.autocast(torch.device(self.device).type, dtype=torch.bfloat16):
            y_pred = super().infer(x, **fit_params)
        return tuple(t.float() for t in y_pred)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Mean reconstruction loss in the module's internal space (over the
        observed entries of rows with holes)."""
        if self.module_.observed_input:
            return self.loss.masked_mean(y_pred[0], self.module_.normalize(y_true))
        return self.loss.mean(y_pred[0], self.module_.normalize(y_true))

    # inference -------------------------------------------------------------
    def score_batch(self, module, X):
        """Per-sample score: minus the mean reconstruction error."""
        return -module.feature_errors(X).mean(dim=-1)

    def fill_batch(self, module, X):
        """X with its holes (NaN) filled by ``module`` (inference)."""
        return module.fill(X)
