"""The embedded Chroma database under a data home: one client per path, a private copy for a read-only home, and a
fresh client that sees other processes' writes."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any


def local_client(home: Path) -> Any:
    """The embedded Chroma database under a data home, telemetry off (Chroma shares one client per path and
    refuses a second with other settings, so every caller must build it here)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    return chromadb.PersistentClient(path=str(Path(home) / "chroma"), settings=settings)


def readable_copy(home: Path) -> Path:
    """A private copy of a read-only data home's Chroma database, removed when this process exits."""
    copy = Path(tempfile.mkdtemp(prefix="litassist-readonly-"))
    atexit.register(shutil.rmtree, copy, ignore_errors=True)
    shutil.copytree(home / "chroma", copy / "chroma")
    return copy


def reopened_local_client(home: Path, stale: Any) -> Any:
    """A client that sees what other processes wrote: Chroma keeps one system per path, and its vector index stays
    cached in memory, so the path gets a new system (questions still running finish on the old one)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(stale._identifier, None)
    return local_client(home)
