"""Deleting sources by id (remembered, so a re-ingest keeps them out), listing them, and restoring them from their
files. Both survive a kill at any point (see index/tombstones.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from litassist.index import tombstones
from litassist.index.errors import UnknownSourceError
from litassist.index.ingest import Ingestor
from litassist.index.store import Store
from litassist.index.tombstones import DeletedSource

_PAGE = 1000  # ids per Chroma delete


class Deleted(BaseModel):
    """A source just deleted, and how many chunks went with it."""

    source: DeletedSource
    chunks: int


class Restored(BaseModel):
    """What became of one deleted source asked back: restored (with its chunks), or why not."""

    source: DeletedSource
    chunks: int = 0
    reason: str | None = None  # None: restored

    @property
    def ok(self) -> bool:
        """It is indexed again."""
        return self.reason is None


def deleted_sources(store: Store) -> list[DeletedSource]:
    """Every remembered deletion, by kind, file and id."""
    return sorted(tombstones.read(store).values(), key=lambda s: (s.kind, s.file, s.source_id))


def _refuse(problems: list[str], listed: str) -> None:
    """One error naming every id that cannot be used, and where the usable ones are listed."""
    if problems:
        raise UnknownSourceError("; ".join(problems) + f" ({listed})")


def delete_sources(store: Store, source_ids: list[str]) -> list[Deleted]:
    """Delete these sources, or none of them when an id is not indexed; they stay deleted on re-ingest. One writer at
    a time: waits for the data home's write lock, then first settles what a writer that died left half done."""
    with store.lock:
        store.recover()
        return _delete(store, list(dict.fromkeys(source_ids)))


def _delete(store: Store, ids: list[str]) -> list[Deleted]:
    """Delete, holding the write lock."""
    rows = {row.source_id: row for row in store.sources()}
    gone = tombstones.read(store)
    _refuse([f"{sid} is already deleted (litassist delete --restore {sid} brings it back)" if sid in gone
             else f"no indexed source has the id '{sid}'" for sid in ids if sid not in rows],
            "litassist sources lists the indexed ones; nothing was deleted")
    deleted = [Deleted(chunks=rows[sid].chunks, source=DeletedSource(
        source_id=sid, kind=rows[sid].kind, title=rows[sid].title, file=rows[sid].file,
        file_hash=store.file_hash(rows[sid].file) or "")) for sid in ids]
    # Remembered and marked (rows of their own) before any chunk goes: a kill after that is finished on next open.
    tombstones.remembering(store, [d.source for d in deleted])
    store.update_metadata(lambda meta: meta, new_generation=True, files=[d.source.file for d in deleted])
    for start in range(0, len(ids), _PAGE):
        store.collection.delete(where={"source_id": {"$in": ids[start : start + _PAGE]}})
    tombstones.removed(store, ids)
    store.update_bm25()
    return deleted


def restore_sources(store: Store, make_ingestor: Callable[..., Ingestor], source_ids: list[str]) -> list[Restored]:
    """Bring deleted sources back by re-reading their files (each file once, forced); a source whose file is gone,
    unreadable or no longer holds it stays deleted, with the reason. Holds the write lock, as `delete_sources`."""
    with store.lock:
        store.recover()
        return _restore(store, make_ingestor, list(dict.fromkeys(source_ids)))


def _restore(store: Store, make_ingestor: Callable[..., Ingestor], ids: list[str]) -> list[Restored]:
    """Restore, holding the write lock."""
    gone = tombstones.read(store)
    indexed = store.owners([sid for sid in ids if sid not in gone])
    _refuse([f"{sid} is indexed, not deleted" if sid in indexed else f"no deleted source has the id '{sid}'"
             for sid in ids if sid not in gone], "litassist sources lists the deleted ones; nothing was restored")
    by_file: dict[str, list[DeletedSource]] = {}
    for sid in ids:
        by_file.setdefault(gone[sid].file, []).append(gone[sid])
    return [result for file, sources in by_file.items()
            for result in _restore_file(store, make_ingestor, file, sources)]


def _restore_file(store: Store, make_ingestor: Callable[..., Ingestor], file: str,
                  sources: list[DeletedSource]) -> list[Restored]:
    """Re-read the sources' file with them marked as being restored; forget the deletion of those it brought back."""
    if not Path(file).is_file():
        return [Restored(source=s, reason=f"its file {file} is no longer there") for s in sources]
    ids = [s.source_id for s in sources]
    tombstones.restoring(store, ids)
    try:
        report = make_ingestor(force=True).run([Path(file)])
    finally:  # also after an error: those written are back, the others stay deleted (as on the next opening)
        back = [sid for sid, owner in store.owners(ids).items() if owner == file]
        tombstones.restored(store, back, ids)
    failed = next((o.reason for o in report.failed), None)
    why = f"its file cannot be read: {failed}" if failed else f"its file {file} no longer holds it"
    chunks = {row.source_id: row.chunks for row in store.sources() if row.source_id in back}
    return [Restored(source=s, chunks=chunks.get(s.source_id, 0), reason=None if s.source_id in back else why)
            for s in sources]
