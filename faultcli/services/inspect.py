"""`faultcli inspect`: one recording looked at as the field has for decades, beside a model's verdict.

Reads one recording (any vibration reader's format), finds its sampling rate, shaft speed and bearing (each
stated in the report with how it was found), picks the demodulation band by the fast kurtogram (or takes
the given one), and writes ``inspect.png``, ``report.md`` and ``summary.json`` into a run folder.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from faultcli.errors import CheckpointError, DataError
from faultcli.progress import Reporter
from faultcli.runs import atomic_write_text, new_run_dir, open_run, point_latest

# CWRU folders name their rate (12k_drive_end, 48k_drive_end); the files themselves say none
RATE_PATTERNS = {"12k": 12000, "48k": 48000}
MAX_MODEL_WINDOWS = 4096  # windows a verdict reads at most, spread evenly over the recording


@dataclass
class InspectOptions:
    """What the command line gives; None = find it in the file (or fail saying how to give it)."""

    bearing: str | None = None
    geometry: str | None = None
    rpm: float | None = None
    channel: str = "DE"
    sample_rate: float | None = None
    band: tuple[float, float] | None = None
    levels: int = 6
    harmonics: int = 3
    part: str | None = None
    model: Path | None = None


@dataclass
class Recording:
    """One signal with its rate and shaft speed, and how each was found."""

    path: Path
    part: str
    signal: np.ndarray
    rate: float
    rate_how: str
    rpm: float
    rpm_how: str
    sensor: str | None
    notes: list[str] = field(default_factory=list)


RATE_HOW = {"file": "stated in the file", "explicit": "given (--sample-rate)"}


def _resolve_rate(path: Path, file_rate: float | None, explicit: float | None) -> tuple[float, str, list[str]]:
    """(rate, how it was found, notes): the shared rule of faultcli.data.rates, never a guess."""
    from faultcli.data.rates import rate_from_patterns, resolve_rate

    rate, how = resolve_rate(
        path, file_rate=file_rate, patterns=RATE_PATTERNS, explicit=explicit, explicit_hint="--sample-rate HZ"
    )
    if how == "pattern":
        named = next(p for p in RATE_PATTERNS if rate_from_patterns(path, {p: RATE_PATTERNS[p]}))
        how_text = f"named by its path (pattern {named!r} = {rate} Hz)"
    else:
        how_text = RATE_HOW.get(how, how)
    notes = []
    if explicit and how != "explicit" and abs(explicit - rate) > 1e-6 * rate:
        notes.append(f"--sample-rate {explicit:g} not used: the rate {how_text} is {rate:g} Hz")
    return float(rate), how_text, notes


def load_recording(path: Path, options: InspectOptions) -> Recording:
    """The recording to inspect, its rate and shaft speed; every missing piece is a one-line error."""
    from faultcli.data.readers import EXTENSIONS, format_of, reader_for

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} is not a file; pass a recording ({', '.join(sorted(EXTENSIONS))})")
    fmt = format_of(path)
    if fmt is None:
        raise DataError(
            f"{path}: no reader for {path.suffix or 'files without extension'}; use one of "
            f"{', '.join(sorted(EXTENSIONS))}"
        )
    raws = reader_for(fmt)(path, channel=options.channel.upper(), csv_layout="auto")
    if options.part is not None:
        chosen = [r for r in raws if r.part == options.part]
        if not chosen:
            raise DataError(f"{path} has no part {options.part!r}; parts: {', '.join(r.part for r in raws)}")
        raw = chosen[0]
    elif len(raws) > 1:
        names = [r.part for r in raws]
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise DataError(f"{path} holds {len(raws)} recordings ({shown}); choose one with --part NAME")
    else:
        raw = raws[0]
    signal = np.asarray(raw.signal, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(signal))
    if bad.size:
        raise DataError(
            f"{path}: sample {int(bad[0])} is {signal[bad[0]]} ({bad.size} non-finite); clean the recording"
        )
    rate, rate_how, notes = _resolve_rate(path, raw.rate, options.sample_rate)
    if raw.rpm is not None and math.isfinite(raw.rpm) and raw.rpm > 0:
        rpm, rpm_how = float(raw.rpm), "stated in the file"
        if options.rpm is not None and abs(options.rpm - raw.rpm) > 0.5:
            notes.append(f"--rpm {options.rpm:g} not used: the file states {raw.rpm:g} rpm")
    elif options.rpm is not None:
        if not (math.isfinite(options.rpm) and options.rpm > 0):
            raise DataError(f"--rpm {options.rpm:g} is not a positive shaft speed")
        rpm, rpm_how = float(options.rpm), "given (--rpm)"
    else:
        raise DataError(f"{path} states no shaft speed; pass it with --rpm R (revolutions per minute)")
    return Recording(path, raw.part, signal, rate, rate_how, rpm, rpm_how, raw.sensor, notes)


def diagnose(rec: Recording, options: InspectOptions) -> dict[str, Any]:
    """Statistics, band, envelope spectrum and line matches of a recording (no files written)."""
    from faultcli.diagnostics.bearings import resolve_bearing
    from faultcli.diagnostics.envelope import check_band, squared_envelope_spectrum, waveform_stats
    from faultcli.diagnostics.kurtogram import fast_kurtogram
    from faultcli.diagnostics.matching import match_lines

    bearing, bearing_how = resolve_bearing(options.bearing, options.geometry, rec.sensor)
    orders = bearing.orders()
    if options.band is not None:
        band, kurtogram = check_band(options.band, rec.rate, "--band"), None
        band_how = "given (--band)"
    else:
        kurtogram = fast_kurtogram(rec.signal, rec.rate, options.levels)
        band = kurtogram.best_band
        band_how = (
            f"fast kurtogram, {options.levels} levels: level {kurtogram.best_level:g}, "
            f"spectral kurtosis {kurtogram.best_kurtosis:.2f}"
        )
    shaft_hz = rec.rpm / 60.0
    max_freq = (options.harmonics * max(orders.values()) * 1.1 + 1) * shaft_hz
    ses = squared_envelope_spectrum(rec.signal, rec.rate, band, max_freq=max_freq)
    matches, shaft = match_lines(ses, rec.rpm, orders, harmonics=options.harmonics)
    return {
        "bearing": bearing,
        "bearing_how": bearing_how,
        "orders": orders,
        "stats": waveform_stats(rec.signal),
        "kurtogram": kurtogram,
        "band": band,
        "band_how": band_how,
        "ses": ses,
        "matches": matches,
        "shaft": shaft,
    }


def model_verdict(checkpoint: Path, rec: Recording, channel: str | None) -> dict[str, Any]:
    """A trained classifier's verdict on the recording: windows cut and normalised as its training data
    were (rate, window, step, mean and std from the checkpoint), mean probabilities and the vote."""
    import torch

    from faultcli.data.vibration import resample
    from faultcli.metrics import softmax
    from faultcli.services.common import load_trained_model
    from faultcli.services.evaluate import load_checkpoint_or_run

    state = load_checkpoint_or_run(checkpoint)
    info = state.get("data_info") or {}
    if state.get("task", "vibration-classification") != "vibration-classification" or "norm_mean" not in info:
        raise CheckpointError(
            f"{checkpoint} is a {state.get('task', 'non-vibration')} checkpoint; --model takes a vibration "
            "classifier trained by faultcli finetune"
        )
    data_cfg = (state.get("config") or {}).get("data", {})
    window, rate = int(info["window"]), float(info["sample_rate"])
    step = int(info.get("step") or data_cfg.get("step") or window)
    x = resample(rec.signal, rec.rate, rate)
    steps = list(info.get("preprocess") or [])  # the recording goes through what the training data went through
    if steps:
        from faultcli.signal.preprocess import apply_steps

        x = apply_steps(x, rate, steps)
    if x.size < window:
        raise DataError(f"{rec.path} has {x.size} samples at {rate:g} Hz, fewer than the model's window {window}")
    starts = np.arange(0, x.size - window + 1, step)
    if starts.size > MAX_MODEL_WINDOWS:
        starts = starts[np.linspace(0, starts.size - 1, MAX_MODEL_WINDOWS).round().astype(int)]
    windows = (x[starts[:, None] + np.arange(window)] - float(info["norm_mean"])) / (float(info["norm_std"]) or 1.0)
    model = load_trained_model(state, torch.device("cpu")).eval()
    logits = []
    with torch.inference_mode():
        for i in range(0, len(windows), 256):
            batch = torch.from_numpy(windows[i : i + 256].astype(np.float32)).unsqueeze(1)
            logits.append(model(batch, rpm=torch.full((len(batch),), rec.rpm, dtype=torch.float32)).float().numpy())
    probs = softmax(np.concatenate(logits) / float(state.get("temperature", 1.0)))
    classes = list(state["classes"])
    votes = np.bincount(probs.argmax(1), minlength=len(classes))
    trained_channel = data_cfg.get("channel")
    return {
        "checkpoint": str(checkpoint),
        "classes": classes,
        "probabilities": probs.mean(axis=0).round(6).tolist(),
        "predicted": classes[int(votes.argmax())],
        "vote_share": float(votes.max() / len(probs)),
        "windows": int(len(probs)),
        "window": window,
        "step": step,
        "sample_rate": rate,
        "preprocess": steps,
        "trained_channel": trained_channel,
        "channel_differs": bool(trained_channel and channel and trained_channel != channel),
    }


def inspect_recording(rec: Recording, options: InspectOptions, out: Path, reporter: Reporter) -> dict[str, Any]:
    """Diagnose ``rec`` and write inspect.png and report.md into ``out``; returns the summary."""
    from faultcli.diagnostics.page import inspect_page
    from faultcli.diagnostics.report import inspect_markdown

    started = time.perf_counter()
    found = diagnose(rec, options)
    reporter.info(f"demodulation band {found['band'][0]:g}-{found['band'][1]:g} Hz ({found['band_how']})")
    verdict = model_verdict(options.model, rec, rec.sensor) if options.model is not None else None
    notes = list(rec.notes)
    if verdict and verdict["channel_differs"]:
        notes.append(f"the model was trained on channel {verdict['trained_channel']}, this is {rec.sensor}")
    bearing, matches = found["bearing"], found["matches"]
    if not matches:
        raise DataError(f"{rec.path}: no characteristic line lies inside the envelope spectrum; check --rpm")
    top = matches[0]
    summary: dict[str, Any] = {
        "file": str(rec.path),
        "part": rec.part,
        "channel": rec.sensor,
        "channel_how": "given (--channel)" if rec.sensor else "not applicable (one signal per recording)",
        "samples": int(rec.signal.size),
        "duration_s": rec.signal.size / rec.rate,
        "sample_rate": rec.rate,
        "sample_rate_how": rec.rate_how,
        "rpm": rec.rpm,
        "rpm_how": rec.rpm_how,
        "bearing": asdict(bearing),
        "bearing_how": found["bearing_how"],
        "fault_orders": found["orders"],
        "fault_hz": bearing.frequencies(rec.rpm),
        "stats": found["stats"],
        "band": list(found["band"]),
        "band_how": found["band_how"],
        "matches": [m.as_dict() for m in matches],
        "shaft": [m.as_dict() for m in found["shaft"]],
        "strongest": top.as_dict(),
        "verdict": verdict,
        "notes": notes,
        "files": {"page": "inspect.png", "report": "report.md", "summary": "summary.json"},
    }
    header = [
        f"rate {rec.rate:g} Hz ({rec.rate_how})",
        f"shaft {rec.rpm:g} rpm ({rec.rpm_how})",
        f"bearing {bearing.name} ({found['bearing_how'].split(' (')[0]})",
    ] + [f"{k} {v:.4f} × = {summary['fault_hz'][k]:.2f} Hz" for k, v in found["orders"].items()]
    title = f"{rec.path.name}{' [' + rec.part + ']' if rec.part else ''}  {rec.sensor or ''}"
    inspect_page(
        out / "inspect.png",
        title=title,
        x=rec.signal,
        rate=rec.rate,
        rpm=rec.rpm,
        stats=found["stats"],
        kurtogram=found["kurtogram"],
        ses=found["ses"],
        orders=found["orders"],
        harmonics=options.harmonics,
        matches=matches,
        shaft=found["shaft"],
        header=header,
        verdict=verdict,
    )
    summary["seconds"] = time.perf_counter() - started
    atomic_write_text(out / "report.md", inspect_markdown(summary))
    return summary


def _settings_toml(path: Path, options: InspectOptions) -> str:
    """The command's inputs, recorded in the run folder as config.toml."""
    items = {"file": str(path), **{k: v for k, v in asdict(options).items() if v is not None}}
    lines = ["[inspect]"]
    for key, value in items.items():
        if isinstance(value, (tuple, list)):
            value = list(value)
        lines.append(f"{key} = {json.dumps(value if not isinstance(value, Path) else str(value))}")
    return "\n".join(lines) + "\n"


def run_inspect(path: Path, options: InspectOptions, out: Path | None, reporter: Reporter) -> tuple[dict, Path]:
    """Inspect one recording into ``out`` (or runs/inspect/<stem>-<time>); returns (summary, run folder)."""
    rec = load_recording(path, options)  # bad input fails before any folder exists
    folder = new_run_dir("inspect", Path(path).stem.replace("@", "_"), out)
    with open_run(folder, _settings_toml(Path(path), options)) as run:
        summary = inspect_recording(rec, options, run.path, reporter)
        run.write_summary(summary)
    if out is None:
        point_latest(folder)
    return summary, folder
