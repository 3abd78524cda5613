"""Multi-scale feature extraction block: parallel convolutions of several widths, fused by a 1×1 conv."""

from __future__ import annotations

import torch
from torch import nn


def conv_bn_relu(in_ch: int, out_ch: int, kernel_size: int, stride: int = 1) -> nn.Sequential:
    """Conv1d (same padding) → BatchNorm → ReLU."""
    return nn.Sequential(
        nn.Conv1d(in_ch, out_ch, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
        nn.BatchNorm1d(out_ch),
        nn.ReLU(inplace=True),
    )


class MultiScaleBlock1d(nn.Module):
    """Kernels 3/5/7 in parallel see short and long patterns at once; concat → 1×1 reduction + residual.

    Each path has ``path_ch`` channels (default out_ch // 2, which halves the cost of the wide kernels).
    """

    def __init__(
        self, in_ch: int, out_ch: int, kernels: tuple[int, ...] = (3, 5, 7), path_ch: int | None = None
    ) -> None:
        super().__init__()
        path_ch = path_ch or max(1, out_ch // 2)
        self.paths = nn.ModuleList(conv_bn_relu(in_ch, path_ch, k) for k in kernels)
        self.reduce = nn.Sequential(nn.Conv1d(path_ch * len(kernels), out_ch, 1, bias=False), nn.BatchNorm1d(out_ch))
        self.shortcut = nn.Identity() if in_ch == out_ch else nn.Conv1d(in_ch, out_ch, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_ch, T) → (B, out_ch, T)."""
        y = self.reduce(torch.cat([path(x) for path in self.paths], dim=1))
        return torch.relu(y + self.shortcut(x))
