"""The encoder and decoder bodies of skae's modules: the built-in MLP and
convolutional networks, and networks that users bring (torch only).

A body maps rows to rows: an encoder body ``(batch, n_features)`` to
``(batch, width)``, where the module's code head takes over, and a decoder
``(batch, latent_dim)`` to ``(batch, n_features)``, before the loss's link.
"""

import math

import torch
from torch import nn
from torch.nn.utils import skip_init

from ._runtime import seeded_global_rng

__all__ = ["ACTIVATIONS", "builtin_networks", "read_codes", "user_network"]

#: Names accepted by the ``activation`` parameter, mapped to torch modules.
ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "selu": nn.SELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}

#: Layers whose weights skae initializes (and counts, for CPU threads).
WEIGHTED_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d)


def layer(cls, *args, **kwargs):
    """A float32 layer whose parameters are left for :func:`init_layer`
    (constructing it draws nothing from torch's global generator)."""
    return skip_init(cls, *args, dtype=torch.float32, **kwargs)


def init_layer(layer, generator):
    """torch's default initialization of a linear or convolutional layer
    (Kaiming-uniform weights, uniform biases), drawn from ``generator``."""
    nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
    if layer.bias is not None:
        fan_in = layer.weight.shape[1] * math.prod(layer.weight.shape[2:])
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def last_layer(network):
    """The last layer of ``network`` that has weights."""
    return [m for m in network.modules() if hasattr(m, "weight")][-1]


def _mlp(sizes, activation):
    """Linear layers through ``sizes`` with ``activation`` after each one."""
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [layer(nn.Linear, n_in, n_out), ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


class _Crop(nn.Module):
    """Crop feature maps to ``(height, width)``."""

    def __init__(self, height, width):
        super().__init__()
        self.height, self.width = height, width

    def forward(self, x):
        return x[..., : self.height, : self.width]


def _image_shape(image_shape):
    """``(channels, height, width)`` from ``(height, width)`` or itself."""
    shape = tuple(int(d) for d in image_shape)
    return (1, *shape) if len(shape) == 2 else shape


def _conv_encoder(image_shape, channels, activation, planes=1):
    """Stride-2 3x3 convolutions over flat rows of ``planes`` images side by
    side (the values, then the mask of observed ones), each of
    ``image_shape``; returns the body and its output shape ``(channels,
    height, width)``."""
    c, h, w = _image_shape(image_shape)
    c *= planes
    layers = [nn.Unflatten(1, (c, h, w))]
    for out in channels:
        layers += [layer(nn.Conv2d, c, out, 3, stride=2, padding=1),
                   ACTIVATIONS[activation]()]
        c, h, w = out, (h + 1) // 2, (w + 1) // 2
    return nn.Sequential(*layers, nn.Flatten()), (c, h, w)


def _conv_decoder(latent_dim, image_shape, channels, code_shape, activation):
    """Mirror of :func:`_conv_encoder`: linear, then stride-2 transposed
    convolutions, cropped to the image and flattened to rows."""
    c_img, h, w = _image_shape(image_shape)
    layers = [layer(nn.Linear, latent_dim, math.prod(code_shape)), ACTIVATIONS[activation](),
              nn.Unflatten(1, code_shape)]
    widths = [*channels[::-1], c_img]
    for i, (c_in, c_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(layer(nn.ConvTranspose2d, c_in, c_out, 3, stride=2, padding=1,
                            output_padding=1))
        if i < len(widths) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers, _Crop(h, w), nn.Flatten())


def builtin_networks(n_features, latent_dim, hidden_layer_sizes=(), activation="relu",
                     architecture="mlp", image_shape=None, channels=(32, 64), n_inputs=None):
    """``(encoder_body, width, decoder)`` of the built-in networks: an MLP
    and its mirror, or stride-2 convolutions over flattened images and
    their transposed mirror. The encoder reads ``n_inputs`` values per row
    (default ``n_features``; a multiple of it when each row comes with its
    mask of observed values). Their parameters are left uninitialized."""
    n_inputs = n_features if n_inputs is None else n_inputs
    if architecture == "conv":
        encoder, code_shape = _conv_encoder(image_shape, channels, activation,
                                            n_inputs // n_features)
        decoder = _conv_decoder(latent_dim, image_shape, channels, code_shape, activation)
        return encoder, math.prod(code_shape), decoder
    hidden = list(hidden_layer_sizes)
    encoder = _mlp([n_inputs, *hidden], activation)
    decoder = nn.Sequential(_mlp([latent_dim, *hidden[::-1]], activation),
                            layer(nn.Linear, ([latent_dim, *hidden[::-1]])[-1], n_features))
    return encoder, (hidden[-1] if hidden else n_inputs), decoder


def user_network(factory, name, n_features, latent_dim, n_inputs, seed):
    """``(network, output width)`` of a user's ``factory(n_features,
    latent_dim)``, built and checked on two rows of ``n_inputs`` values with
    torch's global generator seeded by ``seed`` (and restored after, see
    :func:`skae._runtime.seeded_global_rng`).

    Raises
    ------
    TypeError
        If the factory does not return a :class:`torch.nn.Module`.
    ValueError
        If the network does not map 2-D float32 rows to 2-D rows.
    """
    with seeded_global_rng(seed):
        network = factory(n_features, latent_dim)
        if not isinstance(network, nn.Module):
            raise TypeError(f"{name}={factory!r} returned {type(network).__name__}; it must "
                            f"return a torch.nn.Module ({name}(n_features_in, latent_dim)).")
        mode = network.training
        try:
            # Lazy layers take their shapes (and initial weights) here.
            with torch.no_grad():
                out = network.float().eval()(torch.zeros(2, n_inputs))
        except Exception as exc:  # the user's code: any failure, reported with its cause
            raise ValueError(f"{name} {type(network).__name__} failed on a batch of shape "
                             f"(2, {n_inputs}): {exc}") from exc
        finally:
            network.train(mode)
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or len(out) != 2:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"{name} {type(network).__name__} must map a batch of shape "
                         f"(n, {n_inputs}) to a 2-D tensor (n, width); it returned {shape}.")
    return network, out.shape[1]


def read_codes(z, code, codes):
    """What the decoder reads in place of ``z``, drawn around ``code`` (the
    encoder's deterministic code): ``z`` moved by ``codes - code``. Its value
    is ``codes`` (plus ``z``'s draw around ``code``); its gradient reaches
    the encoder as ``z``'s would (straight through, as VQ-VAE's quantised
    codes)."""
    return z + (codes - code).detach()
