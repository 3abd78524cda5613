"""Per-task recipe sections: each task reads its own, keys of the earlier layout name their new place,
and checkpoints stored in the earlier layout still load."""

from pathlib import Path

import pytest

from faultcli.config import dump_toml, load_config
from faultcli.config.load import migrate, moved_keys
from faultcli.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_every_moved_key_names_its_new_place_in_a_recipe(tmp_path):
    recipe = write(tmp_path / "old.toml", '[model]\nname = "wdcnn"\nbranches = ["fft"]\n')
    with pytest.raises(ConfigError, match=r"model.branches has moved to vibration.branches") as err:
        load_config(recipe)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("task", "override", "new"),
    [
        ("vibration-classification", "train.mixup_alpha=0.2", "vibration.mixup_alpha"),
        ("image-classification", "train.mixup_alpha=0.2", "image.mixup_alpha"),
        ("image-classification", "eval.tta_flip=true", "image.tta_flip"),
        ("segmentation", "eval.tta_flip=true", "segmentation.tta_flip"),
        ("segmentation", "train.dice_weight=0.5", "segmentation.dice_weight"),
        ("image-classification", "model.backbone=resnet34", "image.backbone"),
    ],
)
def test_a_moved_key_in_set_names_the_place_of_the_recipes_task(task, override, new):
    with pytest.raises(ConfigError, match=rf"has moved to {new};"):
        load_config(None, [f"task={task}", override])


def test_a_section_of_another_task_is_refused():
    with pytest.raises(ConfigError, match=r"section \[image\] holds settings of task 'image-classification'"):
        load_config(ROOT / "recipes" / "small.toml", ["image.backbone=resnet34"])
    with pytest.raises(ConfigError, match=r"\[vibration\].*set task = 'vibration-classification'"):
        load_config(ROOT / "recipes" / "segment-pan.toml", ["vibration.wide_bands=8"])


def test_the_resolved_recipe_holds_only_its_tasks_section():
    text = dump_toml(load_config(ROOT / "recipes" / "small.toml"))
    assert "[vibration]" in text and "[image]" not in text and "[segmentation]" not in text


def test_a_checkpoint_config_of_the_earlier_layout_loads_into_the_task_sections():
    old = {
        "task": "segmentation",
        "model": {"name": "smp_segmenter", "arch": "Unet", "encoder": "resnet18", "branches": ["time"]},
        "train": {"dice_weight": 0.5, "lr": 0.01, "mixup_alpha": 0.0},
        "eval": {"tta_flip": True, "tile_overlap": 0.5, "batch_size": 8},
    }
    cfg = load_config(None, [], base=old)
    s = cfg.segmentation
    assert (s.arch, s.encoder, s.dice_weight, s.tta_flip, s.tile_overlap) == ("Unet", "resnet18", 0.5, True, 0.5)
    assert cfg.train.lr == 0.01 and cfg.eval.batch_size == 8
    # keys another task read are dropped, not moved into a section this task would refuse
    assert "branches" not in migrate(old).get("vibration", {})


def test_every_moved_key_has_a_place_and_no_key_is_left_in_both():
    moves = moved_keys()
    assert moves["model.branches"] == {"vibration": "vibration.branches"}
    assert moves["eval.tta_flip"] == {"image": "image.tta_flip", "segmentation": "segmentation.tta_flip"}
    import dataclasses

    from faultcli.config.schema import EvalConfig, ModelConfig, TrainConfig

    left = {
        f"{s}.{f.name}"
        for s, c in (("model", ModelConfig), ("train", TrainConfig), ("eval", EvalConfig))
        for f in dataclasses.fields(c)
    }
    assert not left & set(moves)


def test_runs_of_the_earlier_layout_compare_key_for_key(tmp_path):
    from faultcli.services.runs import _read_config

    write(tmp_path / "config.toml", '[model]\nname = "multimodal_small"\nbranches = ["fft"]\n')
    assert _read_config(tmp_path) == {"model.name": "multimodal_small", "vibration.branches": ["fft"]}
