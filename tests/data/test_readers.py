"""Each vibration reader on small generated files, and the errors for files that are not what they claim."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.io

from faultcli.data.readers import format_of, reader_for
from faultcli.errors import DataError
from faultcli.registry import available


def _signal(n: int = 500, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n)


def test_readers_are_registered_by_format():
    reader_for("mat")
    assert {"mat", "csv", "xlsx", "npy"} <= set(available("reader"))
    assert format_of("a/B007_0.MAT") == "mat" and format_of("x.txt") is None


def test_mat_discovers_the_keys_of_any_id_and_reads_rpm(tmp_path):
    de, fe = _signal(seed=1), _signal(seed=2)
    scipy.io.savemat(
        tmp_path / "a.mat", {"X099_DE_time": de[:, None], "X099_FE_time": fe[:, None], "X099RPM": np.array([[1797]])}
    )
    (rec,) = reader_for("mat")(tmp_path / "a.mat", channel="DE")
    np.testing.assert_allclose(rec.signal, de)
    assert rec.rpm == 1797 and rec.sensor == "DE" and rec.rate is None
    (rec,) = reader_for("mat")(tmp_path / "a.mat", channel="FE")
    np.testing.assert_allclose(rec.signal, fe)


def test_mat_prefers_the_id_that_has_an_rpm(tmp_path):
    # some CWRU files carry a second id copied from another recording
    own, other = _signal(seed=3), _signal(seed=4)
    scipy.io.savemat(
        tmp_path / "b.mat",
        {"X098_DE_time": other[:, None], "X099_DE_time": own[:, None], "X099RPM": np.array([[1750]])},
    )
    (rec,) = reader_for("mat")(tmp_path / "b.mat", channel="DE")
    np.testing.assert_allclose(rec.signal, own)


def test_mat_reads_a_sampling_rate_variable(tmp_path):
    scipy.io.savemat(tmp_path / "c.mat", {"X001_DE_time": _signal()[:, None], "fs": np.array([[48000]])})
    (rec,) = reader_for("mat")(tmp_path / "c.mat", channel="DE")
    assert rec.rate == 48000


def test_mat_missing_channel_lists_the_channels_found(tmp_path):
    # the CWRU normal baseline has no BA channel
    scipy.io.savemat(
        tmp_path / "Normal_0.mat", {"X097_DE_time": _signal()[:, None], "X097_FE_time": _signal()[:, None]}
    )
    with pytest.raises(DataError, match=r"Normal_0.mat has no BA channel \(found DE, FE\).*data.channel"):
        reader_for("mat")(tmp_path / "Normal_0.mat", channel="BA")


def test_mat_without_a_vibration_key_lists_its_keys(tmp_path):
    scipy.io.savemat(tmp_path / "d.mat", {"temperature": np.ones(3), "notes": np.ones(2)})
    with pytest.raises(DataError, match=r"d.mat has no vibration variable \(keys found: notes, temperature\)"):
        reader_for("mat")(tmp_path / "d.mat", channel="DE")


def test_mat_that_is_text_is_a_data_error(tmp_path):
    (tmp_path / "e.mat").write_text("this is not matlab\n")
    with pytest.raises(DataError, match="e.mat is not a readable MATLAB file"):
        reader_for("mat")(tmp_path / "e.mat", channel="DE")


def test_csv_columns_layout_one_recording_per_column(tmp_path):
    a, b = _signal(300, 1), _signal(200, 2)
    frame = pd.DataFrame({"sample_1": a, "sample_2": np.concatenate([b, np.full(100, np.nan)])})
    frame.to_csv(tmp_path / "inner_race_fault30_1_train.csv", index=False)
    recs = reader_for("csv")(tmp_path / "inner_race_fault30_1_train.csv", csv_layout="auto")
    assert [r.part for r in recs] == ["sample_1", "sample_2"]
    np.testing.assert_allclose(recs[0].signal, a)
    np.testing.assert_allclose(recs[1].signal, b)  # ragged column: trailing blanks are padding


def test_csv_signal_layout_without_header_and_with_an_index_column(tmp_path):
    sig = _signal(400)
    np.savetxt(tmp_path / "one.csv", sig, delimiter=",")
    (rec,) = reader_for("csv")(tmp_path / "one.csv", csv_layout="signal")
    np.testing.assert_allclose(rec.signal, sig)
    pd.DataFrame({"t": np.arange(400) / 12000, "value": sig}).to_csv(tmp_path / "two.csv", index=False)
    (rec,) = reader_for("csv")(tmp_path / "two.csv", csv_layout="auto")
    np.testing.assert_allclose(rec.signal, sig)
    assert rec.part == ""


def test_csv_signal_layout_with_many_columns_says_use_columns(tmp_path):
    pd.DataFrame({"a": _signal(50, 1), "b": _signal(50, 2)}).to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(DataError, match="m.csv has 2 value columns.*csv_layout = 'columns'"):
        reader_for("csv")(tmp_path / "m.csv", csv_layout="signal")


def test_csv_with_a_word_in_the_data_names_the_cell(tmp_path):
    (tmp_path / "w.csv").write_text("v\n1.0\n2.0\noops\n3.0\n")
    with pytest.raises(DataError, match=r"w.csv: row 4, column 1 is not a number \('oops'\)"):
        reader_for("csv")(tmp_path / "w.csv")


def test_csv_that_is_binary_is_a_data_error(tmp_path):
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError, match="bin.csv"):
        reader_for("csv")(tmp_path / "bin.csv")


def test_xlsx_index_and_value_column(tmp_path):
    sig = _signal(1024)
    folder = tmp_path / "normal_train160"
    folder.mkdir()
    pd.DataFrame({"index": np.arange(1024), "value": sig}).to_excel(folder / "1.xlsx", index=False)
    (rec,) = reader_for("xlsx")(folder / "1.xlsx")
    np.testing.assert_allclose(rec.signal, sig)


def test_xlsx_that_is_text_is_a_data_error(tmp_path):
    (tmp_path / "t.xlsx").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="t.xlsx is not a readable Excel"):
        reader_for("xlsx")(tmp_path / "t.xlsx")


def test_npy_one_dimensional_and_one_recording_per_row(tmp_path):
    sig = _signal(100)
    np.save(tmp_path / "a.npy", sig)
    (rec,) = reader_for("npy")(tmp_path / "a.npy")
    np.testing.assert_allclose(rec.signal, sig)
    rows = np.stack([_signal(64, i) for i in range(3)])
    np.save(tmp_path / "b.npy", rows)
    recs = reader_for("npy")(tmp_path / "b.npy")
    assert [r.part for r in recs] == ["row0", "row1", "row2"]
    np.testing.assert_allclose(recs[2].signal, rows[2])


def test_npy_bad_shape_and_text_file_are_data_errors(tmp_path):
    np.save(tmp_path / "c.npy", np.zeros((2, 2, 2)))
    with pytest.raises(DataError, match=r"c.npy has shape \(2, 2, 2\)"):
        reader_for("npy")(tmp_path / "c.npy")
    (tmp_path / "d.npy").write_text("1 2 3")
    with pytest.raises(DataError, match="d.npy is not a readable .npy"):
        reader_for("npy")(tmp_path / "d.npy")
