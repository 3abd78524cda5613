"""`faultcli list KIND`: what the registries and the recipe folder hold, one line each."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from faultcli.errors import UserError
from faultcli.services import catalog

ROOT = Path(__file__).resolve().parents[2]


def in_process(cwd: Path, monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """``faultcli.cli.app.main`` in this process, with its error mapping (exit code 2 for bad input)."""
    from faultcli.cli.app import main

    monkeypatch.chdir(cwd)
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps at 80 columns without a terminal
    monkeypatch.setattr(sys, "argv", ["faultcli", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    captured = capsys.readouterr()
    return stop.value.code or 0, captured.out, captured.err


def test_list_models_names_each_model_with_its_description(tmp_path, monkeypatch, capsys):
    code, out, err = in_process(tmp_path, monkeypatch, capsys, "list", "models")
    assert code == 0, err
    assert "multimodal_small" in out and "wdcnn" in out and "band_linear" in out
    # the builder's docstring, first line (band_linear's builder points at its class's docstring)
    assert "log band-power shares" in out


def test_list_branches_reads_the_class_behind_a_plain_builder_docstring():
    listing = catalog.list_kind("branches")
    described = {e.name: e.description for e in listing.entries}
    assert {"time", "fft", "tf", "bands"} <= set(described)
    assert not any(d.startswith("Builder of") for d in described.values())
    assert "FFT" in described["fft"]


def test_list_tasks_and_losses_name_what_recipes_may_set():
    assert {"vibration-classification", "image-classification", "segmentation"} <= {
        e.name for e in catalog.list_kind("tasks").entries
    }
    assert {"ce", "focal"} <= {e.name for e in catalog.list_kind("losses").entries}


def test_a_kind_with_nothing_registered_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(catalog.CATALOG, "widgets", catalog.Source("widget", ("faultcli.registry",)))
    monkeypatch.setattr(catalog, "KINDS", (*catalog.KINDS, "widgets"))
    code, out, err = in_process(tmp_path, monkeypatch, capsys, "list", "widgets")
    assert code == 0, err
    assert "no widgets are registered" in out and "'widget'" in out


def test_unknown_kind_exits_2_with_one_line_listing_the_kinds(tmp_path, monkeypatch, capsys):
    code, out, err = in_process(tmp_path, monkeypatch, capsys, "list", "modles")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "unknown kind 'modles'" in lines[0] and "did you mean models" in lines[0]
    assert all(kind in lines[0] for kind in ("models", "recipes", "tasks", "branches", "losses"))
    assert "Traceback" not in err + out


def test_list_recipes_shows_task_parent_and_first_sentence(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "recipes"
    folder.mkdir()
    (folder / "base.toml").write_text('# Base data. Second sentence.\ntask = "image-classification"\n')
    (folder / "child.toml").write_text('\n# A child (Zhang et al. 2017) recipe.\n#\n# More.\nextends = "base.toml"\n')
    (folder / "bare.toml").write_text("seed = 1\n")
    code, out, err = in_process(tmp_path, monkeypatch, capsys, "list", "recipes")
    assert code == 0, err
    assert "Base data" in out and "Second sentence" not in out
    assert "A child (Zhang et al. 2017) recipe" in out and "More" not in out
    assert "image-classification, extends base.toml" in out  # the task is inherited
    # a recipe without a header comment is described by its task
    bare = next(e for e in catalog.list_recipes(folder).entries if e.name == "bare.toml")
    assert bare.description == "vibration-classification"


def test_shipped_recipes_each_have_a_one_sentence_description():
    listing = catalog.list_recipes(ROOT / "recipes")
    assert len(listing.entries) >= 10
    for entry in listing.entries:
        assert entry.description and entry.description != entry.extra["task"], entry.name
        assert len(entry.description) <= 120, f"{entry.name}: first sentence too long for a one-line description"


def test_missing_recipe_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        catalog.list_recipes(tmp_path / "nowhere")
