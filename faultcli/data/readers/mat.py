"""MATLAB ``.mat`` vibration files, CWRU style: ``X<id>_DE_time`` / ``_FE_time`` / ``_BA_time`` and ``X<id>RPM``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from faultcli.data.readers import RawRecording, check_real_values
from faultcli.errors import DataError
from faultcli.registry import register

# the <id> differs per file (X118, X097, ...), so keys are discovered, never hard-coded
_TIME_KEY = re.compile(r"^(?P<id>\w*?)_(?P<channel>DE|FE|BA)_time$")
# plain names other tools save a single signal under
_PLAIN_KEYS = ("signal", "data", "vibration", "x", "acc")
_RATE_KEYS = ("fs", "Fs", "FS", "sample_rate", "sampling_rate", "sr", "SampleRate")


def _load(path: Path) -> dict[str, Any]:
    import scipy.io

    try:
        return {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
    except NotImplementedError:
        raise DataError(
            f"{path} is a MATLAB v7.3 (HDF5) file; re-save it with save(..., '-v7') or convert it to .npy"
        ) from None
    except Exception as err:  # any parse failure means the bytes are not a MAT file
        raise DataError(
            f"{path} is not a readable MATLAB file ({type(err).__name__}: {err}); "
            "check the file or skip it with data.exclude"
        ) from None


def _scalar(value: Any) -> float | None:
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "iuf":
        return None
    return float(arr.ravel()[0])


def _pick_key(path: Path, keys: dict[str, Any], channel: str) -> tuple[str, str]:
    """(signal key, id) for ``channel``; errors list the keys that were found."""
    found = [(m["id"], m["channel"], k) for k in keys if (m := _TIME_KEY.match(k))]
    if not found:
        plain = [k for k in _PLAIN_KEYS if k in keys]
        if plain:
            return plain[0], ""
        raise DataError(
            f"{path} has no vibration variable (keys found: {', '.join(sorted(keys)) or 'none'}); "
            f"expected X<id>_{channel}_time or one of {', '.join(_PLAIN_KEYS)}"
        )
    matching = [(ident, k) for ident, ch, k in found if ch == channel]
    if not matching:
        have = sorted({ch for _, ch, _ in found})
        raise DataError(
            f"{path} has no {channel} channel (found {', '.join(have)}); "
            f"set data.channel to one of them or skip the file with data.exclude"
        )
    # some CWRU files hold a second id copied from another recording: the one with an RPM is the file's own
    with_rpm = [(ident, k) for ident, k in matching if f"{ident}RPM" in keys]
    ident, key = sorted(with_rpm or matching)[0]
    return key, ident


@register("reader", "mat")
def read_mat(path: Path, *, channel: str = "DE", csv_layout: str = "auto") -> list[RawRecording]:
    """One recording: the ``channel`` time series, with its RPM and sampling rate when stored."""
    keys = _load(Path(path))
    key, ident = _pick_key(Path(path), keys, channel)
    values = np.asarray(keys[key])
    check_real_values(values, Path(path), f"variable {key}")
    if values.size == 0:
        raise DataError(f"{path}: variable {key} is empty; check the file or skip it with data.exclude")
    if values.ndim > 1 and sorted(values.shape)[-2] > 1:
        raise DataError(f"{path}: variable {key} has shape {values.shape}, expected one signal (N, 1)")
    rpm = _scalar(keys.get(f"{ident}RPM", keys.get("rpm", keys.get("RPM"))))
    # a stated rate is passed on as stated (0, NaN, negative included): the rate rule refuses it by name
    rate = next((r for k in _RATE_KEYS if k in keys and (r := _scalar(keys[k])) is not None), None)
    return [
        RawRecording(
            signal=values.astype(np.float64).ravel(),
            rate=rate,
            rpm=rpm,
            sensor=channel if key.endswith("_time") else None,
        )
    ]
