"""data.label_fraction: a stratified, seeded share of the train split's labels (label scarcity)."""

import numpy as np
import pytest

from faultcli.classification.data import labelled_subset
from faultcli.config import load_config
from faultcli.errors import DataError
from faultcli.progress import NullReporter
from faultcli.services.common import start_run
from faultcli.services.fit import fit
from tests.services.test_finetune import recipe


def test_subset_is_stratified_seeded_and_never_empties_a_class():
    rows = np.arange(300)
    labels = np.repeat([0, 1, 2], [200, 60, 40])
    first = labelled_subset(rows, labels, ["a", "b", "c"], 0.1, seed=0)
    assert np.array_equal(first, labelled_subset(rows, labels, ["a", "b", "c"], 0.1, seed=0))
    assert np.bincount(labels[first]).tolist() == [20, 6, 4]
    assert not np.array_equal(first, labelled_subset(rows, labels, ["a", "b", "c"], 0.1, seed=1))
    with pytest.raises(DataError, match="leaves class 'c'"):
        labelled_subset(rows, labels, ["a", "b", "c"], 0.01, seed=0)


def test_training_uses_the_subset_and_validation_and_test_stay_whole(tmp_path):
    full = load_config(recipe(tmp_path, "wdcnn"), ["train.epochs=1", "train.threads=1"])
    cfg = load_config(recipe(tmp_path, "wdcnn"), ["train.epochs=1", "train.threads=1", "data.label_fraction=0.25"])
    with start_run("finetune", cfg, None, tmp_path / "run") as run:
        summary = fit(cfg, run, NullReporter())
    from faultcli.tasks import get_task

    data = get_task(full.task).build_data(full, NullReporter())
    counts = np.bincount(data.labels(data.rows("train")))
    assert summary["n_train"] == int(np.round(counts * 0.25).sum())
    assert summary["n_val"] == len(data.rows("val")) and summary["n_test"] == len(data.rows("test"))


class _Lines(NullReporter):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)


def test_the_log_says_which_labels_choose_the_checkpoint(tmp_path):
    from faultcli.tasks import get_task

    said = {}
    for name, extra in (("val", []), ("last", ["train.early_stop_metric=epoch", "train.early_stop_mode=max"])):
        cfg = load_config(recipe(tmp_path, "wdcnn"), ["data.label_fraction=0.25", *extra])
        reporter = _Lines()
        get_task(cfg.task).build_data(cfg, reporter)
        said[name] = [line for line in reporter.lines if "label_fraction" in line]
    assert len(said["val"]) == 1 and "every label of the val split" in said["val"][0]
    assert said["last"] == []
