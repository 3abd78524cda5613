"""Parameter groups: discriminative learning rates by parameter-name prefix, and the hooks' parts."""

from __future__ import annotations

from typing import Any

from torch import nn

from faultcli.errors import ConfigError


def parameter_groups(
    model: nn.Module, parts: dict[str, nn.Module], lr: float, scales: dict[str, float]
) -> list[dict[str, Any]]:
    """AdamW groups: parameters whose name starts with a key of ``scales`` train at ``lr × scale`` (a
    pretrained encoder slower than a new head; 0 freezes it); the rest, and the hooks' parts, at ``lr``.

    The longest matching prefix wins. Without scales and parts there is one group, as plain
    ``model.parameters()`` gives."""
    named = list(model.named_parameters())
    for prefix in scales:
        if not any(name.startswith(prefix) for name, _ in named):
            tops = sorted({name.split(".")[0] for name, _ in named})
            raise ConfigError(
                f"train.lr_scale names {prefix!r}, which matches no parameter of the model; "
                f"use a parameter-name prefix such as {', '.join(tops[:8])}"
            )
    buckets: dict[float, list[nn.Parameter]] = {}
    for name, param in named:
        match = max((p for p in scales if name.startswith(p)), key=len, default=None)
        scale = 1.0 if match is None else float(scales[match])
        if scale == 0.0:
            param.requires_grad_(False)
            continue
        buckets.setdefault(scale, []).append(param)
    groups = [{"params": params, "lr": lr * scale} for scale, params in buckets.items()]
    extra = [p for part in parts.values() for p in part.parameters()]
    if extra:
        groups.append({"params": extra, "lr": lr})
    return groups
