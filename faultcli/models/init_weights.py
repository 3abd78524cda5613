"""Start a model from another run's weights: load every tensor whose name and shape match, and say which
were loaded, which in the file went unused and which the model initialises afresh."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from faultcli.engine.checkpoints import verify_bytes
from faultcli.errors import CheckpointError, ConfigError

_WHAT_TO_PASS = "pass a .pt state dict, a faultcli checkpoint or a run folder"


@dataclass
class InitReport:
    """Names of the tensors (parameters and buffers) in each group, sorted."""

    loaded: list[str] = field(default_factory=list)  # in the file and the model, copied
    skipped: list[str] = field(default_factory=list)  # in the file only (or dropped by the prefix map)
    initialised: list[str] = field(default_factory=list)  # in the model only: keep their fresh values

    def describe(self, show: int = 3) -> str:
        """One line for a run's log: the counts, with the first ``show`` names of the unmatched groups."""

        def names(keys: list[str]) -> str:
            more = f", +{len(keys) - show} more" if len(keys) > show else ""
            return f" ({', '.join(keys[:show])}{more})" if keys else ""

        return (
            f"loaded {len(self.loaded)} tensors; {len(self.skipped)} in the file unused{names(self.skipped)}; "
            f"{len(self.initialised)} newly initialised{names(self.initialised)}"
        )


def _rename(key: str, prefix_map: Mapping[str, str | None]) -> str | None:
    """The model's name for a file key: the longest matching prefix replaced (None: drop the key)."""
    for old in sorted(prefix_map, key=len, reverse=True):
        if key.startswith(old):
            new = prefix_map[old]
            return None if new is None else new + key[len(old) :]
    return key


def load_matching(
    model: nn.Module, state_dict: Mapping[str, torch.Tensor], prefix_map: Mapping[str, str | None] | None = None
) -> InitReport:
    """Copy into ``model`` every tensor of ``state_dict`` whose (renamed) key the model has.

    ``prefix_map`` renames file keys before matching, longest prefix first: ``{"encoder.": "backbone."}``,
    ``{"module.": ""}``; a prefix mapped to None drops its keys (e.g. ``{"head.": None}`` to start a
    classifier head afresh). A key both sides hold with different shapes raises :class:`ConfigError` before
    anything is copied: the weights come from another architecture.
    """
    own = model.state_dict()
    renamed: dict[str, torch.Tensor] = {}
    report = InitReport()
    for key, value in state_dict.items():
        name = _rename(key, prefix_map or {})
        if name is None or name not in own:
            report.skipped.append(key)
        else:
            renamed[name] = value
    clashes = [k for k, v in renamed.items() if tuple(v.shape) != tuple(own[k].shape)]
    if clashes:
        shown = "; ".join(f"{k} {tuple(renamed[k].shape)} in the file, {tuple(own[k].shape)} here" for k in clashes[:3])
        more = f"; {len(clashes) - 3} more" if len(clashes) > 3 else ""
        raise ConfigError(
            f"the initial weights come from another architecture, {len(clashes)} tensors differ in shape "
            f"({shown}{more}); start from weights of the same model and settings"
        )
    model.load_state_dict(renamed, strict=False)
    report.loaded = sorted(renamed)
    report.skipped.sort()
    report.initialised = sorted(k for k in own if k not in renamed)
    return report


def read_weights(path_or_run: str | Path) -> dict[str, torch.Tensor]:
    """The state dict in a .pt file (a bare state dict, or a checkpoint's "model" entry) or in a run folder's
    ``checkpoints/best.pt``. A missing or unreadable file, or one without weights, is a :class:`CheckpointError`."""
    path = Path(path_or_run)
    if path.is_dir():
        path = _best_of_run(path)
    if not path.is_file():
        raise CheckpointError(f"weights file {path} not found; {_WHAT_TO_PASS}")
    data = path.read_bytes()
    verify_bytes(path, data)  # a checkpoint with a checksum file must match it
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # pickle errors, truncated or foreign files
        raise CheckpointError(f"{path} cannot be read as weights ({type(err).__name__}); {_WHAT_TO_PASS}") from None
    if isinstance(state, dict):
        for key in ("model", "state_dict"):
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    if isinstance(state, dict):  # a module's extra state (an LSTM's vocabulary) is rebuilt, not copied
        state = {k: v for k, v in state.items() if not str(k).endswith("_extra_state")}
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} holds no state dict of weights; {_WHAT_TO_PASS}")
    return dict(state)


def _best_of_run(run: Path) -> Path:
    best = run / "checkpoints" / "best.pt"
    if best.is_file():
        return best
    folds = sorted(p.name for p in run.glob("fold-*") if (p / "checkpoints" / "best.pt").is_file())
    if folds:
        raise CheckpointError(f"{run} is a k-fold run; pass one fold's folder, e.g. {run / folds[0]}")
    raise CheckpointError(f"run folder {run} has no checkpoints/best.pt; pass a finished run's folder or a .pt file")
