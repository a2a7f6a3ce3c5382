"""One summary row per indexed source (the Library table), saved beside BM25 so listing needs no full scan.

Reading every chunk's metadata back from Chroma takes 9-17 s at 100k chunks; the BM25 rebuild reads it anyway.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_FILE = "sources.json"
_MEMO: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (folder, generation) -> rows, so a page load parses once


def tally(rows: dict[str, dict[str, Any]], meta: dict[str, Any]) -> None:
    """Count one chunk (its Chroma metadata) toward its source's row."""
    row = rows.setdefault(meta["source_id"], {
        "source_id": meta["source_id"], "kind": meta["kind"], "title": meta.get("title", ""),
        "file": meta["file"], "chunks": 0, "year": meta.get("year"),
        "organisms": list(meta.get("organisms") or []),
    })
    row["chunks"] += 1


def ordered(rows: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows by kind, file and id."""
    return sorted(rows.values(), key=lambda r: (r["kind"], r["file"], r["source_id"]))


def save(folder: Path, generation: str, rows: dict[str, dict[str, Any]]) -> None:
    """Write the rows for this generation of the index."""
    listed = ordered(rows)
    (folder / _FILE).write_text(json.dumps({"generation": generation, "sources": listed}))
    _MEMO.clear()
    _MEMO[(str(folder), generation)] = listed


def load(folder: Path, generation: str) -> list[dict[str, Any]] | None:
    """The saved rows when they belong to this generation, else None (stale, missing or unreadable)."""
    key = (str(folder), generation)
    if key not in _MEMO:
        try:
            saved = json.loads((folder / _FILE).read_text())
        except (OSError, ValueError):
            return None
        if saved.get("generation") != generation:
            return None
        _MEMO.clear()  # one index's rows at a time: they can be megabytes
        _MEMO[key] = saved["sources"]
    return [dict(row) for row in _MEMO[key]]
