"""Ordered codes: the prefix widths a training draws, the held-out R² of
every prefix of a fitted code, and a fitted network cut to a prefix (torch
and numpy only).

An ordered code is trained so that each of its prefixes (the first ``k``
code dimensions, the others zero) reconstructs as well as it can: each
training row is decoded from a prefix of a width drawn for it
(:func:`prefix_widths`), which is nested dropout (Rippel, Gelbart and
Adams, 2014) with one decode per step, a cost close to an ordinary fit's.
"""

import math

import numpy as np
import scipy.sparse as sp
import torch

from ._holdout import SeededSplit, n_validation

__all__ = ["FULL_WIDTH_SHARE", "MAX_ORDERED_WIDTH", "PrefixDraws", "keep_prefix",
           "ordered_width", "prefix_errors", "prefix_r2", "prefix_state", "prefix_widths",
           "smallest_prefix", "validation_rows"]

#: Share of the training rows decoded from the whole code; the others from
#: a prefix of a width drawn log-uniformly in [1, width] (each doubling of
#: the width as likely: small prefixes, which carry most of the variance,
#: get as many rows as the wide ones). On digits (K = 30, test MSE against
#: a dedicated fit per width, k in {1, 2, 3, 5, 10, 20, 30}): a share of
#: 0.25 gave 1.18-1.81x, 0.5 gave 1.22-1.51x, 0.1 gave 1.12-2.20x;
#: uniform widths 1.24-1.55x.
FULL_WIDTH_SHARE = 0.5

#: ``latent_dim`` in (0, 1): the ordered code is as wide as the number of
#: principal components that explain (1 + fraction) / 2 of the training
#: variance (a nonlinear code needs fewer; the margin is for held-out rows,
#: which a code explains less of than its training rows), at most this.
MAX_ORDERED_WIDTH = 256

#: Held-out rows the explained variance is measured on, at most (and at
#: most 2**24 values: 64 MB of float32 however wide the rows).
MAX_MEASURED_ROWS, MAX_MEASURED_VALUES = 20_000, 2**24


def prefix_widths(n_rows, width, generator):
    """Widths in [1, ``width``] of the prefixes that decode ``n_rows``
    training rows (an int64 tensor, drawn on the CPU from ``generator``):
    :data:`FULL_WIDTH_SHARE` of them the whole code, the others
    log-uniform."""
    u = torch.rand(2, n_rows, generator=generator, dtype=torch.float64)
    drawn = torch.floor(torch.exp(u[0] * math.log(width + 1))).clamp(1, width)
    return torch.where(u[1] < FULL_WIDTH_SHARE, float(width), drawn).long()


def keep_prefix(z, widths):
    """``z`` with each row's code past its width (``widths``, per row, or
    one int) set to zero."""
    if widths is None:
        return z
    widths = torch.as_tensor(widths, device=z.device)
    keep = torch.arange(z.shape[-1], device=z.device) < widths.reshape(-1, 1)
    return z * keep.to(z.dtype)


def prefix_errors(module, batch):
    """Squared error of each row of ``batch`` (rows x width) decoded from
    each prefix of its code, in the module's internal space (the data's
    units up to the common scale, for numbers)."""
    xn = module.normalize(batch)
    z = module.encode(batch) / module.code_scale
    out = batch.new_empty((batch.shape[0], z.shape[-1]))
    for k in range(1, z.shape[-1] + 1):
        fit = module.link(module.decode_raw(keep_prefix(z, k)))
        out[:, k - 1] = (fit - xn).pow(2).sum(-1)
    return out


def prefix_r2(errors, rows, center, scale):
    """R² of every prefix of an ordered code on ``rows``, from their
    :func:`prefix_errors` (``errors``) in the internal space ``(rows -
    center) / scale``: ``1 - SSE_k / SST`` with SST the squared deviation
    from the rows' own mean (as ``r2_score(...,
    multioutput="variance_weighted")``). A dimension's explained variance
    ratio is what it adds to its prefix's R²."""
    xn = (np.asarray(rows, dtype=np.float64) - center) / scale
    sst = float(np.sum((xn - xn.mean(axis=0)) ** 2))
    return 1.0 - np.asarray(errors, np.float64).sum(axis=0) / max(sst, 1e-300)


def smallest_prefix(r2, fraction):
    """The width of the smallest prefix whose R² (``r2``, of each width)
    reaches ``fraction``; None if none does."""
    reached = np.flatnonzero(np.asarray(r2) >= fraction)
    return int(reached[0]) + 1 if len(reached) else None


def validation_rows(split, X):
    """The rows (dense, at most :data:`MAX_MEASURED_ROWS`) on which an
    ordered code's explained variance is measured: the held-out rows of a
    :class:`~skae._holdout.SeededSplit` of X, or X when nothing is held out."""
    if isinstance(split, SeededSplit) and n_validation(X.shape[0], split.fraction):
        valid = split(X)[1]
        X = valid.data if valid.index is None else valid.data[valid.index]
    X = X[:max(1, min(MAX_MEASURED_ROWS, MAX_MEASURED_VALUES // max(X.shape[1], 1)))]
    if isinstance(X, torch.Tensor):
        return X.cpu().numpy()
    return X.toarray() if sp.issparse(X) else np.asarray(X)


def ordered_width(sd, total, fraction, cap):
    """Width of an ordered code for ``latent_dim=fraction``: the number of
    principal components (standard deviations ``sd`` in the internal space,
    ``total`` its variance) that explain ``(1 + fraction) / 2``, at most
    ``cap`` (see :data:`MAX_ORDERED_WIDTH`)."""
    ratio = np.cumsum(np.asarray(sd, float) ** 2) / max(total, 1e-300)
    reached = np.flatnonzero(ratio >= (1 + fraction) / 2 - 1e-12)
    k = int(reached[0]) + 1 if len(reached) else len(sd)
    return max(1, min(k, cap))


def prefix_state(state, new_state, width, k):
    """``state`` (a module's state dict at code width ``width``) cut to the
    shapes of ``new_state`` (the same module at width ``k``): along every
    axis whose size differs, a size of ``m * width`` (a VAE's mean and
    log-variance heads: m = 2) keeps the first ``k`` of each of its m
    blocks."""
    out = {}
    for name, value in state.items():
        target = new_state[name].shape
        for axis, (old, new) in enumerate(zip(value.shape, target, strict=True)):
            if old != new:
                blocks = old // width
                shape = value.shape[:axis] + (blocks, width) + value.shape[axis + 1:]
                value = value.reshape(shape).narrow(axis + 1, 0, k).reshape(
                    value.shape[:axis] + (blocks * k,) + value.shape[axis + 1:])
        out[name] = value.clone()
    return out


class PrefixDraws:
    """The prefix widths of an ordered code's training rows, from a generator
    of its own (seeded by ``seed``), and of its validation rows, the same in
    every validation pass (after :meth:`restart`)."""

    def __init__(self, seed):
        self.seed = seed
        self.training = torch.Generator().manual_seed(seed)
        self.validation = torch.Generator()
        self.restart()

    def restart(self):
        """Start the validation draws over."""
        self.validation.manual_seed(self.seed + 1)

    def widths(self, n_rows, width, device, training):
        """``{"widths": ...}`` for a forward pass over ``n_rows`` rows."""
        generator = self.training if training else self.validation
        return {"widths": prefix_widths(n_rows, width, generator).to(device)}
