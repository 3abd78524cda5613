"""Recipe pipeline: TOML → ``extends`` → ``--set`` overrides → typed, checked ``Config`` → resolved TOML."""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

import tomli_w

from faultcli.config.fields import MAX_RATE
from faultcli.config.schema import TASK_SECTIONS, Config
from faultcli.errors import ConfigError

MAX_EXTENDS = 32  # recipes in one 'extends' chain; a longer one is a mistake (and would exhaust the stack)
INT_LIMIT = 2**31 - 1  # integer keys without a range of their own stay within 32 bits


def read_recipe(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a recipe and the chain of recipes it ``extends`` (paths relative to the recipe)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"recipe {path} not found; pass an existing .toml file (see recipes/)")
    if path.resolve() in _seen:
        raise ConfigError(f"recipe {path} extends itself in a loop; remove one 'extends'")
    if len(_seen) >= MAX_EXTENDS:
        raise ConfigError(f"recipe {path} is more than {MAX_EXTENDS} 'extends' deep; shorten the chain")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"recipe {path} is not UTF-8 text; save it as UTF-8 (a TOML file)") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"recipe {path} is not valid TOML ({err}); fix the line it names") from None
    except OSError as err:
        raise ConfigError(f"recipe {path} cannot be read ({err.strerror or err}); check its permissions") from None
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ConfigError(f"recipe {path}: 'extends' must be a file name string")
    base = read_recipe(path.parent / parent, _seen + (path.resolve(),))
    return merge(base, raw)


def _list_index(node: list[Any], part: str, where: str) -> int:
    """A key part naming an item of an array of tables (``augment.2.eq_db``): 0-based, in range."""
    if not part.isdigit() or int(part) >= len(node):
        raise ConfigError(
            f"{where}: {part!r} is not an index of a list of {len(node)}; write a number from 0 to {len(node) - 1}"
        )
    return int(part)


def merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key, and a table of numbered keys into an array of tables item by item; any
    other value in ``top`` replaces the one in ``base``."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        elif isinstance(value, dict) and isinstance(out.get(key), list):
            # `[augment.1]` in a child recipe changes the parent's second [[augment]] stage, key by key
            for part, item in value.items():
                index = _list_index(out[key], part, f"recipe table [{key}.{part}]")
                old = out[key][index]
                both_tables = isinstance(item, dict) and isinstance(old, dict)
                out[key][index] = merge(old, item) if both_tables else copy.deepcopy(item)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_override(text: str) -> tuple[list[str], Any]:
    """``train.lr=3e-4`` → (["train", "lr"], 0.0003). Values are TOML; a bare word is a string."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} has no '='; write --set section.key=value")
    key, _, value = text.partition("=")
    key, value = key.strip(), value.strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes the terminal could not decode reach Python as lone surrogates
        raise ConfigError(f"override {text!r} holds bytes that are not UTF-8; type it as UTF-8 text") from None
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"override {text!r} has an empty key; write --set section.key=value")
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        if any(ch in value for ch in "[]{}\"'"):
            raise ConfigError(f"override {text!r}: {value!r} is not a valid TOML value") from None
        parsed = value  # bare words such as by-file or /some/folder
    return key.split("."), parsed


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    for text in overrides:
        path, value = parse_override(text)
        where = f"override {text!r}"
        node: Any = out
        for part in path[:-1]:
            child = node[_list_index(node, part, where)] if isinstance(node, list) else node.setdefault(part, {})
            if not isinstance(child, dict | list):
                raise ConfigError(f"override {text!r}: {part!r} is not a section")
            node = child
        if isinstance(node, list):
            node[_list_index(node, path[-1], where)] = value
        else:
            node[path[-1]] = value
    return out


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp)).replace("typing.", "")


def _check_value(value: Any, tp: Any, where: str, meta: dict[str, Any]) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:  # free-form parameters (a preprocessing step's), checked by their owner
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{where} = {value!r} is not a finite number; give a number")
        return value
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a table, got {value!r}")
        return build(tp, value, where)
    if origin is list:
        (inner,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        item_meta = {"registry": meta.get("registry")}  # a list of registered names checks each item
        return [_check_value(v, inner, f"{where}[{i}]", item_meta) for i, v in enumerate(value)]
    if origin is dict:
        _, inner = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a table, got {value!r}")
        return {str(k): _check_value(v, inner, f"{where}.{k}", {}) for k, v in value.items()}
    if origin in (typing.Union, types.UnionType):
        raise TypeError("unions are not used in the schema")
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where} = {value!r} is not a finite number; give a number")
    if tp is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # condition values such as loads are written bare
    if tp in (int, float, str, bool) and (not isinstance(value, tp) or (tp is int and isinstance(value, bool))):
        raise ConfigError(f"{where} must be {_type_name(tp)}, got {value!r}")
    if meta.get("registry"):
        check_registered(meta["registry"], value, where)
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{where} = {value!r} is not allowed; choose one of {', '.join(map(str, choices))}")
    lo, hi = meta.get("min"), meta.get("max")
    if tp is int and hi is None:
        hi = INT_LIMIT
    if lo is not None and value < lo or hi is not None and value > hi:
        bounds = f"≥ {lo}" if hi is None else f"between {lo} and {hi}"
        raise ConfigError(f"{where} = {value!r} is out of range; it must be {bounds}")
    return value


# the package whose import fills each registry kind a recipe may name
REGISTERING = {
    "task": "faultcli.tasks",
    "loss": "faultcli.losses",
    "model": "faultcli.models",
    "branch": "faultcli.models",
    "fusion": "faultcli.models",
    "edge_fusion": "faultcli.models",
}


def check_registered(kind: str, value: Any, where: str) -> None:
    """``value`` must be a registered ``kind`` name; the error lists close matches and every name."""
    import importlib

    from faultcli.registry import lookup

    importlib.import_module(REGISTERING[kind])
    if kind == "task":
        from faultcli.tasks import task_names

        task_names()  # registers the task modules
    try:
        lookup(kind, value)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None


def build(cls: type, raw: dict[str, Any], where: str = "") -> Any:
    """Check ``raw`` against the dataclass ``cls``: unknown keys, types, choices and ranges."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in raw.items():
        path = f"{where}.{key}" if where else key
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"; did you mean {(where + '.' if where else '') + close[0]!r}?" if close else ""
            raise ConfigError(f"unknown recipe key {path!r}{hint} Valid keys here: {', '.join(fields)}")
        kwargs[key] = _check_value(value, hints[key], path, dict(fields[key].metadata))
    return cls(**kwargs)


def _all_sections() -> list[str]:
    return list(dict.fromkeys(section for sections in TASK_SECTIONS.values() for section in sections))


def moved_keys() -> dict[str, dict[str, str]]:
    """Keys earlier recipes wrote → {task section → the key's place now}: ``model.branches`` →
    {vibration: vibration.branches}, ``eval.tta_flip`` → {image: image.tta_flip, segmentation: ...}."""
    out: dict[str, dict[str, str]] = {}
    for section in _all_sections():
        for f in dataclasses.fields(typing.get_type_hints(Config)[section]):
            if f.metadata.get("was"):
                out.setdefault(f.metadata["was"], {})[section] = f"{section}.{f.name}"
    return out


def _own_sections(raw: dict[str, Any]) -> tuple[str, ...]:
    task = raw.get("task", Config.task)
    return TASK_SECTIONS.get(task, ()) if isinstance(task, str) else ()


def _new_place(places: dict[str, str], own: tuple[str, ...]) -> str | None:
    return next((places[section] for section in own if section in places), None)


def migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """A stored config (a checkpoint's) of the earlier layout, with moved keys in their task's section."""
    out = copy.deepcopy(raw)
    own = _own_sections(out)
    for old, places in moved_keys().items():
        table, key = old.split(".")
        if not isinstance(out.get(table), dict) or key not in out[table]:
            continue
        value, new = out[table].pop(key), _new_place(places, own)
        if new:
            section, _ = new.split(".")
            out.setdefault(section, {})[key] = value
    return out


def refuse_moved(paths: list[list[str]], raw: dict[str, Any], where: str) -> None:
    """A recipe or ``--set`` still writing a key at its earlier place: one line naming the new place."""
    moves = moved_keys()
    own = _own_sections(raw)
    for path in paths:
        old = ".".join(path[:2])
        if len(path) == 2 and old in moves:
            new = _new_place(moves[old], own) or " or ".join(moves[old].values())
            raise ConfigError(f"{where}: {old} has moved to {new}; write it there (the [{new.split('.')[0]}] section)")


def _key_paths(raw: dict[str, Any]) -> list[list[str]]:
    return [[table, key] for table, keys in raw.items() if isinstance(keys, dict) for key in keys]


def _check_task_sections(cfg: Config) -> None:
    """Each task reads only its own sections: another task's settings would be ignored silently."""
    own = TASK_SECTIONS.get(cfg.task, ())
    for section in _all_sections():
        value = getattr(cfg, section)
        if section not in own and value != type(value)():
            readers = [task for task, sections in TASK_SECTIONS.items() if section in sections]
            raise ConfigError(
                f"recipe section [{section}] holds settings of task {' or '.join(map(repr, readers))}, but this "
                f"recipe trains task {cfg.task!r}; remove the section or set task = {readers[0]!r}"
            )


def _check_cross_fields(cfg: Config) -> None:
    d = cfg.data
    if len(d.fractions) != 3 or abs(sum(d.fractions) - 1.0) > 1e-6 or min(d.fractions) < 0:
        raise ConfigError(f"data.fractions = {d.fractions} must be three non-negative numbers summing to 1")
    if d.step > d.window * 4:
        raise ConfigError(f"data.step = {d.step} skips most of each recording; use a step ≤ data.window")
    if d.image_size and (len(d.image_size) != 2 or min(d.image_size) < 8):
        raise ConfigError(f"data.image_size = {d.image_size} must be [height, width], each ≥ 8")
    if d.fold >= d.folds:
        raise ConfigError(f"data.fold = {d.fold} must be below data.folds = {d.folds}")
    if d.label_from == "regex" and "(?P<label>" not in d.label_regex:
        raise ConfigError("data.label_regex needs a named group (?P<label>...) when data.label_from = 'regex'")
    schedule = cfg.vibration.arcface_weight
    for pair in schedule:
        if len(pair) != 2 or pair[0] < 0 or pair[0] != int(pair[0]) or pair[1] < 0:
            raise ConfigError(
                f"vibration.arcface_weight entry {pair} must be [start_epoch, weight]: a whole epoch ≥ 0 and a "
                "weight ≥ 0"
            )
    for i, (start, _) in enumerate(schedule):
        if i and start <= schedule[i - 1][0]:
            raise ConfigError("vibration.arcface_weight must list [start_epoch, weight] pairs in rising epoch order")
    rates = {"data.sample_rate": d.sample_rate, "data.source_rate": d.source_rate}
    rates |= {"adapt.source_rate": cfg.adapt.source_rate, "pretrain.extra_rate": cfg.pretrain.extra_rate}
    rates |= {f"data.rate_patterns {pattern!r}": rate for pattern, rate in d.rate_patterns.items()}
    for key, rate in rates.items():
        optional = key.endswith("_rate") and key != "data.sample_rate"  # 0 = unset
        if not (optional and rate == 0) and not 1 <= rate <= MAX_RATE:
            raise ConfigError(f"{key} = {rate} is not a sampling rate; give 1 to {MAX_RATE} Hz")
    if d.image_size and max(d.image_size) > MAX_IMAGE_SIDE:
        raise ConfigError(f"data.image_size = {d.image_size} is too large; each side must be ≤ {MAX_IMAGE_SIDE}")
    _check_cache_dir(d.cache_dir)
    if d.preprocess:
        from faultcli.signal.preprocess import check_steps

        check_steps(d.preprocess, d.sample_rate)
    starts = [s.start_epoch for s in cfg.augment]
    if starts != sorted(starts):
        raise ConfigError("[[augment]] stages must be listed in rising start_epoch order")


MAX_IMAGE_SIDE = 8192  # pixels: a larger resize target would not fit in memory for a dataset


def _check_cache_dir(cache_dir: str) -> None:
    """``data.cache_dir`` must be a folder or a path one can make: not a file, nor inside a file."""
    if not cache_dir:
        return
    path = Path(cache_dir).expanduser()
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ConfigError(f"data.cache_dir = {cache_dir!r}: {existing} is a file, not a folder; name a folder")


def load_config(recipe: Path | None, overrides: list[str] | None = None, base: dict[str, Any] | None = None) -> Config:
    """The one way a command gets its config. ``base`` (e.g. a checkpoint's config) sits under the recipe."""
    raw: dict[str, Any] = migrate(base) if base else {}
    if recipe is not None:
        own = read_recipe(Path(recipe))
        refuse_moved(_key_paths(own), merge(raw, own), f"recipe {recipe}")
        raw = merge(raw, own)
        raw.setdefault("name", Path(recipe).stem)
    raw = apply_overrides(raw, overrides or [])
    refuse_moved([parse_override(text)[0] for text in overrides or []], raw, "--set")
    cfg = build(Config, raw)
    _check_task_sections(cfg)
    _check_cross_fields(cfg)
    return cfg


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """The config as plain data; of the task sections, only the one its task reads."""
    out = dataclasses.asdict(cfg)
    if isinstance(cfg, Config):
        for section in set(_all_sections()) - set(TASK_SECTIONS.get(cfg.task, ())):
            out.pop(section, None)
    return out


def dump_toml(cfg: Config) -> str:
    """The fully resolved config as TOML, the file every run folder starts with."""
    return tomli_w.dumps(config_to_dict(cfg))
