"""Contrastive losses for pretraining on embeddings: SimCLR's NT-Xent (self-supervised, two views) and
supervised contrastive (labels say which embeddings belong together). Both compare cosine similarities,
so the scale of ``z`` does not matter."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _cosine_logits(z: torch.Tensor, temperature: float) -> torch.Tensor:
    """Cosine similarity / τ between every pair of rows, with the self-pairs set to −inf: (N, N)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    z = F.normalize(z.float(), dim=1)
    logits = z @ z.T / temperature
    self_pairs = torch.eye(len(z), dtype=torch.bool, device=z.device)
    return logits.masked_fill(self_pairs, float("-inf"))


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """NT-Xent (Chen et al. 2020, SimCLR) of two views ``z1``, ``z2`` (B, D) of the same B windows.

    Each of the 2B embeddings is an anchor whose positive is the other view of its window and whose
    negatives are the remaining 2B − 2; the loss is the cross-entropy of picking the positive, averaged
    over the 2B anchors.
    """
    if z1.dim() != 2 or z1.shape != z2.shape:
        raise ValueError(f"nt_xent takes two (B, D) views of equal shape, got {tuple(z1.shape)}, {tuple(z2.shape)}")
    batch = z1.shape[0]
    logits = _cosine_logits(torch.cat([z1, z2]), temperature)
    index = torch.arange(batch, device=z1.device)
    positives = torch.cat([index + batch, index])
    return F.cross_entropy(logits, positives)


def supcon(z: torch.Tensor, labels: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al. 2020, L_out): every other embedding of the anchor's class is
    a positive; −log p(positive) is averaged over an anchor's positives, then over the anchors.

    ``z`` is (N, D) with ``labels`` (N,) — views stacked along the batch carry their label each — or
    (B, V, D) with ``labels`` (B,) for V views of B windows. Anchors without a positive are left out; with
    none at all the loss is 0 (still connected to ``z``, so a backward pass works).
    """
    if z.dim() == 3:
        views = z.shape[1]
        z = z.transpose(0, 1).reshape(-1, z.shape[2])  # view-major: all first views, then all second ...
        labels = labels.repeat(views)
    if z.dim() != 2 or labels.shape != (z.shape[0],):
        raise ValueError(f"supcon takes z (N, D) with labels (N,), got {tuple(z.shape)}, {tuple(labels.shape)}")
    logits = _cosine_logits(z, temperature)
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    positive = labels[:, None] == labels[None, :]
    positive.fill_diagonal_(False)
    count = positive.sum(dim=1)
    # zero the non-positives with where, not a product: the self-pair's log-probability is −inf
    per_anchor = torch.where(positive, log_prob, torch.zeros_like(log_prob)).sum(dim=1)
    has_positive = count > 0
    if not has_positive.any():
        return z.sum() * 0.0
    return -(per_anchor[has_positive] / count[has_positive]).mean()
