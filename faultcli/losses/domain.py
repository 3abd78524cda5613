"""Domain discrepancy losses between source and target features (B, D): multi-kernel MMD (DAN, Long et
al. 2015) and CORAL (Sun & Saenko 2016). Minimising either pulls the two feature distributions together."""

from __future__ import annotations

import torch


def _check_pair(source: torch.Tensor, target: torch.Tensor, least: int) -> None:
    if source.dim() != 2 or target.dim() != 2 or source.shape[1] != target.shape[1]:
        raise ValueError(
            f"source and target must be (N, D) features of one width, got {tuple(source.shape)}, {tuple(target.shape)}"
        )
    if len(source) < least or len(target) < least:
        raise ValueError(f"each domain needs at least {least} samples, got {len(source)} and {len(target)}")


def _squared_distances(x: torch.Tensor) -> torch.Tensor:
    """||x_i − x_j||² for every pair of rows, without the square root (whose gradient is infinite at 0)."""
    norms = (x * x).sum(dim=1)
    return (norms[:, None] + norms[None, :] - 2.0 * x @ x.T).clamp_min(0.0)


def mmd(
    source: torch.Tensor,
    target: torch.Tensor,
    kernel_mul: float = 2.0,
    kernel_num: int = 5,
    bandwidth: float | None = None,
) -> torch.Tensor:
    """Squared MMD with a sum of ``kernel_num`` Gaussian kernels exp(−||x − y||² / b_i), b_i = b·mul^(i − num//2).

    The middle bandwidth ``b`` is the mean squared distance between distinct pooled samples (held constant
    for the gradient, as in DAN and UDTL) unless ``bandwidth`` is given. Biased estimator (V-statistic:
    the kernel's diagonal terms are kept), so it is ≥ 0 and exactly 0 for identical samples. Source and
    target batches may differ in size.
    """
    _check_pair(source, target, least=1)
    if kernel_num < 1 or kernel_mul <= 0:
        raise ValueError(f"need kernel_num >= 1 and kernel_mul > 0, got {kernel_num} and {kernel_mul}")
    total = torch.cat([source, target]).float()
    n, n_source = len(total), len(source)
    dist = _squared_distances(total)
    if bandwidth is None:
        base = dist.detach().sum() / max(n * n - n, 1)
    else:
        if bandwidth <= 0:
            raise ValueError(f"bandwidth must be > 0, got {bandwidth}")
        base = torch.tensor(float(bandwidth), device=total.device)
    # all samples equal: every distance is 0 and any positive bandwidth gives the same kernel
    base = base.clamp_min(1e-12) / kernel_mul ** (kernel_num // 2)
    kernel = sum(torch.exp(-dist / (base * kernel_mul**i)) for i in range(kernel_num))
    ss = kernel[:n_source, :n_source].mean()
    tt = kernel[n_source:, n_source:].mean()
    st = kernel[:n_source, n_source:].mean()
    return ss + tt - 2.0 * st


def coral(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CORAL: ||C_s − C_t||²_F / (4 d²) with C the unbiased feature covariance of each domain (d features)."""
    _check_pair(source, target, least=2)
    dim = source.shape[1]
    c_source = torch.cov(source.float().T)
    c_target = torch.cov(target.float().T)
    return ((c_source - c_target) ** 2).sum() / (4.0 * dim * dim)
