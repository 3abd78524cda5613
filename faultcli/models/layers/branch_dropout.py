"""Modality (branch) dropout: whole branch features zeroed at random while training."""

from __future__ import annotations

import torch
from torch import nn


class BranchDropout(nn.Module):
    """Zero each sample's branch features with probability ``p`` in training, keeping at least one branch.

    A fused model can lean on whichever branch fits the training data best, and one branch's view may not
    hold on another load or machine. Dropping whole branches (ModDrop, Neverova et al. 2015) makes every
    branch, and every subset, carry the decision on its own, so no single view's failure decides it.
    No rescaling: the fusion's gate sees a zero feature and learns to weigh the rest. Identity in eval.
    """

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"branch dropout p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        if not self.training or self.p == 0.0 or len(feats) < 2:
            return feats
        batch, n = feats[0].shape[0], len(feats)
        keep = torch.rand(batch, n, device=feats[0].device) >= self.p
        # a sample that lost every branch keeps one, chosen at random
        none_kept = ~keep.any(dim=1)
        rescue = torch.randint(n, (batch,), device=feats[0].device)
        keep[none_kept, rescue[none_kept]] = True
        return [f * keep[:, i, None].to(f.dtype) for i, f in enumerate(feats)]
