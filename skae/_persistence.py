"""Saving and loading fitted estimators without pickle.

A pickle can run any code when it is loaded. :func:`save` writes one file of
plain data (JSON text) and tensors only, in PyTorch's zip format;
:func:`load` reads it with ``torch.load(weights_only=True)``, which refuses
any other object, and rebuilds the estimator from skae's own code.
"""

import json
import pickle
import re
import zipfile

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ._autoencoder import AutoencoderTransformer
from ._imputer import AutoencoderImputer
from ._outlier import AutoencoderOutlierDetector
from ._recommender import AutoencoderRecommender
from ._structure import Projection
from ._table import Schema
from ._vae import VAETransformer
from ._version import __version__

__all__ = ["load", "save"]

_FORMAT = "skae"
_FORMAT_VERSION = 4
#: Older formats this skae still reads (format 3 had no imputer and no
#: leaf state; its files read as format 4's).
_READABLE_VERSIONS = (3, 4)
_ESTIMATORS = {cls.__name__: cls for cls in (
    AutoencoderTransformer, VAETransformer, AutoencoderOutlierDetector, AutoencoderImputer,
    AutoencoderRecommender)}
# Fitted attributes beyond the net and the curves, by estimator.
_SCALARS = ("n_features_in_", "n_iter_", "device_", "offset_")
_NETWORKS = ("encoder", "decoder")


def _plain(value):
    """``value`` as JSON-compatible plain data (tuples become lists)."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, np.integer | np.floating | np.bool_):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"{value!r} is not plain data")


def save(estimator, path):
    """Save a fitted skae estimator to ``path`` without pickle.

    The file holds the parameters, the fitted attributes and the history as
    JSON text and the network's weights as tensors, in PyTorch's zip
    format. :func:`load` never runs code from it. The optimizer's state is
    not saved: a loaded model predicts exactly as the saved one, and a new
    ``fit`` trains from scratch. Your own ``encoder``/``decoder`` networks
    are recorded by name only; pass the same ones to :func:`load`.

    Parameters
    ----------
    estimator : AutoencoderTransformer, VAETransformer, AutoencoderOutlierDetector, \
AutoencoderImputer or AutoencoderRecommender
        A fitted estimator (a detector around one of the transformers).
    path : str or path-like
        File to write (conventionally ``*.skae``).

    Examples
    --------
    >>> import tempfile, os
    >>> from sklearn.datasets import load_digits
    >>> import skae
    >>> X = load_digits().data
    >>> ae = skae.AutoencoderTransformer(max_epochs=3, random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.skae")
    >>> skae.save(ae, path)
    >>> bool((skae.load(path).transform(X) == ae.transform(X)).all())
    True
    """
    document = {"format": _FORMAT, "format_version": _FORMAT_VERSION,
                "skae_version": __version__, **_document(estimator)}
    torch.save(document, path)


def _callable_name(factory):
    return f"{getattr(factory, '__module__', '?')}:{getattr(factory, '__qualname__', factory)}"


def _document(estimator):
    """Plain data and tensors describing a fitted ``estimator``."""
    name = type(estimator).__name__
    if _ESTIMATORS.get(name) is not type(estimator):
        raise TypeError(f"skae.save saves skae's estimators ({', '.join(_ESTIMATORS)}); "
                        f"got {name}. Use joblib or pickle for other objects.")
    check_is_fitted(estimator)
    fitted = {key: getattr(estimator, key) for key in _SCALARS if hasattr(estimator, key)}
    if hasattr(estimator, "feature_names_in_"):
        fitted["feature_names_in_"] = estimator.feature_names_in_.tolist()
    if isinstance(estimator, AutoencoderOutlierDetector):
        params = {"contamination": estimator.contamination}
        return {"estimator": name, "params": json.dumps(params),
                "fitted": json.dumps(_plain_dict(fitted)),
                "default_estimator": estimator.estimator is None,
                "inner": _document(estimator.estimator_)}
    params = estimator.get_params(deep=False)
    if not (params["random_state"] is None or isinstance(params["random_state"], int)):
        params["random_state"] = None  # a RandomState instance is not plain data
    networks = {key: _callable_name(params.pop(key)) for key in _NETWORKS
                if params[key] is not None}
    curves = {key: torch.as_tensor(getattr(estimator, key))
              for key in ("loss_curve_", "validation_loss_curve_")
              if getattr(estimator, key) is not None}
    net = estimator.net_
    state = {key: tensor.detach().cpu() for key, tensor in net.module_.state_dict().items()}
    return {
        "estimator": name,
        "params": json.dumps(_plain_dict(params)),
        "networks": json.dumps(networks),
        "fitted": json.dumps(_plain_dict(fitted)),
        "net_config": json.dumps(_plain_dict(estimator._net_config)),
        # A table's columns: names, kinds, categories and dtypes.
        "schema": json.dumps(None if estimator._schema is None
                             else estimator._schema.to_plain()),
        "history": json.dumps(list(net.history)),
        # A leaf's own fitted state (the imputer's kept columns, indicator).
        "state": json.dumps(_plain_dict(estimator._fitted_state())),
        "curves": curves,
        # transform_neighbors: the training rows' search points and codes
        # (not the rows: 50 values a row for wide dense rows).
        "neighbours": _neighbours(estimator),
        # structure="umap": the training rows' layout.
        "embedding": ({"embedding_": torch.as_tensor(estimator.embedding_)}
                      if hasattr(estimator, "embedding_") else {}),
        "weights": state,
    }


def _neighbours(estimator):
    """Tensors of what a ``transform_neighbors`` model keeps of its training
    rows (:meth:`~skae._inference._InferenceMixin._keep_neighbours`): the
    search points (a sparse matrix's parts as they are), their codes, and
    the projection of wide rows; ``{}`` for other models."""
    points = getattr(estimator, "_neighbour_points", None)
    if points is None:
        return {}
    if sp.issparse(points):
        points = points.tocsr()
        kept = {"indptr": points.indptr, "indices": points.indices, "data": points.data,
                "shape": np.asarray(points.shape)}
    else:
        kept = {"points": points}
    kept["codes"] = estimator._neighbour_codes
    space = estimator._neighbour_space
    if space is not None:
        kept.update(mean=space.mean, components=space.components)
    return {key: torch.as_tensor(np.asarray(value)) for key, value in kept.items()}


def _restore_neighbours(estimator, kept):
    """The inverse of :func:`_neighbours`."""
    if not kept:
        return
    kept = {key: value.numpy() for key, value in kept.items()}
    points = kept.get("points")
    if points is None:
        points = sp.csr_matrix((kept["data"], kept["indices"], kept["indptr"]),
                               shape=tuple(kept["shape"]))
    space = Projection(kept["mean"], kept["components"]) if "mean" in kept else None
    estimator._keep_neighbours(points, kept["codes"], space)


def _plain_dict(mapping):
    return {key: _plain(value) for key, value in mapping.items()}


def _refuse(path, why):
    return ValueError(f"{path} is not a skae model file that can be loaded safely: {why}")


def _read(path):
    """The document in ``path``, read without running code from it."""
    if not zipfile.is_zipfile(path):
        raise _refuse(path, "it is not in PyTorch's zip format (a pickle file? load pickles "
                            "only from sources you trust, with pickle.load)")
    try:
        document = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, KeyError, EOFError) as exc:
        raise _refuse(path, f"it holds objects other than tensors and plain data ({exc})") \
            from None
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        raise _refuse(path, "it has no skae header")
    if document.get("format_version") not in _READABLE_VERSIONS:
        raise _refuse(path, f"file format {document.get('format_version')!r}, this skae reads "
                            f"formats {', '.join(map(str, _READABLE_VERSIONS))}")
    saved = str(document.get("skae_version"))
    if _release(saved) > _release(__version__):
        raise ValueError(f"{path} was saved by skae {saved}; this is skae {__version__}, which "
                         f"cannot know what a later release wrote. Load it with skae {saved} or "
                         "later (pip install --upgrade skae), or refit the model.")
    return document


def _release(version):
    """``version``'s leading numbers, e.g. (0, 2, 0) for "0.2.0.dev1"."""
    return tuple(int(n) for n in re.findall(r"(?:^|\.)(\d+)(?=\.|$)", version.split("+")[0]))


def load(path, *, encoder=None, decoder=None):
    """Load an estimator saved by :func:`save`, running no code from the file.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    encoder, decoder : callable, default=None
        The ``encoder``/``decoder`` the model was fitted with, when they were
        your own networks: the file records only their names, and skae never
        imports code that a file names.

    Returns
    -------
    estimator : AutoencoderTransformer, VAETransformer, AutoencoderOutlierDetector, \
AutoencoderImputer or AutoencoderRecommender
        The fitted estimator, on the CPU when it was saved on a CUDA device
        that this machine lacks.

    Raises
    ------
    ValueError
        If the file is not a skae model file, holds anything besides tensors
        and plain data, was altered, was written by a later skae release, or
        needs an ``encoder``/``decoder`` that was not given.
    """
    document = _read(path)
    return _rebuild(document, path, {"encoder": encoder, "decoder": decoder})


def _rebuild(document, path, networks):
    """The fitted estimator that ``document`` describes."""
    try:
        cls = _ESTIMATORS[document["estimator"]]
        params = json.loads(document["params"])  # sequences come back as tuples
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        fitted = json.loads(document["fitted"])
        if cls is AutoencoderOutlierDetector:
            inner = _rebuild(document["inner"], path, networks)
            estimator = cls(None if document["default_estimator"] else clone(inner), **params)
            estimator.estimator_ = inner
        else:
            needed = json.loads(document["networks"])
            missing = [key for key in needed if networks[key] is None]
            if missing:
                raise _Missing(", ".join(f"{key}={needed[key]}" for key in missing))
            params.update({key: networks[key] for key in needed})
            estimator = cls(**params)
            schema = json.loads(document["schema"])
            estimator._schema = None if schema is None else Schema.from_plain(schema)
            estimator._restore_fitted_state(json.loads(document.get("state", "{}")))
            _restore_net(estimator, document, fitted)
        estimator._validate_params()
    except _Missing as exc:
        raise ValueError(f"{path} holds a model fitted with your own network(s) {exc}: pass "
                         "them to skae.load (e.g. skae.load(path, encoder=MyEncoder)); skae "
                         "never imports code that a file names.") from None
    except (KeyError, TypeError, ValueError, RuntimeError, json.JSONDecodeError) as exc:
        raise _refuse(path, f"its content does not describe a skae model ({exc})") from None
    if "feature_names_in_" in fitted:
        fitted["feature_names_in_"] = np.asarray(fitted["feature_names_in_"], dtype=object)
    for key, value in fitted.items():
        setattr(estimator, key, value)
    if hasattr(estimator, "net_"):
        estimator.device_ = str(estimator.net_.device)
    return estimator


class _Missing(Exception):
    """A user network that the file needs and the caller did not give."""


def _restore_net(estimator, document, fitted):
    """Rebuild ``estimator.net_`` and its curves from ``document``."""
    config = json.loads(document["net_config"])
    if config["device"] != "cpu" and not torch.cuda.is_available():
        config["device"] = "cpu"
    net = estimator._make_net(config["n_samples"], config["n_features"], config["seed"],
                              config["device"], incremental=config["incremental"],
                              latent_dim=config.get("latent_dim"))
    net.initialize()
    net.module_.load_state_dict(document["weights"], strict=True)
    net.restore_history(json.loads(document["history"]))
    curves = document["curves"]
    estimator.loss_curve_ = curves["loss_curve_"].numpy()
    estimator.validation_loss_curve_ = (curves["validation_loss_curve_"].numpy()
                                        if "validation_loss_curve_" in curves else None)
    estimator._net_config = config
    estimator.net_ = net
    if "embedding_" in document.get("embedding", {}):
        estimator.embedding_ = document["embedding"]["embedding_"].numpy()
    if hasattr(estimator, "_set_neighbours"):  # the transformers
        estimator._set_neighbours(None)
        _restore_neighbours(estimator, document.get("neighbours", {}))
