"""Excel ``.xlsx`` vibration files: an index column and a value column (one recording per file), first sheet."""

from __future__ import annotations

from pathlib import Path

from faultcli.data.readers import RawRecording
from faultcli.data.readers.csv import table_recordings
from faultcli.errors import DataError
from faultcli.registry import register


@register("reader", "xlsx")
def read_xlsx(path: Path, *, channel: str = "DE", csv_layout: str = "auto") -> list[RawRecording]:
    """Recordings of the first sheet; several value columns are one window each (as in CSV)."""
    import pandas as pd

    try:
        frame = pd.read_excel(path, header=None, sheet_name=0, engine="openpyxl", dtype=object)
    except Exception as err:  # not a zip / not a workbook
        raise DataError(
            f"{path} is not a readable Excel .xlsx file ({type(err).__name__}: {err}); "
            "check the file or skip it with data.exclude"
        ) from None
    frame = frame.dropna(how="all").dropna(axis=1, how="all")
    return table_recordings(frame, Path(path), csv_layout)
