"""Zero-shot figures (as Xian et al., "Zero-shot learning: the good, the bad and the ugly", define them):
per-class mean top-1 accuracy of the unseen classes among the unseen prompts (ZSL), and among all prompts
the seen and unseen accuracies and their harmonic mean H (generalised zero-shot).

Calibrated stacking (Chao et al., ECCV 2016) subtracts a constant γ from the seen classes' scores before the
arg-max, since a model trained on the seen classes scores them too high. ``stacking_gamma`` chooses γ from
windows of seen classes alone (the validation split holds no other): the largest shift that keeps a given
class-balanced share of them predicted as a seen class, a fixed seen-side error as a detector's threshold
is set at a fixed false-alarm rate. ``best_h_gamma`` is the classic protocol's choice: on windows of seen
classes that a calibration model was trained without (pseudo-unseen), the γ of the highest harmonic mean.
Neither reads a window or a label of an unseen class."""

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


def seen_mask(num_classes: int, seen: list[int]) -> np.ndarray:
    mask = np.zeros(num_classes, dtype=bool)
    mask[list(seen)] = True
    return mask


def stacked(logits: np.ndarray, seen: list[int], gamma: float) -> np.ndarray:
    """``logits`` with ``gamma`` subtracted from the seen classes' columns."""
    return logits - gamma * seen_mask(logits.shape[1], seen)


def stacking_gamma(logits: np.ndarray, y: np.ndarray, seen: list[int], keep: float = 0.95) -> float:
    """γ of calibrated stacking from windows of seen classes: the largest shift under which a class-balanced
    share ``keep`` of them is still predicted as a seen class.

    A window's margin is its best seen score minus its best unseen score; it stays seen while γ is below the
    margin. Rows whose label is not a seen class are ignored (a validation split holds none), so no unseen
    label or window can move γ. γ is the midpoint between the margin of the last window given up and the
    next, and may be negative when more than 1 - ``keep`` of the seen windows already go to unseen classes.
    """
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"keep = {keep} must lie in (0, 1]")
    mask = seen_mask(logits.shape[1], seen)
    if mask.all():
        raise ValueError("calibrated stacking needs at least one unseen class")
    rows = np.isin(y, np.flatnonzero(mask))
    if not rows.any():
        raise ValueError("no window of a seen class to choose γ on")
    scores, labels = logits[rows].astype(np.float64), y[rows]
    margin = scores[:, mask].max(1) - scores[:, ~mask].max(1)
    # each seen class weighs the same, as the per-class seen accuracy counts it
    classes, counts = np.unique(labels, return_counts=True)
    weight = 1.0 / (len(classes) * counts[np.searchsorted(classes, labels)])
    order = np.argsort(margin, kind="stable")
    margin, weight = margin[order], weight[order]
    # giving up the k lowest margins keeps the share 1 - sum(weight[:k]); the most we may give up:
    given_up = np.concatenate([[0.0], np.cumsum(weight)])
    k = int(np.flatnonzero(given_up <= 1.0 - keep + 1e-12).max())
    if k == 0:  # nothing may be given up: just below the lowest margin
        return float(margin[0] - 1e-6 * max(1.0, abs(margin[0])))
    if k == len(margin):
        return float(margin[-1] + 1e-6 * max(1.0, abs(margin[-1])))
    return float((margin[k - 1] + margin[k]) / 2.0)


def pseudo_unseen(seen: list[str], unseen: int, total: int, seed: int) -> list[str]:
    """Seen classes to hold out as pseudo-unseen: as many as keep the share of unseen classes, at least one,
    drawn with ``seed``; at least two seen classes remain."""
    count = min(max(1, round(len(seen) * unseen / total)), len(seen) - 2)
    if count < 1:
        raise ValueError(f"{len(seen)} seen classes leave none to hold out as pseudo-unseen; hold out fewer classes")
    picked = np.random.default_rng(seed).choice(len(seen), count, replace=False)
    return [seen[i] for i in sorted(picked)]


def best_h_gamma(scores: np.ndarray, y: np.ndarray, seen: list[int]) -> tuple[float, float]:
    """(γ, H): the shift of the ``seen`` columns' scores that maximises the harmonic mean of the per-class
    accuracies of the seen and of the other (pseudo-unseen) classes of ``y``; of equally good shifts, the
    middle one."""
    mask = seen_mask(scores.shape[1], seen)
    if mask.all() or not mask.any():
        raise ValueError("choosing γ needs seen and pseudo-unseen classes")
    best_seen, best_unseen = scores[:, mask].max(1), scores[:, ~mask].max(1)
    right_seen = np.flatnonzero(mask)[scores[:, mask].argmax(1)] == y
    right_unseen = np.flatnonzero(~mask)[scores[:, ~mask].argmax(1)] == y
    margin = np.sort(np.unique(best_seen - best_unseen))
    candidates = np.concatenate([[margin[0] - 1e-6], (margin[1:] + margin[:-1]) / 2, [margin[-1] + 1e-6]])
    stays_seen = (best_seen - best_unseen)[:, None] > candidates[None, :]  # (windows, candidates)

    def class_mean(hit: np.ndarray, classes: np.ndarray) -> np.ndarray:
        return np.mean([hit[y == c].mean(0) for c in classes if np.any(y == c)], axis=0)

    s = class_mean(stays_seen & right_seen[:, None], np.flatnonzero(mask))
    u = class_mean(~stays_seen & right_unseen[:, None], np.flatnonzero(~mask))
    h = np.where(s + u > 0, 2 * s * u / np.maximum(s + u, 1e-12), 0.0)
    best = np.flatnonzero(h >= h.max() - 1e-12)
    return float(candidates[best[len(best) // 2]]), float(h.max())
