"""MMD and CORAL on Gaussian samples with known shifts."""

import pytest
import torch

from faultcli.losses.domain import coral, mmd


def gaussians(n_source: int = 64, n_target: int = 48, dim: int = 8, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n_source, dim, generator=g), torch.randn(n_target, dim, generator=g)


def test_identical_samples_give_zero():
    source, _ = gaussians()
    assert mmd(source, source.clone()).item() == pytest.approx(0.0, abs=1e-6)
    assert mmd(source, source.clone(), bandwidth=3.0).item() == pytest.approx(0.0, abs=1e-6)
    assert coral(source, source.clone()).item() == pytest.approx(0.0, abs=1e-6)


def test_all_equal_samples_give_zero_not_nan():
    same = torch.ones(4, 3)
    assert mmd(same, same).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("bandwidth", [None, 16.0])
def test_mmd_grows_with_a_mean_shift(bandwidth):
    source, target = gaussians()  # unequal batch sizes
    values = [mmd(source, target + shift, bandwidth=bandwidth).item() for shift in (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)]
    assert all(a < b for a, b in zip(values, values[1:], strict=False)), values
    assert values[0] < 0.2 < 2.0 < values[-1]


def test_mmd_matches_the_kernel_sums_written_out():
    source, target = gaussians(3, 2, 2, seed=1)
    b, mul, num = 2.0, 2.0, 3  # bandwidths 1, 2, 4

    def k(x, y):
        d = float(((x - y) ** 2).sum())
        return sum(torch.exp(torch.tensor(-d / (b * mul ** (i - num // 2)))).item() for i in range(num))

    def mean_k(xs, ys):
        return sum(k(x, y) for x in xs for y in ys) / (len(xs) * len(ys))

    expected = mean_k(source, source) + mean_k(target, target) - 2 * mean_k(source, target)
    assert mmd(source, target, kernel_mul=mul, kernel_num=num, bandwidth=b).item() == pytest.approx(expected, rel=1e-5)


def test_coral_grows_with_a_covariance_scale_and_matches_its_formula():
    source, target = gaussians(n_source=200, n_target=150)
    values = [coral(source, scale * target).item() for scale in (1.0, 1.5, 2.0, 3.0)]
    assert all(a < b for a, b in zip(values, values[1:], strict=False)), values
    d = source.shape[1]
    expected = ((torch.cov(source.T) - torch.cov(2.0 * target.T)) ** 2).sum() / (4 * d * d)
    assert coral(source, 2.0 * target).item() == pytest.approx(expected.item(), rel=1e-5)


def test_gradients_reach_both_domains():
    source = torch.randn(10, 4, requires_grad=True)
    target = (torch.randn(7, 4) + 1.0).requires_grad_()
    (mmd(source, target) + coral(source, target)).backward()
    for grad in (source.grad, target.grad):
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_mismatched_widths_and_tiny_batches_are_refused():
    with pytest.raises(ValueError, match="width"):
        mmd(torch.randn(4, 3), torch.randn(4, 2))
    with pytest.raises(ValueError, match="at least 2"):
        coral(torch.randn(1, 3), torch.randn(4, 3))
    with pytest.raises(ValueError, match="kernel_num"):
        mmd(torch.randn(4, 3), torch.randn(4, 3), kernel_num=0)
