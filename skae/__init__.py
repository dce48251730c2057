"""skae: scikit-learn compatible autoencoders on PyTorch and skorch."""

from ._autoencoder import AutoencoderTransformer
from ._imputer import AutoencoderImputer
from ._onnx import to_onnx
from ._outlier import AutoencoderOutlierDetector
from ._recommender import AutoencoderRecommender
from ._runtime import resolve_device
from ._vae import VAETransformer

__version__ = "0.1.0"

from ._persistence import load, save  # noqa: E402 (reads __version__)

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
]

