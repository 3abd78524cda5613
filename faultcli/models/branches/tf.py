"""Time–frequency branch: a small 2-D CNN with EMA attention over an STFT or CWT image."""

from __future__ import annotations

import torch
from torch import nn

from faultcli.errors import ConfigError
from faultcli.models.layers import EMA2d
from faultcli.registry import register
from faultcli.signal.transforms import cwt_scalogram, resize_image, stft_spectrogram

TF_TRANSFORMS = ("stft", "cwt")


def conv_block2d(in_ch: int, out_ch: int, patch: int = 0) -> nn.Sequential:
    """Strided 3×3 conv (or, with ``patch``, a patch × patch conv of that stride) → BN → ReLU → EMA attention."""
    if patch:
        # Same as Conv2d(in_ch, out_ch, patch, stride=patch), but its backward is one matrix product: a
        # strided conv on a 1-channel image is among the slowest CPU kernels.
        conv = nn.Sequential(nn.PixelUnshuffle(patch), nn.Conv2d(in_ch * patch * patch, out_ch, 1, bias=False))
    else:
        conv = nn.Conv2d(in_ch, out_ch, 3, stride=2, padding=1, bias=False)
    return nn.Sequential(
        conv,
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
        EMA2d(out_ch, groups=max(1, out_ch // 8)),  # 8 channels a group: tinier groups run slowly on CPUs
    )


class TFBranch(nn.Module):
    """Image (B, 1, H, W) from the transform → three conv blocks (width, 2·width, 4·width) → adaptive pool."""

    def __init__(
        self,
        window: int,
        out_dim: int = 256,
        width: int = 16,
        transform: str = "stft",
        image_size: tuple[int, int] = (64, 128),
    ) -> None:
        super().__init__()
        if transform not in TF_TRANSFORMS:
            raise ConfigError(f"vibration.tf_transform {transform!r} is unknown; use one of {', '.join(TF_TRANSFORMS)}")
        self.transform = transform
        self.image_size = tuple(image_size)
        # n_fft = 2·H gives H + 1 frequency rows; hop = L / W gives W + 1 centred frames.
        self.n_fft = min(2 * image_size[0], window)
        self.hop = max(1, window // image_size[1])
        # Not affine: the first conv scales anyway, and no gradient is then needed w.r.t. the image.
        self.norm = nn.BatchNorm2d(1, affine=False)
        # The first block reads 4 × 4 patches (as ConvNeXt's stem does): the image is oversampled (STFT
        # frames overlap by 15/16), and full-size maps would cost most of the model's time on a CPU.
        self.blocks = nn.Sequential(
            conv_block2d(1, width, patch=4),  # 64 × 128 → 16 × 32
            conv_block2d(width, 2 * width),  # → 8 × 16
            conv_block2d(2 * width, 4 * width),  # → 4 × 8
        )
        self.pool = nn.AdaptiveAvgPool2d((2, 2))
        self.proj = nn.Sequential(nn.Linear(16 * width, out_dim), nn.LayerNorm(out_dim))
        self.out_features = out_dim

    def image(self, x: torch.Tensor) -> torch.Tensor:
        """The (B, 1, H, W) image this branch reads."""
        if self.transform == "cwt":
            return cwt_scalogram(x, n_scales=self.image_size[0], out_size=self.image_size)
        img = stft_spectrogram(x, n_fft=self.n_fft, hop=self.hop)
        h, w = self.image_size
        if img.shape[-2] - h in (0, 1) and img.shape[-1] - w in (0, 1):
            return img[..., :h, :w]  # drop the Nyquist row and the last frame: exact, and cheaper than resizing
        return resize_image(img, self.image_size)

    def forward(self, x: torch.Tensor, rpm: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, L) → (B, out_dim); ``rpm`` is unused."""
        h = self.blocks(self.norm(self.image(x)))
        return self.proj(self.pool(h).flatten(1))


@register("branch", "tf")
def tf_branch(
    window: int,
    sample_rate: int,
    out_dim: int = 256,
    width: int = 16,
    transform: str = "stft",
    image_size: tuple[int, int] = (64, 128),
) -> TFBranch:
    """Builder of :class:`TFBranch` (sample_rate is part of every branch builder's surface)."""
    return TFBranch(window, out_dim, width, transform, image_size)
