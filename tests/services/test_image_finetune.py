"""The image kit end to end through the services: finetune → checkpoints → eval, k-fold, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import timm
import torch

from faultcli.classification.images import image_augment, mistakes_grid
from faultcli.config import load_config
from faultcli.errors import ConfigError
from faultcli.progress import NullReporter
from faultcli.services.common import start_run
from faultcli.services.evaluate import checkpoint_config, run_eval
from faultcli.services.fit import fit as finetune

BACKBONE = "test_resnet"  # timm's 0.4 M-parameter test network: same code path, fast on CPU


def texture(kind: str, rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """uint8 (size, size): horizontal stripes, vertical stripes or scattered dots, with noise."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    period, phase = rng.uniform(4, 7), rng.uniform(0, 2 * np.pi)
    if kind == "dots":
        image = np.zeros((size, size), np.float32)
        for _ in range(6):
            cv2.circle(image, (int(rng.integers(3, size - 3)), int(rng.integers(3, size - 3))), 2, 1.0, -1)
    else:
        image = 0.5 + 0.5 * np.sin(2 * np.pi * (yy if kind == "rows" else xx) / period + phase)
    return np.clip(image * 200 + 25 + rng.normal(0, 12, image.shape), 0, 255).astype(np.uint8)


def write_images(root: Path, per_class: int = 12) -> Path:
    rng = np.random.default_rng(0)
    for kind in ("columns", "dots", "rows"):
        (root / kind).mkdir(parents=True)
        for i in range(per_class):
            cv2.imwrite(str(root / kind / f"{i:02d}.png"), texture(kind, rng))
    return root


def write_recipe(tmp_path: Path, root: Path, extra: str = "") -> Path:
    recipe = tmp_path / "tiny-images.toml"
    recipe.write_text(f"""
task = "image-classification"
[data]
root = "{root.as_posix()}"
label_from = "folder"
image_size = [32, 32]
color = "gray"
split = "stratified"
fractions = [0.5, 0.25, 0.25]
edges = true
[image]
backbone = "{BACKBONE}"
feature_dim = 32
freeze_backbone_epochs = 1
[train]
epochs = 2
batch_size = 6
lr = 0.002
warmup_epochs = 0
patience = 0
threads = 2
[eval]
batch_size = 8
[[augment]]
flip = true
brightness = 0.1
{extra}""")
    return recipe


@pytest.fixture
def images(tmp_path) -> Path:
    return write_images(tmp_path / "raw")


def _finetune(recipe: Path, out: Path, overrides: list[str] | None = None) -> tuple[dict, Path]:
    cfg = load_config(recipe, overrides or [])
    with start_run("finetune", cfg, out=out) as run:
        summary = finetune(cfg, run, NullReporter())
    return summary, run.path


def test_finetune_then_eval_writes_every_file(images, tmp_path):
    weights = tmp_path / "init.pth"  # a local "pretrained" file: the test makes its own
    torch.save(timm.create_model(BACKBONE, num_classes=0, in_chans=1).state_dict(), weights)
    recipe = write_recipe(tmp_path, images)
    summary, run = _finetune(recipe, tmp_path / "run", ["model.pretrained=true", f"model.weights_path={weights}"])
    assert {"test_accuracy", "test_macro_f1", "best_epoch", "train_seconds", "params"} <= set(summary)
    assert json.loads((run / "summary.json").read_text())["test_accuracy"] == summary["test_accuracy"]
    assert 0.0 <= summary["test_accuracy"] <= 1.0 and summary["n_test"] == 9 and summary["params"] > 1e5
    assert (run / "checkpoints" / "best.pt").is_file() and (run / "checkpoints" / "last.pt").is_file()
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["backbone_frozen"] for r in records] == [1.0, 0.0]  # two-stage schedule ran
    assert (run / "test" / "mistakes.png").is_file()

    weights.unlink()  # evaluation needs only the checkpoint, not the initial weights file
    state, cfg = checkpoint_config(run / "checkpoints" / "best.pt", None, None)
    assert state["model_kwargs"]["edge_branch"] is True and "weights_path" not in state["model_kwargs"]
    assert state["data_info"]["channels"] == 1 and state["data_info"]["image_size"] == [32, 32]
    with start_run("eval", cfg, out=tmp_path / "eval") as ev:
        result = run_eval(state, cfg, "test", ev, NullReporter())
    for name in (
        "summary.json",
        "confusion_matrix.png",
        "reliability.png",
        "predictions.csv",
        "report.md",
        "mistakes.png",
        "modality_weights.png",
    ):
        assert (ev.path / name).is_file(), name
    assert result["accuracy"] == pytest.approx(summary["test_accuracy"])
    predictions = pd.read_csv(ev.path / "predictions.csv")
    assert len(predictions) == 9 and set(predictions["true"]) == {"columns", "dots", "rows"}
    assert predictions["file"].str.endswith(".png").all() and (predictions["window_start"] == 0).all()
    assert "mistakes.png" in (ev.path / "report.md").read_text()


def test_kfold_reports_mean_and_std(tmp_path):
    # 3 folds of 3 images per class: 9 test images per fold, below the t-SNE plot's minimum of 10 (slow on CPU)
    recipe = write_recipe(tmp_path, write_images(tmp_path / "raw", per_class=9))
    overrides = [
        "data.split=kfold",
        "data.folds=3",
        "train.epochs=1",
        "image.freeze_backbone_epochs=0",
        "image.edge_branch=false",
        "train.loss=ce",
    ]
    summary, run = _finetune(recipe, tmp_path / "run", overrides)
    assert summary["folds"] == 3
    for key in (
        "test_accuracy_mean",
        "test_accuracy_std",
        "test_macro_f1_mean",
        "test_macro_f1_std",
        "fold0_test_accuracy",
        "fold2_test_accuracy",
    ):
        assert key in summary, key
    per_fold = [summary[f"fold{k}_test_accuracy"] for k in range(3)]
    assert summary["test_accuracy_mean"] == pytest.approx(np.mean(per_fold))
    assert summary["test_accuracy_std"] == pytest.approx(np.std(per_fold))
    for k in range(3):
        assert (run / f"fold-{k}" / "checkpoints" / "best.pt").is_file() and (run / f"fold-{k}" / "test").is_dir()


def test_unknown_backbone_is_one_line_and_exit_code_2(images, tmp_path):
    recipe = write_recipe(tmp_path, images)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "faultcli",
            "finetune",
            "--recipe",
            str(recipe),
            "--out",
            str(tmp_path / "bad"),
            "--set",
            "image.backbone=resnet181",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    message = (done.stdout + done.stderr).strip()
    assert "resnet181" in message and "resnet18" in message.replace("resnet181", "")
    assert "Traceback" not in message and len(message.splitlines()) == 1


def test_signal_augmentation_in_an_image_recipe_is_refused():
    cfg = load_config(None, ["task=image-classification"], base={"augment": [{"noise_std": 0.1}]})
    with pytest.raises(ConfigError, match="flip, rotate"):
        image_augment(cfg.augment)


def test_progressive_augmentation_moves_the_edge_map():
    cfg = load_config(None, [], base={"augment": [{"start_epoch": 2, "flip": True, "prob": 1.0}]})
    augment = image_augment(cfg.augment)
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    extra = {"edge": x.clone()}
    same, same_extra = augment(x, extra, 0, torch.Generator().manual_seed(0))
    assert torch.equal(same, x)  # before the stage starts: untouched
    flipped, moved = augment(x, extra, 2, torch.Generator().manual_seed(0))
    assert not torch.equal(flipped, x) and torch.equal(moved["edge"], flipped)


def test_mistakes_grid_orders_by_confidence(tmp_path, monkeypatch):
    shown = {}
    import faultcli.plots as plots

    monkeypatch.setattr(plots, "image_grid_png", lambda imgs, titles, path, cols=4: shown.update(titles=titles) or path)
    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.05, 0.95], [0.6, 0.4]])
    y = np.array([0, 0, 0, 1])  # rows 1, 2, 3 are wrong; row 2 most confidently
    images = np.zeros((4, 8, 8, 1), np.uint8)
    mistakes_grid(tmp_path, images, ["a.png", "b.png", "c.png", "d.png"], probs, y, ["ok", "bad"])
    assert [t.split("\n")[0] for t in shown["titles"]] == ["c.png", "b.png", "d.png"]


def test_offline_pretrained_fails_before_data_preparation(images, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = load_config(write_recipe(tmp_path, images), ["model.pretrained=true"])
    from faultcli.tasks import get_task

    with pytest.raises(ConfigError, match="offline"):
        get_task(cfg.task).build_data(cfg, NullReporter())
    assert not any(Path(os.environ["FAULTCLI_CACHE"]).rglob("manifest.json"))  # nothing was prepared


def test_flip_tta_averages_an_image_and_its_mirror():
    from types import SimpleNamespace

    from faultcli.classification.report import predict_rows

    x = torch.arange(2 * 1 * 2 * 4, dtype=torch.float32).reshape(2, 1, 2, 4)
    edge = torch.rand(2, 1, 2, 4)

    class LeftHalf(torch.nn.Module):  # sees only the left half of the image and edge map: flipping matters
        def forward_features(self, x, edge):
            return torch.stack([x[..., :2].mean((1, 2, 3)), edge[..., :2].mean((1, 2, 3))], 1)

        def forward_head(self, f):
            return f

    def fetch(rows):
        return {"x": x[rows], "y": torch.zeros(len(rows), dtype=torch.long), "extra": {"edge": edge[rows]}}

    def kit(kind):
        return SimpleNamespace(kind=kind, fetch=fetch)

    rows, cpu = np.arange(2), torch.device("cpu")
    plain = predict_rows(LeftHalf(), kit("images"), rows, 8, cpu, NullReporter())["features"]
    tta = predict_rows(LeftHalf(), kit("images"), rows, 8, cpu, NullReporter(), tta_flip=True)["features"]
    expected = torch.stack([x.mean((1, 2, 3)), edge.mean((1, 2, 3))], 1).numpy()  # left + mirrored right half
    np.testing.assert_allclose(tta, expected, rtol=1e-6)
    assert not np.allclose(plain, expected)
    vibration = predict_rows(LeftHalf(), kit("vibration"), rows, 8, cpu, NullReporter(), tta_flip=True)["features"]
    np.testing.assert_allclose(vibration, plain)  # time is not mirrored
