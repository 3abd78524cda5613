"""Time branch: learns directly from the raw window."""

from __future__ import annotations

import torch
from torch import nn

from faultcli.models.layers import CBAM1d, MixedPool1d, MultiScaleBlock1d, TemporalSelfAttention
from faultcli.registry import register


class TimeBranch(nn.Module):
    """Wide conv → 2 multi-scale blocks → CBAM → BiGRU → self-attention → max/mean/attention pooling.

    The wide first kernel (64, stride 8) acts as a learned band-pass filter that suppresses noise; with a
    max-pool it shortens the sequence 16× (1024 samples → 64 steps) for the convolutions, and another
    max-pool halves it again (→ 32 steps) before the GRU and the attention, which dominate the CPU time.
    """

    def __init__(
        self, out_dim: int = 256, width: int = 32, gru_hidden: int = 64, heads: int = 4, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv1d(1, width, 64, stride=8, padding=28, bias=False),
            nn.BatchNorm1d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool1d(2),
        )
        self.blocks = nn.Sequential(
            MultiScaleBlock1d(width, width), MultiScaleBlock1d(width, width), CBAM1d(width), nn.MaxPool1d(2)
        )
        self.gru = nn.GRU(width, gru_hidden, batch_first=True, bidirectional=True)
        self.attn = TemporalSelfAttention(2 * gru_hidden, heads, dropout)
        self.pool = MixedPool1d(2 * gru_hidden)
        self.proj = nn.Sequential(nn.Linear(self.pool.out_features, out_dim), nn.LayerNorm(out_dim))
        self.out_features = out_dim

    def forward(self, x: torch.Tensor, rpm: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, L) → (B, out_dim); ``rpm`` is unused (the raw waveform is not speed-normalised)."""
        h = self.blocks(self.stem(x))  # (B, C, T)
        h, _ = self.gru(h.transpose(1, 2))  # (B, T, 2·hidden)
        return self.proj(self.pool(self.attn(h)))


@register("branch", "time")
def time_branch(
    window: int,
    sample_rate: int,
    out_dim: int = 256,
    width: int = 32,
    gru_hidden: int = 64,
    heads: int = 4,
    dropout: float = 0.1,
) -> TimeBranch:
    """Builder of :class:`TimeBranch` (window and sample_rate are part of every branch builder's surface)."""
    return TimeBranch(out_dim=out_dim, width=width, gru_hidden=gru_hidden, heads=heads, dropout=dropout)
