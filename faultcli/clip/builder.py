"""The registered builder of the tuned vibration–text model (text LoRA, calibrated stacking). Registered when
``faultcli.clip`` is imported, so a checkpoint of it loads wherever models are built; the model's classes
(``faultcli.clip.tuned``) are imported only when one is built."""

from __future__ import annotations

from typing import Any

from faultcli.registry import lookup, register


@register("model", "clip_tuned")
def clip_tuned(
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
    text_model: str = "",
    text_pooling: str = "mean",
    lora_r: int = 8,
    lora_alpha: float = 16.0,
    lora_dropout: float = 0.05,
    seen: list[int] | None = None,
    calibration_keep: float = 0.0,
    gamma: float = 0.0,
    text_embeddings: Any = None,
) -> Any:
    """``clip_classifier`` plus ``text`` = "lora" (LoRA of rank ``lora_r`` on the transformer ``text_model``,
    trained with the model) and a shift ``gamma`` of the ``seen`` classes' cosine scores (calibrated stacking;
    chosen on validation when ``calibration_keep`` > 0)."""
    from faultcli.clip.tuned import build

    lookup("model", encoder)
    return build(
        num_classes,
        encoder,
        encoder_kwargs,
        text,
        text_dim,
        prompts,
        text_model=text_model,
        text_pooling=text_pooling,
        lora_r=lora_r,
        lora_alpha=lora_alpha,
        lora_dropout=lora_dropout,
        seen=seen,
        calibration_keep=calibration_keep,
        gamma=gamma,
        text_embeddings=text_embeddings,
        embed_dim=embed_dim,
        logit_scale=logit_scale,
        adapter_bottleneck=adapter_bottleneck,
        adapter_ratio=adapter_ratio,
        train_adapters_only=train_adapters_only,
    )
