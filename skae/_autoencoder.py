"""AutoencoderTransformer: a nonlinear, PCA-like transformer."""

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._checks import extend_init
from ._docstrings import fill_docstring
from ._modules import AutoencoderModule
from ._net import AutoencoderNet
from ._transformer import _BaseTransformer


@fill_docstring
class AutoencoderTransformer(_BaseTransformer):
    """Autoencoder dimensionality reduction, a nonlinear alternative to PCA.

    A fully connected encoder maps each sample to a ``latent_dim``-dimensional
    code and a mirrored decoder maps codes back to the data space; both are
    trained to reconstruct the training data. :meth:`transform` returns codes,
    :meth:`inverse_transform` reconstructions, and :meth:`score_samples` minus
    the reconstruction error, which makes the model an anomaly scorer too.
    With ``noise > 0`` it is a denoising autoencoder.

    No scaler is needed (``loss="mse"``): the network trains on the data
    centred and divided by one common scale, so its squared error weighs the
    columns exactly as the error in the data's own units does, and it starts
    from PCA's solution, a linear path plus nonlinear corrections that start
    at zero. Validation-based early stopping keeps the best epoch, the
    untrained PCA start included, so held-out reconstruction error is no
    worse than PCA's up to the noise of the validation split, and lower
    where a nonlinear code helps (with the built-in networks, ``noise=0``
    and ``structure=None``, and a validation split: see the user guide's
    "Reduction" page).

    ``encoder=`` and ``decoder=`` take your own torch networks in place of
    the built-in ones; your encoder outputs the code itself (``width`` =
    ``latent_dim``). Training runs on PyTorch through skorch (the fitted net
    is ``net_``).

    Parameters
    ----------
    {code}
    {network}
    loss : {"mse", "bce"}, default="mse"
        Reconstruction loss. ``"mse"``: mean squared error with an unbounded
        (identity) output, for any real-valued data, raw or scaled; codes start
        as PCA's scores, in the data's units. ``"bce"``: binary cross-entropy
        with a sigmoid output, for data in [0, 1] such as pixel intensities
        (trained on the data as it is, without the PCA start).

    {training}
    {structure}
    noise : float, default=0.0
        Strength of the corruption of the inputs during training (a denoising
        autoencoder when > 0): the standard deviation of added Gaussian noise,
        or, with ``corruption="masking"``, the fraction of inputs set to zero
        (below 1; a categorical column of a table is masked whole).
        :meth:`transform` and :meth:`inverse_transform` never
        corrupt.

    corruption : {"gaussian", "masking"}, default="gaussian"
        Kind of corruption: additive Gaussian noise, or masking noise (each
        input independently set to zero with probability ``noise``).

    {table}
    Attributes
    ----------
    {attributes}
    See Also
    --------
    VAETransformer : Variational autoencoder, with a generative model.
    sklearn.decomposition.PCA : The linear baseline.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> X = load_digits().data / 16
    >>> ae = AutoencoderTransformer(latent_dim=2, max_epochs=5, random_state=0)
    >>> codes = ae.fit_transform(X)
    >>> codes.shape
    (1797, 2)
    >>> ae.inverse_transform(codes).shape
    (1797, 64)
    >>> ae.get_feature_names_out()[:2].tolist()
    ['autoencodertransformer0', 'autoencodertransformer1']
    """

    _parameter_constraints: dict = {
        **_BaseTransformer._parameter_constraints,
        "noise": [Interval(Real, 0, None, closed="left")],
        "corruption": [StrOptions({"gaussian", "masking"})],
    }

    __init__ = extend_init(_BaseTransformer.__init__, noise=0.0, corruption="gaussian")

    def _build_net(self, module_kwargs, policy):
        if self.corruption == "masking" and self.noise >= 1:
            raise ValueError(f"corruption='masking' needs noise < 1 (the fraction of inputs "
                             f"set to zero); got noise={self.noise}.")
        return AutoencoderNet(AutoencoderModule, **module_kwargs, noise=self.noise,
                              corruption=self.corruption, **policy)
