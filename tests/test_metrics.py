"""Calibration figures: the fitted temperature and the ECE it repairs."""

from __future__ import annotations

import numpy as np
import pytest

from faultcli.metrics import expected_calibration_error, fit_temperature, softmax


def _sample(true_temperature: float, n: int = 4000, classes: int = 5, seed: int = 0):
    """Logits and labels drawn from softmax(logits / true_temperature): calibrated at that temperature."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 3.0, size=(n, classes))
    probs = softmax(logits / true_temperature)
    labels = np.array([rng.choice(classes, p=p) for p in probs])
    return logits, labels


@pytest.mark.parametrize("true_temperature", [0.5, 2.0])
def test_fit_temperature_recovers_the_generating_temperature(true_temperature):
    logits, labels = _sample(true_temperature)
    fitted = fit_temperature(logits, labels)
    assert fitted == pytest.approx(true_temperature, rel=0.1)
    # and the fitted temperature calibrates: ECE well below that of the raw logits
    raw = expected_calibration_error(labels, softmax(logits))
    scaled = expected_calibration_error(labels, softmax(logits / fitted))
    assert scaled < 0.03 < raw


def test_fit_temperature_keeps_raw_softmax_when_validation_has_no_errors():
    # every validation sample right: the likelihood rises without end as T -> 0, so no temperature is fitted
    logits = np.eye(3)[[0, 1, 2, 0, 1, 2]] * 10.0
    assert fit_temperature(logits, np.array([0, 1, 2, 0, 1, 2])) == 1.0
    # one error is enough evidence for a finite fit inside the bounds
    fitted = fit_temperature(logits, np.array([0, 1, 2, 0, 1, 0]))
    assert np.exp(-3.0) - 1e-6 <= fitted <= np.exp(3.0) + 1e-6 and fitted != 1.0
