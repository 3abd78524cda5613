"""Name → builder registries, as timm registers models: configs hold names, never import paths."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from faultcli.errors import ConfigError

_REGISTRIES: dict[str, dict[str, Callable[..., Any]]] = {}


def register(kind: str, name: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: ``@register("model", "wdcnn")`` files a builder under ``kind``/``name``."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        key = name or fn.__name__
        table = _REGISTRIES.setdefault(kind, {})
        if key in table and table[key] is not fn:
            raise ValueError(f"{kind} {key!r} is registered twice")
        table[key] = fn
        return fn

    return wrap


def available(kind: str) -> list[str]:
    """Sorted names registered under ``kind``."""
    return sorted(_REGISTRIES.get(kind, {}))


def lookup(kind: str, name: str) -> Callable[..., Any]:
    """The builder for ``name``; an unknown name lists close matches and every valid name."""
    table = _REGISTRIES.get(kind, {})
    if name not in table:
        close = difflib.get_close_matches(name, list(table), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown {kind} {name!r}.{hint} Available: {', '.join(sorted(table)) or 'none'}.")
    return table[name]


def create(kind: str, name: str, **kwargs: Any) -> Any:
    """Build the registered ``kind``/``name`` with flat keyword arguments."""
    return lookup(kind, name)(**kwargs)
