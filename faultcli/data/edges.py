"""Edge maps for the image classifier's edge branch: CLAHE, then Canny with thresholds from the median.

CLAHE first so that faint scratches on dark strips reach the same contrast as on bright ones; the
median rule (``(1 ± sigma) × median``) adapts Canny's thresholds to each image's brightness.
"""

from __future__ import annotations

import cv2
import numpy as np


def to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1) or RGB (H, W, 3) uint8 → (H, W) uint8."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)


def canny_thresholds(gray: np.ndarray, sigma: float = 0.33) -> tuple[float, float]:
    """(lower, upper) = (max(0, (1 - σ)·median), min(255, (1 + σ)·median))."""
    median = float(np.median(gray))
    return max(0.0, (1.0 - sigma) * median), min(255.0, (1.0 + sigma) * median)


def edge_map(image: np.ndarray, sigma: float = 0.33, clip_limit: float = 2.0, tiles: int = 8) -> np.ndarray:
    """uint8 (H, W) map in {0, 255} of an image (gray or RGB, uint8) after CLAHE + Canny."""
    gray = np.ascontiguousarray(to_gray(image))
    clahe = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tiles, tiles))
    equalised = clahe.apply(gray)
    lower, upper = canny_thresholds(equalised, sigma)
    return cv2.Canny(equalised, lower, upper)
