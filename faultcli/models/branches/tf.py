"""Time–frequency branch: a small 2-D CNN with EMA attention over an STFT or CWT image."""

from __future__ import annotations

import torch
from torch import nn

from faultcli.errors import ConfigError
from faultcli.models.layers import EMA2d
from faultcli.registry import register
from faultcli.signal.transforms import cwt_scalogram, stft_spectrogram

TF_TRANSFORMS = ("stft", "cwt")


def conv_block2d(in_ch: int, out_ch: int, pool: bool = False) -> nn.Sequential:
    """Strided 3×3 conv (halves H and W) → BN → ReLU (→ 2×2 max-pool) → EMA attention."""
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2) if pool else nn.Identity(),
        EMA2d(out_ch, groups=min(8, out_ch // 2)),
    )


class TFBranch(nn.Module):
    """Image (B, 1, H, W) from the transform → three conv blocks (width, 2·width, 4·width) → adaptive pool."""

    def __init__(self, window: int, out_dim: int = 256, width: int = 16, transform: str = "stft",
                 image_size: tuple[int, int] = (64, 128)) -> None:
        super().__init__()
        if transform not in TF_TRANSFORMS:
            raise ConfigError(f"model.tf_transform {transform!r} is unknown; use one of {', '.join(TF_TRANSFORMS)}")
        self.transform = transform
        self.image_size = tuple(image_size)
        # n_fft 128 gives 65 frequency rows (≈ image height); the hop gives about image-width frames.
        self.n_fft = min(128, window)
        self.hop = max(1, window // image_size[1])
        self.norm = nn.BatchNorm2d(1)
        # The first block shrinks the image 4× per axis: it is oversampled (STFT frames overlap by 15/16)
        # and attention on full-size maps would cost most of the model's time on a CPU.
        self.blocks = nn.Sequential(conv_block2d(1, width, pool=True), conv_block2d(width, 2 * width),
                                    conv_block2d(2 * width, 4 * width))  # 64 × 128 → 16 × 32 → 8 × 16 → 4 × 8
        self.pool = nn.AdaptiveAvgPool2d((2, 2))
        self.proj = nn.Sequential(nn.Linear(16 * width, out_dim), nn.LayerNorm(out_dim))
        self.out_features = out_dim

    def image(self, x: torch.Tensor) -> torch.Tensor:
        """The (B, 1, H, W) image this branch reads."""
        if self.transform == "stft":
            return stft_spectrogram(x, n_fft=self.n_fft, hop=self.hop, out_size=self.image_size)
        return cwt_scalogram(x, n_scales=self.image_size[0], out_size=self.image_size)

    def forward(self, x: torch.Tensor, rpm: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, L) → (B, out_dim); ``rpm`` is unused."""
        h = self.blocks(self.norm(self.image(x)))
        return self.proj(self.pool(h).flatten(1))


@register("branch", "tf")
def tf_branch(window: int, sample_rate: int, out_dim: int = 256, width: int = 16, transform: str = "stft",
              image_size: tuple[int, int] = (64, 128)) -> TFBranch:
    """Builder of :class:`TFBranch` (sample_rate is part of every branch builder's surface)."""
    return TFBranch(window, out_dim, width, transform, image_size)
