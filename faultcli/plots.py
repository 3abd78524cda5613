"""Figures written into run folders (matplotlib, no display). Each function saves one PNG atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from faultcli.runs import atomic_path  # noqa: E402


def _save(fig, path: Path) -> Path:
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    return Path(path)


def confusion_matrix_png(matrix: np.ndarray, classes: list[str], path: Path, title: str = "Confusion matrix") -> Path:
    matrix = np.asarray(matrix, dtype=np.float64)
    rows = matrix.sum(axis=1, keepdims=True)
    norm = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    size = max(5.0, 0.6 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(classes)):
        for j in range(len(classes)):
            if matrix[i, j]:
                ax.text(
                    j,
                    i,
                    int(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black",
                )
    ax.set_title(title)
    return _save(fig, path)


def reliability_png(conf: np.ndarray, acc: np.ndarray, count: np.ndarray, ece: float, path: Path) -> Path:
    bins = len(conf)
    centers = (np.arange(bins) + 0.5) / bins
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.bar(centers, np.where(count > 0, acc, 0), width=1 / bins, edgecolor="k", alpha=0.7, label="accuracy")
    ax.plot([0, 1], [0, 1], "r--", label="perfect calibration")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Reliability (ECE {ece:.3f})")
    ax.legend(loc="upper left")
    return _save(fig, path)


def embedding_png(
    points: np.ndarray,
    labels: np.ndarray,
    classes: list[str],
    path: Path,
    title: str,
    anchors: np.ndarray | None = None,
) -> Path:
    """Points coloured by class; ``anchors`` (one point per class, e.g. its text embedding) as large stars."""
    fig, ax = plt.subplots(figsize=(7, 6))
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    for i, name in enumerate(classes):
        sel = labels == i
        if sel.any():
            ax.scatter(points[sel, 0], points[sel, 1], s=6, color=cmap(i % cmap.N), label=name)
        if anchors is not None:
            ax.scatter(*anchors[i], s=220, marker="*", color=cmap(i % cmap.N), edgecolors="black", linewidths=0.8)
    ax.legend(fontsize=7, markerscale=2, loc="best")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return _save(fig, path)


def modality_weights_png(weights: np.ndarray, branches: list[str], classes: list[str], path: Path) -> Path:
    """Mean level-1 fusion weight of each branch, per true class."""
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(classes) + 2), 4))
    x = np.arange(len(classes))
    width = 0.8 / max(len(branches), 1)
    for b, name in enumerate(branches):
        ax.bar(x + b * width - 0.4 + width / 2, weights[:, b], width, label=name)
    ax.set_xticks(x, classes, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("mean modality weight")
    ax.legend()
    ax.set_title("Fusion weights per class")
    return _save(fig, path)


def image_grid_png(images: list[np.ndarray], titles: list[str], path: Path, cols: int = 4) -> Path:
    rows = max(1, -(-len(images) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, title in zip(axes.flat, images, titles, strict=False):
        ax.imshow(img.squeeze(), cmap="gray" if img.ndim == 2 or img.shape[-1] == 1 else None)
        ax.set_title(title, fontsize=8)
    return _save(fig, path)


def _curve_groups(records: list[dict]) -> dict[str, list[str]]:
    """Panel → keys: losses together, then each figure with its train_ / val_ twin, then the learning rate."""
    keys = sorted({k for r in records for k, v in r.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
    keys = [k for k in keys if k not in ("epoch", "fold", "epoch_seconds")]
    groups: dict[str, list[str]] = {}
    for key in keys:
        base = key.split("_", 1)[1] if key.startswith(("train_", "val_")) else key
        groups.setdefault("lr" if key == "lr" else base, []).append(key)
    order = ["loss", *sorted(g for g in groups if g not in ("loss", "lr")), "lr"]
    return {g: groups[g] for g in order if g in groups}


def training_curves_png(records: list[dict], path: Path, title: str = "Training curves") -> Path:
    """One panel per figure of ``metrics.jsonl`` records (train and val side by side, the loss first and the
    learning rate last) against the epoch; k-fold records (a ``fold`` key) draw one line per fold."""
    records = [r for r in records if isinstance(r.get("epoch"), (int, float))]
    if not records:
        raise ValueError("no epoch records to plot (metrics.jsonl is empty or has no 'epoch' field)")
    groups = _curve_groups(records)
    if not groups:
        raise ValueError("the epoch records hold no numeric figures to plot")
    folds = sorted({r.get("fold") for r in records}, key=lambda f: -1 if f is None else f)
    cols = min(3, len(groups))
    rows = -(-len(groups) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat[len(groups) :]:
        ax.axis("off")
    for ax, (group, keys) in zip(axes.flat, groups.items(), strict=False):
        for key in keys:
            for fold in folds:
                points = sorted(
                    (r["epoch"] + 1, float(r[key]))
                    for r in records
                    if r.get("fold") == fold and isinstance(r.get(key), (int, float)) and np.isfinite(r[key])
                )
                if not points:
                    continue
                x, y = zip(*points, strict=True)
                label = key if fold is None else f"{key} (fold {fold})"
                ax.plot(x, y, marker="o" if len(x) < 30 else None, markersize=3, label=label)
        ax.set_title(group)
        ax.set_xlabel("epoch")
        if group == "lr":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)
