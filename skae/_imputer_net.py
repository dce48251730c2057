"""The skorch net that trains an :class:`~skae._imputer_module.ImputerModule`,
and the holdout of observed entries that its early stopping monitors.

Training follows the denoising recipe of MIDAS (Lall & Robinson, 2022): each
step hides a further random fraction of a batch's observed entries (a
categorical column's one-hot group whole) and the loss is the module's on
all observed entries (masked: missing entries count nothing, so a column
missing from a whole batch is simply absent from its loss). The validation
loss is the error on observed entries held out of training altogether: it
measures imputation itself, and early stopping from the untrained start (the
column means) keeps the best network, so held-out entries are imputed no
worse than by the mean.
"""

import numpy as np
import torch

from ._batches import Rows
from ._net import AutoencoderNet

__all__ = ["EntrySplit", "ImputerNet"]


class _PerColumn:
    """Random draws made per original column of a table and spread over its
    encoded columns, so that a categorical column's one-hot group is hidden
    or held out whole. ``columns``: the original column of each encoded
    column (None: each column its own). The index is built once and kept on
    the device it is used on."""

    def __init__(self, columns):
        self.index = None if columns is None else torch.as_tensor(np.asarray(columns))
        self.width = None if columns is None else int(self.index.max()) + 1

    def shape(self, data):
        """The shape of a draw for ``data`` (rows x encoded columns)."""
        return tuple(data.shape) if self.index is None else (data.shape[0], self.width)

    def spread(self, draw):
        """``draw`` (of :meth:`shape`) per encoded column."""
        if self.index is None:
            return draw
        if self.index.device != draw.device:
            self.index = self.index.to(draw.device)
        return draw[:, self.index]


class EntrySplit:
    """skorch ``train_split`` over entries, not rows: a seeded ``fraction``
    of the observed entries of a data tensor is hidden from training.

    Returns the training rows (those entries NaN) and validation rows that
    pack, side by side, the training input and the held-out entries (NaN
    elsewhere): ``(n, 2 * n_features)``. ``columns``: for a table, the
    original column of each encoded column, so that a categorical column's
    one-hot group is held out whole (None: each column its own).
    """

    def __init__(self, fraction, seed, columns=None):
        self.fraction = fraction
        self.seed = seed
        self.columns = columns

    def __call__(self, data, y=None):
        # A stream of its own: a mask drawn with the user's own seed must not
        # coincide with the holdout.
        rng = np.random.default_rng([self.seed, 0x1A9E])
        per_column = _PerColumn(self.columns)
        draw = per_column.spread(torch.from_numpy(rng.random(per_column.shape(data),
                                                             dtype=np.float32)))
        held_out = ~torch.isnan(data) & (draw.to(data.device) < self.fraction)
        nan = torch.full((), float("nan"), dtype=data.dtype, device=data.device)
        train = torch.where(held_out, nan, data)
        valid = torch.cat([train, torch.where(held_out, data, nan)], dim=1)
        return Rows(train), Rows(valid)


class ImputerNet(AutoencoderNet):
    """skorch net of the imputer: masking corruption of observed entries
    (``noise`` is the fraction hidden per step; ``columns`` as in
    :class:`EntrySplit`), the module's loss on the observed entries only
    (masked), in the internal space, and validation on held-out entries
    (:class:`EntrySplit`)."""

    def __init__(self, module, *args, columns=None, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.columns = columns
        self._per_column = _PerColumn(columns)

    def corrupt(self, X, generator=None):
        """Copy of a batch with a further ``noise`` fraction of entries NaN."""
        if not self.noise:
            return X
        generator = self.noise_generator_ if generator is None else generator
        draw = self._per_column.spread(torch.rand(
            self._per_column.shape(X), generator=generator, device=X.device, dtype=X.dtype))
        return torch.where(draw < self.noise, torch.full((), float("nan"), dtype=X.dtype,
                                                         device=X.device), X)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The module's loss on the observed entries of ``y_true``."""
        return self.loss.masked_mean(y_pred[0], self.module_.normalize(y_true))

    def validation_step(self, batch, **fit_params):
        """Error on the held-out entries, imputed from the rest of each row."""
        packed, _ = batch
        n_features = packed.shape[1] // 2
        with torch.no_grad():
            y_pred = self.infer(packed[:, :n_features], **fit_params)
            return {"loss": self.get_loss(y_pred, packed[:, n_features:]), "y_pred": y_pred}

    def fill_batch(self, module, X):
        """X with its NaN entries imputed (inference)."""
        return module.fill(X)
