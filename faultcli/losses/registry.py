"""Losses by name, as models are: a recipe's ``train.loss`` names one; each declares what it compares
the prediction with ("labels" for classifiers, "masks" for segmenters) so a task can refuse the others."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from faultcli.errors import ConfigError
from faultcli.registry import available, lookup, register


def register_loss(name: str, *, target: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.target = target  # type: ignore[attr-defined]
        return register("loss", name)(fn)

    return wrap


def loss_names(target: str | None = None) -> list[str]:
    """Registered loss names, optionally only those for ``target``."""
    return [n for n in available("loss") if target is None or lookup("loss", n).target == target]


def create_loss(name: str, target: str, **kwargs: Any) -> Any:
    """The loss ``name`` built from the arguments its builder takes (the rest are ignored)."""
    builder = lookup("loss", name)
    if builder.target != target:
        raise ConfigError(
            f"train.loss = {name!r} compares predictions with {builder.target}, this task has {target}; "
            f"choose one of {', '.join(loss_names(target))}"
        )
    params = inspect.signature(builder).parameters
    return builder(**{k: v for k, v in kwargs.items() if k in params})
