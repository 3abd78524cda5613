"""The prepared-dataset cache: where it lives, how a dataset is keyed, and publishing a folder atomically.

Shared by the vibration and image data layers. A prepared dataset is the folder ``<root>/<kind>/<key>/``;
it is written into a staging folder beside it and renamed into place, so readers never see half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

# keys of the [data] section that say where things are cached, not what the data is
_NOT_IN_KEY = ("cache_dir",)


def cache_root(cache_dir: str) -> Path:
    """``cache_dir`` if set, else ``$FAULTCLI_CACHE``, else ``~/.cache/faultcli`` (relative paths: cwd)."""
    chosen = cache_dir or os.environ.get("FAULTCLI_CACHE", "") or "~/.cache/faultcli"
    return Path(chosen).expanduser()


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
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
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
