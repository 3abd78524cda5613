"""Band-spectrum linear baseline: multinomial logistic regression on the log share of power per band.

The physics baseline beside WDCNN: it sees only the spectrum's coarse shape (see
``faultcli.models.branches.bands``), has a few hundred weights, and shows how much of a cross-load result
that shape alone explains.
"""

from __future__ import annotations

import torch
from torch import nn

from faultcli.errors import DataError
from faultcli.models.base import Classifier
from faultcli.models.branches.bands import check_band_count
from faultcli.registry import register
from faultcli.signal.transforms import band_spectrum


class BandLinear(Classifier):
    """(B, 1, window) → log band-power shares, standardised per band (the features) → one linear layer."""

    def __init__(self, num_classes: int, window: int, n_bands: int = 64) -> None:
        super().__init__()
        check_band_count(window, n_bands)
        self.window, self.n_bands = window, n_bands
        self.standardize = nn.BatchNorm1d(n_bands, affine=False)  # the training data's per-band statistics
        self.num_features = n_bands
        self.head = nn.Linear(n_bands, num_classes)
        self.modality_weights: torch.Tensor | None = None

    def forward_features(self, x: torch.Tensor, rpm: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, window) → (B, n_bands); ``rpm`` is accepted for the shared surface and unused."""
        if x.dim() != 3 or x.shape[1] != 1 or x.shape[-1] != self.window:
            raise DataError(
                f"band_linear expects windows shaped (B, 1, {self.window}), got {tuple(x.shape)}; "
                f"prepare the data with data.window = {self.window} or rebuild the model"
            )
        return self.standardize(band_spectrum(x, self.n_bands))

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        return self.head(feats)


@register("model", "band_linear")
def band_linear(num_classes: int = 10, window: int = 1024, sample_rate: int = 12000, n_bands: int = 64) -> BandLinear:
    """Builder of :class:`BandLinear` (sample_rate accepted for the shared surface: bands span 0 to Nyquist)."""
    return BandLinear(num_classes, window, n_bands)
