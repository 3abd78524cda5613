"""Classification figures (scikit-learn where it has them); segmentation's are in segmentation/figures.py."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support, roc_auc_score


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, y_true: np.ndarray) -> float:
    """The softmax temperature that minimises the negative log-likelihood of ``y_true`` (Guo et al., 2017).

    Focal loss, label smoothing and margins leave a network under- or over-confident; dividing its logits
    by one scalar fitted on held-out data repairs the probabilities without changing any prediction.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if (logits.argmax(axis=1) == y_true).all():
        # no validation errors (windows of the training recordings often are): the likelihood keeps rising
        # as T -> 0, so the data say nothing about the temperature; sharpening here would only make the
        # model over-confident on shifted data. Keep the raw softmax.
        return 1.0
    rows = np.arange(len(y_true))

    def nll(log_t: float) -> float:
        return float(-log_softmax(logits / np.exp(log_t), axis=1)[rows, y_true].mean())

    # bounded on log T: a temperature of 1/20 … 20 covers any sane network
    return float(np.exp(minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded").x))


def classification_summary(y_true: np.ndarray, probs: np.ndarray, classes: list[str], bins: int = 15) -> dict:
    """Accuracy, macro-F1, per-class P/R/F1, one-vs-rest AUROC, ECE and the confusion matrix.

    Classes absent from ``y_true`` (an eval folder with only some classes) are left out of macro
    figures rather than counted as zero.
    """
    y_pred = probs.argmax(axis=1)
    present = sorted(set(y_true.tolist()))
    labels = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    per_class = {
        classes[i]: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i in labels
    }
    auroc = {}
    for i in present:
        positives = y_true == i
        if 0 < positives.sum() < len(y_true):
            auroc[classes[i]] = float(roc_auc_score(positives, probs[:, i]))
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "per_class": per_class,
        "auroc_ovr": auroc,
        "macro_auroc": float(np.mean(list(auroc.values()))) if auroc else float("nan"),
        "ece": expected_calibration_error(y_true, probs, bins),
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def quick_figures(y_true: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-F1 for per-epoch validation."""
    y_pred = logits.argmax(axis=1)
    return {
        "acc": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    }


def calibration_bins(y_true: np.ndarray, probs: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per confidence bin: mean confidence, accuracy and count."""
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y_true).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    count = np.bincount(index, minlength=bins).astype(np.float64)
    conf = np.bincount(index, weights=confidence, minlength=bins) / np.maximum(count, 1)
    acc = np.bincount(index, weights=correct, minlength=bins) / np.maximum(count, 1)
    return conf, acc, count


def expected_calibration_error(y_true: np.ndarray, probs: np.ndarray, bins: int = 15) -> float:
    conf, acc, count = calibration_bins(y_true, probs, bins)
    return float(np.sum(count / max(count.sum(), 1) * np.abs(acc - conf)))
