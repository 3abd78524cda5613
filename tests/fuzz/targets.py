"""Fuzz targets: for every reader and the recipe loader, a Hypothesis strategy of hostile inputs (small valid
seeds made here or read in place from the shared data, then mutated) and a check of the outcome.

A target's ``run(case, workdir)`` returns ``"ok"`` (a value that passed every check) or ``"error"`` (a
``UserError`` with a one-line, non-empty message). Anything else escapes: another exception, an
``AcceptedCorrupt`` (a wrong value let through), a ``Hang`` (over the per-case time limit). The tests in
this folder and ``benchmarks/fuzz.py`` share these targets.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import scipy.io
from hypothesis import strategies as st

from faultcli.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
CASE_SECONDS = 20.0  # one case (a file of a few kB) taking longer is a hang


class AcceptedCorrupt(AssertionError):
    """A reader returned a value that is not finite, of the wrong type or out of range."""


class Hang(AssertionError):
    """A case ran past ``CASE_SECONDS``."""


class Chatter(AssertionError):
    """A reader wrote to stderr (decoder warnings) around the one error line."""


@contextlib.contextmanager
def time_limit(seconds: float = CASE_SECONDS) -> Iterator[None]:
    """Raise ``Hang`` when the block runs past ``seconds`` (SIGALRM: Python code is interrupted; a C call
    that never returns would not be, so the wall time is checked afterwards too)."""

    def _alarm(signum: int, frame: Any) -> None:
        raise Hang(f"case ran past {seconds:g} s")

    start = time.monotonic()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    if time.monotonic() - start > seconds:
        raise Hang(f"case took {time.monotonic() - start:.1f} s")


@contextlib.contextmanager
def no_stderr() -> Iterator[None]:
    """Fail with ``Chatter`` if anything (Python or C code) writes to file descriptor 2 inside the block."""
    import sys

    sys.stderr.flush()
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        text = sink.read(2000)
    if text:
        raise Chatter(f"wrote to stderr: {text[:300]!r}")


def outcome(call: Callable[[], Any], check: Callable[[Any], None]) -> str:
    """'ok' after ``check(result)``, or 'error' for a one-line UserError; other exceptions escape."""
    try:
        result = call()
    except UserError as err:
        message = str(err)
        if not message.strip() or len(message.splitlines()) != 1:
            raise AssertionError(f"{type(err).__name__} message is not one non-empty line: {message!r}") from err
        return "error"
    check(result)
    return "ok"


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise AcceptedCorrupt(what)


# ----------------------------------------------------------------------------- mutations


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """One of ``seeds`` with 1–6 of: bit flips, byte overwrites, truncation, inserted or deleted runs,
    a duplicated chunk."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        op = draw(st.sampled_from(["flip", "flip", "byte", "truncate", "insert", "delete", "dup"]))
        at = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte":
            data[at] = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, draw(st.integers(0, 255))]))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        else:
            end = min(len(data), at + draw(st.integers(1, 256)))
            data[at:at] = data[at:end]
    return bytes(data)


def _read_head(path: Path, size: int) -> list[bytes]:
    """The first ``size`` bytes of a shared-data file (read in place, never written), if present."""
    if not path.is_file():
        return []
    with open(path, "rb") as handle:
        return [handle.read(size)]


# ----------------------------------------------------------------------------- vibration readers


def _check_rate_reads(reads: Any) -> None:
    expect(len(reads) > 0, "no recording and no error")
    for read in reads:
        expect(read.signal.dtype == np.float32 and read.signal.ndim == 1, f"signal {read.signal.dtype}")
        expect(bool(np.isfinite(read.signal).all()), "non-finite samples after the cast to float32")
        expect(1 <= read.rate <= 10_000_000, f"rate {read.rate}")


def read_vibration(path: Path, fmt: str, layout: str = "auto", channel: str = "DE") -> Any:
    """A file read as ``prep`` reads it: reader, sample checks, rate rule and resampling to 12 kHz."""
    from faultcli.data.rates import at_rate, read_file

    recordings = read_file(path, fmt, channel=channel, csv_layout=layout)
    return at_rate(path, recordings, 12000, assumed=12000)


def _mat_seeds() -> list[bytes]:
    rng = np.random.default_rng(0)
    seeds = []
    for compress, extra in ((False, {"X100RPM": np.array([[1797.0]])}), (True, {"fs": np.array([[48000]])})):
        buffer = io.BytesIO()
        values = {"X100_DE_time": rng.standard_normal((600, 1)), "X100_FE_time": rng.standard_normal((600, 1))}
        scipy.io.savemat(buffer, {**values, **extra}, do_compression=compress)
        seeds.append(buffer.getvalue())
    # a MATLAB v7.3 (HDF5) header, as MATLAB writes it, over HDF5 bytes
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    seeds.append(header.ljust(116) + b"\0" * 8 + b"\x00\x02IM" + b"\x89HDF\r\n\x1a\n" + bytes(200))
    seeds += _read_head(SHARED / "cwru" / "normal" / "Normal_0.mat", 4096)  # a real header, cut short
    return seeds


@st.composite
def mat_rate_cases(draw: st.DrawFn) -> bytes:
    """A valid .mat whose stated rate or samples are hostile: 0, negative, NaN, 1e-9, huge, overflowing."""
    rate = draw(st.sampled_from([0.0, -12000.0, math.nan, math.inf, 1e-9, 1e12, 0.4, 12000.0, 48000.0, 1.0]))
    scale = draw(st.sampled_from([1.0, 1e30, 1e39, 1e300, 1e13]))
    values = np.random.default_rng(draw(st.integers(0, 9))).standard_normal((700, 1)) * scale
    if draw(st.booleans()):
        values[draw(st.integers(0, 699))] = draw(st.sampled_from([math.nan, math.inf, -math.inf, 3.5e38, 1e308]))
    if draw(st.booleans()):
        values = values.astype(np.complex128) * 1j
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, {"X001_DE_time": values, "fs": np.array([[rate]])})
    return buffer.getvalue()


def recording_runner(name: str, fmt: str) -> Callable[[Any, Path], str]:
    """A target's run: the case's bytes written as ``name``, read as a recording of format ``fmt``; a case
    is the bytes, or (bytes, layout) for the table formats."""

    def run(case: bytes | tuple[bytes, str], workdir: Path) -> str:
        data, layout = case if isinstance(case, tuple) else (case, "auto")
        path = workdir / name
        path.write_bytes(data)
        return outcome(lambda: read_vibration(path, fmt, layout), _check_rate_reads)

    return run


run_mat = recording_runner("B007_0.mat", "mat")


def _csv_seeds() -> list[bytes]:
    rng = np.random.default_rng(1)
    columns = "\n".join(",".join(f"{v:.5f}" for v in row) for row in rng.standard_normal((80, 3)))
    signal_csv = "time,value\n" + "\n".join(f"{i / 12000:.6f},{v:.5f}" for i, v in enumerate(rng.standard_normal(400)))
    seeds = [("a,b,c\n" + columns).encode(), signal_csv.encode()]
    seeds += _read_head(SHARED / "seu-bearing" / "train_set" / "outer20_0_train.csv", 6000)
    return seeds


CELLS = ["1.5", "-2", "0", "nan", "NaN", "inf", "-inf", "1e400", "-1e400", "1e38", "1e39", "", " ", "abc", '"', "'",
         "1,5", "0x10", "1e-400", "١٢", "\t", "True", "NULL", "#", "1.0.0", "9" * 40]  # fmt: skip


@st.composite
def ragged_csv(draw: st.DrawFn) -> bytes:
    """Tables of hostile cells with rows of different lengths, and raw bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=300))
    rows = draw(st.lists(st.lists(st.sampled_from(CELLS), min_size=0, max_size=5), min_size=0, max_size=40))
    numeric = draw(st.integers(0, 60))
    body = [",".join(f"{math.sin(i + j):.4f}" for j in range(3)) for i in range(numeric)]
    sep = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return sep.join(body + [",".join(r) for r in rows]).encode("utf-8")


run_csv = recording_runner("signal.csv", "csv")


def _xlsx_bytes(frame: Any) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, header=False, index=False, engine="openpyxl")
    return buffer.getvalue()


def _xlsx_seeds() -> list[bytes]:
    import pandas as pd

    rng = np.random.default_rng(2)
    return [
        _xlsx_bytes(pd.DataFrame({"i": np.arange(200), "v": rng.standard_normal(200)})),
        _xlsx_bytes(pd.DataFrame(rng.standard_normal((50, 3)))),
    ]


@st.composite
def xlsx_tables(draw: st.DrawFn) -> bytes:
    """Workbooks of hostile cells: empty sheets, text, NaN, inf, booleans, dates, ragged columns."""
    import pandas as pd

    cell = st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(["", "abc", "1e400", "inf", None, True, "2024-01-01"]),
        st.integers(-(2**70), 2**70),
    )
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=4), min_size=0, max_size=12))
    width = max((len(r) for r in rows), default=0)
    frame = pd.DataFrame([r + [None] * (width - len(r)) for r in rows])
    return _xlsx_bytes(frame)


run_xlsx = recording_runner("signal.xlsx", "xlsx")


def _npy_bytes(values: Any) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, values, allow_pickle=True)
    return buffer.getvalue()


@st.composite
def npy_files(draw: st.DrawFn) -> bytes:
    """Arrays of every dtype and 0–3 dimensions, object arrays (pickles), .npz archives, mutated headers."""
    kind = draw(st.sampled_from(["array", "array", "npz", "object", "mutated"]))
    dtype = draw(st.sampled_from(["f4", "f8", "f2", "i2", "u8", "c8", "?", "U4", "M8[s]", "m8[s]", "V4", "f8"]))
    shape = tuple(draw(st.lists(st.integers(0, 40), max_size=3)))
    values = np.zeros(shape, dtype=dtype)
    if dtype[0] in "fiu":
        values = (np.random.default_rng(1).standard_normal(shape) * draw(st.sampled_from([1, 1e5, 1e20]))).astype(dtype)
        if values.size and draw(st.booleans()) and dtype[0] == "f":
            values.flat[0] = draw(st.sampled_from([math.nan, math.inf, 1e39]))
    if kind == "npz":
        buffer = io.BytesIO()
        np.savez(buffer, x=values)
        return buffer.getvalue()
    if kind == "object":
        return _npy_bytes(np.array([1.0, "x", None], dtype=object))
    data = _npy_bytes(values)
    return draw(mutated([data])) if kind == "mutated" else data


run_npy = recording_runner("signal.npy", "npy")


# ----------------------------------------------------------------------------- images and masks


def _image_seeds() -> list[bytes]:
    rng = np.random.default_rng(3)
    gray = rng.integers(0, 256, (24, 32), dtype=np.uint8)
    color = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    seeds = [cv2.imencode(ext, im)[1].tobytes() for ext in (".png", ".bmp", ".jpg") for im in (gray, color)]
    seeds += _read_head(SHARED / "neu-det" / "images" / "crazing_1.jpg", 1 << 20)
    seeds += _read_head(SHARED / "sd-saliency-900" / "images" / "In_1.bmp", 1 << 20)
    seeds += _read_head(SHARED / "x-sdd" / "red iron" / "2041.jpg", 1 << 20)
    return seeds


def _check_image(image: np.ndarray) -> None:
    expect(image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] in (1, 3), f"image {image.shape}")
    expect(min(image.shape[:2]) > 0, "empty image")


def run_image(case: tuple[bytes, str], workdir: Path) -> str:
    from faultcli.data.images import load_image

    data, ext = case
    path = workdir / f"img{ext}"
    path.write_bytes(data)
    with no_stderr():
        return outcome(lambda: load_image(path, "auto", "none", [16, 16]), _check_image)


def _mask_seeds() -> list[bytes]:
    square = np.zeros((24, 32), dtype=np.uint8)
    square[4:12, 5:20] = 255
    seeds = [cv2.imencode(".png", square)[1].tobytes(), cv2.imencode(".bmp", square)[1].tobytes()]
    seeds += _read_head(SHARED / "sd-saliency-900" / "masks" / "In_1.png", 1 << 20)
    return seeds


@st.composite
def mask_files(draw: st.DrawFn) -> tuple[bytes, tuple[int, int]]:
    """Masks of other sizes, other values (0/1, 0/255, 0/128/255, 16-bit), colour, JPEG; and mutated ones."""
    shape = (24, 32)
    if draw(st.booleans()):
        return draw(mutated(_MASK_SEEDS)), shape
    h, w = draw(st.sampled_from([(24, 32), (32, 24), (24, 33), (1, 1), (200, 200)]))
    values = draw(st.sampled_from([(0, 255), (0, 1), (0, 128, 255), (0, 65535), (7,), (0, 254)]))
    dtype = np.uint16 if max(values) > 255 else np.uint8
    mask = np.random.default_rng(draw(st.integers(0, 9))).choice(np.array(values, dtype=dtype), size=(h, w))
    if draw(st.booleans()):
        mask = np.stack([mask, mask, mask if draw(st.booleans()) else mask // 2], axis=2)
    ext = draw(st.sampled_from([".png", ".png", ".bmp", ".jpg"]))
    if dtype == np.uint16:
        ext = ".png"
    return cv2.imencode(ext, mask)[1].tobytes(), shape


def _check_mask(mask: np.ndarray) -> None:
    expect(mask.dtype == np.uint8 and mask.shape == (24, 32), f"mask {mask.dtype} {mask.shape}")
    expect(set(np.unique(mask).tolist()) <= {0, 1}, "mask values outside {0, 1}")


def run_mask(case: tuple[bytes, tuple[int, int]], workdir: Path) -> str:
    from faultcli.data.readers.masks import read_mask

    data, shape = case
    path = workdir / "mask.png"
    path.write_bytes(data)
    with no_stderr():
        return outcome(lambda: read_mask(path, shape), _check_mask)


# ----------------------------------------------------------------------------- annotations


COORDS = ["12", "12.0", "0", "199", "-5", "nan", "inf", "-inf", "1e400", "1e20", "", "abc", "0x10", "3.5",
          "99999999999999999999999", " 7 ", "1_000"]  # fmt: skip


@st.composite
def voc_files(draw: st.DrawFn) -> bytes:
    """VOC XML with hostile coordinates, missing tags and other roots; or mutated bytes of a real file."""
    if draw(st.integers(0, 3)) == 0:
        return draw(mutated(_VOC_SEEDS))
    objects = []
    for _ in range(draw(st.integers(0, 3))):
        tags = "".join(
            f"<{t}>{draw(st.sampled_from(COORDS))}</{t}>"
            for t in ("xmin", "ymin", "xmax", "ymax")
            if draw(st.integers(0, 9))
        )
        name = draw(st.sampled_from(["crazing", "", " scratches ", "a<b"]))
        name = name.replace("<", "&lt;")
        objects.append(f"<object><name>{name}</name><bndbox>{tags}</bndbox></object>")
    root = draw(st.sampled_from(["annotation", "annotation", "other"]))
    return f"<{root}><filename>x.jpg</filename>{''.join(objects)}</{root}>".encode()


def _check_voc(annotation: Any) -> None:
    for box in annotation.boxes:
        coords = [box[t] for t in ("xmin", "ymin", "xmax", "ymax")]
        expect(all(type(c) is int and 0 <= c < 1 << 20 for c in coords), f"box {box}")
        expect(box["xmin"] <= box["xmax"] and box["ymin"] <= box["ymax"], f"inverted box {box}")
        expect(isinstance(box["label"], str) and bool(box["label"]), f"label {box['label']!r}")


def run_voc(case: bytes, workdir: Path) -> str:
    from faultcli.data.readers.voc import read_voc

    path = workdir / "crazing_1.xml"
    path.write_bytes(case)
    return outcome(lambda: read_voc(path), _check_voc)


RUNS = ["1", "3", "0", "-1", "-3", "inf", "-inf", "nan", "1e400", "1.5", "9223372036854775807", "9223372036854775808",
        "18446744073709551617", "768", "769", "x", "+4", "0x10", "٣"]  # fmt: skip


@st.composite
def rle_strings(draw: st.DrawFn) -> tuple[str, int, int]:
    tokens = draw(st.lists(st.sampled_from(RUNS) | st.integers(-5, 900).map(str), max_size=10))
    sep = draw(st.sampled_from([" ", "  ", "\t", "\n", ","]))
    return sep.join(tokens), draw(st.sampled_from([24, 1])), draw(st.sampled_from([32, 1]))


def run_rle(case: tuple[str, int, int], workdir: Path) -> str:
    from faultcli.data.rle import decode

    text, h, w = case

    def check(mask: np.ndarray) -> None:
        expect(mask.dtype == np.uint8 and mask.shape == (h, w), f"mask {mask.shape}")
        expect(set(np.unique(mask).tolist()) <= {0, 1}, "values outside {0, 1}")

    return outcome(lambda: decode(text, h, w, where="case"), check)


def _rle_csv_seeds() -> list[bytes]:
    return [
        b"ImageId,ClassId,EncodedPixels\na.jpg,1,1 3 10 2\nb.jpg,2,\n",
        b"ImageId_ClassId,EncodedPixels\na.jpg_1,1 3\na.jpg_2,\n",
        b"file,label,value\na.jpg,scratch,0.5\nb.jpg,pit,\n",
    ]


def run_table_csv(case: bytes, workdir: Path) -> str:
    """RLE and labels CSVs read by both readers (each refuses the other's columns with an error)."""
    from faultcli.data.readers.labels_csv import read_labels_csv
    from faultcli.data.readers.masks import read_rle_csv

    path = workdir / "table.csv"
    path.write_bytes(case)

    def check_rows(rows: list[Any]) -> None:
        for row in rows:
            expect(all(isinstance(v, str) for v in vars(row).values() if not isinstance(v, int | float)), str(row))
            value = getattr(row, "value", 0.0)
            expect(math.isnan(value) or math.isfinite(value), f"value {value}")

    first = outcome(lambda: read_rle_csv(path), check_rows)
    second = outcome(lambda: read_labels_csv(path), check_rows)
    return "ok" if "ok" in (first, second) else "error"


# ----------------------------------------------------------------------------- recipes


NUMBERS = ["nan", "inf", "-inf", "1e400", "-1e400", "1e308", "-1", "0", "-0.0", "1e-9", "99999999999999999999",
           "9223372036854775807", "2147483648", "3.5", "true", '"12"', "[]", "[nan, 0.5, 0.5]", "[1e400]",
           "[[0, 0.3, 1]]", "[[nan, 1]]", "[[0]]", "{a = 1}", "{a = nan}", "{'12k' = 0}", "{'x' = -5}",
           "[0.7, 0.15]", "[[0, 1], [0, 2]]", "'[/x] bad'", "[8, 99999]",
           f"'{(ROOT / 'pyproject.toml').as_posix()}'", f"'{(ROOT / 'pyproject.toml').as_posix()}/cache'",
           "[{kind = 'bandpass', low = nan, high = 1e400}]"]  # fmt: skip
# keys whose values earlier let NaN, wrong shapes or bad paths through: drawn half of the time
TRICKY = ["vibration.arcface_weight", "data.fractions", "data.rate_patterns", "data.image_size", "seed", "data.seed",
          "train.lr", "vibration.dropout", "data.cache_dir", "data.sample_rate", "data.source_rate", "train.lr_scale",
          "data.preprocess", "data.window", "adapt.source_rate", "pretrain.extra_rate"]  # fmt: skip


def schema_keys() -> list[str]:
    """Every recipe key path (``train.lr``), from the schema."""
    import typing

    from faultcli.config.schema import Config

    keys = []
    for f in dataclasses.fields(Config):
        tp = typing.get_type_hints(Config)[f.name]
        if dataclasses.is_dataclass(tp):
            keys += [f"{f.name}.{g.name}" for g in dataclasses.fields(tp)]
        else:
            keys.append(f.name)
    return keys + ["augment.0.noise_std", "augment.1.warp", "train.nosuchkey", "nosuch.key", "data"]


def _walk_numbers(value: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from _walk_numbers(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk_numbers(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from _walk_numbers(item, f"{where}.{k}")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield where, value


def _check_config(cfg: Any) -> None:
    from faultcli.config import dump_toml

    for where, number in _walk_numbers(cfg):
        expect(math.isfinite(number), f"{where} = {number} accepted")
        expect(abs(number) < 2**31 or isinstance(number, float), f"{where} = {number} accepted")
    dump_toml(cfg)  # what the run folder starts with must be writable TOML


@st.composite
def override_cases(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """A shipped recipe under 1–4 hostile ``--set`` overrides of any schema key."""
    keys = st.sampled_from(schema_keys()) | st.sampled_from(TRICKY)
    sets = draw(st.lists(st.tuples(keys, st.sampled_from(NUMBERS)), min_size=1, max_size=4))
    recipe = f'extends = "{(ROOT / "recipes" / "small.toml").as_posix()}"\n'.encode()
    return recipe, [f"{k}={v}" for k, v in sets]


def _recipe_seeds() -> list[bytes]:
    own = (ROOT / "recipes" / "small.toml").read_bytes().replace(b'extends = "cwru.toml"', b"")
    return [own, b'name = "x"\n[data]\nroot = "x"\nfractions = [0.7, 0.15, 0.15]\n']


@st.composite
def recipe_files(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """Mutated recipe bytes (non-UTF-8 included), unknown keys, wrong types, and tables in wrong places."""
    kind = draw(st.sampled_from(["mutated", "mutated", "typed", "latin1"]))
    if kind == "mutated":
        return draw(mutated(_RECIPE_SEEDS)), []
    if kind == "latin1":
        return 'name = "caf\xe9"\n[train]\nlr = 1e-3\n'.encode("latin-1"), []
    key = draw(st.sampled_from(schema_keys()))
    section, _, name = key.partition(".")
    value = draw(st.sampled_from(NUMBERS))
    text = f"[{section}]\n{name} = {value}\n" if name and "." not in name else f"{section} = {value}\n"
    return text.encode(), []


@st.composite
def extends_chains(draw: st.DrawFn) -> list[int | None]:
    """For recipes 0..n-1, the recipe each extends (None = none): cycles, self-loops and long chains."""
    n = draw(st.integers(1, 40))
    return [draw(st.none() | st.integers(0, n)) for _ in range(n)]


def run_recipe(case: tuple[bytes, list[str]], workdir: Path) -> str:
    from faultcli.config import load_config

    data, overrides = case
    path = workdir / "recipe.toml"
    path.write_bytes(data)
    return outcome(lambda: load_config(path, overrides), _check_config)


def run_extends(case: list[int | None], workdir: Path) -> str:
    from faultcli.config import load_config

    for i, parent in enumerate(case):
        line = f'extends = "r{parent}.toml"\n' if parent is not None else ""  # r{n} may not exist
        (workdir / f"r{i}.toml").write_text(f"{line}[train]\nepochs = {i + 1}\n", encoding="utf-8")
    return outcome(lambda: load_config(workdir / "r0.toml", []), _check_config)


# ----------------------------------------------------------------------------- the table of targets


_MASK_SEEDS = _mask_seeds()
_VOC_SEEDS = _read_head(SHARED / "neu-det" / "annotations" / "crazing_1.xml", 1 << 16) or [
    b"<annotation><filename>a.jpg</filename><object><name>crazing</name><bndbox><xmin>1</xmin><ymin>2</ymin>"
    b"<xmax>30</xmax><ymax>40</ymax></bndbox></object></annotation>"
]
_RECIPE_SEEDS = _recipe_seeds()
_LAYOUTS = st.sampled_from(["auto", "columns", "signal"])
_IMAGE_EXTS = st.sampled_from([".png", ".bmp", ".jpg"])


@dataclasses.dataclass
class Target:
    strategy: st.SearchStrategy
    run: Callable[[Any, Path], str]


TARGETS: dict[str, Target] = {
    "mat (mutated v5 / v7.3)": Target(mutated(_mat_seeds()), run_mat),
    "mat (hostile rates and values)": Target(mat_rate_cases(), run_mat),
    "csv (mutated)": Target(st.tuples(mutated(_csv_seeds()), _LAYOUTS), run_csv),
    "csv (garbage and ragged)": Target(st.tuples(ragged_csv(), _LAYOUTS), run_csv),
    "xlsx (mutated)": Target(st.tuples(mutated(_xlsx_seeds()), _LAYOUTS), run_xlsx),
    "xlsx (hostile cells)": Target(st.tuples(xlsx_tables(), _LAYOUTS), run_xlsx),
    "npy": Target(npy_files(), run_npy),
    "images (png/bmp/jpg)": Target(st.tuples(mutated(_image_seeds()), _IMAGE_EXTS), run_image),
    "masks": Target(mask_files(), run_mask),
    "voc xml": Target(voc_files(), run_voc),
    "rle strings": Target(rle_strings(), run_rle),
    "rle / labels csv": Target(mutated(_rle_csv_seeds()), run_table_csv),
    "recipe (bytes, types, keys)": Target(recipe_files(), run_recipe),
    "recipe (--set numbers)": Target(override_cases(), run_recipe),
    "recipe (extends chains)": Target(extends_chains(), run_extends),
}
