"""The vibration–text model with what training may add to it after alignment: LoRA on the transformer text
encoder (``LoraTexts``) and the calibrated-stacking shift of the seen classes (``TunedClipClassifier``).

Imported when such a model is built (``faultcli.clip.builder``), never by ``faultcli.clip`` itself: it
imports the model classes of ``faultcli.models.clip``, which import this package.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from faultcli.clip.adapters import add_lora
from faultcli.clip.text import TransformerTextEncoder
from faultcli.errors import CheckpointError, ConfigError
from faultcli.models.clip import ClipClassifier, class_texts, signal_encoder


def _is_lora(name: str) -> bool:
    return "lora_" in name


class LoraTexts(nn.Module):
    """Class embeddings from a pretrained text encoder tuned by LoRA: the distinct prompts are encoded once
    per training step (in the graph), each class the normalised mean of its prompts' embeddings.

    Out of training the embeddings of the current weights are kept in the ``embeddings`` buffer (encoded again
    after any training step), so evaluation, export and predict read a constant, as with ``FrozenTexts``. The
    state dict holds that buffer, the LoRA matrices and a checksum of the base weights, which are read again
    from ``text_model`` (the same folder must be there to load a checkpoint).
    """

    def __init__(
        self,
        prompts: list[list[str]],
        text_model: str,
        dim: int,
        pooling: str = "mean",
        r: int = 8,
        alpha: float = 16.0,
        dropout: float = 0.05,
        embeddings: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        encoder = TransformerTextEncoder(text_model, pooling=pooling)
        if encoder.dim != dim:
            raise ConfigError(f"text model {text_model} is {encoder.dim} wide, the checkpoint's texts {dim}")
        base = [p.detach() for p in encoder.model.parameters()]
        check = torch.tensor([float(sum(p.double().abs().sum() for p in base)), float(sum(p.numel() for p in base))])
        encoder.model = add_lora(encoder.model, r=r, alpha=alpha, dropout=dropout)
        self.encoder = encoder
        self.texts = list(dict.fromkeys(t for class_prompts in prompts for t in class_prompts))
        position = {t: i for i, t in enumerate(self.texts)}
        weights = torch.zeros(len(prompts), len(self.texts))
        for c, class_prompts in enumerate(prompts):
            unique = list(dict.fromkeys(class_prompts))
            weights[c, [position[t] for t in unique]] = 1.0 / len(unique)
        self.register_buffer("weights", weights, persistent=False)
        start = torch.zeros(len(prompts), dim) if embeddings is None else embeddings.detach().clone().float()
        self.register_buffer("embeddings", start)
        # sum of |base weights| and their count: a checkpoint refuses another base model
        self.register_buffer("base_check", check.double())
        self._stale = embeddings is None

    def encode_classes(self) -> torch.Tensor:
        """(classes, dim) unit rows with the current weights (in the graph when gradients are on)."""
        encoded = self.encoder.encode(self.texts)
        return F.normalize(self.weights.to(encoded.device, encoded.dtype) @ encoded, dim=-1)

    @torch.no_grad()
    def refresh(self) -> None:
        """Encode the class prompts again into ``embeddings`` without dropout."""
        was = self.training
        self.train(False)
        self.embeddings.copy_(self.encode_classes())
        self.train(was)
        self._stale = False

    def forward(self) -> torch.Tensor:
        if self.training and torch.is_grad_enabled():
            self._stale = True  # the optimiser is about to change the LoRA weights
            return self.encode_classes()
        if self._stale:
            self.refresh()
        return self.embeddings

    def state_dict(self, *args: Any, destination=None, prefix: str = "", keep_vars: bool = False) -> Any:
        if self._stale:
            self.refresh()
        out = super().state_dict(*args, destination=destination, prefix=prefix, keep_vars=keep_vars)
        base = prefix + "encoder."
        for key in [k for k in out if k.startswith(base) and not _is_lora(k)]:
            del out[key]  # frozen base weights: read again from the text model folder
        return out

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors) -> None:
        check = state_dict.get(prefix + "base_check")
        if check is not None and not torch.allclose(check.double(), self.base_check, rtol=1e-6):
            raise CheckpointError(
                "the text model folder holds other weights than the ones this checkpoint's LoRA was trained on; "
                "point clip.text_model at the original model"
            )
        # the base weights are not saved: the children load the ones already here
        for key, value in nn.Module.state_dict(self.encoder, prefix=prefix + "encoder.", keep_vars=True).items():
            if not _is_lora(key):
                state_dict.setdefault(key, value.detach())
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing, unexpected, errors)
        if prefix + "embeddings" in state_dict:
            self._stale = False


class TunedClipClassifier(ClipClassifier):
    """``ClipClassifier`` whose LoRA weights train also in adapter mode, and whose seen classes' cosine scores
    are shifted down by ``gamma`` (calibrated stacking) before the logit scale: logits = scale · (cos - γ·seen).

    ``gamma`` is given (a fixed or pseudo-unseen calibration) or, with ``calibration_keep`` > 0, chosen on each
    validation pass (``clip.hooks``); 0 leaves the logits of ``ClipClassifier``."""

    def __init__(
        self,
        *args: Any,
        seen: list[int] | None = None,
        calibration_keep: float = 0.0,
        gamma: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.calibration_keep = calibration_keep
        for name, param in self.texts.named_parameters():
            if _is_lora(name):
                param.requires_grad_(True)
        num_classes = len(self.prompts)
        mask = torch.zeros(num_classes)
        mask[list(range(num_classes)) if seen is None else list(seen)] = 1.0
        self.register_buffer("seen_mask", mask, persistent=False)
        self.register_buffer("gamma", torch.tensor(float(gamma)))

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        cosine = self.signal_embedding(feats) @ self.text_embedding().T
        return self.logit_scale() * (cosine - self.gamma * self.seen_mask)

    def set_gamma(self, gamma: float) -> None:
        """γ in units of cosine similarity."""
        self.gamma.fill_(float(gamma))


def build(
    num_classes: int,
    encoder: str,
    encoder_kwargs: dict[str, Any],
    text: str,
    text_dim: int,
    prompts: list[list[str]],
    *,
    text_model: str = "",
    text_pooling: str = "mean",
    lora_r: int = 8,
    lora_alpha: float = 16.0,
    lora_dropout: float = 0.05,
    seen: list[int] | None = None,
    calibration_keep: float = 0.0,
    gamma: float = 0.0,
    text_embeddings: torch.Tensor | None = None,
    **model_kwargs: Any,
) -> TunedClipClassifier:
    """The model of ``faultcli.clip.builder.clip_tuned``; ``text`` = "frozen", "lstm" or "lora"."""
    if text == "lora":
        if len(prompts) != num_classes:
            raise ValueError(f"{len(prompts)} prompt lists for {num_classes} classes")
        texts: nn.Module = LoraTexts(
            prompts, text_model, text_dim, text_pooling, lora_r, lora_alpha, lora_dropout, text_embeddings
        )
    else:
        texts = class_texts(text, num_classes, text_dim, prompts, text_embeddings)
    return TunedClipClassifier(
        signal_encoder(encoder, {"num_classes": num_classes, **encoder_kwargs}),
        texts,
        text_dim,
        prompts=prompts,
        seen=seen,
        calibration_keep=calibration_keep,
        gamma=gamma,
        **model_kwargs,
    )
