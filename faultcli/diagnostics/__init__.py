"""Classical bearing diagnostics: geometry and fault frequencies, fast kurtogram, envelope analysis, line
matching, and the inspection page. numpy / scipy / matplotlib only (no torch).

Import the module you need; ``faultcli.diagnostics.page`` imports matplotlib.
"""

from faultcli.diagnostics.bearings import BEARINGS, LINES, Bearing, bearing_by_name, parse_geometry, resolve_bearing
from faultcli.diagnostics.envelope import EnvelopeSpectrum, squared_envelope_spectrum, waveform_stats
from faultcli.diagnostics.kurtogram import Kurtogram, fast_kurtogram
from faultcli.diagnostics.matching import LineMatch, match_lines

__all__ = [
    "BEARINGS",
    "LINES",
    "Bearing",
    "EnvelopeSpectrum",
    "Kurtogram",
    "LineMatch",
    "bearing_by_name",
    "fast_kurtogram",
    "match_lines",
    "parse_geometry",
    "resolve_bearing",
    "squared_envelope_spectrum",
    "waveform_stats",
]
