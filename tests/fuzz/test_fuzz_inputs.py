"""Every reader and the recipe loader, fed mutated and hostile inputs, either returns a finite value of the
right type or raises a UserError with one non-empty line: no other exception, no hang, no decoder chatter."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given

from tests.fuzz.targets import TARGETS, time_limit


@pytest.mark.parametrize("name", list(TARGETS))
def test_hostile_input_ends_in_a_value_or_one_error_line(name):
    target = TARGETS[name]

    @given(target.strategy)
    def case(value):
        with tempfile.TemporaryDirectory() as folder, time_limit():
            target.run(value, Path(folder))

    case()
