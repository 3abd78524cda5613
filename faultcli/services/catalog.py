"""What `faultcli list` shows: the names each registry holds, and the shipped recipes, with one line each."""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faultcli.errors import ConfigError, UserError


@dataclass(frozen=True)
class Source:
    """Where one listable kind comes from: its registry kind and the modules whose import registers it."""

    kind: str
    modules: tuple[str, ...]


# kind shown to users → its registry. A new registry kind is one line here.
CATALOG: dict[str, Source] = {
    "models": Source("model", ("faultcli.models",)),
    "branches": Source("branch", ("faultcli.models",)),
    "fusions": Source("fusion", ("faultcli.models",)),
    "edge-fusions": Source("edge_fusion", ("faultcli.models",)),
    "heads": Source("head", ("faultcli.models",)),
    "tasks": Source("task", ("faultcli.tasks.classification", "faultcli.tasks.clip", "faultcli.tasks.segmentation")),
    "losses": Source("loss", ("faultcli.losses",)),
}
RECIPES = "recipes"  # shipped TOML files, not a registry
KINDS = (*CATALOG, RECIPES)


@dataclass
class Entry:
    name: str
    description: str
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Listing:
    kind: str
    entries: list[Entry]
    source: str  # the registry kind or the recipe folder the entries come from
    note: str = ""  # said when there is nothing to list


def check_kind(kind: str) -> str:
    """``kind`` if listable; else a UserError naming every listable kind and the closest one."""
    if kind in KINDS:
        return kind
    close = difflib.get_close_matches(kind, KINDS, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise UserError(f"unknown kind {kind!r}{hint}; choose one of {', '.join(KINDS)}")


def list_kind(kind: str, recipes_dir: Path | None = None) -> Listing:
    """Every name of ``kind`` with its one-line description (recipes: from ``recipes_dir``)."""
    kind = check_kind(kind)
    if kind == RECIPES:
        return list_recipes(recipes_dir or default_recipes_dir())
    from faultcli.registry import available, lookup

    source = CATALOG[kind]
    for module in source.modules:
        importlib.import_module(module)
    entries = [Entry(name, describe(lookup(source.kind, name))) for name in available(source.kind)]
    note = "" if entries else f"no {kind} are registered (registry kind {source.kind!r} is empty)"
    return Listing(kind, entries, source.kind, note=note)


_ROLE = re.compile(r":\w+:`~?([^`]+)`")  # :class:`FFTBranch` → FFTBranch
_BUILDER = re.compile(r"^Builder of :class:`~?([\w.]+)`")


def _first_line(doc: str | None) -> str:
    for line in (doc or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def _plain(text: str) -> str:
    return _ROLE.sub(r"\1", text).replace("``", "")


def describe(builder: Callable[..., Any]) -> str:
    """The builder's docstring, first line; a plain "Builder of :class:`X`" gives X's own first line."""
    line = _first_line(builder.__doc__)
    built = _BUILDER.match(line)
    if built:
        target = getattr(sys.modules.get(builder.__module__), built.group(1), None)
        line = _first_line(getattr(target, "__doc__", None)) or line
    if not line:
        module = sys.modules.get(builder.__module__) or inspect.getmodule(builder)
        line = _first_line(getattr(module, "__doc__", None))
    return _plain(line) or "–"


def default_recipes_dir() -> Path:
    """``recipes/`` in the working directory, else the one beside the installed package (a source checkout)."""
    here = Path("recipes")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "recipes"


def recipe_summary(text: str) -> str:
    """The first sentence of a recipe's leading comment block ('' when it has none)."""
    words: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped and not words:
            continue
        if not stripped.startswith("#"):
            break
        body = stripped.lstrip("#").strip()
        if not body:
            if words:
                break
            continue
        words.append(body)
    joined = " ".join(words)
    end = re.search(r"(?<!\bal)(?<!\be\.g)(?<!\bi\.e)\.(\s|$)", joined)  # "et al. 2017" goes on
    return (joined[: end.start()] if end else joined).strip()


def _recipe_task(path: Path) -> str:
    from faultcli.config.load import read_recipe
    from faultcli.config.schema import Config

    try:
        raw = read_recipe(path)
    except ConfigError as err:
        return f"unreadable ({err})"
    return str(raw.get("task", Config().task))


def list_recipes(folder: Path) -> Listing:
    """Every ``*.toml`` in ``folder``: task, parent recipe and the first sentence of its header comment."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"recipe folder {folder} does not exist; run from the repository root or pass --dir FOLDER")
    entries = []
    for path in sorted(folder.glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        try:
            extends = str(tomllib.loads(text).get("extends", ""))
        except tomllib.TOMLDecodeError:
            extends = ""
        task = _recipe_task(path)
        entries.append(Entry(path.name, recipe_summary(text) or task, {"task": task, "extends": extends}))
    note = "" if entries else f"no recipes (*.toml) in {folder}"
    return Listing(RECIPES, entries, str(folder), note=note)


def registered_names(registry_kind: str) -> tuple[list[str], str]:
    """(names registered as ``registry_kind``, the `faultcli list` kind that shows them or ''), after
    importing every module the catalog knows, so that every registration has run."""
    from faultcli.registry import available

    for source in CATALOG.values():
        for module in source.modules:
            importlib.import_module(module)
    shown = next((kind for kind, source in CATALOG.items() if source.kind == registry_kind), "")
    return available(registry_kind), shown
