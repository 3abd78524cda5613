"""Task clip end to end on generated recordings: training through the one fit flow (frozen transformer and
LSTM text sides), zero-shot figures, the adapter step, new descriptions at eval time, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from faultcli.config import load_config
from faultcli.engine.checkpoints import load_checkpoint
from faultcli.errors import ConfigError
from faultcli.progress import NullReporter
from faultcli.services.common import start_run
from faultcli.services.fit import check_recipe, fit
from tests.services.test_finetune import write_recordings


def clip_recipe(tmp_path: Path, text_model: str, extra: str = "") -> Path:
    data = tmp_path / "data"
    if not data.is_dir():
        data.mkdir()
        write_recordings(data)
    path = tmp_path / "clip.toml"
    path.write_text(
        f"""
task = "clip"
[data]
root = "{data.as_posix()}"
label_from = "regex"
label_regex = '^(?P<label>IR|OR|B)'
label_map = {{IR = "inner", OR = "outer", B = "ball"}}
classes = ["ball", "inner", "outer"]
sample_rate = 12000
window = 1024
step = 512
cache_dir = "{(tmp_path / "cache").as_posix()}"
[model]
name = "wdcnn"
[clip]
text_model = "{text_model}"
embed_dim = 16
lstm_dim = 16
[train]
epochs = 2
batch_size = 16
lr = 3e-3
patience = 0
threads = 1
[eval]
tsne_max_points = 30
{extra}"""
    )
    return path


def train(recipe: Path, out: Path, overrides: list[str] | None = None) -> dict:
    cfg = load_config(recipe, overrides or [])
    check_recipe(cfg)
    with start_run("clip", cfg, None, out) as run:
        return fit(cfg, run, NullReporter())


def test_frozen_text_side_trains_and_its_class_texts_are_a_saved_buffer(tmp_path, tiny_bert):
    summary = train(clip_recipe(tmp_path, tiny_bert.as_posix()), tmp_path / "run")
    assert 0.0 <= summary["test_accuracy"] <= 1.0 and summary["trainable_params"] == summary["params"]
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "best.pt")
    texts = state["model"]["texts.embeddings"]
    assert texts.shape == (3, 32) and torch.allclose(texts.norm(dim=1), torch.ones(3), atol=1e-5)
    assert state["task"] == "clip" and state["model_kwargs"]["prompts"][0] == ["A ball bearing"]
    assert (tmp_path / "run" / "test" / "tsne_signal_text.png").stat().st_size > 0
    prompts = json.loads((tmp_path / "run" / "test" / "prompts.json").read_text())
    assert prompts == {"ball": ["A ball bearing"], "inner": ["A inner bearing"], "outer": ["A outer bearing"]}


def test_zero_shot_run_trains_on_seen_classes_only_and_reports_zsl_and_gzsl(tmp_path):
    summary = train(
        clip_recipe(tmp_path, "lstm"), tmp_path / "zs", ['clip.unseen=["outer"]', 'clip.templates=["structured"]']
    )
    assert summary["n_train"] > 0 and summary["unseen"] == ["outer"]
    # training and validation never see an unseen window: two of three classes
    cfg = load_config(clip_recipe(tmp_path, "lstm"), ['clip.unseen=["outer"]'])
    from faultcli.clip.data import clip_data

    data = clip_data(cfg, NullReporter())
    for split in ("train", "val"):
        assert set(data.labels(data.rows(split))) == {0, 1}
    assert set(data.labels(data.rows("test"))) == {0, 1, 2}
    # one unseen class: among the unseen prompts alone it cannot be missed
    assert summary["test_zsl_accuracy"] == 1.0
    for key in ("test_gzsl_seen_accuracy", "test_gzsl_unseen_accuracy", "test_gzsl_h"):
        assert 0.0 <= summary[key] <= 1.0


@pytest.mark.parametrize("text", ["bert", "lstm"])
def test_adapter_step_trains_only_the_adapter_from_the_align_run(tmp_path, tiny_bert, text):
    recipe = clip_recipe(tmp_path, tiny_bert.as_posix() if text == "bert" else "lstm")
    train(recipe, tmp_path / "align")
    summary = train(recipe, tmp_path / "adapter", ["clip.mode=adapter", f'train.init="{tmp_path / "align"}"'])
    aligned = load_checkpoint(tmp_path / "align" / "checkpoints" / "best.pt")["model"]
    adapted = load_checkpoint(tmp_path / "adapter" / "checkpoints" / "best.pt")["model"]
    frozen = [k for k in aligned if not k.startswith("adapter.") and isinstance(aligned[k], torch.Tensor)]
    assert frozen and all(torch.equal(aligned[k], adapted[k]) for k in frozen)  # BatchNorm statistics too
    assert any(k.startswith("adapter.") for k in adapted)
    assert 0 < summary["trainable_params"] < 0.2 * summary["params"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (['clip.unseen=["cage"]'], "clip.unseen names cage"),
        (['clip.templates=["A bearing"]'], "{}"),
        (["clip.mode=adapter"], "set train.init"),
        (["model.name=clip_classifier"], "signal encoder"),
        (["train.loss=ce", "vibration.mixup_alpha=0.2"], "train.loss, vibration.mixup_alpha: task clip"),
    ],
)
def test_bad_recipes_are_one_line_errors_before_any_run(tmp_path, overrides, message):
    cfg = load_config(clip_recipe(tmp_path, "lstm"), overrides)
    with pytest.raises(ConfigError, match=message) as err:
        check_recipe(cfg)
        from faultcli.clip.data import clip_data

        clip_data(cfg, NullReporter())
    assert "\n" not in str(err.value)


def faultcli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FAULTCLI_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "faultcli", *args], capture_output=True, text=True, env=env)


def test_clip_eval_with_new_descriptions_and_clip_train_refuses_another_task(tmp_path, tiny_bert):
    recipe = clip_recipe(tmp_path, tiny_bert.as_posix())
    train(recipe, tmp_path / "run")
    done = faultcli(
        tmp_path, "clip", "eval", "-c", str(tmp_path / "run"), "--out", str(tmp_path / "ev"),
        "--prompt", "ball: a bearing with a rolling element fault", "--prompt", "inner: inner race fault",
        "--prompt", "outer: outer race fault",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    prompts = json.loads((tmp_path / "ev" / "prompts.json").read_text())
    assert prompts["inner"] == ["inner race fault"]
    bad = faultcli(
        tmp_path, "clip", "eval", "-c", str(tmp_path / "run"), "--out", str(tmp_path / "ev2"), "--prompt", "no colon"
    )
    assert bad.returncode == 2 and "class: prompt" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "ev2").exists()
    other = tmp_path / "other.toml"
    other.write_text(
        recipe.read_text().replace('task = "clip"', 'task = "vibration-classification"').split("[clip]")[0]
    )
    refused = faultcli(tmp_path, "clip", "train", "--recipe", str(other), "--out", str(tmp_path / "no"))
    assert refused.returncode == 2 and "trains task 'clip'" in refused.stderr and not (tmp_path / "no").exists()


def test_a_clip_model_exports_with_its_class_texts_frozen_in_the_graph(tmp_path, tiny_bert):
    import onnx

    from faultcli.services.export import run_export

    train(clip_recipe(tmp_path, tiny_bert.as_posix()), tmp_path / "run")
    sidecar = run_export(tmp_path / "run", "onnx", out=tmp_path / "export", threads=1)
    parity = json.loads((tmp_path / "export" / "parity.json").read_text())
    assert sidecar["task"] == "clip" and sidecar["classes"] == ["ball", "inner", "outer"]
    assert parity["passed"] and parity["top1_agreement"] == 1.0
    graph = onnx.load(str(tmp_path / "export" / "model.onnx")).graph
    assert {i.name for i in graph.input} == {"x", "rpm"}  # windows (and speed) in; the class texts are constants
    assert (tmp_path / "export" / "model.onnx").stat().st_size < 2_000_000  # no text encoder inside
