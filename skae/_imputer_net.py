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
        width = data.shape[1] if self.columns is None else int(max(self.columns)) + 1
        draw = torch.from_numpy(rng.random((data.shape[0], width), dtype=np.float32))
        if self.columns is not None:
            draw = draw[:, torch.as_tensor(self.columns)]
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

    def corrupt(self, X, generator=None):
        """Copy of a batch with a further ``noise`` fraction of entries NaN."""
        if not self.noise:
            return X
        generator = self.noise_generator_ if generator is None else generator
        if self.columns is None:
            draw = torch.rand(X.shape, generator=generator, device=X.device, dtype=X.dtype)
        else:
            draw = torch.rand((len(X), int(max(self.columns)) + 1), generator=generator,
                              device=X.device, dtype=X.dtype)
            draw = draw[:, torch.as_tensor(self.columns, device=X.device)]
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
