"""Training on a busy machine: quiet against loaded wall times.

Times, each in a fresh process with torch's default threads, a default
``AutoencoderTransformer`` fit on scikit-learn's digits and the main job
(``python -m skae.compare``), first on a quiet machine, then beside
``--busy`` processes that spin on the CPU. ``--policy all-threads`` trains
every network on all of torch's threads, as skae did before it chose threads
per fit.

    python benchmarks/bench_contention.py [--busy 2] [--repeats 1] [--skip-main-job]
"""

import statistics
import subprocess
import sys
import tempfile

from _harness import Table, parser, timed

FIT = """
import warnings; warnings.simplefilter("ignore")
import skae._runtime
if {all_threads}:
    skae._runtime._WORK_PER_THREAD = 1
from sklearn.datasets import load_digits
from skae import AutoencoderTransformer
AutoencoderTransformer(random_state=0).fit(load_digits().data / 16)
"""
MAIN_JOB = """
import sys, warnings; warnings.simplefilter("ignore")
import skae._runtime
if {all_threads}:
    skae._runtime._WORK_PER_THREAD = 1
from skae.compare import main
sys.exit(main(["--quiet", "--out", {out!r}]))
"""


def run(code):
    """Wall seconds of ``code`` in a fresh Python process."""
    return timed(subprocess.run, [sys.executable, "-c", code], check=True)[0]


def main(argv=None):
    options = parser(__doc__)
    options.add_argument("--busy", type=int, default=2, help="spinning processes")
    options.add_argument("--repeats", type=int, default=1)
    options.add_argument("--skip-main-job", action="store_true")
    args = options.parse_args(argv)
    out = tempfile.mkdtemp()
    jobs = [("default digits fit", FIT)]
    if not args.skip_main_job:
        jobs.append(("main job (skae.compare)", MAIN_JOB))
    table = Table([("job", 26, ""), ("policy", 14, ""), ("quiet s", 9, ".1f"),
                   ("loaded s", 10, ".1f"), ("ratio", 7, ".2f")])
    for name, template in jobs:
        for policy in ("per-fit", "all-threads"):
            code = template.format(all_threads=policy == "all-threads", out=out)
            quiet = statistics.median(run(code) for _ in range(args.repeats))
            spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                        for _ in range(args.busy)]
            try:
                loaded = statistics.median(run(code) for _ in range(args.repeats))
            finally:
                for p in spinners:
                    p.kill()
                    p.wait()
            table.row(name, policy, quiet, loaded, loaded / quiet)


if __name__ == "__main__":
    main()
