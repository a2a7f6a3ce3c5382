"""One summary row per indexed source (the Library table) and each file's content hash, saved beside BM25.

Reading every chunk's metadata back from Chroma takes 9-17 s at 100k chunks; the BM25 rebuild reads it anyway. The
file hashes spare a re-ingest one Chroma lookup per unchanged file (~1 ms each, as much as hashing a small file).
A serving process keeps the table of the current index in memory, as compact rows: at 396k sources the saved JSON's
dicts took ~240 MB there (docs/benchmarks.md, "One million chunks").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

from litassist.index.chunk_facts import shared

_FILE = "sources.json"
_MEMO: dict[tuple[str, str], dict[str, Any]] = {}  # (folder, generation) -> saved table, so a page load parses once


class SourceRow(NamedTuple):
    """One indexed source as the Library lists it."""

    source_id: str
    kind: str
    title: str
    file: str
    chunks: int
    year: int | None = None
    organisms: tuple[str, ...] = ()
    study_types: tuple[str, ...] = ()
    species: tuple[str, ...] = ()

    @classmethod
    def of(cls, row: dict[str, Any]) -> SourceRow:
        """A row from its saved (or tallied) dict; repeated values (kinds, files, organism lists) shared."""
        # the id interned: the same string object as BM25's chunk facts hold for this source (index/chunk_facts.py)
        return cls(sys.intern(row["source_id"]), shared(row["kind"]), row.get("title") or "", shared(row["file"]), row["chunks"],
                   row.get("year"), *(shared(tuple(row.get(k) or ())) for k in ("organisms", "study_types", "species")))

    def as_dict(self) -> dict[str, Any]:
        """The row as saved and as the API gives it (JSON lists for the tuples)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self._asdict().items()}


def tally(rows: dict[str, dict[str, Any]], meta: dict[str, Any], files: dict[str, str] | None = None) -> None:
    """Count one chunk (its Chroma metadata) toward its source's row, and note its file's hash."""
    if files is not None:
        files[meta["file"]] = meta.get("file_hash", "")
    row = rows.setdefault(meta["source_id"], {
        "source_id": meta["source_id"], "kind": meta["kind"], "title": meta.get("title", ""),
        "file": meta["file"], "chunks": 0, "year": meta.get("year"),
        "organisms": list(meta.get("organisms") or []),
        "study_types": list(meta.get("study_types") or []), "species": list(meta.get("species") or []),
    })
    row["chunks"] += 1


def ordered(rows: dict[str, dict[str, Any]]) -> list[SourceRow]:
    """Rows by kind, file and id."""
    return sorted(map(SourceRow.of, rows.values()), key=lambda r: (r.kind, r.file, r.source_id))


def save(folder: Path, generation: str, rows: dict[str, dict[str, Any]], files: dict[str, str]) -> None:
    """Write the rows and file hashes for this generation of the index."""
    sources = ordered(rows)
    (folder / _FILE).write_text(json.dumps({"generation": generation, "sources": [r.as_dict() for r in sources],
                                            "files": files}))
    _MEMO.clear()
    _MEMO[(str(folder), generation)] = {"generation": generation, "sources": sources, "files": files}


def _load(folder: Path, generation: str) -> dict[str, Any] | None:
    """The saved table when it belongs to this generation, else None (stale, missing or unreadable)."""
    key = (str(folder), generation)
    if key not in _MEMO:
        try:
            saved = json.loads((folder / _FILE).read_text(), object_hook=_decoded)
        except (OSError, ValueError):
            return None
        if saved.get("generation") != generation or "files" not in saved:
            return None
        _MEMO.clear()  # one index's table at a time: it can be megabytes
        _MEMO[key] = saved
    return _MEMO[key]


def _decoded(obj: dict[str, Any]) -> Any:
    """json.loads object hook: a saved row becomes a SourceRow as it is read (no dict kept per source)."""
    return SourceRow.of(obj) if "source_id" in obj and "chunks" in obj else obj


def load(folder: Path, generation: str) -> list[SourceRow] | None:
    """The saved source rows of this generation, or None."""
    saved = _load(folder, generation)
    return None if saved is None else list(saved["sources"])


def file_hashes(folder: Path, generation: str) -> dict[str, str] | None:
    """The saved file -> content hash of this generation, or None."""
    saved = _load(folder, generation)
    return None if saved is None else saved["files"]
