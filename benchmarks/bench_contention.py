"""Training on a busy machine: quiet against loaded wall times.

Times, each in a fresh process with torch's default threads, a default
``AutoencoderTransformer`` fit on scikit-learn's digits and the main job
(``python -m skae.compare``), first on a quiet machine, then beside
``--busy`` processes that spin on the CPU. ``--policy all-threads`` trains
every network on all of torch's threads, as skae did before it chose threads
per fit.

    python benchmarks/bench_contention.py [--busy 2] [--repeats 1] [--skip-main-job]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

FIT = """
import warnings; warnings.simplefilter("ignore")
import skae._base
if {all_threads}:
    skae._base._WORK_PER_THREAD = 1
from sklearn.datasets import load_digits
from skae import AutoencoderTransformer
AutoencoderTransformer(random_state=0).fit(load_digits().data / 16)
"""
MAIN_JOB = """
import sys, warnings; warnings.simplefilter("ignore")
import skae._base
if {all_threads}:
    skae._base._WORK_PER_THREAD = 1
from skae.compare import main
sys.exit(main(["--quiet", "--out", {out!r}]))
"""


def timed(code):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=2, help="spinning processes")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--skip-main-job", action="store_true")
    args = parser.parse_args(argv)
    out = tempfile.mkdtemp()
    jobs = [("default digits fit", FIT)]
    if not args.skip_main_job:
        jobs.append(("main job (skae.compare)", MAIN_JOB))
    print(f"{'job':<26}{'policy':<14}{'quiet s':>9}{'loaded s':>10}{'ratio':>7}")
    for name, template in jobs:
        for policy in ("per-fit", "all-threads"):
            code = template.format(all_threads=policy == "all-threads", out=out)
            quiet = statistics.median(timed(code) for _ in range(args.repeats))
            spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                        for _ in range(args.busy)]
            try:
                loaded = statistics.median(timed(code) for _ in range(args.repeats))
            finally:
                for p in spinners:
                    p.kill()
                    p.wait()
            print(f"{name:<26}{policy:<14}{quiet:>9.1f}{loaded:>10.1f}{loaded / quiet:>7.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
