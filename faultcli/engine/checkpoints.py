"""Checkpoint files: plain tensors and built-in types only, so loading never runs code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from faultcli.errors import CheckpointError
from faultcli.runs import atomic_path


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(Path(path)) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load with ``weights_only=True``; a missing or foreign file is a one-line error."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found; pass a .pt file from a run's checkpoints/ folder")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle errors, truncated files, non-checkpoint files
        raise CheckpointError(
            f"{path} is not a faultcli checkpoint ({type(err).__name__}); "
            "pass checkpoints/best.pt or last.pt from a run folder"
        ) from None
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise CheckpointError(f"{path} is not a faultcli checkpoint (no model/config); pass a run's best.pt")
    return state
