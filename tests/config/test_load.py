from dataclasses import replace
from pathlib import Path

import pytest

from faultcli.config import dump_toml, load_config
from faultcli.config.load import parse_override
from faultcli.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_extends_merges_tables_and_child_wins(tmp_path):
    write(tmp_path / "base.toml", '[data]\nroot = "a"\nwindow = 2048\n[train]\nlr = 0.01\n')
    child = write(tmp_path / "child.toml", 'extends = "base.toml"\n[data]\nwindow = 512\n')
    cfg = load_config(child)
    assert cfg.data.root == "a" and cfg.data.window == 512 and cfg.train.lr == 0.01
    assert cfg.name == "child"


def test_overrides_are_parsed_as_toml_and_bare_words_are_strings(tmp_path):
    recipe = write(tmp_path / "r.toml", "")
    cfg = load_config(
        recipe,
        [
            "train.lr=3e-4",
            "data.window=2048",
            "data.split=by-file",
            "vibration.branches=['fft']",
            "data.train_conditions=[0, 1]",
        ],
    )
    assert cfg.train.lr == pytest.approx(3e-4)
    assert cfg.data.window == 2048 and cfg.data.split == "by-file"
    assert cfg.vibration.branches == ["fft"] and cfg.data.train_conditions == ["0", "1"]


def test_overrides_reach_into_arrays_of_tables_by_index(tmp_path):
    recipe = write(tmp_path / "r.toml", "[[augment]]\nstart_epoch = 0\nscale = 0.1\n[[augment]]\nstart_epoch = 5\n")
    cfg = load_config(recipe, ["augment.1.eq_db=6", "augment.0.prob=0.2"])
    assert [s.eq_db for s in cfg.augment] == [0.0, 6.0]
    assert cfg.augment[0].prob == 0.2 and cfg.augment[0].scale == 0.1 and cfg.augment[1].start_epoch == 5
    for bad in ("augment.2.eq_db=6", "augment.last.eq_db=6"):
        with pytest.raises(ConfigError, match=r"not an index of a list of 2; write a number from 0 to 1"):
            load_config(recipe, [bad])
    with pytest.raises(ConfigError, match=r"augment\.eq_dbb|eq_dbb"):
        load_config(recipe, ["augment.1.eq_dbb=6"])


def test_a_child_recipe_changes_array_of_tables_items_by_index(tmp_path):
    write(tmp_path / "base.toml", "[[augment]]\nstart_epoch = 0\nscale = 0.1\n[[augment]]\nstart_epoch = 5\n")
    child = write(tmp_path / "child.toml", 'extends = "base.toml"\n[augment.1]\neq_db = 6.0\n')
    cfg = load_config(child)
    assert [(s.start_epoch, s.scale, s.eq_db) for s in cfg.augment] == [(0, 0.1, 0.0), (5, 0.0, 6.0)]
    bad = write(tmp_path / "bad.toml", 'extends = "base.toml"\n[augment.2]\neq_db = 6.0\n')
    with pytest.raises(ConfigError, match=r"\[augment\.2\].*not an index of a list of 2; write a number from 0 to 1"):
        load_config(bad)


def test_unknown_key_names_path_and_suggests(tmp_path):
    recipe = write(tmp_path / "r.toml", "[train]\nlrr = 0.1\n")
    with pytest.raises(ConfigError, match=r"train\.lrr.*did you mean 'train\.lr'"):
        load_config(recipe)


def test_wrong_type_choice_and_range_are_rejected(tmp_path):
    recipe = write(tmp_path / "r.toml", "")
    with pytest.raises(ConfigError, match="train.epochs must be int"):
        load_config(recipe, ["train.epochs=ten"])
    with pytest.raises(ConfigError, match="data.split = 'random' is not allowed; choose one of"):
        load_config(recipe, ["data.split=random"])
    with pytest.raises(ConfigError, match=r"train.label_smoothing = 0.9 is out of range"):
        load_config(recipe, ["train.label_smoothing=0.9"])
    with pytest.raises(ConfigError, match="fractions"):
        load_config(recipe, ["data.fractions=[0.5, 0.1, 0.1]"])


def test_bad_override_syntax(tmp_path):
    with pytest.raises(ConfigError, match="has no '='"):
        parse_override("train.lr")
    with pytest.raises(ConfigError, match="not a valid TOML value"):
        parse_override("vibration.branches=[fft")


def test_missing_recipe_and_extends_loop(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    loop = write(tmp_path / "loop.toml", 'extends = "loop.toml"\n')
    with pytest.raises(ConfigError, match="loop"):
        load_config(loop)


def test_resolved_dump_round_trips(tmp_path):
    recipe = write(
        tmp_path / "r.toml",
        "[[augment]]\nstart_epoch = 2\nnoise_std = 0.1\n[vibration]\narcface_weight = [[0, 0.3], [5, 0.5]]\n",
    )
    cfg = load_config(recipe)
    again = load_config(write(tmp_path / "resolved.toml", dump_toml(cfg)))
    assert again == cfg
    assert again.augment[0].noise_std == 0.1 and again.vibration.arcface_weight[1] == [5.0, 0.5]


def test_every_shipped_recipe_validates():
    recipes = sorted(Path(__file__).resolve().parents[2].joinpath("recipes").glob("*.toml"))
    assert recipes, "no recipes shipped"
    for recipe in recipes:
        load_config(recipe)


def test_transfer_recipe_is_the_benchmarked_configuration():
    # README's load-pair rows for small-transfer.toml are measured as small.toml plus these overrides
    recipes = Path(__file__).resolve().parents[2] / "recipes"
    shipped = load_config(recipes / "small-transfer.toml")
    measured = load_config(
        recipes / "small.toml",
        [
            'vibration.branches=["time","fft","tf","bands"]',
            "vibration.window_norm=true",
            "augment.1.eq_db=12",
            "augment.2.eq_db=12",
        ],
    )
    assert replace(shipped, name="") == replace(measured, name="")
