"""Convolutional against fully connected autoencoder on MNIST, 30-d codes.

Both train on the 60,000 training images for a similar time (epochs chosen so
from measured per-epoch costs), then the table gives the test per-image sum of
squared errors and 5-NN accuracy on test codes, with fit times.

    python benchmarks/bench_conv.py --mnist-dir DIR [--mlp-epochs 40] [--conv-epochs 40]
"""

from _harness import Table, parser, timed
from sklearn.neighbors import KNeighborsClassifier

from skae import AutoencoderTransformer
from skae.datasets import load_mnist

COMMON = dict(loss="bce", precision="bf16", lr=2e-3, lr_schedule="cosine", batch_size=128,
              early_stopping=False, random_state=0)


def main(argv=None):
    options = parser(__doc__, mnist=True)
    options.add_argument("--mlp-epochs", type=int, default=40)
    options.add_argument("--conv-epochs", type=int, default=40)
    options.add_argument("--latent-dim", type=int, default=30)
    args = options.parse_args(argv)
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
    table = Table([("model", 22, ""), ("epochs", 7, "d"), ("fit s", 8, ".0f"),
                   ("test SSE", 10, ".3f"), ("5-NN acc", 10, ".3f"), ("parameters", 12, ",")])
    for name, model in models.items():
        seconds, _ = timed(model.fit, X_train)
        Z_test = model.transform(X_test)
        sse = float(((model.inverse_transform(Z_test) - X_test) ** 2).sum(axis=1).mean())
        knn = KNeighborsClassifier(5).fit(model.transform(X_train), y_train).score(Z_test, y_test)
        n_params = sum(p.numel() for p in model.net_.module_.parameters())
        table.row(name, model.n_iter_, seconds, sse, knn, n_params)


if __name__ == "__main__":
    main()
