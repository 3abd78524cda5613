"""N-D NpyAppender and NpyRows: np.save's bytes written a row at a time, rows read back with os.pread."""

import io
import pickle

import numpy as np
import pytest

from faultcli.data.cache import NpyAppender, NpyRows, NpySpans


def _saved(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("count", [0, 1, 7, 1234])
def test_appender_of_rows_writes_np_save_bytes(tmp_path, count):
    rows = np.random.default_rng(0).integers(0, 255, (count, 5, 4, 3), dtype=np.uint8)
    writer = NpyAppender(tmp_path / "a.npy", np.uint8, (5, 4, 3))
    for start in range(0, count, 100):
        writer.append(rows[start : start + 100])
    if count:
        writer.append(rows[0])  # one row without its leading axis
        rows = np.concatenate([rows, rows[:1]])
    writer.close()
    assert (tmp_path / "a.npy").read_bytes() == _saved(rows)


def test_rows_read_like_array_indexing(tmp_path):
    data = np.arange(10 * 3 * 2, dtype=np.float32).reshape(10, 3, 2)
    np.save(tmp_path / "r.npy", data)
    rows = NpyRows(tmp_path / "r.npy")
    assert len(rows) == 10 and rows.shape == (10, 3, 2) and rows.ndim == 3 and rows.dtype == np.float32
    picked = np.array([9, 0, 4, 4, -1])
    assert np.array_equal(rows[picked], data[picked])
    assert np.array_equal(rows[3], data[3]) and np.array_equal(rows[np.int64(-2)], data[-2])
    assert np.array_equal(rows[data[:, 0, 0] > 30], data[data[:, 0, 0] > 30])
    assert np.array_equal(rows.read(2, 5), data[2:7])
    assert rows[np.array([], dtype=np.int64)].shape == (0, 3, 2)
    with pytest.raises(IndexError):
        rows[10]
    with pytest.raises(IndexError):
        rows[np.array([0, 11])]
    with pytest.raises(IndexError):
        rows.read(8, 3)
    clone = pickle.loads(pickle.dumps(rows))  # a loader worker opens its own descriptor
    assert np.array_equal(clone[picked], data[picked])


def test_view_reads_rows_lazily(tmp_path):
    data = np.arange(6 * 4, dtype=np.uint8).reshape(6, 2, 2)
    np.save(tmp_path / "v.npy", data)
    view = NpyRows(tmp_path / "v.npy").view(np.array([5, 1, 3]))
    assert len(view) == 3 and np.array_equal(view[0], data[5]) and np.array_equal(view[-1], data[3])
    assert np.array_equal(np.stack(list(view)), data[[5, 1, 3]])
    assert np.array_equal(view[1:][0], data[1])


def test_truncated_file_is_reported(tmp_path):
    np.save(tmp_path / "t.npy", np.zeros((4, 100), dtype=np.uint8))
    raw = (tmp_path / "t.npy").read_bytes()
    (tmp_path / "t.npy").write_bytes(raw[:-150])
    with pytest.raises(ValueError, match="ends before row 3"):
        NpyRows(tmp_path / "t.npy")[3]


def test_spans_refuse_n_d_and_rows_refuse_scalars(tmp_path):
    np.save(tmp_path / "m.npy", np.zeros((2, 2)))
    np.save(tmp_path / "s.npy", np.float32(1))
    with pytest.raises(ValueError, match="1-D one is read by spans"):
        NpySpans(tmp_path / "m.npy")
    with pytest.raises(ValueError, match="scalar"):
        NpyRows(tmp_path / "s.npy")
