"""
Ratings: predicting the missing entries of a users x items matrix
=================================================================

Recommendation starts from a matrix of ratings of which most are unknown.
``AutoencoderImputer`` reads each user's row with its holes and predicts the
rest. Here the ratings are synthetic, of known rank 5 plus noise of standard
deviation 0.3 (the best error any method can reach), and 10% are observed; a
fifth of those is held out and predicted. The baselines: the item means,
``KNNImputer``, and a truncated SVD refitted to its own fills (hard-impute)
at the true rank, which no method is told in practice.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.impute import KNNImputer, SimpleImputer

from skae import AutoencoderImputer
from skae.datasets import svd_impute, synthetic_ratings

ratings, observed = synthetic_ratings(1000, 200, rank=5, observed=0.1, random_state=0)
held_out = observed & (np.random.default_rng(1).random(observed.shape) < 0.2)
X = np.where(observed & ~held_out, ratings, np.nan)
print(f"{np.isnan(X).mean():.0%} of the ratings are missing")



predictions = {
    "item means": SimpleImputer().fit_transform(X),
    "KNNImputer": KNNImputer().fit_transform(X),
    "truncated SVD\n(true rank)": svd_impute(X, 5),
    "AutoencoderImputer": AutoencoderImputer(lr=3e-4, random_state=0).fit_transform(X),
}
errors = {name: np.sqrt(np.mean((P[held_out] - ratings[held_out]) ** 2))
          for name, P in predictions.items()}
for name, error in errors.items():
    print(f"{name.replace(chr(10), ' '):28s} RMSE {error:.3f}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(errors), list(errors.values()), color="tab:blue")
ax.axvline(0.3, color="k", ls="--", lw=1, label="noise level (best possible)")
ax.set_xlabel("RMSE on held-out ratings")
ax.invert_yaxis()
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()
