"""The recipe reference (docs/config.md), generated from the schema's dataclasses and their help texts.

It walks the dataclasses generically: a dataclass field is a ``[section]``, a list of dataclasses an
``[[array of tables]]``, anything else a key with its type, default, allowed values and help.
``scripts/gen_config_docs.py`` writes the file; a test fails when it is out of date.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable, Iterator
from typing import Any

from faultcli.config.schema import Config

HEADER = """# Recipe settings

Every key a recipe can hold, with its type, default, allowed values and meaning. Generated from
`faultcli/config/schema.py` by `python scripts/gen_config_docs.py`; do not edit by hand.

A recipe is a TOML file: keys at the top, then one table per section (`[data]`, `[model]`, ...).
Any key can also be set on the command line, its value written as TOML: `--set train.lr=3e-4`,
`--set 'vibration.branches=["time","fft"]'`; `--set augment.2.eq_db=6` changes the third `[[augment]]`
stage. `extends = "other.toml"` starts from another recipe (path relative to the recipe); a child
recipe changes one `[[augment]]` stage with an `[augment.N]` table. Unknown keys, wrong types and
values out of range stop the command before any work, naming the key. `faultcli <command> --recipe R
--print-config` prints the fully resolved recipe.
"""


@dataclasses.dataclass
class Key:
    name: str
    type: str
    default: str
    allowed: str
    help: str


@dataclasses.dataclass
class Section:
    title: str  # "top level", "[data]", "[[augment]]"
    help: str
    prefix: str  # how --set reaches its keys: "", "data.", "augment.N."
    keys: list[Key]


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _list_item(tp: Any) -> Any:
    return typing.get_args(tp)[0] if typing.get_origin(tp) is list and typing.get_args(tp) else None


def type_name(tp: Any) -> str:
    """``list[str]``, ``dict[str, int]``, ``float``: as a reader writes them."""
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__name__
    return repr(tp).replace("typing.", "")


def literal(value: Any) -> str:
    """A default as it would be written in TOML."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {literal(v)}" for k, v in value.items()) + "}" if value else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return repr(value)


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


# registry kind → (registered names, the `faultcli list` kind that shows them or ''); the caller knows
# which modules register what (faultcli.services.catalog), this layer does not
Registered = Callable[[str], tuple[list[str], str]]


def allowed(meta: typing.Mapping[str, Any], registered: Registered | None = None) -> str:
    """Choices, registered names or range of a field, from its metadata."""
    parts = []
    if meta.get("choices"):
        parts.append(", ".join(f"`{c}`" for c in meta["choices"]))
    if meta.get("registry"):
        names, shown = registered(meta["registry"]) if registered else ([], "")
        listed = ", ".join(f"`{n}`" for n in names) or f"a registered `{meta['registry']}` name"
        parts.append(listed + (f" (`faultcli list {shown}`)" if shown else ""))
    low, high = meta.get("min"), meta.get("max")
    if low is not None and high is not None:
        parts.append(f"{low} to {high}")
    elif low is not None:
        parts.append(f"≥ {low}")
    elif high is not None:
        parts.append(f"≤ {high}")
    known = {"help", "choices", "registry", "min", "max"}
    parts += [f"{k}: {v}" for k, v in meta.items() if k not in known and v not in (None, "", ())]
    return "; ".join(parts)


def sections(
    cls: type = Config, title: str = "top level", help: str = "", prefix: str = "", registered: Registered | None = None
) -> Iterator[Section]:
    """The keys of ``cls`` as one section, then each nested dataclass (or list of them) as its own."""
    hints = typing.get_type_hints(cls)
    keys, nested = [], []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        meta = f.metadata
        item = _list_item(tp)
        if _is_dataclass_type(tp):
            nested.append((tp, f"[{prefix}{f.name}]", meta.get("help", ""), f"{prefix}{f.name}."))
        elif _is_dataclass_type(item):
            nested.append((item, f"[[{prefix}{f.name}]]", meta.get("help", ""), f"{prefix}{f.name}.N."))
        else:
            keys.append(
                Key(f.name, type_name(tp), literal(_default(f)), allowed(meta, registered), meta.get("help", ""))
            )
    if keys:
        yield Section(title, help, prefix, keys)
    for tp, sub_title, sub_help, sub_prefix in nested:
        yield from sections(tp, sub_title, sub_help, sub_prefix, registered)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(registered: Registered | None = None) -> str:
    """docs/config.md: one table per section of the recipe schema (``registered`` lists registry names)."""
    out = [HEADER]
    for section in sections(registered=registered):
        out.append(f"## {section.title}\n")
        said = section.help and not section.help.endswith(" section")  # "data section" says nothing new
        line = f"{section.help[0].upper()}{section.help[1:]}. " if said else ""
        out.append(f"{line}On the command line: `--set {section.prefix}KEY=VALUE`.\n")
        out.append("| key | type | default | allowed | meaning |")
        out.append("|---|---|---|---|---|")
        for k in section.keys:
            cells = [f"`{k.name}`", f"`{k.type}`", f"`{k.default}`", k.allowed, k.help]
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        out.append("")
    return "\n".join(out)
