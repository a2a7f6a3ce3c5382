"""Chroma (vectors, texts, metadata: the source of truth) and a BM25 index kept in step with it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from litassist.index import bm25_sync, hits, journal, source_table, tombstones
from litassist.index import offline  # noqa: F401  (before any library that could reach the network)
from litassist.index.bm25 import Bm25Index, SearchFilter
from litassist.index.chroma_local import local_client, readable_copy, reopened_local_client
from litassist.index.entries import RECORD, Entry, chunk_metadata, passage_of
from litassist.index.errors import StoreError
from litassist.index.narrow import NarrowVectors
from litassist.index.prefilter import where_clause
from litassist.index.records import Passage, Record
from litassist.index.source_table import SourceRow
from litassist.index.write_lock import WriteLock, read_only

__all__ = ["Entry", "Hnsw", "Store", "chunk_metadata", "local_client", "passage_of", "where_clause"]

_PAGE = 1000  # rows per Chroma read when scanning the whole collection
_REFRESH_LOCK = threading.Lock()


@dataclass
class Hnsw:
    """HNSW parameters (from settings.store: Chroma's defaults, ef 100 and M 16, lose recall at 100k chunks)."""

    ef_construction: int
    ef_search: int
    max_neighbors: int


class Store:
    """A Chroma collection per embedding model, with a BM25 index beside it."""

    def __init__(self, home: Path, model_name: str, *, hnsw: Hnsw, client: Any = None) -> None:
        self.home = Path(home)
        self.name = f"chunks-{model_name}"
        self.local = client is None  # the embedded database, as opposed to a Chroma server
        # Chroma writes to its database even to open it: a read-only index is read from a private copy.
        self.db_home = readable_copy(self.home) if self.local and read_only(self.home / "chroma") else self.home
        try:
            self.client = client or local_client(self.db_home)
        except Exception as exc:  # chromadb raises several types for a bad or locked folder
            raise StoreError(f"cannot open the index at {self.home / 'chroma'}: {exc}") from exc
        self.collection = self.client.get_or_create_collection(
            self.name, embedding_function=None,
            configuration={"hnsw": {"space": "cosine", **hnsw.__dict__}},
        )
        self._refuse_foreign()
        self._set_ef_search(hnsw.ef_search)
        self.bm25_dir = self.home / "bm25" / self.name
        self.journal = journal.Journal(self.client, self.name)  # files in flight, one row per writer
        self.marks = tombstones.Marks(self.client, self.name)  # deleted sources, one row per source
        self.lock = WriteLock(self.home)  # one writer at a time on this data home, in any process
        self.recovered: list[str] = []  # files an interrupted write left half done: removed, to be ingested again
        self._changed: set[str] | None = None  # files written since BM25 was in step (None: unknown, rebuild)
        self.lock.if_free(self.recover, list)  # a busy lock: its live holder recovered when it took it
        self.bm25 = self._open_bm25()
        self.narrow = NarrowVectors()

    def _set_ef_search(self, ef_search: int) -> None:
        """Apply a changed ef_search, the one HNSW parameter that can change. Chroma stores it, but a process that has
        read the collection keeps searching with the value it loaded (the new one reached only the next process),
        so the embedded database is opened afresh (a Chroma server's own cache is the server's: not checked)."""
        if (self.collection.configuration or {}).get("hnsw", {}).get("ef_search") in (None, ef_search):
            return
        self.collection.modify(configuration={"hnsw": {"ef_search": ef_search}})
        if self.local:
            self.client = reopened_local_client(self.db_home, self.client)
            self.collection = self.client.get_collection(self.name, embedding_function=None)

    def _refuse_foreign(self) -> None:
        """Another program's collection that happens to share our name is left alone, never changed or read as ours."""
        sample = self.collection.get(limit=1, include=["metadatas"])
        meta = (sample["metadatas"] or [{}])[0] or {}
        if sample["ids"] and not {"source_id", "kind", "file"} <= meta.keys():
            raise StoreError(f"the Chroma collection '{self.name}' in {self.home / 'chroma'} was not made by "
                             "litassist (its entries carry no source_id, kind or file); litassist leaves it alone: "
                             "use another --home or Chroma server")

    # --- consistency -------------------------------------------------------------------------
    @property
    def generation(self) -> str:
        """Changes before every write; a BM25 index from another generation is stale."""
        return str((self.collection.metadata or {}).get("generation", "empty"))

    def _open_bm25(self) -> Bm25Index:
        """Load the saved BM25 index, rebuilding it when it does not match Chroma (e.g. after a crash)."""
        saved = Bm25Index.load(self.bm25_dir)
        if saved is not None and saved.generation == self.generation and len(saved.ids) == self.count():
            return saved
        return self._rebuild_saving_if_free()

    def rebuild_bm25(self) -> Bm25Index:
        """Rebuild BM25 from Chroma's documents and persist it (waiting for the write lock)."""
        with self.lock:
            return self._rebuild(save=True)

    def update_bm25(self) -> Bm25Index:
        """Bring BM25 in step after writes: a new segment with the current chunks of the files written since it was
        last in step, their old chunks retired (seconds, whatever the index's size); a rebuild when those files are
        unknown or the saved index is not the one in memory. Waits for the write lock."""
        with self.lock:
            changed, self._changed = self._changed, None
            return bm25_sync.update(self, changed)

    def _rebuild_saving_if_free(self) -> Bm25Index:
        """Rebuild BM25, saved only if no writer is busy: a reader must not wait for a long ingest (which saves
        its own when it ends)."""
        return self.lock.if_free(lambda: self._rebuild(save=True), lambda: self._rebuild(save=False))

    def _rebuild(self, save: bool) -> Bm25Index:
        """BM25 built afresh from Chroma's documents, and saved with the source table when `save`."""
        summary, files = {}, {}
        generation = self.generation  # read first: a write after it makes the saved index stale, never wrong
        ids, texts, phrases, facts, owners = bm25_sync.columns(self.scan(include_documents=True), summary, files)
        self.bm25 = Bm25Index.build(ids, texts, facts, generation, owners, phrases)
        if save:
            self.bm25.save(self.bm25_dir)
            source_table.save(self.bm25_dir, generation, summary, files)
        return self.bm25

    def _begin_write(self, files: Sequence[str] = ()) -> None:
        """Mark Chroma as changed, and journal the files about to be written, before touching any chunk."""
        if not self.lock.held:  # a bug, not a user error: two writers at once lose each other's work
            raise StoreError("internal error: a write to the index without its write lock")
        self._track(files)
        if files:
            self.journal.add(list(files))
        stamp = uuid.uuid4().hex
        self._modify(lambda meta: {**meta, "generation": stamp})

    def _modify(self, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Write change(metadata) over the metadata as the server holds it now, not as this client last saw it:
        other machines may have written it since (Chroma replaces metadata whole, without compare-and-set: it holds
        only the generation stamp; the journal and deleted sources live in rows, index/journal.py, tombstones.py)."""
        self.collection.modify(metadata=change(dict(self._current_metadata())))

    def _current_metadata(self) -> dict[str, Any]:
        """The collection's metadata as the server holds it now (this client's copy may be stale)."""
        return self.client.get_collection(self.name, embedding_function=None).metadata or {}

    def _track(self, files: Sequence[str], known: bool = True) -> None:
        """Note the files a write is about to change, for the BM25 update that follows (`known`: False when a write
        changes chunks it cannot name by file, so the update must be a rebuild)."""
        if getattr(self, "bm25", None) is not None and self.bm25.generation == self.generation:  # in step until now
            self._changed = set()
        if self._changed is not None:
            self._changed = self._changed | set(files) if known else None

    def _end_write(self, files: Sequence[str]) -> None:
        """Every chunk of these files is written: take them off the journal."""
        self.journal.remove(list(files))

    def recover(self) -> list[str]:
        """Remove the chunks of files whose write was cut short (kill -9, crash) so they ingest afresh; returns them
        (and adds them to `recovered`); then settle a deletion or restore cut short (index/tombstones.py, after the
        files: a restore's half-written file must be gone before it is judged). Every writer calls this once it holds
        the write lock."""
        with self.lock:
            rows = {k: e for k, e in self.journal.entries().items() if journal.writer_gone(e)}
            legacy = {k: e for k, e in journal.entries(self._current_metadata()).items() if journal.writer_gone(e)}
            files = list(dict.fromkeys(f for entry in [*rows.values(), *legacy.values()] for f in entry["files"]))
            if files:
                self._begin_write(files)  # a new generation: BM25 is rebuilt from what remains
                for start in range(0, len(files), _PAGE):
                    self.collection.delete(where={"file": {"$in": files[start : start + _PAGE]}})
                self._end_write(files)
                self.journal.drop(list(rows))
                if legacy:  # entries an earlier version kept in the metadata
                    self._modify(lambda meta: journal.without_entries(meta, list(legacy)))
            tombstones.settle(self)
        self.recovered += [f for f in files if f not in self.recovered]
        return files

    def update_metadata(self, change: Callable[[dict[str, Any]], dict[str, Any]], new_generation: bool = False,
                        files: Sequence[str] = ()) -> None:
        """Rewrite the collection's metadata in one write (holding the write lock); a new generation when chunks are
        about to change (`files`: the files whose chunks will, so BM25 can be updated instead of rebuilt)."""
        if not self.lock.held:  # a bug, not a user error: two writers at once lose each other's work
            raise StoreError("internal error: a write to the index without its write lock")
        if new_generation:
            self._track(files, known=bool(files))
        stamp = uuid.uuid4().hex
        self._modify(lambda meta: {**change(meta), "generation": stamp} if new_generation else change(meta))

    # --- reads ---------------------------------------------------------------------------------
    def count(self) -> int:
        """Number of chunks."""
        return self.collection.count()

    def scan(self, include_documents: bool = False, where: dict | None = None,
             limit: int | None = None) -> Iterator[tuple[str, str, dict]]:
        """Every (id, document, metadata), or the first `limit`, read in pages by id. Chroma's pages by offset re-read
        every row before the offset, so a whole scan by offsets grows with the square of the index (0.4 s a page at the
        start of a 100k index, 0.7 s at its end, here); the ids come first, in one read, then each page by its ids."""
        include = ["metadatas", "documents"] if include_documents else ["metadatas"]
        ids = self.collection.get(where=where, limit=limit, include=[])["ids"]
        for start in range(0, len(ids), _PAGE):
            page = ids[start : start + _PAGE]
            got = self.collection.get(ids=page, include=include)
            docs = got.get("documents") or [""] * len(got["ids"])
            rows = {cid: (cid, doc, meta) for cid, doc, meta in zip(got["ids"], docs, got["metadatas"])}
            yield from (rows[cid] for cid in page if cid in rows)  # in the ids' order; one deleted meanwhile is gone

    def owners(self, source_ids: Sequence[str]) -> dict[str, str]:
        """The file each of these sources is indexed from; sources not indexed are left out."""
        unique, found = list(dict.fromkeys(source_ids)), {}
        for start in range(0, len(unique), _PAGE):
            where = {"source_id": {"$in": unique[start : start + _PAGE]}}
            got = self.collection.get(where=where, include=["metadatas"])
            found.update((meta["source_id"], meta["file"]) for meta in got["metadatas"])
        return found

    def file_hash(self, file: str) -> str | None:
        """Content hash of a file as last ingested, or None if it is not indexed."""
        saved = source_table.file_hashes(self.bm25_dir, self.generation)  # valid until the next write
        if saved is not None:
            return saved.get(file)
        got = self.collection.get(where={"file": file}, limit=1, include=["metadatas"])
        return got["metadatas"][0]["file_hash"] if got["ids"] else None

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors for those ids that exist (reused instead of re-encoding)."""
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["embeddings"])
        return {cid: np.asarray(vec, dtype=np.float32) for cid, vec in zip(got["ids"], got["embeddings"])}

    def dense(self, vector: np.ndarray, k: int, where: SearchFilter | None = None) -> list[Passage]:
        """Nearest chunks by cosine similarity, read back from Chroma (index/hits.py ranks them)."""
        return self.passages([(h.id, h.score) for h in hits.dense_hits(self, vector, k, where)])

    def lexical(self, query: str, k: int, where: SearchFilter | None = None) -> list[Passage]:
        """Top BM25 chunks, read back from Chroma."""
        return self.passages(self.bm25.search(query, k, where))

    def passages(self, hits: list[tuple[str, float]]) -> list[Passage]:
        """Passages for (id, score) pairs, in the given order."""
        if not hits:
            return []
        got = self.collection.get(ids=[cid for cid, _ in hits], include=["documents", "metadatas"])
        rows = {cid: (doc, meta) for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])}
        return [passage_of(cid, *rows[cid], score) for cid, score in hits if cid in rows]

    # --- writes --------------------------------------------------------------------------------
    def write(self, entries: Sequence[Entry]) -> None:
        """Upsert each file's chunks; a file's last part (`complete`) then deletes what its previous version had and
        this one lacks, and takes the file off the journal: until then a crash leaves the file to `recover`."""
        if not entries:
            return
        self._begin_write([entry.file for entry in entries])
        rows = [(chunk.id, chunk.text, chunk_metadata(chunk, e.records[chunk.source_id], e.file, e.file_hash), vector)
                for e in entries for chunk, vector in zip(e.chunks, e.vectors)]
        if rows:
            self._upsert(*(list(column) for column in zip(*rows)))
        done = [entry for entry in entries if entry.complete]
        for entry in done:
            self.collection.delete(where={"$and": [{"file": entry.file}, {"file_hash": {"$ne": entry.file_hash}}]})
        if done:
            self._end_write([entry.file for entry in done])

    def _upsert(self, ids: list[str], docs: list[str], metas: list[dict], vecs: Sequence) -> None:
        """Upsert rows in batches Chroma accepts."""
        step = self.client.get_max_batch_size()
        for start in range(0, len(ids), step):
            end = start + step
            self.collection.upsert(ids=ids[start:end], documents=docs[start:end],
                                   metadatas=metas[start:end], embeddings=np.asarray(vecs[start:end]))

    def abandon(self, file: str, file_hash: str, overwritten: Iterable[tuple[list, ...]]) -> None:
        """Undo a file's unfinished write: drop chunks with its new hash, put back the (ids, docs, metas, vecs) of its
        old version that they replaced, and take it off the journal."""
        self._begin_write([file])
        self.collection.delete(where={"$and": [{"file": file}, {"file_hash": file_hash}]})
        for rows in overwritten:
            self._upsert(*rows)
        self._end_write([file])

    def sources(self) -> list[SourceRow]:
        """One row per indexed source: id, kind, title, file and chunk count (saved by the last BM25 rebuild)."""
        saved = source_table.load(self.bm25_dir, self.generation)
        if saved is not None:
            return saved
        rows: dict[str, dict[str, Any]] = {}
        for _, _, meta in self.scan():
            source_table.tally(rows, meta)
        return source_table.ordered(rows)

    def record(self, source_id: str) -> Record | None:
        """The stored record of one source."""
        got = self.collection.get(where={"source_id": source_id}, limit=1, include=["metadatas"])
        return RECORD.validate_json(got["metadatas"][0]["record"]) if got["ids"] else None

    # --- shared server ---------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Adopt writes made by other clients of a shared Chroma server; True when BM25 had to be rebuilt."""
        with _REFRESH_LOCK:  # concurrent questions must not rebuild (and save) BM25 at the same time
            # Collection metadata (the generation stamp) is cached client-side: fetch it afresh.
            self.collection = self.client.get_collection(self.name, embedding_function=None)
            if self.bm25.generation == self.generation and len(self.bm25.ids) == self.count():
                return False
            if self.local:  # another process wrote here (`litassist ingest` beside `serve`)
                self.client = reopened_local_client(self.db_home, self.client)
                self.collection = self.client.get_collection(self.name, embedding_function=None)
            self.bm25 = self._open_bm25()  # the writer saved its update: loaded, not rebuilt, when it matches
            return True
