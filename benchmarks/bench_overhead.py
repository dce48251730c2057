"""skae's training overhead against a hand-written PyTorch loop.

For each configuration, times ``AutoencoderTransformer.fit`` and a plain
PyTorch loop over the same network (skae's torch module, same initialization
seed), optimizer (AdamW), data, epochs and batch size, early stopping off.
Runs alternate in one process; the table gives the median of the per-pair
ratios. Also compares ``transform`` throughput with ``PCA.transform``.

    python benchmarks/bench_overhead.py [--mnist-dir DIR] [--pairs 5]

MNIST is read from --mnist-dir or $SKAE_MNIST_DIR (the original IDX .gz
files); without it the 784-d configuration uses digits upsampled to 28x28.
"""

import statistics
import warnings

import numpy as np
import torch
from _harness import Table, parser, timed
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderTransformer
from skae._linear_start import linear_start
from skae._modules import AutoencoderModule
from skae._runtime import torch_threads, training_threads
from skae.datasets import load_mnist


def plain_torch_fit(X, hidden, latent_dim, epochs, batch_size, lr, weight_decay, seed,
                    device="cpu"):
    """The reference: the best plain loop we know for the same model (the
    network with its PCA start, trained on the same number of threads)."""
    start = linear_start(X, latent_dim, linear=True, seed=seed)
    module = AutoencoderModule(X.shape[1], latent_dim, hidden, linear_path=True,
                               seed=seed).to(device)
    module.set_linear_start(**start.pca_maps(latent_dim))
    optimizer = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=weight_decay)
    data = torch.from_numpy(X).to(device)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    with torch_threads(training_threads(module, batch_size, device)):
        module.train()
        for _ in range(epochs):
            total = torch.zeros((), device=device)
            for idx in torch.randperm(len(data), generator=generator).to(device).split(
                    batch_size):
                batch = data[idx]
                optimizer.zero_grad(set_to_none=True)
                loss = torch.nn.functional.mse_loss(module(batch)[0], module.normalize(batch))
                loss.backward()
                optimizer.step()
                total += loss.detach() * len(batch)
            losses.append(total.item() / len(data))
    return module, losses


def skae_fit(X, hidden, latent_dim, epochs, batch_size, lr, weight_decay, seed,
             device="cpu", precision="32"):
    warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed number of epochs
    return AutoencoderTransformer(
        latent_dim, hidden_layer_sizes=hidden, max_epochs=epochs, batch_size=batch_size,
        lr=lr, weight_decay=weight_decay, early_stopping=False, random_state=seed,
        device=device, precision=precision,
    ).fit(X)


def compare(table, name, X, hidden, latent_dim, epochs, batch_size, pairs, device):
    cfg = dict(hidden=hidden, latent_dim=latent_dim, epochs=epochs, batch_size=batch_size,
               lr=1e-3, weight_decay=1e-4, seed=0, device=device)
    skae_fit(X[:256], **{**cfg, "epochs": 1})  # warm-up: imports, allocator, kernels
    plain_torch_fit(X[:256], **{**cfg, "epochs": 1})
    skae_s, plain_s = [], []
    for _ in range(pairs):
        t, model = timed(skae_fit, X, **cfg)
        skae_s.append(t)
        t, _ = timed(plain_torch_fit, X, **cfg)
        plain_s.append(t)
    ratio = statistics.median(a / b for a, b in zip(skae_s, plain_s, strict=True))

    reps = 5
    t_ae = min(timed(model.transform, X)[0] for _ in range(reps))
    pca = PCA(latent_dim, random_state=0).fit(X)
    t_pca = min(timed(pca.transform, X)[0] for _ in range(reps))
    arch = " -> ".join(map(str, (X.shape[1], *hidden, latent_dim)))
    table.row(name, arch, len(X), epochs, batch_size, statistics.median(skae_s),
              statistics.median(plain_s), ratio, len(X) / t_ae, len(X) / t_pca)
    return ratio


def compare_precision(table, name, X, hidden, latent_dim, epochs, batch_size, pairs, device):
    """skae fit time with bfloat16 autocast over float32, alternating pairs."""
    cfg = dict(hidden=hidden, latent_dim=latent_dim, epochs=epochs, batch_size=batch_size,
               lr=1e-3, weight_decay=1e-4, seed=0, device=device)
    skae_fit(X[:256], **{**cfg, "epochs": 1, "precision": "bf16"})
    f32, bf16, loss32, loss16 = [], [], [], []
    for _ in range(pairs):
        t, model = timed(skae_fit, X, **cfg)
        f32.append(t)
        loss32.append(model.loss_curve_[-1])
        t, model = timed(skae_fit, X, **cfg, precision="bf16")
        bf16.append(t)
        loss16.append(model.loss_curve_[-1])
    ratio = statistics.median(b / a for a, b in zip(f32, bf16, strict=True))
    arch = " -> ".join(map(str, (X.shape[1], *hidden, latent_dim)))
    table.row(name, arch, statistics.median(f32), statistics.median(bf16), ratio, loss32[-1],
              loss16[-1])


def main(argv=None):
    options = parser(__doc__, mnist=True)
    options.add_argument("--pairs", type=int, default=5)
    options.add_argument("--device", default="cpu")
    options.add_argument("--mnist-rows", type=int, default=60000)
    options.add_argument("--mnist-epochs", type=int, default=2)
    options.add_argument("--no-precision", action="store_true",
                         help="skip the bf16-against-float32 table")
    args = options.parse_args(argv)

    digits = (load_digits().data / 16.0).astype(np.float32)
    if args.mnist_dir:
        X784, source = load_mnist(args.mnist_dir)[0][: args.mnist_rows], "MNIST"
    else:
        up = np.repeat(np.repeat(digits.reshape(-1, 8, 8), 4, axis=1), 4, axis=2)
        X784 = np.ascontiguousarray(up[:, 2:30, 2:30].reshape(len(digits), 784))
        source = "digits28"

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"device {args.device}, median of {args.pairs} alternating pairs")
    table = Table([("data", 10, ""), ("network", 24, ""), ("rows", 7, "d"), ("ep", 4, "d"),
                   ("batch", 6, "d"), ("skae s", 9, ".3f"), ("torch s", 9, ".3f"),
                   ("ratio", 7, ".3f"), ("skae rows/s", 14, ",.0f"), ("PCA rows/s", 14, ",.0f")])
    configs = [("digits", digits, (32,), 2, 20, 64),
               (source, X784, (512, 256), 30, args.mnist_epochs, 128)]
    for config in configs:
        compare(table, *config, args.pairs, args.device)
    if args.no_precision:
        return
    print("\nprecision='bf16' (autocast) against '32': skae fit seconds, median ratio, "
          "last training loss")
    table = Table([("data", 10, ""), ("network", 24, ""), ("32 s", 9, ".3f"),
                   ("bf16 s", 9, ".3f"), ("ratio", 7, ".3f"), ("loss 32", 11, ".4f"),
                   ("loss bf16", 11, ".4f")])
    for config in configs:
        compare_precision(table, *config, args.pairs, args.device)


if __name__ == "__main__":
    main()
