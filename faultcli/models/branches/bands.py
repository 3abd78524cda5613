"""Band-spectrum branch: an MLP over the log share of power in wide frequency bands.

What tells bearing defects apart across loads is the spectrum's coarse shape (which resonances the
impacts excite), not its amplitude (which grows with load) nor the exact place of its lines (which moves
with shaft speed). This branch sees only that shape, through a deliberately small encoder: a linear model
on these features already transfers between CWRU loads, while deep encoders of the full-resolution
spectrum learn the source load's details.
"""

from __future__ import annotations

import torch
from torch import nn

from faultcli.errors import ConfigError
from faultcli.registry import register
from faultcli.signal.transforms import band_spectrum


def check_band_count(window: int, n_bands: int, key: str = "vibration.n_bands") -> None:
    """Fail at build time: ``n_bands`` bands need ``2 * n_bands`` samples a window (``key`` names the setting)."""
    if window // 2 < n_bands:
        raise ConfigError(f"{key} = {n_bands} needs data.window >= {2 * n_bands}, got {window}")


class BandSpectrumBranch(nn.Module):
    """(B, 1, L) → log band-power shares (B, n_bands) → standardised per band → MLP → (B, out_dim)."""

    def __init__(self, window: int, out_dim: int = 256, n_bands: int = 64, hidden: int = 256) -> None:
        super().__init__()
        check_band_count(window, n_bands)
        self.n_bands = n_bands
        self.encoder = nn.Sequential(
            # per-band standardisation from the training data's statistics, as for any tabular feature
            nn.BatchNorm1d(n_bands, affine=False),
            nn.Linear(n_bands, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, out_dim),
            nn.LayerNorm(out_dim),
        )
        self.out_features = out_dim

    def forward(self, x: torch.Tensor, rpm: torch.Tensor | None = None) -> torch.Tensor:
        return self.encoder(band_spectrum(x, self.n_bands))


@register("branch", "bands")
def bands_branch(
    window: int, sample_rate: int, out_dim: int = 256, n_bands: int = 64, hidden: int = 256
) -> BandSpectrumBranch:
    """Builder of :class:`BandSpectrumBranch` (``sample_rate`` unused: bands span 0 to Nyquist)."""
    return BandSpectrumBranch(window, out_dim, n_bands, hidden)
