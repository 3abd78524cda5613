"""Tasks by name: ``get_task(cfg.task)`` is what the one fit flow and `faultcli eval` dispatch on."""

from __future__ import annotations

from faultcli.registry import available, lookup
from faultcli.tasks.base import ModelSpec, Task


def _register_all() -> None:
    from faultcli.tasks import classification, clip, segmentation  # noqa: F401  (registration)


def get_task(name: str) -> Task:
    """The registered task ``name``; an unknown name lists the known ones."""
    _register_all()
    return lookup("task", name)()


def task_names() -> list[str]:
    _register_all()
    return available("task")


__all__ = ["ModelSpec", "Task", "get_task", "task_names"]
