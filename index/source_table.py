"""One summary row per indexed source (the Library table) and each file's content hash, saved beside BM25.

Reading every chunk's metadata back from Chroma takes 9-17 s at 100k chunks; the BM25 rebuild reads it anyway. The
file hashes spare a re-ingest one Chroma lookup per unchanged file (~1 ms each, as much as hashing a small file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_FILE = "sources.json"
_MEMO: dict[tuple[str, str], dict[str, Any]] = {}  # (folder, generation) -> saved table, so a page load parses once


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


def ordered(rows: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows by kind, file and id."""
    return sorted(rows.values(), key=lambda r: (r["kind"], r["file"], r["source_id"]))


def save(folder: Path, generation: str, rows: dict[str, dict[str, Any]], files: dict[str, str]) -> None:
    """Write the rows and file hashes for this generation of the index."""
    table = {"generation": generation, "sources": ordered(rows), "files": files}
    (folder / _FILE).write_text(json.dumps(table))
    _MEMO.clear()
    _MEMO[(str(folder), generation)] = table


def _load(folder: Path, generation: str) -> dict[str, Any] | None:
    """The saved table when it belongs to this generation, else None (stale, missing or unreadable)."""
    key = (str(folder), generation)
    if key not in _MEMO:
        try:
            saved = json.loads((folder / _FILE).read_text())
        except (OSError, ValueError):
            return None
        if saved.get("generation") != generation or "files" not in saved:
            return None
        _MEMO.clear()  # one index's table at a time: it can be megabytes
        _MEMO[key] = saved
    return _MEMO[key]


def load(folder: Path, generation: str) -> list[dict[str, Any]] | None:
    """The saved source rows of this generation, or None."""
    saved = _load(folder, generation)
    return None if saved is None else [dict(row) for row in saved["sources"]]


def file_hashes(folder: Path, generation: str) -> dict[str, str] | None:
    """The saved file -> content hash of this generation, or None."""
    saved = _load(folder, generation)
    return None if saved is None else saved["files"]
