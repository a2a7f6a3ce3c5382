"""Ranked chunk ids before their texts and records are read: what fusion needs, cheap for hundreds of candidates.

Each side of retrieval ranks `Hit`s (chunk id, source id, score); only the passages an answer or a document ranking
keeps are then read from Chroma (Store.passages). Reading every candidate's text and record was most of a
retrieval's time (two Chroma reads of 50 rows and a record parse each, per side).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from litassist.index import prefilter
from litassist.index.bm25 import SearchFilter
from litassist.index.prefilter import where_clause
from litassist.index.records import Hit

if TYPE_CHECKING:
    from litassist.index.store import Store


def lexical_hits(store: Store, query: str, k: int, where: SearchFilter | None = None) -> list[Hit]:
    """Top BM25 chunks (the index knows each chunk's source)."""
    sources = store.bm25.sources
    return [Hit(id=cid, source_id=sources[cid], score=score) for cid, score in store.bm25.search(query, k, where)]


def dense_hits(store: Store, vector: np.ndarray, k: int, where: SearchFilter | None = None) -> list[Hit]:
    """Nearest chunks by cosine similarity (score = 1 - distance); Chroma 1.5 caps k at the count itself."""
    return with_sources(store, _nearest_pairs(store, vector, k, where))


def _nearest_pairs(store: Store, vector: np.ndarray, k: int, where: SearchFilter | None) -> list[tuple[str, float]]:
    """(id, cosine) of the nearest chunks the filter admits."""
    if where is None or where.empty:
        return _query(store, vector, k)
    admitted = store.bm25.admitted(where)
    if not admitted:
        return []
    share = len(admitted) / len(store.bm25.ids)
    if share >= prefilter.POST_FILTER_SHARE:  # broad filter: drop unfiltered hits instead of Chroma's `where`
        hits = [(cid, s) for cid, s in _query(store, vector, prefilter.depth(k, share)) if cid in admitted]
        if len(hits) >= min(k, len(admitted)):
            return hits[:k]
    held = store.narrow.nearest(store.bm25, where, vector, k, store.vectors)  # narrow: exact, in memory (narrow.py)
    if held is not None:
        return held
    # Naming the admitted ids costs Chroma ~25 ms for 5k of 100k chunks, its `where` ~90 ms (prefilter.py).
    # chromadb is loaded with the collection already; imported here to keep it lazy like the rest of this module
    from chromadb.errors import ChromaError

    try:
        return _query(store, vector, k, ids=list(admitted))
    except ChromaError:  # an id another writer deleted since BM25 was built (until refresh): use the `where`
        return _query(store, vector, k, where=where_clause(where))


def _query(store: Store, vector: np.ndarray, k: int, where: dict | None = None,
           ids: list[str] | None = None) -> list[tuple[str, float]]:
    """One Chroma query for ids and distances only (among `ids`, or those `where` admits, when given)."""
    got = store.collection.query(query_embeddings=[vector.tolist()], n_results=k, where=where, ids=ids,
                                 include=["distances"])
    return [(cid, 1.0 - d) for cid, d in zip(got["ids"][0], got["distances"][0])]


def with_sources(store: Store, pairs: list[tuple[str, float]]) -> list[Hit]:
    """Hits for (id, score) pairs; a chunk BM25 does not know yet (another machine's write, before the next
    refresh) has its source read from Chroma."""
    known = store.bm25.sources
    missing = [cid for cid, _ in pairs if cid not in known]
    read: dict[str, str] = {}
    if missing:  # only these few are looked up: the index's own map (every chunk) is never copied
        got = store.collection.get(ids=missing, include=["metadatas"])
        read = {cid: meta["source_id"] for cid, meta in zip(got["ids"], got["metadatas"])}
    return [Hit(id=cid, source_id=known[cid] if cid in known else read[cid], score=score) for cid, score in pairs
            if cid in known or cid in read]
