"""The small decoder masked-reconstruction pretraining trains beside the encoder: features → the window."""

from __future__ import annotations

import torch
from torch import nn


class WindowDecoder(nn.Module):
    """Linear → ReLU → Linear: features (B, D) → a reconstructed window (B, 1, window). Small on purpose:
    what the encoder does not capture, the decoder cannot make up."""

    def __init__(self, in_features: int, window: int, hidden: int = 256) -> None:
        super().__init__()
        self.window = window
        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, window))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.net(feats).unsqueeze(1)
