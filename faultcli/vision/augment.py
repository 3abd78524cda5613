"""Batched, seeded image augmentation that moves masks and edge maps with their images.

Flips, rotation and random resized crop are composed into one affine map per sample and applied with
a single ``grid_sample``, so image, mask and edge map stay aligned to the pixel. Brightness / contrast
touch the image only. Random numbers come from a ``torch.Generator`` (drawn on its device, CPU by default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F

from faultcli.engine.schedules import stage_at
from faultcli.errors import ConfigError

Tensor = torch.Tensor
# (x, mask or None, edge or None, epoch, generator) -> (x, mask, edge); runs on the batch's device
ImageStageAugment = Callable[
    [Tensor, Tensor | None, Tensor | None, int, torch.Generator], tuple[Tensor, Tensor | None, Tensor | None]
]

# Aspect-ratio range of random resized crops (torchvision's default).
CROP_RATIO = (3 / 4, 4 / 3)


@dataclass(frozen=True)
class ImageAugment:
    """One stage of image augmentation; amounts are maxima drawn per sample."""

    flip: bool = False  # random horizontal and vertical flips
    rotate: float = 0.0  # max rotation, degrees (±)
    brightness: float = 0.0  # brightness and contrast jitter ±
    resized_crop: float = 0.0  # min area kept by a random crop resized back (0 = off)
    prob: float = 0.5  # chance that each augmentation touches a given sample

    @classmethod
    def of(cls, stage: Any) -> ImageAugment:
        """Pick this class's fields from a mapping or any object with same-named attributes."""
        get = stage.get if isinstance(stage, Mapping) else lambda k, d: getattr(stage, k, d)
        return cls(**{f.name: get(f.name, f.default) for f in fields(cls)})


def _rand(n: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    dev = generator.device if generator is not None else torch.device("cpu")
    return torch.rand(n, generator=generator, device=dev).to(device)


def _affine(
    b: int,
    h: int,
    w: int,
    *,
    flip: bool,
    rotate: float,
    resized_crop: float,
    prob: float,
    generator: torch.Generator | None,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample affine maps output → input in grid_sample's normalised coordinates (B, 2, 3),
    and which samples have any geometric change (B,)."""

    def chosen() -> torch.Tensor:
        return _rand(b, generator, device) < prob

    touched = torch.zeros(b, dtype=torch.bool, device=device)
    lin = torch.eye(2, device=device).repeat(b, 1, 1)
    shift = torch.zeros(b, 2, device=device)
    if flip:
        fx, fy = chosen(), chosen()
        lin = lin @ torch.diag_embed(torch.stack([1 - 2.0 * fx, 1 - 2.0 * fy], dim=1))
        touched |= fx | fy
    if rotate > 0:
        on = chosen()
        angle = torch.deg2rad((2 * _rand(b, generator, device) - 1) * rotate) * on
        cos, sin = angle.cos(), angle.sin()
        # rotate in pixel units: normalised x and y have different scales when h != w
        rot = torch.stack([torch.stack([cos, -sin * h / w], 1), torch.stack([sin * w / h, cos], 1)], 1)
        lin = rot @ lin
        touched |= on
    if resized_crop > 0:
        on = chosen()
        area = resized_crop + (1 - resized_crop) * _rand(b, generator, device)
        log_lo, log_hi = math.log(CROP_RATIO[0]), math.log(CROP_RATIO[1])
        ratio = torch.exp(log_lo + (log_hi - log_lo) * _rand(b, generator, device))
        cw = torch.where(on, (area * ratio).sqrt().clamp(max=1.0), torch.ones_like(area))
        ch = torch.where(on, (area / ratio).sqrt().clamp(max=1.0), torch.ones_like(area))
        # crop centre anywhere that keeps the crop inside the image
        shift = torch.stack(
            [(1 - cw) * (2 * _rand(b, generator, device) - 1), (1 - ch) * (2 * _rand(b, generator, device) - 1)], 1
        )
        lin = torch.diag_embed(torch.stack([cw, ch], 1)) @ lin
        touched |= on
    return torch.cat([lin, shift[:, :, None]], dim=2), touched


def _warp(t: torch.Tensor, grid: torch.Tensor, mode: str) -> torch.Tensor:
    """Resample ``t`` on ``grid`` keeping its dtype (integers are rounded back)."""
    out = F.grid_sample(t.float(), grid, mode=mode, padding_mode="zeros", align_corners=False)
    if t.dtype.is_floating_point:
        return out.to(t.dtype)
    return out.round().to(t.dtype)


def _jitter(x: torch.Tensor, brightness: float, prob: float, generator: torch.Generator | None) -> torch.Tensor:
    """Contrast (1 ± c) about each image's mean, plus a brightness shift of ± b × its std.

    Scaled by the image's own statistics so it works on 0..1, 0..255 or normalised images alike.
    """
    if not x.is_floating_point():
        raise ValueError(f"brightness jitter needs float images, got {x.dtype}; convert the batch with .float()")
    b = x.shape[0]
    dims = tuple(range(1, x.dim()))
    view = (b,) + (1,) * (x.dim() - 1)
    contrast = 1 + (2 * _rand(b, generator, x.device) - 1) * brightness
    shift = (2 * _rand(b, generator, x.device) - 1) * brightness
    on = (_rand(b, generator, x.device) < prob).view(view)
    mean, std = x.mean(dim=dims, keepdim=True), x.std(dim=dims, keepdim=True)
    jittered = (x - mean) * contrast.view(view).to(x.dtype) + mean + shift.view(view).to(x.dtype) * std
    return torch.where(on, jittered, x)


def augment_images(
    x: torch.Tensor,
    mask: torch.Tensor | None = None,
    edge: torch.Tensor | None = None,
    *,
    flip: bool = False,
    rotate: float = 0.0,
    brightness: float = 0.0,
    resized_crop: float = 0.0,
    prob: float = 0.5,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Augment images (B, C, H, W) and move an optional mask (B, K, H, W) and edge map (B, 1, H, W) with them.

    Image and edge map are resampled bilinearly, the mask by nearest neighbour and re-thresholded at 0.5,
    so it stays binary. Outside the source image (rotation corners) everything reads 0. Samples that no
    augmentation picks come back bit-for-bit unchanged.
    """
    b, _, h, w = x.shape
    for name, t in (("mask", mask), ("edge", edge)):
        if t is not None and (t.shape[0] != b or t.shape[-2:] != x.shape[-2:]):
            raise ValueError(f"{name} shaped {tuple(t.shape)} does not match images {tuple(x.shape)}")
    theta, touched = _affine(
        b, h, w, flip=flip, rotate=rotate, resized_crop=resized_crop, prob=prob, generator=generator, device=x.device
    )
    if touched.any():
        grid = F.affine_grid(theta, [b, 1, h, w], align_corners=False)
        keep = touched.view(b, 1, 1, 1)
        x = torch.where(keep, _warp(x, grid, "bilinear"), x)
        if mask is not None:
            warped = (_warp(mask.float(), grid, "nearest") > 0.5).to(mask.dtype)
            mask = torch.where(keep, warped, mask)
        if edge is not None:
            edge = torch.where(keep, _warp(edge, grid, "bilinear"), edge)
    if brightness > 0:
        x = _jitter(x, brightness, prob, generator)
    return x, mask, edge


def augment_images_stage(
    x: torch.Tensor,
    mask: torch.Tensor | None,
    edge: torch.Tensor | None,
    aug: ImageAugment,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """``augment_images`` with the amounts of one ``ImageAugment`` stage."""
    return augment_images(
        x,
        mask,
        edge,
        flip=aug.flip,
        rotate=aug.rotate,
        brightness=aug.brightness,
        resized_crop=aug.resized_crop,
        prob=aug.prob,
        generator=generator,
    )


def staged_image_augment(stages: Sequence[Any]) -> ImageStageAugment | None:
    """The recipe's ``[[augment]]`` stages as one joint image (+ mask, + edge map) augmentation: at each
    epoch the stage ``stage_at`` picks applies (None without stages)."""
    if not stages:
        return None

    def augment(x, mask, edge, epoch, generator):
        stage = stage_at(stages, epoch)
        if stage is None:
            return x, mask, edge
        return augment_images_stage(x, mask, edge, ImageAugment.of(stage), generator)

    return augment


SIGNAL_FIELDS = ("noise_std", "shift", "scale", "warp", "mask", "impulses", "eq_db")


def check_image_stages(stages: Sequence[Any]) -> None:
    """Vibration-only amounts in an image recipe would silently do nothing: say so instead."""
    for i, stage in enumerate(stages):
        for name in SIGNAL_FIELDS:
            if getattr(stage, name, 0):
                raise ConfigError(
                    f"augment[{i}].{name} is a vibration augmentation; image recipes use flip, "
                    "rotate, brightness and resized_crop"
                )
