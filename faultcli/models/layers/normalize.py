"""Per-window standardisation at a model's input."""

from __future__ import annotations

import torch
from torch import nn


class WindowStandardize(nn.Module):
    """(B, C, L) → each window minus its own mean, over its own std.

    Vibration amplitude grows with load and differs between machines and sensors; a model fed windows in
    units of the training set's global std learns that scale as a feature and misreads another load. The
    shape of a window (its impacts, its spectrum's peaks) is what transfers. Computed inside the model, so
    export and inference see the same input as training.
    """

    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=-1, keepdim=True)
        std = x.std(dim=-1, keepdim=True, unbiased=False)
        return (x - mean) / (std + self.eps)
