"""Inference after export: onnxruntime against skae's own transform.

    python benchmarks/bench_onnx.py [--mnist-dir DIR] [--repeat 3]

For each network, rows per second of ``transform`` (skae, torch on the CPU)
and of the model that ``skae.to_onnx`` exported, run in onnxruntime's CPU
session, on batches of 1 row (calls one after the other: latency) and of
1,000 rows (throughput); best of ``--repeat`` timings, in one process. The
models train one epoch (speed does not depend on what they learnt):
digits' default network (64-256-128-2) and, on MNIST's 784 pixels (random
rows of that width without ``--mnist-dir``), the default network at 10
dimensions and the wider 784-512-256-30.
"""

import time
import warnings

import numpy as np
import onnxruntime
import torch
from _harness import Table, parser
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import skae
from skae import AutoencoderTransformer
from skae.datasets import load_mnist


def rows_per_second(fn, X, batch, repeat):
    """Best rows/s of ``fn`` over ``repeat`` passes through X's first rows
    in batches of ``batch`` (about 2,000 rows a pass, at least one batch)."""
    n = max(batch, min(len(X), 2000 if batch == 1 else 20_000))
    starts = range(0, n - batch + 1, batch)
    fn(X[:batch])  # warm-up
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        for at in starts:
            fn(X[at:at + batch])
        best = min(best, time.perf_counter() - start)
    return len(starts) * batch / best


def main():
    p = parser(__doc__, mnist=True)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    digits = (load_digits().data / 16).astype(np.float32)
    if args.mnist_dir:
        pixels = load_mnist(args.mnist_dir, "test")[0][:5000].astype(np.float32)
    else:
        pixels = np.random.default_rng(0).random((5000, 784), dtype=np.float32)
    configs = [("digits", digits, (256, 128), 2), ("MNIST", pixels, (256, 128), 10),
               ("MNIST", pixels, (512, 256), 30)]
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), onnxruntime "
          f"{onnxruntime.__version__}; rows per second, best of {args.repeat}")
    table = Table([("data", 8, ""), ("network", 16, ""), ("batch", 6, "d"),
                   ("skae rows/s", 13, "rate"), ("onnx rows/s", 13, "rate"),
                   ("onnx/skae", 10, ".2f"), ("max diff", 10, ".1e")])
    for name, X, hidden, latent_dim in configs:
        model = AutoencoderTransformer(latent_dim, hidden_layer_sizes=hidden, max_epochs=1,
                                       random_state=0).fit(X)
        session = onnxruntime.InferenceSession(
            skae.to_onnx(model, X[:5]).SerializeToString(),
            providers=["CPUExecutionProvider"])
        input_name = session.get_inputs()[0].name

        def exported(rows, session=session, input_name=input_name):
            return session.run(None, {input_name: rows})[0]

        difference = np.abs(exported(X[:1000]) - model.transform(X[:1000])).max()
        network = "-".join(map(str, (X.shape[1], *hidden, latent_dim)))
        for batch in (1, 1000):
            ours = rows_per_second(model.transform, X, batch, args.repeat)
            theirs = rows_per_second(exported, X, batch, args.repeat)
            table.row(name, network, batch, ours, theirs, theirs / ours, difference)


if __name__ == "__main__":
    main()
