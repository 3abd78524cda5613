"""Light ways to tune a vibration–text model: a residual adapter on features, LoRA on the text model.

``peft`` is imported inside ``add_lora``, so importing this module is cheap.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torch import nn

from faultcli.errors import ConfigError

# attention projections LoRA adapts, per family: (names that must all be present, as module name ends)
LORA_TARGETS: tuple[tuple[str, ...], ...] = (
    ("query", "value"),  # BERT, RoBERTa, MiniLM
    ("q_proj", "v_proj"),  # Qwen2, LLaMA, Mistral
    ("q_lin", "v_lin"),  # DistilBERT
    ("c_attn",),  # GPT-2 (one fused q, k, v projection)
)


class ResidualAdapter(nn.Module):
    """x + ratio · up(relu(down(x))), with ``up`` zero-initialised so it starts as the identity.

    A bottleneck adapter on frozen features in the manner of CLIP-Adapter (Gao et al. 2023); ``ratio``
    bounds how far it moves the features from the pretrained ones.
    """

    def __init__(self, dim: int, bottleneck: int = 64, ratio: float = 0.2) -> None:
        super().__init__()
        if dim < 1 or bottleneck < 1:
            raise ConfigError(f"adapter dim = {dim} and bottleneck = {bottleneck} must be at least 1")
        if not 0.0 < ratio <= 1.0:
            raise ConfigError(f"adapter ratio = {ratio} must lie in (0, 1]")
        self.ratio = ratio
        self.down = nn.Linear(dim, bottleneck)
        self.up = nn.Linear(bottleneck, dim)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.ratio * self.up(torch.relu(self.down(x)))


def lora_targets(model: nn.Module) -> list[str]:
    """The attention projections to adapt in ``model``: query / value (or the fused projection)."""
    ends = {name.rsplit(".", 1)[-1] for name, module in model.named_modules() if isinstance(module, nn.Linear)}
    ends |= {name.rsplit(".", 1)[-1] for name, module in model.named_modules() if type(module).__name__ == "Conv1D"}
    for names in LORA_TARGETS:
        if all(name in ends for name in names):
            return list(names)
    raise ConfigError(
        f"no known attention projection ({', '.join(n for names in LORA_TARGETS for n in names)}) in "
        f"{type(model).__name__}; name the layers to adapt with target_modules (its linear layers: "
        f"{', '.join(sorted(ends)[:12])})"
    )


def add_lora(
    text_model: nn.Module,
    r: int = 8,
    alpha: float = 16.0,
    dropout: float = 0.05,
    target_modules: Sequence[str] | None = None,
) -> nn.Module:
    """``text_model`` wrapped by peft with LoRA (Hu et al. 2022) on its attention projections.

    The base weights are frozen; only the low-rank matrices train. ``target_modules`` overrides the
    layers chosen by ``lora_targets``. Returns the peft model (it replaces ``TransformerTextEncoder.model``).
    """
    if r < 1:
        raise ConfigError(f"LoRA rank r = {r} must be at least 1")
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"LoRA dropout = {dropout} must lie in [0, 1)")
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise ConfigError("LoRA needs peft; install the clip extra (pip install 'faultcli[clip]')") from None
    targets = list(target_modules) if target_modules else lora_targets(text_model)
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets, bias="none")
    try:
        with warnings.catch_warnings():
            # peft asks transformers a deprecated question about gradient checkpointing; nothing to act on
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            return get_peft_model(text_model, config)
    except ValueError as err:
        first = str(err).splitlines()[0]
        raise ConfigError(f"LoRA target_modules {targets} do not fit {type(text_model).__name__} ({first})") from None


def count_trainable(module: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return trainable, total
