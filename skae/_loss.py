"""Reconstruction losses: each knows its output link, its value, its
likelihood, the data it accepts and the units it reports in.

In the manner of ``sklearn._loss``: the public ``loss="mse"`` / ``"bce"``
strings name an object from :data:`LOSSES`, and the networks, the skorch nets
and the estimators ask that object instead of comparing strings.
"""

import math

import numpy as np
import torch
from torch import nn

from ._kinds import KINDS

__all__ = ["LOSSES", "BinaryCrossEntropy", "Multinomial", "SquaredError", "TableLoss", "get_loss"]

_LOG_2PI = math.log(2.0 * math.pi)


class SquaredError:
    """Squared error with an identity link: a Gaussian decoder.

    Trains in the centred, scaled internal space (from PCA's solution), so it
    accepts any finite data; errors are reported in the data's squared units.
    """

    name = "mse"
    #: Whether the network trains on centred, scaled data from a linear start.
    trains_in_internal_space = True
    #: Whether a VAE learns the decoder's variance for this likelihood.
    learns_variance = True

    def link(self, raw):
        """Decoder output to the internal data space."""
        return raw

    def mean(self, raw, target):
        """Mean loss over a batch (the training objective)."""
        return nn.functional.mse_loss(raw, target)

    def per_element(self, raw, target):
        """Loss of each element."""
        return (raw - target) ** 2

    def per_column(self, raw, target):
        """Loss of each original column (here, each element)."""
        return self.per_element(raw, target)

    def masked_mean(self, raw, target):
        """Mean loss over the entries of ``target`` that are not NaN (0 when
        none is)."""
        observed = ~torch.isnan(target)
        error = torch.where(observed, raw - target, 0.0)
        return (error**2).sum() / observed.sum().clamp_min(1)

    def squared_residuals(self, raw, target):
        """Squared residuals of the Gaussian part (here, every element),
        whose mean is a Gaussian decoder's variance at its optimum."""
        return self.per_element(raw, target)

    def log_likelihood(self, raw, target, variance):
        """log p(target | raw) per row, summed over features, for a Gaussian
        with the given (scalar) variance."""
        return -0.5 * (((target - raw) ** 2) / variance + torch.log(variance)
                       + _LOG_2PI).sum(dim=-1)

    def check_domain(self, X):
        """Any finite data is accepted."""

    def to_data_units(self, error, scale):
        """Errors of the internal space in the data's (squared) units."""
        return error * scale**2

    def encoder_input(self, x):
        """What the encoder reads of rows in the internal space: themselves."""
        return x

    def columns(self, n_features):
        """``(start, stop, choices)`` of each original column: its features,
        and the values it can take (a tensor of rows), or None for a number
        (here, each feature is a number)."""
        return [(j, j + 1, None) for j in range(n_features)]

    def column_of(self, n_features):
        """The original column of each of the ``n_features`` encoded columns
        (an int64 array), or None when each is its own: what is hidden or
        held out together (a categorical column's one-hot group)."""
        columns = self.columns(n_features)
        if len(columns) == n_features:
            return None
        return np.repeat(np.arange(len(columns)), [stop - start for start, stop, _ in columns])

    def hidden(self, center):
        """Input values that hide a number from the encoder, in the data's
        units: the centre of the internal space (its training mean)."""
        return center.clone()


class BinaryCrossEntropy:
    """Binary cross-entropy on logits with a sigmoid link: a Bernoulli decoder,
    for data in [0, 1] such as pixel intensities, trained as it is."""

    name = "bce"
    trains_in_internal_space = False
    learns_variance = False

    def link(self, raw):
        return torch.sigmoid(raw)

    def mean(self, raw, target):
        return nn.functional.binary_cross_entropy_with_logits(raw, target)

    def per_element(self, raw, target):
        return nn.functional.binary_cross_entropy_with_logits(raw, target, reduction="none")

    def per_column(self, raw, target):
        return self.per_element(raw, target)

    def masked_mean(self, raw, target):
        """Mean loss over the entries of ``target`` that are not NaN (0 when
        none is)."""
        observed = ~torch.isnan(target)
        error = nn.functional.binary_cross_entropy_with_logits(
            raw, torch.nan_to_num(target), reduction="none")
        return torch.where(observed, error, 0.0).sum() / observed.sum().clamp_min(1)

    def log_likelihood(self, raw, target, variance=None):
        """log p(target | raw) per row, summed over features (Bernoulli)."""
        return -self.per_element(raw, target).sum(dim=-1)

    def check_domain(self, X):
        """X must lie in [0, 1]."""
        low, high = np.min(X), np.max(X)
        if low < 0 or high > 1:
            raise ValueError(
                f"loss='bce' needs X in [0, 1] (got values in [{low:.4g}, {high:.4g}]); "
                "rescale it, e.g. with MinMaxScaler, or use loss='mse'."
            )

    def to_data_units(self, error, scale):
        return error

    encoder_input = SquaredError.encoder_input
    columns = SquaredError.columns
    column_of = SquaredError.column_of

    def hidden(self, center):
        """A probability of 0.5: no information either way."""
        return torch.full_like(center, 0.5)


class Multinomial:
    """Multinomial log-likelihood with a softmax link over a row: a row of
    counts (or 0/1) over items, whose total the decoder shares among them
    (Mult-DAE and Mult-VAE, Liang et al. 2018), for implicit feedback;
    trained on the data as it is. A row's loss is minus its log-likelihood,
    summed over the row; :meth:`mean` averages it over the rows.
    """

    name = "multinomial"
    trains_in_internal_space = False
    learns_variance = False

    def link(self, raw):
        return torch.softmax(raw, dim=-1)

    def per_element(self, raw, target):
        return -torch.log_softmax(raw, dim=-1) * target

    def per_column(self, raw, target):
        return self.per_element(raw, target)

    def mean(self, raw, target):
        return self.per_element(raw, target).sum(dim=-1).mean()

    def masked_mean(self, raw, target):
        """:meth:`mean`, the NaN entries of ``target`` counting nothing."""
        return self.mean(raw, torch.nan_to_num(target))

    def log_likelihood(self, raw, target, variance=None):
        """log p(target | raw) per row, up to the multinomial coefficient."""
        return -self.per_element(raw, target).sum(dim=-1)

    def check_domain(self, X):
        """X must be counts: non-negative."""
        low = np.min(X)
        if low < 0:
            raise ValueError(f"loss='multinomial' needs non-negative counts in X (got a minimum "
                             f"of {low:.4g}); use loss='mse' for real values.")

    def to_data_units(self, error, scale):
        return error

    def encoder_input(self, x):
        """Rows scaled to unit length (Liang et al. 2018): which items, not
        how many; after masking noise, the kept ones weigh more."""
        return nn.functional.normalize(x, dim=-1)

    columns = SquaredError.columns
    column_of = SquaredError.column_of

    def hidden(self, center):
        """A count of zero: nothing seen."""
        return torch.zeros_like(center)


class TableLoss:
    """The loss of a table of columns of several kinds (``skae._kinds``:
    numbers, booleans, categories), one value per original column, each
    its kind's: the squared error of a number (in the internal space, as
    :class:`SquaredError`), the binary cross-entropy of a boolean's logit
    (a Bernoulli decoder), the cross-entropy of a category's logits over
    its one-hot group (a softmax decoder). A row's loss is the mean over
    its columns; missing entries (NaN, a whole group for a categorical
    column) count nothing where the loss is masked (:meth:`masked_mean`,
    the imputer's).

    Parameters
    ----------
    groups : list of (kind, start, stop)
        Each original column's kind (a key of ``skae._kinds.KINDS``) and
        its encoded columns.
    """

    name = "table"
    trains_in_internal_space = True
    learns_variance = True

    def __init__(self, groups):
        self.groups = [(str(kind), int(start), int(stop)) for kind, start, stop in groups]
        # The columns of each kind, in KINDS' order: the scaled (Gaussian) first.
        self.kinds = [(kind, [(start, stop) for name, start, stop in self.groups
                              if name == kind.name])
                      for kind in KINDS.values() if any(g[0] == kind.name for g in self.groups)]
        # Where each original column's value goes in per_column's output.
        self._order = [i for kind, _ in self.kinds
                       for i, group in enumerate(self.groups) if group[0] == kind.name]
        self.numeric = [start for kind, start, _ in self.groups if KINDS[kind].scaled]
        self._numeric_columns = self._order[:len(self.numeric)]

    def spec(self):
        """Plain data that :func:`get_loss` builds this loss from."""
        return [list(group) for group in self.groups]

    def link(self, raw):
        out = raw.clone()
        for kind, spans in self.kinds:
            kind.link(out, raw, spans)
        return out

    def _parts(self, raw, target):
        """Per-row losses of each original column (NaN where the target is
        missing), the columns of each kind together, in ``kinds``' order."""
        return torch.cat([kind.losses(raw, target, spans) for kind, spans in self.kinds],
                         dim=-1)

    def per_column(self, raw, target):
        """The loss of each original column, (n_rows, n_columns)."""
        parts = self._parts(raw, target)
        out = torch.empty_like(parts)
        out[:, self._order] = parts
        return out

    def mean(self, raw, target):
        return self._parts(raw, target).mean()

    def masked_mean(self, raw, target):
        """Mean loss over the entries of ``target`` that are not missing."""
        parts = self._parts(raw, target)
        observed = ~torch.isnan(parts)
        return torch.where(observed, parts, 0.0).sum() / observed.sum().clamp_min(1)

    def squared_residuals(self, raw, target):
        """Squared residuals of the numeric columns (the Gaussian part)."""
        return (raw[:, self.numeric] - target[:, self.numeric]) ** 2

    def log_likelihood(self, raw, target, variance):
        """log p(target | raw) per row (nats): Gaussian numeric columns of
        the given variance, and the other kinds' likelihoods."""
        # The other kinds' parts are their negative log-likelihoods.
        total = -self._parts(raw, target)[:, len(self.numeric):].sum(-1)
        if self.numeric:
            total = total + SquaredError().log_likelihood(
                raw[:, self.numeric], target[:, self.numeric], variance)
        return total

    def check_domain(self, X):
        """Any finite encoded table is accepted (its schema encoded it)."""

    encoder_input = SquaredError.encoder_input


    def to_data_units(self, error, scale):
        """Errors of :meth:`per_column`: numeric columns' in the data's
        squared units (``scale``: the internal space's scale of each encoded
        column), the cross-entropies as they are."""
        factor = torch.ones(error.shape[-1], dtype=error.dtype, device=error.device)
        if self.numeric:
            factor[self._numeric_columns] = torch.as_tensor(scale).to(error)[self.numeric] ** 2
        return error * factor

    def columns(self, n_features):
        """``(start, stop, choices)`` of each original column's encoded
        columns: the values its kind can take (a boolean's two, a
        category's one-hot rows), None for a number."""
        return [(start, stop, KINDS[kind].choices(stop - start))
                for kind, start, stop in self.groups]

    column_of = SquaredError.column_of

    def hidden(self, center):
        """Input that hides a number: its training mean (the internal
        space's centre)."""
        return center.clone()


#: The losses by the names the estimators' ``loss`` parameter takes.
LOSSES = {loss.name: loss for loss in (SquaredError(), BinaryCrossEntropy(), Multinomial())}


def get_loss(spec):
    """The loss object that ``spec`` names: "mse", "bce" or "multinomial", or a table's
    column groups (:meth:`TableLoss.spec`) for a :class:`TableLoss`."""
    if isinstance(spec, str):
        return LOSSES[spec]
    return TableLoss(spec)
