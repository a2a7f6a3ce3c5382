"""The write journal: which files a store write has in flight, and whether the process writing them still runs.

A write lists its files in the collection's metadata before touching any chunk and removes them once every chunk is
upserted and every stale one deleted. Files still listed when the store is next opened, by a writer that is gone
(killed, crashed, power lost), may be half written: their chunks are removed so the next ingest adds them afresh.

Each writer has its own entry, a row in a sibling collection (`Journal`): several machines ingest into one Chroma
server at once, and one writer's entry must never carry (or drop) another's files. Earlier versions kept the journal
in the collection's metadata (one `pending` key, then one `pending:<host>:<pid>:<start>` key per writer); those
entries are still read, so a store written by them is recovered.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

KEY = "pending"


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux /proc), telling a reused pid from the original."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else fields[19]  # a zombie has exited: only its exit status remains


def writer() -> dict[str, Any]:
    """Who is writing: this host, process id and process start time."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "start": _start_time(os.getpid())}


def _key(who: dict[str, Any]) -> str:
    """The key of one writer's entry."""
    return f"{KEY}:{who['host']}:{who['pid']}:{who['start']}"


def _entry(raw: Any) -> dict[str, Any]:
    """One parsed entry; {} when it lists no file or cannot be read (every file unknown rather than a guess)."""
    try:
        entry = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return entry if isinstance(entry, dict) and entry.get("files") else {}


def entries(metadata: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Every entry an earlier version kept in collection metadata that lists files, by metadata key."""
    found = {k: _entry(v) for k, v in (metadata or {}).items() if k == KEY or k.startswith(f"{KEY}:")}
    return {k: v for k, v in found.items() if v}


def read(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """All files in flight in these entries (metadata, or rows as `Journal.read` gives them), as one entry
    {'files': [...], 'host', 'pid', 'start'} (the first writer's identity); {} when none."""
    found = list(entries(metadata).values())
    if not found:
        return {}
    return {**found[0], "files": list(dict.fromkeys(f for entry in found for f in entry["files"]))}


def without_entries(metadata: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """Metadata without these writers' entries (gone writers whose files were just recovered)."""
    return {k: v for k, v in metadata.items() if k not in set(keys)}


def writer_gone(entry: dict[str, Any]) -> bool:
    """Whether the process that wrote the journal has ended; another machine's writer cannot be checked, so no."""
    if entry.get("host") != socket.gethostname():
        return False
    pid = entry.get("pid")
    if not isinstance(pid, int) or pid == os.getpid():
        return True  # this process is not writing while it opens the store
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return entry.get("start") is not None and _start_time(pid) != entry.get("start")


class Journal:
    """The write journal of one chunk collection, as one row per writer in a sibling collection. Writers that share a
    Chroma server each touch only their own row, and Chroma writes a row atomically; collection metadata, by contrast,
    is replaced whole, so entries kept there were overwritten by writers on other machines (see Store._modify)."""

    def __init__(self, client: Any, collection_name: str) -> None:
        # Rows must carry a vector; a 1-dimensional constant one, never searched (only get/upsert/delete by id).
        self.collection = client.get_or_create_collection(f"{collection_name}-journal", embedding_function=None)

    @staticmethod
    def _id() -> str:
        """This process's row id."""
        return _key(writer())

    def mine(self) -> list[str]:
        """The files this process has listed."""
        got = self.collection.get(ids=[self._id()], include=["metadatas"])
        return _entry(got["metadatas"][0].get("entry")).get("files", []) if got["ids"] else []

    def add(self, files: list[str]) -> None:
        """List these files as being written by this process."""
        listed = list(dict.fromkeys([*self.mine(), *files]))
        self.collection.upsert(ids=[self._id()], embeddings=[[1.0]],
                               metadatas=[{"entry": json.dumps({**writer(), "files": listed})}])

    def remove(self, files: list[str]) -> None:
        """These files are written: take them off this process's row (and the row away when none is left)."""
        rest = [f for f in self.mine() if f not in set(files)]
        if rest:
            self.collection.upsert(ids=[self._id()], embeddings=[[1.0]],
                                   metadatas=[{"entry": json.dumps({**writer(), "files": rest})}])
        else:
            self.collection.delete(ids=[self._id()])

    def entries(self) -> dict[str, dict[str, Any]]:
        """Every writer's entry that lists files, by row id."""
        got = self.collection.get(include=["metadatas"])
        found = {i: _entry((m or {}).get("entry")) for i, m in zip(got["ids"], got["metadatas"])}
        return {i: e for i, e in found.items() if e}

    def drop(self, ids: list[str]) -> None:
        """Remove these writers' rows (gone writers whose files were just recovered)."""
        if ids:
            self.collection.delete(ids=ids)

    def read(self) -> dict[str, Any]:
        """All files in flight as one entry (see `read`); {} when none."""
        return read({k: json.dumps(e) for k, e in self.entries().items()})
