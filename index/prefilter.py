"""Which chunks a metadata filter admits, read from the facts the BM25 index keeps in memory.

Chroma's own `where` query lists every admitted id from SQLite first (~300 ms at 100k chunks when the filter
admits most of them); knowing the admitted ids lets a broad filter be applied to unfiltered HNSW hits instead.
"""

from __future__ import annotations

from dataclasses import astuple

from index.bm25 import Bm25Index, SearchFilter

POST_FILTER_SHARE = 0.2  # below this share of admitted chunks, post-filtering would need too many HNSW hits
_KEPT = 16  # filters remembered per BM25 generation (the UI repeats the same few)


class Admitted:
    """Ids admitted by a filter, cached per BM25 index (a rebuild replaces the index object)."""

    def __init__(self) -> None:
        self._index: Bm25Index | None = None
        self._ids: dict[tuple, frozenset[str]] = {}

    def ids(self, bm25: Bm25Index, where: SearchFilter) -> frozenset[str]:
        """Chunk ids whose facts pass the filter."""
        if bm25 is not self._index:
            self._index, self._ids = bm25, {}
        key = astuple(where)
        if key not in self._ids:
            if len(self._ids) >= _KEPT:
                self._ids.pop(next(iter(self._ids)), None)
            self._ids[key] = frozenset(cid for cid, admitted in zip(bm25.ids, bm25.mask(where)) if admitted)
        return self._ids[key]


def depth(k: int, share: float) -> int:
    """Unfiltered neighbours to fetch so that about 2k of them pass a filter admitting `share` of the chunks."""
    return int(2 * k / share) + 10
