"""One training step of a fitted estimator against torch's own AdamW step."""

import copy

import torch


def one_more_step_against_torchs_adamw(est, X, **optimizer_options):
    """Parameters after one more training step of ``est`` (fitted on the
    single batch X) and after that step taken by torch's AdamW with
    ``optimizer_options``, from the same weights and optimizer state."""
    net = est.net_
    reference = copy.deepcopy(net.module_)
    optimizer = torch.optim.AdamW(reference.parameters(), **optimizer_options)
    state = copy.deepcopy(net.optimizer_.state_dict())
    state["param_groups"][0].update(optimizer_options)
    optimizer.load_state_dict(state)
    data = torch.as_tensor(X, dtype=torch.float32, device=net.device)
    net.partial_fit(data, epochs=1)
    reference.train()
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(reference(data)[0], reference.normalize(data)).backward()
    optimizer.step()
    return list(net.module_.parameters()), list(reference.parameters())

