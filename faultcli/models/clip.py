"""Vibration–text model: windows and class descriptions in one embedding space, classes by cosine.

A registered vibration model's ``forward_features`` is the signal encoder; a linear projection (and, in
adapter mode, a residual adapter) maps its features into the shared space. The class texts enter as
fixed embeddings of a frozen text encoder (a buffer: no text encoder at inference or in an export) or
through a word-level LSTM trained with the model. ``forward`` returns logits = scale · cosine(window,
class text), so evaluation, calibration, export and predict treat it as any classifier.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from faultcli.clip.adapters import ResidualAdapter
from faultcli.clip.loss import LogitScale
from faultcli.clip.text import LSTMTextEncoder
from faultcli.models.base import Classifier
from faultcli.registry import lookup, register


class FrozenTexts(nn.Module):
    """Class embeddings computed once by a frozen text encoder, kept as a buffer (saved, exported)."""

    def __init__(self, num_classes: int, dim: int, embeddings: torch.Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("embeddings", torch.zeros(num_classes, dim) if embeddings is None else embeddings.clone())

    def forward(self) -> torch.Tensor:
        return self.embeddings


class LSTMTexts(nn.Module):
    """Class embeddings from a word-level LSTM trained with the model: each class the mean of its prompts."""

    def __init__(self, prompts: list[list[str]], dim: int) -> None:
        super().__init__()
        texts = list(dict.fromkeys(t for class_prompts in prompts for t in class_prompts))
        self.texts = texts
        self.encoder = LSTMTextEncoder(texts, dim=dim)
        position = {t: i for i, t in enumerate(texts)}
        weights = torch.zeros(len(prompts), len(texts))
        for c, class_prompts in enumerate(prompts):
            weights[c, [position[t] for t in class_prompts]] = 1.0 / len(class_prompts)
        self.register_buffer("weights", weights)

    def forward(self) -> torch.Tensor:
        return F.normalize(self.weights @ self.encoder.encode(self.texts), dim=-1)


class ClipClassifier(Classifier):
    def __init__(
        self,
        encoder: nn.Module,
        texts: nn.Module,
        text_dim: int,
        embed_dim: int = 256,
        logit_scale: float = 14.3,
        adapter_bottleneck: int = 0,
        adapter_ratio: float = 0.2,
        train_adapters_only: bool = False,
        prompts: list[list[str]] | None = None,
    ) -> None:
        super().__init__()
        self.encoder, self.texts = encoder, texts
        self.prompts = prompts or []  # each class's descriptions, for reports
        self.num_features = int(encoder.num_features)
        self.signal_proj = nn.Linear(self.num_features, embed_dim)
        self.text_proj = nn.Linear(text_dim, embed_dim)
        self.logit_scale = LogitScale(logit_scale)
        self.adapter = ResidualAdapter(embed_dim, adapter_bottleneck, adapter_ratio) if adapter_bottleneck else None
        self.train_adapters_only = train_adapters_only
        if train_adapters_only:  # adapter mode: what the align stage trained stays as it is
            for name, param in self.named_parameters():
                param.requires_grad_(name.startswith("adapter."))

    def train(self, mode: bool = True) -> ClipClassifier:
        super().train(mode)
        if self.train_adapters_only:  # frozen BatchNorm statistics too
            self.encoder.eval()
        return self

    def forward_features(self, x: torch.Tensor, **inputs: torch.Tensor) -> torch.Tensor:
        return self.encoder.forward_features(x, **inputs)

    def signal_embedding(self, feats: torch.Tensor) -> torch.Tensor:
        z = self.signal_proj(feats)
        if self.adapter is not None:
            z = self.adapter(z)
        return F.normalize(z, dim=-1)

    def text_embedding(self) -> torch.Tensor:
        """(classes, embed_dim) unit rows, one per class."""
        return F.normalize(self.text_proj(self.texts()), dim=-1)

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        return self.logit_scale() * self.signal_embedding(feats) @ self.text_embedding().T


def signal_encoder(encoder: str, encoder_kwargs: dict[str, Any]) -> nn.Module:
    """A registered vibration model used through ``forward_features``; its classifier heads are dropped."""
    from faultcli.models import create_model

    net = create_model(encoder, **encoder_kwargs)
    net.head, net.arcface = nn.Identity(), None
    return net


def class_texts(
    text: str, num_classes: int, text_dim: int, prompts: list[list[str]], text_embeddings: torch.Tensor | None
) -> nn.Module:
    """The class-text side: "frozen" embeddings (a checkpoint restores them) or an LSTM over ``prompts``."""
    if len(prompts) != num_classes:
        raise ValueError(f"{len(prompts)} prompt lists for {num_classes} classes")
    return FrozenTexts(num_classes, text_dim, text_embeddings) if text == "frozen" else LSTMTexts(prompts, text_dim)


@register("model", "clip_classifier")
def clip_classifier(
    num_classes: int,
    encoder: str,
    encoder_kwargs: dict[str, Any],
    text: str,
    text_dim: int,
    prompts: list[list[str]],
    embed_dim: int = 256,
    logit_scale: float = 14.3,
    adapter_bottleneck: int = 0,
    adapter_ratio: float = 0.2,
    train_adapters_only: bool = False,
    text_embeddings: torch.Tensor | None = None,
) -> ClipClassifier:
    """``text`` = "frozen" (``text_embeddings`` (classes, text_dim) from a frozen encoder; a checkpoint
    restores them) or "lstm" (trained here from ``prompts``, one list per class)."""
    lookup("model", encoder)
    return ClipClassifier(
        signal_encoder(encoder, {"num_classes": num_classes, **encoder_kwargs}),
        class_texts(text, num_classes, text_dim, prompts, text_embeddings),
        text_dim,
        embed_dim=embed_dim,
        logit_scale=logit_scale,
        adapter_bottleneck=adapter_bottleneck,
        adapter_ratio=adapter_ratio,
        train_adapters_only=train_adapters_only,
        prompts=prompts,
    )
