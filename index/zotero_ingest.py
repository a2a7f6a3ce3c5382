"""Ingesting a Zotero library incrementally: each regular item is indexed as if it were a file of its own, named
`<data folder>/zotero.sqlite#<libraryID>/<key>`, whose fingerprint is the item's stamp (its version, modification
dates, fields, collections, tags and its PDFs' sizes and times). An unchanged item is skipped without reading its
PDFs; an item gone from the library (or moved to the trash) leaves the index, journaled like any write (a kill half
way is finished by the next writer's `recover`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from litassist.index import source_table
from litassist.index.errors import LoadError
from litassist.index.fingerprint import forced
from litassist.index.ingest_parts import Stream
from litassist.index.ingest_report import FileOutcome
from litassist.index.loaders.zotero import read_items, to_paper
from litassist.index.records import Record
from litassist.index.store import Store

if TYPE_CHECKING:
    from litassist.index.ingest import Ingestor

_PAGE = 1000  # files per Chroma delete


class OnePart:
    """An item's records as the one part `Ingestor._read` takes, with why anything was left out."""

    def __init__(self, records: list[Record], reason: str | None) -> None:
        self.records, self.reason = records, reason

    def __iter__(self) -> Iterator[list[Record]]:
        yield self.records


def prefix_of(sqlite: Path) -> str:
    """What every item's file name in the index starts with."""
    return f"{sqlite.resolve()}#"


def indexed_files(store: Store) -> set[str]:
    """Every file name the index holds chunks of (from the source table BM25 saves, else from Chroma)."""
    saved = source_table.file_hashes(store.bm25_dir, store.generation)
    if saved is not None:
        return set(saved)
    return {meta["file"] for _, _, meta in store.scan()}


def remove_files(store: Store, files: list[str]) -> None:
    """Delete every chunk of these files, journaled: a kill half way leaves them to `recover`. Holds the lock."""
    with store.lock:
        store.journal.add(files)
        store.update_metadata(lambda meta: meta, new_generation=True, files=files)
        for start in range(0, len(files), _PAGE):
            store.collection.delete(where={"file": {"$in": files[start : start + _PAGE]}})
        store.journal.remove(files)


def take_library(ingestor: Ingestor, sqlite: Path) -> None:
    """Ingest a Zotero library through `ingestor`: changed and new items are read, unchanged ones skipped, and items
    no longer in the library removed."""
    try:
        items = read_items(sqlite)
    except LoadError as exc:
        return ingestor._fail(sqlite, exc.reason)
    ingestor._progress.more_files(len(items) - 1)  # each item is told as a file of its own
    prefix = prefix_of(sqlite)
    names = {prefix + item.name for item in items}
    ingestor._wait()  # earlier files' writes are done before chunks are removed beside them
    gone = sorted(f for f in indexed_files(ingestor.store) if f.startswith(prefix) and f not in names)
    if gone:
        remove_files(ingestor.store, gone)
        ingestor.report.removed += gone
    for item in items:
        key = prefix + item.name
        digest = f"zotero:{item.stamp}:{ingestor.max_tokens}"
        previous = ingestor.store.file_hash(key)
        if ingestor._unchanged(key, previous, digest):
            deleted = [s.source_id for s in ingestor._deleted_files.get(key, [])]
            ingestor._finish(FileOutcome(file=key, status="unchanged", deleted=deleted))
            continue
        paper, problems = to_paper(item)
        if paper is None:
            ingestor._fail(Path(key), "; ".join(problems) or "no title, abstract or readable PDF")
            continue
        stream = Stream(key, forced(digest) if ingestor.force else digest, replacing=previous is not None)
        ingestor._stream = stream
        ingestor._read(Path(key), stream, OnePart([paper], "; ".join(problems) or None))
        ingestor._stream = None
