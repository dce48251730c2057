"""
Anomaly detection
=================

``AutoencoderOutlierDetector`` learns the digits 0-7 and scores new images by
how well it reconstructs them. The 8s and 9s it has never seen score lower.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score

from skae import AutoencoderOutlierDetector, AutoencoderTransformer

X, y = load_digits(return_X_y=True)
normal = y < 8
detector = AutoencoderOutlierDetector(AutoencoderTransformer(latent_dim=8, random_state=0))
detector.fit(X[normal][:900])
X_new, is_new_digit = X[900:], ~normal[900:]
scores = detector.score_samples(X_new)
print(f"ROC AUC of the scores for the unseen digits: "
      f"{roc_auc_score(is_new_digit, -scores):.3f}")

fig = plt.figure(figsize=(6, 3.5))
ax = fig.subplots()
bins = np.linspace(scores.min(), scores.max(), 40)
ax.hist(scores[~is_new_digit], bins, alpha=0.6, label="digits 0-7 (seen)")
ax.hist(scores[is_new_digit], bins, alpha=0.6, label="digits 8-9 (unseen)")
ax.axvline(detector.offset_, color="k", linestyle="--", label="offset_")
ax.set(xlabel="score_samples (higher is more normal)", ylabel="images")
ax.legend()
plt.show()
