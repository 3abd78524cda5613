"""WDCNN baseline (Zhang et al. 2017, "A new deep learning model for fault diagnosis with good anti-noise
and domain adaptation ability on raw vibration signals", Sensors 17(2):425).

Wide first kernel (64, stride 16, 16 channels) then four small-kernel blocks (32, 64, 64, 64 channels),
each conv → BN → ReLU → max-pool 2, then a 100-unit hidden layer. The last conv has no padding, as in the
paper. ≈ 54.5 k parameters (10 classes) for the paper's window of 2048, whose last map flattens to 64 × 3;
≈ 41.7 k for a window of 1024 (64 × 1), the shortest it accepts. The ArcFace head adds num_classes × 100
on top (training only).
"""

from __future__ import annotations

import torch
from torch import nn

import faultcli.models.heads  # noqa: F401  (registers the heads)
from faultcli.errors import ConfigError, DataError
from faultcli.models.base import Classifier
from faultcli.models.layers import WindowStandardize
from faultcli.registry import create, register


def _block(in_ch: int, out_ch: int, kernel_size: int, stride: int = 1, padding: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(in_ch, out_ch, kernel_size, stride=stride, padding=padding),
        nn.BatchNorm1d(out_ch),
        nn.ReLU(inplace=True),
        nn.MaxPool1d(2),
    )


class WDCNN(Classifier):
    """Raw window (B, 1, window) → 100-d features → logits; same surface as the multimodal model."""

    def __init__(
        self,
        num_classes: int = 10,
        window: int = 2048,
        dropout: float = 0.0,
        arcface_margin: float = 0.3,
        arcface_scale: float = 30.0,
        window_norm: bool = False,
    ) -> None:
        super().__init__()
        steps = wdcnn_steps(window)
        if steps < 1:
            raise ConfigError(f"wdcnn needs data.window >= 1024 (its five pooling stages), got {window}")
        self.window = window
        self.input_norm = WindowStandardize() if window_norm else nn.Identity()
        self.features = nn.Sequential(
            _block(1, 16, 64, stride=16, padding=24),
            _block(16, 32, 3),
            _block(32, 64, 3),
            _block(64, 64, 3),
            _block(64, 64, 3, padding=0),
            nn.Flatten(),
            nn.Linear(64 * steps, 100),
            nn.BatchNorm1d(100),
            nn.ReLU(inplace=True),
        )
        self.num_features = 100
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(100, num_classes))
        self.arcface = create(
            "head", "arcface", in_features=100, num_classes=num_classes, margin=arcface_margin, scale=arcface_scale
        )
        self.modality_weights: torch.Tensor | None = None

    def forward_features(self, x: torch.Tensor, rpm: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, window) → (B, 100); ``rpm`` is accepted for a uniform surface and unused."""
        if x.dim() != 3 or x.shape[1] != 1 or x.shape[-1] != self.window:
            raise DataError(
                f"wdcnn expects windows shaped (B, 1, {self.window}), got {tuple(x.shape)}; "
                f"prepare the data with data.window = {self.window} or rebuild the model"
            )
        return self.features(self.input_norm(x))

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        return self.head(feats)


def wdcnn_steps(window: int) -> int:
    """Length of WDCNN's last feature map for a window (0 when the window is too short)."""
    length = (window + 2 * 24 - 64) // 16 + 1  # first conv
    length //= 2
    for _ in range(3):  # padded 3-conv keeps the length, the pool halves it
        length //= 2
    length = (length - 2) // 2  # unpadded last conv, then pool
    return max(length, 0)


@register("model", "wdcnn")
def wdcnn(
    num_classes: int = 10,
    window: int = 2048,
    sample_rate: int = 12000,
    dropout: float = 0.0,
    arcface_margin: float = 0.3,
    arcface_scale: float = 30.0,
    window_norm: bool = False,
) -> WDCNN:
    """Builder of :class:`WDCNN` (sample_rate is accepted for the shared vibration-model surface)."""
    return WDCNN(num_classes, window, dropout, arcface_margin, arcface_scale, window_norm)
