"""`faultcli clip train | eval`: training through the one fit flow, with the tuned model's figures (text LoRA,
calibrated stacking) added to the summary; evaluation with new class descriptions (the checkpoint's text
encoder, LoRA included, reads the new prompts and their embeddings replace the class texts; the signal side
is unchanged, so no training is needed) or without the calibrated-stacking shift."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from faultcli.config import Config
from faultcli.errors import CheckpointError, ConfigError
from faultcli.progress import Reporter
from faultcli.runs import Run


def train_clip(cfg: Config, run: Run, reporter: Reporter, resume: Path | None = None) -> dict[str, Any]:
    """``services.fit.fit``, then the tuned model's figures in the summary (``tuned_figures``). With
    clip.calibration = 'pseudo-unseen' a calibration model is trained first (``pseudo_unseen_gamma``) and the
    model is trained with its γ fixed."""
    from faultcli.services.fit import fit

    calibration: dict[str, Any] = {}
    if cfg.clip.calibration == "pseudo-unseen" and resume is None:
        cfg, calibration = pseudo_unseen_gamma(cfg, run, reporter)
    summary = {**fit(cfg, run, reporter, resume), **calibration}
    if calibration:
        run.write_summary(summary)
    best = run.path / "checkpoints" / "best.pt"
    if best.is_file() and "folds" not in summary:
        from faultcli.engine.checkpoints import load_checkpoint
        from faultcli.engine.strategy import current

        extra = tuned_figures(load_checkpoint(best))
        if extra and current().is_main:
            summary = {**summary, **extra}
            run.write_summary(summary)
    return summary


def pseudo_unseen_gamma(cfg: Config, run: Run, reporter: Reporter) -> tuple[Config, dict[str, Any]]:
    """The classic protocol of calibrated stacking: train a calibration model (in ``<run>/calibration``)
    without some seen classes, which play unseen (``clip.zeroshot.pseudo_unseen``); on the validation windows
    of every seen class, the γ (in cosine units) of its highest harmonic mean between the pseudo-seen and the
    pseudo-unseen classes (``best_h_gamma``). Only seen classes' windows are read. Returns the config of the
    model to train (calibration = 'fixed' with that γ) and the summary's calibration figures."""
    import dataclasses
    import time

    import numpy as np
    import torch

    from faultcli.classification.data import ClassificationData
    from faultcli.classification.report import predict_rows
    from faultcli.clip.data import clip_data
    from faultcli.clip.zeroshot import best_h_gamma, pseudo_unseen
    from faultcli.engine.checkpoints import load_checkpoint
    from faultcli.progress import LogReporter
    from faultcli.services.common import load_trained_model, pick_device, start_run
    from faultcli.services.fit import fit

    started = time.perf_counter()
    log = LogReporter(reporter, run.logger)  # the calibration's lines in the run's own log too
    plain = dataclasses.replace(cfg, clip=dataclasses.replace(cfg.clip, calibration="none"))
    classes = list(clip_data(plain, reporter).classes)
    seen = [k for k in classes if k not in cfg.clip.unseen]
    held = pseudo_unseen(seen, len(cfg.clip.unseen), len(classes), cfg.seed)
    log.info(f"calibration model: trained without {', '.join(held)} (pseudo-unseen) besides the unseen classes")
    clip = dataclasses.replace(cfg.clip, unseen=[*cfg.clip.unseen, *held], calibration="none")
    sub_cfg = dataclasses.replace(cfg, clip=clip)
    with start_run("clip", sub_cfg, None, run.path / "calibration") as sub_run:
        fit(sub_cfg, sub_run, reporter)
    state = load_checkpoint(sub_run.path / "checkpoints" / "best.pt")
    device = pick_device(cfg.train.device)
    model = load_trained_model(state, device)
    data = clip_data(sub_cfg, reporter, state.get("data_info"))
    rows = ClassificationData.rows(data, "val")  # every class's validation windows: unseen ones have none
    columns = [classes.index(k) for k in seen]
    rows = rows[np.isin(data.labels(rows), columns)]
    pred = predict_rows(model, data, rows, cfg.eval.batch_size, device, reporter)
    with torch.no_grad():
        scale = float(model.logit_scale())
    scores = pred["logits"][:, columns] / scale  # cosine similarities among the seen classes' prompts
    local = np.searchsorted(columns, pred["y"])
    gamma, h = best_h_gamma(scores, local, [i for i, k in enumerate(seen) if k not in held])
    log.info(
        f"calibrated stacking: γ = {gamma:.4f} (cosine), harmonic mean {h:.2%} on the pseudo-unseen "
        f"{', '.join(held)} over {len(rows)} validation windows of seen classes"
    )
    fixed = dataclasses.replace(cfg.clip, calibration="fixed", calibration_gamma=gamma)
    figures = {
        "calibration_pseudo_unseen": held,
        "calibration_val_h": h,
        "calibration_seconds": time.perf_counter() - started,
    }
    return dataclasses.replace(cfg, clip=fixed), figures


def tuned_figures(state: dict[str, Any]) -> dict[str, Any]:
    """γ of calibrated stacking and the parameter counts of text LoRA, when the checkpoint's model has them."""
    weights, kwargs = state["model"], state.get("model_kwargs", {})
    out: dict[str, Any] = {}
    if kwargs.get("calibration_keep") or kwargs.get("gamma"):
        out["gzsl_gamma"] = float(weights["gamma"])  # in units of cosine similarity
    if kwargs.get("calibration_keep"):
        out["calibration_keep"] = float(kwargs["calibration_keep"])
    if kwargs.get("text") == "lora":
        out["text_lora_params"] = int(sum(v.numel() for k, v in weights.items() if "lora_" in k))
        out["text_encoder_params"] = int(weights["texts.base_check"][1])  # its base weights, frozen
    return out


def read_prompts(lines: list[str], file: Path | None) -> dict[str, list[str]]:
    """Class → prompts from ``--prompt`` options and a prompt file (clip.prompts.read_prompt_file's format);
    the classes are the ones they name, in the order they first appear."""
    from faultcli.clip.prompts import parse_prompt_lines, read_prompt_file

    prompts = parse_prompt_lines([("--prompt", line) for line in lines])
    for name, texts in (read_prompt_file(file) if file is not None else {}).items():
        prompts.setdefault(name, []).extend(t for t in texts if t not in prompts[name])
    return prompts


def clip_eval_config(
    checkpoint: Path,
    prompts: list[str],
    prompt_file: Path | None,
    recipe: Path | None,
    overrides: list[str] | None,
    reporter: Reporter,
) -> tuple[dict[str, Any], Config]:
    """A clip checkpoint (its classes described anew when prompts are given) and its evaluation config."""
    from faultcli.services.common import resolve_config
    from faultcli.services.evaluate import load_checkpoint_or_run, state_config

    state = load_checkpoint_or_run(checkpoint)
    if state.get("task") != "clip":
        raise CheckpointError(f"{checkpoint} is a {state.get('task')} checkpoint; clip eval needs a clip run")
    if prompts or prompt_file:
        base = resolve_config(None, [], base=dict(state["config"]))
        state = reprompt(state, read_prompts(prompts, prompt_file), base, reporter)
    cfg = state_config(state, recipe, overrides)
    return with_calibration(state, cfg, reporter), cfg


def with_calibration(state: dict[str, Any], cfg: Config, reporter: Reporter) -> dict[str, Any]:
    """The checkpoint without its calibrated-stacking shift when the config says clip.calibration = 'none'."""
    gamma = state["model"].get("gamma")
    if cfg.clip.calibration == "stacking" and gamma is None:
        raise ConfigError(
            "this run was trained without calibration (γ is chosen on validation during training); "
            "drop --set clip.calibration=stacking or train with it"
        )
    if cfg.clip.calibration == "none" and gamma is not None and float(gamma) != 0.0:
        reporter.info(f"calibrated stacking off: the seen classes' shift γ = {float(gamma):.4f} is not applied")
        return {**state, "model": {**state["model"], "gamma": gamma * 0}}
    return state


def reprompt(state: dict[str, Any], prompts: dict[str, list[str]], cfg: Config, reporter: Reporter) -> dict[str, Any]:
    """The checkpoint with ``prompts``' classes (in their order) and their text embeddings."""
    from faultcli.clip.text import PromptBank, TransformerTextEncoder

    kwargs = state["model_kwargs"]
    if kwargs.get("text") not in ("frozen", "lora"):
        raise ConfigError(
            "this model's text encoder is an LSTM trained on its own prompts; new descriptions need a "
            "pretrained text encoder (train with clip.text_model = a transformers folder, the default)"
        )
    new_kwargs = {**kwargs, "num_classes": len(prompts), "prompts": list(prompts.values())}
    if "seen" in kwargs:  # classes trained on stay seen (shifted by γ); new ones are unseen
        trained = [state["classes"][i] for i in kwargs["seen"]]
        new_kwargs["seen"] = [i for i, name in enumerate(prompts) if name in trained]
    if kwargs["text"] == "lora":
        embeddings = lora_embeddings(state, new_kwargs)
    else:
        encoder = TransformerTextEncoder(kwargs["text_model"], pooling=cfg.clip.text_pooling)
        embeddings = PromptBank(prompts, encoder).embeddings().float()
    reporter.info(f"{len(prompts)} classes described anew by {sum(map(len, prompts.values()))} prompt(s)")
    out = copy.copy(state)
    out["classes"] = list(prompts)
    out["model_kwargs"] = new_kwargs
    out["model"] = {**state["model"], "texts.embeddings": embeddings}
    out["config"] = copy.deepcopy(state["config"])
    clip = out["config"].setdefault("clip", {})
    clip["unseen"] = [k for k in clip.get("unseen", []) if k in prompts]
    clip["templates"], clip["prompt_file"] = [], ""
    return out


def lora_embeddings(state: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    """The class embeddings of ``kwargs``' prompts by the checkpoint's text encoder with its LoRA weights."""
    from faultcli.services.common import build_model

    model = build_model(state["model_name"], kwargs)
    weights = {k: v for k, v in state["model"].items() if k.startswith("texts.") and k != "texts.embeddings"}
    model.load_state_dict(weights, strict=False)
    model.texts.refresh()
    return model.texts.embeddings.detach().clone()
