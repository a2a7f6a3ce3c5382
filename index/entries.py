"""What a store write takes (one file's chunks, vectors and records, and the flat metadata each chunk gets), and the
typed records a read rebuilds from that metadata."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import TypeAdapter

from litassist.index.bm25 import ChunkFacts
from litassist.index.records import Chunk, Passage, Record

RECORD = TypeAdapter(Record)

# Long fields stay out of per-chunk metadata: the chunk texts already hold them.
_RECORD_EXCLUDE = {"abstract", "body", "sections"}


@dataclass
class Entry:
    """One file's chunks with their vectors and records, ready to write."""

    file: str
    file_hash: str
    chunks: list[Chunk]
    records: dict[str, Record]
    vectors: np.ndarray
    complete: bool = True  # False: more parts of the file follow (it stays journaled, its old version stays)


def chunk_metadata(chunk: Chunk, record: Record, file: str, file_hash: str) -> dict[str, Any]:
    """Flat Chroma metadata; lists only when non-empty (Chroma rejects empty lists)."""
    meta: dict[str, Any] = {
        "source_id": chunk.source_id, "kind": chunk.kind, "position": chunk.position,
        "context": chunk.context, "file": file, "file_hash": file_hash, **record_metadata(record),
    }
    if chunk.page is not None:
        meta["page"] = chunk.page
    if chunk.section:
        meta["section"] = chunk.section
    return meta


def record_metadata(record: Record) -> dict[str, Any]:
    """What every chunk of a record carries about it: the record itself, its title and year, and the lists and
    identifiers filters and matching use, each only when known (so BEIR chunks carry none of the new ones)."""
    meta: dict[str, Any] = {"title": record.title or "",
                            "record": record.model_dump_json(exclude=_RECORD_EXCLUDE, exclude_none=True)}
    if record.year is not None:
        meta["year"] = record.year
    for key in ("organisms", "study_types", "species", "collections", "tags"):
        if values := list(getattr(record, key, [])):
            meta[key] = values
    # A paper arriving by another route is matched to this one by these (index/same_paper.py).
    for key in ("doi", "pmid", "pmcid"):
        if value := getattr(record, key, None):
            meta[key] = value.lower() if key == "doi" else value
    return meta


def facts_of(meta: dict[str, Any]) -> ChunkFacts:
    """Filter fields from Chroma metadata."""
    return ChunkFacts(kind=meta["kind"], year=meta.get("year"), organisms=list(meta.get("organisms") or []),
                      study_types=list(meta.get("study_types") or []), species=list(meta.get("species") or []),
                      collections=list(meta.get("collections") or []), tags=list(meta.get("tags") or []),
                      source=meta["source_id"])


def passage_of(chunk_id: str, text: str, meta: dict[str, Any], score: float) -> Passage:
    """Rebuild a typed Passage from what Chroma returns."""
    chunk = Chunk(id=chunk_id, source_id=meta["source_id"], kind=meta["kind"], position=meta["position"],
                  text=text, context=meta.get("context", ""), page=meta.get("page"), section=meta.get("section"))
    return Passage(chunk=chunk, record=record_of(meta["record"]), score=score)


@lru_cache(maxsize=4096)
def record_of(stored: str) -> Record:
    """A record from its stored JSON, parsed once: a source's chunks share it, and a question's candidates repeat
    sources (records are never modified in place, so one parsed copy can serve them all)."""
    return RECORD.validate_json(stored)
