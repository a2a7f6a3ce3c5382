"""Files -> records -> chunks -> vectors -> store, with content hashes and a per-file report."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel
from tqdm.auto import tqdm

from index.chunking import chunk_records
from index.embedding import Encoder
from index.errors import LoadError, PartialLoadError
from index.loaders import iter_files, load_file
from index.records import Chunk, Record
from index.store import Entry, Store

Status = Literal["added", "unchanged", "replaced", "failed"]


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
    show_progress: bool = False
    on_outcome: Callable[[FileOutcome], None] | None = None
    report: IngestReport = field(default_factory=IngestReport)
    _pending: list[Pending] = field(default_factory=list)
    _bar: tqdm | None = None

    def run(self, paths: Iterable[Path]) -> IngestReport:
        """Ingest every file under the given paths and bring BM25 in step once at the end."""
        files = list(iter_files(Path(p) for p in paths))
        self._bar = tqdm(total=0, unit="chunk", desc="Embedding", disable=not self.show_progress, leave=False)
        for path in tqdm(files, unit="file", desc="Reading", disable=not self.show_progress, leave=False):
            self._take(path)
            if sum(len(p.chunks) for p in self._pending) >= self.flush_chunks:
                self._flush()
        self._flush()
        self._bar.close()
        if any(o.status in ("added", "replaced") for o in self.report.outcomes):
            self.store.rebuild_bm25()
        return self.report

    def _take(self, path: Path) -> None:
        """Hash, load and chunk one file; unchanged and failed files finish here."""
        key = str(path.resolve()) if path.exists() else str(path)
        try:
            digest = file_hash(path)
        except OSError as exc:
            return self._finish(FileOutcome(file=str(path), status="failed", reason=exc.strerror or str(exc)))
        previous = self.store.file_hash(key)
        if previous == digest:
            return self._finish(FileOutcome(file=str(path), status="unchanged"))
        records, reason = self._load(path)
        if records is None:
            return self._finish(FileOutcome(file=str(path), status="failed", reason=reason))
        chunks = chunk_records(records, self.max_tokens, self.encoder.count_tokens)
        if not chunks:
            return self._finish(FileOutcome(file=str(path), status="failed", reason="no text to index"))
        status: Status = "replaced" if previous else "added"
        outcome = FileOutcome(file=str(path), status=status, reason=reason, records=len(records), chunks=len(chunks))
        self._pending.append(Pending(key, digest, records, chunks, outcome))
        self._bar.total += len(chunks)

    @staticmethod
    def _load(path: Path) -> tuple[list[Record] | None, str | None]:
        """Records and a note on skipped entries, or (None, reason) when the file failed."""
        try:
            return load_file(path), None
        except PartialLoadError as exc:
            return [r.model_copy(update={"file": str(path)}) for r in exc.records], exc.reason
        except LoadError as exc:
            return None, exc.reason

    def _flush(self) -> None:
        """Encode what is not stored yet, then write the pending files in one batch."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
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
        missing = [c for c in chunks if c.id not in known]
        self._bar.update(len(chunks) - len(missing))
        encoded = self.encoder.encode([c.search_text for c in missing], progress=self._bar.update)
        known.update({c.id: v for c, v in zip(missing, encoded)})
        self.report.embedded += len(missing)
        self.report.reused += len(chunks) - len(missing)
        return known

    def _finish(self, outcome: FileOutcome) -> None:
        """Record an outcome and tell the caller."""
        self.report.outcomes.append(outcome)
        if self.on_outcome:
            self.on_outcome(outcome)


def ingest(paths: Iterable[Path], store: Store, encoder: Encoder, **options) -> IngestReport:
    """Ingest files and folders into the store; see Ingestor for options."""
    return Ingestor(store, encoder, **options).run(paths)
