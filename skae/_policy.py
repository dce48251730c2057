"""The training policy every skae net follows (:func:`training_policy`) and
its skorch callbacks: a guard against diverging losses, the verbose log, and
early stopping that counts the untrained start as epoch 0."""

import copy
import math
import sys
import warnings
from numbers import Number

import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback, EarlyStopping, LRScheduler, PrintLog

from ._holdout import EntrySplit, SeededSplit, n_validation

__all__ = ["MAP_TOL", "EarlyStoppingFromStart", "EpochLog", "LossGuard", "Schedule",
           "auto_batch_size", "auto_lr", "training_policy", "warn_if_still_improving"]

#: ``lr_schedule="plateau"``: the learning rate is cut by ``PLATEAU_FACTOR``
#: when the monitored loss has not improved by ``PLATEAU_THRESHOLD``
#: (relative) for ``PLATEAU_PATIENCE`` epochs, or for as many epochs as train
#: on ``PLATEAU_ROWS`` rows if that is more: on small data an epoch is a few
#: noisy steps (cuts after 2 or 3 stalled epochs on digits left the 2-d VAE's
#: held-out error 5% above the constant rate's; after 4, level with it), on
#: large data a stall of two epochs is real (on MNIST the cut reached the
#: constant rate's held-out error in about half its epochs).
PLATEAU_FACTOR, PLATEAU_PATIENCE, PLATEAU_THRESHOLD, PLATEAU_ROWS = 0.3, 2, 1e-3, 5000


#: A map's fit (``structure``), whose decoder learns the inverse of a layout
#: fixed before the first step: batches of one row in ``MAP_ROWS_PER_STEP``,
#: up to ``MAP_BATCH`` rows, and ``tol="auto"`` at ``MAP_TOL``: it stops when
#: ``patience`` epochs have not lowered the held-out loss by 1%. A map's
#: decoder has a fixed target and learns it in fewer, larger steps: on MNIST
#: 20,000 rows the plain rule's batches of 64 took 1.4 s an epoch against
#: 0.3 s at 512, for the same inverse error (figures of the defaults:
#: ``benchmarks/bench_structure.py``).
MAP_ROWS_PER_STEP, MAP_BATCH, MAP_TOL = 20, 512, 1e-2


def auto_batch_size(n_train, rows_per_step=200, largest=256):
    """``batch_size="auto"``: a power of two near one row in
    ``rows_per_step`` of the training rows, between 64 and ``largest`` (64
    up to 25,599 rows, 256 from 51,200): large data takes larger steps, on
    more CPU threads."""
    steps = math.floor(math.log2(max(n_train, 1) / rows_per_step))
    return int(2 ** min(max(steps, 6), math.log2(largest)))


def auto_lr(batch_size):
    """``lr="auto"``: 1e-3 at 64 rows per batch, scaled with the square root
    of the batch size (Adam's rule for larger batches)."""
    return 1e-3 * math.sqrt(batch_size / 64)


def training_policy(*, n_samples, max_epochs, batch_size, lr, lr_schedule, weight_decay,
                    early_stopping, validation_fraction, patience, device, seed, verbose,
                    precision, holdout="rows", column_of=None, hole=float("nan"),
                    patience_rows=0, tol="auto", map_fit=False):
    """skorch keyword arguments of the training every skae estimator uses.

    AdamW with decoupled ``weight_decay``, its fused step (one kernel per
    parameter tensor: the same algorithm as torch's default AdamW step at a
    fraction of its cost); ``batch_size`` and ``lr`` "auto" from the number
    of training rows (:func:`auto_batch_size`, :func:`auto_lr`); the
    learning rate decayed to zero along a cosine over ``max_epochs``
    (stepped after every batch), or cut by ``PLATEAU_FACTOR`` when the
    monitored loss (the validation loss, else the training loss) stalls (see
    ``PLATEAU_PATIENCE``); a
    seeded holdout of ``validation_fraction`` for early stopping that keeps
    the best weights, the untrained start included (off when ``n_samples``
    leaves either part empty); a guard against diverging losses.
    ``holdout="entries"`` holds out ``validation_fraction`` of the observed
    entries instead (an :class:`~skae._holdout.EntrySplit`, ``column_of``
    its columns' groups, ``hole`` what a held-out entry becomes): every row
    trains, with those entries hidden. ``patience_rows``: early stopping
    waits at least the epochs that train on that many rows (on small data
    an epoch is a few steps). ``tol``: an epoch lowers the monitored loss
    when it falls by more than ``tol`` times its best value ("auto": 0, or
    ``MAP_TOL`` for a ``map_fit``, which also takes larger batches).
    """
    callbacks = [("loss_guard", LossGuard())]
    if holdout == "entries":  # every row trains
        n_valid = 0
        split = EntrySplit(validation_fraction, seed, column_of, hole) \
            if early_stopping and n_samples else None
    else:
        n_valid = n_validation(n_samples, validation_fraction) if early_stopping else 0
        split = SeededSplit(validation_fraction, seed) if n_valid else None
    if batch_size == "auto":
        batch_size = auto_batch_size(n_samples - n_valid, *(
            (MAP_ROWS_PER_STEP, MAP_BATCH) if map_fit else ()))
    if tol == "auto":
        tol = MAP_TOL if map_fit else 0.0
    if lr == "auto":
        lr = auto_lr(batch_size)
    if lr_schedule == "cosine":
        steps = max_epochs * math.ceil((n_samples - n_valid) / batch_size)
        callbacks.append(("lr_schedule", Schedule(
            policy=torch.optim.lr_scheduler.CosineAnnealingLR, T_max=steps,
            step_every="batch", event_name=None)))
    elif lr_schedule == "plateau":
        epochs = max(PLATEAU_PATIENCE, math.ceil(PLATEAU_ROWS / max(n_samples - n_valid, 1)))
        callbacks.append(("lr_schedule", Schedule(
            policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
            monitor="valid_loss" if split else "train_loss", factor=PLATEAU_FACTOR,
            patience=epochs, threshold=PLATEAU_THRESHOLD, threshold_mode="rel",
            event_name=None)))
    if split:
        patience = max(patience, math.ceil(patience_rows / max(n_samples - n_valid, 1)))
        callbacks.append(("early_stopping", EarlyStoppingFromStart(
            monitor="valid_loss", patience=patience, threshold=tol, load_best=True)))
    return dict(
        max_epochs=max_epochs, batch_size=batch_size, lr=lr,
        optimizer=torch.optim.AdamW, optimizer__weight_decay=weight_decay,
        optimizer__fused=True,
        train_split=split,
        callbacks=callbacks, device=device, verbose=verbose, seed=seed, precision=precision,
    )


class Schedule(LRScheduler):
    """skorch's ``LRScheduler``, which lets go of its torch scheduler when a
    training ends: that one holds the optimizer, whose state a pickled net
    would otherwise carry twice (skorch stores the optimizer's own apart)."""

    def on_train_end(self, net, **kwargs):
        self.lr_scheduler_ = None


class LossGuard(Callback):
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


class EpochLog(PrintLog):
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
        if not net.verbose:  # skorch would format a table only to print nothing
            return None
        if self.bar_ is None:
            return super().on_epoch_end(net, **kwargs)
        row = net.history[-1]
        self.bar_.set_postfix({k: f"{row[k]:.4g}" for k in ("train_loss", "valid_loss")
                               if k in row}, refresh=False)
        self.bar_.update()
        if self.bar_.n == 1:  # the losses show at once, however fast the epochs
            self.bar_.refresh()

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


class EarlyStoppingFromStart(EarlyStopping):
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

    def _calc_new_threshold(self, score):  # a fall of threshold x |score| (losses may be < 0)
        return score - self.threshold * abs(score)

    def on_train_end(self, net, **kwargs):
        super().on_train_end(net, **kwargs)
        # The best weights are the net's now: a copy kept would double the
        # fitted model's memory.
        self.best_model_weights_ = None

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:  # skorch's way to end training
            self.stopped_ = True
            raise


def warn_if_still_improving(estimator):
    """ConvergenceWarning when ``max_epochs`` ended a fitted ``estimator``'s
    training while its monitored loss improved in its last epoch."""
    curve, name = estimator.loss_curve_, "training"
    if estimator.validation_loss_curve_ is not None:
        curve, name = estimator.validation_loss_curve_, "validation"
    if (estimator.n_iter_ >= estimator.max_epochs and len(curve) > 1
            and curve[-1] < min(curve[:-1])):
        warnings.warn(
            f"{type(estimator).__name__} reached max_epochs={estimator.max_epochs} while the "
            f"{name} loss was still improving; increase max_epochs for a better fit.",
            ConvergenceWarning, stacklevel=5)
