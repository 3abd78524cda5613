"""Recipe values no run can use are refused when the recipe loads, each with one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from faultcli.config import load_config
from faultcli.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "recipes" / "small.toml"


@pytest.mark.parametrize(
    "override, message",
    [
        ("vibration.arcface_weight=[[0, 0.3, 1]]", "must be \\[start_epoch, weight\\]"),
        ("vibration.arcface_weight=[[0]]", "must be \\[start_epoch, weight\\]"),
        ("vibration.arcface_weight=[[-1, 0.3]]", "must be \\[start_epoch, weight\\]"),
        ("data.rate_patterns={'12k' = 0}", "not a sampling rate"),
        ("data.rate_patterns={'12k' = -5}", "not a sampling rate"),
        ("data.sample_rate=99999999", "not a sampling rate"),
        ("data.window=99999999999", "out of range"),
        ("data.image_size=[8, 99999]", "too large"),
        ("data.preprocess=[{kind = 'bandpass', low = nan}]", "not a finite number"),
    ],
)
def test_values_no_run_can_use_are_refused(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(SMALL, [override])


def test_a_cache_dir_that_is_a_file_or_inside_one_is_refused(tmp_path):
    afile = tmp_path / "cache"
    afile.write_text("x", encoding="utf-8")
    for value in (afile, afile / "sub"):
        with pytest.raises(ConfigError, match="is a file, not a folder"):
            load_config(SMALL, [f"data.cache_dir='{value.as_posix()}'"])


def test_a_long_extends_chain_is_refused(tmp_path):
    for i in range(40):
        (tmp_path / f"r{i}.toml").write_text(f'extends = "r{i + 1}.toml"\n', encoding="utf-8")
    (tmp_path / "r40.toml").write_text("seed = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="more than 32 'extends' deep"):
        load_config(tmp_path / "r0.toml")


def test_an_override_holding_undecodable_bytes_is_refused():
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(SMALL, ["name=caf\udce9"])
