"""Shared base class of the transformers: what they add to every
estimator's fit, codes (their inference is in ``_inference.py``) and the
neighbourhood structure of ``structure`` and ``transform_neighbors``."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import _BaseAutoencoder
from ._batches import map_batches
from ._checks import extend_init
from ._inference import _encode, _InferenceMixin, inference_batch_size
from ._onnx_graphs import TransformerOnnx
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
        "structure": [None, StrOptions({"umap"})],
        "structure_weight": [Interval(Real, 0, None, closed="left")],
        "n_neighbors": [Interval(Integral, 2, None, closed="left")],
        "transform_neighbors": [None, Interval(Integral, 1, None, closed="left")],
    }

    __init__ = extend_init(_BaseAutoencoder.__init__, structure=None, structure_weight=1.0,
                           n_neighbors=15, transform_neighbors=None)

    def _make_net(self, n_samples, n_features, seed, device, incremental=False):
        net = super()._make_net(n_samples, n_features, seed, device, incremental)
        if self.structure is not None:
            net.structure_weight = self.structure_weight
        return net

    def _before_training(self, net, X, done):
        """``structure="umap"``: UMAP's layout of X, started from the current
        codes, and the loss on the codes against it."""
        if self.structure != "umap" or X.shape[0] <= 1:
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
        if "layout" in added:
            self.embedding_ = added["layout"].cpu().numpy()
        else:
            self.__dict__.pop("embedding_", None)
        self._set_neighbours(X, added.get("space"))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
