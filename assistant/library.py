"""The UI's Library: uploads saved safely under the data home, and the table of indexed sources."""

from __future__ import annotations

import shutil
import zipfile
from collections import Counter
from pathlib import Path, PurePosixPath

from index.loaders import unsupported
from index.records import Record
from index.store import Store

from assistant.errors import LitassistError
from assistant.factory import Components

SOURCE_COLUMNS = ["kind", "title", "year", "organism", "chunks", "source_id"]


def stored_records(source_ids: list[str], store: Store) -> tuple[list[Record], list[str]]:
    """The full stored record of each source, in order, and the ids no longer indexed (deleted meanwhile)."""
    records, missing = [], []
    for sid in source_ids:
        record = store.record(sid)
        if record is None:
            missing.append(sid)
        else:
            records.append(record)
    return records, missing


def upload_dir(home: Path) -> Path:
    """Where uploaded files are kept, so that re-uploading an unchanged file is recognised as such."""
    folder = Path(home) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def safe_name(name: str) -> str:
    """A file name with no folders in it (an upload must never choose where it is written)."""
    base = PurePosixPath(name.replace("\\", "/")).name
    if base in ("", ".", ".."):
        raise LitassistError(f"unusable file name '{name}'")
    return base


def extract_zip(archive: Path, target: Path, max_bytes: int, skipped: list[str] | None = None) -> list[Path]:
    """Unpack supported files from a zip; members with '..' or absolute paths are refused; members of other
    formats are named in `skipped` ('notes.docx (in x.zip): not a supported format (.docx)')."""
    written = []
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if info.is_dir() or ".." in parts or info.filename.startswith(("/", "\\")):
                continue
            if (why := unsupported(Path(info.filename))) and skipped is not None and not parts[-1].startswith("."):
                skipped.append(f"{parts[-1]} (in {archive.name}): {why}")
            if why or info.file_size > max_bytes:
                continue
            dest = target.joinpath(archive.stem, *parts)
            if not dest.resolve().is_relative_to(target.resolve()):
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out)
            written.append(dest)
    return written


def save_uploads(paths: list[str], home: Path, max_mb: int) -> tuple[list[Path], list[str]]:
    """Copy uploaded files (and zip contents) under the data home; returns saved paths and refusals."""
    target, limit = upload_dir(home), max_mb * 1024 * 1024
    saved, refused = [], []
    for raw in paths:
        src = Path(raw)
        name = safe_name(src.name)
        if src.stat().st_size > limit:
            refused.append(f"{name}: larger than the {max_mb} MB upload limit")
        elif src.suffix.lower() == ".zip":
            try:
                saved += extract_zip(src, target, limit, refused)
            except zipfile.BadZipFile:
                refused.append(f"{name}: not a readable zip file")
        elif unsupported(src):
            refused.append(f"{name}: unsupported file type '{src.suffix or name}'")
        else:
            saved.append(Path(shutil.copyfile(src, target / name)))
    return saved, refused


def organism_choices(sources: list[dict]) -> list[str]:
    """Organisms of the indexed figures, the most common first (ties alphabetical)."""
    return facet_choices(sources, "organisms")


def facet_choices(sources: list[dict], key: str) -> list[str]:
    """The values of a source-table list ('organisms', 'study_types', 'species'), the most common first."""
    counts = Counter(o for r in sources for o in r.get(key) or [])
    return sorted(counts, key=lambda o: (-counts[o], o))


def source_choices(rows: list[list]) -> list[tuple[str, str]]:
    """(label, source id) for picking a source by its title: 'Upregulation of CXCR4 … — paper'."""
    return [(f"{r[1]} — {r[0]}", r[-1]) for r in rows]


def describe_source(row: list) -> str:
    """'“Upregulation of CXCR4 …” (paper, 2 chunks)' for a source table row."""
    return f"“{row[1]}” ({row[0]}, {row[4]} chunk{'' if row[4] == 1 else 's'})"


FORMATS_NOTE = ("PDF, PubMed/MEDLINE (.nbib, .xml), PMC/JATS full text (.nxml, .xml), BioC (.xml, .json), RIS, "
                "BibTeX, CSL-JSON, BEIR .jsonl, PFOCR figure records (.md), text and Markdown; a folder as .zip")


def source_rows(store: Store, sources: list[dict] | None = None) -> list[list]:
    """One table row per indexed source (from `sources` when the caller already has store.sources())."""
    return [[r["kind"], r["title"] or "(untitled)", r["year"] or "", ", ".join(r["organisms"]), r["chunks"],
             r["source_id"]] for r in (store.sources() if sources is None else sources)]


def settings_markdown(components: Components) -> str:
    """The settings a user may want to know, read-only."""
    s = components.settings
    mode = (f"written by {s.llm}, checked against your sources" if s.llm
            else "quoted from your sources (no language model, offline)")
    vectors = f"Chroma server at {s.store.chroma_url}" if s.store.chroma_url else "embedded Chroma (data home)"
    return (f"| setting | value |\n|---|---|\n| embedding model | `{components.encoder.name}` ({s.embedding.device}) |\n"
            f"| answer mode | {mode} |\n| data home | `{s.home}` |\n| vector store | {vectors} |\n"
            f"| passages per answer | {s.retrieval.k} |\n"
            f"| chunks indexed | {components.store.count()} |\n\nChange settings with `LITASSIST_*` environment "
            "variables (see the README) and restart.")
