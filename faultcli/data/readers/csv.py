"""CSV vibration files: one window per column (the Bearing-CLIP layout) or one long signal per file.

In the columns layout each column is returned as its own recording (``part`` names the column), in
column order; the data layer takes a file's columns as consecutive windows of one recording
(``readers.is_window_piece``), so no window spans two columns and splits keep columns whole.

``table_recordings`` turns any table into recordings and is shared with the Excel reader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faultcli.data.readers import RawRecording
from faultcli.errors import DataError
from faultcli.registry import register


def _is_index(column: np.ndarray) -> bool:
    # an exact arithmetic progression (0, 1, 2, ... or a time axis) is an index, never a measured signal
    values = column[~np.isnan(column)]
    if values.size < 3:
        return False
    with np.errstate(invalid="ignore", over="ignore"):  # inf cells: refused later, by the sample check
        steps = np.diff(values)
    return bool(steps[0] > 0 and np.allclose(steps, steps[0], rtol=1e-6, atol=0))


def _trim_trailing_nan(values: np.ndarray) -> np.ndarray:
    # shorter columns in a ragged table are padded with empty cells at the end
    finite = np.flatnonzero(~np.isnan(values))
    return values[: finite[-1] + 1] if finite.size else values[:0]


def table_recordings(frame, path: Path, layout: str) -> list[RawRecording]:
    """Recordings from a table read without a header (``header=None``).

    A first row that is not numeric is taken as the header; a first column that is an exact
    arithmetic progression is taken as an index and dropped. ``layout``: ``columns`` (each column
    one window, in time order), ``signal`` (one value column = one recording) or ``auto`` (signal if one
    column, else columns).
    """
    import pandas as pd

    if frame.empty:
        raise DataError(f"{path} holds no values; remove it or skip it with data.exclude")
    first = pd.to_numeric(frame.iloc[0], errors="coerce")
    has_header = bool((first.isna() & frame.iloc[0].notna()).any())
    names = [str(v) for v in frame.iloc[0]] if has_header else [f"col{i}" for i in range(frame.shape[1])]
    body = frame.iloc[1:] if has_header else frame
    numeric = body.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna() & body.notna()
    if bad.to_numpy().any():
        row, col = np.argwhere(bad.to_numpy())[0]
        raise DataError(
            f"{path}: row {row + int(has_header) + 1}, column {col + 1} is not a number "
            f"({body.iat[row, col]!r}); fix the cell or skip the file with data.exclude"
        )
    values = numeric.to_numpy(dtype=np.float64)
    keep = list(range(values.shape[1]))
    if len(keep) > 1 and _is_index(values[:, 0]):
        keep = keep[1:]
    if layout == "auto":
        layout = "signal" if len(keep) == 1 else "columns"
    if layout == "signal" and len(keep) != 1:
        raise DataError(
            f"{path} has {len(keep)} value columns, not one signal; "
            "set data.csv_layout = 'columns' (one window per column, in time order)"
        )
    out = []
    for j in keep:
        part = "" if layout == "signal" else names[j]
        out.append(RawRecording(signal=_trim_trailing_nan(values[:, j]), part=part))
    return out


@register("reader", "csv")
def read_csv(path: Path, *, channel: str = "DE", csv_layout: str = "auto") -> list[RawRecording]:
    """Recordings of a CSV file, laid out per ``csv_layout`` (auto, columns, signal)."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, header=None, dtype=str, skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty; remove it or skip it with data.exclude") from None
    except Exception as err:  # binary bytes, broken quoting: not a CSV
        raise DataError(
            f"{path} is not a readable CSV file ({type(err).__name__}: {err}); "
            "check the file or skip it with data.exclude"
        ) from None
    return table_recordings(frame, Path(path), csv_layout)
