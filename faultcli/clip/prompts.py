"""Prompt templates for vibration–text models: class names → the sentences a text encoder reads.

Templates by name: ``a-bearing`` ("A {} bearing", the Bearing-CLIP prompt), ``plain`` ("{}") and
``structured`` (a sentence spelling out what the class name says: healthy or faulty, where, how large, and
the load and speed when they are given). Any other template is a format string with exactly one ``{}``,
where the class text goes: the class name with underscores and hyphens read as spaces (``ball_007`` →
"ball 007"). Several templates per class make a prompt ensemble (``text.PromptBank`` averages them).

Class names the ``structured`` template reads (case-insensitive, parts split on ``_``, ``-``, spaces and
letter / digit boundaries):

- healthy: ``normal``, ``health``, ``healthy``;
- fault location: ``ball`` / ``b`` / ``roller`` / ``rolling`` (rolling element), ``inner`` / ``ir``,
  ``outer`` / ``or``, ``cage``, ``comb`` / ``combined`` (inner and outer race together, as in SEU);
- fault diameter: three digits are thousandths of an inch, as CWRU names them (``007`` → 0.007");
- ``@<n>``: the outer-race fault's clock position (``OR007@6`` → centred at 6 o'clock);
- ``fault``, ``race``, ``element``, ``bearing``, ``defect`` are read and add nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from faultcli.errors import ConfigError

STRUCTURED = "structured"
TEMPLATES = {"a-bearing": "A {} bearing", "plain": "{}", STRUCTURED: ""}
# condition keys a class's metadata may give; each becomes a phrase of the structured prompt
CONDITION_KEYS = ("load_hp", "load_v", "speed_hz", "rpm")

_HEALTHY = {"normal", "health", "healthy"}
_LOCATIONS = {
    "ball": ("ball",),
    "b": ("ball",),
    "roller": ("ball",),
    "rolling": ("ball",),
    "inner": ("inner",),
    "ir": ("inner",),
    "outer": ("outer",),
    "or": ("outer",),
    "cage": ("cage",),
    "comb": ("inner", "outer"),
    "combined": ("inner", "outer"),
}
_FILLER = {"fault", "faults", "race", "element", "bearing", "defect"}
_LOCATION_WORDS = {"ball": "ball (rolling element)", "inner": "inner race", "outer": "outer race", "cage": "cage"}
_ORDER = ("ball", "inner", "outer", "cage")
_MM_PER_INCH = 25.4


@dataclass(frozen=True)
class ClassInfo:
    """What a class name says: healthy, or fault locations, diameter (inches), clock position."""

    healthy: bool
    locations: tuple[str, ...]
    size_in: float | None
    position: int | None
    unread: tuple[str, ...]  # parts of the name that were not understood

    @property
    def known(self) -> bool:
        """The name reads as exactly one state (healthy xor a fault) with nothing left over."""
        if self.unread:
            return False
        if self.healthy:
            return not self.locations and self.size_in is None and self.position is None
        return bool(self.locations)


def class_text(name: str) -> str:
    """The class name as words: underscores and hyphens become spaces."""
    return re.sub(r"[_\-\s]+", " ", name).strip()


def check_template(template: str) -> str:
    """A template name or a format string with exactly one ``{}``; anything else is a ConfigError."""
    if template in TEMPLATES:
        return template
    rest = template.replace("{}", "", 1)
    if template.count("{}") != 1 or "{" in rest or "}" in rest:
        raise ConfigError(
            f"prompt template {template!r} needs exactly one {{}} where the class name goes and no other braces; "
            f"or name a built-in template: {', '.join(TEMPLATES)}"
        )
    return template


def parse_class(name: str) -> ClassInfo:
    """Read a class name (see the module docstring for the words it knows)."""
    healthy, locations, size, position, unread = False, [], None, None, []
    for part in re.findall(r"@\d+|[a-z]+|\d+(?:\.\d+)?", name.lower()):
        if part in _HEALTHY:
            healthy = True
        elif part in _LOCATIONS:
            locations += [loc for loc in _LOCATIONS[part] if loc not in locations]
        elif part in _FILLER:
            continue
        elif re.fullmatch(r"\d{3}", part) and size is None:
            size = int(part) / 1000
        elif re.fullmatch(r"@\d+", part) and position is None and 1 <= int(part[1:]) <= 12:
            position = int(part[1:])
        else:
            unread.append(part)
    ordered = tuple(loc for loc in _ORDER if loc in locations)
    return ClassInfo(healthy, ordered, size, position, tuple(unread))


def structured_prompt(name: str, condition: Mapping[str, float] | None = None) -> tuple[str, str | None]:
    """(sentence, note): the note says what was assumed when the name does not read cleanly, else None."""
    info = parse_class(name)
    if info.healthy and not info.locations:
        sentence = "A healthy bearing with no fault"
    elif info.locations:
        words = " and ".join(_LOCATION_WORDS[loc] for loc in info.locations)
        what = f"combined {words}" if len(info.locations) > 1 else words
        article = "an" if what[0] in "aeiou" else "a"
        sentence = f"A bearing with {article} {what} fault"
        if info.position is not None:
            sentence += f" centred at {info.position} o'clock"
        if info.size_in is not None:
            mm = round(info.size_in * _MM_PER_INCH, 3)
            sentence += f", {info.size_in:g} inches ({mm:g} mm) in diameter"
    else:
        sentence = f"A bearing in the {class_text(name)} state"
    sentence += _condition_phrase(condition or {}) + "."
    if info.known:
        return sentence, None
    if not info.healthy and not info.locations:
        why = "no healthy or fault-location word in the name"
    elif info.healthy and info.locations:
        why = "the name says both healthy and faulty"
    elif info.unread:
        why = f"{', '.join(map(repr, info.unread))} in the name not understood and left out"
    else:
        why = "a healthy class with a fault size or position"
    return sentence, f"class {name!r}: {why}; its structured prompt is {sentence!r}"


def _condition_phrase(condition: Mapping[str, float]) -> str:
    speed = []
    if "speed_hz" in condition:
        speed.append(f"at {condition['speed_hz']:g} Hz shaft speed")
    if "rpm" in condition:
        speed.append(f"at {condition['rpm']:g} rpm")
    load = []
    if "load_hp" in condition:
        load.append(f"under a {condition['load_hp']:g} HP load")
    if "load_v" in condition:
        load.append(f"under a {condition['load_v']:g} V load")
    parts = [" and ".join(speed)] if speed else []
    parts += load
    return ", running " + " ".join(parts) if parts else ""


def _check_metadata(metadata: Mapping[str, Mapping[str, float]], classes: Sequence[str]) -> None:
    for name, condition in metadata.items():
        if name not in classes:
            raise ConfigError(f"prompt metadata names class {name!r}, which is not a class ({', '.join(classes)})")
        bad = [key for key in condition if key not in CONDITION_KEYS]
        if bad:
            raise ConfigError(
                f"prompt metadata of class {name!r} has unknown key(s) {', '.join(bad)}; "
                f"use {', '.join(CONDITION_KEYS)}"
            )
        for key, value in condition.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ConfigError(f"prompt metadata {name}.{key} = {value!r} must be a finite number")


def class_prompts(
    classes: Sequence[str],
    templates: Sequence[str],
    metadata: Mapping[str, Mapping[str, float]] | None = None,
    notes: list[str] | None = None,
) -> dict[str, list[str]]:
    """Class → its prompts, one per template (repeats dropped), in the order of ``classes``.

    ``metadata``: class → condition (``load_hp``, ``load_v``, ``speed_hz``, ``rpm``), read by the structured
    template only. A class name the structured template cannot read cleanly is a ConfigError, unless
    ``notes`` is a list: then its fallback sentence is used and a note saying so is appended to ``notes``.
    """
    if not classes:
        raise ConfigError("no classes to write prompts for; give the class list")
    if len(set(classes)) != len(classes):
        raise ConfigError(f"class list {list(classes)} repeats a name; each class needs one name")
    if not templates:
        raise ConfigError(f"no prompt template given; name one of {', '.join(TEMPLATES)} or write one with {{}}")
    checked = [check_template(t) for t in templates]
    metadata = metadata or {}
    _check_metadata(metadata, classes)
    if metadata and STRUCTURED not in checked:
        raise ConfigError("prompt metadata is only read by the structured template; add 'structured' or drop it")
    prompts: dict[str, list[str]] = {}
    for name in classes:
        texts: list[str] = []
        for template in checked:
            if template == STRUCTURED:
                text, note = structured_prompt(name, metadata.get(name))
                if note is not None:
                    if notes is None:
                        raise ConfigError(f"{note}; rename the class, or use a prompt file or another template")
                    notes.append(note)
            else:
                text = TEMPLATES.get(template, template).format(class_text(name))
            if text not in texts:
                texts.append(text)
        prompts[name] = texts
    return prompts


def read_prompt_file(path: str | Path, classes: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Class → prompts from a UTF-8 text file, in the order of ``classes``.

    One ``class: prompt`` per line (split at the first colon; a class may have several lines, an ensemble);
    lines starting with ``#`` are comments. An empty line, an unknown class, an empty prompt or a class
    without a prompt is a ConfigError naming the file and line. ``classes`` None: the file names the
    classes, in the order they first appear (new class descriptions at evaluation).
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"prompt file {path} does not exist; fix the path") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"prompt file {path} cannot be read as UTF-8 text ({err}); fix the file") from None
    numbered = [(f"prompt file {path}, line {n}", line) for n, line in enumerate(lines, start=1)]
    prompts = parse_prompt_lines(numbered, classes)
    missing = [name for name, texts in prompts.items() if not texts]
    if missing:
        raise ConfigError(f"prompt file {path} has no prompt for class(es) {', '.join(missing)}; add a line for each")
    return prompts


def parse_prompt_lines(lines: Sequence[tuple[str, str]], classes: Sequence[str] | None = None) -> dict[str, list[str]]:
    """(where, 'class: prompt') lines → class → prompts; see :func:`read_prompt_file`."""
    prompts: dict[str, list[str]] = {name: [] for name in classes or []}
    for where, line in lines:
        if not line.strip():
            raise ConfigError(f"{where} is empty; write one 'class: prompt' per line (# starts a comment)")
        if line.lstrip().startswith("#"):
            continue
        name, colon, text = line.partition(":")
        name, text = name.strip(), text.strip()
        if not colon or not name or not text:
            raise ConfigError(f"{where}: {line.strip()!r} is not 'class: prompt'; write the class, a colon, the prompt")
        if classes is not None and name not in prompts:
            raise ConfigError(f"{where}: unknown class {name!r}; the classes are {', '.join(classes)}")
        texts = prompts.setdefault(name, [])
        if text not in texts:
            texts.append(text)
    return prompts
