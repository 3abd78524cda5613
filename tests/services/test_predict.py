"""faultcli predict: checkpoint, TorchScript and ONNX give the same verdicts; ONNX runs without torch; output
streams to disk; the rate rule, skipped files and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "export"))
from checkpoints import image_checkpoint, vibration_checkpoint  # noqa: E402

from faultcli.errors import DataError, UserError  # noqa: E402
from faultcli.services.export import run_export  # noqa: E402
from faultcli.services.predict import run_predict  # noqa: E402


@pytest.fixture(scope="module")
def band_model(tmp_path_factory) -> dict[str, Path]:
    """A band_linear checkpoint (fast to export) with its ONNX and TorchScript exports."""
    tmp = tmp_path_factory.mktemp("band")
    ckpt = vibration_checkpoint(tmp, {"name": "band_linear"}, {"rate_patterns": {"raw": 12000}})
    run_export(ckpt, "onnx", out=tmp / "onnx", threads=1)
    run_export(ckpt, "torchscript", out=tmp / "ts", threads=1)
    return {"run": tmp / "run", "onnx": tmp / "onnx", "ts": tmp / "ts", "data": tmp / "raw", "tmp": tmp}


def test_checkpoint_torchscript_and_onnx_agree(band_model, tmp_path):
    runs = {k: run_predict(band_model[k], band_model["data"], out=tmp_path / k) for k in ("run", "ts", "onnx")}
    assert [runs[k]["runtime"] for k in runs] == ["pytorch", "torchscript", "onnxruntime"]
    tables = {k: pd.read_csv(tmp_path / k / "per_recording.csv") for k in runs}
    for k in ("ts", "onnx"):
        assert (tables[k]["verdict_vote"] == tables["run"]["verdict_vote"]).all()
        assert (tables[k]["verdict_mean"] == tables["run"]["verdict_mean"]).all()
        windows = pd.read_csv(tmp_path / k / "predictions.csv")
        reference = pd.read_csv(tmp_path / "run" / "predictions.csv")
        probs = [c for c in windows if c.startswith("p_")]
        assert np.abs(windows[probs].to_numpy() - reference[probs].to_numpy()).max() <= 2e-5
    assert len(tables["onnx"]) == 12 and runs["onnx"]["units"] == 12 * 92  # 1 s at 12 kHz: 92 windows of 256 / 128
    assert runs["onnx"]["rate_from"] == {"pattern": 12}


def test_onnx_predict_imports_no_torch(band_model, tmp_path):
    code = (
        "import sys; from pathlib import Path; from faultcli.services.predict import run_predict; "
        f"s = run_predict(Path({str(band_model['onnx'])!r}), Path({str(band_model['data'])!r}), "
        f"out=Path({str(tmp_path / 'p')!r})); "
        "assert 'torch' not in sys.modules, 'torch imported'; print(s['units'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy())
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(12 * 92)


def test_results_stream_to_disk_file_by_file(band_model, tmp_path):
    seen: list[int] = []

    class Watch:
        """A reporter that counts the rows already on disk each time a file is done."""

        def task(self, description, total):
            import contextlib

            @contextlib.contextmanager
            def ctx():
                class T:
                    def advance(self, n=1, **fields):
                        # rows go to a temporary file, renamed to predictions.csv when the run ends
                        path = tmp_path / "out" / ".predictions.csv.tmp"
                        seen.append(sum(1 for _ in open(path)) - 1)

                yield T()

            return ctx()

        def info(self, message):
            pass

    run_predict(band_model["onnx"], band_model["data"], out=tmp_path / "out", reporter=Watch())
    assert seen == [92 * k for k in range(1, 13)]  # each file's windows are on disk before the next is read
    assert sum(1 for _ in open(tmp_path / "out" / "predictions.csv")) == 12 * 92 + 1
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_skipped_files_are_listed_with_their_reason(band_model, tmp_path):
    folder = tmp_path / "raw_mixed"
    folder.mkdir()
    rng = np.random.default_rng(0)
    np.save(folder / "good.npy", rng.standard_normal(12000))
    np.save(folder / "short.npy", rng.standard_normal(100))
    (folder / "broken.npy").write_bytes(b"not numpy")
    summary = run_predict(band_model["onnx"], folder, out=tmp_path / "out")
    reasons = {s["file"]: s["reason"] for s in summary["skipped"]}
    assert set(reasons) == {"short.npy", "broken.npy"} and "fewer than the model's window" in reasons["short.npy"]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Skipped files" in report and "short.npy" in report
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["predicted_files"] == 1


def test_a_file_of_unknown_rate_stops_and_leaves_nothing(band_model, tmp_path):
    folder = tmp_path / "elsewhere"  # no rate pattern matches this path and the file states no rate
    folder.mkdir()
    np.save(folder / "rec.npy", np.random.default_rng(0).standard_normal(48000))
    with pytest.raises(DataError, match="sampling rate unknown") as err:
        run_predict(band_model["onnx"], folder, out=tmp_path / "out")
    assert "--sample-rate" in str(err.value) and not (tmp_path / "out").exists()
    summary = run_predict(band_model["onnx"], folder, out=tmp_path / "ok", sample_rate=48000)
    assert summary["rate_from"] == {"explicit": 1} and summary["units"] == 92  # resampled to 12 kHz


def test_single_bad_files_are_errors(band_model, tmp_path):
    short = tmp_path / "raw_short.npy"
    np.save(short, np.zeros(50))
    with pytest.raises(DataError, match="fewer than the model's window"):
        run_predict(band_model["onnx"], short, out=tmp_path / "a")
    with pytest.raises(UserError, match="does not exist"):
        run_predict(tmp_path / "nope", short, out=tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_images_and_masks_from_checkpoint_and_onnx(tmp_path):
    ckpt = image_checkpoint(tmp_path / "cls", edges=True)
    run_export(ckpt, "onnx", out=tmp_path / "cls_onnx", threads=1)
    images = tmp_path / "cls" / "images"
    a = run_predict(tmp_path / "cls" / "run", images, out=tmp_path / "p1")
    b = run_predict(tmp_path / "cls_onnx", images, out=tmp_path / "p2")
    first, second = pd.read_csv(tmp_path / "p1" / "predictions.csv"), pd.read_csv(tmp_path / "p2" / "predictions.csv")
    assert a["units"] == b["units"] == 80 and (first["predicted"] == second["predicted"]).all()
    import cv2

    colour = tmp_path / "colour.png"
    cv2.imwrite(str(colour), np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8))
    with pytest.raises(DataError, match="colour image but the model was trained on 1-channel"):
        run_predict(tmp_path / "cls_onnx", colour, out=tmp_path / "p3")


def test_segmenter_writes_masks_and_rle(tmp_path):
    ckpt = image_checkpoint(tmp_path / "seg", segmentation=True)
    summary = run_predict(ckpt.parents[1], tmp_path / "seg" / "seg" / "images", out=tmp_path / "out")
    assert summary["units"] == 80
    masks = sorted((tmp_path / "out" / "masks").glob("*.png"))
    assert len(masks) == 80 * 2  # one PNG per image and class
    rle = pd.read_csv(tmp_path / "out" / "predictions_rle.csv")
    assert list(rle.columns) == ["ImageId", "ClassId", "EncodedPixels"]
