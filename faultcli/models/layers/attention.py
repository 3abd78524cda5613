"""Attention blocks: SE and CBAM for 1-D feature maps, EMA for 2-D maps, temporal self-attention."""

from __future__ import annotations

import torch
from torch import nn


class SE1d(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018): rescales channels by a gate computed from their means."""

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        hidden = max(4, channels // reduction)
        self.gate = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels), nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) → (B, C, T)."""
        return x * self.gate(x.mean(dim=-1)).unsqueeze(-1)


class CBAM1d(nn.Module):
    """CBAM (Woo et al. 2018) for 1-D maps: channel attention from mean+max, then spatial attention over time."""

    def __init__(self, channels: int, reduction: int = 8, kernel_size: int = 7) -> None:
        super().__init__()
        hidden = max(4, channels // reduction)
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels))
        self.spatial = nn.Conv1d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) → (B, C, T)."""
        channel = torch.sigmoid(self.mlp(x.mean(dim=-1)) + self.mlp(x.amax(dim=-1)))
        x = x * channel.unsqueeze(-1)
        # Where in time to look: a conv over the per-step channel mean and max.
        stats = torch.stack([x.mean(dim=1), x.amax(dim=1)], dim=1)
        return x * torch.sigmoid(self.spatial(stats))


class EMA2d(nn.Module):
    """Efficient Multi-scale Attention (Ouyang et al. 2023) on (B, C, H, W) maps.

    Channels are split into ``groups``; inside each group a 1×1 path (attention along H and W) and a 3×3
    path weight each other's pixels by cross-spatial softmax, so no channel reduction is needed.
    """

    def __init__(self, channels: int, groups: int = 8) -> None:
        super().__init__()
        if channels % groups:
            raise ValueError(f"EMA2d: channels ({channels}) must be divisible by groups ({groups})")
        self.groups = groups
        sub = channels // groups
        self.conv1x1 = nn.Conv2d(sub, sub, 1)
        self.conv3x3 = nn.Conv2d(sub, sub, 3, padding=1)
        self.norm = nn.GroupNorm(sub, sub)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) → (B, C, H, W)."""
        b, c, h, w = x.shape
        g = x.reshape(b * self.groups, c // self.groups, h, w)
        # 1×1 path: encode rows and columns together, then gate the group along both axes.
        hw = self.conv1x1(torch.cat([g.mean(dim=3, keepdim=True), g.mean(dim=2, keepdim=True).transpose(2, 3)], 2))
        gate_h, gate_w = torch.split(hw, [h, w], dim=2)
        x1 = self.norm(g * gate_h.sigmoid() * gate_w.transpose(2, 3).sigmoid())
        x2 = self.conv3x3(g)
        # Cross-spatial learning: each path's global descriptor weights the other path's pixels.
        d1 = torch.softmax(x1.mean(dim=(2, 3)), dim=-1).unsqueeze(1)  # (bg, 1, c/g)
        d2 = torch.softmax(x2.mean(dim=(2, 3)), dim=-1).unsqueeze(1)
        weights = d1 @ x2.flatten(2) + d2 @ x1.flatten(2)  # (bg, 1, h*w)
        return (g * weights.reshape(-1, 1, h, w).sigmoid()).reshape(b, c, h, w)


class TemporalSelfAttention(nn.Module):
    """Multi-head self-attention over time steps with a residual connection and LayerNorm."""

    def __init__(self, dim: int, heads: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) → (B, T, D)."""
        out, _ = self.attn(x, x, x, need_weights=False)
        return self.norm(x + out)
