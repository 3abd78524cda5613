"""Labels and metadata from file paths: folder names, a label regex, CWRU-style names, rate patterns.

Paths here are POSIX strings relative to ``data.root`` (``"12k_drive_end/IR014_2.mat"``).
"""

from __future__ import annotations

import math
import re
from pathlib import PurePosixPath
from typing import Any

from faultcli.errors import ConfigError, DataError

# columns every recordings table has; regex groups may not reuse them
RESERVED = ("recording", "file", "part", "sha1", "label", "class_index", "offset", "length", "source_rate")
METADATA = ("fault", "size", "load", "position", "sensor", "rpm")
# data.speed_regex groups that state a shaft speed, and their factor to revolutions per minute
SPEED_GROUPS = {"rpm": 1.0, "shaft_hz": 60.0}

_CWRU_FAULT = re.compile(r"^(?P<fault>B|IR|OR)(?P<size>\d{3})(?:@(?P<position>\d+))?_(?P<load>\d+)$", re.I)
_CWRU_NORMAL = re.compile(r"^normal_(?P<load>\d+)$", re.I)
_FAULT_CODES = {"b": "ball", "ir": "inner", "or": "outer"}
_FAULT_WORDS = (
    ("normal", "normal"),
    ("healthy", "normal"),
    ("inner", "inner"),
    ("outer", "outer"),
    ("ball", "ball"),
    ("roller", "ball"),
    ("cage", "cage"),
)
_SENSOR_WORDS = (("drive_end", "DE"), ("drive-end", "DE"), ("fan_end", "FE"), ("fan-end", "FE"))


def compile_regex(pattern: str, key: str, flags: int = 0) -> re.Pattern[str]:
    """Compile a recipe regex; a bad one is a ConfigError naming ``key``."""
    try:
        return re.compile(pattern, flags)
    except re.error as err:
        raise ConfigError(f"{key} = {pattern!r} is not a valid regex ({err}); fix the pattern") from None


def check_label_regex(regex: re.Pattern[str]) -> None:
    """The regex needs a ``label`` group; its other groups must not shadow table columns."""
    if "label" not in regex.groupindex:
        raise ConfigError("data.label_regex needs a named group (?P<label>...)")
    clash = [g for g in regex.groupindex if g in RESERVED and g != "label"]
    if clash:
        raise ConfigError(f"data.label_regex group(s) {', '.join(clash)} clash with table columns; rename them")


def raw_label(
    rel: str, label_from: str, regex: re.Pattern[str] | None, root_name: str = ""
) -> tuple[str, dict[str, str]]:
    """(raw label, metadata from regex groups) for one file.

    ``folder``: the name of the folder holding the file (``root_name`` for files directly in root);
    ``regex``: ``re.search`` in the file name, group ``label`` is the label, other named groups metadata;
    ``prefix``: the file name without its trailing number (``B007_0`` → ``B007``).
    """
    path = PurePosixPath(rel)
    if label_from == "folder":
        return (path.parent.name or root_name), {}
    if label_from == "prefix":
        return re.sub(r"[_\-\s]*\d+$", "", path.stem) or path.stem, {}
    if label_from == "regex":
        assert regex is not None
        match = regex.search(path.name)
        if match is None or match.group("label") is None:
            raise DataError(
                f"file {rel} does not match data.label_regex {regex.pattern!r}; "
                "fix the regex or skip the file with data.exclude"
            )
        groups = {k: v for k, v in match.groupdict().items() if k != "label" and v is not None}
        return match.group("label"), groups
    raise ConfigError(
        f"data.label_from = {label_from!r} is for image data; use folder, regex or prefix for vibration recordings"
    )


def parse_name(rel: str) -> dict[str, Any]:
    """Metadata the naming carries: fault, size (inches), load (HP), position (o'clock), rpm, sensor.

    CWRU: ``IR014_2`` → inner, 0.014, load 2; ``OR007@6_0`` → outer, 0.007, position 6, load 0;
    ``Normal_0`` → normal, load 0. Other names: fault words (inner, outer, ball, normal, healthy),
    ``<n>hp`` and ``<n>rpm``. Keys that cannot be read are left out.
    """
    path = PurePosixPath(rel)
    stem, lower = path.stem, rel.lower()
    meta: dict[str, Any] = {}
    if m := _CWRU_FAULT.match(stem):
        meta.update(fault=_FAULT_CODES[m["fault"].lower()], size=int(m["size"]) / 1000, load=int(m["load"]))
        if m["position"]:
            meta["position"] = int(m["position"])
    elif m := _CWRU_NORMAL.match(stem):
        meta.update(fault="normal", load=int(m["load"]))
    else:
        words = stem.lower()
        fault = next((name for word, name in _FAULT_WORDS if word in words), None)
        if fault:
            meta["fault"] = fault
        if m := re.search(r"(\d+)\s*hp", words):
            meta["load"] = int(m[1])
        if m := re.search(r"(\d+(?:\.\d+)?)\s*rpm", words):
            meta["rpm"] = float(m[1])
    sensor = next((name for word, name in _SENSOR_WORDS if word in lower), None)
    if sensor:
        meta["sensor"] = sensor
    return meta


def class_names(
    raw: list[str], label_map: dict[str, str], classes: list[str], allow_missing: bool = False
) -> tuple[list[str], list[str]]:
    """(class name per file, ordered class list). ``classes`` fixes the order and drops other labels;
    with ``allow_missing`` a listed class may have no file (evaluating a folder of some classes)."""
    names = [label_map.get(r, r) for r in raw]
    found = sorted(set(names))
    if not classes:
        return names, found
    unknown = [c for c in classes if c not in found]
    if unknown and not allow_missing:
        raise DataError(
            f"data.classes lists {', '.join(map(repr, unknown))} but no file has that label "
            f"(labels found: {', '.join(found)}); fix data.classes or data.label_map"
        )
    return names, list(classes)


def rate_from_patterns(rel: str, patterns: dict[str, int]) -> int | None:
    """The rate of the first ``data.rate_patterns`` regex found in the path (case-insensitive), else None."""
    for pattern, rate in patterns.items():
        if compile_regex(pattern, f"data.rate_patterns key {pattern!r}", re.IGNORECASE).search(rel):
            return int(rate)
    return None


def speed_regex(pattern: str) -> re.Pattern[str] | None:
    """``data.speed_regex`` compiled (None when empty); it needs exactly one group ``rpm`` or ``shaft_hz``."""
    if not pattern:
        return None
    regex = compile_regex(pattern, "data.speed_regex")
    named = [g for g in SPEED_GROUPS if g in regex.groupindex]
    if len(named) != 1:
        raise ConfigError(
            f"data.speed_regex = {pattern!r} needs one named group, (?P<rpm>...) in rev/min or (?P<shaft_hz>...) "
            f"in Hz{'' if not named else f'; it has {len(named)}'}"
        )
    return regex


def speed_from_path(rel: str, regex: re.Pattern[str]) -> float:
    """The shaft speed (rev/min) ``data.speed_regex`` reads in the file name of ``rel``.

    The recipe states that every file name carries the speed: a name where the group matches nothing, or
    something that is not a positive number, stops the read (no speed is guessed).
    """
    name = next(g for g in SPEED_GROUPS if g in regex.groupindex)
    match = regex.search(PurePosixPath(rel).name)
    text = match.group(name) if match else None
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        got = "nothing" if text is None else repr(text)
        raise DataError(
            f"file {rel}: the {name} group of data.speed_regex {regex.pattern!r} matches {got}, not a positive "
            "shaft speed; fix the regex or skip the file with data.exclude"
        )
    return value * SPEED_GROUPS[name]
