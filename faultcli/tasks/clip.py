"""Task clip: vibration windows and class descriptions in one space (the classification flow with
prompts for a head). Zero-shot recipes hold classes out of training and report ZSL / generalised figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from faultcli.config import Config
from faultcli.errors import ConfigError
from faultcli.registry import register
from faultcli.runs import atomic_write_text
from faultcli.tasks.classification import ClassificationTask

ZERO_SHOT = ("zsl_accuracy", "gzsl_seen_accuracy", "gzsl_unseen_accuracy", "gzsl_h")


class ClipTask(ClassificationTask):
    def check(self, cfg: Config) -> None:
        from faultcli.clip.data import check_clip
        from faultcli.clip.prompts import check_template

        super().check(cfg)
        if cfg.model.name in ("clip_classifier", "clip_tuned"):
            raise ConfigError("model.name names the signal encoder of task clip (e.g. wdcnn, multimodal_small)")
        check_clip(cfg)
        if cfg.vibration.wide_bands:
            raise ConfigError(
                "vibration.wide_bands is a read-out of its own; task clip reads features only: set it to 0"
            )
        for template in cfg.clip.templates:
            check_template(template)
        ignored = [key for key, value, default in self._classifier_settings(cfg) if value != default]
        if ignored:
            raise ConfigError(
                f"{', '.join(ignored)}: task clip trains with its contrastive loss and reads none of these; remove them"
            )
        if cfg.data.classes:  # before any data is read; otherwise checked against the classes found
            from faultcli.clip.data import seen_classes

            seen_classes(cfg, list(cfg.data.classes))
        if cfg.clip.mode == "adapter" and not cfg.train.init:
            raise ConfigError("clip.mode = 'adapter' tunes a trained model; set train.init to an align run folder")
        if cfg.clip.mode == "adapter" and not (cfg.clip.adapter_bottleneck or cfg.clip.text_lora):
            raise ConfigError(
                "clip.mode = 'adapter' with clip.adapter_bottleneck = 0 and no clip.text_lora trains nothing; "
                "give a width or set clip.text_lora = true"
            )

    @staticmethod
    def _classifier_settings(cfg: Config) -> list[tuple[str, Any, Any]]:
        """The plain classifier's loss settings, which the contrastive hooks do not read."""
        from faultcli.config.schema import TrainConfig, VibrationConfig

        train, vib = TrainConfig(), VibrationConfig()
        keys = [("train", k, train) for k in ("loss", "focal_gamma", "class_balance_beta", "label_smoothing")]
        keys += [("vibration", k, vib) for k in ("arcface_weight", "mixup_alpha")]
        return [(f"{section}.{k}", getattr(getattr(cfg, section), k), getattr(d, k)) for section, k, d in keys]

    def build_hooks(self, cfg: Config, data, device: torch.device):
        from faultcli.clip.hooks import ClipHooks

        return ClipHooks(len(data.classes), seen=data.seen, augment=data.augment, seed=cfg.seed)

    def describe(self, cfg: Config, data, spec, params: int, device) -> str:
        trainable = spec.kwargs.get("train_adapters_only")
        text = spec.kwargs.get("text_model", spec.kwargs.get("text"))
        unseen = f", unseen {', '.join(cfg.clip.unseen)}" if cfg.clip.unseen else ""
        return (
            f"signal encoder {spec.kwargs['encoder']}, text {text}, mode {cfg.clip.mode}"
            f"{' (adapters only)' if trainable else ''}: {params / 1e6:.2f} M parameters, {len(data.classes)} "
            f"classes{unseen}, {len(data.rows('train'))} train / {len(data.rows('val'))} val windows, device {device}"
        )

    def report_extras(self, cfg: Config, model, data, pred: dict, out: Path) -> dict[str, Any]:
        """The zero-shot figures, the class prompts and one t-SNE of window and class-text embeddings."""
        from faultcli.clip.zeroshot import zero_shot_figures

        extras: dict[str, Any] = zero_shot_figures(pred["logits"], pred["y"], data.seen)
        prompts = dict(zip(data.classes, model.prompts, strict=True))
        atomic_write_text(out / "prompts.json", json.dumps(prompts, indent=2, ensure_ascii=False))
        if len(pred["y"]) >= 10:
            extras["tsne_signal_text"] = signal_text_tsne(model, pred, data, cfg, out).name
        return extras

    def summary(self, cfg: Config, data, test: dict[str, Any], fitted: dict[str, Any]) -> dict:
        out = super().summary(cfg, data, test, fitted)
        out.update({f"test_{k}": test[k] for k in ZERO_SHOT if k in test})
        out["unseen"] = list(cfg.clip.unseen)
        return out


def signal_text_tsne(model, pred: dict, data, cfg: Config, out: Path) -> Path:
    """One t-SNE of the windows' and the class texts' embeddings in the shared space (texts as stars)."""
    import numpy as np
    from sklearn.manifold import TSNE

    from faultcli import plots

    rng = np.random.default_rng(cfg.seed)
    pick = np.sort(rng.choice(len(pred["y"]), min(cfg.eval.tsne_max_points, len(pred["y"])), replace=False))
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        signals = model.signal_embedding(torch.from_numpy(pred["features"][pick]).to(device)).cpu().numpy()
        texts = model.text_embedding().cpu().numpy()
    joint = np.concatenate([signals, texts])
    perplexity = float(min(30, max(2, (len(joint) - 1) // 3)))
    points = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=cfg.seed).fit_transform(joint)
    title = "t-SNE of window (dots) and class-text (stars) embeddings"
    return plots.embedding_png(
        points[: len(pick)], pred["y"][pick], data.classes, out / "tsne_signal_text.png", title, points[len(pick) :]
    )


@register("task", "clip")
def clip_task() -> ClipTask:
    """Vibration–text alignment: classes recognised by their descriptions (closed set and zero-shot)."""
    from faultcli.classification.hooks import ClassificationHooks
    from faultcli.classification.vibration import check_settings
    from faultcli.clip.data import clip_data

    return ClipTask("clip", clip_data, ClassificationHooks, {"name"}, check_settings)
