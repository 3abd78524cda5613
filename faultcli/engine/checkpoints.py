"""Checkpoint files: plain tensors and built-in types only, so loading never runs code.

Each checkpoint ``<name>.pt`` has a ``<name>.pt.sha256`` beside it (``sha256sum`` format) that loading checks,
so a truncated or damaged file is named as such instead of being half-loaded. While a checkpoint is being
replaced the checksum file lists both the old and the new digest: a process killed between the two renames
leaves a whole file that still verifies.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from faultcli.errors import CheckpointError
from faultcli.runs import atomic_write_bytes, atomic_write_text

_DIGEST = re.compile(r"^([0-9a-f]{64})\b")
_EARLIER = "use last.pt / resume from an earlier checkpoint"


def checksum_path(path: Path) -> Path:
    """The ``.sha256`` file beside a checkpoint."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def read_digests(path: Path) -> set[str] | None:
    """The digests a checkpoint's checksum file accepts; None without a checksum file (an older checkpoint)."""
    sidecar = checksum_path(path)
    try:
        text = sidecar.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise CheckpointError(f"{sidecar} cannot be read ({err.strerror}); check its permissions") from None
    return {m.group(1) for line in text.splitlines() if (m := _DIGEST.match(line.strip().lower()))}


def _digest_file(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically and record the SHA-256 of its bytes in ``<path>.sha256``."""
    path = Path(path)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getbuffer()
    digest = hashlib.sha256(data).hexdigest()
    # the file now on disk stays acceptable until the new one has replaced it (if it verifies now)
    current = _digest_file(path) if path.exists() else None
    accepted = read_digests(path)
    keep = [current] if current and current != digest and (accepted is None or current in accepted) else []
    sidecar = checksum_path(path)
    lines = "".join(f"{d}  {path.name}\n" for d in [digest, *keep])
    atomic_write_text(sidecar, lines)
    atomic_write_bytes(path, data)
    if keep:
        atomic_write_text(sidecar, f"{digest}  {path.name}\n")


def verify_bytes(path: Path, data: bytes) -> None:
    """A CheckpointError if ``data`` (the bytes of ``path``) does not match its checksum file."""
    accepted = read_digests(path)
    if accepted is not None and hashlib.sha256(data).hexdigest() not in accepted:
        raise CheckpointError(f"{path} is corrupt (checksum mismatch); {_EARLIER}")


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load with ``weights_only=True`` after checking the checksum (when there is one); a missing, corrupt or
    foreign file is a one-line error."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found; pass a .pt file from a run's checkpoints/ folder")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CheckpointError(f"checkpoint {path} cannot be read ({err.strerror}); check its permissions") from None
    verify_bytes(path, data)
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # refused objects, truncated files, non-checkpoint files
        raise CheckpointError(_unreadable(path, data, err)) from None
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise CheckpointError(f"{path} is not a faultcli checkpoint (no model/config); pass a run's best.pt")
    for key, (kind, what) in _FIELDS.items():  # a hand-edited file fails here, not deep inside a command
        if key in state and not _is(state[key], kind):
            raise CheckpointError(
                f"{path} is not a usable faultcli checkpoint: {key!r} should be {what}, not "
                f"{type(state[key]).__name__}; pass checkpoints/best.pt or last.pt as training wrote it"
            )
    return state


# what every command reads of a checkpoint, with its type (``list[str]``: a list of strings)
_FIELDS: dict[str, tuple[Any, str]] = {
    "model": (dict, "a dict of weights"),
    "config": (dict, "a dict (the resolved recipe)"),
    "classes": (list[str], "a list of class names"),
    "model_name": (str, "a model name"),
    "model_kwargs": (dict, "a dict of builder arguments"),
    "data_info": (dict, "a dict"),
    "task": (str, "a task name"),
    "fold": (int, "an integer"),
    "epoch": (int, "an integer"),
}


def _is(value: Any, kind: Any) -> bool:
    if kind == list[str]:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _unreadable(path: Path, data: bytes, err: Exception) -> str:
    if data[:2] != b"PK":  # not the zip container torch.save writes
        return f"{path} is not a faultcli checkpoint ({type(err).__name__}); pass checkpoints/best.pt or last.pt"
    if isinstance(err, pickle.UnpicklingError):  # weights_only refused an object: nothing in it was run
        return (
            f"{path} is not a faultcli checkpoint (it holds objects other than tensors and built-in types, "
            "or is damaged; nothing in it was run); pass checkpoints/best.pt or last.pt from a run folder"
        )
    return f"{path} is truncated or damaged ({type(err).__name__}); {_EARLIER}"
