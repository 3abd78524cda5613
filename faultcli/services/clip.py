"""`faultcli clip eval` with new class descriptions: the checkpoint's text encoder reads the new prompts and
their embeddings replace the class texts; the signal side is unchanged, so no training is needed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from faultcli.config import Config
from faultcli.errors import CheckpointError, ConfigError
from faultcli.progress import Reporter


def parse_prompts(lines: list[str], where: str = "--prompt") -> dict[str, list[str]]:
    """'class: prompt' lines → class → prompts, classes in the order they first appear."""
    prompts: dict[str, list[str]] = {}
    for line in lines:
        name, colon, text = line.partition(":")
        name, text = name.strip(), text.strip()
        if not colon or not name or not text:
            raise ConfigError(f"{where} {line!r} is not 'class: prompt'; write the class, a colon, the prompt")
        prompts.setdefault(name, [])
        if text not in prompts[name]:
            prompts[name].append(text)
    return prompts


def read_prompts(lines: list[str], file: Path | None) -> dict[str, list[str]]:
    """Prompts from --prompt options and a prompt file (its format: see clip.prompts.read_prompt_file)."""
    prompts = parse_prompts(lines)
    if file is not None:
        from faultcli.clip.prompts import read_prompt_file

        try:
            text = Path(file).read_text(encoding="utf-8").splitlines()
        except OSError:
            raise ConfigError(f"prompt file {file} does not exist or cannot be read; fix the path") from None
        names = list(dict.fromkeys(line.partition(":")[0].strip() for line in text if line.strip()[:1] != "#"))
        for name, texts in read_prompt_file(file, [n for n in names if n]).items():
            prompts.setdefault(name, []).extend(t for t in texts if t not in prompts.get(name, []))
    return prompts


def reprompt(state: dict[str, Any], prompts: dict[str, list[str]], cfg: Config, reporter: Reporter) -> dict[str, Any]:
    """The checkpoint with ``prompts``' classes (in their order) and their text embeddings."""
    from faultcli.clip.text import PromptBank, TransformerTextEncoder

    kwargs = state["model_kwargs"]
    if state.get("task") != "clip":
        raise CheckpointError(f"the checkpoint is a {state.get('task')} checkpoint; clip eval needs a clip one")
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
