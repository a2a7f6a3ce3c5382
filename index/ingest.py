"""Files -> records -> chunks -> vectors -> store, with content hashes and a per-file report."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path

import numpy as np

from litassist.index import tombstones
from litassist.index.chunking import chunk_records
from litassist.index.embedding import Encoder
from litassist.index.errors import LoadError, first_line
from litassist.index.file_state import changed_since, file_hash, state_of
from litassist.index.fingerprint import forced, same_content
from litassist.index.ingest_parts import MB, Pending, Stream, groups, refusal  # noqa: F401  (MB: for callers)
from litassist.index.ingest_progress import IngestProgress, ProgressCounter
from litassist.index.ingest_report import FileOutcome, IngestReport, Status
from litassist.index.ingest_vectors import vectors_for
from litassist.index.loaders import FileParts, iter_files, unsupported
from litassist.index.loaders.zotero import is_library
from litassist.index.records import Record
from litassist.index.same_paper import SamePaper
from litassist.index.store import Entry, Store
from litassist.index.zotero_ingest import OnePart, take_library


@dataclass
class Ingestor:
    """Ingests files into a store, encoding only chunks whose vectors are not stored yet."""

    store: Store
    encoder: Encoder
    _: KW_ONLY  # the limits below come from settings (Components.ingestor): no second default here
    max_tokens: int
    flush_chunks: int  # parsed chunks held before encoding: bounds memory on large corpora
    write_chunks: int  # encoded chunks handed to the writer at a time: files are written and told as they go
    max_file_bytes: int | None  # larger files fail unread (streamed .jsonl excepted); None: no limit
    show_progress: bool = False
    cache_vectors: bool = True  # keep encoded vectors in <home>/vector-cache, keyed by model and text
    force: bool = False  # re-read files even when unchanged (deleted sources still stay deleted)
    on_outcome: Callable[[FileOutcome], None] | None = None
    on_progress: Callable[[IngestProgress], None] | None = None  # files done, chunks embedded, after every change
    report: IngestReport = field(default_factory=IngestReport)
    _pending: list[Pending] = field(default_factory=list)
    _owners: dict[str, str] = field(default_factory=dict)  # source id -> file that holds it, this run
    _same: SamePaper | None = None  # one paper, one source: matches papers by PMID, PMCID, DOI
    _progress: ProgressCounter | None = None
    _stream: Stream | None = None  # the file being read
    _worker: ThreadPoolExecutor | None = None
    _in_flight: Future | None = None
    _writer: ThreadPoolExecutor | None = None
    _written: Future | None = None  # the last batch handed to the writer (set by the encoding worker)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _deleted: dict[str, tombstones.DeletedSource] = field(default_factory=dict)  # by source id, read once per run
    _deleted_files: dict[str, list[tombstones.DeletedSource]] = field(default_factory=dict)  # by file

    def run(self, paths: Iterable[Path]) -> IngestReport:
        """Ingest every file under the given paths and bring BM25 in step once at the end; one writer at a time:
        waits for the data home's write lock, then first undoes what a writer that died before left half done."""
        with self.store.lock:
            self.store.recover()
            return self._run(paths)

    def _run(self, paths: Iterable[Path]) -> IngestReport:
        """Ingest, holding the write lock."""
        files = list(iter_files(Path(p) for p in paths))
        self._same = SamePaper(self.store)
        self._deleted = tombstones.kept_out(self.store)
        for source in self._deleted.values():
            self._deleted_files.setdefault(source.file, []).append(source)
        self._progress = ProgressCounter(len(files), self.show_progress, self.on_progress)
        # A pipeline: this thread reads and chunks batch N+2 while one worker encodes N+1 and another writes N to
        # Chroma; the encoder's threads would otherwise sit idle through parsing and Chroma's writes.
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="litassist-ingest")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="litassist-write")  # Chroma writes overlap encoding
        try:
            for path in files:
                self._take(path)
            self._flush()
            self._wait()
        except Exception:
            self._rescue()
            raise
        finally:
            self._wait()
            self._worker.shutdown()
            self._writer.shutdown()
            self._progress.close()
        settled = self._same.settle()  # one paper, one source: superseded versions go, merged records are written
        if settled or self.report.removed or any(o.status in ("added", "replaced") for o in self.report.outcomes):
            self._progress.stage("indexing")
            self.store.update_bm25()
        self._progress.stage("done")
        return self.report

    def _take(self, path: Path) -> None:
        """Check and hash one file, then read it part by part; unchanged and failed files finish here."""
        if is_library(path):  # a Zotero database: its items go in one by one, each as a file of its own
            return take_library(self, path)
        if skip := unsupported(path):
            return self._finish(FileOutcome(file=str(path), status="skipped", reason=skip))
        key = str(path.resolve()) if path.exists() else str(path)
        refused = refusal(path, self.max_file_bytes)
        if refused:
            return self._fail(path, refused)
        before = state_of(path)  # taken before hashing: the hash must describe the bytes that are then read
        try:  # the chunk budget is part of the fingerprint: after a change every file is chunked afresh
            digest = f"{file_hash(path)}:{self.max_tokens}"
        except OSError as exc:
            return self._fail(path, exc.strerror or str(exc))
        previous = self.store.file_hash(key)
        if self._unchanged(key, previous, digest):
            deleted = [s.source_id for s in self._deleted_files.get(key, [])]
            return self._finish(FileOutcome(file=str(path), status="unchanged", deleted=deleted))
        self._stream = Stream(key, forced(digest) if self.force else digest, replacing=previous is not None,
                              state=before)
        self._read(path, self._stream)
        self._stream = None  # left set when an error escapes: `_rescue` undoes what the file wrote

    def _unchanged(self, key: str, previous: str | None, digest: str) -> bool:
        """The file is as indexed: as its chunks say, or, when every source in it was deleted, as they said."""
        if self.force:
            return False
        if previous is not None:
            return same_content(previous, digest)
        gone = self._deleted_files.get(key, [])
        return bool(gone) and all(same_content(source.file_hash, digest) for source in gone)

    def _read(self, path: Path, stream: Stream, parts: FileParts | OnePart | None = None) -> None:
        """Claim, chunk and queue each part of the file (or of `parts`); a failure in any part fails the whole file."""
        # Parts of a quarter batch in records (abstracts make ~2.5 chunks each): a batch is then a few parts, and
        # the pipeline's unhidden ends (reading the first part, writing the last) stay short.
        parts = parts or FileParts(path, max(1, self.flush_chunks // 4))
        records = iter(parts)
        while True:
            try:
                part = next(records, None)
            except LoadError as exc:
                return self._abandon(path, stream, exc.reason)
            except Exception as exc:  # noqa: BLE001  (a parser's own bug must cost one file, not the whole run)
                return self._abandon(path, stream, f"cannot be read ({first_line(exc)})")
            if part is None:
                self._complete(path, stream, parts.reason)
                return self._flush_if_full()
            self._flush_if_full()  # only now: the part before this one was not the last, it goes as unfinished
            problem = self._take_part(stream, part)
            if problem:
                return self._abandon(path, stream, problem)

    def _take_part(self, stream: Stream, records: list[Record]) -> str | None:
        """Claim and chunk one part and queue it for writing; why the file fails, if it does."""
        held = {**self.store.owners([r.source_id for r in records]), **self._owners}
        records = self._same.resolve(records, stream.key, held)  # a paper already known takes that one's id
        kept = stream.claim(records, held, self._deleted)
        self._same.note(kept, stream.key)
        self._owners.update((r.source_id, stream.key) for r in kept)
        try:
            chunks = chunk_records(kept, max_tokens=self.max_tokens, count=self.encoder.count_tokens)
        except Exception as exc:  # noqa: BLE001  (text no tokenizer accepts must cost one file, not the run)
            return f"cannot be split into chunks ({first_line(exc)})"
        if chunks:
            stream.chunks += len(chunks)
            stream.parts += 1
            self._queue(Pending(stream.key, stream.digest, kept, chunks, stream=stream))
        return None

    def _complete(self, path: Path, stream: Stream, loaded: str | None) -> None:
        """The file is read: its last queued part carries the outcome (an empty part if all are written)."""
        if changed := changed_since(path, stream.state):  # else a truncated read would pass for the whole file
            return self._abandon(path, stream, changed)
        reason = stream.reason(loaded)
        if not stream.records and stream.deleted and not stream.replacing:  # only deleted sources: nothing to do
            return self._finish(FileOutcome(file=str(path), status="unchanged", reason=reason, deleted=stream.deleted))
        if not stream.records and not stream.deleted:
            return self._fail(path, reason or "no documents found in file")
        if stream.records and not stream.chunks:
            return self._fail(path, "no text to index")
        if stream.replacing:  # ids this file's new version dropped are free for files later in this run
            dropped = {meta["source_id"] for _, _, meta in self.store.scan(where={"file": stream.key})}
            self._owners.update((source_id, "") for source_id in dropped - stream.seen)
        status: Status = "replaced" if stream.replacing else "added"
        outcome = FileOutcome(file=str(path), status=status, reason=reason, records=stream.records,
                              chunks=stream.chunks, deleted=stream.deleted)
        last = self._pending[-1] if self._pending and self._pending[-1].stream is stream else None
        if last is None:
            stream.parts += 1
            last = self._queue(Pending(stream.key, stream.digest, [], [], stream=stream))
        last.outcome = outcome

    def _queue(self, pending: Pending) -> Pending:
        """Add a part to the batch."""
        self._pending.append(pending)
        self._progress.chunks_read(len(pending.chunks))
        return pending

    def _flush_if_full(self) -> None:
        """A full batch goes to the worker."""
        if sum(len(p.chunks) for p in self._pending) >= self.flush_chunks:
            self._flush()

    def _abandon(self, path: Path, stream: Stream, reason: str) -> None:
        """Fail a file part-way: drop its queued parts and undo those already handed to the worker."""
        queued = [p for p in self._pending if p.stream is stream]
        self._pending = [p for p in self._pending if p.stream is not stream]
        self._progress.chunks_read(-sum(len(p.chunks) for p in queued))
        if stream.parts > len(queued):
            self._wait()
            self.store.abandon(stream.key, stream.digest, stream.undo.batches() if stream.undo else ())
        stream.close()
        self._fail(path, reason)

    def _rescue(self) -> None:
        """After an unexpected error, undo the parts of the file being read so its old version is left intact."""
        stream, self._stream = self._stream, None
        if stream is None or stream.parts == 0:
            return
        with contextlib.suppress(Exception):  # the write journal still covers the file if this fails too
            self._wait()
        with contextlib.suppress(Exception):
            self.store.abandon(stream.key, stream.digest, stream.undo.batches() if stream.undo else ())
        stream.close()

    def _fail(self, path: Path, reason: str) -> None:
        """A file that did not go in, and why."""
        self._finish(FileOutcome(file=str(path), status="failed", reason=reason))

    def _flush(self) -> None:
        """Hand the pending parts to the worker once it has encoded the batch before (three batches in memory)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        self._wait_encoded()  # only the encoding: the batch before may still be being written meanwhile
        self._in_flight = self._worker.submit(self._encode, pending)

    def _wait(self) -> None:
        """Wait for the batch being encoded, then for the one being written; an error of either is raised here."""
        self._wait_encoded()
        self._wait_written()

    def _wait_encoded(self) -> None:
        """Wait for the batch being encoded."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def _wait_written(self) -> None:
        """Wait for the batch being written."""
        written, self._written = self._written, None
        if written is not None:
            written.result()

    def _encode(self, pending: list[Pending]) -> None:
        """Encode what is not stored yet, a group of parts at a time, handing each group to the writer once the group
        before it is written: files are written, and told, while later ones are still being encoded."""
        seen: set[str] = set()
        for item in pending:  # the same chunk twice in one write would be rejected by Chroma
            before = len(item.chunks)
            item.chunks = [c for c in item.chunks if not (c.id in seen or seen.add(c.id))]
            self._progress.chunks_read(len(item.chunks) - before)
        for group in groups(pending, self.write_chunks):
            vectors = vectors_for([c for item in group for c in item.chunks], self.store, self.encoder, self.report,
                                  self.cache_vectors, self._progress.chunks_embedded)
            self._wait_written()  # writes stay in order, one at a time
            self._written = self._writer.submit(self._write, group, vectors)

    def _write(self, pending: list[Pending], vectors: dict[str, np.ndarray]) -> None:
        """Write the pending parts in one batch; finish the files completed."""
        for item in pending:  # a part of a replaced file that may yet fail: keep the old rows it overwrites
            if item.outcome is None and item.stream and item.stream.undo and item.chunks:
                item.stream.undo.save(self.store, item.file, item.file_hash, [c.id for c in item.chunks])
        self.store.write([
            Entry(item.file, item.file_hash, item.chunks, {r.source_id: r for r in item.records},
                  np.stack([vectors[c.id] for c in item.chunks]) if item.chunks else np.zeros((0, 1)),
                  complete=item.outcome is not None)
            for item in pending
        ])
        for item in pending:
            if item.outcome is not None:
                if item.stream:
                    item.stream.close()
                self._finish(item.outcome)

    def _finish(self, outcome: FileOutcome) -> None:
        """Record an outcome and tell the caller (one at a time: the worker finishes files too)."""
        with self._lock:
            self.report.outcomes.append(outcome)
            self._progress.file_done()
            if self.on_outcome:
                self.on_outcome(outcome)
