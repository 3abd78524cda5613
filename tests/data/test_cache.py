"""The prepared-dataset cache: root, hashes, keys and atomic publishing."""

from __future__ import annotations

import hashlib
from pathlib import Path

from faultcli.data.cache import cache_root, dataset_key, file_sha1, publish_folder, staging_dir


def test_cache_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("FAULTCLI_CACHE", str(tmp_path / "env"))
    assert cache_root("") == tmp_path / "env"
    assert cache_root(str(tmp_path / "cfg")) == tmp_path / "cfg"
    monkeypatch.delenv("FAULTCLI_CACHE")
    assert cache_root("") == Path("~/.cache/faultcli").expanduser()


def test_file_sha1_matches_hashlib(tmp_path):
    data = bytes(range(256)) * 5000
    (tmp_path / "f").write_bytes(data)
    assert file_sha1(tmp_path / "f") == hashlib.sha1(data).hexdigest()


def test_dataset_key_depends_on_data_and_hashes_not_on_cache_dir():
    base = dataset_key("vibration", {"root": "r", "window": 1024, "cache_dir": "a"}, ["x.mat:1"])
    assert base == dataset_key("vibration", {"cache_dir": "b", "window": 1024, "root": "r"}, ["x.mat:1"])
    assert base != dataset_key("vibration", {"root": "r", "window": 512, "cache_dir": "a"}, ["x.mat:1"])
    assert base != dataset_key("vibration", {"root": "r", "window": 1024}, ["x.mat:2"])
    assert base != dataset_key("images", {"root": "r", "window": 1024}, ["x.mat:1"])
    assert base != dataset_key("vibration", {"root": "r", "window": 1024}, ["x.mat:1"], {"task": "seg"})


def test_publish_renames_the_staging_folder_and_keeps_an_existing_one(tmp_path):
    tmp = staging_dir(tmp_path)
    assert tmp.parent == tmp_path and tmp.is_dir() and not any(tmp.iterdir())
    (tmp / "manifest.json").write_text("{}")
    final = publish_folder(tmp, tmp_path / "vibration" / "k1")
    assert (final / "manifest.json").read_text() == "{}" and not tmp.exists()
    # a second writer with the same key: the first folder stays, the second staging folder goes
    tmp2 = staging_dir(tmp_path)
    (tmp2 / "manifest.json").write_text('{"late": 1}')
    assert publish_folder(tmp2, final) == final
    assert (final / "manifest.json").read_text() == "{}" and not tmp2.exists()
