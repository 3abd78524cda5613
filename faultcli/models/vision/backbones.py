"""timm backbones by name, with weights from a local file or (online only) from the hub.

A backbone is a timm model built with ``num_classes=0``: ``forward`` returns pooled features
(B, ``num_features``). Pretrained weights never fall back silently to a random init: a missing file,
a file that does not fit, or ``pretrained = true`` without a file while offline is a one-line error.
"""

from __future__ import annotations

import difflib
import os
import socket
from pathlib import Path

import torch
from torch import nn

from faultcli.errors import ConfigError

HUB_HOST = ("huggingface.co", 443)
# keys of a classification head in a full-model state dict; a backbone built with num_classes=0 has none
HEAD_PREFIXES = ("fc.", "classifier.", "head.", "head_dist.", "last_linear.")


def check_backbone_name(name: str) -> None:
    """Unknown timm model names fail before compute, with the closest valid names."""
    import timm

    if timm.is_model(name):
        return
    close = difflib.get_close_matches(name, timm.list_models(), n=4, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "see timm.list_models() for valid names"
    raise ConfigError(f"image.backbone = {name!r} is not a timm model; {hint}")


def hub_reachable(timeout: float = 2.0) -> bool:
    """Whether the Hugging Face hub (timm's weight store) answers; HF_HUB_OFFLINE=1 means no."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    try:
        with socket.create_connection(HUB_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a .safetensors file, or of a .pt/.pth state dict (optionally under 'state_dict'/'model')."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"model.weights_path = {str(path)!r} does not exist; point it at a .pth, .pt or .safetensors file"
        )
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickled code, truncated files, other formats
        raise ConfigError(
            f"model.weights_path = {str(path)!r} is not a readable state dict "
            f"({type(err).__name__}); save it with torch.save(model.state_dict()) "
            "or as .safetensors"
        ) from None
    for key in ("state_dict", "model"):  # training checkpoints wrap the weights
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConfigError(
            f"model.weights_path = {str(path)!r} holds no state dict of tensors; "
            "save it with torch.save(model.state_dict())"
        )
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_backbone_weights(model: nn.Module, path: Path) -> None:
    """Load a local weights file into a timm backbone; RGB stem weights are adapted to 1-channel input."""
    from timm.models import adapt_input_conv

    state = {k: v for k, v in read_state_dict(path).items() if not k.startswith(HEAD_PREFIXES)}
    own = model.state_dict()
    first_conv = getattr(model, "pretrained_cfg", {}).get("first_conv")
    stem = f"{first_conv}.weight" if isinstance(first_conv, str) else None
    if stem in state and stem in own and state[stem].shape[1] != own[stem].shape[1]:
        # e.g. ImageNet RGB weights for grayscale steel images: timm sums/repeats the input channels
        state[stem] = adapt_input_conv(own[stem].shape[1], state[stem], base_chans=state[stem].shape[1])
    bad = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    missing = [k for k in own if k not in state]
    if bad or missing:
        what = (
            f"{bad[0]} is {tuple(state[bad[0]].shape)}, the model needs {tuple(own[bad[0]].shape)}"
            if bad
            else f"{len(missing)} tensor(s) missing, e.g. {missing[0]}"
        )
        raise ConfigError(
            f"model.weights_path = {str(path)!r} does not fit backbone "
            f"{getattr(model, 'pretrained_cfg', {}).get('architecture', type(model).__name__)} "
            f"({what}); use weights saved from the same image.backbone"
        )
    model.load_state_dict({k: v for k, v in state.items() if k in own})


def check_weights_source(name: str, pretrained: bool, weights_path: str) -> None:
    """Fail before compute: a weights file that is missing, or ``pretrained`` offline with no file."""
    if weights_path:
        if not Path(weights_path).is_file():
            raise ConfigError(
                f"model.weights_path = {weights_path!r} does not exist; point it at a .pth, .pt or .safetensors file"
            )
    elif pretrained and not hub_reachable():
        raise ConfigError(
            f"model.pretrained = true but the hub is unreachable (offline) and model.weights_path "
            f"is empty; set model.weights_path to a local {name} weights file, "
            "or model.pretrained = false to train from random init"
        )


def create_backbone(name: str, in_chans: int = 3, pretrained: bool = False, weights_path: str = "") -> nn.Module:
    """A timm feature extractor (``num_classes=0``) with ``num_features`` pooled outputs.

    ``weights_path`` wins over ``pretrained``; ``pretrained`` alone downloads from the hub only when it
    is reachable, otherwise raises ``ConfigError``.
    """
    import timm

    check_backbone_name(name)
    check_weights_source(name, pretrained, weights_path)
    if pretrained and not weights_path:
        try:
            return timm.create_model(name, pretrained=True, num_classes=0, in_chans=in_chans)
        except Exception as err:  # no pretrained tag, network failure mid-download
            raise ConfigError(
                f"downloading pretrained {name} weights failed ({type(err).__name__}: "
                f"{str(err).splitlines()[0][:120] if str(err) else ''}); set model.weights_path "
                "to a local file or model.pretrained = false"
            ) from None
    model = timm.create_model(name, pretrained=False, num_classes=0, in_chans=in_chans)
    if weights_path:
        load_backbone_weights(model, Path(weights_path))
    return model
