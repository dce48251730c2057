"""Torch building blocks for skae's networks (this layer imports torch only)."""

import torch
from torch import nn

from ._loss import get_loss
from ._networks import (
    ACTIVATIONS,
    WEIGHTED_LAYERS,
    builtin_networks,
    init_layer,
    last_layer,
    layer,
    read_codes,
    user_network,
)
from ._ordered import keep_prefix

__all__ = ["AutoencoderModule"]


class AutoencoderModule(nn.Module):
    """Autoencoder: an encoder body and code head, and a decoder.

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    latent_dim : int
        Width of the code.
    hidden_layer_sizes : tuple of int
        Widths of the encoder's hidden layers; the decoder uses them reversed.
    activation : str
        A key of :data:`ACTIVATIONS`, used after every hidden layer.
    loss : {"mse", "bce"}
        The reconstruction loss (:mod:`skae._loss`), whose link maps the
        decoder's last layer to the data space. :meth:`forward` returns the
        values *before* the link (logits for ``"bce"``), which the numerically
        stable losses expect.
    architecture : {"mlp", "conv"}
        Fully connected layers (``hidden_layer_sizes``), or convolutions over
        rows that are flattened images of ``image_shape`` (``channels``).
    image_shape : tuple of int, optional
        ``(height, width)`` or ``(channels, height, width)`` of one row.
    channels : tuple of int
        Output channels of the convolutional encoder's stride-2 layers.
    linear_path : bool
        Add a linear encoder and decoder beside the nonlinear ones, and start
        the nonlinear ones' last layers at zero: the network is then the
        linear model that :meth:`set_linear_start` gives (e.g. PCA) plus
        nonlinear corrections that training grows from zero. The linear
        path runs through the code (the code is the linear code plus a
        correction, decoded by both decoders), or, with ``observed_input``,
        beside it (``linear_beside``: a linear map of the values and the
        mask added to the nonlinear network's output: apart, the two paths
        imputed digits better, 0.173 against 0.179 RMSE).
    seed : int
        Seed of the initial weights, drawn from a generator of the module's
        own: torch's global random state is neither used nor changed.
    encoder, decoder : callable, optional
        Users' networks, ``factory(n_features, latent_dim) -> nn.Module``,
        in place of the built-in ones (:func:`skae._networks.user_network`).
        An autoencoder's encoder outputs the code, a VAE's any width (the
        module adds the mean and log-variance heads); the decoder maps codes
        to ``n_features`` values. No linear path with them (``user_parts``).
    code_activation, zero_start : bool
        Apply ``activation`` to the code too (a recommender's code is read by
        no one); start the decoder's last layer at zero, as a linear path does.
    observed_input : bool
        Rows may have holes (NaN): the encoder reads each row's values in
        the internal space, zero at the holes, followed by the mask of which
        are observed (``2 * n_features`` inputs; a user's encoder is built
        for that width), so that a hole and a value at the centre differ.
        :meth:`fill` replaces the holes by the reconstruction.

    The network works in an internal space, ``(x - center) / scale`` with
    ``center`` and ``scale`` set by :meth:`set_linear_start` (the identity
    until then): :meth:`encode` takes data in its own units, :meth:`decode`
    returns them, and :meth:`forward` returns the reconstruction in the
    internal space, where the losses compare it with :meth:`normalize` of the
    input.
    """

    def __init__(self, n_features, latent_dim, hidden_layer_sizes=(), activation="relu",
                 loss="mse", architecture="mlp", image_shape=None, channels=(32, 64),
                 linear_path=False, seed=0, encoder=None, decoder=None, observed_input=False,
                 code_activation=False, zero_start=False):
        super().__init__()
        self.reconstruction = get_loss(loss)
        self.observed_input = bool(observed_input)
        n_inputs = 2 * n_features if self.observed_input else n_features
        seed = int(seed)
        if encoder is None or decoder is None:
            self.encoder_body, width, self.decoder = builtin_networks(
                n_features, latent_dim, hidden_layer_sizes, activation, architecture,
                image_shape, channels, n_inputs)
        # Users' networks replace the built-in ones; skae never re-initializes them.
        self.user_parts = frozenset(
            name for name, factory in (("encoder_body", encoder), ("decoder", decoder))
            if factory is not None)
        if encoder is not None:
            self.encoder_body, width = user_network(encoder, "encoder", n_inputs,
                                                    latent_dim, n_inputs, seed)
        if decoder is not None:
            self.decoder, out = user_network(decoder, "decoder", n_features, latent_dim,
                                             latent_dim, seed + 1)
            if out != n_features:
                raise ValueError(f"decoder {type(self.decoder).__name__} must output "
                                 f"n_features_in={n_features} values per row; it outputs {out}.")
        self._init_code_head(width, latent_dim)
        # With no hidden layers, AutoRec's and Mult-DAE's one-layer network.
        self.code_activation = (ACTIVATIONS[activation]() if code_activation
                                else nn.Identity())
        # The internal space: x_internal = (x - center) / scale. Set by
        # set_linear_start; the identity until then.
        self.register_buffer("center", torch.zeros(n_features, dtype=torch.float32))
        self.register_buffer("scale", torch.ones(n_features, dtype=torch.float32))
        # Codes are reported as internal codes times code_scale.
        self.register_buffer("code_scale", torch.ones((), dtype=torch.float32))
        self.linear_path = bool(linear_path) and not self.user_parts
        self.linear_beside = self.linear_path and self.observed_input
        if self.linear_path:
            # Through the code: code = linear_encoder(inputs) + code(encoder_body(inputs)),
            # reconstruction = linear_decoder(code) + decoder(code). Beside it (no wider
            # than its inputs): linear_decoder(linear_encoder(inputs)) + decoder(code).
            width = min(latent_dim, n_inputs) if self.linear_beside else latent_dim
            self.linear_encoder = layer(nn.Linear, n_inputs, width, bias=False)
            self.linear_decoder = layer(nn.Linear, width, n_features, bias=False)
        self.zero_start = (self.linear_path or zero_start) and "decoder" not in self.user_parts
        self.reset_parameters(torch.Generator().manual_seed(seed))

    @torch.no_grad()
    def reset_parameters(self, generator):
        """Initialize skae's own layers from ``generator`` (torch's default
        scheme), then zero the linear path and the corrections' last layers
        (the code head's too where the linear path runs through the code).
        Users' networks keep the initialization they were built with."""
        for name, child in self.named_children():
            if name not in self.user_parts:
                for part in child.modules():
                    if isinstance(part, WEIGHTED_LAYERS):
                        init_layer(part, generator)
        if self.zero_start:
            _zero(last_layer(self.decoder))
        if self.linear_path:
            for part in (self.linear_encoder, self.linear_decoder):
                _zero(part)
            if not self.linear_beside:
                _zero(self.code)

    def _init_code_head(self, width, latent_dim):
        if "encoder_body" in self.user_parts:
            if width != latent_dim:
                raise ValueError(f"encoder {type(self.encoder_body).__name__} must output "
                                 f"latent_dim={latent_dim} values per row (the code); it "
                                 f"outputs {width}.")
            self.code = nn.Identity()
        else:
            self.code = layer(nn.Linear, width, latent_dim)

    @torch.no_grad()
    def set_linear_start(self, center, scale, encoder_weight=None, decoder_weight=None,
                         code_scale=1.0):
        """Set the internal space and the linear path's starting maps.

        Parameters
        ----------
        center : tensor of shape (n_features,)
            Subtracted from the input.
        scale : float or tensor of shape (n_features,)
            The centered input is divided by it (one scale for all columns,
            or a column's own: 1 for a table's one-hot and boolean columns).
        encoder_weight : tensor of shape (latent_dim, n_features), optional
            Linear encoder on the internal space (e.g. the principal axes);
            a smaller block is the top-left of a zero weight (with
            ``observed_input``, zero on the mask's inputs).
        decoder_weight : tensor of shape (n_features, latent_dim), optional
            Linear decoder back to the internal space (None: zero).
        code_scale : float
            :meth:`encode` reports the internal code times ``code_scale``
            (e.g. ``scale``, for PCA's scores in the data's units) and
            :meth:`decode` divides by it.
        """
        self.center.copy_(torch.as_tensor(center, dtype=self.center.dtype))
        self.scale.copy_(torch.as_tensor(scale, dtype=self.scale.dtype).expand_as(self.scale))
        self.code_scale.fill_(float(code_scale))
        if self.linear_path:
            weight = self.linear_encoder.weight
            weight.zero_()
            encoder_weight = torch.as_tensor(encoder_weight)
            weight[:encoder_weight.shape[0], :encoder_weight.shape[1]] = encoder_weight
            if decoder_weight is None:
                self.linear_decoder.weight.zero_()
            else:
                self.linear_decoder.weight.copy_(torch.as_tensor(decoder_weight))

    def normalize(self, x):
        """``x`` in the internal space the network is trained in (a hole,
        NaN, stays NaN)."""
        return (x - self.center) / self.scale

    def _inputs(self, xn):
        """The encoder's input for internal-space rows ``xn``: themselves, or
        with ``observed_input`` their values (zero at the holes) and the mask
        of observed ones."""
        if not self.observed_input:
            return self.reconstruction.encoder_input(xn)
        observed = ~torch.isnan(xn)
        return torch.cat([torch.where(observed, xn, torch.zeros((), dtype=xn.dtype,
                                                                 device=xn.device)),
                          observed.to(xn.dtype)], dim=-1)

    def _code_head(self, inputs):
        """Output of the code head on the encoder's ``inputs``."""
        return self.code_activation(self.code(self.encoder_body(inputs)))

    def _internal_code(self, xn):
        """Code of internal-space rows ``xn``, in the internal space."""
        inputs = self._inputs(xn)
        z = self._code_head(inputs)
        return z + self.linear_encoder(inputs) if self._through() else z

    def _through(self):  # whether the linear path runs through the code
        return self.linear_path and not self.linear_beside

    @property
    def hole(self):
        """The value that hides an input from the encoder (masking noise):
        NaN with ``observed_input``, else zero."""
        return float("nan") if self.observed_input else 0.0

    def encode(self, x):
        """Code of ``x`` (deterministic)."""
        return self._internal_code(self.normalize(x)) * self.code_scale

    def decode_raw(self, z):
        """Decoder output in the internal space, before the output link."""
        raw = self.decoder(z)
        return raw + self.linear_decoder(z) if self._through() else raw

    def link(self, raw):
        """Map raw decoder output to the internal data space."""
        return self.reconstruction.link(raw)

    def decode(self, z):
        """Reconstruction in the data's own units of codes from :meth:`encode`."""
        return self.link(self.decode_raw(z / self.code_scale)) * self.scale + self.center

    def code_of(self, output):
        """The code, as :meth:`encode` reports it, in an output of
        :meth:`forward` (the deterministic code a training step computed)."""
        return output[1] * self.code_scale

    def forward(self, x, widths=None, codes=None):
        """``(raw_reconstruction, code)`` in the internal space (compare with
        :meth:`normalize` of x); ``widths``: each row decoded from a prefix of
        its code that wide; ``codes``: decoded in place of the rows' own
        (:func:`~skae._networks.read_codes`)."""
        if not self.linear_beside:
            z = self._internal_code(self.normalize(x))
            read = z if codes is None else read_codes(z, z, codes / self.code_scale)
            return self.decode_raw(keep_prefix(read, widths)), z
        inputs = self._inputs(self.normalize(x))
        z = self._code_head(inputs)
        return self.decoder(z) + self.linear_decoder(self.linear_encoder(inputs)), z

    def fill(self, x):
        """``x`` with its holes (NaN) replaced by the reconstruction, in the
        data's units (observed entries are returned unchanged; a table's
        categories and booleans as probabilities)."""
        prediction = self.link(self(x)[0]) * self.scale + self.center
        return torch.where(torch.isnan(x), prediction, x)

    def feature_errors(self, x):
        """Per-column reconstruction errors of ``x`` in the data's units
        (squared units for MSE; BCE trains on the data as it is)."""
        loss = self.reconstruction
        return loss.to_data_units(loss.per_column(self(x)[0], self.normalize(x)), self.scale)

    def feature_repairs(self, x):
        """Per-column fall of each row's total error (:meth:`feature_errors`
        summed) at the column's best single repair: a category or boolean
        set to whichever of its values makes the row's error least, a number
        to what the others predict for it (hidden from the encoder at the
        loss's ``hidden`` input)."""
        total = self.feature_errors(x).sum(dim=-1)
        hidden = self.reconstruction.hidden(self.center)
        columns = self.reconstruction.columns(x.shape[1])
        out = x.new_empty((x.shape[0], len(columns)))
        for j, (start, stop, choices) in enumerate(columns):
            repaired = x.clone()
            if choices is None:
                repaired[:, start:stop] = hidden[start:stop]
                guess = self.link(self(repaired)[0])[:, start:stop]
                repaired[:, start:stop] = guess * self.scale[start:stop] + self.center[start:stop]
                best = self.feature_errors(repaired).sum(dim=-1)
            else:
                best = total
                for value in choices.to(x):
                    repaired[:, start:stop] = value
                    best = torch.minimum(best, self.feature_errors(repaired).sum(dim=-1))
            out[:, j] = total - best
        return out


def _zero(layer):
    """Set a layer's weights and bias to zero."""
    nn.init.zeros_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
