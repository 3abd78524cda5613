"""Loading another run's weights by name and shape, and finding them in files and run folders."""

import pytest
import torch
from torch import nn

from faultcli.errors import CheckpointError, ConfigError, UserError
from faultcli.models.init_weights import InitReport, load_matching, read_weights


class Encoder(nn.Module):
    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, width, 3)
        self.bn = nn.BatchNorm1d(width)


class Classifier(nn.Module):
    def __init__(self, width: int = 8, classes: int = 4) -> None:
        super().__init__()
        self.backbone = Encoder(width)
        self.head = nn.Linear(width, classes)


def test_report_lists_loaded_skipped_and_new_keys():
    source = Encoder()
    state = {**source.state_dict(), "projection.weight": torch.zeros(2, 8)}
    model = Classifier()
    report = load_matching(model, state, prefix_map={"": "backbone."})
    assert report.loaded == sorted(f"backbone.{k}" for k in source.state_dict())
    assert report.skipped == ["projection.weight"]  # listed under its name in the file
    assert report.initialised == ["head.bias", "head.weight"]
    assert torch.equal(model.backbone.conv.weight, source.conv.weight)
    assert torch.equal(model.backbone.bn.running_var, source.bn.running_var)
    assert "newly initialised (head.bias, head.weight)" in report.describe()


def test_longest_prefix_wins_and_none_drops_keys():
    state = {"enc.conv.weight": torch.ones(8, 1, 3), "enc.conv.bias": torch.ones(8), "enc.old.x": torch.ones(1)}
    report = load_matching(Encoder(), state, prefix_map={"enc.": "", "enc.old.": None})
    assert report.loaded == ["conv.bias", "conv.weight"] and report.skipped == ["enc.old.x"]


def test_prefix_mapped_to_none_drops_those_keys():
    trained = Classifier(classes=10)
    model = Classifier(classes=3)
    report = load_matching(model, trained.state_dict(), prefix_map={"head.": None})
    assert report.skipped == ["head.bias", "head.weight"] and report.initialised == ["head.bias", "head.weight"]
    assert torch.equal(model.backbone.conv.weight, trained.backbone.conv.weight)


def test_shape_mismatch_is_one_line_naming_three_keys():
    model = Classifier(width=8)
    before = model.backbone.conv.weight.clone()
    with pytest.raises(ConfigError) as err:
        load_matching(model, Classifier(width=16).state_dict())
    message = str(err.value)
    assert "\n" not in message and "another architecture" in message
    assert "backbone.conv.weight (16, 1, 3) in the file, (8, 1, 3) here" in message and "4 more" in message
    assert message.count("in the file") == 3
    assert torch.equal(model.backbone.conv.weight, before)  # nothing copied


def test_read_weights_from_state_dict_checkpoint_and_run_folder(tmp_path):
    state = Encoder().state_dict()
    torch.save(state, tmp_path / "plain.pt")
    torch.save({"model": state, "config": {}, "epoch": 3}, tmp_path / "ckpt.pt")
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    torch.save({"model": state, "config": {}}, run / "checkpoints" / "best.pt")
    for source in (tmp_path / "plain.pt", str(tmp_path / "ckpt.pt"), run):
        got = read_weights(source)
        assert set(got) == set(state) and torch.equal(got["conv.weight"], state["conv.weight"])


def test_read_weights_names_what_is_wrong(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        read_weights(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read"):
        read_weights(tmp_path / "junk.pt")
    torch.save({"epoch": 3}, tmp_path / "empty.pt")
    with pytest.raises(CheckpointError, match="no state dict"):
        read_weights(tmp_path / "empty.pt")
    with pytest.raises(CheckpointError, match="no checkpoints/best.pt"):
        read_weights(tmp_path)
    (tmp_path / "kfold" / "fold-0" / "checkpoints").mkdir(parents=True)
    torch.save(Encoder().state_dict(), tmp_path / "kfold" / "fold-0" / "checkpoints" / "best.pt")
    with pytest.raises(CheckpointError, match="k-fold run; pass one fold's folder") as err:
        read_weights(tmp_path / "kfold")
    assert isinstance(err.value, UserError) and "\n" not in str(err.value)


def test_empty_report_describes_itself():
    assert InitReport().describe() == "loaded 0 tensors; 0 in the file unused; 0 newly initialised"
