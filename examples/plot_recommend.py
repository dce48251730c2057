"""
Recommendation: ratings predicted and items ranked from (user, item) pairs
==========================================================================

A recommender learns from who rated what. ``AutoencoderRecommender`` takes
(user, item) pairs and their ratings, as a scikit-learn regressor takes ``X``
and ``y``, predicts the rating of any pair, and ranks for each user the items
not yet rated. Here the ratings are synthetic, of known rank 5 plus noise of
standard deviation 0.3 (the best error any method can reach): 1,000 users,
300 items, 30,000 ratings of which a fifth is held out. The baselines: the
global mean, and the user and item biases (the recommender's own baseline,
which its network learns to correct).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from skae import AutoencoderRecommender
from skae.datasets import synthetic_pairs

pairs, ratings = synthetic_pairs(1000, 300, 30_000, rank=5, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(pairs, ratings, test_size=0.2,
                                                    random_state=0)
rec = AutoencoderRecommender(random_state=0).fit(X_train, y_train)

# The baseline alone: what the recommender predicts with its network left out.
users = np.searchsorted(rec.users_, X_test[:, 0])
items = np.searchsorted(rec.items_, X_test[:, 1])
baseline = rec.global_mean_ + rec.user_bias_[users] + rec.item_bias_[items]
predictions = {"global mean": np.full(len(y_test), y_train.mean()),
               "user + item biases": baseline,
               "AutoencoderRecommender": rec.predict(X_test)}
errors = {name: np.sqrt(np.mean((p - y_test) ** 2)) for name, p in predictions.items()}
for name, error in errors.items():
    print(f"{name:24s} RMSE {error:.3f}")

fig, ax = plt.subplots(figsize=(6, 2.5))
ax.barh(list(errors), list(errors.values()), color="tab:blue")
ax.axvline(0.3, color="black", linestyle=":", label="noise (best possible)")
ax.set_xlabel("RMSE on held-out ratings")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
# Each user's five best items among those not yet rated, best first. A user
# who arrives after fit is folded in from a few ratings; that needs rows of
# users (``orientation="user"``), which predicted these ratings a little
# worse than the default rows of items (RMSE 0.551 against 0.482).
print(rec.recommend([0, 1, 2], n=5))
by_user = AutoencoderRecommender(orientation="user", random_state=0).fit(X_train, y_train)
print(by_user.recommend(["newcomer"], n=5,
                        history=[["newcomer", 3, 5.0], ["newcomer", 10, 4.5],
                                 ["newcomer", 42, 1.0]]))
