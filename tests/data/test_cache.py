"""The prepared-dataset cache: root, hashes, keys, atomic publishing, arrays written and read piecewise."""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path

import numpy as np
import pytest

from faultcli.data.cache import (
    NpyAppender,
    NpySpans,
    cache_root,
    dataset_key,
    file_sha1,
    publish_folder,
    staging_dir,
)


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


def _saved(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("sizes", [[], [0], [5], [3, 0, 1000, 7], [123_457]])
def test_appender_writes_the_bytes_np_save_writes(tmp_path, sizes):
    rng = np.random.default_rng(0)
    chunks = [rng.standard_normal(n) for n in sizes]  # float64 in, float32 on disk
    writer = NpyAppender(tmp_path / "a.npy", np.float32)
    for chunk in chunks:
        writer.append(chunk)
    writer.close()
    whole = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    assert writer.size == whole.size
    assert (tmp_path / "a.npy").read_bytes() == _saved(whole)


def test_spans_read_what_a_memory_map_reads(tmp_path):
    data = np.arange(10_000, dtype=np.float32) * 0.5
    np.save(tmp_path / "s.npy", data)
    spans = NpySpans(tmp_path / "s.npy")
    assert len(spans) == data.size and spans.dtype == np.float32
    np.testing.assert_array_equal(spans.read(17, 300), data[17:317])
    starts = np.array([0, 9_000, 5, 9_744])
    np.testing.assert_array_equal(spans.windows(starts, 256), data[starts[:, None] + np.arange(256)])
    assert spans.windows(np.zeros(0, np.int64), 256).shape == (0, 256)
    copy = pickle.loads(pickle.dumps(spans))  # another process opens its own descriptor
    np.testing.assert_array_equal(copy.read(9_990, 10), data[-10:])


def test_spans_refuse_reads_past_the_end(tmp_path):
    np.save(tmp_path / "s.npy", np.zeros(100, np.float32))
    spans = NpySpans(tmp_path / "s.npy")
    with pytest.raises(IndexError):
        spans.read(90, 11)
    with pytest.raises(IndexError):
        spans.windows(np.array([0, 50]), 51)
