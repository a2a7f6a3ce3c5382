"""Vectors on disk keyed by sha256(model name + text): a chunk whose text was embedded before is not embedded again.

Chroma already lends back the vector of a chunk id it holds; this cache also serves texts whose chunk id changed
(another chunk size, a record moved to another file) or that were deleted and come back. One SQLite file per model.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import numpy as np

_BATCH = 500  # keys per SELECT (SQLite allows 999 parameters in older builds)


class VectorCache:
    """text -> float32 vector for one model, in `<folder>/<model>.sqlite`."""

    def __init__(self, folder: Path, model_name: str) -> None:
        self.model_name = model_name
        self.path = Path(folder) / f"{model_name}.sqlite"

    def _connect(self) -> sqlite3.Connection:
        """A short-lived connection (ingest may run in a UI worker thread; another process may share the file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
        return conn

    def key(self, text: str) -> bytes:
        """sha256 of model name and text: vectors of another model or backend never match."""
        return hashlib.sha256(f"{self.model_name}\n{text}".encode()).digest()

    def lookup(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached vectors of those texts that have one."""
        wanted = {self.key(t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        if not wanted or not self.path.exists():
            return found
        keys = list(wanted)
        with closing(self._connect()) as conn:
            for start in range(0, len(keys), _BATCH):
                part = keys[start : start + _BATCH]
                rows = conn.execute(f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})", part)
                found.update((wanted[k], np.frombuffer(v, dtype=np.float32).copy()) for k, v in rows)
        return found

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Remember vectors of freshly encoded texts."""
        if not len(texts):
            return
        rows = [(self.key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vectors)]
        with closing(self._connect()) as conn, conn:
            conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
