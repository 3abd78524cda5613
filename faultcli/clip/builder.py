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
    **kwargs: Any,
) -> Any:
    """``clip_classifier`` plus ``text`` = "lora" (LoRA of rank ``lora_r`` on the transformer ``text_model``,
    trained with the model) and a shift ``gamma`` of the ``seen`` classes' cosine scores (calibrated stacking;
    chosen on validation when ``calibration_keep`` > 0). ``kwargs``: those of ``faultcli.clip.tuned.build``."""
    from faultcli.clip.tuned import build

    lookup("model", encoder)
    return build(num_classes, encoder, encoder_kwargs, text, text_dim, prompts, **kwargs)
