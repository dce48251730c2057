"""
Sparse data in chunks: word counts streamed through ``partial_fit``
===================================================================

Documents of three topics as a sparse matrix of word counts (a CSR matrix,
never densified whole: each training batch is densified on its own). The
autoencoder learns it chunk by chunk with ``partial_fit``, as a stream or a
Dask array's blocks would come, one pass over the chunks per round; its 2-d
codes of held-out documents separate the topics.
"""

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp

from skae import AutoencoderTransformer

rng = np.random.default_rng(0)
n_docs, vocabulary = 3000, 2000
topic = rng.integers(3, size=n_docs)
# Each topic favours its own third of the vocabulary; 40 words a document.
weights = np.full((3, vocabulary), 0.2)
for t in range(3):
    weights[t, t * vocabulary // 3:(t + 1) * vocabulary // 3] = 1.0
weights /= weights.sum(axis=1, keepdims=True)
counts = np.stack([rng.multinomial(40, weights[t]) for t in topic])
X = sp.csr_matrix(np.log1p(counts), dtype=np.float32)
print(f"{X.shape[0]} documents x {X.shape[1]} words, {X.nnz / np.prod(X.shape):.1%} nonzero")

X_train, X_test, topic_test = X[:2500], X[2500:], topic[2500:]
ae = AutoencoderTransformer(latent_dim=2, hidden_layer_sizes=(64,), random_state=0)
for _ in range(5):  # five rounds
    for start in range(0, X_train.shape[0], 500):  # five chunks of 500 documents
        ae.partial_fit(X_train[start:start + 500])
print(f"{ae.n_iter_} passes over a chunk; test MSE {-ae.score(X_test):.4f}")

codes = ae.transform(X_test)
plt.scatter(codes[:, 0], codes[:, 1], c=topic_test, cmap="tab10", s=8)
plt.title("held-out documents, coloured by topic")
plt.xticks([])
plt.yticks([])
plt.show()
