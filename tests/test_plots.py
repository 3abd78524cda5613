"""Figures in run folders: each is a PNG, written whole, from the records a run keeps."""

from __future__ import annotations

import json
import math

import matplotlib.image as mpimg
import pytest

from faultcli import plots


def epochs(n: int, fold: int | None = None) -> list[dict]:
    out = []
    for e in range(n):
        record = {"epoch": e, "lr": 1e-3 / (e + 1), "train_loss": 1 / (e + 1), "val_loss": 1.2 / (e + 1)}
        record.update({"train_acc": 0.5 + e / 20, "val_macro_f1": 0.4 + e / 20, "epoch_seconds": 3.0})
        out.append(record if fold is None else {"fold": fold, **record})
    return out


def test_curve_panels_put_loss_first_twins_together_and_lr_last():
    groups = plots._curve_groups(epochs(3))
    assert list(groups) == ["loss", "acc", "macro_f1", "lr"]
    assert groups["loss"] == ["train_loss", "val_loss"]
    assert "epoch_seconds" not in str(groups)


def test_training_curves_png_from_metrics_jsonl(tmp_path):
    log = tmp_path / "metrics.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in epochs(5)))
    records = [json.loads(line) for line in log.read_text().splitlines()]
    out = plots.training_curves_png(records, tmp_path / "curves.png")
    assert out == tmp_path / "curves.png"
    image = mpimg.imread(out)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 300
    assert not list(tmp_path.glob(".*tmp*"))  # the temporary file was renamed, not left behind


def test_training_curves_png_draws_each_fold_and_skips_missing_values(tmp_path):
    records = epochs(3, fold=0) + epochs(2, fold=1)
    records[1]["val_loss"] = math.nan  # a diverged epoch: skipped, not a crash
    del records[2]["val_macro_f1"]
    assert plots.training_curves_png(records, tmp_path / "folds.png").is_file()


@pytest.mark.parametrize("records", [[], [{"note": "no epoch"}], [{"epoch": 0, "phase": "warm-up"}]])
def test_training_curves_png_without_figures_raises_and_writes_nothing(tmp_path, records):
    with pytest.raises(ValueError, match="no epoch records|no numeric figures"):
        plots.training_curves_png(records, tmp_path / "empty.png")
    assert not (tmp_path / "empty.png").exists()
