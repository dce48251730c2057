"""Peak memory of skae's fit and of a memory-mapped transform.

MB and GB are decimal (10**6 and 10**9 bytes). Each case runs in a fresh
subprocess that resets its peak resident set size just before the measured
call (``/proc/self/clear_refs``; Linux) and reads it (``VmHWM``) just after:
``ru_maxrss`` would also count the parent's memory at fork time, which Linux
carries across ``exec``.

1. ``fit`` on MNIST's 60,000 x 784 float32 training images (or random data of
   that shape without --mnist-dir / $SKAE_MNIST_DIR), one epoch, default
   network: the added peak should stay under 3x the array plus the model.
2. ``transform`` of a (rows x 784) float32 ``np.memmap`` (default 1,000,000
   rows, 3.1 GB, written to --tmp-dir and deleted afterwards): the peak
   should stay well under the array's size.

    python benchmarks/bench_memory.py [--mnist-dir DIR] [--rows 1000000]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from _harness import parser, rate, timed


def _rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # peak RSS := current RSS


def _peak_mb():
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024 / 1e6  # kB to MB


def case_fit(mnist_dir):
    from skae import AutoencoderTransformer
    from skae.datasets import load_mnist

    if mnist_dir:
        X = load_mnist(mnist_dir)[0]
    else:
        X = np.random.default_rng(0).random((60000, 784), dtype=np.float32)
    before = _rss_mb()
    _reset_peak()
    seconds, ae = timed(AutoencoderTransformer(30, max_epochs=1, batch_size=128,
                                               random_state=0).fit, X)
    model_mb = sum(p.numel() * p.element_size() for p in ae.net_.module_.parameters()) / 1e6
    return {"array_mb": X.nbytes / 1e6, "model_mb": model_mb, "rss_before_mb": before,
            "peak_mb": _peak_mb(), "seconds": seconds}


def case_memmap(path):
    from skae import AutoencoderTransformer

    X = np.load(path, mmap_mode="r")
    train = np.array(X[:5000])
    ae = AutoencoderTransformer(30, hidden_layer_sizes=(512, 256), max_epochs=1,
                                random_state=0).fit(train)
    del train
    before = _rss_mb()
    _reset_peak()
    seconds, Z = timed(ae.transform, X)
    return {"array_mb": X.nbytes / 1e6, "codes_mb": Z.nbytes / 1e6,
            "rss_before_mb": before, "peak_mb": _peak_mb(), "seconds": seconds,
            "rows_per_s": len(X) / seconds}


def _run(*args):
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    options = parser(__doc__, mnist=True)
    options.add_argument("--rows", type=int, default=1_000_000)
    options.add_argument("--tmp-dir", default=None)
    options.add_argument("--case", choices=["fit", "memmap"], help=argparse.SUPPRESS)
    options.add_argument("--path", help=argparse.SUPPRESS)
    args = options.parse_args(argv)
    if args.case == "fit":
        print(json.dumps(case_fit(args.mnist_dir)))
        return
    if args.case == "memmap":
        print(json.dumps(case_memmap(args.path)))
        return

    fit = _run("--case", "fit", *(["--mnist-dir", args.mnist_dir] if args.mnist_dir else []))
    added = fit["peak_mb"] - fit["rss_before_mb"]
    budget = 3 * fit["array_mb"] + fit["model_mb"]
    print(f"fit, 60000 x 784 float32 ({'MNIST' if args.mnist_dir else 'random'}), 1 epoch: "
          f"array {fit['array_mb']:.0f} MB, model {fit['model_mb']:.1f} MB, peak RSS "
          f"{fit['peak_mb']:.0f} MB = {fit['rss_before_mb']:.0f} MB before fit "
          f"+ {added:.0f} MB added (budget 3 x array + model = {budget:.0f} MB), "
          f"{fit['seconds']:.1f} s")

    with tempfile.TemporaryDirectory(dir=args.tmp_dir) as tmp:
        path = os.path.join(tmp, "X.npy")
        X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                      shape=(args.rows, 784))
        rng = np.random.default_rng(0)
        for start in range(0, args.rows, 50_000):
            X[start:start + 50_000] = rng.random((min(50_000, args.rows - start), 784),
                                                 dtype=np.float32)
        X.flush()
        del X
        mm = _run("--case", "memmap", "--path", path)
    print(f"transform of a {args.rows} x 784 float32 memmap ({mm['array_mb']:.0f} MB): "
          f"peak RSS {mm['peak_mb']:.0f} MB ({mm['rss_before_mb']:.0f} MB before; "
          f"{mm['peak_mb'] / mm['array_mb']:.2f} x the array), codes {mm['codes_mb']:.0f} MB, "
          f"{mm['seconds']:.1f} s, {rate(mm['rows_per_s'])} rows/s")


if __name__ == "__main__":
    main()
