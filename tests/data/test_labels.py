"""Labels from folders and regexes, CWRU metadata from file names, class mapping and rate patterns."""

from __future__ import annotations

import re

import pytest

from faultcli.data import labels
from faultcli.errors import ConfigError, DataError


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("12k_drive_end/IR014_2.mat", {"fault": "inner", "size": 0.014, "load": 2, "sensor": "DE"}),
        ("12k_drive_end/OR007@6_0.mat", {"fault": "outer", "size": 0.007, "position": 6, "load": 0, "sensor": "DE"}),
        ("normal/Normal_0.mat", {"fault": "normal", "load": 0}),
        ("B021_3.mat", {"fault": "ball", "size": 0.021, "load": 3}),
        ("inner_race_fault30_1_train.csv", {"fault": "inner"}),
        ("run_outer_2hp_1750rpm.npy", {"fault": "outer", "load": 2, "rpm": 1750.0}),
        ("healthy/1.xlsx", {}),
    ],
)
def test_parse_name_reads_what_the_naming_carries(rel, expected):
    assert labels.parse_name(rel) == expected


def test_label_from_folder_uses_the_parent_folder_or_the_root_name():
    assert labels.raw_label("normal_train160/3.xlsx", "folder", None) == ("normal_train160", {})
    assert labels.raw_label("3.xlsx", "folder", None, root_name="ball") == ("ball", {})


def test_label_from_regex_keeps_other_groups_as_metadata():
    regex = re.compile(r"^(?P<label>[A-Z]+\d{3})(?:@\d+)?_(?P<load>\d)")
    assert labels.raw_label("12k/OR021@6_3.mat", "regex", regex) == ("OR021", {"load": "3"})


def test_label_regex_that_does_not_match_names_the_file():
    regex = re.compile(r"^(?P<label>IR\d{3})")
    with pytest.raises(DataError, match="file x/B007_0.mat does not match data.label_regex"):
        labels.raw_label("x/B007_0.mat", "regex", regex)


def test_label_from_prefix_drops_the_trailing_number():
    assert labels.raw_label("a/B007_0.mat", "prefix", None)[0] == "B007"


def test_label_regex_checks():
    with pytest.raises(ConfigError, match="named group"):
        labels.check_label_regex(re.compile(r"(?P<name>\w+)"))
    with pytest.raises(ConfigError, match="offset clash"):
        labels.check_label_regex(re.compile(r"(?P<label>\w+)_(?P<offset>\d)"))
    with pytest.raises(ConfigError, match="data.label_regex = '\\(' is not a valid regex"):
        labels.compile_regex("(", "data.label_regex")


def test_class_names_map_order_and_filter():
    names, classes = labels.class_names(["B007", "Normal", "IR007", "B007"], {"B007": "ball", "Normal": "normal"}, [])
    assert names == ["ball", "normal", "IR007", "ball"]
    assert classes == ["IR007", "ball", "normal"]  # empty data.classes: sorted
    _, classes = labels.class_names(["B007", "Normal"], {"B007": "ball", "Normal": "normal"}, ["normal", "ball"])
    assert classes == ["normal", "ball"]


def test_unknown_class_in_data_classes_lists_the_labels_found():
    with pytest.raises(DataError, match=r"data.classes lists 'cage' but no file has that label \(labels found: a, b\)"):
        labels.class_names(["a", "b"], {}, ["a", "cage"])


def test_rate_patterns_first_match_wins_case_insensitive():
    patterns = {"normal": 48000, "12k": 12000, "48k": 48000}
    assert labels.rate_from_patterns("normal/Normal_0.mat", patterns) == 48000
    assert labels.rate_from_patterns("12K_drive_end/B007_0.mat", patterns) == 12000
    assert labels.rate_from_patterns("other/x.mat", patterns) is None
