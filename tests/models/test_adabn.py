"""AdaBN: BatchNorm statistics recomputed on target windows, nothing else touched."""

import pytest
import torch
from torch import nn

from faultcli.errors import DataError
from faultcli.models.adabn import adapt_batchnorm


class Net(nn.Module):
    """Dropout in front of a BatchNorm: its statistics must be taken with dropout off."""

    def __init__(self) -> None:
        super().__init__()
        self.drop = nn.Dropout(0.5)
        self.bn = nn.BatchNorm1d(3)
        self.conv = nn.Conv1d(3, 2, 1)

    def forward(self, x: torch.Tensor, shift: torch.Tensor | None = None) -> torch.Tensor:
        x = x if shift is None else x + shift
        return self.conv(self.bn(self.drop(x)))


def target_windows(seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 3.0 + 2.0 * torch.randn(12, 3, 50, generator=g) * torch.tensor([1.0, 0.5, 2.0])[:, None]


def test_statistics_are_the_target_data_per_channel_statistics():
    net = Net().eval()
    data = target_windows()
    seen = adapt_batchnorm(net, [data], "cpu")
    assert seen == 12
    assert torch.allclose(net.bn.running_mean, data.mean(dim=(0, 2)), atol=1e-5)
    assert torch.allclose(net.bn.running_var, data.var(dim=(0, 2), unbiased=True), atol=1e-4)


def test_several_batches_average_cumulatively():
    net = Net()
    data = target_windows(1)
    seen = adapt_batchnorm(net, list(data.split(4)), "cpu")
    assert seen == 12 and int(net.bn.num_batches_tracked) == 3
    assert torch.allclose(net.bn.running_mean, data.mean(dim=(0, 2)), atol=1e-5)
    batch_vars = torch.stack([b.var(dim=(0, 2), unbiased=True) for b in data.split(4)])
    assert torch.allclose(net.bn.running_var, batch_vars.mean(dim=0), atol=1e-4)


def test_weights_momentum_and_modes_are_kept():
    net = Net()
    net.bn.momentum = 0.05
    net.conv.eval()  # a mixed state comes back as it was
    weights = {k: v.clone() for k, v in net.named_parameters()}
    adapt_batchnorm(net, [target_windows()], "cpu")
    assert all(torch.equal(v, weights[k]) for k, v in net.named_parameters())
    assert net.bn.momentum == 0.05
    assert net.training and net.bn.training and net.drop.training and not net.conv.training


def test_dict_batches_pass_their_model_inputs():
    net = Net().eval()
    data = target_windows()
    adapt_batchnorm(net, [{"x": data, "y": torch.zeros(12), "extra": {"shift": torch.tensor(1.0)}}], "cpu")
    assert torch.allclose(net.bn.running_mean, data.mean(dim=(0, 2)) + 1.0, atol=1e-5)


def test_no_windows_is_an_error_and_keeps_the_old_statistics():
    net = Net()
    net.bn.running_mean.fill_(7.0)
    with pytest.raises(DataError, match="no target windows"):
        adapt_batchnorm(net, [], "cpu")
    assert torch.equal(net.bn.running_mean, torch.full((3,), 7.0)) and net.bn.momentum == 0.1


def test_a_model_without_batchnorm_is_left_alone():
    assert adapt_batchnorm(nn.Linear(3, 2), iter(()), "cpu") == 0
