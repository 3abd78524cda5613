"""docs/config.md is generated from the schema; it must match the schema, and the walk must be generic."""

from __future__ import annotations

import dataclasses
import runpy
import sys
from pathlib import Path

from faultcli.config import docs
from faultcli.config.schema import opt
from faultcli.services.catalog import registered_names

ROOT = Path(__file__).resolve().parents[2]


def test_docs_config_md_is_current():
    current = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert current == docs.render(registered_names), (
        "docs/config.md is out of date with faultcli/config/schema.py: run python scripts/gen_config_docs.py"
    )


def test_every_schema_key_is_documented():
    text = docs.render()
    for section in docs.sections():
        assert f"## {section.title}\n" in text
        for key in section.keys:
            assert f"| `{key.name}` |" in text
            assert key.help, f"{section.title} {key.name} has no help text in the schema"


@dataclasses.dataclass
class Stage:
    gain: float = opt(0.0, "gain | in dB", min=0.0, max=40.0)


@dataclasses.dataclass
class Inner:
    mode: str = opt("a", "a mode", choices=("a", "b"))
    loss: str = opt("ce", "the loss", registry="loss")
    sizes: list[int] = opt(lambda: [1, 2], "sizes", factory=True)


@dataclasses.dataclass
class Toy:
    flag: bool = opt(True, "a flag")
    inner: Inner = opt(Inner, "inner section", factory=True)
    stages: list[Stage] = opt(list, "stages by epoch", factory=True)


def test_the_walk_turns_dataclasses_into_sections_keys_and_allowed_values():
    found = list(docs.sections(Toy, registered=lambda kind: (["ce", "focal"], "losses")))
    assert [s.title for s in found] == ["top level", "[inner]", "[[stages]]"]
    assert [s.prefix for s in found] == ["", "inner.", "stages.N."]
    flag, (mode, loss, sizes), (gain,) = found[0].keys[0], found[1].keys, found[2].keys
    assert (flag.type, flag.default) == ("bool", "true")
    assert mode.allowed == "`a`, `b`" and mode.default == '"a"'
    assert loss.allowed == "`ce`, `focal` (`faultcli list losses`)"
    assert (sizes.type, sizes.default) == ("list[int]", "[1, 2]")
    assert gain.allowed == "0.0 to 40.0"


def test_a_registry_without_names_given_is_still_described():
    (inner,) = [s for s in docs.sections(Toy) if s.title == "[inner]"]
    assert inner.keys[1].allowed == "a registered `loss` name"


def test_generator_script_checks_and_writes(tmp_path, monkeypatch, capsys):
    script = runpy.run_path(str(ROOT / "scripts" / "gen_config_docs.py"))  # its main(), in this process
    out = tmp_path / "config.md"

    def run(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["gen_config_docs.py", "--out", str(out), *args])
        return script["main"]()

    assert run("--check") == 1 and "out of date" in capsys.readouterr().err
    assert run() == 0
    assert out.read_text(encoding="utf-8") == (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert run("--check") == 0
