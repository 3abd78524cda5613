"""Hypothesis profiles of the fuzz tests: ``ci`` (the default: 100 cases per target, the same cases on every
run, so a failure reproduces) and ``long`` (1,000 new cases per target each run, to explore), chosen by
``FAULTCLI_FUZZ=long``. No example database: a fuzz run leaves no folder behind."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # a per-case time limit of our own (targets.time_limit) tells a hang from a slow case
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    "print_blob": True,
}
settings.register_profile("ci", max_examples=100, derandomize=True, **_COMMON)
settings.register_profile("long", max_examples=1000, **_COMMON)
settings.load_profile(os.environ.get("FAULTCLI_FUZZ", "ci"))
