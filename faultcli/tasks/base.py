"""A task: what differs between kinds of training (classification, segmentation) behind one interface,
so one fit flow (``services/fit.py``) and one evaluation (``services/evaluate.py``) serve them all.

Each method is one step of the flow; a task is registered by name (``@register("task", ...)``) and
found like a model. Tasks take the resolved config and return plain objects; they never print.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from faultcli.config import Config
from faultcli.engine.hooks import TaskHooks, metric_names
from faultcli.errors import ConfigError
from faultcli.progress import Reporter


@dataclass
class ModelSpec:
    """A registered model's name and builder arguments (saved in checkpoints), and the arguments used
    only to initialise a fresh model (pretrained weights files), never saved."""

    name: str
    kwargs: dict[str, Any]
    init: dict[str, Any] = field(default_factory=dict)


class Task:
    """The steps of the fit flow that differ per task. ``hooks`` declares the figures it logs."""

    name: str = ""
    hooks: type[TaskHooks] = TaskHooks
    plateau_metric: tuple[str, str] | None = None  # what ReduceLROnPlateau watches; None: the selection metric
    test_title = "Evaluation on the {split} split"  # of the report written after training ({name}: the run's)

    # --- before any compute ------------------------------------------------------------------------
    def check(self, cfg: Config) -> None:
        """Cross-field checks of the recipe for this task (one-line ConfigError)."""

    def model_keys(self, cfg: Config) -> set[str]:
        """The [model] keys this task reads; any other key set in a recipe is an error."""
        return set()

    def metrics(self, cfg: Config) -> dict[str, str]:
        """Every per-epoch figure (name → "max"/"min") the recipe can select on."""
        return metric_names(self.hooks)

    # --- fit ---------------------------------------------------------------------------------------
    def build_data(self, cfg: Config, reporter: Reporter, data_info: dict[str, Any] | None = None) -> Any:
        """The recipe's data (one fold of it in k-fold mode); ``data_info`` fixes a checkpoint's
        normalisation when evaluating."""
        raise NotImplementedError

    def rows(self, data: Any, split: str) -> np.ndarray:
        return data.rows(split)

    def classes(self, data: Any) -> list[str]:
        return list(data.classes)

    def data_info(self, data: Any) -> dict[str, Any]:
        """What a checkpoint must remember of the data to read new data as training did."""
        raise NotImplementedError

    def model_spec(self, cfg: Config, data: Any) -> ModelSpec:
        raise NotImplementedError

    def build_hooks(self, cfg: Config, data: Any, device: torch.device) -> TaskHooks:
        raise NotImplementedError

    def loaders(self, cfg: Config, data: Any) -> tuple[Any, dict[str, Any]]:
        """The training loader and the named validation loaders ("" is the one selection reads)."""
        raise NotImplementedError

    def describe(self, cfg: Config, data: Any, spec: ModelSpec, params: int, device: torch.device) -> str:
        """One line on what trains, for the log."""
        return f"model {spec.name}: {params / 1e6:.2f} M parameters, device {device}"

    def post_fit(
        self, cfg: Config, model: torch.nn.Module, data: Any, device: torch.device, reporter: Reporter
    ) -> dict[str, Any]:
        """What is fitted on validation after training (a softmax temperature, mask thresholds); saved
        into ``best.pt`` so evaluation and prediction use it."""
        return {}

    def evaluate(
        self,
        cfg: Config,
        model: torch.nn.Module,
        data: Any,
        split: str,
        out: Path,
        fitted: dict[str, Any],
        device: torch.device,
        reporter: Reporter,
        title: str,
        history: list[dict] | None = None,
    ) -> dict[str, Any]:
        """Figures and report files of ``split`` into ``out`` (with the training curves of ``history``);
        returns the figures."""
        raise NotImplementedError

    def summary(self, cfg: Config, data: Any, test: dict[str, Any], fitted: dict[str, Any]) -> dict[str, Any]:
        """The task's part of a run's summary.json (the fit flow adds epochs, seconds, sizes)."""
        raise NotImplementedError

    # --- faultcli eval -----------------------------------------------------------------------------
    def evaluate_checkpoints(
        self, states: list[dict[str, Any]], cfg: Config, split: str, out: Path, reporter: Reporter, device: torch.device
    ) -> dict[str, Any]:
        """`faultcli eval`: one checkpoint (or an ensemble, where the task allows) on a split."""
        raise NotImplementedError


def check_model_keys(cfg: Config, used: set[str], task: str) -> None:
    """A [model] key that the chosen model does not read would be ignored silently: refuse it instead."""
    import dataclasses

    from faultcli.config.schema import ModelConfig

    defaults = ModelConfig()
    for f in dataclasses.fields(ModelConfig):
        if f.name not in used and getattr(cfg.model, f.name) != getattr(defaults, f.name):
            raise ConfigError(
                f"model.{f.name} is not a setting of task {task!r} "
                f"(it reads model.{', model.'.join(sorted(used))}); remove it from the recipe"
            )
