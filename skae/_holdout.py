"""What a training holds out and hides: a seeded holdout of rows or of
entries for early stopping, and random draws per column for masking noise
(a table's categorical column held out or hidden whole); torch and numpy
only."""

import math

import numpy as np
import scipy.sparse as sp
import torch

from ._batches import Rows

__all__ = ["ColumnDraws", "EntrySplit", "SeededSplit", "n_validation"]


def n_validation(n_samples, fraction):
    """Rows to hold out for validation: 0 when either part would be empty."""
    n_valid = math.ceil(fraction * n_samples)
    return n_valid if 1 <= n_valid < n_samples else 0


class SeededSplit:
    """skorch ``train_split``: a seeded random holdout of a data tensor, of a
    sparse matrix (the held-out rows then a sparse copy), or of a
    memory-mapped array (the held-out rows then copied, as float32)."""

    def __init__(self, fraction, seed):
        self.fraction = fraction
        self.seed = seed

    def __call__(self, data, y=None):
        n_valid = n_validation(data.shape[0], self.fraction)
        perm = np.random.default_rng(self.seed).permutation(data.shape[0])
        if sp.issparse(data):
            # In the dense split's order: a sparse fit takes the same steps.
            return (Rows(data, perm[n_valid:]),
                    Rows(data[perm[:n_valid]], origin=torch.from_numpy(perm[:n_valid])))
        if isinstance(data, np.ndarray):
            valid = np.sort(perm[:n_valid])
            held_out = torch.from_numpy(np.array(data[valid], dtype=np.float32))
            return (Rows(data, np.sort(perm[n_valid:])),
                    Rows(held_out, origin=torch.from_numpy(valid)))
        index = torch.as_tensor(perm, device=data.device)
        return Rows(data, index[n_valid:]), Rows(data, index[:n_valid])


class ColumnDraws:
    """Random draws per original column of a batch, spread over its encoded
    columns, so that a categorical column's one-hot group is hidden or held
    out whole. ``column_of``: the original column of each encoded column
    (None: each column its own; see ``skae._loss``). The index is built
    once and kept on the device it is used on."""

    def __init__(self, column_of=None):
        self.index = None if column_of is None else torch.as_tensor(np.asarray(column_of))
        self.width = None if column_of is None else int(self.index.max()) + 1

    def shape(self, batch):
        """The shape of a draw for ``batch`` (rows x encoded columns)."""
        return tuple(batch.shape) if self.index is None else (batch.shape[0], self.width)

    def spread(self, draw):
        """``draw`` (of :meth:`shape`) per encoded column."""
        if self.index is None:
            return draw
        if self.index.device != draw.device:
            self.index = self.index.to(draw.device)
        return draw[:, self.index]

    def uniform(self, batch, generator):
        """Uniform draws in [0, 1) of each entry of ``batch`` (a column's
        group alike) from ``generator``."""
        return self.spread(torch.rand(self.shape(batch), generator=generator,
                                      device=batch.device, dtype=batch.dtype))

    def hashed(self, batch, rows, seed):
        """Uniform draws in [0, 1) of each entry of ``batch`` fixed by its row
        number in ``rows`` and its column (a hash of both and ``seed``): the
        same entry gets the same draw in every epoch, batch and process,
        with nothing stored."""
        n_columns = self.shape(batch)[1]
        columns = torch.arange(n_columns, device=batch.device, dtype=torch.int64)
        index = rows.to(torch.int64)[:, None] * n_columns + columns
        # Consecutive entries spread by the golden ratio's multiple, the seed
        # mixed in as one number: one round of the hash per entry.
        h = _mix((index * 0x9E3779B1 + _mix(int(seed) & 0xFFFFFFFF)) & 0xFFFFFFFF)
        return self.spread((h >> 8).to(batch.dtype) / float(2**24))


def _mix(h):
    """A 32-bit integer hash (of an int or an int64 tensor of values below
    2**32), computed without overflowing 64 bits."""
    for _ in range(2):
        h = (((h >> 16) ^ h) * 0x45D9F3B) & 0xFFFFFFFF
    return (h >> 16) ^ h


class EntrySplit:
    """skorch ``train_split`` over entries, not rows: a seeded ``fraction``
    of the observed entries is held out of training (an imputer's early
    stopping monitors the error of imputing them).

    Every row is in both parts; which entries are held out is a fixed
    function of an entry's row number and column (:meth:`ColumnDraws.hashed`),
    applied to each batch by :meth:`split` where the data is a
    memory-mapped array or a CSR matrix (not copied); a tensor is split once,
    into a training copy and validation rows that pack the same input and
    the held-out entries side by side (:meth:`unpack` reads either).
    ``column_of``: as in :class:`ColumnDraws`. ``hole``: what a held-out
    entry becomes, NaN (rows with holes), or 0 (counts, such as a user's
    interactions: a fraction of the non-zero entries is held out, and
    validation is the likelihood of those given the rest).
    """

    def __init__(self, fraction, seed, column_of=None, hole=float("nan")):
        self.fraction = fraction
        self.seed = seed
        self.draws = ColumnDraws(column_of)
        self.hole = hole
        #: Whether batches are split one by one (memory-mapped and sparse
        #: data, which are not copied), not split once (a tensor).
        self.per_batch = True

    def __call__(self, data, y=None):
        # A tensor is split once: no step then computes the split.
        self.per_batch = not isinstance(data, torch.Tensor)
        if self.per_batch:
            return Rows(data), Rows(data)
        packed = torch.empty((len(data), 2 * data.shape[1]), dtype=data.dtype,
                             device=data.device)
        step = max(1, 2**20 // max(data.shape[1], 1))
        for start in range(0, len(data), step):
            rows = torch.arange(start, min(start + step, len(data)), device=data.device)
            packed[start:start + step] = torch.cat(self.split(data[start:start + step], rows),
                                                   dim=1)
        # Training reads the first half of each packed row: one copy in all.
        return Rows(packed[:, :data.shape[1]]), Rows(packed)

    def unpack(self, batch, rows):
        """``(kept, held_out)`` of a validation batch."""
        if self.per_batch:
            return self.split(batch, rows)
        return batch.chunk(2, dim=1)

    def split(self, batch, rows):
        """``(kept, held_out)``: ``batch`` with its held-out entries made
        holes, and those entries alone (holes elsewhere)."""
        # Mixed with a constant of its own: a corruption drawn with the
        # user's own seed must not coincide with the holdout.
        held = self.draws.hashed(batch, rows, self.seed ^ 0x1A9E) < self.fraction
        if self.hole == 0:
            held &= batch != 0
        hole = torch.full((), self.hole, dtype=batch.dtype, device=batch.device)
        return torch.where(held, hole, batch), torch.where(held, batch, hole)
