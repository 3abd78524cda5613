"""`faultcli clip eval` with new class descriptions: the checkpoint's text encoder reads the new prompts and
their embeddings replace the class texts; the signal side is unchanged, so no training is needed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from faultcli.config import Config
from faultcli.errors import CheckpointError, ConfigError
from faultcli.progress import Reporter


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
    return state, state_config(state, recipe, overrides)


def reprompt(state: dict[str, Any], prompts: dict[str, list[str]], cfg: Config, reporter: Reporter) -> dict[str, Any]:
    """The checkpoint with ``prompts``' classes (in their order) and their text embeddings."""
    from faultcli.clip.text import PromptBank, TransformerTextEncoder

    kwargs = state["model_kwargs"]
    if kwargs.get("text") != "frozen":
        raise ConfigError(
            "this model's text encoder is an LSTM trained on its own prompts; new descriptions need a "
            "pretrained text encoder (train with clip.text_model = a transformers folder, the default)"
        )
    encoder = TransformerTextEncoder(kwargs["text_model"], pooling=cfg.clip.text_pooling)
    embeddings = PromptBank(prompts, encoder).embeddings().float()
    reporter.info(f"{len(prompts)} classes described anew by {sum(map(len, prompts.values()))} prompt(s)")
    out = copy.copy(state)
    out["classes"] = list(prompts)
    out["model_kwargs"] = {**kwargs, "num_classes": len(prompts), "prompts": list(prompts.values())}
    out["model"] = {**state["model"], "texts.embeddings": embeddings}
    out["config"] = copy.deepcopy(state["config"])
    clip = out["config"].setdefault("clip", {})
    clip["unseen"] = [k for k in clip.get("unseen", []) if k in prompts]
    clip["templates"], clip["prompt_file"] = [], ""
    return out
