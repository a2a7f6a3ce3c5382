"""One summary row per indexed source (the Library table) and each file's content hash, saved beside BM25.

Reading every chunk's metadata back from Chroma takes 9-17 s at 100k chunks; the BM25 rebuild reads it anyway. The
file hashes spare a re-ingest one Chroma lookup per unchanged file (~1 ms each, as much as hashing a small file).
A serving process keeps the table of the current index in memory, as compact rows: at 396k sources the saved JSON's
dicts took 268 MiB there, the rows 81 MiB (docs/benchmarks.md, "One million chunks").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

from litassist.index.chunk_facts import shared

_FILE = "sources.jsonl"  # a header line (generation, file hashes, file paths), then one short line per source
_LEGACY = "sources.json"  # earlier versions: one JSON object; still read, replaced at the next write
# Short keys for a row's line; a missing key is an empty value. Read line by line, a table of 928k sources never has
# its whole text in memory (as one JSON object, parsing it added ~320 MiB to a serving process's peak).
_KEYS = {"i": "source_id", "k": "kind", "t": "title", "f": "file", "c": "chunks", "y": "year", "o": "organisms",
         "s": "study_types", "p": "species"}
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
        return cls(sys.intern(row["source_id"]), shared(row["kind"]), row.get("title") or "", shared(row["file"]),
                   row["chunks"], row.get("year"),
                   *(shared(tuple(row.get(k) or ())) for k in ("organisms", "study_types", "species")))

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
    """Write the rows and file hashes for this generation of the index (atomically: a reader sees old or new)."""
    sources = ordered(rows)
    paths = list(dict.fromkeys(r.file for r in sources))
    where = {path: n for n, path in enumerate(paths)}
    partial = folder / f".{_FILE}.partial"
    with partial.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"generation": generation, "files": files, "paths": paths}) + "\n")
        for row in sources:
            saved = {**row.as_dict(), "file": where[row.file]}
            out.write(json.dumps({key: saved[name] for key, name in _KEYS.items() if saved[name] or key in "ikfc"})
                      + "\n")
    partial.replace(folder / _FILE)
    (folder / _LEGACY).unlink(missing_ok=True)
    _MEMO.clear()
    _MEMO[(str(folder), generation)] = {"generation": generation, "sources": sources, "files": files}


def _read(folder: Path, generation: str) -> dict[str, Any] | None:
    """The saved table as written (either format), or None when it is missing, unreadable or of another generation."""
    try:
        if not (folder / _FILE).exists():
            saved = json.loads((folder / _LEGACY).read_text(), object_hook=_decoded)
            return saved if saved.get("generation") == generation and "files" in saved else None
        with (folder / _FILE).open(encoding="utf-8") as lines:
            head = json.loads(next(lines))
            if head.get("generation") != generation:
                return None
            sources = [_row(json.loads(line), head["paths"]) for line in lines]
    except (OSError, ValueError, KeyError, IndexError, StopIteration):
        return None
    return {"generation": generation, "sources": sources, "files": head["files"]}


def _row(short: dict[str, Any], paths: list[str]) -> SourceRow:
    """A SourceRow from its saved line."""
    return SourceRow.of({name: paths[short["f"]] if key == "f" else short.get(key) for key, name in _KEYS.items()})


def _load(folder: Path, generation: str) -> dict[str, Any] | None:
    """The saved table when it belongs to this generation, else None (stale, missing or unreadable)."""
    key = (str(folder), generation)
    if key not in _MEMO:
        saved = _read(folder, generation)
        if saved is None:
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
