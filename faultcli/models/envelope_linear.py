"""Envelope-analysis linear baseline: the classical diagnosis as a model, one linear layer on physics.

A fixed front end computes, for each window and its shaft speed, the squared envelope spectrum (SES) in a
few demodulation bands (the whole band and the equal bands of one kurtogram level) and reads it at the
bearing's characteristic orders (shaft 1X, FTF, BSF, BPFO, BPFI and their harmonics), each relative to the
band's mean SES, plus each band's spectral kurtosis. A standardising layer and one linear layer read those
log features: a few hundred weights, all of them on quantities an analyst would look at.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from faultcli.diagnostics.bearings import LINES, bearing_by_name, parse_geometry
from faultcli.errors import ConfigError, DataError
from faultcli.models.base import Classifier
from faultcli.registry import register

PAD = 4  # the SES is zero-padded 4× so lines are read between a window's coarse bins
EPS = 1e-6


def _analytic_masks(window: int, sample_rate: float, bands: list[tuple[float, float]]) -> torch.Tensor:
    """(n_bands, window) two-sided FFT masks: 2 on a band's positive frequencies, 0 elsewhere."""
    freqs = torch.fft.fftfreq(window, 1.0 / sample_rate)
    return torch.stack([((freqs > lo) & (freqs <= hi)).float() * 2.0 for lo, hi in bands])


class EnvelopeLinear(Classifier):
    """(B, 1, window), rpm (B,) → log line strengths and band kurtoses, standardised → one linear layer."""

    def __init__(
        self,
        num_classes: int,
        window: int,
        sample_rate: float,
        orders: dict[str, float],
        *,
        harmonics: int = 3,
        demod_bands: int = 4,
        nominal_rpm: float = 1797.0,
    ) -> None:
        super().__init__()
        if window < 256:
            raise ConfigError(f"envelope_linear needs data.window >= 256 to resolve fault lines, got {window}")
        if harmonics < 1 or demod_bands < 1:
            raise ConfigError("envelope_linear needs harmonics >= 1 and demod_bands >= 1")
        self.window, self.sample_rate, self.nominal_rpm = window, float(sample_rate), float(nominal_rpm)
        nyquist = sample_rate / 2
        edges = [i * nyquist / demod_bands for i in range(demod_bands + 1)]
        bands = [(0.0, nyquist)] + list(zip(edges[:-1], edges[1:], strict=True))
        self.register_buffer("masks", _analytic_masks(window, sample_rate, bands), persistent=False)
        self.register_buffer("taper", torch.hann_window(window, periodic=True), persistent=False)
        names = ["1X", *LINES]
        values = [1.0] + [orders[name] for name in LINES]
        self.line_names = [f"{h}×{n}" for n in names for h in range(1, harmonics + 1)]
        line_orders = torch.tensor([h * v for v in values for h in range(1, harmonics + 1)], dtype=torch.float32)
        self.register_buffer("line_orders", line_orders, persistent=False)
        # read the maximum over ± half a native bin around each line (slip, speed and resolution)
        self.register_buffer("offsets", torch.linspace(-PAD / 2, PAD / 2, PAD + 1), persistent=False)
        band_names = [f"{lo:g}-{hi:g}Hz" for lo, hi in bands]
        self.feature_names = [f"{line}@{b}" for b in band_names for line in self.line_names]
        self.feature_names += [f"kurtosis@{b}" for b in band_names]
        self.num_features = len(self.feature_names)
        self.standardize = nn.BatchNorm1d(self.num_features, affine=False)  # the training data's statistics
        self.head = nn.Linear(self.num_features, num_classes)
        self.modality_weights: torch.Tensor | None = None

    def physics(self, x: torch.Tensor, rpm: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, window) → (B, num_features) unstandardised log features (see ``feature_names``)."""
        if x.dim() != 3 or x.shape[1] != 1 or x.shape[-1] != self.window:
            raise DataError(
                f"envelope_linear expects windows shaped (B, 1, {self.window}), got {tuple(x.shape)}; "
                f"prepare the data with data.window = {self.window} or rebuild the model"
            )
        batch = x.shape[0]
        x = x[:, 0].float()
        # the band axis is added before the FFT: ONNX export has no unsqueeze of a complex tensor
        analytic = torch.fft.ifft(torch.fft.fft((x - x.mean(-1, keepdim=True))[:, None, :]) * self.masks)
        env = analytic.real**2 + analytic.imag**2  # squared envelope, (B, bands, window)
        power = env.mean(-1, keepdim=True)
        kurt = (env**2).mean(-1) / (power[..., 0] ** 2 + EPS) - 2.0  # spectral kurtosis of each band
        ses = torch.fft.rfft((env - power) * self.taper, n=PAD * self.window).abs()
        ses = ses / (ses[..., 1:].mean(-1, keepdim=True) + EPS)  # relative to the band's mean: no amplitude
        if rpm is None:
            rpm = torch.full((batch,), self.nominal_rpm, device=x.device)
        rpm = torch.as_tensor(rpm, dtype=x.dtype, device=x.device).reshape(-1)
        rpm = torch.where(torch.isfinite(rpm) & (rpm > 0), rpm, torch.full_like(rpm, self.nominal_rpm))
        bin_hz = self.sample_rate / (PAD * self.window)
        centre = self.line_orders[None, :] * (rpm[:, None] / 60.0) / bin_hz  # (B, lines) fractional bins
        pos = (centre[..., None] + self.offsets).round().long().clamp(0, ses.shape[-1] - 1)  # (B, lines, taps)
        index = pos.reshape(batch, 1, -1).expand(-1, ses.shape[1], -1)
        lines = ses.gather(2, index).reshape(batch, ses.shape[1], *pos.shape[1:]).amax(-1)  # (B, bands, lines)
        return torch.cat([torch.log(lines + EPS).flatten(1), torch.log1p(kurt.clamp_min(0.0))], dim=1)

    def forward_features(self, x: torch.Tensor, rpm: torch.Tensor | None = None) -> torch.Tensor:
        return self.standardize(self.physics(x, rpm))

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        return self.head(feats)


@register("model", "envelope_linear")
def envelope_linear(
    num_classes: int = 10,
    window: int = 1024,
    sample_rate: int = 12000,
    nominal_rpm: float = 1797.0,
    bearing: str = "6205",
    geometry: str = "",
    harmonics: int = 3,
    demod_bands: int = 4,
) -> EnvelopeLinear:
    """Builder of :class:`EnvelopeLinear`: ``bearing`` names a known bearing, ``geometry``
    (``balls=9,ball=0.3126,pitch=1.537,angle=0``) gives another one; unknown rpm falls back to ``nominal_rpm``."""
    spec = parse_geometry(geometry) if geometry else bearing_by_name(bearing)
    if not math.isfinite(nominal_rpm) or nominal_rpm <= 0:
        raise ConfigError(f"vibration.nominal_rpm = {nominal_rpm} must be a positive shaft speed")
    return EnvelopeLinear(
        num_classes,
        window,
        sample_rate,
        spec.orders(),
        harmonics=harmonics,
        demod_bands=demod_bands,
        nominal_rpm=nominal_rpm,
    )
