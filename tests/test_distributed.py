"""Data-parallel training over torch.distributed: 2 CPU processes (gloo)."""

import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytestmark = pytest.mark.xdist_group("distributed")

_SCRIPT = textwrap.dedent("""
    import sys, warnings
    import numpy as np
    import torch
    import torch.distributed as dist
    import torch.multiprocessing as mp
    from sklearn.datasets import load_digits
    from skae import {Est}

    def data():
        X = load_digits().data / 16
        if {holes}:  # the imputer's rows have holes
            X[np.random.default_rng(0).random(X.shape) < 0.2] = np.nan
        return X

    def fit(X):
        warnings.simplefilter("ignore")
        est = {Est}(latent_dim=2, hidden_layer_sizes=(32,), max_epochs=6, random_state=0).fit(X)
        return est.loss_curve_, est.transform(X)

    def worker(rank, out, port):
        torch.set_num_threads(1)
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{{port}}", rank=rank,
                                world_size=2)
        curve, codes = fit(data())
        np.savez(f"{{out}}/rank{{rank}}.npz", curve=curve, codes=codes)
        dist.destroy_process_group()

    if __name__ == "__main__":
        out, port = sys.argv[1], int(sys.argv[2])
        torch.set_num_threads(1)
        curve, codes = fit(data())
        np.savez(f"{{out}}/single.npz", curve=curve, codes=codes)
        mp.spawn(worker, args=(out, port), nprocs=2)
""")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("Est", ["AutoencoderTransformer", "VAETransformer",
                                 "AutoencoderImputer"])
def test_two_gloo_processes_train_as_one(Est, tmp_path):
    script = tmp_path / "ddp.py"
    script.write_text(_SCRIPT.format(Est=Est, holes=Est == "AutoencoderImputer"))
    subprocess.run([sys.executable, str(script), str(tmp_path), str(_free_port())],
                   check=True, timeout=600, capture_output=True)
    single, *ranks = (np.load(tmp_path / f"{name}.npz")
                      for name in ("single", "rank0", "rank1"))
    # Both processes hold the same model ...
    np.testing.assert_array_equal(ranks[0]["codes"], ranks[1]["codes"])
    np.testing.assert_array_equal(ranks[0]["curve"], ranks[1]["curve"])
    # ... and it learns as one process does on whole batches (same batches,
    # gradients all-reduced; only the summation order and the per-process
    # random draws differ).
    np.testing.assert_allclose(ranks[0]["curve"], single["curve"], rtol=0.02)
