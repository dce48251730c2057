"""Dask: a search on a cluster equals the local one; arrays in blocks."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skae import AutoencoderTransformer

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.xdist_group("dask")  # one cluster at a time on 2 cores


def _search():
    return GridSearchCV(AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=5,
                                               random_state=0),
                        {"latent_dim": [2, 4]}, cv=2)


@pytest.mark.quality  # starts a cluster of 2 processes
def test_grid_search_on_a_local_cluster_equals_the_local_search(small_X):
    from joblib import parallel_backend

    local = _search().fit(small_X)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster), parallel_backend("dask"):
        remote = _search().fit(small_X)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])


def test_dask_array_trains_block_by_block_and_transforms_with_map_blocks(small_X):
    X = da.from_array(small_X, chunks=(100, 64))
    ae = AutoencoderTransformer(3, hidden_layer_sizes=(16,), random_state=0)
    for _ in range(2):
        for block in X.blocks:
            ae.partial_fit(block.compute())
    assert ae.n_iter_ == 2 * X.numblocks[0]
    codes = X.map_blocks(ae.transform, dtype=small_X.dtype, chunks=(100, 3))
    np.testing.assert_array_equal(codes.compute(), ae.transform(small_X))
