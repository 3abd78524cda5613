"""The surface every classifier shares, as timm's models do: ``forward_features`` → ``forward_head``.

``forward(x, **inputs)`` returns logits, for evaluation and export. Training calls the same ``forward``
with ``full=True`` and gets one ``ModelOutput`` holding everything the loss needs (each read-out's logits,
the features a margin head shapes, its margin logits): hooks never call parts of the model around
``forward``, which under DistributedDataParallel would skip gradient synchronisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class ModelOutput:
    logits: torch.Tensor  # the prediction: read-outs combined (B, num_classes)
    features: torch.Tensor  # forward_features' output (B, num_features)
    readouts: list[torch.Tensor]  # each read-out's logits, each trained by its own loss
    clean_readouts: int = 0  # how many trailing read-outs read the batch before augmentation
    margin_logits: torch.Tensor | None = None  # the margin head's training logits, when labels were given


class Classifier(nn.Module):
    """Base of the classifiers: subclasses define ``forward_features`` and ``forward_head``.

    ``arcface`` (optional) is a training-only margin head on ``margin_features``; ``clean_readouts`` > 0
    makes the last read-outs read the ``clean`` input (the batch before augmentation) instead of ``x``.
    """

    num_features: int

    def __init__(self) -> None:
        super().__init__()
        self.arcface: nn.Module | None = None
        self.clean_readouts = 0

    def forward_features(self, x: torch.Tensor, **inputs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        return self.combine_readouts(self.head_logits(feats))

    def head_logits(self, feats: torch.Tensor) -> list[torch.Tensor]:
        """Each read-out's logits (one for most models)."""
        return [self.forward_head(feats)]

    def margin_features(self, feats: torch.Tensor) -> torch.Tensor:
        """The part of the features a margin head shapes."""
        return feats

    @staticmethod
    def combine_readouts(logits: list[torch.Tensor]) -> torch.Tensor:
        """Read-outs → one prediction (B, num_classes): the log of their mean probabilities."""
        if len(logits) == 1:
            return logits[0]
        log_probs = torch.stack([part.log_softmax(dim=1) for part in logits])
        return torch.logsumexp(log_probs, dim=0) - math.log(len(logits))

    def forward(
        self,
        x: torch.Tensor,
        *,
        full: bool = False,
        clean: torch.Tensor | None = None,
        margin_labels: torch.Tensor | None = None,
        **inputs: torch.Tensor,
    ) -> torch.Tensor | ModelOutput:
        if self.clean_readouts and clean is not None:
            inputs["clean"] = clean
        feats = self.forward_features(x, **inputs)
        if not full:
            return self.forward_head(feats)
        parts = self.head_logits(feats)
        margin = None
        if margin_labels is not None and self.arcface is not None:
            margin = self.arcface(self.margin_features(feats), margin_labels)
        logits = parts[0] if len(parts) == 1 else self.combine_readouts(parts)
        return ModelOutput(logits, feats, parts, self.clean_readouts, margin)
