"""Contrastive losses between signal windows and class texts, and CLIP's learnable temperature.

``clip_loss`` is class-aware: a batch holds many windows per class, all of which share one class text.
Signal → text is cross-entropy over the class prompts; text → signal takes each class present in the
batch and treats every window of that class as a positive (the mean of their log-probabilities, as in
supervised contrastive learning). ``clip_loss_arange`` is the form of OpenAI CLIP and Bearing-CLIP, one
text per window and ``arange`` targets: it counts the other windows of the same class as negatives, so it
is lowered by pulling same-class embeddings apart whenever their texts can move apart (a trained text path).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from faultcli.errors import ConfigError


def _scale(logit_scale: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(logit_scale, dtype=like.dtype, device=like.device)


def clip_loss(
    signal_emb: torch.Tensor, class_text_emb: torch.Tensor, labels: torch.Tensor, logit_scale: torch.Tensor | float
) -> torch.Tensor:
    """Symmetric class-aware InfoNCE: (signal → text + text → signal) / 2.

    ``signal_emb`` (B, D) and ``class_text_emb`` (C, D) are L2-normalised here; ``labels`` (B,) index the
    class rows; ``logit_scale`` multiplies the cosine similarities (a float or ``LogitScale()``'s output).
    """
    if signal_emb.dim() != 2 or class_text_emb.dim() != 2 or signal_emb.shape[1] != class_text_emb.shape[1]:
        raise ValueError(
            f"embeddings must be (B, D) and (C, D), got {tuple(signal_emb.shape)} and {tuple(class_text_emb.shape)}"
        )
    logits = _scale(logit_scale, signal_emb) * F.normalize(signal_emb, dim=-1) @ F.normalize(class_text_emb, dim=-1).T
    return class_aware_infonce(logits, labels)


def class_aware_infonce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``clip_loss`` from the scaled similarities ``logits`` (B, C) of a batch's windows to the class texts."""
    signal_to_text = F.cross_entropy(logits, labels)
    present = torch.unique(labels)
    # (B, K): for each class present, a softmax over the batch's windows; positives are that class's windows
    log_probs = logits[:, present].log_softmax(dim=0)
    positive = (labels.unsqueeze(1) == present.unsqueeze(0)).to(log_probs.dtype)
    text_to_signal = -((log_probs * positive).sum(dim=0) / positive.sum(dim=0)).mean()
    return (signal_to_text + text_to_signal) / 2


def clip_loss_arange(
    signal_emb: torch.Tensor, text_emb_per_sample: torch.Tensor, logit_scale: torch.Tensor | float
) -> torch.Tensor:
    """OpenAI CLIP's symmetric loss with targets ``arange(B)``: window i matches text i only."""
    if signal_emb.shape != text_emb_per_sample.shape or signal_emb.dim() != 2:
        raise ValueError(
            f"embeddings must both be (B, D), got {tuple(signal_emb.shape)} and {tuple(text_emb_per_sample.shape)}"
        )
    logits = (
        _scale(logit_scale, signal_emb) * F.normalize(signal_emb, dim=-1) @ F.normalize(text_emb_per_sample, dim=-1).T
    )
    targets = torch.arange(logits.shape[0], device=logits.device)
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


class LogitScale(nn.Module):
    """CLIP's learnable temperature: a log-parameterised scale, clamped to [1, ``max``] in ``forward``.

    Starts at ``init`` (1/0.07 as in CLIP). ``clamp_()`` also clamps the stored value, as CLIP does after
    each optimiser step, so it does not drift far past the bound where its gradient is zero.
    """

    def __init__(self, init: float = 1 / 0.07, max: float = 100.0) -> None:
        super().__init__()
        if not 1.0 <= init <= max:
            raise ConfigError(f"logit scale init = {init} must lie in [1, max = {max}]; CLIP starts at 1/0.07 ≈ 14.3")
        self.max_log = math.log(max)
        self.log_scale = nn.Parameter(torch.tensor(math.log(init)))

    def forward(self) -> torch.Tensor:
        return self.log_scale.clamp(0.0, self.max_log).exp()

    @torch.no_grad()
    def clamp_(self) -> None:
        self.log_scale.clamp_(0.0, self.max_log)

    def extra_repr(self) -> str:
        return f"scale={self().item():.3f}, max={math.exp(self.max_log):g}"
