"""The unlabelled target windows of a recipe with ``[adapt]``: the recordings of ``data.test_conditions``
(by-condition split), of ``adapt.target_root``, or another sensor (``adapt.target_channel``) of the training
split's own recordings. No label of a target window is ever read: the batches
hold inputs only, and their order follows the recordings' content, not their (label-bearing) names."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from faultcli.adapt.unlabelled import content_order, read_unlabelled, recordings_manifest, unlabelled_fetch
from faultcli.classification.data import ClassificationData
from faultcli.config import Config
from faultcli.data.loader import BatchLoader
from faultcli.data.vibration import VibrationDataset, condition_text, prepare_vibration
from faultcli.errors import ConfigError, DataError
from faultcli.progress import Reporter


@dataclass
class Target:
    rows: np.ndarray
    fetch: Callable[[np.ndarray], dict[str, Any]]  # rows → {"x", "extra"}, normalised as the source
    where: str  # in words, for the log and summary
    recordings: list[dict[str, Any]] = field(default_factory=list)

    def loader(self, batch_size: int, *, train: bool) -> BatchLoader:
        return BatchLoader(
            self.rows, self.fetch, batch_size, shuffle=train, drop_last=train and len(self.rows) > batch_size
        )


@dataclass
class AdaptedData(ClassificationData):
    """The recipe's classification data with the target windows beside them."""

    target: Target | None = None


def check_adapt(cfg: Config, task: str) -> None:
    """[adapt] settings that cannot work, before any data is read."""
    a = cfg.adapt
    if a.method == "none":
        return
    if task != "vibration-classification":
        raise ConfigError(f"adapt.method = {a.method!r} adapts vibration models; task {task!r} takes no [adapt]")
    if a.target_channel and a.target_root:
        raise ConfigError("adapt.target_channel and adapt.target_root name two targets; set one of them")
    if a.target_channel and a.target_channel == cfg.data.channel:
        raise ConfigError(
            f"adapt.target_channel = {a.target_channel!r} is data.channel itself; name the other sensor (e.g. FE)"
        )
    if not (a.target_root or a.target_channel) and cfg.data.split != "by-condition":
        raise ConfigError(
            f"adapt.method = {a.method!r} needs target recordings: set adapt.target_root or adapt.target_channel, "
            "or data.split = 'by-condition' to adapt to the recordings of data.test_conditions"
        )
    if a.target_include and not a.target_root:
        raise ConfigError("adapt.target_include filters adapt.target_root, which is empty; set both or neither")
    if a.target_root and not Path(a.target_root).expanduser().is_dir():
        raise DataError(f"adapt.target_root = {a.target_root!r} is not a folder; give the folder of target recordings")


def check_model_adapts(model: Any, cfg: Config, name: str) -> None:
    """A model the recipe's method can change: AdaBN needs BatchNorm layers; MMD, CORAL and DANN move the
    features through the weights that compute them, which models of fixed transforms (the linear
    baselines) do not have. ``model``: a freshly built copy (its mode and statistics may change)."""
    import torch
    from torch.nn.modules.batchnorm import _BatchNorm

    method = cfg.adapt.method
    if method == "adabn":
        if not any(isinstance(m, _BatchNorm) and m.track_running_stats for m in model.modules()):
            raise ConfigError(
                f"adapt.method = adabn re-estimates BatchNorm statistics and model {name!r} has none; "
                "choose another adapt.method or model"
            )
        return
    if method == "none":
        return
    model.eval()
    with torch.enable_grad():
        feats = model.forward_features(torch.zeros(2, 1, cfg.data.window))
    if not feats.requires_grad:
        raise ConfigError(
            f"adapt.method = {method} aligns the features, and model {name!r} computes them with no trainable "
            "weight (nothing to align); use adapt.method = adabn or a model with an encoder (wdcnn, multimodal_*)"
        )


def with_target(cfg: Config, data: ClassificationData, reporter: Reporter) -> AdaptedData:
    """``data`` with its target windows, normalised with the source's training statistics."""
    fields = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
    target = target_windows(cfg, data, reporter)
    reporter.info(f"adapt.method = {cfg.adapt.method}: {len(target.rows)} unlabelled target windows, {target.where}")
    return AdaptedData(**fields, target=target)


def target_windows(cfg: Config, data: ClassificationData, reporter: Reporter) -> Target:
    mean, std = float(data.data_info["norm_mean"]), float(data.data_info["norm_std"])
    a = cfg.adapt
    if a.target_root:
        ds = read_unlabelled(
            cfg.data, a.target_root, a.target_include, a.source_rate, reporter, "adapt.target_root", "adapt.source_rate"
        )
        rows = content_order(ds, ds.indices("all"))
        where = f"from {a.target_root}" + (f" ({', '.join(a.target_include)})" if a.target_include else "")
    elif a.target_channel:
        # the same files, split the same way: the training split's time segments, read from the other sensor
        ds = prepare_vibration(dataclasses.replace(cfg.data, channel=a.target_channel), reporter)
        rows = content_order(ds, ds.indices("train"))
        where = f"channel {a.target_channel} of the training split's recordings (adapt.target_channel)"
    else:
        ds = data.dataset
        rows = content_order(ds, condition_rows(ds, cfg.data.condition, cfg.data.test_conditions))
        where = f"the recordings of {cfg.data.condition} {', '.join(cfg.data.test_conditions)} (data.test_conditions)"
    if len(rows) == 0:
        raise DataError(f"no target window {where}; check the target recordings and data.window")
    return Target(rows, unlabelled_fetch(ds, mean, std), where, recordings_manifest(ds, rows, "target"))


def condition_rows(ds: VibrationDataset, condition: str, values: list[str]) -> np.ndarray:
    """Every window of the recordings whose ``condition`` is one of ``values`` (read from file names)."""
    recordings = ds.recordings.sort_values("recording")
    keep = np.array([condition_text(v) in set(values) for v in recordings[condition]], dtype=bool)
    return np.flatnonzero(np.isin(ds.windows[:, 0], recordings["recording"].to_numpy()[keep]))
