"""Domain discriminator for adversarial adaptation (DANN): tells source features from target features.
Put a gradient reversal layer (``models/layers/grad_reverse.py``) between the encoder and it."""

from __future__ import annotations

import torch
from torch import nn

from faultcli.registry import register


class DomainDiscriminator(nn.Module):
    """Linear → ReLU → Dropout → Linear: features (B, D) → one domain logit per sample (B,).

    Train it with binary cross-entropy on logits (e.g. source 1, target 0)."""

    def __init__(self, in_features: int, hidden: int = 256, dropout: float = 0.5) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


@register("head", "domain_discriminator")
def domain_discriminator(in_features: int, hidden: int = 256, dropout: float = 0.5) -> DomainDiscriminator:
    """Builder of :class:`DomainDiscriminator`."""
    return DomainDiscriminator(in_features, hidden=hidden, dropout=dropout)
