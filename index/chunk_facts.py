"""What BM25 keeps of each chunk besides its terms: the fields filters read, and its source. Kept compact, since a
serving process holds one per chunk: as the JSON dicts they are saved as, a million chunks' facts took ~1 GiB."""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from typing import Any

LISTS = ("organisms", "study_types", "species", "collections", "tags")
_SHARED: dict[Any, Any] = {}  # one object per distinct value: chunks repeat a few organism lists, kinds and years


def shared(value: Any) -> Any:
    """The one copy of a repeated value (bounded: a corpus with very many distinct values stops sharing new ones)."""
    if len(_SHARED) < 100_000:
        return _SHARED.setdefault(value, value)
    return _SHARED.get(value, value)


@dataclass(slots=True)
class ChunkFacts:
    """Per-chunk fields that retrieval filters on (lists are stored as shared tuples)."""

    kind: str
    year: int | None = None
    organisms: tuple[str, ...] = ()
    study_types: tuple[str, ...] = ()
    species: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()  # Zotero collections and tags (index/loaders/zotero.py)
    tags: tuple[str, ...] = ()
    source: str = ""  # the chunk's source id: fusion ranks documents from BM25's hits without reading Chroma

    def __post_init__(self) -> None:
        self.kind = shared(self.kind)
        self.year = shared(self.year)
        for name in LISTS:
            setattr(self, name, shared(tuple(getattr(self, name) or ())))
        self.source = sys.intern(self.source)  # a document's chunks share one string

    def as_dict(self) -> dict[str, Any]:
        """The fields as saved (JSON lists for the tuples)."""
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in fields(self)}


def decoded(obj: dict[str, Any]) -> Any:
    """json.loads object hook: a saved chunk's facts become ChunkFacts as they are read (no dict kept per chunk)."""
    return ChunkFacts(**obj) if "kind" in obj else obj
