"""The vectors an ingest batch needs: stored ones where Chroma has the chunk, cached ones where the vector cache has
its text, freshly encoded ones for the rest."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from litassist.index.embedding import Encoder
from litassist.index.ingest_report import IngestReport
from litassist.index.records import Chunk
from litassist.index.store import Store
from litassist.index.vector_cache import VectorCache


def vectors_for(chunks: list[Chunk], store: Store, encoder: Encoder, report: IngestReport, cache_vectors: bool,
                embedded: Callable[[int], None]) -> dict[str, np.ndarray]:
    """Every chunk's vector by id, encoding only the missing ones; `embedded(n)` is told as chunks get vectors."""
    known = store.vectors([c.id for c in chunks])
    cache = VectorCache(store.home / "vector-cache", store.name) if cache_vectors else None
    cached = cache.lookup([c.search_text for c in chunks if c.id not in known]) if cache else {}
    known.update({c.id: cached[c.search_text] for c in chunks if c.id not in known and c.search_text in cached})
    missing = [c for c in chunks if c.id not in known]
    embedded(len(chunks) - len(missing))
    encoded = encoder.encode([c.search_text for c in missing], progress=embedded)
    known.update({c.id: v for c, v in zip(missing, encoded)})
    if cache:
        cache.add([c.search_text for c in missing], encoded)
    report.embedded += len(missing)
    report.reused += len(chunks) - len(missing)
    return known
