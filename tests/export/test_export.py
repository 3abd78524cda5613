"""faultcli export on every model family (tiny configs): the graph, its sidecar, parity on the run's own data,
and the bad inputs that must leave nothing behind."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from checkpoints import image_checkpoint, vibration_checkpoint  # noqa: E402

from faultcli.errors import CheckpointError, UserError  # noqa: E402
from faultcli.export import sidecar as side  # noqa: E402
from faultcli.services.export import run_export  # noqa: E402

# every branch, the wide read-out and order normalisation in one multimodal model
ALL_BRANCHES = {"branches": ["time", "fft", "tf", "envelope", "bands"], "wide_bands": 16, "order_normalize": True}
FAMILIES = {
    "multimodal": lambda tmp: vibration_checkpoint(tmp, ALL_BRANCHES),
    "wdcnn": lambda tmp: vibration_checkpoint(tmp, {"name": "wdcnn"}, {"window": 1024, "step": 256}, seconds=2.0),
    "band_linear": lambda tmp: vibration_checkpoint(tmp, {"name": "band_linear"}),
    "envelope_linear": lambda tmp: vibration_checkpoint(
        tmp, {"name": "envelope_linear"}, {"window": 1024, "step": 256}, seconds=2.0
    ),
    "image_edges": lambda tmp: image_checkpoint(tmp, edges=True),
    "segmenter": lambda tmp: image_checkpoint(tmp, segmentation=True),
}


@pytest.fixture(scope="module", params=list(FAMILIES))
def exported(request, tmp_path_factory) -> tuple[str, Path, dict]:
    tmp = tmp_path_factory.mktemp(request.param)
    ckpt = FAMILIES[request.param](tmp)
    result = run_export(ckpt, "onnx", out=tmp / "export", threads=1)
    return request.param, tmp / "export", result


def test_every_family_exports_to_onnx_with_parity(exported):
    name, folder, result = exported
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "model.onnx", "parity.json"]
    parity = json.loads((folder / "parity.json").read_text())
    assert parity["passed"] and parity["top1_agreement"] == 1.0 and parity["max_abs_diff"] <= 1e-4
    assert parity["samples"] >= (64 if name in ("image_edges", "segmenter") else 512)


def test_sidecar_describes_the_export(exported):
    name, folder, _ = exported
    sidecar = side.read(folder)
    assert sidecar["opset"] == 18 and sidecar["runtime"] == "onnxruntime" and sidecar["precision"] == "fp32"
    assert len(sidecar["source"]["sha256"]) == 64 and sidecar["faultcli_version"]
    names = [spec["name"] for spec in sidecar["inputs"]]
    prep = sidecar["preprocessing"]
    if name == "multimodal":
        assert names == ["x", "rpm"] and prep["uses_rpm"] and prep["window"] == 256 and prep["step"] == 128
        assert {"norm_mean", "norm_std", "sample_rate", "rate_patterns", "channel"} <= set(prep)
        assert sidecar["temperature"] == 1.5 and sidecar["temperature_applied"]
    if name == "image_edges":
        assert names == ["x", "edge"] and prep["edges"]["method"] == "clahe+canny" and prep["edges"]["sigma"] == 0.33
    if name == "segmenter":
        assert sidecar["postprocess"]["min_areas"] == [4, 4] and [o["name"] for o in sidecar["outputs"]] == ["probs"]


def test_onnx_graph_has_a_dynamic_batch_and_no_external_weights(exported):
    import onnx

    _, folder, _ = exported
    model = onnx.load(str(folder / "model.onnx"))
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # symbolic, not a fixed number
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    assert not any(n.op_type == "BatchNormalization" for n in model.graph.node if "conv" in n.name.lower())


def test_sidecar_round_trip(tmp_path):
    state = {
        "config": {"data": {"sample_rate": 12000, "window": 1024, "step": 256, "rate_patterns": {"12k": 12000}}},
        "classes": ["a", "b"],
        "model_name": "multimodal_small",
        "model_kwargs": {},
        "data_info": {"norm_mean": 0.1, "norm_std": 2.0},
        "task": "vibration-classification",
    }
    described = {**side.describe(state), "model_file": "model.onnx"}
    (tmp_path / "model.onnx").write_bytes(b"x")
    side.write(tmp_path, described)
    assert side.read(tmp_path) == json.loads(json.dumps(described))
    assert described["preprocessing"]["assume_rate"] is False  # the recipe states rates by path


def test_sidecar_errors_name_the_fix(tmp_path):
    with pytest.raises(CheckpointError, match="not a readable faultcli export sidecar"):
        side.read(tmp_path)
    (tmp_path / "model.json").write_text(json.dumps({"format": "faultcli-export", "model_file": "model.onnx"}))
    with pytest.raises(CheckpointError, match="copy the model file with its sidecar"):
        side.read(tmp_path)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_a_cwt_model_exports_with_parity(tmp_path, fmt):
    # the CWT front end (an FFT filter bank) is inside the graph in both formats
    ckpt = vibration_checkpoint(tmp_path, {"branches": ["tf"], "tf_transform": "cwt"})
    result = run_export(ckpt, fmt, out=tmp_path / fmt, threads=1)
    assert side.read(tmp_path / fmt)["runtime"] == ("onnxruntime" if fmt == "onnx" else "torchscript")
    assert result["parity"]["top1_agreement"] == 1.0


def test_bad_inputs_are_one_line_errors_that_leave_nothing(tmp_path, monkeypatch):
    ckpt = vibration_checkpoint(tmp_path, {"name": "band_linear"})
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a faultcli checkpoint"):
        run_export(junk, "onnx", out=tmp_path / "a")
    with pytest.raises(UserError, match="--format 'tflite' is unknown"):
        run_export(ckpt, "tflite", out=tmp_path / "a")
    (tmp_path / "exists").mkdir()
    with pytest.raises(UserError, match="already exists"):
        run_export(ckpt, "onnx", out=tmp_path / "exists")
    import faultcli.export.parity as parity

    monkeypatch.setattr(parity, "MAX_DIFF", -1.0)  # no export can pass: the folder must not appear
    with pytest.raises(UserError, match="fails its parity check") as err:
        run_export(ckpt, "onnx", out=tmp_path / "b")
    assert "\n" not in str(err.value) and not (tmp_path / "b").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".b")]


def test_int8_export_reports_its_accuracy_drop(tmp_path):
    ckpt = vibration_checkpoint(tmp_path, {"name": "band_linear"})
    result = run_export(ckpt, "onnx", quantize="int8", out=tmp_path / "q", threads=1)
    parity = result["parity_detail"]
    assert result["precision"] == "int8" and "accuracy drop" in parity["bound"]
    assert {"accuracy_pytorch", "accuracy_export"} <= set(parity)
    assert np.isfinite(parity["max_abs_diff"])
