"""Zero-shot figures (as Xian et al., "Zero-shot learning: the good, the bad and the ugly", define them):
per-class mean top-1 accuracy of the unseen classes among the unseen prompts (ZSL), and among all prompts
the seen and unseen accuracies and their harmonic mean H (generalised zero-shot)."""

from __future__ import annotations

import numpy as np


def per_class_accuracy(y: np.ndarray, pred: np.ndarray, classes: list[int]) -> float:
    accs = [float(np.mean(pred[y == c] == c)) for c in classes if np.any(y == c)]
    return float(np.mean(accs)) if accs else float("nan")


def zero_shot_figures(logits: np.ndarray, y: np.ndarray, seen: list[int]) -> dict[str, float]:
    unseen = [c for c in range(logits.shape[1]) if c not in seen]
    if not unseen:
        return {}
    among_unseen = np.asarray(unseen)[logits[:, unseen].argmax(1)]
    pred = logits.argmax(1)
    s = per_class_accuracy(y, pred, seen)
    u = per_class_accuracy(y, pred, unseen)
    return {
        "zsl_accuracy": per_class_accuracy(y, among_unseen, unseen),
        "gzsl_seen_accuracy": s,
        "gzsl_unseen_accuracy": u,
        "gzsl_h": 2 * s * u / (s + u) if s + u > 0 else 0.0,
        "zsl_chance": 1.0 / len(unseen),
    }
