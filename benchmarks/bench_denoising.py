"""Image denoising: PCA, KernelPCA and a denoising autoencoder.

scikit-learn's gallery example "Image denoising using kernel PCA", redone with
skae: every method is fitted on noisy training images, then reconstructs noisy
test images; the table gives the MSE against the clean test images, and a
figure shows clean / noisy / PCA / KernelPCA / skae rows. PCA and KernelPCA use
the gallery's settings (``--kpca-gamma median`` sets KernelPCA's gamma to 1 /
the median squared distance between training images instead). The autoencoder
is a denoising autoencoder (it corrupts its noisy inputs further while
training).

    python benchmarks/bench_denoising.py [--mnist-dir DIR] [--out denoising.png]

MNIST (from --mnist-dir or $SKAE_MNIST_DIR) when given, else digits.
"""

import numpy as np
from _harness import Table, parser, timed
from sklearn.decomposition import PCA, KernelPCA

from skae import AutoencoderTransformer
from skae.datasets import load_dataset


def main(argv=None):
    options = parser(__doc__, mnist=True)
    options.add_argument("--n-train", type=int, default=2000)
    options.add_argument("--n-test", type=int, default=500)
    options.add_argument("--noise", type=float, default=0.25, help="std of the image noise")
    options.add_argument("--kpca-gamma", default="1e-3",
                         help="KernelPCA's gamma (the gallery's 1e-3), or 'median'")
    options.add_argument("--out", default="denoising.png")
    args = options.parse_args(argv)

    data = load_dataset("mnist" if args.mnist_dir else "digits", mnist_dir=args.mnist_dir,
                        max_train=args.n_train, max_test=args.n_test)
    rng = np.random.default_rng(0)
    X_train = data.X_train + rng.normal(scale=args.noise, size=data.X_train.shape)
    X_test = data.X_test + rng.normal(scale=args.noise, size=data.X_test.shape)
    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)

    if args.kpca_gamma == "median":
        sample = X_train[rng.choice(len(X_train), min(500, len(X_train)), replace=False)]
        sq_dists = ((sample[:, None, :] - sample[None, :, :]) ** 2).sum(-1)
        gamma = 1.0 / np.median(sq_dists[np.triu_indices(len(sample), 1)])
    else:
        gamma = float(args.kpca_gamma)
    models = {
        "PCA": PCA(n_components=32, random_state=0),
        "KernelPCA": KernelPCA(n_components=400, kernel="rbf", gamma=gamma,
                               fit_inverse_transform=True, alpha=5e-3, random_state=0),
        "skae DAE": AutoencoderTransformer(latent_dim=32, noise=args.noise, random_state=0),
    }
    print(f"{data.name}: {len(X_train)} noisy training and {len(X_test)} noisy test images, "
          f"noise std {args.noise}; KernelPCA gamma {gamma:.2e}")
    table = Table([("method", 12, ""), ("MSE vs clean", 14, ".5f"), ("fit s", 8, ".1f")])
    table.row("noisy input", np.mean((X_test - data.X_test) ** 2), None)
    denoised = {}
    for name, model in models.items():
        seconds, _ = timed(model.fit, X_train)
        denoised[name] = model.inverse_transform(model.transform(X_test))
        table.row(name, np.mean((denoised[name] - data.X_test) ** 2), seconds)

    from matplotlib.figure import Figure

    rows = [("clean", data.X_test), ("noisy", X_test)] + list(denoised.items())
    fig = Figure(figsize=(10, 1.15 * len(rows)))
    axes = fig.subplots(len(rows), 10)
    for r, (name, images) in enumerate(rows):
        for c in range(10):
            axes[r, c].imshow(np.clip(images[c], 0, 1).reshape(data.image_shape),
                              cmap="gray_r", vmin=0, vmax=1)
            axes[r, c].axis("off")
        axes[r, 0].set_title(name, fontsize=8, loc="left")
    fig.savefig(args.out, dpi=100, bbox_inches="tight")
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
