"""The prepared-dataset cache: where it lives, how a dataset is keyed, publishing a folder atomically, and
arrays written and read piecewise.

Shared by the vibration and image data layers. A prepared dataset is the folder ``<root>/<kind>/<key>/``;
it is written into a staging folder beside it and renamed into place, so readers never see half of one.
Datasets may be larger than memory: ``NpyAppender`` writes an array chunk by chunk, ``NpySpans`` reads
spans of a 1-D one and ``NpyRows`` rows of an N-D one with ``os.pread``, so none holds the array nor maps
it (mapped pages that were read count in the process's resident memory until the kernel reclaims them).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy

# keys of the [data] section that say where things are cached, not what the data is
_NOT_IN_KEY = ("cache_dir",)


def cache_root(cache_dir: str) -> Path:
    """``cache_dir`` if set, else ``$FAULTCLI_CACHE``, else ``~/.cache/faultcli`` (relative paths: cwd)."""
    chosen = Path(cache_dir or os.environ.get("FAULTCLI_CACHE", "") or "~/.cache/faultcli").expanduser()
    blocked = next((p for p in (chosen, *chosen.parents) if p.exists() and not p.is_dir()), None)
    if blocked is not None:
        from faultcli.errors import DataError

        source = "data.cache_dir" if cache_dir else ("$FAULTCLI_CACHE" if os.environ.get("FAULTCLI_CACHE") else "")
        raise DataError(
            f"the cache folder {chosen} cannot be made: {blocked} is a file; "
            f"point {source or 'data.cache_dir'} at a folder"
        )
    return chosen


def file_sha1(path: Path) -> str:
    """SHA-1 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_key(kind: str, data_section: dict[str, Any], hashes: list[str], extra: dict[str, Any] | None = None) -> str:
    """A short hex key for a prepared dataset.

    ``data_section``: the recipe's ``[data]`` table as a dict (``cache_dir`` is ignored).
    ``hashes``: one string per source file, in a fixed order; include the relative path
    (e.g. ``"normal/Normal_0.mat:<sha1>"``) when file names carry labels, so a rename misses the cache.
    ``extra``: anything else the output depends on (the task, a format version).
    """
    section = {k: v for k, v in data_section.items() if k not in _NOT_IN_KEY}
    payload = {"kind": kind, "data": section, "hashes": list(hashes), "extra": extra or {}}
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def staging_dir(root: Path) -> Path:
    """A fresh empty folder inside ``root`` (same file system as the final folder, so rename is atomic)."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    except OSError as err:  # read-only, no permission, disk full
        from faultcli.errors import DataError

        raise DataError(
            f"cannot write the prepared-data cache in {root} ({err.strerror}); "
            "set data.cache_dir (or $FAULTCLI_CACHE) to a writable folder"
        ) from None
    os.chmod(path, 0o755)  # mkdtemp makes it private; a shared cache should stay readable
    return path


def publish_folder(tmp_dir: Path, final_dir: Path) -> Path:
    """Rename ``tmp_dir`` to ``final_dir``. If another process published it first, keep theirs."""
    tmp_dir, final_dir = Path(tmp_dir), Path(final_dir)
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(tmp_dir, final_dir)
    except OSError:
        if not final_dir.is_dir():
            raise
        # same key means same content: the one already there is as good as ours
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return final_dir


class NpyAppender:
    """A ``.npy`` file written a chunk of rows at a time through a file handle: the same bytes as ``np.save``
    of the chunks concatenated, with one chunk in memory at a time. ``row_shape`` is the shape of one row
    (``()`` for a 1-D array). ``close()`` writes the final shape."""

    def __init__(self, path: Path, dtype: Any = np.float32, row_shape: tuple[int, ...] = ()) -> None:
        self.path, self.dtype, self.size = Path(path), np.dtype(dtype), 0
        self.row_shape = tuple(int(n) for n in row_shape)
        self._file = open(self.path, "wb")  # noqa: SIM115 - closed by close()
        # numpy pads a header so its length does not depend on the first axis: rewritten in place at close
        self._data_offset = self._write_header()

    def _write_header(self) -> int:
        self._file.seek(0)
        shape = (self.size, *self.row_shape)
        header = {"descr": npy.dtype_to_descr(self.dtype), "fortran_order": False, "shape": shape}
        npy.write_array_header_1_0(self._file, header)
        return self._file.tell()

    def append(self, chunk: np.ndarray) -> None:
        """Append rows: any array whose size is a whole number of rows (one row may drop the leading axis)."""
        data = np.ascontiguousarray(chunk, dtype=self.dtype).reshape(-1, *self.row_shape)
        self._file.write(memoryview(data.reshape(-1)).cast("B"))
        self.size += data.shape[0]

    def close(self) -> Path:
        end = self._file.tell()
        try:
            if self._write_header() != self._data_offset:
                raise RuntimeError(f"the .npy header of {self.path} changed length; the file is not valid")
        finally:
            self._file.seek(end)
            self._file.close()
        return self.path


class _NpyFile:
    """Header of a C-ordered ``.npy`` file and ``os.pread`` of its bytes: through the page cache without
    mapping the file, so a process that reads the whole file over time keeps a bounded resident size."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as handle:
            version = npy.read_magic(handle)
            read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
            shape, fortran, dtype = read_header(handle)
            self.offset = handle.tell()
        if fortran and len(shape) > 1:
            raise ValueError(f"{self.path} is stored in Fortran order; rows are read from C-ordered arrays")
        self.shape, self.dtype = tuple(int(n) for n in shape), np.dtype(dtype)
        self._fd: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fd": None}  # a descriptor does not cross processes: each opens its own

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)

    def _read_into(self, out: np.ndarray, byte_start: int, what: str) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        view, pos = memoryview(out).cast("B"), self.offset + byte_start
        while len(view):
            got = os.preadv(self._fd, [view], pos)
            if got == 0:
                raise ValueError(f"{self.path} ends before {what}; the file is truncated")
            view, pos = view[got:], pos + got


class NpySpans(_NpyFile):
    """Spans and windows of a 1-D ``.npy`` file read with ``os.pread``."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        if len(self.shape) != 1:
            raise ValueError(f"{self.path} holds a {len(self.shape)}-D array; a 1-D one is read by spans")
        self.size = self.shape[0]

    def __len__(self) -> int:
        return self.size

    def _span_into(self, out: np.ndarray, start: int) -> None:
        self._read_into(out, start * self.dtype.itemsize, f"sample {start + out.size}")

    def read(self, start: int, count: int) -> np.ndarray:
        """Samples ``[start, start + count)``."""
        if start < 0 or count < 0 or start + count > self.size:
            raise IndexError(f"span [{start}, {start + count}) outside the {self.size} samples of {self.path}")
        out = np.empty(count, dtype=self.dtype)
        self._span_into(out, start)
        return out

    def windows(self, starts: np.ndarray, length: int) -> np.ndarray:
        """(n, length): the ``length`` samples from each start, one read per window."""
        starts = np.asarray(starts, dtype=np.int64).reshape(-1)
        if starts.size and (starts.min() < 0 or starts.max() + length > self.size):
            raise IndexError(f"a window of {length} samples falls outside the {self.size} samples of {self.path}")
        out = np.empty((starts.size, length), dtype=self.dtype)
        for row, start in zip(out, starts.tolist(), strict=True):
            self._span_into(row, start)
        return out


class NpyRows(_NpyFile):
    """Rows (items along the first axis) of an N-D ``.npy`` file read with ``os.pread``, one read per row.

    Indexing reads like an array's: ``rows[i]`` → one row, ``rows[index_array]`` → (len, *row_shape) in
    that order. ``view(indices)`` is a lazy sequence of rows for code that takes one item at a time."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        if not self.shape:
            raise ValueError(f"{self.path} holds a scalar; rows are read from an array of at least one axis")
        self.row_shape = self.shape[1:]
        self.row_bytes = int(np.prod(self.row_shape, dtype=np.int64)) * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def _row_into(self, out: np.ndarray, row: int) -> None:
        self._read_into(out, row * self.row_bytes, f"row {row}")

    def read(self, start: int, count: int) -> np.ndarray:
        """Rows ``[start, start + count)`` in one read."""
        if start < 0 or count < 0 or start + count > len(self):
            raise IndexError(f"rows [{start}, {start + count}) outside the {len(self)} rows of {self.path}")
        out = np.empty((count, *self.row_shape), dtype=self.dtype)
        self._read_into(out, start * self.row_bytes, f"row {start + count}")
        return out

    def __getitem__(self, index: Any) -> np.ndarray:
        if isinstance(index, (int, np.integer)):
            row = int(index) + (len(self) if index < 0 else 0)
            if not 0 <= row < len(self):
                raise IndexError(f"row {index} outside the {len(self)} rows of {self.path}")
            out = np.empty(self.row_shape, dtype=self.dtype)
            self._row_into(out, row)
            return out
        rows = np.asarray(index)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        rows = rows.astype(np.int64, copy=False).reshape(-1)
        rows = np.where(rows < 0, rows + len(self), rows)
        if rows.size and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"a row index falls outside the {len(self)} rows of {self.path}")
        out = np.empty((rows.size, *self.row_shape), dtype=self.dtype)
        for target, row in zip(out, rows.tolist(), strict=True):
            self._row_into(target, row)
        return out

    def view(self, indices: np.ndarray) -> RowsView:
        return RowsView(self, indices)


class RowsView(Sequence):
    """The rows ``indices`` of an ``NpyRows``, read when an item is asked for (nothing is held)."""

    def __init__(self, rows: NpyRows, indices: np.ndarray) -> None:
        self.rows, self.indices = rows, np.asarray(indices, dtype=np.int64).reshape(-1)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return RowsView(self.rows, self.indices[i])
        return self.rows[int(self.indices[i])]
