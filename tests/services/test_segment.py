"""`segment train`, `faultcli eval` and `segment predict` end to end on generated images with rectangle masks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from faultcli.config import load_config
from faultcli.data.rle import decode
from faultcli.engine.checkpoints import load_checkpoint
from faultcli.errors import ConfigError
from faultcli.progress import NullReporter
from faultcli.runs import open_run
from faultcli.segmentation.report import FIGURES
from faultcli.services.evaluate import checkpoint_config, run_eval, run_segment_predict
from faultcli.services.fit import check_recipe, fit

PREFIXES = {"In": "inclusion", "Sc": "scratches"}


def make_set(root: Path, per_class: int = 8, size: tuple[int, int] = (64, 64), seed: int = 0) -> Path:
    """images/{In,Sc}_<n>.png with a bright (In) or dark (Sc) rectangle, masks/… the rectangle (0/255)."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for c, prefix in enumerate(PREFIXES):
        for n in range(1, per_class + 1):
            image = rng.integers(70, 120, size).astype(np.uint8)
            mask = np.zeros(size, np.uint8)
            h, w = rng.integers(8, 20, 2)
            y, x = rng.integers(0, size[0] - 20), rng.integers(0, size[1] - 20)
            mask[y : y + h, x : x + w] = 255
            image[mask > 0] = 220 if c == 0 else 10
            cv2.imwrite(str(root / "images" / f"{prefix}_{n}.png"), image)
            cv2.imwrite(str(root / "masks" / f"{prefix}_{n}.png"), mask)
    return root


RECIPE = """
task = "segmentation"
name = "tiny-seg"
[data]
root = "{root}"
cache_dir = "{cache}"
label_from = "prefix"
label_map = {{In = "inclusion", Sc = "scratches"}}
split = "stratified"
fractions = [0.5, 0.25, 0.25]
color = "gray"
[model]
name = "smp_segmenter"
[segmentation]
arch = "Unet"
encoder = "tu-mobilenetv3_small_050"
[train]
loss = "bce_dice"
epochs = 2
batch_size = 4
lr = 3e-3
scheduler = "plateau"
early_stop_metric = "val_dice"
early_stop_mode = "max"
threads = 1
[[augment]]
flip = true
[eval]
batch_size = 8
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("seg")
    make_set(root / "data")
    (root / "tiny.toml").write_text(RECIPE.format(root=root / "data", cache=root / "cache"))
    return root


@pytest.fixture(scope="module")
def trained(project) -> tuple[Path, dict]:
    cfg = load_config(project / "tiny.toml", [])
    torch.manual_seed(0)
    with open_run(project / "runs" / "train", "") as run:
        summary = fit(cfg, run, NullReporter())
    return run.path, summary


def test_train_writes_summary_checkpoint_and_tuned_postprocess(trained):
    path, summary = trained
    for key in (
        "test_dice",
        "test_iou",
        "train_seconds",
        "params",
        "thresholds",
        "min_areas",
        "test_dice_inclusion",
        "test_dice_pos_inclusion",
        "test_iou_pos_scratches",
        "best_epoch",
        *(f"test_{k}" for k in FIGURES),
    ):
        assert key in summary, key
    assert summary["headline"] == [f"test_{k}" for k in FIGURES]
    assert summary["test_dice"] == summary["test_dice_all_images"]
    assert 0.0 <= summary["test_dice_pos"] <= 1.0 and 0.0 <= summary["test_weighted_f"] <= 1.0
    assert 0.0 <= summary["test_dice"] <= 1.0 and summary["params"] > 0 and summary["train_seconds"] > 0
    assert set(summary["thresholds"]) == set(PREFIXES.values())
    assert (path / "summary.json").is_file() and len((path / "metrics.jsonl").read_text().splitlines()) == 2
    state = load_checkpoint(path / "checkpoints" / "best.pt")
    assert state["task"] == "segmentation" and state["classes"] == ["inclusion", "scratches"]
    assert state["postprocess"]["thresholds"] == list(summary["thresholds"].values())


def test_test_report_has_overlays_and_an_rle_csv_matching_the_mask_pngs(trained):
    path, summary = trained
    test = path / "test"
    assert (test / "report.md").is_file() and (test / "metrics.json").is_file()
    assert len(list((test / "overlays").glob("*.png"))) == summary["n_test"]  # fewer than 6: all of them
    table = pd.read_csv(test / "predictions_rle.csv", dtype=str, keep_default_na=False)
    assert len(table) == summary["n_test"] * 2
    for row in table.itertuples():
        png = cv2.imread(
            str(test / "masks" / row.ClassId / Path(row.ImageId).with_suffix(".png")), cv2.IMREAD_UNCHANGED
        )
        assert np.array_equal(decode(row.EncodedPixels, *png.shape), (png > 0).astype(np.uint8))


def test_eval_of_a_segmentation_checkpoint_on_another_folder(trained, tmp_path):
    path, summary_train = trained
    other = make_set(tmp_path / "other", per_class=3, seed=5)
    state, cfg = checkpoint_config(
        path / "checkpoints" / "best.pt", None, [f"data.root={other}", f"data.cache_dir={tmp_path / 'cache'}"]
    )
    with open_run(tmp_path / "eval", "") as run:
        summary = run_eval(state, cfg, "all", run, NullReporter())
    assert summary["n_images"] == 6 and summary["split"] == "all"
    # the metric set of the training run's test report
    assert [f"test_{k}" for k in summary["headline"]] == summary_train["headline"]
    assert all(isinstance(summary[k], float) for k in FIGURES)
    assert 0.0 <= summary["dice"] <= 1.0 and 0.0 <= summary["iou"] <= summary["dice"]
    assert summary["saliency_images"] == summary["n_defect_images"] == 6
    assert set(summary["per_class"]) == {"inclusion", "scratches"}
    assert (tmp_path / "eval" / "summary.json").is_file()
    assert (tmp_path / "eval" / "predictions_rle.csv").is_file()


def test_cli_eval_on_another_folder_prints_the_defect_figures_first(trained, tmp_path, monkeypatch, capsys):
    from faultcli.cli.app import main

    path, _ = trained
    other = make_set(tmp_path / "other", per_class=2, seed=9)
    out = tmp_path / "eval"
    argv = ["faultcli", "eval", "--checkpoint", str(path), "--split", "all", "--out", str(out)]
    argv += ["--set", f"data.root={other}", "--set", f"data.cache_dir={tmp_path / 'cache'}"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as stop:
        main()
    printed = capsys.readouterr().out
    assert stop.value.code == 0, printed
    rows = [line.split()[1] for line in printed.splitlines() if line.split()[1:2] and line.split()[1] in FIGURES]
    assert rows[:2] == ["dice_pos", "iou_pos"] and rows[-1] == "dice_all_images" and "weighted_f" in rows
    report = (out / "report.md").read_text()
    assert report.index("`dice_pos`") < report.index("`weighted_f`") < report.index("`dice_all_images`")


def test_cli_unknown_eval_metric_and_too_few_images_for_the_folds_are_one_line_exit_2(project, trained, tmp_path):
    path, _ = trained
    done = faultcli(tmp_path, "eval", "--checkpoint", str(path), "--set", "eval.weighted_f=1")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "eval.weighted_f" in lines[0] and "calibration_bins" in lines[0]  # names the key and the valid ones
    few = make_set(tmp_path / "few", per_class=2)
    argv = ["segment", "train", "--recipe", str(project / "tiny.toml"), "--out", str(tmp_path / "kfold")]
    argv += ["--set", f"data.root={few}", "--set", f"data.cache_dir={tmp_path / 'cache'}"]
    done = faultcli(tmp_path, *argv, "--set", "data.split=kfold", "--set", "data.folds=5")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "4 images" in lines[0] and "data.folds" in lines[0]
    assert not (tmp_path / "kfold").exists()


def test_predict_folder_of_unlabelled_images_of_any_size(trained, tmp_path):
    path, _ = trained
    folder = tmp_path / "new"
    folder.mkdir()
    rng = np.random.default_rng(1)
    cv2.imwrite(str(folder / "strip.png"), rng.integers(0, 255, (64, 200), dtype=np.uint8))  # tiled: wider
    cv2.imwrite(str(folder / "small.png"), rng.integers(0, 255, (40, 50), dtype=np.uint8))
    state, cfg = checkpoint_config(path / "checkpoints" / "best.pt", None, [])
    with open_run(tmp_path / "pred", "") as run:
        summary = run_segment_predict(state, cfg, folder, run, NullReporter())
    assert summary["n_images"] == 2
    strip = cv2.imread(str(run.path / "masks" / "inclusion" / "strip.png"), cv2.IMREAD_UNCHANGED)
    assert strip.shape == (64, 200)
    assert cv2.imread(str(run.path / "masks" / "scratches" / "small.png"), cv2.IMREAD_UNCHANGED).shape == (40, 50)
    assert sorted(p.name for p in (run.path / "overlays").iterdir()) == ["small.png", "strip.png"]
    table = pd.read_csv(run.path / "predictions_rle.csv", dtype=str, keep_default_na=False)
    row = table[(table.ImageId == "strip.png") & (table.ClassId == "inclusion")].iloc[0]
    assert np.array_equal(decode(row.EncodedPixels, 64, 200), (strip > 0).astype(np.uint8))


def test_classification_settings_are_refused_before_training(project):
    cfg = load_config(project / "tiny.toml", ["train.loss=focal"])
    with pytest.raises(ConfigError, match="train.loss = 'bce_dice'"):
        check_recipe(cfg)
    cfg = load_config(project / "tiny.toml", ["train.early_stop_metric=val_macro_f1"])
    with pytest.raises(ConfigError, match="val_dice"):
        check_recipe(cfg)
    cfg = load_config(project / "tiny.toml", ["train.early_stop_metric=val_loss"])
    with pytest.raises(ConfigError, match="early_stop_mode = 'min'"):
        check_recipe(cfg)


def faultcli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "faultcli", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_cli_mask_of_another_size_is_one_line_exit_2(project, tmp_path):
    bad = make_set(tmp_path / "bad", per_class=3)
    cv2.imwrite(str(bad / "masks" / "Sc_2.png"), np.zeros((32, 64), np.uint8))
    done = faultcli(
        tmp_path,
        "segment",
        "train",
        "--recipe",
        str(project / "tiny.toml"),
        "--set",
        f"data.root={bad}",
        "--set",
        f"data.cache_dir={tmp_path / 'cache'}",
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Sc_2.png" in lines[0] and "32×64" in lines[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "runs" / "segment").exists() or not any((tmp_path / "runs" / "segment").iterdir())


def test_cli_predict_writes_masks(trained, tmp_path, monkeypatch, capsys):
    from faultcli.cli.app import main

    path, _ = trained
    image = tmp_path / "one.png"
    cv2.imwrite(str(image), np.full((64, 64), 100, np.uint8))
    out = tmp_path / "pred"
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "faultcli",
            "segment",
            "predict",
            "--checkpoint",
            str(path / "checkpoints" / "best.pt"),
            "--input",
            str(image),
            "--out",
            str(out),
        ],
    )
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 0, capsys.readouterr().err
    assert (out / "masks" / "inclusion" / "one.png").is_file() and (out / "predictions_rle.csv").is_file()
    assert "images with a defect" in capsys.readouterr().out


def _epochs(path: Path) -> list[dict]:
    import json

    rows = [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "epoch_seconds"} for r in rows]


def test_resumed_segmentation_run_equals_the_uninterrupted_one(project, trained, tmp_path):
    from faultcli.services.resume import resume_run

    path, summary = trained
    cfg = load_config(project / "tiny.toml", ["train.epochs=1"])
    with open_run(tmp_path / "part", "") as run:
        fit(cfg, run, NullReporter())
    resumed, _ = resume_run(tmp_path / "part", ["train.epochs=2"], NullReporter())
    assert _epochs(tmp_path / "part") == _epochs(path)
    for key in ("test_dice", "test_dice_pos", "test_iou", "test_weighted_f", "best_epoch", "val_dice_tuned"):
        assert resumed[key] == summary[key], key


def test_segmentation_kfold_trains_every_fold_and_aggregates(project, tmp_path):
    cfg = load_config(project / "tiny.toml", ["data.split=kfold", "data.folds=3", "train.epochs=1"])
    with open_run(tmp_path / "kfold", "") as run:
        summary = fit(cfg, run, NullReporter())
    assert summary["folds"] == 3 and {"test_dice_mean", "test_dice_std", "test_dice_pos_mean"} <= set(summary)
    assert {"test_defect_dice_mean", "test_weighted_f_mean", "test_dice_all_images_std"} <= set(summary)
    for fold in range(3):
        assert (tmp_path / "kfold" / f"fold-{fold}" / "test" / "metrics.json").is_file()
