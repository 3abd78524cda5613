"""Modality branches: each maps raw windows (B, 1, L) (+ optional rpm) to features (B, out_features).

Importing this package registers them under kind "branch". Every builder takes ``window``,
``sample_rate`` and ``out_dim``, plus its own width arguments.
"""

from faultcli.models.branches.bands import BandSpectrumBranch
from faultcli.models.branches.envelope import EnvelopeBranch
from faultcli.models.branches.fft import FFTBranch, SpectrumEncoder
from faultcli.models.branches.tf import TFBranch
from faultcli.models.branches.time import TimeBranch

__all__ = ["BandSpectrumBranch", "EnvelopeBranch", "FFTBranch", "SpectrumEncoder", "TFBranch", "TimeBranch"]
