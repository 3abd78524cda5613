"""The shipped text (README, docs, recipes, code comments, CLI help and messages) speaks to users only:
no word of how the project is organised internally (work-round numbers, tracker wording, the build machine)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

INTERNAL = re.compile(
    r"\bsessions? \d+"  # "session 8", "sessions 9 and 10"
    r"|\binterrupted session\b"
    r"|\bthe issue(?:'s)?\b"  # "the targets"
    r"|\bissues?(?: #?\d+|:)"  # "issue 21", "(issue: foundation)"
    r"|\bthis machine\b"  # "this machine has on disk", "on this machine"
    r"|\bwork[- ]rounds?\b"
    r"|\blead engineer\b|\bhelper agents?\b",
    re.IGNORECASE,
)


def shipped_files() -> list[Path]:
    files = [ROOT / "README.md"]
    files += sorted((ROOT / "docs").rglob("*.md"))
    files += sorted((ROOT / "recipes").glob("*.toml"))
    files += sorted((ROOT / "faultcli").rglob("*.py"))
    return [f for f in files if f.is_file()]


def internal_wording(paths: list[Path]) -> list[str]:
    """``file:line: text`` for every line that matches."""
    hits = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = INTERNAL.search(line)
            if match:
                hits.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)!r} in {line.strip()[:100]}")
    return hits


def test_the_pattern_catches_internal_wording_and_spares_plain_text():
    for text in (
        "session 10's rule",
        "Sessions 8 and 9",
        "the issue's targets",
        "(issue: foundation)",
        "the pair this machine has on disk",
        "work round 3",
        "an interrupted session",
    ):
        assert INTERNAL.search(text), text
    for text in (
        "nox -s tests runs a session",
        "an issue with the data",
        "the machine's two cores",
        "a tissue image",
        "permission 7",
    ):
        assert not INTERNAL.search(text), text


def test_shipped_text_has_no_internal_wording():
    hits = internal_wording(shipped_files())
    assert not hits, "internal wording in shipped text:\n" + "\n".join(hits)
