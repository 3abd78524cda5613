"""Sampling rates of recordings: where a rate comes from, and reading recordings at the dataset's rate
under that rule (each checked against the shaft speed by ``faultcli.data.shaft_lines``).

One rule for every command that reads recordings: the rate the file states, else the first
``data.rate_patterns`` regex found in the file's FULL path, else a rate the user stated
(``data.source_rate`` / ``--sample-rate``), else a rate the caller may assume (and says so);
with none of these the read stops with an error instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultcli.config.schema import DataConfig
from faultcli.data import labels
from faultcli.data.readers import RawRecording, format_of, reader_for
from faultcli.data.shaft_lines import check_shaft_line
from faultcli.errors import ConfigError, DataError
from faultcli.progress import Reporter
from faultcli.signal.preprocess import apply_steps

SOURCES = ("file", "pattern", "explicit", "assumed")
MIN_RATE, MAX_RATE = 1, 10_000_000  # Hz: any rate outside is a corrupt value, not a recorder's
MAX_FACTOR = 64  # resampling by more than this (either way) means a wrong rate, and a huge or empty signal
MAX_ABS = 1e12  # no sensor reads this much (g, m/s², volts or ADC counts): larger samples are corrupt bytes


def full_path(path: str | Path) -> str:
    """The absolute POSIX path that rate patterns are matched against."""
    return Path(path).expanduser().absolute().as_posix()


def rate_from_patterns(path: str | Path, patterns: dict[str, int] | None) -> int | None:
    """The rate of the first regex in ``patterns`` found (case-insensitively) in the full path, else None."""
    text = full_path(path)
    for pattern, rate in (patterns or {}).items():
        try:
            regex = re.compile(pattern, re.IGNORECASE)
        except re.error as err:
            raise ConfigError(
                f"data.rate_patterns key {pattern!r} is not a valid regex ({err}); fix the pattern"
            ) from None
        if regex.search(text):
            return int(rate)
    return None


def resolve_rate(
    path: str | Path,
    *,
    file_rate: float | None = None,
    patterns: dict[str, int] | None = None,
    explicit: float | None = None,
    assumed: float | None = None,
    explicit_hint: str = "--set data.source_rate=HZ",
) -> tuple[int, str]:
    """(rate in Hz, how it was found: 'file' | 'pattern' | 'explicit' | 'assumed').

    ``patterns`` are regex → Hz matched against the FULL path; ``explicit`` / ``assumed`` of 0 or None
    mean unset. Raises ``DataError`` naming the file and the two ways to state the rate
    (``explicit_hint`` names the option of the calling command).
    """
    if file_rate is not None:
        return _checked_rate(file_rate, path, "the rate the file states"), "file"
    pattern_rate = rate_from_patterns(path, patterns)
    if pattern_rate is not None:
        return _checked_rate(pattern_rate, path, "the data.rate_patterns rate for its path"), "pattern"
    if explicit:
        return _checked_rate(explicit, path, f"the rate given ({explicit_hint})"), "explicit"
    if assumed:
        return _checked_rate(assumed, path, "the assumed rate (data.sample_rate)"), "assumed"
    raise DataError(
        f"{path}: sampling rate unknown (the file does not state it and no data.rate_patterns regex matches "
        f"its path); state it with {explicit_hint} or add a data.rate_patterns entry for its path"
    )


def _checked_rate(rate: float, path: str | Path, how: str) -> int:
    """A rate in whole Hz; NaN, zero, negative or absurd rates (a corrupt header, a typo) stop the read."""
    if not (np.isfinite(rate) and MIN_RATE <= round(rate) <= MAX_RATE):
        raise DataError(
            f"{path}: {how} is {rate!r} Hz, not a sampling rate ({MIN_RATE} to {MAX_RATE} Hz); "
            "fix the rate or skip the file with data.exclude"
        )
    return int(round(rate))


def check_factor(source_rate: float, target_rate: float, where: str = "") -> None:
    """Refuse a resampling factor beyond ``MAX_FACTOR`` either way: the rate is wrong, and the result would be
    an enormous array or a handful of samples."""
    factor = target_rate / source_rate if source_rate > 0 else float("inf")
    if not (np.isfinite(factor) and 1 / MAX_FACTOR <= factor <= MAX_FACTOR):
        place = f"{where}: " if where else ""
        raise DataError(
            f"{place}resampling from {source_rate:g} Hz to {target_rate:g} Hz is a factor beyond 1/{MAX_FACTOR} to "
            f"{MAX_FACTOR}; check the recording's sampling rate and data.sample_rate"
        )


def resample(signal: np.ndarray, source_rate: float, target_rate: float, where: str = "") -> np.ndarray:
    """Polyphase resampling by the rational factor target/source (``scipy.signal.resample_poly``)."""
    if source_rate == target_rate:
        return signal
    check_factor(source_rate, target_rate, where)
    from scipy.signal import resample_poly

    ratio = Fraction(target_rate / source_rate).limit_denominator(1000)
    return resample_poly(signal, ratio.numerator, ratio.denominator)


def to_orders(signal: np.ndarray, rpm: float | None, order_rpm: float, where: str = "") -> np.ndarray:
    """Angular resampling: ``signal`` of a shaft turning at ``rpm`` resampled in time so that a revolution spans
    the samples it would at ``order_rpm`` (length × rpm / order_rpm); fault lines then sit at the same bins
    whatever the speed. The ends are padded with a fitted line, so no edge dip marks the resampled recordings."""
    if rpm is None or not np.isfinite(rpm) or rpm <= 0:
        place = f"{where}: " if where else ""
        raise DataError(
            f"{place}data.order_rpm needs the recording's shaft speed and nothing states it; set data.speed_regex "
            "with a group (?P<shaft_hz>...) or (?P<rpm>...), or set data.order_rpm = 0"
        )
    if rpm == order_rpm:
        return signal
    check_factor(order_rpm, rpm, where)
    from scipy.signal import resample_poly

    ratio = Fraction(rpm / order_rpm).limit_denominator(1000)
    return resample_poly(signal, ratio.numerator, ratio.denominator, padtype="line").astype(np.float32)


@dataclass
class RateRead:
    """One recording of a file, at the rate it was found at and resampled to the dataset's rate."""

    raw: RawRecording
    where: str  # the file, and the part of it ("col3") for multi-recording files
    rate: int  # the recording's own rate
    source: str  # how the rate was found: file, pattern, explicit, assumed
    signal: np.ndarray  # float32, at the target rate
    warning: str | None = None  # the shaft-line check's, when it disagrees with ``rate``


def read_file(path: Path, fmt: str, *, channel: str = "DE", csv_layout: str = "auto") -> list[RawRecording]:
    """The recordings a file holds, as its reader returns them (float64); non-finite samples, and samples
    beyond ``MAX_ABS`` (which would also overflow float32 arithmetic later), are a DataError."""
    out = reader_for(fmt)(path, channel=channel, csv_layout=csv_layout)
    if not any(np.size(raw.signal) for raw in out):
        raise DataError(f"{path} holds no samples; remove it or skip it with data.exclude")
    for raw in out:
        raw.signal = np.asarray(raw.signal, dtype=np.float64)
        where = str(path) + (f" [{raw.part}]" if raw.part else "")
        bad = np.flatnonzero(~np.isfinite(raw.signal))
        if bad.size:
            i = int(bad[0])
            raise DataError(
                f"{where}: sample {i} is {raw.signal[i]} ({bad.size} non-finite values); clean the "
                "recording or skip the file with data.exclude"
            )
        huge = np.flatnonzero(np.abs(raw.signal) > MAX_ABS)
        if huge.size:
            i = int(huge[0])
            raise DataError(
                f"{where}: sample {i} is {raw.signal[i]:g} ({huge.size} beyond ±{MAX_ABS:g}), not a measurement; "
                "the file is likely corrupt: replace it or skip it with data.exclude"
            )
    return out


def at_rate(
    path: Path,
    recordings: list[RawRecording],
    target_rate: int,
    *,
    patterns: dict[str, int] | None = None,
    explicit: float | None = None,
    assumed: float | None = None,
    explicit_hint: str = "--set data.source_rate=HZ",
    check: bool = True,
) -> list[RateRead]:
    """Each recording at ``target_rate``: its rate by ``resolve_rate``, checked against its shaft speed."""
    out = []
    for raw in recordings:
        rate, source = resolve_rate(
            path, file_rate=raw.rate, patterns=patterns, explicit=explicit, assumed=assumed, explicit_hint=explicit_hint
        )
        where = str(path) + (f" [{raw.part}]" if raw.part else "")
        warning = check_shaft_line(raw.signal, rate, raw.rpm) if check else None
        signal = resample(raw.signal, rate, target_rate, where).astype(np.float32)
        if not np.isfinite(signal).all():  # checked after the cast: float32 overflows where float64 did not
            raise DataError(
                f"{where}: samples overflow 32-bit floats at {target_rate} Hz; the file is likely corrupt: "
                "replace it or skip it with data.exclude"
            )
        out.append(RateRead(raw, where, rate, source, signal, f"{where}: {warning}" if warning else None))
    return out


def can_assume_rate(d: DataConfig, evaluating: bool) -> bool:
    """Whether a recording that states no rate may be taken at ``data.sample_rate`` (and the log says so).

    A recipe without ``data.rate_patterns`` reads every file at one rate, so the assumption is the recipe's;
    one with patterns says rates differ by path, so on new data (evaluating) an unmatched file is an error.
    """
    return not d.rate_patterns or not evaluating


def read_recordings(
    d: DataConfig, entries: list[dict[str, Any]], classes: list[str], reporter: Reporter, evaluating: bool
) -> tuple[pd.DataFrame, np.ndarray, dict[str, Any]]:
    """The recordings table, the concatenated float32 signals at ``data.sample_rate``, and what the log must
    say: files skipped (evaluating: unreadable, shorter than a window), how rates were found, rate warnings.

    ``entries``: one dict per labelled file (path, rel, label, meta, sha1), as ``prepare_vibration`` builds them.
    """
    rows, chunks, offset = [], [], 0
    notes: dict[str, Any] = {"skipped": [], "rate_sources": {}, "rate_warnings": []}
    assumed = d.sample_rate if can_assume_rate(d, evaluating) else None
    speeds = labels.speed_regex(d.speed_regex)
    with reporter.task("reading", total=len(entries)) as task:
        for entry in entries:
            fmt = d.format if d.format != "auto" else format_of(entry["path"])
            try:
                recordings = read_file(entry["path"], fmt, channel=d.channel, csv_layout=d.csv_layout)
            except DataError as err:
                if not evaluating:
                    raise
                notes["skipped"].append({"file": entry["rel"], "reason": f"unreadable: {err}"})
                task.advance()
                continue
            reads = at_rate(
                entry["path"],
                recordings,
                d.sample_rate,
                patterns=d.rate_patterns,
                explicit=d.source_rate,
                assumed=assumed,
            )
            for read in reads:
                raw, signal = read.raw, read.signal
                meta = {**entry["meta"]}
                if raw.rpm is not None:  # the file's own speed first, then the recipe's rule for its name
                    meta["rpm"] = raw.rpm
                elif speeds is not None:
                    meta["rpm"] = labels.speed_from_path(entry["rel"], speeds)
                if raw.sensor:
                    meta["sensor"] = raw.sensor
                if d.preprocess:  # per recording at the model's rate, fitted without labels
                    signal = apply_steps(signal, d.sample_rate, d.preprocess).astype(np.float32)
                if d.order_rpm:  # last: the steps above work in physical time (a resonance band stays put)
                    signal = to_orders(signal, _speed(meta.get("rpm")), d.order_rpm, read.where)
                    # the stored signal turns at order_rpm now, which is what a model's own order grid must read
                    meta["recorded_rpm"], meta["rpm"] = meta["rpm"], float(d.order_rpm)
                if signal.size < d.window:
                    if evaluating:
                        reason = f"{signal.size} samples at {d.sample_rate} Hz, fewer than data.window = {d.window}"
                        notes["skipped"].append(
                            {"file": entry["rel"] + (f" [{raw.part}]" if raw.part else ""), "reason": reason}
                        )
                        continue
                    hint = " (or a data.order_rpm no higher than every recording's speed)" if d.order_rpm else ""
                    raise DataError(
                        f"{read.where} has {signal.size} samples at {d.sample_rate} Hz, fewer than "
                        f"data.window = {d.window}; use a smaller data.window{hint} or skip the file"
                    )
                counts = notes["rate_sources"]
                counts[read.source] = counts.get(read.source, 0) + 1
                if read.warning:
                    notes["rate_warnings"].append(read.warning)
                rows.append(
                    {
                        "recording": len(rows),
                        "file": entry["rel"],
                        "part": raw.part,
                        "sha1": entry["sha1"],
                        "label": entry["label"],
                        "class_index": classes.index(entry["label"]),
                        "offset": offset,
                        "length": signal.size,
                        "source_rate": float(read.rate),
                        **meta,
                    }
                )
                chunks.append(signal)
                offset += signal.size
            task.advance()
    if not rows and not notes["skipped"]:  # e.g. eval on a folder whose files have none of the checkpoint's classes
        shown = ", ".join(classes[:6]) + (", ..." if len(classes) > 6 else "")
        raise DataError(
            f"no file under {d.root} has one of the classes {shown}; check data.root and the label rule "
            "(data.label_from, data.label_regex, data.label_map)"
        )
    if not rows:
        raise DataError(
            f"no usable recordings under {d.root} ({len(notes['skipped'])} skipped, first: "
            f"{notes['skipped'][0]['file']}: {notes['skipped'][0]['reason']}); check data.root and data.window"
        )
    table = pd.DataFrame(rows)
    for column in labels.METADATA:
        if column not in table:
            table[column] = np.nan
    first = list(labels.RESERVED) + ["rpm", "fault", "size", "load", "position", "sensor"]
    table = table[first + sorted(c for c in table.columns if c not in first)]
    table["rpm"] = pd.to_numeric(table["rpm"], errors="coerce")
    return table, np.concatenate(chunks), notes


def _speed(value: Any) -> float | None:
    """A table's rpm value as a float; None when missing or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
