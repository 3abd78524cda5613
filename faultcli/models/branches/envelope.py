"""Envelope branch: the FFT branch's SE-ResNet over the Hilbert envelope spectrum.

Bearing defects excite a structural resonance once per impact; the envelope demodulates it, so the
defect's characteristic frequency (BPFO, BPFI, BSF) and its harmonics show as peaks here.
"""

from __future__ import annotations

import torch

from faultcli.models.branches.fft import FFTBranch, rpm_or_nominal
from faultcli.registry import register
from faultcli.signal.transforms import envelope_spectrum, order_spectrum


class EnvelopeBranch(FFTBranch):
    """Log envelope spectrum up to ``max_orders`` × nominal shaft speed (or on the order grid itself).

    Same encoder and surface as the FFT branch; only the spectrum it reads differs.
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
        max_orders: float = 50.0,
    ) -> None:
        super().__init__(window, sample_rate, out_dim, width, depth, order_normalize, nominal_rpm)
        self.max_order = max_orders
        # 50 orders at 1797 rpm ≈ 1.5 kHz: covers the first harmonics of every CWRU defect frequency.
        self.max_freq = min(sample_rate / 2, max_orders * nominal_rpm / 60.0)
        self.n_bins = max(16, int(self.max_freq * window / sample_rate) + 1)

    def spectrum(self, x: torch.Tensor, rpm: torch.Tensor | None = None) -> torch.Tensor:
        """The (B, F) spectrum this branch reads."""
        if not self.order_normalize:
            return envelope_spectrum(x, self.sample_rate, max_freq=self.max_freq, log=True)
        return order_spectrum(
            x,
            rpm_or_nominal(rpm, x.shape[0], x),
            self.sample_rate,
            kind="envelope",
            max_order=self.max_order,
            n_bins=self.n_bins,
            nominal_rpm=self.nominal_rpm,
        )


@register("branch", "envelope")
def envelope_branch(
    window: int,
    sample_rate: int,
    out_dim: int = 256,
    width: int = 32,
    depth: int = 3,
    order_normalize: bool = False,
    nominal_rpm: float = 1797.0,
) -> EnvelopeBranch:
    """Builder of :class:`EnvelopeBranch`."""
    return EnvelopeBranch(window, sample_rate, out_dim, width, depth, order_normalize, nominal_rpm)
