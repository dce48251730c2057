"""GridSearchCV over skae with n_jobs=2 against n_jobs=1.

Four candidates (latent_dim in 2, 4, 8, 16) of a StandardScaler -> AE ->
LogisticRegression pipeline on digits, 3-fold CV: 12 fits. joblib's loky
workers start with their compute threads limited to cpu_count // n_jobs
(OMP_NUM_THREADS and friends, which torch reads), so two workers on two cores
do not oversubscribe them. The script also reports the torch thread count
seen inside a worker.

    python benchmarks/bench_gridsearch.py [--repeats 3]
"""

import os
import statistics
import warnings

import torch
from _harness import parser, timed
from joblib import Parallel, delayed
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer


def search(X, y, n_jobs):
    pipe = Pipeline([
        ("scale", StandardScaler()),
        ("ae", AutoencoderTransformer(random_state=0, max_epochs=30)),
        ("clf", LogisticRegression(max_iter=1000)),
    ])
    grid = GridSearchCV(pipe, {"ae__latent_dim": [2, 4, 8, 16]}, cv=3, n_jobs=n_jobs)
    seconds, _ = timed(grid.fit, X, y)
    return seconds, grid.best_params_["ae__latent_dim"]


# 30 epochs a fit: ConvergenceWarnings say so, here and in joblib's workers.
os.environ.setdefault("PYTHONWARNINGS", "ignore::sklearn.exceptions.ConvergenceWarning")
warnings.filterwarnings("ignore", category=ConvergenceWarning)


def main(argv=None):
    options = parser(__doc__)
    options.add_argument("--repeats", type=int, default=3)
    args = options.parse_args(argv)
    X, y = load_digits(return_X_y=True)
    workers = Parallel(n_jobs=2)(delayed(torch.get_num_threads)() for _ in range(2))
    print(f"torch threads: {torch.get_num_threads()} in this process, {workers} in the "
          "n_jobs=2 workers")
    search(X[:300], y[:300], 2)  # start the worker pool once
    times = {1: [], 2: []}
    for _ in range(args.repeats):
        for n_jobs in (1, 2):
            seconds, best = search(X, y, n_jobs)
            times[n_jobs].append(seconds)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(f"GridSearchCV, 4 candidates x 3 folds on digits: n_jobs=1 {one:.1f} s, "
          f"n_jobs=2 {two:.1f} s (medians of {args.repeats}), speed-up {one / two:.2f}x; "
          f"best latent_dim {best}")


if __name__ == "__main__":
    main()
