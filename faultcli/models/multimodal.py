"""Multimodal bearing-fault classifier: time / FFT / time–frequency (/ envelope / band spectrum) branches, fused.

Reads top-down: the model, then the registered sizes (same class, different widths), as timm does.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

import faultcli.models.heads  # noqa: F401  (registers the heads)
from faultcli.errors import ConfigError, DataError
from faultcli.models.base import Classifier
from faultcli.models.branches.bands import check_band_count
from faultcli.models.layers import BranchDropout, WindowStandardize
from faultcli.registry import create, register

DEFAULT_BRANCHES = ("time", "fft", "tf")


class MultiModalNet(Classifier):
    """Raw normalised windows (B, 1, window) → per-branch features → fusion → ``num_features`` → logits.

    Transforms run inside each branch on the batch's device. ``rpm`` (B,) (NaN = unknown) only matters with
    ``order_normalize``; without it the nominal speed is assumed. After each forward, ``modality_weights``
    holds the batch's (B, n_branches) level-1 fusion weights (detached), or None for the concat fusion.
    ``arcface`` is the training-only margin head on the fused features; ``forward`` uses the softmax head.

    ``wide_bands = N`` (0 = off) adds a wide read-out beside that deep one, as in wide-and-deep models:
    ``band_linear`` on N band shares, whose features are appended to the fused ones. Each read-out is
    trained by its own loss (``head_logits``) so the deep head, which fits the source load at once, cannot
    starve the linear one of gradient; the prediction averages their probabilities. The linear read-out is
    what transfers across loads (band_linear's rows in the README), the deep one what separates the rest.
    ``wide_clean`` trains the wide read-out as band_linear is trained alone: on the batch before
    augmentation and mixup (``forward(..., clean=batch)``), by plain cross-entropy; its features are
    built to be invariant, and augmentation and the focal loss only blur them (fan-end diagnostics in
    docs/experiments/cwru-load-transfer.md). ``clean_readouts`` counts the trailing read-outs that read so.
    """

    def __init__(
        self,
        num_classes: int = 10,
        window: int = 1024,
        sample_rate: int = 12000,
        branches: list[str] | tuple[str, ...] = DEFAULT_BRANCHES,
        fusion: str = "hierarchical",
        tf_transform: str = "stft",
        order_normalize: bool = False,
        nominal_rpm: float = 1797.0,
        window_norm: bool = False,
        dropout: float = 0.3,
        feature_dim: int = 128,
        arcface_margin: float = 0.3,
        arcface_scale: float = 30.0,
        branch_dim: int = 256,
        time_width: int = 32,
        gru_hidden: int = 64,
        spectrum_width: int = 32,
        spectrum_depth: int = 3,
        tf_width: int = 16,
        fusion_heads: int = 4,
        n_bands: int = 64,
        branch_dropout: float = 0.0,
        wide_bands: int = 0,
        wide_clean: bool = False,
    ) -> None:
        super().__init__()
        branches = list(branches)
        if not branches or len(set(branches)) != len(branches):
            raise ConfigError(
                f"vibration.branches {branches} must name at least one branch, each once; "
                "e.g. branches = ['time', 'fft', 'tf']"
            )
        self.window = window
        self.input_norm = WindowStandardize() if window_norm else nn.Identity()
        common = {"window": window, "sample_rate": sample_rate, "out_dim": branch_dim}
        speed = {"order_normalize": order_normalize, "nominal_rpm": nominal_rpm}
        own = {  # each branch's own arguments; a branch registered elsewhere gets the common ones only
            "time": {"width": time_width, "gru_hidden": gru_hidden},
            "fft": {"width": spectrum_width, "depth": spectrum_depth, **speed},
            "envelope": {"width": spectrum_width, "depth": spectrum_depth, **speed},
            "tf": {"width": tf_width, "transform": tf_transform},
            "bands": {"n_bands": n_bands},
        }
        self.branches = nn.ModuleDict(
            {name: create("branch", name, **common, **own.get(name, {})) for name in branches}
        )
        self.branch_dropout = BranchDropout(branch_dropout)
        extra = {"heads": fusion_heads} if fusion == "hierarchical" else {}
        self.fusion = create(
            "fusion",
            fusion,
            n_branches=len(branches),
            in_dim=branch_dim,
            out_dim=feature_dim,
            dropout=min(dropout, 0.1),  # light inside the fusion; the recipe's dropout is the classifier's
            **extra,
        )
        self.fused_dim = feature_dim
        self.head = create(
            "head", "softmax", in_features=feature_dim, num_classes=num_classes, hidden=feature_dim, dropout=dropout
        )
        self.arcface = create(
            "head",
            "arcface",
            in_features=feature_dim,
            num_classes=num_classes,
            margin=arcface_margin,
            scale=arcface_scale,
        )
        self.wide = None
        if wide_bands:
            check_band_count(window, wide_bands, key="vibration.wide_bands")
            self.wide = create("model", "band_linear", num_classes=num_classes, window=window, n_bands=wide_bands)
        self.num_features = feature_dim + wide_bands
        self.clean_readouts = int(bool(wide_bands) and wide_clean)
        self.modality_weights: torch.Tensor | None = None

    @property
    def branch_names(self) -> list[str]:
        """Branch names in the order of ``modality_weights`` columns."""
        return list(self.branches)

    def forward_features(
        self, x: torch.Tensor, rpm: torch.Tensor | None = None, clean: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(B, 1, window) → fused features, then the wide read-out's band features: (B, num_features).

        ``clean`` (training only): the batch before augmentation, which the wide read-out reads instead.
        Records ``modality_weights``.
        """
        if x.dim() != 3 or x.shape[1] != 1 or x.shape[-1] != self.window:
            raise DataError(
                f"model expects windows shaped (B, 1, {self.window}), got {tuple(x.shape)}; "
                f"prepare the data with data.window = {self.window} or rebuild the model"
            )
        x = self.input_norm(x)
        feats = self.branch_dropout([branch(x, rpm) for branch in self.branches.values()])
        fused, weights = self.fusion(feats)
        self.modality_weights = None if weights is None else weights.detach()
        if self.wide is None:
            return fused
        wide_in = x if clean is None else self.input_norm(clean)
        return torch.cat([fused, self.wide.forward_features(wide_in)], dim=1)

    def margin_features(self, feats: torch.Tensor) -> torch.Tensor:
        """The fused features alone, which the ArcFace margin shapes (B, fused_dim)."""
        return feats[:, : self.fused_dim]

    def head_logits(self, feats: torch.Tensor) -> list[torch.Tensor]:
        """Each read-out's logits, each to be trained by the loss: the softmax head's, then the wide one's."""
        logits = [self.head(feats[:, : self.fused_dim])]
        if self.wide is not None:
            logits.append(self.wide.forward_head(feats[:, self.fused_dim :]))
        return logits


def _create(size: dict[str, Any], kwargs: dict[str, Any]) -> MultiModalNet:
    """The size's widths, overridable by the caller's flat keyword arguments."""
    return MultiModalNet(**{**size, **kwargs})


@register("model", "multimodal_small")
def multimodal_small(**kwargs: Any) -> MultiModalNet:
    """≈0.77 M parameters with 3 branches, hierarchical fusion, 10 classes and window 1024."""
    return _create(dict(time_width=32, gru_hidden=32, spectrum_width=32, tf_width=16), kwargs)


@register("model", "multimodal_medium")
def multimodal_medium(**kwargs: Any) -> MultiModalNet:
    """≈2.5 M parameters (same setting)."""
    return _create(dict(time_width=64, gru_hidden=128, spectrum_width=48, spectrum_depth=4, tf_width=32), kwargs)


@register("model", "multimodal_large")
def multimodal_large(**kwargs: Any) -> MultiModalNet:
    """≈8.0 M parameters (same setting); wider branch features (384) and 8 fusion heads."""
    size = dict(
        time_width=128, gru_hidden=256, spectrum_width=80, spectrum_depth=4, tf_width=96, branch_dim=384, fusion_heads=8
    )
    return _create(size, kwargs)
