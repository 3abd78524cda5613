"""Files that are not what they claim, and values no recording holds: each is one DataError naming the file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io

from faultcli.data import rates
from faultcli.data.readers.images import decode_image
from faultcli.data.readers.labels_csv import read_labels_csv
from faultcli.data.readers.masks import read_rle_csv
from faultcli.data.readers.voc import read_voc
from faultcli.data.rle import decode
from faultcli.errors import DataError


def _mat(path: Path, values: np.ndarray, **extra) -> Path:
    scipy.io.savemat(path, {"X001_DE_time": values, **extra})
    return path


@pytest.mark.parametrize("rate", [0.0, -12000.0, np.nan, np.inf, 1e-9, 1e12])
def test_a_stated_rate_that_is_no_rate_is_refused(tmp_path, rate):
    path = _mat(tmp_path / "a.mat", np.ones((500, 1)), fs=np.array([[rate]]))
    recordings = rates.read_file(path, "mat")
    with pytest.raises(DataError, match="not a sampling rate"):
        rates.at_rate(path, recordings, 12000)


@pytest.mark.parametrize("source", [100.0, 1_000_000.0])
def test_resampling_is_bounded_to_a_factor_of_64(source):
    with pytest.raises(DataError, match="factor beyond 1/64 to 64"):
        rates.resample(np.ones(1000), source, 12000)
    assert rates.resample(np.ones(4800), 48000, 12000).size == 1200


def test_samples_that_overflow_float32_are_refused(tmp_path):
    values = np.ones((500, 1))
    values[7] = 1e39  # finite in float64
    path = _mat(tmp_path / "a.mat", values)
    with pytest.raises(DataError, match="sample 7 is 1e\\+39.*not a measurement"):
        rates.read_file(path, "mat")


def test_complex_and_boolean_signals_are_refused(tmp_path):
    with pytest.raises(DataError, match="complex values, not real numbers"):
        rates.read_file(_mat(tmp_path / "c.mat", np.ones((500, 1)) * 1j), "mat")
    np.save(tmp_path / "b.npy", np.ones(500, dtype=bool))
    with pytest.raises(DataError, match="bool values"):
        rates.read_file(tmp_path / "b.npy", "npy")


def test_an_npz_named_npy_and_an_empty_array_are_refused(tmp_path):
    with open(tmp_path / "a.npy", "wb") as handle:
        np.savez(handle, x=np.ones(10))
    with pytest.raises(DataError, match=".npz archive named .npy"):
        rates.read_file(tmp_path / "a.npy", "npy")
    np.save(tmp_path / "e.npy", np.zeros((0, 0)))
    with pytest.raises(DataError, match="holds no samples"):
        rates.read_file(tmp_path / "e.npy", "npy")


@pytest.mark.parametrize("value", ["inf", "1e400", "nan", "-5", "99999999999999999999"])
def test_voc_coordinates_that_are_no_pixel_are_refused(tmp_path, value):
    path = tmp_path / "a.xml"
    path.write_text(
        f"<annotation><object><name>x</name><bndbox><xmin>{value}</xmin><ymin>1</ymin><xmax>5</xmax>"
        "<ymax>5</ymax></bndbox></object></annotation>",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="not a pixel coordinate"):
        read_voc(path)


def test_an_inverted_voc_box_is_refused(tmp_path):
    path = tmp_path / "a.xml"
    path.write_text(
        "<annotation><object><name>x</name><bndbox><xmin>9</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax>"
        "</bndbox></object></annotation>",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="xmin > xmax"):
        read_voc(path)


@pytest.mark.parametrize("rle", ["18446744073709551617 1", "9223372036854775807 10", "1 9223372036854775807"])
def test_rle_runs_beyond_64_bits_or_the_image_are_refused(rle):
    with pytest.raises(DataError):
        decode(rle, 4, 4)


def test_rle_csv_without_class_suffix_and_labels_csv_with_inf_values(tmp_path):
    (tmp_path / "r.csv").write_text("ImageId_ClassId,EncodedPixels\na.jpg,1 3\n", encoding="utf-8")
    with pytest.raises(DataError, match="no '_<class>' suffix"):
        read_rle_csv(tmp_path / "r.csv")
    (tmp_path / "l.csv").write_text("file,label,value\na.jpg,x,inf\n", encoding="utf-8")
    with pytest.raises(DataError, match="not a finite number"):
        read_labels_csv(tmp_path / "l.csv")


def test_corrupt_jpeg_data_is_undecodable_and_nothing_reaches_stderr(tmp_path, capfd):
    image = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    data = cv2.imencode(".jpg", image)[1].tobytes()
    (tmp_path / "good.jpg").write_bytes(data)
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2] + b"\xff\xd9")
    png = bytearray(cv2.imencode(".png", image)[1].tobytes())
    png[60] ^= 0xFF
    (tmp_path / "crc.png").write_bytes(bytes(png))
    assert decode_image(tmp_path / "good.jpg").shape == (64, 64)
    assert decode_image(tmp_path / "cut.jpg") is None
    assert decode_image(tmp_path / "crc.png") is None
    assert capfd.readouterr().err == ""
