"""What a newcomer meets: progress output, and warnings for surprising settings."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderOutlierDetector, AutoencoderTransformer, VAETransformer

FAST = dict(hidden_layer_sizes=(16,), max_epochs=3, random_state=0)
FIT = ("from sklearn.datasets import load_digits\n"
       "from skae import AutoencoderTransformer\n"
       "AutoencoderTransformer(2, hidden_layer_sizes=(16,), max_epochs=5, verbose=1,"
       " random_state=0).fit(load_digits().data / 16)\n")


def test_verbose_output_in_a_pipe_has_no_colour_codes():
    result = subprocess.run([sys.executable, "-c", FIT], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    assert "\x1b[" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["epoch", "train_loss", "valid_loss", "dur"]
    assert len([line for line in lines if line.strip()[:1].isdigit()]) == 5
    assert "*" in lines[2]  # the first epoch is the best so far


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses a Linux pseudo-terminal")
def test_verbose_on_a_terminal_shows_a_progress_bar():
    import fcntl
    import pty
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # the child runs the fit on the terminal
        os.environ["OMP_NUM_THREADS"] = "1"
        os.execv(sys.executable, [sys.executable, "-c", FIT])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    assert "epoch/s" in text and "train_loss=" in text  # tqdm's bar with the losses
    assert "train_loss    valid_loss" not in text  # not the table as well


@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
def test_latent_dim_not_smaller_than_features_warns(Est, small_X):
    with pytest.warns(UserWarning, match="latent_dim=64 is not smaller than the 64 features"):
        Est(latent_dim=64, **FAST).fit(small_X)
    with pytest.warns(UserWarning, match="latent_dim=64 is not smaller"):
        AutoencoderOutlierDetector(Est(latent_dim=64, **FAST)).fit(small_X)


def test_overcomplete_denoising_autoencoder_does_not_warn(small_X):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)  # a UserWarning too
        est = AutoencoderTransformer(latent_dim=100, noise=0.2, **FAST).fit(small_X)
    assert est.transform(small_X).shape == (len(small_X), 100)
    assert np.isfinite(est.score_samples(small_X)).all()


def test_threads_are_chosen_per_fit_and_restored(small_X, monkeypatch):
    import torch

    from skae._modules import AutoencoderModule
    from skae._net import AutoencoderNet
    from skae._runtime import training_threads

    seen, original = [], AutoencoderNet.run_single_epoch

    def run_single_epoch(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AutoencoderNet, "run_single_epoch", run_single_epoch)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        small = AutoencoderModule(64, 2, (256, 128))
        large = AutoencoderModule(784, 30, (1000, 500, 250))
        assert training_threads(small, 64, "cpu") == 1
        assert training_threads(large, 128, "cpu") == 2
        assert training_threads(large, 128, "cuda") is None  # no CPU threads to choose
        AutoencoderTransformer(2, max_epochs=2, random_state=0).fit(small_X)
        assert seen and set(seen) == {1}  # the default network on digits: one thread
        assert torch.get_num_threads() == 2  # restored
    finally:
        torch.set_num_threads(previous)
