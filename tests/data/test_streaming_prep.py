"""Prepared vibration datasets larger than memory: the streamed preparation gives the bytes and figures of
one read held in memory, holds one file at a time, and batches read the samples a memory map reads."""

from __future__ import annotations

import io
import json
import tracemalloc

import numpy as np
import pytest

from faultcli.data import windows as windows_module
from faultcli.data.vibration import prepare_vibration
from faultcli.data.windows import window_norm, window_sums
from tests.data.test_vibration import cfg, make_recordings


def _in_memory_norm(signals: np.ndarray, starts: np.ndarray, window: int) -> dict[str, float]:
    """The statistics from prefix sums of the whole signal at once (how they were taken before streaming)."""
    x = signals.astype(np.float64)
    cs = np.concatenate([[0.0], np.cumsum(x)])
    cs2 = np.concatenate([[0.0], np.cumsum(x * x)])
    n = len(starts) * window
    mean = (cs[starts + window] - cs[starts]).sum() / n
    var = max((cs2[starts + window] - cs2[starts]).sum() / n - mean * mean, 0.0)
    return {"mean": float(mean), "std": float(np.sqrt(var)) or 1.0}


@pytest.mark.parametrize("chunk", [1, 7, 1000, 1 << 22])
def test_window_sums_in_pieces_equal_the_whole_signal_prefix_sums(chunk):
    rng = np.random.default_rng(1)
    signal = (rng.standard_normal(5000) * 3 + 1).astype(np.float32)
    starts = rng.permutation(np.arange(0, 5000 - 64 + 1, 13))[:200]  # any order, the last sample included
    starts[0] = 5000 - 64
    sums, squares = window_sums(lambda lo, n: signal[lo : lo + n], signal.size, starts, 64, chunk)
    assert window_norm(sums, squares, 64) == _in_memory_norm(signal, starts, 64)
    np.testing.assert_allclose(sums, signal[starts[:, None] + np.arange(64)].sum(axis=1), rtol=1e-4, atol=1e-3)


def _folder_bytes(path, name):
    return (path / name).read_bytes()


@pytest.mark.parametrize(
    "options",
    [{}, {"split": "kfold", "folds": 4}, {"split": "by-condition", "train_conditions": ["0", "1", "2"]}],
)
def test_streamed_prep_is_byte_identical_to_one_read_in_memory(tmp_path, monkeypatch, options):
    monkeypatch.setattr(windows_module, "CHUNK", 1000)  # many pieces: the carried sums are exercised
    root = make_recordings(tmp_path / "raw", length=5000)
    if options.get("split") == "by-condition":
        options = {**options, "test_conditions": ["3"]}
    streamed = prepare_vibration(cfg(root, **options))
    # evaluating reads every file in one call and writes the concatenation: the in-memory path
    whole = prepare_vibration(cfg(root, **options), evaluating=True)
    assert streamed.path != whole.path
    for name in ("signals.npy", "windows.npy", "recordings.csv"):
        assert _folder_bytes(streamed.path, name) == _folder_bytes(whole.path, name)
    buffer = io.BytesIO()
    np.save(buffer, np.load(streamed.path / "signals.npy"))
    assert _folder_bytes(streamed.path, "signals.npy") == buffer.getvalue()  # np.save's own bytes

    a, b = (json.loads((ds.path / "manifest.json").read_text()) for ds in (streamed, whole))
    assert {k: v for k, v in a.items() if k != "key"} == {k: v for k, v in b.items() if k != "key"}
    signals, w = np.load(streamed.path / "signals.npy"), streamed.windows
    starts = streamed.recordings["offset"].to_numpy()[w[:, 0]] + w[:, 1]
    if "norm_folds" in a:
        for k, stats in enumerate(a["norm_folds"]):
            train = ~np.isin(w[:, 3], [k, (k + 1) % 4])
            assert stats == _in_memory_norm(signals, starts[train], 256)
    else:
        assert a["norm"] == _in_memory_norm(signals, starts[w[:, 3] == 0], 256)


def test_prep_never_holds_the_whole_signal(tmp_path, monkeypatch):
    monkeypatch.setattr(windows_module, "CHUNK", 1 << 16)
    classes = tuple("abcdefgh")
    root = make_recordings(tmp_path / "raw", classes=classes, loads=(0, 1, 2, 3), length=250_000)
    dataset_bytes = 32 * 250_000 * 4  # 32 recordings of float32: 32 MB
    tracemalloc.start()
    try:
        ds = prepare_vibration(cfg(root, window=1024, step=1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ds.signals.size * 4 == dataset_bytes
    # about 6 MB: one file read (2 MB as float64 on disk, 1 MB as float32) and the window index; holding
    # the signal once, as one array, would already be 32 MB (and the prefix sums of it in float64, 4 times that)
    assert peak < 0.35 * dataset_bytes, f"peak {peak / 1e6:.1f} MB of a {dataset_bytes / 1e6:.0f} MB dataset"


def test_batches_read_by_spans_equal_the_memory_mapped_samples(tmp_path):
    ds = prepare_vibration(cfg(make_recordings(tmp_path / "raw")))
    rows = np.random.default_rng(0).permutation(len(ds.windows))[:50]
    read = ds.signals_for(rows)
    offsets = ds.recordings["offset"].to_numpy()[ds.windows[rows, 0]] + ds.windows[rows, 1]
    mapped = np.asarray(ds.signals[offsets[:, None] + np.arange(ds.window)])
    assert read.dtype == np.float32 and read.shape == (50, ds.window)
    np.testing.assert_array_equal(read, mapped)
