"""Labels CSV: reading, the label priority rule, and matching CSV names to image files."""

import pytest

from faultcli.data.readers.labels_csv import (
    LabelRow,
    labels_by_file,
    match_files,
    pick_label,
    read_labels_csv,
)
from faultcli.errors import DataError


def _rows(*specs):
    return [LabelRow(file, label, value, i) for i, (file, label, value) in enumerate(specs)]


def test_priority_wins_over_value():
    rows = _rows(("a.jpg", "stain", 0.9), ("a.jpg", "crack", 0.1))
    assert pick_label(rows, ["crack", "stain"]) == "crack"
    assert pick_label(rows, ["stain", "crack"]) == "stain"


def test_listed_labels_beat_unlisted_ones():
    rows = _rows(("a.jpg", "dirt", 5.0), ("a.jpg", "crack", 0.1))
    assert pick_label(rows, ["crack"]) == "crack"


def test_largest_value_breaks_ties_then_first_row():
    rows = _rows(("a.jpg", "x", 0.2), ("a.jpg", "y", 0.7), ("a.jpg", "z", 0.7))
    assert pick_label(rows) == "y"
    assert pick_label(rows, ["x", "y", "z"]) == "x"
    nan = float("nan")
    assert pick_label(_rows(("a", "p", nan), ("a", "q", nan))) == "p"
    assert pick_label(_rows(("a", "p", nan), ("a", "q", 0.0))) == "q"


def test_read_and_group(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("file,label,value\nsub/a.jpg,stain,0.9\nsub/a.jpg,crack,0.2\nb.png,stain,\nc.png,,1\n")
    rows = read_labels_csv(path)
    assert [r.label for r in rows] == ["stain", "crack", "stain"]  # a row without a label is dropped
    assert labels_by_file(rows, ["crack"]) == {"sub/a.jpg": "crack", "b.png": "stain"}
    assert labels_by_file(rows) == {"sub/a.jpg": "stain", "b.png": "stain"}


def test_value_column_is_optional(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("File, Label\na.jpg, good\n")
    assert labels_by_file(read_labels_csv(path)) == {"a.jpg": "good"}


def test_bad_csvs(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_labels_csv(tmp_path / "missing.csv")
    path = tmp_path / "bad.csv"
    path.write_text("name,class\na.jpg,x\n")
    with pytest.raises(DataError, match="file, label"):
        read_labels_csv(path)


def test_match_by_path_name_and_stem():
    images = ["cls/a.jpg", "cls/b.png", "other/b.png", "c.bmp"]
    matched, unmatched = match_files(["cls/a.jpg", "c.bmp", "cls/b.png", "b.png", "c", "ghost.jpg"], images)
    assert matched == {"cls/a.jpg": "cls/a.jpg", "c.bmp": "c", "cls/b.png": "cls/b.png"}
    assert unmatched == ["b.png", "ghost.jpg"]  # b.png is ambiguous, ghost.jpg absent
