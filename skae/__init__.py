"""skae: scikit-learn compatible autoencoders on PyTorch and skorch."""

from ._autoencoder import AutoencoderTransformer
from ._base import resolve_device
from ._outlier import AutoencoderOutlierDetector
from ._vae import VAETransformer

__all__ = [
    "AutoencoderOutlierDetector",
    "AutoencoderTransformer",
    "VAETransformer",
    "resolve_device",
]
__version__ = "0.1.0"

