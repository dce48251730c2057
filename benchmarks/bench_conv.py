"""Convolutional against fully connected autoencoder on MNIST, 30-d codes.

Both train on the 60,000 training images for a similar time (epochs chosen so
from measured per-epoch costs), then the table gives the test per-image sum of
squared errors and 5-NN accuracy on test codes, with fit times.

    python benchmarks/bench_conv.py --mnist-dir DIR [--mlp-epochs 40] [--conv-epochs 40]
"""

import argparse
import os
import time

from sklearn.neighbors import KNeighborsClassifier

from skae import AutoencoderTransformer
from skae.datasets import MNIST_ENV, load_mnist

COMMON = dict(loss="bce", precision="bf16", lr=2e-3, lr_schedule="cosine", batch_size=128,
              early_stopping=False, random_state=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist-dir", default=os.environ.get(MNIST_ENV))
    parser.add_argument("--mlp-epochs", type=int, default=40)
    parser.add_argument("--conv-epochs", type=int, default=40)
    parser.add_argument("--latent-dim", type=int, default=30)
    args = parser.parse_args(argv)
    X_train, y_train = load_mnist(args.mnist_dir, "train")
    X_test, y_test = load_mnist(args.mnist_dir, "test")
    models = {
        "MLP 784-1000-500-250": AutoencoderTransformer(
            args.latent_dim, hidden_layer_sizes=(1000, 500, 250), max_epochs=args.mlp_epochs,
            **COMMON),
        "conv 32-64 channels": AutoencoderTransformer(
            args.latent_dim, architecture="conv", image_shape=(28, 28), conv_channels=(32, 64),
            max_epochs=args.conv_epochs, **COMMON),
    }
    print(f"{'model':<22}{'epochs':>7}{'fit s':>8}{'test SSE':>10}{'5-NN acc':>10}"
          f"{'parameters':>12}", flush=True)
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(X_train)
        seconds = time.perf_counter() - start
        Z_test = model.transform(X_test)
        sse = float(((model.inverse_transform(Z_test) - X_test) ** 2).sum(axis=1).mean())
        knn = KNeighborsClassifier(5).fit(model.transform(X_train), y_train).score(Z_test, y_test)
        n_params = sum(p.numel() for p in model.net_.module_.parameters())
        print(f"{name:<22}{model.n_iter_:>7}{seconds:>8.0f}{sse:>10.3f}{knn:>10.3f}"
              f"{n_params:>12,}", flush=True)


if __name__ == "__main__":
    main()
