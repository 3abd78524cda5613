"""1-D ResNet basic block with squeeze-and-excitation."""

from __future__ import annotations

import torch
from torch import nn

from faultcli.models.layers.attention import SE1d


class ResidualBlock1d(nn.Module):
    """Two conv-BN layers, an SE gate on the residual path, and a projected shortcut when shapes change."""

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1, kernel_size: int = 3, se: bool = True) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.body = nn.Sequential(
            nn.Conv1d(in_ch, out_ch, kernel_size, stride=stride, padding=pad, bias=False),
            nn.BatchNorm1d(out_ch),
            nn.ReLU(inplace=True),
            nn.Conv1d(out_ch, out_ch, kernel_size, padding=pad, bias=False),
            nn.BatchNorm1d(out_ch),
            SE1d(out_ch) if se else nn.Identity(),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(
                nn.Conv1d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm1d(out_ch)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_ch, T) → (B, out_ch, ceil(T / stride))."""
        return torch.relu(self.body(x) + self.shortcut(x))
