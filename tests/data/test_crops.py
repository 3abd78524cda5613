"""Crop rules: parsing, the per-class rule with '*', and what each rule keeps."""

import numpy as np
import pytest

from faultcli.data.crops import apply_crop, check_crops, crop_rule_for, parse_crop_rule
from faultcli.errors import ConfigError


def _grid(h=10, w=20):
    return np.arange(h * w).reshape(h, w)


def test_parse_rules():
    assert parse_crop_rule("center:0.6") == ("center", 0.6)
    assert parse_crop_rule("none") == ("none", 1.0)
    assert parse_crop_rule(" Left:0.5 ") == ("left", 0.5)
    for bad in ("middle:0.5", "left", "left:0", "left:1.5", "top:x"):
        with pytest.raises(ConfigError, match="data.crops"):
            parse_crop_rule(bad)


def test_center_keeps_the_central_fraction_of_each_side():
    image = _grid()
    out = apply_crop(image, "center:0.6")
    assert out.shape == (6, 12)
    assert out[0, 0] == image[2, 4] and out[-1, -1] == image[7, 15]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("left:0.5", np.s_[:, :10]),
        ("right:0.5", np.s_[:, 10:]),
        ("top:0.3", np.s_[:3, :]),
        ("bottom:0.3", np.s_[7:, :]),
        ("none", np.s_[:, :]),
    ],
)
def test_side_rules(rule, expected):
    image = _grid()
    assert np.array_equal(apply_crop(image, rule), image[expected])


def test_channels_are_kept():
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    assert apply_crop(image, "center:0.5").shape == (4, 4, 3)


def test_rule_for_class_and_default():
    crops = {"scratch": "left:0.5", "*": "center:0.8"}
    assert crop_rule_for("scratch", crops) == "left:0.5"
    assert crop_rule_for("other", crops) == "center:0.8"
    assert crop_rule_for(None, crops) == "center:0.8"  # unlabelled inference images
    assert crop_rule_for("scratch", {}) == "none"


def test_check_crops_names_unknown_classes_and_bad_rules():
    check_crops({"a": "left:0.5", "*": "none"}, ["a", "b"])
    with pytest.raises(ConfigError, match="'c'"):
        check_crops({"c": "left:0.5"}, ["a", "b"])
    with pytest.raises(ConfigError, match="not valid"):
        check_crops({"a": "sideways"}, ["a"])
