"""Where and how a fit runs: the device, torch's CPU threads, seeds and the
tensor the data becomes (torch, numpy and scikit-learn's utilities)."""

import math
import re
import threading
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = ["as_float32_tensor", "data_parallel", "resolve_device", "seed_from",
           "seeded_global_rng", "shared_seed", "torch_threads", "training_threads"]


def resolve_device(device):
    """Return the torch device string that ``device`` names.

    Parameters
    ----------
    device : str
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (CUDA when available,
        else CPU).

    Returns
    -------
    device : str

    Raises
    ------
    ValueError
        If ``device`` is malformed or names a CUDA device that is not available.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    match = re.fullmatch(r"cuda(?::(\d+))?", device)
    if match is None:
        raise ValueError(
            f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto'; got {device!r}."
        )
    if not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine (torch.cuda.is_available() is False). Use device='cpu', or "
            "device='auto' to take CUDA only where it exists."
        )
    if match.group(1) is not None and int(match.group(1)) >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r} was requested but only {torch.cuda.device_count()} "
            "CUDA device(s) are available."
        )
    return device


def seed_from(random_state):
    """An int seed from ``random_state``, without touching global RNG state.

    ``None`` draws fresh OS entropy (each fit differs), not numpy's global RNG.
    """
    if random_state is None:
        return int(np.random.default_rng().integers(np.iinfo(np.int32).max))
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def as_float32_tensor(X):
    """X as a float32 tensor, sharing memory with X where torch can."""
    if X.dtype == np.float32 and X.flags.c_contiguous and X.flags.writeable:
        return torch.from_numpy(X)  # never written to
    return torch.from_numpy(np.array(X, dtype=np.float32, order="C"))


#: Multiply-adds per training batch that keep one more CPU thread busy.
_WORK_PER_THREAD = 50_000_000


def training_threads(module, batch_size, device):
    """CPU threads for training ``module``: one per ``_WORK_PER_THREAD``
    multiply-adds of a batch's forward pass, at most torch's current setting.

    A small network gains nothing from a second thread, and on a machine
    where other processes use the cores, idle threads spinning for work slow
    it many times over.
    """
    if torch.device(device).type != "cpu":
        return None
    work = _multiply_adds_per_row(module) * batch_size
    return max(1, min(torch.get_num_threads(), work // _WORK_PER_THREAD))


def _multiply_adds_per_row(module):
    """Multiply-adds of ``module``'s forward pass on one row, counted by
    running it on one row with hooks on its linear and convolutional layers."""
    counts = []

    def count(layer, inputs, output):
        # A convolution applies its weights at every output position, a
        # transposed one at every input position.
        if isinstance(layer, torch.nn.Linear):
            positions = output.shape[1:-1]
        elif isinstance(layer, (torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d)):
            positions = inputs[0].shape[2:]
        else:
            positions = output.shape[2:]
        counts.append(layer.weight.numel() * math.prod(positions))

    layers = (torch.nn.Linear, torch.nn.modules.conv._ConvNd)  # convolutions of any kind
    hooks = [m.register_forward_hook(count) for m in module.modules() if isinstance(m, layers)]
    try:
        with torch.no_grad():
            module.eval()(module.center[None])
    finally:
        for hook in hooks:
            hook.remove()
    return sum(counts)


def data_parallel():
    """``(rank, world_size)`` of the torch.distributed process group a fit
    runs in (``(0, 1)`` outside one, or in a group of one process)."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shared_seed(seed):
    """``seed`` as rank 0 drew it, in every process of a data-parallel fit."""
    if data_parallel()[1] == 1:
        return seed
    box = [seed]
    torch.distributed.broadcast_object_list(box, src=0)
    return int(box[0])


#: Held while a block owns torch's global generator: concurrent fits in
#: threads would otherwise save and restore each other's states.
_GLOBAL_RNG_LOCK = threading.RLock()


@contextmanager
def seeded_global_rng(seed, device="cpu", enabled=True):
    """torch's global generator (and ``device``'s) seeded with ``seed`` for
    the block, then restored: what draws from it (a user's network built or
    trained with dropout) is reproducible, and the caller's state untouched.

    The generator is process-wide: blocks in other threads wait for this one.
    ``enabled=False`` does nothing (skae's own networks never draw from it).
    """
    if not enabled:
        yield
        return
    device = torch.device(device)
    devices = [device.index or 0] if device.type == "cuda" else []
    with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(seed)
        for index in devices:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


@contextmanager
def torch_threads(n):
    """torch's intra-op thread count set to ``n`` for the block, then restored
    (``None`` changes nothing)."""
    previous = torch.get_num_threads()
    if n is None or n == previous:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
