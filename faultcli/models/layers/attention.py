"""Attention blocks: SE and CBAM for 1-D feature maps, EMA for 2-D maps, temporal self-attention."""

from __future__ import annotations

import torch
import torch.nn.functional as F
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
    path weight each other's pixels by cross-spatial softmax, so no channel reduction is needed. The
    small convs are shared by all groups, as in the paper; they run as one grouped conv over the whole
    map (same result as folding groups into the batch, and about twice as fast on a CPU).
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

    def _shared(self, conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
        g = self.groups
        return F.conv2d(x, conv.weight.repeat(g, 1, 1, 1), conv.bias.repeat(g), padding=conv.padding, groups=g)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) → (B, C, H, W)."""
        b, c, h, w = x.shape
        g = self.groups
        # 1×1 path: encode rows and columns together, then gate every group along both axes.
        hw = self._shared(self.conv1x1, torch.cat([x.mean(dim=3, keepdim=True), x.mean(dim=2).unsqueeze(-1)], 2))
        gate_h, gate_w = torch.split(hw, [h, w], dim=2)
        x1 = x * gate_h.sigmoid() * gate_w.transpose(2, 3).sigmoid()
        x1 = F.group_norm(x1, c, self.norm.weight.repeat(g), self.norm.bias.repeat(g), self.norm.eps)
        x2 = self._shared(self.conv3x3, x)
        # Cross-spatial learning: each path's global descriptor (softmax over a group's channels) weights
        # the other path's pixels.
        d1 = torch.softmax(x1.mean(dim=(2, 3)).reshape(b, g, 1, -1), dim=-1)
        d2 = torch.softmax(x2.mean(dim=(2, 3)).reshape(b, g, 1, -1), dim=-1)
        weights = d1 @ x2.reshape(b, g, c // g, h * w) + d2 @ x1.reshape(b, g, c // g, h * w)  # (B, g, 1, HW)
        return (x.reshape(b, g, c // g, h * w) * weights.sigmoid()).reshape(b, c, h, w)


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
