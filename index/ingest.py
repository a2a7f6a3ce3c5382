"""Files -> records -> chunks -> vectors -> store, with content hashes and a per-file report."""

from __future__ import annotations

import hashlib
import stat
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel
from tqdm.auto import tqdm

from index.chunking import chunk_records
from index.embedding import Encoder
from index.errors import LoadError, PartialLoadError
from index.loaders import STREAMED_EXTENSIONS, iter_files, load_file
from index.records import Chunk, Record
from index.store import Entry, Store
from index.vector_cache import VectorCache

Status = Literal["added", "unchanged", "replaced", "failed"]
MB = 1024 * 1024
# How many skipped records a reason names before summarising the rest.
_NAMED_SKIPS = 3


class FileOutcome(BaseModel):
    """What happened to one file."""

    file: str
    status: Status
    reason: str | None = None
    records: int = 0
    chunks: int = 0


class IngestReport(BaseModel):
    """Per-file outcomes and how much encoding work was done."""

    outcomes: list[FileOutcome] = []
    embedded: int = 0
    reused: int = 0

    @property
    def failed(self) -> list[FileOutcome]:
        """Files that did not go in."""
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def problems(self) -> list[FileOutcome]:
        """Files that failed, and files that went in with some of their entries skipped."""
        return [o for o in self.outcomes if o.status == "failed" or o.reason]

    def counts(self) -> dict[str, int]:
        """How many files ended in each status."""
        out = {s: 0 for s in ("added", "replaced", "unchanged", "failed")}
        for outcome in self.outcomes:
            out[outcome.status] += 1
        return out


@dataclass
class Pending:
    """A parsed file waiting for its vectors."""

    file: str
    file_hash: str
    records: list[Record]
    chunks: list[Chunk]
    outcome: FileOutcome


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Ingestor:
    """Ingests files into a store, encoding only chunks whose vectors are not stored yet."""

    store: Store
    encoder: Encoder
    max_tokens: int = 200
    flush_chunks: int = 512  # parsed chunks held before encoding: bounds memory on large corpora
    max_file_bytes: int | None = None  # larger files fail unread (streamed .jsonl excepted); None: no limit
    show_progress: bool = False
    cache_vectors: bool = True  # keep encoded vectors in <home>/vector-cache, keyed by model and text
    on_outcome: Callable[[FileOutcome], None] | None = None
    report: IngestReport = field(default_factory=IngestReport)
    _pending: list[Pending] = field(default_factory=list)
    _owners: dict[str, str] = field(default_factory=dict)  # source id -> file that holds it, this run
    _bar: tqdm | None = None
    _worker: ThreadPoolExecutor | None = None
    _in_flight: Future | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, paths: Iterable[Path]) -> IngestReport:
        """Ingest every file under the given paths and bring BM25 in step once at the end."""
        files = list(iter_files(Path(p) for p in paths))
        self._bar = tqdm(total=0, unit="chunk", desc="Embedding", disable=not self.show_progress, leave=False)
        # One worker encodes and writes a batch while this thread reads and chunks the next: the encoder's
        # threads would otherwise sit idle through parsing and Chroma's writes.
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="litassist-ingest")
        try:
            for path in tqdm(files, unit="file", desc="Reading", disable=not self.show_progress, leave=False):
                self._take(path)
                if sum(len(p.chunks) for p in self._pending) >= self.flush_chunks:
                    self._flush()
            self._flush()
        finally:
            self._wait()
            self._worker.shutdown()
            self._bar.close()
        if any(o.status in ("added", "replaced") for o in self.report.outcomes):
            self.store.rebuild_bm25()
        return self.report

    def _take(self, path: Path) -> None:
        """Check, hash, load and chunk one file; unchanged and failed files finish here."""
        key = str(path.resolve()) if path.exists() else str(path)
        refusal = self._refusal(path)
        if refusal:
            return self._fail(path, refusal)
        try:  # the chunk budget is part of the fingerprint: after a change every file is chunked afresh
            digest = f"{file_hash(path)}:{self.max_tokens}"
        except OSError as exc:
            return self._fail(path, exc.strerror or str(exc))
        previous = self.store.file_hash(key)
        if previous == digest:
            return self._finish(FileOutcome(file=str(path), status="unchanged"))
        records, reason = self._load(path)
        if records is None:
            return self._fail(path, reason or "no documents found in file")
        records, skipped = self._claim(key, records, replacing=previous is not None)
        reason = "; ".join(r for r in (reason, skipped) if r) or None
        if not records:
            return self._fail(path, reason or "no documents found in file")
        try:
            chunks = chunk_records(records, self.max_tokens, self.encoder.count_tokens)
        except Exception as exc:  # noqa: BLE001  (text no tokenizer accepts must cost one file, not the run)
            return self._fail(path, f"cannot be split into chunks ({describe(exc)})")
        if not chunks:
            return self._fail(path, "no text to index")
        status: Status = "replaced" if previous else "added"
        outcome = FileOutcome(file=str(path), status=status, reason=reason, records=len(records), chunks=len(chunks))
        self._pending.append(Pending(key, digest, records, chunks, outcome))
        self._bar.total += len(chunks)

    def _refusal(self, path: Path) -> str | None:
        """Why a file is not even opened: missing, not a regular file (reading a FIFO blocks forever), too large."""
        try:
            info = path.stat()
        except OSError as exc:
            return exc.strerror or str(exc)
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file (a pipe, socket or device)"
        limit = self.max_file_bytes
        if limit and info.st_size > limit and path.suffix.lower() not in STREAMED_EXTENSIONS:
            return f"too large: {info.st_size / MB:.1f} MB, over the {limit / MB:g} MB limit per file"
        return None

    @staticmethod
    def _load(path: Path) -> tuple[list[Record] | None, str | None]:
        """Records and a note on skipped entries, or (None, reason) when the file failed."""
        try:
            return load_file(path), None
        except PartialLoadError as exc:
            return [r.model_copy(update={"file": str(path)}) for r in exc.records], exc.reason
        except LoadError as exc:
            return None, exc.reason
        except Exception as exc:  # noqa: BLE001  (a parser's own bug must cost one file, not the whole run)
            return None, f"cannot be read ({describe(exc)})"

    def _claim(self, key: str, records: list[Record], replacing: bool) -> tuple[list[Record], str | None]:
        """Keep records whose id no other file holds; an id repeated within the file keeps its first record."""
        held = {**self.store.owners([r.source_id for r in records]), **self._owners}
        kept, problems, seen = [], [], set()
        for record in records:
            owner = held.get(record.source_id) or key
            if record.source_id in seen:
                problems.append(f"'{record.source_id}' appears twice in the file")
            elif owner != key:
                problems.append(f"'{record.source_id}' is already indexed from {owner}")
            else:
                seen.add(record.source_id)
                kept.append(record)
        if replacing:  # ids this file's new version dropped are free for files later in this run, flushed or not
            dropped = {meta["source_id"] for _, _, meta in self.store.scan(where={"file": key})}
            self._owners.update((source_id, "") for source_id in dropped - seen)
        self._owners.update((r.source_id, key) for r in kept)
        return kept, skip_summary(problems, len(records))

    def _fail(self, path: Path, reason: str) -> None:
        """A file that did not go in, and why."""
        self._finish(FileOutcome(file=str(path), status="failed", reason=reason))

    def _flush(self) -> None:
        """Hand the pending files to the worker, after the batch before them is written (two batches in memory)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        self._wait()
        self._in_flight = self._worker.submit(self._write, pending)

    def _wait(self) -> None:
        """Wait for the batch in flight; its error, if any, is raised here."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def _write(self, pending: list[Pending]) -> None:
        """Encode what is not stored yet, then write the pending files in one batch."""
        seen: set[str] = set()
        for item in pending:  # the same chunk twice in one write would be rejected by Chroma
            item.chunks = [c for c in item.chunks if not (c.id in seen or seen.add(c.id))]
        vectors = self._vectors([c for item in pending for c in item.chunks])
        self.store.write([
            Entry(item.file, item.file_hash, item.chunks, {r.source_id: r for r in item.records},
                  np.stack([vectors[c.id] for c in item.chunks]) if item.chunks else np.zeros((0, 1)))
            for item in pending
        ])
        for item in pending:
            self._finish(item.outcome)

    def _vectors(self, chunks: list[Chunk]) -> dict[str, np.ndarray]:
        """Stored vectors where the chunk is known, freshly encoded ones otherwise."""
        known = self.store.vectors([c.id for c in chunks])
        cache = VectorCache(self.store.home / "vector-cache", self.store.name) if self.cache_vectors else None
        cached = cache.lookup([c.search_text for c in chunks if c.id not in known]) if cache else {}
        known.update({c.id: cached[c.search_text] for c in chunks if c.id not in known and c.search_text in cached})
        missing = [c for c in chunks if c.id not in known]
        self._bar.update(len(chunks) - len(missing))
        encoded = self.encoder.encode([c.search_text for c in missing], progress=self._bar.update)
        known.update({c.id: v for c, v in zip(missing, encoded)})
        if cache:
            cache.add([c.search_text for c in missing], encoded)
        self.report.embedded += len(missing)
        self.report.reused += len(chunks) - len(missing)
        return known

    def _finish(self, outcome: FileOutcome) -> None:
        """Record an outcome and tell the caller (one at a time: the worker finishes files too)."""
        with self._lock:
            self.report.outcomes.append(outcome)
            if self.on_outcome:
                self.on_outcome(outcome)


def describe(exc: BaseException) -> str:
    """'TypeName: first line of the message' for an unexpected error."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def skip_summary(problems: list[str], total: int) -> str | None:
    """'skipped 1 of 3 records: ...' naming the first few problems; None when there were none."""
    if not problems:
        return None
    more = len(problems) - _NAMED_SKIPS
    named = "; ".join(problems[:_NAMED_SKIPS]) + (f"; and {more} more" if more > 0 else "")
    return f"skipped {len(problems)} of {total} records: {named}"


def ingest(paths: Iterable[Path], store: Store, encoder: Encoder, **options) -> IngestReport:
    """Ingest files and folders into the store; see Ingestor for options."""
    return Ingestor(store, encoder, **options).run(paths)
