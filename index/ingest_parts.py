"""A file ingested part by part: which ids it claimed and skipped, and how to undo its parts if it fails later."""

from __future__ import annotations

import pickle
import stat
import tempfile
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from litassist.index.file_state import FileState
from litassist.index.ingest_report import FileOutcome
from litassist.index.loaders import STREAMED_EXTENSIONS
from litassist.index.records import Chunk, Record
from litassist.index.skips import Skips
from litassist.index.store import Store

MB = 1024 * 1024


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
    deleted: list[str] = field(default_factory=list)  # ids in the file whose sources were deleted: they stay so
    undo: UndoLog | None = None
    state: FileState | None = None  # the file as it was hashed: reading it must end with it unchanged

    def __post_init__(self) -> None:
        if self.replacing:  # only a replaced file has an old version to put back
            self.undo = UndoLog()

    def claim(self, records: list[Record], held: dict[str, str], deleted: Container[str] = ()) -> list[Record]:
        """Keep records whose id no other file holds (`held`: id -> file) and whose source was not deleted; an id
        repeated in the file keeps its first record, whichever part it came in."""
        kept = []
        for record in records:
            owner = held.get(record.source_id) or self.key
            if record.source_id in self.seen:
                self.skips.add(f"'{record.source_id}' appears twice in the file")
            elif record.source_id in deleted:  # not a problem with the file: its user deleted the source
                self.seen.add(record.source_id)
                self.deleted.append(record.source_id)
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


def refusal(path: Path, limit: int | None) -> str | None:
    """Why a file is not even opened: missing, not a regular file (reading a FIFO blocks forever), too large."""
    try:
        info = path.stat()
    except OSError as exc:
        return exc.strerror or str(exc)
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a pipe, socket or device)"
    if limit and info.st_size > limit and path.suffix.lower() not in STREAMED_EXTENSIONS:
        return f"too large: {info.st_size / MB:.1f} MB, over the {limit / MB:g} MB limit per file"
    return None


def groups(pending: list[Pending], size: int) -> Iterator[list[Pending]]:
    """Consecutive parts cut into groups of at least `size` chunks (the last may hold fewer); a part is never split."""
    group: list[Pending] = []
    count = 0
    for item in pending:
        group.append(item)
        count += len(item.chunks)
        if count >= size:
            yield group
            group, count = [], 0
    if group:
        yield group
