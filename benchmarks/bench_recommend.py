"""Recommendation: AutoencoderRecommender on MovieLens-100K against the simple baselines.

    python benchmarks/bench_recommend.py --movielens-dir DIR [--folds 5]
        [--skip-rmse] [--skip-ranking] [--large]

MovieLens-100K is not ours to redistribute: pass GroupLens' ``u.data`` (or
its directory), or RecBole's copy ``ml-100k.inter`` (``pip download --no-deps
recbole==1.2.1``, then unzip ``recbole/dataset_example/ml-100k/``); the
default is ``$SKAE_MOVIELENS_DIR``. Every method runs in the same process,
one after another, on torch's default threads.

1. Ratings, surprise's protocol: 5-fold cross-validation (``KFold(5,
   shuffle=True, random_state=0)`` over the 100,000 ratings), RMSE on each
   held-out fold, mean and range, with fit and predict seconds per fold.
   Baselines: the global mean; user and item biases (damped means, the
   recommender's own baseline); a biased matrix factorization by
   alternating least squares (``ALS`` below: rank 50, ridge 15, 15
   sweeps; picked on fold 1 from ridge {1, 5, 10, 15, 20, 30, 60, 120} x
   rank {10, 20, 50}). ``AutoencoderRecommender`` with its defaults, then
   averaged by scikit-learn's ``VotingRegressor``: three seeds of item rows,
   and those with one of user rows.
2. Ranking, a per-user holdout: the ratings of 4 or more are the
   interactions; each user with 5 or more gives a fifth of them (seed 0) to
   the test set. Every method ranks the items a user has not interacted
   with in training; Recall@20, NDCG@10, NDCG@100 (Liang et al. 2018).
   Baselines: item popularity; EASE (Steck 2019), its ridge picked from
   {50, 100, 200, 500, 1000} on a validation fifth of the training
   interactions, then refitted. ``AutoencoderRecommender`` fitted on the
   interactions (``fit(pairs)``, its defaults). ``--holdout-seed`` draws
   another per-user holdout.
3. ``--large``: a synthetic matrix of 100,000 users x 20,000 items with 10
   million ratings (``skae.datasets.synthetic_pairs``), fitted with user
   rows and a code of 64 for one epoch in a subprocess whose peak resident
   memory is measured (from after the pairs are made), against
   the 8 GB that the dense float32 matrix alone would take; then the time
   of ``recommend`` for 1,000 users.
"""

import argparse
import json
import subprocess
import sys
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from _harness import Table, parser, timed
from sklearn.ensemble import VotingRegressor
from sklearn.model_selection import KFold

from skae import AutoencoderRecommender
from skae._ranking import ndcg_at_k, recall_at_k, top_n
from skae._ratings import IdIndex, Ratings
from skae.datasets import MOVIELENS_ENV, load_movielens, synthetic_pairs


class Biases:
    """The damped user and item biases: the recommender's own baseline
    (``skae._ratings.Ratings``, with user rows of the ratings less it)."""

    def fit(self, X, y):
        self.data = Ratings(X[:, 0], X[:, 1], y, "user", damping=10.0)
        return self

    def _positions(self, X):
        return self.data.users.positions(X[:, 0]), self.data.items.positions(X[:, 1])

    def predict(self, X):
        return self.data.baseline(*self._positions(X))


class GlobalMean:
    def fit(self, X, y):
        self.mean = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean)


class ALS(Biases):
    """Biased matrix factorization by alternating least squares on the
    residuals of the damped biases (Koren, Bell & Volinsky 2009)."""

    def __init__(self, rank=50, ridge=15.0, sweeps=15, seed=0):
        self.rank, self.ridge, self.sweeps, self.seed = rank, ridge, sweeps, seed

    def fit(self, X, y):
        R = super().fit(X, y).data.matrix.astype(np.float64)  # the residuals, users x items
        rng = np.random.default_rng(self.seed)
        self.P = rng.normal(0, 0.1, (R.shape[0], self.rank))
        self.Q = rng.normal(0, 0.1, (R.shape[1], self.rank))
        Rt = R.T.tocsr()
        for _ in range(self.sweeps):
            self.P = self._solve(R, self.Q)
            self.Q = self._solve(Rt, self.P)
        return self

    def _solve(self, R, F):
        out = np.zeros((R.shape[0], self.rank))
        eye = self.ridge * np.eye(self.rank)
        for row in range(R.shape[0]):
            cols = R.indices[R.indptr[row]:R.indptr[row + 1]]
            if len(cols):
                f = F[cols]
                values = R.data[R.indptr[row]:R.indptr[row + 1]]
                out[row] = np.linalg.solve(f.T @ f + eye, f.T @ values)
        return out

    def predict(self, X):
        u, i = self._positions(X)
        base = super().predict(X)
        known = (u >= 0) & (i >= 0)
        base[known] += np.einsum("ij,ij->i", self.P[u[known]], self.Q[i[known]])
        return np.clip(base, 1, 5)


def ensemble(users=False):
    """Three recommenders of item rows (seeds 0 to 2), and one of user rows."""
    members = [(f"items{s}", AutoencoderRecommender(random_state=s)) for s in range(3)]
    if users:
        members.append(("users", AutoencoderRecommender(orientation="user", random_state=0)))
    return VotingRegressor(members)


def rmse_table(pairs, ratings, folds):
    methods = {"global mean": GlobalMean, "user + item biases": Biases,
               "biased MF (ALS, rank 50)": ALS,
               "AutoencoderRecommender": lambda: AutoencoderRecommender(random_state=0),
               "3 x AutoencoderRecommender (VotingRegressor)": ensemble,
               "3 + 1 of user rows (VotingRegressor)": lambda: ensemble(users=True)}
    print(f"MovieLens-100K ratings, {folds} of 5 folds")
    table = Table([("method", 46, ""), ("RMSE", 8, ".4f"), ("  range", 15, ""),
                   ("fit s/fold", 12, ".1f"), ("predict s/fold", 16, ".2f")])
    splits = list(KFold(5, shuffle=True, random_state=0).split(ratings))[:folds]
    for name, make in methods.items():
        scores, fits, predicts = [], [], []
        for train, test in splits:
            fit_s, model = timed(make().fit, pairs[train], ratings[train])
            predict_s, pred = timed(model.predict, pairs[test])
            scores.append(np.sqrt(np.mean((pred - ratings[test]) ** 2)))
            fits.append(fit_s)
            predicts.append(predict_s)
        table.row(name, np.mean(scores), f"  {min(scores):.4f}-{max(scores):.4f}",
                  np.mean(fits), np.mean(predicts))


def holdout(pairs, ratings, seed=0, fraction=0.2):
    """Interactions (ratings >= 4) split per user: train and test pairs."""
    pairs = pairs[ratings >= 4]
    rng = np.random.default_rng(seed)
    test = np.zeros(len(pairs), dtype=bool)
    for rows in np.split(np.argsort(pairs[:, 0], kind="stable"),
                         np.flatnonzero(np.diff(np.sort(pairs[:, 0], kind="stable"))) + 1):
        if len(rows) >= 5:
            test[rng.choice(rows, int(round(fraction * len(rows))), replace=False)] = True
    return pairs[~test], pairs[test]


def interactions(pairs, users, items):
    u, i = users.positions(pairs[:, 0]), items.positions(pairs[:, 1])
    keep = (u >= 0) & (i >= 0)
    return sp.csr_matrix((np.ones(keep.sum()), (u[keep], i[keep])),
                         shape=(len(users), len(items)))


def ease_scores(train, ridge):
    gram = (train.T @ train).toarray()
    gram[np.diag_indices_from(gram)] += ridge
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)
    weights[np.diag_indices_from(weights)] = 0
    return np.asarray(train @ weights)


def metrics(scores, train, test):
    best = top_n(scores, 100, train)
    return (recall_at_k(best, test, 20), ndcg_at_k(best, test, 10), ndcg_at_k(best, test, 100))


def ranking_table(pairs, ratings, seed=0):
    train_pairs, test_pairs = holdout(pairs, ratings, seed)
    users, items = IdIndex(train_pairs[:, 0]), IdIndex(train_pairs[:, 1])
    train = interactions(train_pairs, users, items)
    test = interactions(test_pairs, users, items)
    print(f"MovieLens-100K ranking: {train.nnz} training and {test.nnz} test interactions "
          "(ratings >= 4)")
    table = Table([("method", 36, ""), ("Recall@20", 11, ".4f"), ("NDCG@10", 10, ".4f"),
                   ("NDCG@100", 10, ".4f"), ("fit s", 8, ".2f"), ("rank s", 8, ".2f")])
    fit_s, counts = timed(lambda: np.asarray(train.sum(0)).ravel())
    rank_s, scores = timed(lambda: np.tile(counts, (train.shape[0], 1)))
    table.row("popularity", *metrics(scores, train, test), fit_s, rank_s)
    # EASE's ridge on a validation fifth of the training interactions.
    fit_pairs, valid_pairs = holdout(train_pairs, np.full(len(train_pairs), 5.0), seed + 100)
    fit_m, valid_m = interactions(fit_pairs, users, items), interactions(valid_pairs, users, items)
    ridges = (50, 100, 200, 500, 1000)
    chosen = max(ridges, key=lambda r: metrics(ease_scores(fit_m, r), fit_m, valid_m)[2])
    fit_s, scores = timed(ease_scores, train, chosen)
    table.row(f"EASE (ridge {chosen})", *metrics(scores, train, test), fit_s, None)
    fit_s, rec = timed(AutoencoderRecommender(random_state=0).fit, train_pairs)
    rank_s, best = timed(rec.recommend, users.ids, 100)
    # recommend gives item ids: back to positions for the metrics.
    best = items.positions(best.ravel()).reshape(best.shape)
    table.row("AutoencoderRecommender", recall_at_k(best, test, 20),
              ndcg_at_k(best, test, 10), ndcg_at_k(best, test, 100), fit_s, rank_s)


def _peak_mb():
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmHWM:")).split()[1]) / 1e3


def case_large():
    """Run in a subprocess: the 100,000 x 20,000 fit and its peak memory."""
    pairs, ratings = synthetic_pairs(100_000, 20_000, 10_000_000, random_state=0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _peak_mb()  # the peak, reset to the resident memory now
    rec = AutoencoderRecommender(64, orientation="user", max_epochs=1, early_stopping=False,
                                 random_state=0)
    fit_s, rec = timed(rec.fit, pairs, ratings)
    peak = _peak_mb()
    users = np.arange(1000)
    rec.recommend(users[:10], 10)  # warm
    rank_s, _ = timed(rec.recommend, users, 10)
    return {"pairs_mb": (pairs.nbytes + ratings.nbytes) / 1e6, "peak_mb": peak,
            "before_mb": before,
            "fit_s": fit_s, "recommend_s": rank_s}


def large_table():
    out = subprocess.run([sys.executable, __file__, "--case-large"], capture_output=True,
                         text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    dense_gb = 100_000 * 20_000 * 4 / 1e9
    print("Synthetic ratings, 100,000 users x 20,000 items, 10,000,000 ratings")
    table = Table([("dense float32 GB", 18, ".1f"), ("RSS before fit GB", 19, ".2f"),
                   ("peak RSS of fit GB", 20, ".2f"), ("dense / peak", 14, ".0f"),
                   ("fit s (1 epoch)", 17, ".0f"), ("recommend 1,000 users s", 25, ".2f")])
    table.row(dense_gb, result["before_mb"] / 1e3, result["peak_mb"] / 1e3,
              dense_gb * 1e3 / result["peak_mb"], result["fit_s"], result["recommend_s"])


def main():
    p = parser(__doc__)
    p.add_argument("--movielens-dir", default=None,
                   help=f"MovieLens-100K's u.data or ml-100k.inter, or their directory "
                        f"(or ${MOVIELENS_ENV})")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--skip-rmse", action="store_true")
    p.add_argument("--skip-ranking", action="store_true")
    p.add_argument("--holdout-seed", type=int, default=0, help="seed of the ranking holdout")
    p.add_argument("--large", action="store_true")
    p.add_argument("--case-large", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.case_large:
        print(json.dumps(case_large()))
        return
    warnings.filterwarnings("ignore", category=UserWarning)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if not (args.skip_rmse and args.skip_ranking):
        pairs, ratings = load_movielens(args.movielens_dir)
        if not args.skip_rmse:
            rmse_table(pairs, ratings, args.folds)
            print()
        if not args.skip_ranking:
            ranking_table(pairs, ratings, args.holdout_seed)
    if args.large:
        print()
        large_table()


if __name__ == "__main__":
    main()
