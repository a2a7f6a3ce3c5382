"""A file's content hash, and what the file looked like before it was hashed, to tell whether it changed while it
was being read."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import NamedTuple


class FileState(NamedTuple):
    """Identity, size and change times: a rewrite, even one that ends with the same size and bytes, changes one."""

    device: int
    inode: int
    size: int
    modified_ns: int
    changed_ns: int


def state_of(path: Path) -> FileState | None:
    """The file's state now; None when it cannot be read (the caller reports why when it opens it)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return FileState(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def changed_since(path: Path, before: FileState | None) -> str | None:
    """Why what was read cannot be trusted (the file was rewritten, truncated or replaced since `before`), or None."""
    if before is None or state_of(path) == before:
        return None
    return ("changed while it was being read (written to, truncated or replaced): nothing of this version was "
            "indexed; ingest it again once it is complete")


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
