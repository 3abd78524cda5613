"""Envelope analysis and line matching on synthetic outer- and inner-race faults; waveform statistics."""

import numpy as np
import pytest

from faultcli.diagnostics.bearings import BEARINGS
from faultcli.diagnostics.envelope import check_band, squared_envelope_spectrum, waveform_stats
from faultcli.diagnostics.kurtogram import fast_kurtogram
from faultcli.diagnostics.matching import match_lines, strongest_per_line
from faultcli.errors import ConfigError, DataError

from .synthetic import impact_signal

RATE, RPM = 12000, 1772.0
ORDERS = BEARINGS["6205"].orders()


@pytest.mark.parametrize(("line", "modulated"), [("BPFO", False), ("BPFI", True), ("BSF", False)])
def test_strongest_marked_line_is_the_fault_line(line, modulated):
    shaft = RPM / 60
    fault_hz = ORDERS[line] * shaft * 1.01  # slip: 1 % off the kinematic value
    x = impact_signal(RATE, 2**16, fault_hz, 3000.0, noise=1.0, shaft_hz=shaft if modulated else 0.0, tone=2.0)
    band = fast_kurtogram(x, RATE, levels=5).best_band
    ses = squared_envelope_spectrum(x, RATE, band, max_freq=20 * shaft)
    matches, shaft_lines = match_lines(ses, RPM, ORDERS)
    assert matches[0].line == line
    assert matches[0].strength_db > 10
    assert abs(matches[0].order / matches[0].harmonic - ORDERS[line] * 1.01) < 0.02
    assert set(strongest_per_line(matches)) == {"BPFO", "BPFI", "BSF", "FTF"}
    if modulated:  # the inner race's shaft-rate modulation shows at 1X
        assert shaft_lines[0].strength_db > 6


def test_envelope_spectrum_axis_and_band():
    x = impact_signal(RATE, 2**14, 100.0, 3000.0)
    ses = squared_envelope_spectrum(x, RATE, (2000, 4000), max_freq=500)
    assert ses.freqs[-1] <= 500 and ses.band == (2000.0, 4000.0)
    assert ses.orders(1800)[1] == pytest.approx(ses.freqs[1] / 30)
    assert abs(ses.freqs[np.argmax(ses.amplitude)] - 100) < 1


def test_waveform_statistics_of_a_sine():
    t = np.arange(12000) / 12000
    stats = waveform_stats(2 * np.sin(2 * np.pi * 50 * t) + 5)
    assert stats["rms"] == pytest.approx(np.sqrt(2), rel=1e-3)
    assert stats["crest_factor"] == pytest.approx(np.sqrt(2), rel=1e-3)
    assert stats["kurtosis"] == pytest.approx(1.5, rel=1e-3)


def test_bands_above_nyquist_or_upside_down_are_one_line_errors():
    with pytest.raises(ConfigError, match=r"above Nyquist \(6000 Hz"):
        check_band((5000, 7000), RATE)
    with pytest.raises(ConfigError, match="not a band"):
        check_band((3000, 2000), RATE)
    with pytest.raises(DataError, match="one signal"):
        squared_envelope_spectrum(np.ones((3, 100)), RATE)
