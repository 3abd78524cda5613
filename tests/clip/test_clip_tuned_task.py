"""Task clip with the tuned model end to end on generated recordings: text LoRA in the adapter step
(what trains, the summary, eval with new descriptions, export and predict) and calibrated stacking in a
zero-shot run (γ chosen on validation, stored, applied by eval unless switched off)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from faultcli.engine.checkpoints import load_checkpoint
from tests.clip.test_clip_task import clip_recipe, faultcli, train

pytest.importorskip("peft")


def test_adapter_step_with_text_lora_trains_lora_and_adapter_only_and_exports(tmp_path, tiny_bert):
    recipe = clip_recipe(tmp_path, tiny_bert.as_posix())
    train(recipe, tmp_path / "align")
    tuned = ["clip.mode=adapter", f'train.init="{tmp_path / "align"}"', "clip.text_lora=true", "clip.lora_r=4"]
    summary = train(recipe, tmp_path / "lora", tuned)
    lora = 2 * 2 * (4 * 32 + 32 * 4)  # 2 layers × (query, value) × (A + B) of the tiny BERT, 32 wide
    adapter = 2 * (16 * 16 + 16)
    assert summary["trainable_params"] == lora + adapter
    state = load_checkpoint(tmp_path / "lora" / "checkpoints" / "best.pt")
    assert state["model_name"] == "clip_tuned" and state["model_kwargs"]["text"] == "lora"
    aligned = load_checkpoint(tmp_path / "align" / "checkpoints" / "best.pt")["model"]
    # the align run's class texts were the start; LoRA moved them
    assert not torch.allclose(state["model"]["texts.embeddings"], aligned["texts.embeddings"])
    assert all(torch.equal(aligned[k], state["model"][k]) for k in ("signal_proj.weight", "text_proj.weight"))

    done = faultcli(tmp_path, "clip", "train", "--recipe", str(recipe), "--out", str(tmp_path / "cli"),
                    *[a for o in tuned for a in ("--set", o)])  # fmt: skip
    assert done.returncode == 0, done.stderr
    cli_summary = json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert cli_summary["text_lora_params"] == lora and cli_summary["text_encoder_params"] > 10 * lora

    evaluated = faultcli(
        tmp_path, "clip", "eval", "-c", str(tmp_path / "lora"), "--out", str(tmp_path / "ev"),
        "--prompt", "ball: ball fault", "--prompt", "inner: inner race fault", "--prompt", "outer: outer race fault",
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr

    from faultcli.services.export import run_export
    from faultcli.services.predict import run_predict

    sidecar = run_export(tmp_path / "lora", "onnx", out=tmp_path / "export", threads=1)
    parity = json.loads((tmp_path / "export" / "parity.json").read_text())
    assert sidecar["model_name"] == "clip_tuned" and parity["passed"] and parity["top1_agreement"] == 1.0
    assert (tmp_path / "export" / "model.onnx").stat().st_size < 2_000_000  # the class texts are constants
    data = tmp_path / "data"
    from_onnx = run_predict(tmp_path / "export", data, out=tmp_path / "p-onnx")
    from_ckpt = run_predict(tmp_path / "lora", data, out=tmp_path / "p-ckpt")
    assert from_onnx["units"] == from_ckpt["units"] > 0
    a = pd.read_csv(tmp_path / "p-onnx" / "predictions.csv")
    b = pd.read_csv(tmp_path / "p-ckpt" / "predictions.csv")
    assert (a["predicted"] == b["predicted"]).all()


def test_text_lora_with_the_lstm_is_a_one_line_error(tmp_path):
    done = faultcli(
        tmp_path, "clip", "train", "--recipe", str(clip_recipe(tmp_path, "lstm")), "--out", str(tmp_path / "no"),
        "--set", "clip.text_lora=true",
    )  # fmt: skip
    assert done.returncode == 2 and "clip.text_lora" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "no").exists()


def test_calibrated_stacking_chooses_gamma_on_validation_and_eval_can_switch_it_off(tmp_path):
    recipe = clip_recipe(tmp_path, "lstm")
    zero_shot = ['clip.unseen=["outer"]', "clip.calibration=stacking", "train.epochs=3"]
    done = faultcli(tmp_path, "clip", "train", "--recipe", str(recipe), "--out", str(tmp_path / "zs"),
                    *[a for o in zero_shot for a in ("--set", o)])  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "zs" / "summary.json").read_text())
    state = load_checkpoint(tmp_path / "zs" / "checkpoints" / "best.pt")
    assert summary["gzsl_gamma"] == pytest.approx(float(state["model"]["gamma"]))
    epochs = [json.loads(line) for line in (tmp_path / "zs" / "metrics.jsonl").read_text().splitlines()]
    assert summary["gzsl_gamma"] == pytest.approx(epochs[summary["best_epoch"] - 1]["val_gzsl_gamma"])
    off = faultcli(tmp_path, "clip", "eval", "-c", str(tmp_path / "zs"), "--out", str(tmp_path / "off"),
                   "--set", "clip.calibration=none")  # fmt: skip
    assert off.returncode == 0, off.stderr
    raw = json.loads((tmp_path / "off" / "summary.json").read_text())
    # shifting the seen scores down by γ > 0 can only move windows from seen to unseen classes
    sign = 1 if summary["gzsl_gamma"] > 0 else -1
    assert sign * (raw["gzsl_seen_accuracy"] - summary["test_gzsl_seen_accuracy"]) >= 0
    assert sign * (summary["test_gzsl_unseen_accuracy"] - raw["gzsl_unseen_accuracy"]) >= 0
    assert raw["zsl_accuracy"] == summary["test_zsl_accuracy"]  # among unseen classes alone γ changes nothing
    refused = faultcli(tmp_path, "clip", "train", "--recipe", str(recipe), "--out", str(tmp_path / "no"),
                       "--set", "clip.calibration=stacking")  # fmt: skip
    assert refused.returncode == 2 and "clip.unseen" in refused.stderr


def test_pseudo_unseen_calibration_trains_a_calibration_model_without_some_seen_classes(tmp_path):
    recipe = clip_recipe(tmp_path, "lstm")
    classes = '["B007_0","B007_1","IR007_0","IR007_1","OR007_0","OR007_1"]'
    text = recipe.read_text().replace("label_regex = '^(?P<label>IR|OR|B)'", "label_regex = '^(?P<label>\\w+_\\d)'")
    text = text.replace('label_map = {IR = "inner", OR = "outer", B = "ball"}\n', "")
    recipe.write_text(text.replace('classes = ["ball", "inner", "outer"]', f"classes = {classes}"))
    overrides = ['clip.unseen=["OR007_1"]', "clip.calibration=pseudo-unseen", 'clip.templates=["plain"]']
    done = faultcli(tmp_path, "clip", "train", "--recipe", str(recipe), "--out", str(tmp_path / "ps"),
                    *[a for o in overrides for a in ("--set", o)])  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "ps" / "summary.json").read_text())
    held = summary["calibration_pseudo_unseen"]
    assert len(held) == 1 and held[0] != "OR007_1" and 0.0 <= summary["calibration_val_h"] <= 1.0
    # the calibration model never trained on the unseen class nor on the pseudo-unseen one
    sub = load_checkpoint(tmp_path / "ps" / "calibration" / "checkpoints" / "best.pt")
    assert set(sub["config"]["clip"]["unseen"]) == {"OR007_1", *held}
    state = load_checkpoint(tmp_path / "ps" / "checkpoints" / "best.pt")
    assert state["config"]["clip"]["calibration"] == "fixed"
    assert float(state["model"]["gamma"]) == pytest.approx(summary["gzsl_gamma"])
    assert state["config"]["clip"]["calibration_gamma"] == pytest.approx(summary["gzsl_gamma"])
    # faultcli finetune on a clip recipe trains through the same service
    from faultcli.services.clip import train_clip
    from faultcli.services.fit import trainer

    assert trainer("clip") is train_clip
