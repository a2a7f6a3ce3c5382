"""A file ingested part by part: which ids it claimed and skipped, and how to undo its parts if it fails later."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from index.file_state import FileState
from index.ingest_report import FileOutcome
from index.records import Chunk, Record
from index.skips import Skips
from index.store import Store


class UndoLog:
    """Rows of a file's old version that parts of its new version overwrote, kept on disk (not in memory) until
    the file is complete, so that a failure later in the file can put the old version back."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None

    def save(self, store: Store, file: str, file_hash: str, ids: list[str]) -> None:
        """Keep the old version's rows among these ids, before a part of the new version replaces them."""
        where = {"$and": [{"file": file}, {"file_hash": {"$ne": file_hash}}]}
        got = store.collection.get(ids=ids, where=where, include=["documents", "metadatas", "embeddings"])
        if not got["ids"]:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="litassist-undo-")
        pickle.dump((got["ids"], got["documents"], got["metadatas"], got["embeddings"]), self._file)

    def batches(self) -> Iterator[tuple[list, ...]]:
        """The saved (ids, documents, metadatas, embeddings), batch by batch."""
        if self._file is None:
            return
        self._file.seek(0)
        while True:
            try:
                yield pickle.load(self._file)  # noqa: S301  (our own temporary file, written above)
            except EOFError:
                return

    def close(self) -> None:
        """Drop what was kept (the temporary file goes with it)."""
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass
class Stream:
    """One file being read part by part: ids claimed, entries skipped, parts queued."""

    key: str
    digest: str
    replacing: bool
    seen: set[str] = field(default_factory=set)
    skips: Skips = field(default_factory=Skips)
    total: int = 0  # records read
    records: int = 0  # records kept
    chunks: int = 0
    parts: int = 0  # parts queued for writing
    undo: UndoLog | None = None
    state: FileState | None = None  # the file as it was hashed: reading it must end with it unchanged

    def __post_init__(self) -> None:
        if self.replacing:  # only a replaced file has an old version to put back
            self.undo = UndoLog()

    def claim(self, records: list[Record], held: dict[str, str]) -> list[Record]:
        """Keep records whose id no other file holds (`held`: id -> file); an id repeated in the file keeps its
        first record, whichever part it came in."""
        kept = []
        for record in records:
            owner = held.get(record.source_id) or self.key
            if record.source_id in self.seen:
                self.skips.add(f"'{record.source_id}' appears twice in the file")
            elif owner != self.key:
                self.skips.add(f"'{record.source_id}' is already indexed from {owner}")
            else:
                self.seen.add(record.source_id)
                kept.append(record)
        self.total += len(records)
        self.records += len(kept)
        return kept

    def reason(self, loaded: str | None) -> str | None:
        """The loader's note on skipped entries and the ids skipped here, in one line; None when neither."""
        return "; ".join(r for r in (loaded, self.skips.summary(self.total, "records")) if r) or None

    def close(self) -> None:
        """Drop the undo log: the file is complete or undone."""
        if self.undo is not None:
            self.undo.close()


@dataclass
class Pending:
    """A parsed part of a file waiting for its vectors; the file's last part carries its outcome."""

    file: str
    file_hash: str
    records: list[Record]
    chunks: list[Chunk]
    outcome: FileOutcome | None = None  # None: more parts of the file follow
    stream: Stream | None = None
