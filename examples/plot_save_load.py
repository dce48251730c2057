"""
Saving and loading without pickle
=================================

``skae.save`` writes a fitted estimator as JSON text and tensors in PyTorch's
zip format; ``skae.load`` reads it with ``torch.load(weights_only=True)``,
which refuses any other object, and rebuilds the estimator from skae's own
code: loading a file never runs code from it. A loaded detector predicts
exactly as the saved one; a file that is not a skae model is refused.
"""

import pickle
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

import skae
from skae import AutoencoderOutlierDetector, AutoencoderTransformer

X, y = load_digits(return_X_y=True)
detector = AutoencoderOutlierDetector(AutoencoderTransformer(latent_dim=8, random_state=0),
                                      contamination=0.05).fit(X[y != 8])

folder = Path(tempfile.mkdtemp())
skae.save(detector, folder / "detector.skae")
loaded = skae.load(folder / "detector.skae")
print("same labels:", np.array_equal(loaded.predict(X), detector.predict(X)))
print("same scores:", np.array_equal(loaded.score_samples(X), detector.score_samples(X)))
print(f"file: {(folder / 'detector.skae').stat().st_size / 1e3:.0f} kB "
      f"(a pickle: {len(pickle.dumps(detector)) / 1e3:.0f} kB, the optimizer's state included)")

# %%
# A pickle is not a skae model file: skae.load refuses it, whatever it holds.
(folder / "model.pkl").write_bytes(pickle.dumps(detector))
try:
    skae.load(folder / "model.pkl")
except ValueError as error:
    print(error)
