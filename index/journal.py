"""The write journal: which files a store write has in flight, and whether the process writing them still runs.

A write lists its files in the collection's metadata before touching any chunk and removes them once every chunk is
upserted and every stale one deleted. Files still listed when the store is next opened, by a writer that is gone
(killed, crashed, power lost), may be half written: their chunks are removed so the next ingest adds them afresh.
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


def read(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """The journal entry in collection metadata: {'files': [...], 'host', 'pid', 'start'}; {} when none."""
    try:
        entry = json.loads((metadata or {}).get(KEY) or "{}")
    except ValueError:  # unreadable: treat every file as unknown rather than guess
        return {}
    return entry if isinstance(entry, dict) and entry.get("files") else {}


def with_files(metadata: dict[str, Any], files: list[str]) -> dict[str, Any]:
    """Metadata whose journal lists these files too, written by this process."""
    entry = read(metadata)
    listed = list(dict.fromkeys([*entry.get("files", []), *files]))
    return {**metadata, KEY: json.dumps({**writer(), "files": listed})}


def without_files(metadata: dict[str, Any], files: list[str]) -> dict[str, Any]:
    """Metadata whose journal no longer lists these files (and no journal at all when none is left)."""
    done = set(files)
    listed = [f for f in read(metadata).get("files", []) if f not in done]
    rest = {k: v for k, v in metadata.items() if k != KEY}
    return {**rest, KEY: json.dumps({**read(metadata), "files": listed})} if listed else rest


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
