"""PCA against skae on raw, unscaled data: held-out reconstruction MSE.

A PCA user drops an autoencoder into a pipeline that has no scaler. For each
dataset and latent size, every method is fitted with default parameters on
75% of the rows and scored on the other 25%: the mean squared reconstruction
error per feature, in the data's own units, median over seeds 0-2 (the seed
of the split and of the model).

    python benchmarks/bench_raw_data.py [--seeds 0 1 2] [--quick]
"""

import numpy as np
from _harness import Table, parser, timed
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer, VAETransformer


def _standardized(load):
    return lambda: StandardScaler().fit_transform(load(return_X_y=True)[0])


#: name -> (loader of X, latent sizes)
CASES = {
    "breast_cancer raw": (lambda: load_breast_cancer(return_X_y=True)[0], (5, 2)),
    "wine raw": (lambda: load_wine(return_X_y=True)[0], (5, 2)),
    "diabetes raw": (lambda: load_diabetes(scaled=False, return_X_y=True)[0], (5, 2)),
    "iris raw": (lambda: load_iris(return_X_y=True)[0], (2,)),
    "breast_cancer std": (_standardized(load_breast_cancer), (5,)),
    "wine std": (_standardized(load_wine), (5,)),
    "digits raw 0-16": (lambda: load_digits(return_X_y=True)[0], (5, 2)),
    "wine x1e4 + 1e6": (lambda: load_wine(return_X_y=True)[0] * 1e4 + 1e6, (5,)),
}


def test_mse(model, X, latent_dim, seed):
    """Held-out reconstruction MSE of ``model`` (None: PCA) on a 75/25 split."""
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed)
    if model is None:
        model = PCA(latent_dim, random_state=seed)
    else:
        model = model(latent_dim, random_state=seed)
    model.fit(X_train)
    return float(np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2))


def main(argv=None):
    options = parser(__doc__)
    options.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    options.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    args = options.parse_args(argv)
    print("held-out reconstruction MSE in the data's units, median over seeds "
          f"{args.seeds}; default parameters")
    table = Table([("data", 20, ""), ("latent", 7, "d"), ("PCA", 12, ".4g"), ("AE", 12, ".4g"),
                   ("AE/PCA", 9, ".3f"), ("VAE", 12, ".4g"), ("VAE/PCA", 10, ".3f"),
                   ("AE s", 7, ".1f"), ("VAE s", 7, ".1f")])
    for name in args.cases:
        load, dims = CASES[name]
        X = load()
        for d in dims:
            row = {}
            for label, model in (("PCA", None), ("AE", AutoencoderTransformer),
                                 ("VAE", VAETransformer)):
                seconds, errors = timed(lambda m=model, X=X, d=d: [test_mse(m, X, d, s)
                                                                   for s in args.seeds])
                row[label], row[label + " s"] = np.median(errors), seconds / len(args.seeds)
            table.row(name, d, row["PCA"], row["AE"], row["AE"] / row["PCA"], row["VAE"],
                      row["VAE"] / row["PCA"], row["AE s"], row["VAE s"])


if __name__ == "__main__":
    main()
