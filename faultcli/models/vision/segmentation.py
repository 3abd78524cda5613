"""Segmentation models from segmentation_models_pytorch (smp): any supported architecture × encoder.

``Segmenter`` wraps an smp model so it takes images of any size: it pads the input to what the
architecture needs (a multiple of 32, PAN at least 128 px a side) and crops the logits back.
Encoder weights: random by default (offline), a local file (``weights_path``), or smp's ImageNet
weights from the hub when ``pretrained`` is set and the machine is online.
"""

from __future__ import annotations

import difflib
import socket
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from faultcli.errors import ConfigError
from faultcli.registry import register

ARCHS = ("PAN", "Unet", "UnetPlusPlus", "FPN", "DeepLabV3Plus")
# PAN's feature pyramid attention pools the 1/16 map three more times: sides below 128 px vanish
MIN_SIDE = {"PAN": 128}
PAD_MULTIPLE = 32
HUB_HOST = "huggingface.co"  # where smp 0.5+ downloads encoder weights from


class Segmenter(nn.Module):
    """An smp model that accepts any (H, W): ``forward(x (B, C, H, W)) -> logits (B, K, H, W)``."""

    def __init__(self, net: nn.Module, arch: str, num_classes: int, in_channels: int) -> None:
        super().__init__()
        self.net = net
        self.arch, self.num_classes, self.in_channels = arch, num_classes, in_channels
        self.min_side = MIN_SIDE.get(arch, PAD_MULTIPLE)

    @property
    def encoder(self) -> nn.Module:
        return self.net.encoder

    def padded_size(self, height: int, width: int) -> tuple[int, int]:
        """The size the network actually sees for an input of ``height`` × ``width``."""

        def side(n: int) -> int:
            return max(-(-n // PAD_MULTIPLE) * PAD_MULTIPLE, self.min_side)

        return side(height), side(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        ph, pw = self.padded_size(height, width)
        if (ph, pw) == (height, width):
            return self.net(x)
        pad = (0, pw - width, 0, ph - height)
        # reflection keeps image statistics at the border; it needs the pad to be smaller than the side
        mode = "reflect" if pw - width < width and ph - height < height else "replicate"
        return self.net(F.pad(x, pad, mode=mode))[..., :height, :width]


def encoder_names() -> list[str]:
    import segmentation_models_pytorch as smp

    return list(smp.encoders.get_encoder_names())


def check_names(arch: str, encoder: str) -> None:
    """Unknown architecture or encoder → ConfigError with the closest valid names."""
    if arch not in ARCHS:
        close = difflib.get_close_matches(arch, ARCHS, n=3, cutoff=0.3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(
            f"segmentation.arch = {arch!r} is not an smp architecture{hint}; choose one of {', '.join(ARCHS)}"
        )
    if encoder.startswith("tu-"):
        import timm

        if not timm.is_model(encoder[3:].split(".")[0]):
            close = difflib.get_close_matches(encoder[3:], timm.list_models(), n=3)
            hint = f"did you mean {', '.join('tu-' + c for c in close)}?" if close else "see timm.list_models()"
            raise ConfigError(
                f"segmentation.encoder = {encoder!r} is not a timm model ({hint}); fix segmentation.encoder"
            )
        return
    names = encoder_names()
    if encoder not in names:
        close = difflib.get_close_matches(encoder, names, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else f"e.g. {', '.join(names[:4])}"
        raise ConfigError(
            f"segmentation.encoder = {encoder!r} is not an smp encoder ({hint}); "
            "any smp encoder name or 'tu-<timm model>' works"
        )


def _online(host: str = HUB_HOST, timeout: float = 3.0) -> bool:
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def _strip_prefix(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Accept a bare encoder state dict, or a whole smp / Segmenter / checkpoint one."""
    for key in ("state_dict", "model"):
        if key in state and isinstance(state[key], dict):
            state = state[key]
    for prefix in ("net.encoder.", "encoder."):
        if any(k.startswith(prefix) for k in state):
            return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    return dict(state)


def load_encoder_weights(encoder: nn.Module, path: Path, in_channels: int) -> None:
    """Load a local weights file into ``encoder``; a 3-channel first conv is summed for gray input."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"model.weights_path = {path} not found; pass an existing .pt/.pth encoder weights file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickled code, truncated file, not a torch file
        raise ConfigError(
            f"model.weights_path = {path} cannot be loaded as plain tensors ({type(err).__name__}); "
            "save it with torch.save(encoder.state_dict(), path)"
        ) from None
    if not isinstance(state, dict):
        raise ConfigError(f"model.weights_path = {path} holds no state dict; save encoder.state_dict()")
    state = _strip_prefix(state)
    own = encoder.state_dict()
    for key, value in state.items():
        target = own.get(key)
        if (
            target is not None
            and value.dim() == 4
            and target.dim() == 4
            and value.shape[1] != target.shape[1]
            and value.shape[0] == target.shape[0]
            and value.shape[2:] == target.shape[2:]
            and in_channels == 1
        ):
            state[key] = value.sum(dim=1, keepdim=True)  # as smp does for gray input
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        detail = "; ".join(
            f"{name} {', '.join(keys[:2])}{'…' if len(keys) > 2 else ''}"
            for name, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
            if keys
        )
        raise ConfigError(
            f"model.weights_path = {path} does not fit this encoder ({detail}); "
            "pass weights saved from the same segmentation.encoder"
        )
    encoder.load_state_dict(state)


@register("model", "smp_segmenter")
def smp_segmenter(
    arch: str = "PAN",
    encoder: str = "efficientnet-b3",
    num_classes: int = 1,
    in_channels: int = 3,
    weights_path: str = "",
    pretrained: bool = False,
    bn_momentum: float = 0.1,
) -> Segmenter:
    """An smp ``arch`` with ``encoder``, ``num_classes`` mask channels and ``in_channels`` input channels.

    Encoder weights: ``weights_path`` (local file) if given, else smp's ImageNet weights if
    ``pretrained`` (needs the network), else random initialisation. ``bn_momentum`` (torch's 0.1 by
    default; 0 keeps each encoder's own) is set on every BatchNorm layer.
    """
    import segmentation_models_pytorch as smp

    check_names(arch, encoder)
    hub = pretrained and not weights_path
    if hub and not _online():
        raise ConfigError(
            f"model.pretrained = true but {HUB_HOST} is unreachable (offline); set model.weights_path "
            "to a local encoder weights file, or model.pretrained = false for random initialisation"
        )
    weights = (True if encoder.startswith("tu-") else "imagenet") if hub else None
    try:
        net = getattr(smp, arch)(
            encoder_name=encoder, encoder_weights=weights, in_channels=in_channels, classes=num_classes
        )
    except (KeyError, ValueError) as err:
        raise ConfigError(
            f"smp cannot build {arch} with encoder {encoder!r} ({str(err).splitlines()[0][:160]}); "
            "choose another segmentation.encoder or segmentation.arch"
        ) from None
    except OSError as err:  # download failures: the hub answered but the weights did not arrive
        raise ConfigError(
            f"downloading ImageNet weights for {encoder!r} failed ({type(err).__name__}); "
            "set model.weights_path to a local file or model.pretrained = false"
        ) from None
    if weights_path:
        load_encoder_weights(net.encoder, Path(weights_path), in_channels)
    if bn_momentum > 0:
        set_bn_momentum(net, bn_momentum)
    return Segmenter(net, arch, num_classes, in_channels)


def set_bn_momentum(module: nn.Module, momentum: float) -> None:
    """Set every BatchNorm's running-statistics momentum.

    smp's EfficientNet keeps TensorFlow's 0.01, whose running statistics need thousands of steps to
    settle; in a CPU budget of a few hundred steps, eval-mode outputs then lag far behind training.
    """
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.momentum = momentum


def describe_weights(weights_path: str, pretrained: bool) -> str:
    """One line for the run log: where the encoder's starting weights come from."""
    if weights_path:
        return f"encoder weights from {weights_path}"
    if pretrained:
        return "encoder weights: smp ImageNet (downloaded)"
    return "encoder weights: random initialisation (model.pretrained = false; offline default)"
