"""The classification evaluation report: predictions of rows, the calibrated probabilities' figures,
confusion matrix, reliability diagram, t-SNE, modality weights, per-window and per-recording tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from faultcli import plots
from faultcli.classification.data import ClassificationData
from faultcli.config import Config
from faultcli.engine.engine import to_device
from faultcli.errors import DataError
from faultcli.metrics import calibration_bins, classification_summary, fit_temperature, softmax
from faultcli.models.layers import fuse_conv_bn
from faultcli.progress import Reporter
from faultcli.runs import atomic_write_json, atomic_write_text


@torch.inference_mode()
def predict_rows(
    model: torch.nn.Module,
    data: ClassificationData,
    rows: np.ndarray,
    batch_size: int,
    device: torch.device,
    reporter: Reporter,
    tta_flip: bool = False,
) -> dict[str, np.ndarray]:
    """Logits, fused features, modality weights and labels of ``rows``, in order.

    ``tta_flip`` (images only: a surface defect has no left or right) averages the features of each image
    with those of its mirror image, edge map mirrored alike.
    """
    model = fuse_conv_bn(model)  # an eval-mode copy with BatchNorms folded into their convolutions
    tta_flip = tta_flip and data.kind == "images"
    logits, feats, weights, labels = [], [], [], []
    with reporter.task("evaluating", -(-len(rows) // batch_size)) as progress:
        for start in range(0, len(rows), batch_size):
            batch = to_device(data.fetch(rows[start : start + batch_size]), device)
            extra = batch.get("extra", {})
            f = model.forward_features(batch["x"], **extra)
            if tta_flip:
                mirrored = {k: v.flip(-1) for k, v in extra.items()}
                f = (f + model.forward_features(batch["x"].flip(-1), **mirrored)) / 2
            logits.append(model.forward_head(f).float().cpu())
            feats.append(f.float().cpu())
            w = getattr(model, "modality_weights", None)
            if w is not None:
                weights.append(w.float().cpu())
            labels.append(batch["y"].cpu())
            progress.advance(1)
    out = {"logits": torch.cat(logits).numpy(), "features": torch.cat(feats).numpy(), "y": torch.cat(labels).numpy()}
    if weights:
        out["weights"] = torch.cat(weights).numpy()
    return out


def _tsne(features: np.ndarray, labels: np.ndarray, max_points: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.manifold import TSNE

    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(features), min(max_points, len(features)), replace=False))
    perplexity = float(min(30, max(2, (len(pick) - 1) // 3)))
    points = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(features[pick])
    return points, labels[pick]


def _vote(describe: pd.DataFrame, y: np.ndarray, pred: np.ndarray, classes: list[str]) -> pd.DataFrame:
    """Per recording (or image group): majority vote of its windows' predictions."""
    frame = describe.assign(true=y, pred=pred)
    rows = []
    for group, part in frame.groupby("group", sort=True):
        votes = np.bincount(part["pred"], minlength=len(classes))
        rows.append(
            {
                "group": group,
                "true": classes[int(part["true"].iloc[0])],
                "predicted": classes[int(votes.argmax())],
                "windows": len(part),
                "agreement": float(votes.max() / len(part)),
            }
        )
    return pd.DataFrame(rows)


def fit_val_temperature(
    model: torch.nn.Module,
    data: ClassificationData,
    val_rows: np.ndarray,
    cfg: Config,
    device: torch.device,
    reporter: Reporter,
) -> float:
    """The softmax temperature of ``model`` fitted on the validation rows (never on test)."""
    val = predict_rows(model, data, val_rows, cfg.eval.batch_size, device, reporter, data.tta_flip)
    return fit_temperature(val["logits"], val["y"])


def write_report(
    out: Path,
    data: ClassificationData,
    rows: np.ndarray,
    pred: dict[str, np.ndarray],
    cfg: Config,
    title: str,
    temperature: float = 1.0,
    history: list[dict] | None = None,
) -> dict[str, Any]:
    """All evaluation files for ``rows`` into ``out``; returns the flat summary figures.

    Probabilities are ``softmax(logits / temperature)``: the checkpoint's fitted temperature, 1 if none.
    ``history`` (the training run's per-epoch figures) adds the training curves to the report.
    """
    out.mkdir(parents=True, exist_ok=True)
    classes, y = data.classes, pred["y"]
    probs = softmax(pred["logits"] / temperature)
    summary = classification_summary(y, probs, classes, cfg.eval.calibration_bins)
    files: dict[str, str] = {}
    files["confusion"] = plots.confusion_matrix_png(
        np.array(summary["confusion"]), classes, out / "confusion_matrix.png"
    ).name
    conf, acc, count = calibration_bins(y, probs, cfg.eval.calibration_bins)
    files["reliability"] = plots.reliability_png(conf, acc, count, summary["ece"], out / "reliability.png").name
    if len(y) >= 10:
        points, labels = _tsne(pred["features"], y, cfg.eval.tsne_max_points, cfg.seed)
        files["tsne"] = plots.embedding_png(points, labels, classes, out / "tsne.png", "t-SNE of fused features").name
    if "weights" in pred and pred["weights"].ndim == 2:
        branches = list(data.model_kwargs.get("branches", []))[: pred["weights"].shape[1]]
        per_class = np.stack(
            [
                pred["weights"][y == i].mean(axis=0) if (y == i).any() else np.zeros(pred["weights"].shape[1])
                for i in range(len(classes))
            ]
        )
        files["modality_weights"] = plots.modality_weights_png(
            per_class, branches, classes, out / "modality_weights.png"
        ).name
    described = data.describe(rows).reset_index(drop=True)
    predictions = described.drop(columns=["group"]).assign(
        true=[classes[i] for i in y], predicted=[classes[i] for i in probs.argmax(1)]
    )
    for i, name in enumerate(classes):
        predictions[f"p_{name}"] = probs[:, i].round(5)
    atomic_write_text(out / "predictions.csv", predictions.to_csv(index=False))
    if history:
        files["training_curves"] = plots.training_curves_png(history, out / "training_curves.png").name
    files["predictions"] = "predictions.csv"
    votes = _vote(described, y, probs.argmax(1), classes)
    atomic_write_text(out / "per_recording.csv", votes.to_csv(index=False))
    files["per_recording"] = "per_recording.csv"
    recording_acc = float((votes["true"] == votes["predicted"]).mean()) if len(votes) else float("nan")
    if data.extra_report is not None:
        files.update(data.extra_report(out, rows, probs, y))
    present = [classes[i] for i in sorted(set(y.tolist()))]
    min_recall = min(summary["per_class"][c]["recall"] for c in present)
    flat = {
        "accuracy": summary["accuracy"],
        "macro_f1": summary["macro_f1"],
        "ece": summary["ece"],
        "temperature": float(temperature),
        "macro_auroc": summary["macro_auroc"],
        "recording_accuracy": recording_acc,
        "min_class_recall": min_recall,
        "n_samples": int(len(y)),
        "n_recordings": int(len(votes)),
    }
    detail = {
        **flat,
        "per_class": summary["per_class"],
        "auroc_ovr": summary["auroc_ovr"],
        "confusion": summary["confusion"],
        "classes": classes,
        "files": files,
    }
    _write_markdown(out / "report.md", title, flat, summary, files, votes)
    atomic_write_json(out / "metrics.json", detail)
    return detail


def _write_markdown(
    path: Path, title: str, flat: dict, summary: dict, files: dict[str, str], votes: pd.DataFrame
) -> None:
    lines = [f"# {title}", "", "| figure | value |", "|---|---|"]
    lines += [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in flat.items()]
    lines += [
        "",
        "## Per class",
        "",
        "| class | precision | recall | F1 | support | AUROC |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in summary["per_class"].items():
        auroc = summary["auroc_ovr"].get(name)
        lines.append(
            f"| {name} | {row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} | "
            f"{row['support']} | {'' if auroc is None else f'{auroc:.4f}'} |"
        )
    wrong = votes[votes["true"] != votes["predicted"]] if len(votes) else votes
    lines += ["", f"## Per recording (vote over windows): {len(votes) - len(wrong)}/{len(votes)} correct", ""]
    if len(wrong):
        lines += ["| recording | true | predicted | agreement |", "|---|---|---|---|"]
        lines += [f"| {r.group} | {r.true} | {r.predicted} | {r.agreement:.2f} |" for r in wrong.itertuples()]
    lines += ["", "## Figures", ""] + [f"![{k}]({v})" for k, v in files.items() if v.endswith(".png")]
    atomic_write_text(path, "\n".join(lines) + "\n")


def evaluate_split(
    model: torch.nn.Module,
    data: ClassificationData,
    rows: np.ndarray,
    out: Path,
    cfg: Config,
    device: torch.device,
    reporter: Reporter,
    split: str,
    temperature: float = 1.0,
) -> dict[str, Any]:
    """Evaluate ``rows`` and write the report into ``out/<split>/``."""
    if len(rows) == 0:
        raise DataError(f"the {split} split is empty; nothing to evaluate — choose another --split")
    pred = predict_rows(model, data, rows, cfg.eval.batch_size, device, reporter, data.tta_flip)
    return write_report(out / split, data, rows, pred, cfg, f"Evaluation on the {split} split", temperature)


def average_members(preds: list[dict[str, np.ndarray]], temperatures: list[float]) -> dict[str, np.ndarray]:
    """One prediction from an ensemble's: the mean of the members' calibrated probabilities (returned as
    its log, so that a softmax gives it back), their features side by side, their mean modality weights."""
    probs = np.mean([softmax(p["logits"] / t) for p, t in zip(preds, temperatures, strict=True)], axis=0)
    out = {
        "logits": np.log(np.clip(probs, 1e-12, None)),
        "features": np.concatenate([p["features"] for p in preds], axis=1),
        "y": preds[0]["y"],
    }
    weights = [p.get("weights") for p in preds]
    if all(w is not None and w.shape == weights[0].shape for w in weights):
        out["weights"] = np.mean(weights, axis=0)
    return out
