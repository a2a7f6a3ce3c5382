"""Exact nearest chunks among the few a narrow filter admits, their vectors held in memory for the next question.

At 100k chunks Chroma takes ~25 ms to search among 5k named ids (and ~90 ms through a `where` on a list field);
a product with 5k vectors held here takes well under a millisecond. The vectors are read once per filter and
forgotten with the BM25 index they were chosen by, so a write (which rebuilds BM25) never leaves them stale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import astuple

import numpy as np

from litassist.index.bm25 import Bm25Index, SearchFilter

MAX_HELD = 10_000  # chunks per filter held in memory (15 MB of 384-d float32); more go through Chroma's `ids=`
FILTERS_HELD = 4  # filters whose vectors are held (the UI repeats the same few)


class NarrowVectors:
    """Per filter, the admitted chunks' ids and unit vectors, for the BM25 index that chose them."""

    def __init__(self) -> None:
        self._for: Bm25Index | None = None
        self._held: dict[tuple, tuple[list[str], np.ndarray]] = {}

    def nearest(self, bm25: Bm25Index, where: SearchFilter, vector: np.ndarray, k: int,
                read: Callable[[Sequence[str]], dict[str, np.ndarray]]) -> list[tuple[str, float]] | None:
        """Top-k (id, cosine) among the admitted chunks; None when the filter admits more than MAX_HELD."""
        admitted = bm25.admitted(where)
        if len(admitted) > MAX_HELD:
            return None
        if self._for is not bm25:  # a rebuilt index: the chunks may have changed
            self._for, self._held = bm25, {}
        held, key = self._held, astuple(where)  # one dict throughout: concurrent questions may replace self._held
        entry = held.get(key)
        if entry is None:
            vectors = read(sorted(admitted))  # ids another writer deleted since BM25 was built are left out
            ids = list(vectors)
            matrix = np.asarray([vectors[i] for i in ids], dtype=np.float32).reshape(len(ids), -1)
            matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
            if len(held) >= FILTERS_HELD:
                held.pop(next(iter(held), None), None)
            entry = held[key] = (ids, matrix)
        ids, matrix = entry
        if not ids:
            return []
        query = np.asarray(vector, dtype=np.float32)
        similarity = matrix @ (query / max(float(np.linalg.norm(query)), 1e-12))
        top = np.argsort(-similarity, kind="stable")[:k]
        return [(ids[i], float(similarity[i])) for i in top]
