"""A fitted estimator's computation as a standalone torch module:
:func:`to_torch`, and the module that ``to_onnx`` exports."""

import copy

import torch
from sklearn.utils.validation import check_is_fitted

__all__ = ["FittedCall", "fitted_module", "to_torch"]

_METHODS = ("transform", "inverse_transform", "score_samples")


class FittedCall(torch.nn.Module):
    """``fn(module, x)`` of a fitted network ``module``, as one module."""

    def __init__(self, module, fn):
        super().__init__()
        self.module, self.fn = module, fn

    def forward(self, x):
        return self.fn(self.module, x)


def fitted_module(net, fn):
    """``fn`` of a copy of the fitted net's module: float32, on the CPU, in
    evaluation mode (the estimator's own network is left as it is)."""
    return FittedCall(copy.deepcopy(net.module_).float().cpu(), fn).eval()


def to_torch(model, *, method="transform"):
    """A fitted skae transformer's ``method`` as a standalone torch module.

    The module maps a float32 tensor of rows to what ``method`` returns
    (codes, reconstructions, or a column of scores), the internal centring
    and scaling included, so that it can sit inside a larger torch model:
    an encoder under a classifier head, fine-tuned or frozen. It is a copy
    of the fitted network (float32, on the CPU, in evaluation mode): training
    it leaves ``model`` unchanged.

    Parameters
    ----------
    model : AutoencoderTransformer or VAETransformer
        A fitted transformer on numeric rows.
    method : {"transform", "inverse_transform", "score_samples"}, \
default="transform"
        What the module computes. ``"transform"`` is the encoder: the codes
        (a VAE's posterior means).

    Returns
    -------
    module : torch.nn.Module
        ``module(x)`` for a float32 tensor ``x`` of shape
        ``(n, n_features_in_)`` (``(n, n_components_)`` for
        ``"inverse_transform"``).

    Raises
    ------
    ValueError
        For a model fitted on a table with boolean or categorical columns
        (its rows are encoded before the network; :func:`skae.to_onnx`
        exports that encoding), or ``"transform"`` with
        ``transform_neighbors`` (its codes come from a search of the
        training rows, not from the network).

    Examples
    --------
    >>> import torch
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer, to_torch
    >>> X = load_digits().data
    >>> ae = AutoencoderTransformer(latent_dim=2, max_epochs=5, random_state=0).fit(X)
    >>> encoder = to_torch(ae)
    >>> codes = encoder(torch.tensor(X[:3], dtype=torch.float32))
    >>> bool(torch.allclose(codes, torch.tensor(ae.transform(X[:3]), dtype=torch.float32),
    ...                     atol=1e-4))
    True
    """
    from ._transformer import _BaseTransformer

    if not isinstance(model, _BaseTransformer):
        raise TypeError(f"to_torch takes a skae transformer (AutoencoderTransformer or "
                        f"VAETransformer), not {type(model).__name__}; for a detector, pass "
                        "its fitted estimator_.")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(_METHODS)}, not {method!r}.")
    check_is_fitted(model)
    if getattr(model, "_schema", None) is not None:
        raise ValueError("to_torch takes models fitted on numeric rows: this one was fitted "
                         "on a table, whose columns are encoded before the network; "
                         "skae.to_onnx exports that encoding.")
    if method == "transform" and model.transform_neighbors:
        raise ValueError(f"with transform_neighbors={model.transform_neighbors} transform "
                         "searches the training rows; to_torch gives the network's own codes "
                         "only with transform_neighbors=None.")
    fn, _ = model._network_call(method)
    return fitted_module(model.net_, fn)
