"""The vibration–text model's data: the recipe's windows, the class prompts, the text side, the seen classes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from faultcli.classification.data import ClassificationData
from faultcli.config.schema import Config
from faultcli.errors import ConfigError
from faultcli.progress import Reporter


@dataclasses.dataclass
class ClipData(ClassificationData):
    """Classification data whose train and val splits hold only the seen classes' windows."""

    seen: list[int] = dataclasses.field(default_factory=list)

    def rows(self, split: str) -> np.ndarray:
        rows = super().rows(split)
        if split in ("train", "val") and len(self.seen) < len(self.classes):
            rows = rows[np.isin(self.labels(rows), self.seen)]
        return rows


def recipe_prompts(cfg: Config, classes: list[str], notes: list[str]) -> dict[str, list[str]]:
    """Class → prompts: the prompt file's lines (when given) after the templates' sentences."""
    from faultcli.clip.prompts import class_prompts, read_prompt_file

    c = cfg.clip
    prompts = class_prompts(classes, c.templates, notes=notes) if c.templates else {k: [] for k in classes}
    if c.prompt_file:
        for name, texts in read_prompt_file(Path(c.prompt_file), classes).items():
            prompts[name] += [t for t in texts if t not in prompts[name]]
    empty = [k for k, texts in prompts.items() if not texts]
    if empty:
        raise ConfigError(
            f"class(es) {', '.join(empty)} have no prompt; add them to clip.prompt_file or set clip.templates"
        )
    return prompts


def check_clip(cfg: Config) -> None:
    """Cross-key checks of the clip section that no data is needed for."""
    c = cfg.clip
    if c.text_lora and c.text_model == "lstm":
        raise ConfigError(
            "clip.text_lora tunes a pretrained transformer text encoder; the LSTM trains whole: "
            "set clip.text_lora = false or clip.text_model to a transformers folder"
        )
    if c.text_lora and cfg.train.ema_epochs:
        raise ConfigError(
            "clip.text_lora with train.ema_epochs: the averaged copy's class texts would not follow its averaged "
            "LoRA weights; set train.ema_epochs = 0"
        )
    if c.calibration != "none" and not c.unseen:
        raise ConfigError(
            f"clip.calibration = {c.calibration!r} shifts seen against unseen classes; "
            "name the unseen classes in clip.unseen or set clip.calibration = 'none'"
        )


def text_side(cfg: Config, prompts: dict[str, list[str]], reporter: Reporter) -> tuple[dict[str, Any], dict[str, Any]]:
    """The builder arguments of the text side (saved) and the frozen class embeddings (initialisation only)."""
    c = cfg.clip
    if c.text_model == "lstm":
        return {"text": "lstm", "text_dim": c.lstm_dim}, {}
    from faultcli.clip.text import PromptBank, TransformerTextEncoder, default_text_model

    source = c.text_model or default_text_model()
    encoder = TransformerTextEncoder(source, pooling=c.text_pooling)
    for note in encoder.notes:
        reporter.info(note)
    bank = PromptBank(prompts, encoder)  # the frozen encoder reads each distinct prompt once
    embeddings = bank.embeddings().float()
    reporter.info(f"text encoder {source}: {len(bank.prompts)} prompts for {len(prompts)} classes, dim {bank.dim}")
    kwargs: dict[str, Any] = {"text": "frozen", "text_dim": int(bank.dim), "text_model": str(source)}
    if c.text_lora:  # the prompts are encoded again at every step; these rows are the starting point
        kwargs.update(
            text="lora",
            text_pooling=c.text_pooling,
            lora_r=c.lora_r,
            lora_alpha=c.lora_alpha,
            lora_dropout=c.lora_dropout,
        )
        reporter.info(f"text LoRA: rank {c.lora_r}, alpha {c.lora_alpha:g}, the class prompts encoded at every step")
    return kwargs, {"text_embeddings": embeddings}


def seen_classes(cfg: Config, classes: list[str]) -> list[int]:
    unknown = [k for k in cfg.clip.unseen if k not in classes]
    if unknown:
        raise ConfigError(
            f"clip.unseen names {', '.join(unknown)}, which the data does not hold (classes: {', '.join(classes)})"
        )
    seen = [i for i, k in enumerate(classes) if k not in cfg.clip.unseen]
    if len(seen) < 2:
        raise ConfigError("clip.unseen leaves fewer than two classes to train on; hold out fewer classes")
    return seen


def clip_data(cfg: Config, reporter: Reporter, data_info: dict[str, Any] | None = None) -> ClipData:
    """The recipe's windows with the class prompts and the model's builder arguments."""
    from faultcli.classification.vibration import vibration_data
    from faultcli.clip.hooks import ClipHooks

    check_clip(cfg)
    base = vibration_data(cfg, reporter, data_info)
    classes = list(base.classes)
    c = cfg.clip
    seen = seen_classes(cfg, classes)
    notes: list[str] = []
    # evaluating a checkpoint: its model holds the class texts
    prompts = {} if data_info else recipe_prompts(cfg, classes, notes)
    for note in notes:
        reporter.info(note)
    text_kwargs, init = ({}, {}) if data_info else text_side(cfg, prompts, reporter)
    encoder_kwargs = {k: v for k, v in base.model_kwargs.items() if k != "num_classes"}
    kwargs = {
        "num_classes": len(classes),
        "encoder": base.model_name,
        "encoder_kwargs": encoder_kwargs,
        "prompts": [prompts.get(k, []) for k in classes],
        "embed_dim": c.embed_dim,
        "logit_scale": c.logit_scale,
        "adapter_bottleneck": c.adapter_bottleneck if c.mode == "adapter" else 0,
        "adapter_ratio": c.adapter_ratio,
        "train_adapters_only": c.mode == "adapter",
        **text_kwargs,
    }
    # text LoRA and calibrated stacking need the tuned model; other runs keep the plain one
    tuned = c.text_lora or c.calibration != "none"
    if c.calibration == "pseudo-unseen" and not data_info:
        raise ConfigError(
            "clip.calibration = 'pseudo-unseen' trains a calibration model before the model: run it with "
            "faultcli clip train"
        )
    if tuned:
        kwargs.update(
            seen=seen,
            calibration_keep=c.calibration_keep if c.calibration == "stacking" else 0.0,
            gamma=c.calibration_gamma if c.calibration == "fixed" else 0.0,
        )
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(ClassificationData)}
    fields.update(
        model_name="clip_tuned" if tuned else "clip_classifier",
        model_kwargs=kwargs,
        hooks=ClipHooks,
        hooks_kwargs={"seen": seen},
        init_kwargs={**base.init_kwargs, **init},
    )
    return ClipData(**fields, seen=seen)
