"""How far an ingest is: files done of all files, chunks embedded of the chunks read so far, for bars and callbacks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tqdm.auto import tqdm

Stage = Literal["ingesting", "indexing", "done"]  # indexing: every file is written, BM25 is being rebuilt


@dataclass(frozen=True)
class IngestProgress:
    """One moment of an ingest; chunks_total grows as files are read (reading runs ahead of embedding)."""

    files_done: int
    files_total: int
    chunks_embedded: int
    chunks_total: int
    stage: Stage = "ingesting"

    def line(self) -> str:
        """'2 of 5 files done · 40 of 93 chunks embedded' (no chunk count until a file has some to embed)."""
        files = f"{self.files_done} of {self.files_total} file{'' if self.files_total == 1 else 's'} done"
        chunks = (f" · {self.chunks_embedded} of {self.chunks_total} chunk{'' if self.chunks_total == 1 else 's'} "
                  "embedded" if self.chunks_total else "")
        tail = " · updating the keyword index …" if self.stage == "indexing" else ""
        return f"{files}{chunks}{tail}"


class ProgressCounter:
    """Counts files and chunks from the reading thread and the ingest's workers, drives the terminal's bars and tells
    `on_progress` after every change."""

    def __init__(self, files_total: int, show_bars: bool,
                 on_progress: Callable[[IngestProgress], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._state = IngestProgress(0, files_total, 0, 0)
        self._on_progress = on_progress
        self._files = tqdm(total=files_total, unit="file", desc="Files", disable=not show_bars, leave=False)
        self._chunks = tqdm(total=0, unit="chunk", desc="Embedding", disable=not show_bars, leave=False)
        self._tell()

    @property
    def state(self) -> IngestProgress:
        """The counts now."""
        return self._state

    def file_done(self) -> None:
        """One file has its outcome."""
        self._change(files_done=1)
        self._files.update(1)

    def more_files(self, n: int) -> None:
        """One file turned out to be n + 1 that finish one by one (a Zotero library's items)."""
        with self._lock:
            s = self._state
            self._state = IngestProgress(s.files_done, s.files_total + n, s.chunks_embedded, s.chunks_total, s.stage)
            self._tell()
        self._files.total += n
        self._files.refresh()

    def chunks_read(self, n: int) -> None:
        """Chunks queued for embedding (negative: queued chunks dropped, as duplicates or with a failed file)."""
        if n:
            self._change(chunks_total=n)
            self._chunks.total += n
            self._chunks.refresh()

    def chunks_embedded(self, n: int) -> None:
        """Chunks whose vectors are ready (freshly encoded, or reused)."""
        if n:
            self._change(chunks_embedded=n)
            self._chunks.update(n)

    def stage(self, stage: Stage) -> None:
        """Every file is done: the keyword index is next, or nothing is."""
        with self._lock:
            self._state = IngestProgress(self._state.files_done, self._state.files_total,
                                         self._state.chunks_embedded, self._state.chunks_total, stage)
            self._tell()

    def close(self) -> None:
        """Take the bars off the terminal."""
        self._files.close()
        self._chunks.close()

    def _change(self, files_done: int = 0, chunks_embedded: int = 0, chunks_total: int = 0) -> None:
        """Add to the counts, then tell."""
        with self._lock:
            s = self._state
            self._state = IngestProgress(s.files_done + files_done, s.files_total,
                                         s.chunks_embedded + chunks_embedded, s.chunks_total + chunks_total, s.stage)
            self._tell()

    def _tell(self) -> None:
        """Hand the callback the counts as they are now (under the lock: callers see them in order)."""
        if self._on_progress is not None:
            self._on_progress(self._state)
