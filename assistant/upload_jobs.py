"""Library uploads as jobs: saved, ingested and cleaned up under the data home's write lock, and finished after a crash.

A batch is marked pending (`uploads/.pending/<id>.json`, naming its folders) before any of its files is written, and
unmarked once its ingest has ended. A server killed in between finds the mark when it next starts: the dead ingest's
half-written chunks are removed (index/store.py), and the batch is ingested again. Uploads no indexed source comes
from (a file that failed) are removed, unless a pending batch still needs them; an upload holding a deleted source
stays, so that Undo or Restore can read it again (index/tombstones.py).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from litassist.index import tombstones
from litassist.index.deletion import Deleted, Restored, delete_sources, restore_sources
from litassist.index.ingest_report import IngestReport
from litassist.index.store import Store

from litassist.assistant.factory import Components
from litassist.assistant.terminal import deleted_note, plural
from litassist.assistant.uploads import UploadBatch, limits_of, receive, shown, upload_dir
from litassist.assistant.zips import PARTIAL

PENDING = ".pending"


def mark(home: Path, roots: list[Path]) -> Path:
    """Record a batch as pending (written whole, through a temporary name); the marker's path."""
    folder = upload_dir(home) / PENDING
    folder.mkdir(exist_ok=True)
    marker = folder / f"{uuid.uuid4().hex}.json"
    temporary = marker.with_suffix(".tmp")
    temporary.write_text(json.dumps({"roots": [str(root) for root in roots]}))
    os.replace(temporary, marker)
    return marker


def pending(home: Path) -> dict[Path, list[Path]]:
    """Marker -> the upload folders of each batch whose ingest has not ended."""
    batches = {}
    for marker in sorted((upload_dir(home) / PENDING).glob("*.json")):
        try:
            batches[marker] = [Path(root) for root in json.loads(marker.read_text())["roots"]]
        except (OSError, ValueError, KeyError, TypeError):
            batches[marker] = []  # unreadable: nothing to resume, and the marker goes
    return batches


def sweep(store: Store, home: Path) -> list[Path]:
    """Remove uploads no indexed chunk comes from, and half-written files, except in pending batches' folders and
    uploads a deleted source can be restored from."""
    uploads = upload_dir(home)
    keep = {root.resolve() for roots in pending(home).values() for root in roots}
    restorable = {source.file for source in tombstones.read(store).values()}
    removed = []
    folders = [p for p in uploads.iterdir() if p.is_dir() and p.name != PENDING and p.resolve() not in keep]
    for folder in sorted(folders):
        for path in sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink()):
            key = str(path.resolve())
            if path.name.startswith(PARTIAL) or (store.file_hash(key) is None and key not in restorable):
                path.unlink(missing_ok=True)
                removed.append(path)
        for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            if not any(sub.iterdir()):
                sub.rmdir()
        if not any(folder.iterdir()):
            folder.rmdir()
    return removed


@dataclass
class UploadResult:
    """What one batch of uploads came to: the ingest report, and the uploads refused before it."""

    report: IngestReport
    batch: UploadBatch

    def rows(self, home: Path) -> list[list]:
        """The per-file report: file (its own name), status, records, chunks, reason (no path of this machine)."""
        rows = [[Path(o.file).name, o.status, o.records, o.chunks,
                 "; ".join(r for r in (shown(o.reason or "", home), deleted_note(o.deleted)) if r)]
                for o in self.report.outcomes]
        for name, _, reason in (r.partition(": ") for r in self.batch.refused):
            status = "skipped" if reason.startswith(("not a supported", "unsupported")) else "failed"
            rows.append([name, status, 0, 0, reason])
        return rows

    def counts_line(self) -> str:
        """'1 added, 0 replaced, 0 unchanged, 1 failed' over the ingested and the refused uploads."""
        counts = self.report.counts()
        for _, _, reason in (r.partition(": ") for r in self.batch.refused):
            counts["skipped" if reason.startswith(("not a supported", "unsupported")) else "failed"] += 1
        return self.report.counts_line(counts)


def ingest_uploads(components: Components, paths: list[str], **options) -> UploadResult:
    """Save uploads and ingest them with every ingest setting, one writer at a time; `options` go to the Ingestor."""
    settings, store = components.settings, components.store
    limits = limits_of(settings.server)
    with store.lock:
        batch = receive(paths, settings.home, limits)
        marker = mark(settings.home, batch.roots)
        try:
            batch.save(limits)
            report = components.ingestor(**options).run(batch.files)
        finally:
            marker.unlink(missing_ok=True)
            sweep(store, settings.home)
    return UploadResult(report, batch)


def delete_source(components: Components, source_id: str) -> Deleted:
    """Delete one source (remembered: it stays deleted on re-ingest; its upload is kept for a restore)."""
    store = components.store
    with store.lock:
        deleted = delete_sources(store, [source_id])[0]
        sweep(store, components.settings.home)
    return deleted


def restore_source(components: Components, source_id: str) -> Restored:
    """Bring a deleted source back from its file, or say why it cannot come back."""
    store = components.store
    with store.lock:
        restored = restore_sources(store, components.ingestor, [source_id])[0]
        sweep(store, components.settings.home)
    return restored


def resume(components: Components, say: Callable[[str], None]) -> str | None:
    """At server start: finish the upload batches a dead server left pending, and clean up; what to tell users."""
    store, home = components.store, components.settings.home
    with store.lock:
        store.recover()  # opening the store did this already, unless a writer held the lock then
        batches = pending(home)
        roots = [root for roots in batches.values() for root in roots if root.is_dir()]
        for partial in (p for root in roots for p in root.rglob(f"{PARTIAL}*")):
            partial.unlink(missing_ok=True)
        report = components.ingestor().run(roots) if roots else None
        for marker in batches:
            marker.unlink(missing_ok=True)
        sweep(store, home)
    note = resumed_note(store.recovered, report, home)
    if note:
        say(note)
    return note


def resumed_note(recovered: list[str], report: IngestReport | None, home: Path) -> str | None:
    """One paragraph on what start-up repaired and redid; None when there was nothing."""
    uploads = str(upload_dir(home).resolve())
    elsewhere = [shown(f, home) for f in recovered if not f.startswith(uploads)]
    if not recovered and report is None:
        return None
    parts = ["An ingest was interrupted when this server last stopped."]
    if recovered:
        parts.append(f"The partial chunks of {plural(len(recovered), 'file')} it was writing were removed.")
    if report is not None:
        parts.append(f"Its uploads were ingested again: {report.counts_line(report.counts())}.")
    if elsewhere:
        parts.append(f"Not uploads, so ingest them again yourself: {', '.join(elsewhere)}.")
    return " ".join(parts)
