"""Frequency branch: a 1-D ResNet with squeeze-and-excitation over the log-magnitude FFT spectrum."""

from __future__ import annotations

import torch
from torch import nn

from faultcli.models.layers import ResidualBlock1d
from faultcli.registry import register
from faultcli.signal.transforms import fft_logmag, order_spectrum


class SpectrumEncoder(nn.Module):
    """(B, F) spectrum → (B, out_dim): input BatchNorm, strided stem, SE-ResNet stages, global average pool.

    Stage i has ``width · 2**i`` channels and halves the length; ``depth`` stages in all. With the stem's
    4× reduction, 513 FFT bins become 64 positions in the first stage (strided early: CPU time scales with
    length × channels², and spectral peaks are already picked out by the stem's full-resolution kernels).
    """

    def __init__(self, out_dim: int = 256, width: int = 32, depth: int = 3) -> None:
        super().__init__()
        # BatchNorm on the input rescales log-magnitudes to unit range but keeps each sample's energy;
        # not affine (the conv scales anyway), so backward needs no gradient w.r.t. the spectrum.
        self.stem = nn.Sequential(
            nn.BatchNorm1d(1, affine=False),
            nn.Conv1d(1, width, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm1d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool1d(2),
        )
        channels = [width * 2**i for i in range(depth)]
        stages = [
            ResidualBlock1d(c_in, c_out, stride=2)
            for c_in, c_out in zip([width, *channels[:-1]], channels, strict=True)
        ]
        self.stages = nn.Sequential(*stages)
        self.proj = nn.Sequential(nn.Linear(channels[-1], out_dim), nn.LayerNorm(out_dim))
        self.out_features = out_dim

    def forward(self, spectrum: torch.Tensor) -> torch.Tensor:
        h = self.stages(self.stem(spectrum.unsqueeze(1)))
        return self.proj(h.mean(dim=-1))


def rpm_or_nominal(rpm: torch.Tensor | None, batch: int, like: torch.Tensor) -> torch.Tensor:
    """(B,) speeds; a missing tensor becomes NaN, which the order resampling reads as the nominal speed."""
    if rpm is None:
        return torch.full((batch,), float("nan"), device=like.device, dtype=like.dtype)
    return rpm.to(device=like.device, dtype=like.dtype).reshape(-1)


class FFTBranch(nn.Module):
    """Log-magnitude FFT (or, with ``order_normalize``, the same spectrum on a grid of shaft orders).

    The order grid ends at the Nyquist order of ``nominal_rpm``. A window turning faster reaches Nyquist at a
    lower order and leaves the top of the grid at zero, a mark of its speed: ``nominal_rpm`` should be the
    fastest speed of the data (every window then fills the grid).
    """

    def __init__(
        self,
        window: int,
        sample_rate: int,
        out_dim: int = 256,
        width: int = 32,
        depth: int = 3,
        order_normalize: bool = False,
        nominal_rpm: float = 1797.0,
    ) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.order_normalize = order_normalize
        self.nominal_rpm = nominal_rpm
        self.n_bins = window // 2 + 1
        # Orders up to Nyquist at nominal speed, so the order grid covers the band the plain FFT covers.
        self.max_order = (sample_rate / 2) / (nominal_rpm / 60.0)
        self.encoder = SpectrumEncoder(out_dim, width, depth)
        self.out_features = out_dim

    def spectrum(self, x: torch.Tensor, rpm: torch.Tensor | None = None) -> torch.Tensor:
        """The (B, F) spectrum this branch reads."""
        if not self.order_normalize:
            return fft_logmag(x)
        return order_spectrum(
            x,
            rpm_or_nominal(rpm, x.shape[0], x),
            self.sample_rate,
            kind="fft",
            max_order=self.max_order,
            n_bins=self.n_bins,
            nominal_rpm=self.nominal_rpm,
        )

    def forward(self, x: torch.Tensor, rpm: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, L) → (B, out_dim)."""
        return self.encoder(self.spectrum(x, rpm))


@register("branch", "fft")
def fft_branch(
    window: int,
    sample_rate: int,
    out_dim: int = 256,
    width: int = 32,
    depth: int = 3,
    order_normalize: bool = False,
    nominal_rpm: float = 1797.0,
) -> FFTBranch:
    """Builder of :class:`FFTBranch`."""
    return FFTBranch(window, sample_rate, out_dim, width, depth, order_normalize, nominal_rpm)
