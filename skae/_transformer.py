"""Shared base class of the transformers: what they add to every
estimator's fit, codes (their inference is in ``_inference.py``), ordered
codes (``_ordered.py``) and the neighbourhood structure of ``structure`` and
``transform_neighbors``."""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import _BaseAutoencoder
from ._batches import map_batches
from ._checks import extend_init
from ._inference import _encode, _InferenceMixin, inference_batch_size
from ._linear_start import linear_start
from ._onnx_graphs import TransformerOnnx
from ._ordered import (
    MAX_ORDERED_WIDTH,
    ordered_width,
    prefix_errors,
    prefix_r2,
    prefix_state,
    smallest_prefix,
    validation_rows,
)
from ._structure import LayoutTarget, neighbour_space, umap_layout


class _BaseTransformer(ClassNamePrefixFeaturesOutMixin, _InferenceMixin, TransformerOnnx,
                       _BaseAutoencoder):
    """Base class of the autoencoder transformers: codes (``transform``,
    ``inverse_transform``, ``score_samples``: ``_inference.py``) and the
    neighbourhood structure of ``structure`` and ``transform_neighbors``.

    Warning: This class should not be used directly. Use derived classes instead.
    """

    _parameter_constraints: dict = {
        **_BaseAutoencoder._parameter_constraints,
        "latent_dim": [Interval(Integral, 1, None, closed="left"),
                       Interval(RealNotInt, 0, 1, closed="neither")],
        "ordered": ["boolean"],
        "structure": [None, StrOptions({"umap"})],
        "structure_weight": [Interval(Real, 0, None, closed="left")],
        "n_neighbors": [Interval(Integral, 2, None, closed="left")],
        "transform_neighbors": [None, Interval(Integral, 1, None, closed="left")],
    }

    __init__ = extend_init(_BaseAutoencoder.__init__, structure=None, structure_weight=1.0,
                           n_neighbors=15, transform_neighbors=None, ordered=False)

    def _make_net(self, n_samples, n_features, seed, device, incremental=False,
                  latent_dim=None):
        net = super()._make_net(n_samples, n_features, seed, device, incremental, latent_dim)
        if self._map_fit():
            net.structure_weight = self.structure_weight
        net.ordered = self._ordered()
        return net

    def _map_fit(self):  # structure="umap": the rows are laid out and the decoder reads the map
        return self.structure is not None

    # ------------------------------------------------------------ ordered codes
    def _ordered(self):
        """Whether the code is ordered (``ordered``, or a fraction)."""
        return self.ordered or not isinstance(self.latent_dim, Integral)

    def _code_width(self, X, seed):
        """``latent_dim``, or for a fraction the number of principal
        components that explain it (:func:`skae._ordered.ordered_width`)."""
        if self._ordered() and self._map_fit():
            raise ValueError("ordered codes and structure='umap' do not go together: the "
                             "structure pulls the whole code to a layout. Set ordered=False "
                             "and an int latent_dim, or structure=None.")
        if isinstance(self.latent_dim, Integral):
            return self.latent_dim
        if self.encoder is not None or self.decoder is not None:
            raise ValueError(f"latent_dim={self.latent_dim} (a fraction) cuts skae's own "
                             "networks to a prefix; with your own encoder or decoder, pass an "
                             "int latent_dim and ordered=True.")
        cap = min(MAX_ORDERED_WIDTH, X.shape[1], max(X.shape[0] - 1, 1))
        schema = self._trained_schema()
        start = linear_start(X, cap, internal=True, axes=True, seed=seed,
                             numeric=None if schema is None else schema.numeric_mask())
        return ordered_width(start.sd, start.internal_variance * X.shape[1],
                             self.latent_dim, cap)

    def _measure_ordered(self, X):
        """``explained_variance_ratio_`` of an ordered code on the held-out
        rows of X; a fraction ``latent_dim`` cuts the code to its smallest
        prefix whose R² reaches it."""
        r2 = self._prefix_r2(validation_rows(self.net_.train_split, X))
        if not isinstance(self.latent_dim, Integral):
            k = smallest_prefix(r2, self.latent_dim)
            if k is None:
                k = len(r2)
                warnings.warn(
                    f"No prefix of the ordered code reached latent_dim={self.latent_dim} of "
                    f"the held-out variance; all {k} dimensions are kept (R² "
                    f"{r2[-1]:.3f}). Train longer, or a larger network.",
                    UserWarning, stacklevel=6)
            if k < len(r2):
                self.net_, self._net_config = self._prefix_net(k)
            r2 = r2[:k]
        self.explained_variance_ratio_ = np.diff(r2, prepend=0.0)

    def _prefix_r2(self, rows):
        """The R² on dense ``rows`` of each prefix of the fitted code (in
        the space the network trains in: the data's units, for numbers)."""
        errors = map_batches(self.net_, prefix_errors, rows, np.float32,
                             inference_batch_size(rows.shape[1]))
        module = self.net_.module_
        return prefix_r2(errors, rows, module.center.cpu().numpy(), module.scale.cpu().numpy())

    def _prefix_net(self, k):
        """A new fitted net: ``net_`` cut to the first ``k`` code dimensions,
        and its configuration."""
        old, config = self.net_, {**self._net_config, "latent_dim": k}
        net = self._make_net(config["n_samples"], config["n_features"], config["seed"],
                             config["device"], config["incremental"], k)
        net.initialize()
        net.module_.load_state_dict(prefix_state(
            old.module_.state_dict(), net.module_.state_dict(), old.module__latent_dim, k))
        net.restore_history(list(old.history))
        return net, config

    def partial_fit(self, X, y=None):
        if not isinstance(self.latent_dim, Integral):
            raise ValueError(f"latent_dim={self.latent_dim!r} (a fraction) chooses the width "
                             "from a whole fit; partial_fit needs an int latent_dim (with "
                             "ordered=True for an ordered code).")
        return super().partial_fit(X, y)

    partial_fit.__doc__ = _BaseAutoencoder.partial_fit.__doc__

    def truncate(self, n_components):
        """The fitted model of the first ``n_components`` code dimensions.

        Of an ordered code (``ordered=True`` or a fraction ``latent_dim``),
        a prefix is a model of its own: this returns a new fitted estimator
        of ``latent_dim=n_components`` (the original is unchanged) whose
        :meth:`transform` gives the first ``n_components`` columns of this
        one's codes and whose decoder reads them, without refitting. One
        ordered fit thus serves every width; choose one from
        ``explained_variance_ratio_``.

        Parameters
        ----------
        n_components : int
            Width of the prefix, from 1 to ``n_components_``.

        Returns
        -------
        estimator : object
            A fitted estimator of the same class, ``n_components`` wide.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from skae import AutoencoderTransformer
        >>> X = load_digits().data
        >>> ae = AutoencoderTransformer(8, ordered=True, max_epochs=5, random_state=0).fit(X)
        >>> ae.explained_variance_ratio_.shape
        (8,)
        >>> ae.truncate(3).transform(X).shape
        (1797, 3)
        """
        check_is_fitted(self)
        if not self._ordered():
            raise ValueError(f"truncate needs an ordered code: fit with ordered=True (a "
                             f"prefix of this {type(self).__name__}'s code was not trained "
                             "to reconstruct).")
        width = self.n_components_
        if not isinstance(n_components, Integral) or not 1 <= n_components <= width:
            raise ValueError(f"n_components must be an int from 1 to n_components_={width}; "
                             f"got {n_components!r}.")
        if self.net_.module_.user_parts:
            raise ValueError("truncate cuts skae's own networks; this model has your own "
                             f"{' and '.join(sorted(self.net_.module_.user_parts))}.")
        # The fitted state is shared, not copied (a refit replaces it): the
        # net and what depends on the width are the prefix's own.
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.latent_dim, new.ordered = int(n_components), True
        new.net_, new._net_config = self._prefix_net(n_components)
        new.n_components_ = n_components
        new.explained_variance_ratio_ = self.explained_variance_ratio_[:n_components].copy()
        if getattr(new, "_neighbour_codes", None) is not None:
            new._neighbour_codes = np.ascontiguousarray(new._neighbour_codes[:, :n_components])
        return new

    def _before_training(self, net, X, done):
        """``structure="umap"``: UMAP's layout of X, started from the current
        codes, and the loss on the codes against it."""
        if not self._map_fit() or X.shape[0] <= 1:
            return {}
        codes = torch.from_numpy(np.asarray(
            map_batches(net, _encode, X, np.float32, inference_batch_size(X.shape[1]))))
        # One neighbour search space for the graph and transform_neighbors.
        space = neighbour_space(X)
        layout, neighbours = umap_layout(
            X if space is None else space.transform(X), codes, self.n_neighbors,
            seed=net.seed + 5 + done, continued=done > 0)
        device = net.device
        structure = LayoutTarget(layout.to(device), tuple(t.to(device) for t in neighbours),
                                 seed=net.seed + 6 + done)
        return {"structure": structure, "layout": layout, "space": space}

    def _after_training(self, X, added):
        self.__dict__.pop("explained_variance_ratio_", None)
        if self._ordered():
            self._measure_ordered(X)
        self.n_components_ = self.net_.module__latent_dim
        if "layout" in added:
            self.embedding_ = added["layout"].cpu().numpy()
        else:
            self.__dict__.pop("embedding_", None)
        self._set_neighbours(X, added.get("space"))

    # ----------------------------------------------------- saving (skae.save)
    def _fitted_state(self):
        state = {"n_components_": int(self.n_components_)}
        if hasattr(self, "explained_variance_ratio_"):
            state["explained_variance_ratio_"] = self.explained_variance_ratio_.tolist()
        return state

    def _restore_fitted_state(self, state):
        self.n_components_ = state.get("n_components_", self.latent_dim)  # older files: an int
        if "explained_variance_ratio_" in state:
            self.explained_variance_ratio_ = np.asarray(state["explained_variance_ratio_"])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
