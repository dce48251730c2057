"""Fit throughput and memory: in-memory against memory-mapped training data.

Each case runs in a fresh process: one epoch of ``AutoencoderTransformer``
(default network, ``batch_size=256``, early stopping on) on the data, then
``transform`` of all rows; the table gives rows/s of the fit and the peak
growth of anonymous memory (RssAnon, sampled every 2 ms) over the process's
state before the fit, as a multiple of the array's size. Cases: MNIST's
60,000 x 784 in memory and as a memmap (random data of that shape without
--mnist-dir), and a synthetic ``--rows`` x 784 float32 memmap (2,000,000 rows:
6 GB, written to --tmp-dir).

    python benchmarks/bench_scaling.py [--mnist-dir DIR] [--rows 2000000] [--tmp-dir DIR]
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from _harness import Table, parser

CASE = """
import json, sys, threading, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from skae import AutoencoderTransformer

def anon():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("RssAnon:"))

path, mode = sys.argv[1], sys.argv[2]
X = np.load(path, mmap_mode="r")
if mode == "memory":
    X = np.array(X)
ae = AutoencoderTransformer(30, batch_size=256, max_epochs=1, random_state=0)
ae.fit(np.array(X[:2000]))  # imports, allocator and threads warmed up
before, peak, done = anon(), [0], threading.Event()
def watch():
    while not done.is_set():
        peak[0] = max(peak[0], anon())
        time.sleep(0.002)
watcher = threading.Thread(target=watch)
watcher.start()
start = time.perf_counter()
ae.fit(X)
fit_s = time.perf_counter() - start
start = time.perf_counter()
ae.transform(X)
transform_s = time.perf_counter() - start
done.set()
watcher.join()
print(json.dumps({"rows": len(X), "fit_s": fit_s, "transform_s": transform_s,
                  "growth": (peak[0] - before) / X.nbytes, "array_gb": X.nbytes / 1e9}))
"""


def run(path, mode):
    out = subprocess.run([sys.executable, "-c", CASE, path, mode], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def write_memmap(path, rows, source=None):
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, 784))
    rng = np.random.default_rng(0)
    for start in range(0, rows, 50_000):
        stop = min(start + 50_000, rows)
        X[start:stop] = (source[start:stop] if source is not None
                         else rng.random((stop - start, 784), dtype=np.float32))
    X.flush()


def main(argv=None):
    options = parser(__doc__, mnist=True)
    options.add_argument("--rows", type=int, default=2_000_000)
    options.add_argument("--tmp-dir", default=None)
    args = options.parse_args(argv)
    table = Table([("data", 28, ""), ("where", 8, ""), ("GB", 6, ".2f"),
                   ("fit rows/s", 12, "rate"), ("transform rows/s", 18, "rate"),
                   ("peak anon / array", 19, ".2f")])
    with tempfile.TemporaryDirectory(dir=args.tmp_dir) as tmp:
        mnist = None
        if args.mnist_dir:
            from skae.datasets import load_mnist

            mnist = load_mnist(args.mnist_dir)[0]
        small = os.path.join(tmp, "mnist.npy")
        write_memmap(small, 60_000, mnist)
        name = "MNIST 60,000 x 784" if mnist is not None else "random 60,000 x 784"
        for mode in ("memory", "memmap"):
            r = run(small, mode)
            table.row(name, mode, r["array_gb"], r["rows"] / r["fit_s"],
                      r["rows"] / r["transform_s"], r["growth"])
        if args.rows:
            large = os.path.join(tmp, "large.npy")
            write_memmap(large, args.rows)
            r = run(large, "memmap")
            table.row(f"random {args.rows:,} x 784", "memmap", r["array_gb"],
                      r["rows"] / r["fit_s"], r["rows"] / r["transform_s"], r["growth"])


if __name__ == "__main__":
    main()
