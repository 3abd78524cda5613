"""Bearing geometry and fault frequencies against hand-computed values for the CWRU bearings."""

import math

import pytest

from faultcli.diagnostics.bearings import BEARINGS, bearing_by_name, parse_geometry, resolve_bearing
from faultcli.errors import ConfigError


def test_drive_end_6205_orders_by_hand():
    # 9 balls, d = 0.3126", D = 1.537", contact angle 0: d/D = 0.203383...
    r = 0.3126 / 1.537
    orders = BEARINGS["6205"].orders()
    assert orders["BPFO"] == pytest.approx(4.5 * (1 - r))  # 3.5848
    assert orders["BPFI"] == pytest.approx(4.5 * (1 + r))  # 5.4152
    assert orders["FTF"] == pytest.approx((1 - r) / 2)  # 0.3983
    assert orders["BSF"] == pytest.approx(1.537 / (2 * 0.3126) * (1 - r**2))  # 2.3567
    # the multiples the CWRU documentation lists (its "rolling element" figure is 2 × BSF)
    assert orders["BPFO"] == pytest.approx(3.5848, abs=1e-4)
    assert orders["BPFI"] == pytest.approx(5.4152, abs=1e-4)
    assert orders["FTF"] == pytest.approx(0.39828, abs=1e-4)
    assert 2 * orders["BSF"] == pytest.approx(4.7135, abs=1e-3)


def test_fan_end_6203_orders_by_hand():
    orders = BEARINGS["6203"].orders()  # 8 balls, d = 0.2656", D = 1.122"
    assert orders["BPFO"] == pytest.approx(3.0530, abs=1e-3)
    assert orders["BPFI"] == pytest.approx(4.9469, abs=1e-3)
    assert orders["FTF"] == pytest.approx(0.3817, abs=1e-3)
    assert 2 * orders["BSF"] == pytest.approx(3.9874, abs=1e-3)


def test_frequencies_scale_with_shaft_speed():
    hz = BEARINGS["6205"].frequencies(1797)
    assert hz["BPFO"] == pytest.approx(3.5848 * 1797 / 60, rel=1e-4)  # 107.36 Hz
    assert hz["BPFI"] == pytest.approx(162.19, abs=0.01)
    with pytest.raises(ConfigError, match="--rpm"):
        BEARINGS["6205"].frequencies(float("nan"))


def test_contact_angle_narrows_the_spread():
    flat = parse_geometry("balls=9,ball=0.3126,pitch=1.537").orders()
    angled = parse_geometry("balls=9,ball=0.3126,pitch=1.537,angle=40").orders()
    r = 0.3126 / 1.537 * math.cos(math.radians(40))
    assert angled["BPFI"] == pytest.approx(4.5 * (1 + r))
    assert angled["BPFI"] - angled["BPFO"] < flat["BPFI"] - flat["BPFO"]


@pytest.mark.parametrize("name", ["6205", "6205-2RS", "6205-2rs jem skf", " 6205 "])
def test_designations_find_the_table_entry(name):
    assert bearing_by_name(name) is BEARINGS["6205"]


def test_unknown_bearing_lists_the_known_ones_and_how_to_give_geometry():
    with pytest.raises(ConfigError) as err:
        bearing_by_name("6306")
    message = str(err.value)
    assert "6203" in message and "6205" in message and "--geometry balls=" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("balls=9,ball=0.3", "lacks pitch"),
        ("balls=9,ball=2,pitch=1", "smaller than the pitch"),
        ("balls=9.5,ball=0.3,pitch=1.5", "whole number"),
        ("rollers=9,ball=0.3,pitch=1.5", "KEY=NUMBER"),
        ("balls=9,ball=x,pitch=1.5", "KEY=NUMBER"),
    ],
)
def test_bad_geometry_says_how_to_write_it(text, match):
    with pytest.raises(ConfigError, match=match):
        parse_geometry(text)


def test_resolve_bearing_states_an_assumption_for_cwru_channels_only():
    bearing, how = resolve_bearing(None, None, "FE")
    assert bearing is BEARINGS["6203"] and how.startswith("assumed")
    assert resolve_bearing("6205", None, None)[1] == "given"
    with pytest.raises(ConfigError, match="no bearing given"):
        resolve_bearing(None, None, None)
    with pytest.raises(ConfigError, match="not both"):
        resolve_bearing("6205", "balls=9,ball=0.3,pitch=1.5", None)
