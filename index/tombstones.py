"""Deleted sources, remembered as one row per source in a sibling collection (`Marks`) so that they stay deleted.

A deletion remembers its sources with their rows in the state `deleting`; their chunks go after that, and then the
rows become `deleted`. A restore puts its sources' rows in the state `restoring` (naming its process), re-reads
their file (which then keeps them in), and forgets the rows of those that came back, the others going back to
`deleted`. Every writer, once it holds the write lock, settles what a killed process left (Store.recover): chunks of
sources being removed are removed; sources being restored are forgotten if their chunks were written, else they stay
deleted. A re-ingest skips remembered sources, changed file or not. On one data home all of it happens under its
write lock (index/write_lock.py); machines sharing a Chroma server each write only their own sources' rows, which
Chroma writes atomically. Earlier versions kept all of this in the collection's metadata, which Chroma replaces
whole, so another machine's metadata write (a new generation stamp) could erase a deletion; those keys are still
read, and the next writer holding the lock moves them into rows.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from litassist.index import journal
from litassist.index.errors import StoreError

DELETED, DELETING, RESTORING = "deleted", "deleting", "restoring"  # a row's state
KEY = DELETED  # earlier versions' metadata keys: KEY (JSON {source id: fields}), DELETING and RESTORING (the marks)
LEGACY = (KEY, DELETING, RESTORING)
_PAGE = 1000  # rows per Chroma write


class DeletedSource(BaseModel):
    """A source deleted by its user: what it was and which file (in which version) held it."""

    source_id: str
    kind: str
    title: str = ""
    file: str
    file_hash: str = ""  # the file's fingerprint when the source was deleted

    def label(self, detail: str = "") -> str:
        """'“Title” (paper, <detail>)'; the id instead of the title when it has none."""
        name = f"“{self.title}”" if self.title else self.source_id
        return f"{name} ({self.kind}{', ' + detail if detail else ''})"


class Mark(BaseModel):
    """One remembered deletion: the source, its state, and for a restore the process restoring it."""

    source: DeletedSource
    state: str = DELETED
    writer: dict[str, Any] = {}  # journal.writer() of the restoring process


class Marks:
    """The deleted sources of one chunk collection, one row per source id in the sibling collection
    `<collection>-deleted` (modelled on journal.Journal: rows carry a constant 1-dimensional vector, never searched)."""

    def __init__(self, client: Any, collection_name: str) -> None:
        self.collection = client.get_or_create_collection(f"{collection_name}-deleted", embedding_function=None)

    def get(self, ids: Sequence[str] | None = None) -> dict[str, Mark]:
        """The readable rows (of these source ids only, when given), by source id."""
        if ids is not None and not ids:
            return {}
        got = self.collection.get(ids=list(ids) if ids is not None else None, include=["metadatas"])
        found = {sid: _parsed(sid, meta or {}) for sid, meta in zip(got["ids"], got["metadatas"])}
        return {sid: mark for sid, mark in found.items() if mark is not None}

    def put(self, marks: Sequence[Mark]) -> None:
        """Write these rows (each replaces its source's row, if any)."""
        for start in range(0, len(marks), _PAGE):
            page = marks[start : start + _PAGE]
            self.collection.upsert(ids=[m.source.source_id for m in page], embeddings=[[1.0]] * len(page),
                                   metadatas=[_row(m) for m in page])

    def forget(self, ids: Sequence[str]) -> None:
        """Remove these sources' rows."""
        ids = list(ids)
        for start in range(0, len(ids), _PAGE):
            self.collection.delete(ids=ids[start : start + _PAGE])


def _row(mark: Mark) -> dict[str, Any]:
    """A mark as a row's metadata (Chroma's values are scalars: the writer goes as JSON)."""
    return {**mark.source.model_dump(exclude={"source_id"}), "state": mark.state,
            "writer": json.dumps(mark.writer) if mark.writer else ""}


def _parsed(source_id: str, row: dict[str, Any]) -> Mark | None:
    """A row read back; None when it cannot be read."""
    try:
        fields = {k: row[k] for k in ("kind", "title", "file", "file_hash") if k in row}
        writer = json.loads(row.get("writer") or "{}")
        return Mark(source=DeletedSource(source_id=source_id, **fields), state=row.get("state", DELETED),
                    writer=writer if isinstance(writer, dict) else {})
    except (ValueError, TypeError, ValidationError):
        return None


def _legacy_sources(metadata: dict[str, Any] | None) -> dict[str, DeletedSource]:
    """Deletions an earlier version kept in the metadata; {} when none (or unreadable)."""
    try:
        raw = json.loads((metadata or {}).get(KEY) or "{}")
        return {sid: DeletedSource(source_id=sid, **fields) for sid, fields in raw.items()}
    except (ValueError, TypeError, AttributeError, ValidationError):
        return {}


def _legacy_mark(metadata: dict[str, Any] | None, key: str) -> dict[str, Any]:
    """An earlier version's mark as {"ids": [...], and for RESTORING its writer}; {} when none (or unreadable)."""
    try:
        value = json.loads((metadata or {}).get(key) or "{}")
    except ValueError:
        return {}
    mark = {"ids": value} if isinstance(value, list) else value if isinstance(value, dict) else {}
    ids = mark.get("ids")
    return {**mark, "ids": [i for i in ids if isinstance(i, str)]} if isinstance(ids, list) else {}


def legacy(metadata: dict[str, Any] | None) -> dict[str, Mark]:
    """The deletions and marks an earlier version kept in the collection's metadata, as rows."""
    deleting = set(_legacy_mark(metadata, DELETING).get("ids", []))
    restore = _legacy_mark(metadata, RESTORING)
    who = {k: restore[k] for k in ("host", "pid", "start") if k in restore}

    def mark(sid: str, source: DeletedSource) -> Mark:
        if sid in restore.get("ids", []):
            return Mark(source=source, state=RESTORING, writer=who)
        return Mark(source=source, state=DELETING if sid in deleting else DELETED)

    return {sid: mark(sid, source) for sid, source in _legacy_sources(metadata).items()}


def marks(store: Any) -> dict[str, Mark]:
    """Every remembered deletion of a store (an index.store.Store): its rows, and any an earlier version left in the
    metadata that no writer has moved yet (a row wins)."""
    return {**legacy(store.collection.metadata), **store.marks.get()}


def read(store: Any) -> dict[str, DeletedSource]:
    """Remembered deletions by source id; {} when none."""
    return {sid: mark.source for sid, mark in marks(store).items()}


def marked(store: Any, state: str = DELETING) -> list[str]:
    """Sources in this state: DELETING (chunks not all removed yet) or RESTORING (file being read again)."""
    return [sid for sid, mark in marks(store).items() if mark.state == state]


def kept_out(store: Any) -> dict[str, DeletedSource]:
    """The deleted sources an ingest leaves out: all remembered ones but those being restored."""
    return {sid: mark.source for sid, mark in marks(store).items() if mark.state != RESTORING}


def _rows(store: Any) -> Marks:
    """The store's rows, to write them: only while holding the write lock (as Store.update_metadata)."""
    if not store.lock.held:  # a bug, not a user error: two writers at once lose each other's work
        raise StoreError("internal error: a write to the deleted sources without the index's write lock")
    return store.marks


def remembering(store: Any, sources: list[DeletedSource]) -> None:
    """Remember these sources as deleted, marked as having their chunks removed."""
    _rows(store).put([Mark(source=source, state=DELETING) for source in sources])


def removed(store: Any, source_ids: list[str]) -> None:
    """These sources' chunks are gone: they are simply deleted."""
    _rows(store).put([Mark(source=mark.source) for mark in store.marks.get(source_ids).values()])


def restoring(store: Any, source_ids: list[str]) -> None:
    """Mark these deleted sources as being restored by this process (an ingest then keeps them in)."""
    who = journal.writer()
    _rows(store).put([Mark(source=mark.source, state=RESTORING, writer=who)
                     for mark in store.marks.get(source_ids).values()])


def restored(store: Any, back: list[str], asked: list[str]) -> None:
    """Forget the sources that came back; the others asked for stay deleted (their rows first: a kill in between
    leaves the ones that came back marked, settled as back by the next writer)."""
    _rows(store).put([Mark(source=mark.source) for sid, mark in store.marks.get(asked).items() if sid not in back])
    _rows(store).forget(back)


def _restorer_gone(mark: Mark) -> bool:
    """Whether the restore that marked this source was cut short: its process, on this machine, has ended."""
    who = mark.writer
    if who.get("host") != socket.gethostname() or who.get("pid") == os.getpid():
        return False  # this process's own restore is under way; another machine's cannot be checked
    return journal.writer_gone(who)


def move_legacy(store: Any) -> None:
    """Move the deletions an earlier version kept in the metadata into rows (a row already there wins), then drop
    those keys (holding the write lock; a kill in between moves them again, harmlessly)."""
    metadata = store._current_metadata()  # as the server holds it now: another machine may have moved them
    if not set(LEGACY) & metadata.keys():
        return
    old = legacy(metadata)
    have = store.marks.get(list(old))
    _rows(store).put([mark for sid, mark in old.items() if sid not in have])
    store.update_metadata(lambda meta: {k: v for k, v in meta.items() if k not in LEGACY})


def settle(store: Any) -> None:
    """Finish what a killed deletion or restore left marked (see above); `store` is an index.store.Store."""
    move_legacy(store)
    rows = store.marks.get()
    removing = [sid for sid, mark in rows.items() if mark.state == DELETING]
    returning = [sid for sid, mark in rows.items() if mark.state == RESTORING and _restorer_gone(mark)]
    if removing:
        store.update_metadata(lambda meta: meta, new_generation=True)
        for start in range(0, len(removing), _PAGE):
            store.collection.delete(where={"source_id": {"$in": removing[start : start + _PAGE]}})
        removed(store, removing)
    if returning:
        back = list(store.owners(returning))
        restored(store, back, returning)
