"""Deleted sources, remembered in the collection's metadata (beside the write journal) so that they stay deleted.

A deletion remembers its sources and marks them as being removed in one metadata write; their chunks go after that,
and the mark last. A restore marks its sources as being restored, re-reads their file (which then keeps them in),
and forgets those that came back, clearing the mark, in one write. A store opened while a mark is still there (the
process was killed) settles it: chunks of sources being removed are removed; sources being restored are forgotten
if their chunks were written, else they stay deleted. A re-ingest skips remembered sources, changed file or not.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

KEY = "deleted"  # JSON {source id: DeletedSource fields}
DELETING = "deleting"  # JSON [source id, ...]: chunks still being removed
RESTORING = "restoring"  # JSON [source id, ...]: their file is being read again to bring them back


class DeletedSource(BaseModel):
    """A source deleted by its user: what it was and which file (in which version) held it."""

    source_id: str
    kind: str
    title: str = ""
    file: str
    file_hash: str = ""  # the file's fingerprint when the source was deleted

    def label(self, detail: str = "") -> str:
        """'“Title” (paper, <detail>)'; the id instead of the title when it has none."""
        name = f"“{self.title}”" if self.title else self.source_id
        return f"{name} ({self.kind}{', ' + detail if detail else ''})"


def read(metadata: dict[str, Any] | None) -> dict[str, DeletedSource]:
    """Remembered deletions by source id; {} when none (or unreadable: then nothing is kept from a re-ingest)."""
    try:
        raw = json.loads((metadata or {}).get(KEY) or "{}")
        return {sid: DeletedSource(source_id=sid, **fields) for sid, fields in raw.items()}
    except (ValueError, TypeError, AttributeError, ValidationError):
        return {}


def marked(metadata: dict[str, Any] | None, key: str = DELETING) -> list[str]:
    """Sources under a mark: DELETING (chunks not all removed yet) or RESTORING (file being read again)."""
    try:
        ids = json.loads((metadata or {}).get(key) or "[]")
    except ValueError:
        return []
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def _marking(metadata: dict[str, Any], key: str, add: Sequence[str] = (), drop: Sequence[str] = ()) -> dict[str, Any]:
    """Metadata whose mark lists these ids too (add) or no longer (drop); no key when none is left."""
    ids = [i for i in dict.fromkeys([*marked(metadata, key), *add]) if i not in set(drop)]
    rest = {k: v for k, v in metadata.items() if k != key}
    return {**rest, key: json.dumps(ids)} if ids else rest


def _with_map(metadata: dict[str, Any], sources: dict[str, DeletedSource]) -> dict[str, Any]:
    """Metadata holding exactly these deletions (no key at all when there are none)."""
    rest = {k: v for k, v in metadata.items() if k != KEY}
    if not sources:
        return rest
    table = {sid: s.model_dump(exclude={"source_id"}) for sid, s in sorted(sources.items())}
    return {**rest, KEY: json.dumps(table, ensure_ascii=False)}


def remembering(metadata: dict[str, Any], sources: list[DeletedSource]) -> dict[str, Any]:
    """Metadata that remembers these sources as deleted and marks their chunks as being removed."""
    known = {**read(metadata), **{s.source_id: s for s in sources}}
    return _marking(_with_map(metadata, known), DELETING, add=[s.source_id for s in sources])


def removed(metadata: dict[str, Any], source_ids: list[str]) -> dict[str, Any]:
    """Metadata whose mark no longer lists these sources: their chunks are gone."""
    return _marking(metadata, DELETING, drop=source_ids)


def restoring(metadata: dict[str, Any], source_ids: list[str]) -> dict[str, Any]:
    """Metadata marking these deleted sources as being restored (an ingest then keeps them in)."""
    return _marking(metadata, RESTORING, add=source_ids)


def restored(metadata: dict[str, Any], back: list[str], asked: list[str]) -> dict[str, Any]:
    """Metadata that forgets the sources that came back and clears the mark of all those asked for."""
    keep = {sid: s for sid, s in read(metadata).items() if sid not in set(back)}
    return _marking(_with_map(metadata, keep), RESTORING, drop=asked)


def kept_out(metadata: dict[str, Any] | None) -> dict[str, DeletedSource]:
    """The deleted sources an ingest leaves out: all remembered ones but those being restored."""
    coming_back = set(marked(metadata, RESTORING))
    return {sid: s for sid, s in read(metadata).items() if sid not in coming_back}


def settle(store: Any) -> None:
    """Finish what a killed deletion or restore left marked (see above); `store` is an index.store.Store."""
    metadata = store.collection.metadata
    removing, returning = marked(metadata, DELETING), marked(metadata, RESTORING)
    if removing:
        store.update_metadata(lambda meta: meta, new_generation=True)
        for start in range(0, len(removing), 1000):
            store.collection.delete(where={"source_id": {"$in": removing[start : start + 1000]}})
        store.update_metadata(lambda meta: removed(meta, removing))
    if returning:
        back = list(store.owners(returning))
        store.update_metadata(lambda meta: restored(meta, back, returning))
