"""Classification losses: focal with class-balanced α and label smoothing, and plain cross-entropy."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faultcli.losses.registry import register_loss


def class_balanced_alpha(counts: np.ndarray | list[int], beta: float) -> torch.Tensor:
    """Per-class weights from the effective number of samples (Cui et al. 2019), mean 1."""
    counts = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
    if beta <= 0:
        return torch.ones(len(counts), dtype=torch.float32)
    effective = (1.0 - np.power(beta, counts)) / (1.0 - beta)
    weights = 1.0 / effective
    return torch.as_tensor(weights / weights.mean(), dtype=torch.float32)


def smooth_targets(targets: torch.Tensor, num_classes: int, smoothing: float) -> torch.Tensor:
    """Class indices or soft targets → smoothed probability rows."""
    if targets.dim() == 1:
        targets = F.one_hot(targets, num_classes).float()
    return targets * (1.0 - smoothing) + smoothing / num_classes


class FocalLoss(nn.Module):
    """Focal loss −α_y (1 − p)^γ log p, averaged over soft (smoothed or mixed) targets.

    With γ = 0 and no α it is cross-entropy with label smoothing.
    """

    def __init__(self, gamma: float = 2.0, alpha: torch.Tensor | None = None, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.gamma, self.label_smoothing = gamma, label_smoothing
        self.register_buffer("alpha", alpha if alpha is not None else torch.empty(0), persistent=False)

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        soft = smooth_targets(targets, logits.shape[1], self.label_smoothing)
        log_p = F.log_softmax(logits.float(), dim=1)
        focal = (1.0 - log_p.exp()).pow(self.gamma) if self.gamma else 1.0
        per_class = -soft * focal * log_p
        if self.alpha.numel():
            per_class = per_class * self.alpha
        return per_class.sum(dim=1).mean()


@register_loss("focal", target="labels")
def focal(
    class_counts: np.ndarray, gamma: float = 2.0, class_balance_beta: float = 0.999, label_smoothing: float = 0.0
) -> FocalLoss:
    """Focal loss (Lin et al. 2017) with class-balanced α (Cui et al. 2019) and label smoothing."""
    return FocalLoss(
        gamma=gamma, alpha=class_balanced_alpha(class_counts, class_balance_beta), label_smoothing=label_smoothing
    )


@register_loss("ce", target="labels")
def cross_entropy(label_smoothing: float = 0.0) -> FocalLoss:
    """Cross-entropy with label smoothing (soft targets allowed, as mixup makes)."""
    return FocalLoss(gamma=0.0, alpha=None, label_smoothing=label_smoothing)
