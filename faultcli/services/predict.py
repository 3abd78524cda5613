"""`faultcli predict`: diagnose new recordings or images with a checkpoint, a run folder or an export.

With an ONNX export nothing here imports torch: the sidecar, the numpy preprocessing and ONNX Runtime
are all it takes. Files are read, predicted and written one at a time (images in small batches), so
the memory used does not grow with the size of the input folder.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from faultcli.errors import UserError
from faultcli.export import preprocess as pre
from faultcli.export import sidecar as side
from faultcli.export.outputs import VERDICT_COLUMNS, VIBRATION_EXTRA, CsvStream, Tally, verdict_row, write_report
from faultcli.progress import LogReporter, NullReporter, Reporter
from faultcli.runs import (
    atomic_write_json,
    close_logger,
    make_logger,
    make_run_folder,
    new_run_dir,
    remove_run_folder,
)

IMAGE_BATCH = 16


def load_predictor(model: Path, threads: int = 0) -> tuple[dict[str, Any], Any]:
    """(sidecar, runner) of an export folder, a run folder or a checkpoint file."""
    model = Path(model)
    if not model.exists():
        raise UserError(f"--model {model} does not exist; pass a run folder, a checkpoint .pt or an export folder")
    if model.is_dir() and side.is_export(model):
        sidecar = side.read(model)
        if sidecar.get("runtime") == "onnxruntime":
            from faultcli.export.onnx_runner import OnnxRunner

            return sidecar, OnnxRunner(model / sidecar["model_file"], threads)
        from faultcli.export.torch_runner import TorchScriptRunner

        _torch_threads(threads)
        return sidecar, TorchScriptRunner(model / sidecar["model_file"], sidecar)
    from faultcli.export.checkpoint import load_state
    from faultcli.export.torch_runner import CheckpointRunner

    _torch_threads(threads)
    state = load_state(model)
    sidecar = side.describe(state)
    return sidecar, CheckpointRunner(state, sidecar)


def _torch_threads(threads: int) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process: VmHWM on Linux (getrusage there also counts the memory of
    the parent it was forked from), else getrusage (macOS reports bytes)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def _predict_recordings(
    files: list[Path], base: Path, sidecar: dict, runner: Any, out: Path, args: dict, tally: Tally, reporter: Reporter
) -> None:
    prep, classes = sidecar["preprocessing"], sidecar["classes"]
    probs_cols = [f"p_{c}" for c in classes]
    windows = CsvStream(out / "predictions.csv", ["file", "start", "start_s", "predicted", *probs_cols])
    verdicts = CsvStream(out / "per_recording.csv", [*VERDICT_COLUMNS, *VIBRATION_EXTRA, *probs_cols])
    try:
        with reporter.task("predicting", total=len(files)) as task:
            for path in files:
                name = path.relative_to(base).as_posix()
                try:
                    recordings = pre.read_recordings(path, name, prep, args["sample_rate"])
                except pre.SkippedFile as err:
                    if len(files) == 1:
                        raise
                    tally.skipped.append((name, str(err).replace(str(path), "").strip(" :;")))
                    reporter.info(f"skipped {name}: {err}")
                    task.advance()
                    continue
                for rec in recordings:
                    parts = [
                        runner.run(pre.vibration_inputs(rec, prep, rows))["probs"]
                        for rows in pre.chunks(len(rec.x), args["batch"])
                    ]
                    probs = np.concatenate(parts)
                    top = probs.argmax(1)
                    windows.write(
                        [
                            [rec.name, int(s), round(s / prep["sample_rate"], 4), classes[k], *np.round(p, 5)]
                            for s, k, p in zip(rec.starts, top, probs, strict=True)
                        ]
                    )
                    extra = [rec.rate, rec.rate_from, "" if rec.rpm is None else rec.rpm, rec.warning or ""]
                    row = verdict_row(rec.name, probs, classes, extra)
                    verdicts.write([row])
                    tally.verdicts[row[4]] += 1
                    tally.rate_from[rec.rate_from] += 1
                    tally.units += len(probs)
                    if rec.warning:
                        tally.warnings.append(f"{rec.name}: {rec.warning}")
                        reporter.info(f"warning: {rec.name}: {rec.warning}")
                task.advance()
    finally:
        windows.close()
        verdicts.close()


def _predict_images(
    files: list[Path], base: Path, sidecar: dict, runner: Any, out: Path, args: dict, tally: Tally, reporter: Reporter
) -> None:
    prep, classes = sidecar["preprocessing"], sidecar["classes"]
    segmentation = sidecar["task"] == "segmentation"
    if segmentation:
        from faultcli.export.masks import MaskWriter

        writer: Any = MaskWriter(out, sidecar)
    else:
        writer = CsvStream(out / "predictions.csv", ["file", "predicted", "confidence", *[f"p_{c}" for c in classes]])
    try:
        with reporter.task("predicting", total=len(files)) as task:
            for part in pre.chunks(len(files), IMAGE_BATCH):
                names, images, sizes = [], [], []
                for path in files[part]:
                    name = path.relative_to(base).as_posix()
                    try:
                        image, size = pre.load_image(path, prep)
                    except pre.SkippedFile as err:
                        if len(files) == 1:
                            raise
                        tally.skipped.append((name, "cannot be decoded as an image"))
                        reporter.info(f"skipped {name}: {err}")
                        continue
                    names.append(name)
                    images.append(image)
                    sizes.append(size)
                if images:
                    probs = runner.run(pre.image_inputs(images, prep))["probs"]
                    if segmentation:
                        for name, p, size in zip(names, probs, sizes, strict=True):
                            tally.verdicts.update(writer.write(name, p, size))
                    else:
                        top = probs.argmax(1)
                        writer.write(
                            [
                                [n, classes[k], round(float(p[k]), 5), *np.round(p, 5)]
                                for n, k, p in zip(names, top, probs, strict=True)
                            ]
                        )
                        tally.verdicts.update(classes[k] for k in top)
                    tally.units += len(images)
                task.advance(len(files[part]))
    finally:
        writer.close()


def run_predict(
    model: Path,
    source: Path,
    *,
    out: Path | None = None,
    sample_rate: int | None = None,
    batch_size: int = 256,
    threads: int = 0,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Predict every recording or image under ``source``; returns the summary (also ``summary.json``).

    The output folder holds ``predictions.csv``, ``per_recording.csv`` (recordings), masks and
    ``predictions_rle.csv`` (segmenters), ``report.md``, ``summary.json`` and ``run.log``. Bad input
    (an unknown rate, an image of another channel count, a single unusable file) removes the folder again.
    """
    started = time.monotonic()
    reporter = reporter or NullReporter()
    sidecar, runner = load_predictor(model, threads)
    prep = sidecar["preprocessing"]
    files, base = pre.list_inputs(source, prep["kind"])
    target = new_run_dir("predict", sidecar["model_name"], out)
    made = make_run_folder(target)
    logger = make_logger(target)
    log = LogReporter(reporter, logger)
    tally = Tally()
    args = {"sample_rate": sample_rate, "batch": max(1, batch_size)}
    try:
        log.info(f"{len(files)} file(s) under {source}; model {model} on {runner.runtime}")
        predict = _predict_recordings if prep["kind"] == "vibration" else _predict_images
        predict(files, base, sidecar, runner, target, args, tally, log)
        if len(tally.skipped) == len(files):
            raise UserError(
                f"no file under {source} could be predicted (first: {tally.skipped[0][0]}: {tally.skipped[0][1]})"
            )
    except UserError:
        close_logger(logger)
        remove_run_folder(target, made)
        raise
    seconds = time.monotonic() - started
    summary = {
        "model": sidecar["model_name"],
        "model_path": str(model),
        "runtime": runner.runtime,
        "task": sidecar["task"],
        "input": str(source),
        "files": len(files),
        "predicted_files": len(files) - len(tally.skipped),
        "skipped": [{"file": f, "reason": r} for f, r in tally.skipped],
        "units": tally.units,
        "verdicts": dict(tally.verdicts),
        "rate_from": dict(tally.rate_from),
        "model_rate": prep.get("sample_rate"),
        "warnings": tally.warnings,
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "torch_imported": "torch" in sys.modules,
        "folder": str(target),
    }
    write_report(target / "report.md", summary, tally, "windows" if prep["kind"] == "vibration" else "images")
    atomic_write_json(target / "summary.json", summary)
    logger.info("summary %s", {k: v for k, v in summary.items() if k not in ("skipped", "warnings")})
    close_logger(logger)
    return summary
