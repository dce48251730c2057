"""
Deploying a pipeline with ONNX: no Python model code where it runs
===================================================================

A pipeline of a scaler, an autoencoder and a classifier, fitted on digits,
is exported to one ONNX file with :func:`skae.to_onnx` (built on skl2onnx;
the network part comes from ``torch.onnx.export``). The file then runs in
onnxruntime in a separate process in which ``import torch`` and
``import skae`` fail, as on a server, a phone or a browser that has neither:
its predictions are scikit-learn's, row for row. Needs skae's ``onnx`` extra
(from a clone: ``pip install -c constraints.txt '.[onnx]'``).
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skae
from skae import AutoencoderTransformer

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)  # ONNX models take float32
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
pipe = make_pipeline(StandardScaler(), AutoencoderTransformer(latent_dim=10, random_state=0),
                     LogisticRegression(max_iter=2000)).fit(X_train, y_train)

folder = Path(tempfile.mkdtemp())
onnx_model = skae.to_onnx(pipe, X_train[:5])  # the sample fixes the input's width and type
(folder / "digits.onnx").write_bytes(onnx_model.SerializeToString())
np.save(folder / "X_test.npy", X_test)
print("inputs:", [i.name for i in onnx_model.graph.input],
      "outputs:", [o.name for o in onnx_model.graph.output])

# %%
# The serving side: onnxruntime and numpy only. Blocking ``torch`` and
# ``skae`` in ``sys.modules`` makes any import of them fail.
serving = """
import sys
sys.modules["torch"] = sys.modules["skae"] = None
import numpy as np, onnxruntime
session = onnxruntime.InferenceSession(sys.argv[1])
X = np.load(sys.argv[2])
label = session.run(None, {session.get_inputs()[0].name: X})[0]
np.save(sys.argv[3], label)
"""
subprocess.run([sys.executable, "-c", serving, str(folder / "digits.onnx"),
                         str(folder / "X_test.npy"), str(folder / "label.npy")],
                        capture_output=True, text=True, check=True)
label = np.load(folder / "label.npy")
agree = np.mean(label == pipe.predict(X_test))
print(f"rows where onnxruntime and scikit-learn agree: {agree:.0%}")
print(f"test accuracy in onnxruntime: {np.mean(label == y_test):.3f}")
