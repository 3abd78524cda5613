"""Salient-object-detection measures of a defect probability map against a binary defect mask.

The defect-saliency literature (SD-saliency-900 and its successors) reports these four on the
class-agnostic map; each function follows the authors' reference MATLAB code, and the same formulas
as PySODMetrics (Pang et al.), which the figures of most such papers come from:

- weighted F-measure, F^w_β with β² = 1: Margolin, Zelnik-Manor and Tal, "How to Evaluate
  Foreground Maps?", CVPR 2014.
- MAE, the mean absolute error between map and mask: Perazzi et al., "Saliency Filters", CVPR 2012.
- S-measure, S_α with α = 0.5: Fan, Cheng, Liu, Li and Borji, "Structure-measure: A New Way to
  Evaluate Foreground Maps", ICCV 2017.
- E-measure, E_ξ: Fan, Gong, Cao, Ren, Cheng and Borji, "Enhanced-alignment Measure for Binary
  Foreground Map Evaluation", IJCAI 2018; "mean" averages it over the 256 thresholds t/255 of the
  map quantised to 8 bits (the map binarised at ≥ t), "adaptive" binarises at min(2 · mean of the
  map, 1). The maximum over thresholds is not reported: it picks the threshold on the evaluated masks.

Maps are probabilities in 0..1 used as they are: the reference tools min-max stretch each 8-bit map
read from a PNG, which would turn a faint map of a missed defect into a confident one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

EPS = np.spacing(1.0)  # MATLAB's eps, as in the reference code
LEVELS = 256  # thresholds of the mean E-measure


def _check(prob: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    prob, truth = np.asarray(prob, dtype=np.float64), np.asarray(truth).astype(bool)
    if prob.ndim != 2 or prob.shape != truth.shape:
        raise ValueError(f"map {prob.shape} and mask {truth.shape} must be the same (H, W)")
    if prob.size and (prob.min() < 0.0 or prob.max() > 1.0):
        raise ValueError("the map must hold probabilities in 0..1")
    return prob, truth


def _gaussian_kernel(size: int = 7, sigma: float = 5.0) -> np.ndarray:
    """MATLAB's ``fspecial('gaussian', size, sigma)``."""
    half = (size - 1) / 2
    y, x = np.ogrid[-half : half + 1, -half : half + 1]
    kernel = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    return kernel / kernel.sum()


def weighted_f_measure(prob: np.ndarray, truth: np.ndarray, beta2: float = 1.0) -> float:
    """Margolin et al. (CVPR 2014) F^w_β: errors spread over the object by a 7 × 7 Gaussian (σ 5, zero
    padding) and weighted up with the distance to the object outside it; NaN for an empty mask."""
    prob, truth = _check(prob, truth)
    if not truth.any():
        return float("nan")
    dist, (iy, ix) = ndimage.distance_transform_edt(~truth, return_indices=True)
    error = np.abs(prob - truth)
    # pixel dependency: outside the object, the error of its nearest object pixel, then blurred
    spread = error[iy, ix]
    blurred = ndimage.convolve(spread, _gaussian_kernel(), mode="constant", cval=0.0)
    least = np.where(truth & (blurred < error), blurred, error)
    # pixel importance: a false positive counts more the further it lies from the object
    weighted = least * np.where(truth, 1.0, 2.0 - np.exp(np.log(0.5) / 5.0 * dist))
    tp = truth.sum() - weighted[truth].sum()
    fp = weighted[~truth].sum()
    recall = 1.0 - weighted[truth].mean()
    precision = tp / (EPS + tp + fp)
    return float((1.0 + beta2) * recall * precision / (EPS + recall + beta2 * precision))


def mean_absolute_error(prob: np.ndarray, truth: np.ndarray) -> float:
    """Mean |map − mask| over the pixels (Perazzi et al., CVPR 2012)."""
    prob, truth = _check(prob, truth)
    return float(np.abs(prob - truth).mean())


def _object_score(values: np.ndarray) -> float:
    mean = values.mean()
    std = values.std(ddof=1) if values.size > 1 else 0.0
    return float(2.0 * mean / (mean * mean + 1.0 + std + EPS))


def _ssim(prob: np.ndarray, truth: np.ndarray) -> float:
    """The S-measure's region similarity (SSIM without constants) of one quadrant."""
    n = prob.size
    if n == 0:
        return 0.0
    t = truth.astype(np.float64)
    x, y = prob.mean(), t.mean()
    var_x = ((prob - x) ** 2).sum() / (n - 1 + EPS)
    var_y = ((t - y) ** 2).sum() / (n - 1 + EPS)
    cov = ((prob - x) * (t - y)).sum() / (n - 1 + EPS)
    alpha = 4.0 * x * y * cov
    beta = (x * x + y * y) * (var_x + var_y)
    if alpha != 0:
        return float(alpha / (beta + EPS))
    return 1.0 if beta == 0 else 0.0


def _round_half_up(value: float) -> int:
    return int(np.floor(value + 0.5))  # MATLAB's round for the positive centroid


def s_measure(prob: np.ndarray, truth: np.ndarray, alpha: float = 0.5) -> float:
    """Fan et al. (ICCV 2017) S_α = α · object similarity + (1 − α) · region similarity (4 quadrants
    split at the object's centroid, weighted by area); 1 − mean map for an empty mask."""
    prob, truth = _check(prob, truth)
    share = truth.mean()
    if share == 0:
        return float(1.0 - prob.mean())
    if share == 1:
        return float(prob.mean())
    obj = share * _object_score(prob[truth]) + (1 - share) * _object_score(1.0 - prob[~truth])
    h, w = truth.shape
    rows, cols = np.nonzero(truth)
    cy, cx = _round_half_up(rows.mean() + 1), _round_half_up(cols.mean() + 1)  # 1-based, as in MATLAB
    region = 0.0
    for ys, xs in ((slice(0, cy), slice(0, cx)), (slice(0, cy), slice(cx, w)), (slice(cy, h), slice(0, cx)),
                   (slice(cy, h), slice(cx, w))):  # fmt: skip
        part = truth[ys, xs]
        region += part.size / truth.size * _ssim(prob[ys, xs], part)
    return float(max(0.0, alpha * obj + (1 - alpha) * region))


def _e_measure_counts(fg_pred: np.ndarray, tp: np.ndarray, n_true: int, n: int) -> np.ndarray:
    """E_ξ from pixel counts (arrays over thresholds): predicted foreground, true positives, true
    foreground and all pixels. The enhanced alignment takes one value in each of the four
    (predicted, true) cells, so the sum over pixels is four products."""
    if n_true == 0:
        return (n - fg_pred) / (n - 1 + EPS)
    if n_true == n:
        return fg_pred / (n - 1 + EPS)
    mu_p, mu_t = fg_pred / n, n_true / n
    fp = fg_pred - tp
    fn = n_true - tp
    tn = n - fg_pred - fn
    total = np.zeros_like(mu_p, dtype=np.float64)
    for count, dp, dt in ((tp, 1 - mu_p, 1 - mu_t), (fp, 1 - mu_p, -mu_t), (fn, -mu_p, 1 - mu_t), (tn, -mu_p, -mu_t)):
        align = 2 * dp * dt / (dp * dp + dt * dt + EPS)
        total = total + count * (align + 1) ** 2 / 4
    return total / (n - 1 + EPS)


def e_measure(binary: np.ndarray, truth: np.ndarray) -> float:
    """Fan et al. (IJCAI 2018) E_ξ of a binary prediction."""
    binary, truth = _check(np.asarray(binary, dtype=np.float64), truth)
    pred = binary > 0.5
    counts = (np.array([pred.sum()]), np.array([(pred & truth).sum()]))
    return float(_e_measure_counts(*counts, int(truth.sum()), truth.size)[0])


def e_measure_curve(prob: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """E_ξ of the map binarised at each threshold t/255, t = 0..255 (map quantised to 8 bits, ≥ t)."""
    prob, truth = _check(prob, truth)
    levels = np.floor(prob * 255).astype(np.int64)
    # pixels at or above each level: reversed cumulative histograms
    fg_pred = np.cumsum(np.bincount(levels.ravel(), minlength=LEVELS)[::-1])[::-1]
    tp = np.cumsum(np.bincount(levels[truth], minlength=LEVELS)[::-1])[::-1]
    return _e_measure_counts(fg_pred.astype(np.float64), tp.astype(np.float64), int(truth.sum()), truth.size)


def e_measure_adaptive(prob: np.ndarray, truth: np.ndarray) -> float:
    """E_ξ of the map binarised at min(2 · its mean, 1) (≥ the threshold)."""
    prob, truth = _check(prob, truth)
    return e_measure(prob >= min(2.0 * prob.mean(), 1.0), truth)


SALIENCY_KEYS = ("weighted_f", "mae", "s_measure", "e_measure_mean", "e_measure_adaptive")


@dataclass
class SaliencyMeter:
    """Streams (map, mask) pairs and averages each measure over the images, as the literature does
    (the mean E-measure of a set is the mean over images of each image's mean over thresholds, which
    equals the mean over thresholds of the set's average curve)."""

    rows: list[dict[str, float]] = field(default_factory=list)

    def add(self, prob: np.ndarray, truth: np.ndarray) -> dict[str, float]:
        """Score one image and keep its figures; returns them."""
        row = {
            "weighted_f": weighted_f_measure(prob, truth),
            "mae": mean_absolute_error(prob, truth),
            "s_measure": s_measure(prob, truth),
            "e_measure_mean": float(e_measure_curve(prob, truth).mean()),
            "e_measure_adaptive": e_measure_adaptive(prob, truth),
        }
        self.rows.append(row)
        return row

    @property
    def count(self) -> int:
        return len(self.rows)

    def result(self) -> dict[str, float]:
        """The mean of each measure over the images added (NaN when none was)."""
        return {k: float(np.mean([r[k] for r in self.rows])) if self.rows else float("nan") for k in SALIENCY_KEYS}
