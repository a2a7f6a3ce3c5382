"""Deleted sources, remembered in the collection's metadata (beside the write journal) so that they stay deleted.

A deletion remembers its sources and marks them as being removed in one metadata write; their chunks go after that,
and the mark last. A restore marks its sources as being restored (naming its process), re-reads their file (which
then keeps them in), and forgets those that came back, clearing the mark, in one write. Every writer, once it holds
the write lock, settles a mark left by a killed process (Store.recover): chunks of sources being removed are removed;
sources being restored are forgotten if their chunks were written, else they stay deleted. A re-ingest skips
remembered sources, changed file or not. All of it happens under the data home's write lock (index/write_lock.py).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from litassist.index import journal

KEY = "deleted"  # JSON {source id: DeletedSource fields}
DELETING = "deleting"  # JSON [source id, ...]: chunks still being removed
RESTORING = "restoring"  # JSON {"ids": [source id, ...], "host", "pid", "start"}: their file is being read again


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


def _mark(metadata: dict[str, Any] | None, key: str) -> dict[str, Any]:
    """A mark as {"ids": [...], and for RESTORING its writer}; {} when there is none (or it is unreadable)."""
    try:
        value = json.loads((metadata or {}).get(key) or "{}")
    except ValueError:
        return {}
    mark = {"ids": value} if isinstance(value, list) else value if isinstance(value, dict) else {}
    ids = mark.get("ids")
    return {**mark, "ids": [i for i in ids if isinstance(i, str)]} if isinstance(ids, list) else {}


def marked(metadata: dict[str, Any] | None, key: str = DELETING) -> list[str]:
    """Sources under a mark: DELETING (chunks not all removed yet) or RESTORING (file being read again)."""
    return _mark(metadata, key).get("ids", [])


def _marking(metadata: dict[str, Any], key: str, add: Sequence[str] = (), drop: Sequence[str] = ()) -> dict[str, Any]:
    """Metadata whose mark lists these ids too (add) or no longer (drop); no key when none is left. A restore's mark
    names this process: only a dead one's is settled."""
    ids = [i for i in dict.fromkeys([*marked(metadata, key), *add]) if i not in set(drop)]
    rest = {k: v for k, v in metadata.items() if k != key}
    if not ids:
        return rest
    return {**rest, key: json.dumps({**journal.writer(), "ids": ids} if key == RESTORING else ids)}


def _restorer_gone(metadata: dict[str, Any] | None) -> bool:
    """Whether the restore that marked its sources was cut short: its process, on this machine, has ended."""
    mark = _mark(metadata, RESTORING)
    if mark.get("host") != socket.gethostname() or mark.get("pid") == os.getpid():
        return False  # this process's own restore is under way; another machine's cannot be checked
    return journal.writer_gone(mark)


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
    removing = marked(metadata, DELETING)
    returning = marked(metadata, RESTORING) if _restorer_gone(metadata) else []
    if removing:
        store.update_metadata(lambda meta: meta, new_generation=True)
        for start in range(0, len(removing), 1000):
            store.collection.delete(where={"source_id": {"$in": removing[start : start + 1000]}})
        store.update_metadata(lambda meta: removed(meta, removing))
    if returning:
        back = list(store.owners(returning))
        store.update_metadata(lambda meta: restored(meta, back, returning))
