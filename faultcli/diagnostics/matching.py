"""Which characteristic fault frequencies (and harmonics) stand out in an envelope spectrum.

Each expected line h · f (f one of BPFO, BPFI, BSF, FTF; h = 1..harmonics) is looked for within a relative
tolerance (slip makes real bearings run 1-2 % off their kinematic frequencies: Randall & Antoni 2011); the
largest bin there is the line, and its strength is its height over the spectrum's median within half a
shaft order around it, in dB. A line is strong when it stands out of its neighbourhood, not because it sits
at low frequency where the envelope spectrum is high anyway.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from faultcli.diagnostics.bearings import LINES
from faultcli.diagnostics.envelope import EnvelopeSpectrum


@dataclass(frozen=True)
class LineMatch:
    """One expected line as found in the spectrum."""

    line: str  # BPFO, BPFI, BSF, FTF or 1X (shaft)
    harmonic: int
    expected_hz: float
    found_hz: float
    order: float  # found_hz in orders of shaft speed
    amplitude: float
    strength_db: float  # height over the local median

    def label(self) -> str:
        return self.line if self.harmonic == 1 else f"{self.harmonic}×{self.line}"

    def as_dict(self) -> dict:
        return {**asdict(self), "label": self.label()}


def _find(ses: EnvelopeSpectrum, line: str, harmonic: int, expected: float, shaft_hz: float, tol: float):
    freqs, amp = ses.freqs, ses.amplitude
    step = freqs[1] - freqs[0]
    half = max(expected * tol, 2 * step)
    inside = np.flatnonzero((freqs >= expected - half) & (freqs <= expected + half) & (freqs > 0))
    if inside.size == 0:  # beyond the spectrum
        return None
    peak = int(inside[np.argmax(amp[inside])])
    around = (freqs >= max(expected - shaft_hz / 2, step)) & (freqs <= expected + shaft_hz / 2)
    floor = float(np.median(amp[around])) if around.any() else 0.0
    strength = 10 * np.log10(amp[peak] / floor) if floor > 0 and amp[peak] > 0 else 0.0
    return LineMatch(
        line, harmonic, expected, float(freqs[peak]), float(freqs[peak] / shaft_hz), float(amp[peak]), float(strength)
    )


def match_lines(
    ses: EnvelopeSpectrum,
    rpm: float,
    fault_orders: dict[str, float],
    *,
    harmonics: int = 3,
    tolerance: float = 0.015,
    shaft_harmonics: int = 3,
) -> tuple[list[LineMatch], list[LineMatch]]:
    """(fault lines strongest first, shaft-speed lines 1X..). Two expected lines that land on the same bin
    keep it for the one expected nearer; the other is left out of the fault list."""
    shaft_hz = rpm / 60.0
    found = []
    for line in LINES:
        for h in range(1, harmonics + 1):
            match = _find(ses, line, h, h * fault_orders[line] * shaft_hz, shaft_hz, tolerance)
            if match is not None:
                found.append(match)
    step = ses.freqs[1] - ses.freqs[0]
    kept = []
    for m in found:
        rivals = [o for o in found if o is not m and abs(o.found_hz - m.found_hz) <= step]
        if all(
            abs(m.found_hz - m.expected_hz) / m.expected_hz <= abs(o.found_hz - o.expected_hz) / o.expected_hz
            for o in rivals
        ):
            kept.append(m)
    shaft = [
        m
        for h in range(1, shaft_harmonics + 1)
        if (m := _find(ses, "1X", h, h * shaft_hz, shaft_hz, tolerance)) is not None
    ]
    return sorted(kept, key=lambda m: -m.strength_db), shaft


def strongest_per_line(matches: list[LineMatch]) -> dict[str, LineMatch]:
    """Each fault line's strongest harmonic."""
    best: dict[str, LineMatch] = {}
    for m in matches:
        if m.line not in best or m.strength_db > best[m.line].strength_db:
            best[m.line] = m
    return best
