"""NumPy ``.npy`` vibration files: a 1-D signal, or a 2-D array with one recording per row."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faultcli.data.readers import RawRecording, check_real_values
from faultcli.errors import DataError
from faultcli.registry import register


@register("reader", "npy")
def read_npy(path: Path, *, channel: str = "DE", csv_layout: str = "auto") -> list[RawRecording]:
    """One recording per 1-D file, or one per row of a 2-D array."""
    try:
        values = np.load(path, allow_pickle=False)
    except Exception as err:  # text, pickles, truncated headers
        raise DataError(
            f"{path} is not a readable .npy array ({type(err).__name__}: {err}); "
            "save it with numpy.save or skip it with data.exclude"
        ) from None
    if not isinstance(values, np.ndarray):  # np.load opens an .npz archive whatever the file is called
        values.close()
        raise DataError(f"{path} is an .npz archive named .npy; save one array with numpy.save or rename it .npz")
    check_real_values(values, path, "the array")
    if values.ndim == 1:
        return [RawRecording(signal=values.astype(np.float64))]
    if values.ndim == 2:
        return [RawRecording(signal=row.astype(np.float64), part=f"row{i}") for i, row in enumerate(values)]
    raise DataError(f"{path} has shape {values.shape}; save a 1-D signal or a 2-D array with one recording per row")
