"""skae: scikit-learn compatible autoencoders on PyTorch and skorch."""

from ._autoencoder import AutoencoderTransformer
from ._imputer import AutoencoderImputer
from ._onnx import to_onnx
from ._outlier import AutoencoderOutlierDetector
from ._persistence import load, save
from ._recommender import AutoencoderRecommender
from ._runtime import resolve_device
from ._torch_module import to_torch
from ._vae import VAETransformer
from ._version import __version__ as __version__  # pyproject.toml's, via the metadata

__all__ = [
    "AutoencoderImputer",
    "AutoencoderOutlierDetector",
    "AutoencoderRecommender",
    "AutoencoderTransformer",
    "VAETransformer",
    "load",
    "resolve_device",
    "save",
    "to_onnx",
    "to_torch",
]

