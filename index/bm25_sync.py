"""Bringing BM25 in step with Chroma after a write, by a new segment rather than a rebuild (see Store.update_bm25)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from litassist.index import source_table
from litassist.index.bm25 import Bm25Index, ChunkFacts
from litassist.index.entries import facts_of

if TYPE_CHECKING:
    from litassist.index.store import Store

_PAGE = 1000  # files per Chroma read
WINDOW = 1  # neighbours on each side whose text a chunk is indexed with


def update(store: Store, changed: set[str] | None) -> Bm25Index:
    """A new segment with the current chunks of the `changed` files, their old chunks retired, saved; a rebuild when
    the files are unknown (None) or the saved index or source table is not the one in memory. Holding the lock."""
    old = store.bm25.generation
    table = source_table.load(store.bm25_dir, old)
    hashes = source_table.file_hashes(store.bm25_dir, old)
    if changed is None or Bm25Index.saved_generation(store.bm25_dir) != old or table is None or hashes is None:
        return store._rebuild(save=True)
    generation = store.generation  # read first, as _rebuild does
    summary = {row.source_id: row._asdict() for row in table if row.file not in changed}
    files = {f: h for f, h in hashes.items() if f not in changed}
    ids, texts, phrases, facts, owners = columns(scan_files(store, sorted(changed)), summary, files)
    store.bm25 = store.bm25.updated(store.bm25_dir, changed, ids, texts, facts, owners, generation, phrases)
    source_table.save(store.bm25_dir, generation, summary, files)
    return store.bm25


def scan_files(store: Store, files: list[str]) -> Iterator[tuple[str, str, dict]]:
    """Every (id, document, metadata) of these files' chunks."""
    for start in range(0, len(files), _PAGE):
        yield from store.scan(include_documents=True, where={"file": {"$in": files[start : start + _PAGE]}})


def columns(rows: Iterable[tuple[str, str, dict]], summary: dict[str, dict[str, Any]], files: dict[str, str]
            ) -> tuple[list[str], list[str], list[str], list[ChunkFacts], list[str]]:
    """(ids, texts, phrases, facts, files) that BM25 indexes, from Chroma rows (texts: each chunk's window; phrases:
    the chunk with its context, whose word pairs are indexed); each row is also tallied into the source table
    (`summary`, `files`)."""
    ids, docs, metas = [], [], []
    for cid, doc, meta in rows:
        ids.append(cid)
        docs.append(doc)
        metas.append(meta)
        source_table.tally(summary, meta, files)
    phrases = [f"{m.get('context', '')}\n{doc}" for doc, m in zip(docs, metas)]
    return ids, windows(docs, metas), phrases, [facts_of(m) for m in metas], [m["file"] for m in metas]


def windows(docs: list[str], metas: list[dict], window: int = WINDOW) -> list[str]:
    """Each chunk's BM25 text: its context, then its own text between its neighbours' (the chunks before and after
    it in the same source). A claim's words are often spread over a whole abstract, and scoring a chunk with its
    neighbours ranked every dev set higher than the chunk alone (docs/evaluation.md, issue 18); the passage quoted
    is still the chunk. A source's chunks all come from one file, so a file's rows alone give the same windows."""
    by_source: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, meta in enumerate(metas):
        by_source[(meta["file"], meta["source_id"])].append(i)
    out = [""] * len(docs)
    for rows in by_source.values():
        rows.sort(key=lambda i: metas[i]["position"])
        for n, i in enumerate(rows):
            around = " ".join(docs[j] for j in rows[max(0, n - window) : n + window + 1])
            out[i] = f"{metas[i].get('context', '')}\n{around}"
    return out
