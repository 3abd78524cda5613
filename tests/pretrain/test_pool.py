"""The pool: the recipe's train windows (never val or test) and unlabelled extra folders read like data.root."""

from __future__ import annotations

import numpy as np
import pytest

from faultcli.classification.vibration import vibration_data
from faultcli.config import load_config
from faultcli.errors import DataError
from faultcli.pretrain.pool import UNLABELLED, build_pool
from faultcli.progress import NullReporter

from .conftest import write_recordings


def test_the_pool_is_the_train_split_plus_unlabelled_folders(tmp_path, vib_recipe):
    extra = write_recordings(tmp_path / "extra", loads=(2, 3), codes=("IR",))
    (extra / "IR007_2.mat").rename(extra / "unnamed recording.mat")  # no label rule would match it
    overrides = [f'pretrain.extra_roots=["{extra}"]', "pretrain.extra_rate=12000", 'pretrain.extra_include=["un*"]']
    cfg = load_config(vib_recipe(), overrides)
    labelled = vibration_data(cfg, NullReporter())
    pool = build_pool(cfg, labelled, NullReporter())
    train = labelled.rows("train")
    assert len(pool) == len(train) + pool.unlabelled and pool.unlabelled == 22
    assert set(pool.sources[0][0]) == set(train)
    assert not set(pool.sources[0][0]) & (set(labelled.rows("test")) | set(labelled.rows("val")))
    rows = np.array([len(pool) - 1, 0, 5, len(train)])
    batch = pool.fetch(rows)
    assert batch["x"].shape == (4, 1, 1024)
    assert batch["y"][0] == UNLABELLED and batch["y"][3] == UNLABELLED and (batch["y"][1:3] >= 0).all()
    direct = labelled.fetch(train[[0, 5]])
    assert np.array_equal(batch["x"][1:3].numpy(), direct["x"].numpy())
    files = {(r["source"], r["file"]) for r in pool.manifest}
    assert ("extra folder", "unnamed recording.mat") in files and ("train split", "IR007_0.mat") in files
    assert all(len(r["sha1"]) == 40 and r["windows"] > 0 for r in pool.manifest)


def test_an_extra_folder_of_unknown_rate_is_one_line_naming_the_key(tmp_path, vib_recipe):
    extra = write_recordings(tmp_path / "extra", loads=(2,), codes=("IR",))
    cfg = load_config(vib_recipe(), [f'pretrain.extra_roots=["{extra}"]'])
    with pytest.raises(DataError, match="sampling rate unknown.*--set pretrain.extra_rate=HZ") as err:
        build_pool(cfg, vibration_data(cfg, NullReporter()), NullReporter())
    assert "\n" not in str(err.value) and str(err.value).startswith(f"pretrain.extra_roots = {extra}")
    empty = tmp_path / "empty"
    empty.mkdir()
    cfg = load_config(vib_recipe(), [f'pretrain.extra_roots=["{empty}"]', "pretrain.extra_rate=12000"])
    with pytest.raises(DataError, match="holds no readable files"):
        build_pool(cfg, vibration_data(cfg, NullReporter()), NullReporter())
