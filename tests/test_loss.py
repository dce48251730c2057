"""The loss objects: one home for what each reconstruction loss means."""

import numpy as np
import pytest
import torch

from skae._loss import LOSSES, get_loss


@pytest.mark.parametrize("name", ["mse", "bce"])
def test_mean_is_the_mean_of_per_element_and_likelihood_sums_it(name):
    loss = get_loss(name)
    generator = torch.Generator().manual_seed(0)
    raw = torch.randn(5, 7, generator=generator)
    target = torch.rand(5, 7, generator=generator)
    per_element = loss.per_element(raw, target)
    torch.testing.assert_close(loss.mean(raw, target), per_element.mean())
    if name == "bce":
        torch.testing.assert_close(loss.log_likelihood(raw, target), -per_element.sum(-1))
    else:  # Gaussian: unit variance gives -0.5 (squared error + log 2 pi)
        expected = -0.5 * (per_element + np.log(2 * np.pi)).sum(-1)
        torch.testing.assert_close(loss.log_likelihood(raw, target, torch.tensor(1.0)),
                                   expected)


def test_links_domains_and_units():
    mse, bce = LOSSES["mse"], LOSSES["bce"]
    raw = torch.tensor([-2.0, 0.0, 3.0])
    torch.testing.assert_close(mse.link(raw), raw)
    torch.testing.assert_close(bce.link(raw), torch.sigmoid(raw))
    mse.check_domain(np.array([[-1e6, 1e6]]))  # anything finite
    bce.check_domain(np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"loss='bce' needs X in \[0, 1\].*MinMaxScaler"):
        bce.check_domain(np.array([[0.5, 1.5]]))
    error = torch.tensor([2.0])
    torch.testing.assert_close(mse.to_data_units(error, torch.tensor(3.0)), torch.tensor([18.0]))
    torch.testing.assert_close(bce.to_data_units(error, torch.tensor(3.0)), error)
    assert mse.trains_in_internal_space and not bce.trains_in_internal_space
    assert mse.learns_variance and not bce.learns_variance
