"""Pick a loader for a file by extension and, for .txt/.md, by sniffing its content."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from litassist.index.errors import LoadError, PartialLoadError
from litassist.index.loaders import abstract_page, by_content, jats, jsonl, pdf, pfocr, pubmed, refman, text
from litassist.index.records import Record

Loader = Callable[[Path], list[Record]]
ZOTERO_DB = "zotero.sqlite"  # a Zotero data folder's database (index/loaders/zotero.py)

BY_EXTENSION: dict[str, Loader] = {
    ".nbib": pubmed.load_medline,
    ".medline": pubmed.load_medline,
    ".xml": pubmed.load_xml,
    ".nxml": jats.load,
    ".ris": refman.load_ris,
    ".bib": refman.load_bibtex,
    ".bibtex": refman.load_bibtex,
    ".json": refman.load_csl_json,
    ".jsonl": jsonl.load,
    ".pdf": pdf.load,
}
SNIFFED_EXTENSIONS = {".txt", ".md", ".markdown", ".text"}
# Formats that share an extension, told apart by content: PubMed XML / JATS / BioC, and CSL-JSON / BioC JSON.
BY_CONTENT: dict[str, Callable[[Path], Loader]] = {".xml": by_content.xml_loader, ".json": by_content.json_loader}
# Read line by line in parts, never whole: exempt from the per-file size limit (BEIR corpora run to gigabytes).
STREAMED = {".jsonl": jsonl.Parts}
STREAMED_EXTENSIONS = frozenset(STREAMED)
SUPPORTED_EXTENSIONS = frozenset(BY_EXTENSION) | SNIFFED_EXTENSIONS

_MEDLINE_START = re.compile(r"^\s*PMID- ", re.MULTILINE)


def sniff(path: Path) -> Loader:
    """Choose the loader for a text file from what it contains, not what it is called."""
    head = text.read_text(path)[:8192]
    if pfocr.looks_like(head):
        return pfocr.load
    if abstract_page.looks_like(head):
        return abstract_page.load
    if _MEDLINE_START.match(head):
        return pubmed.load_medline
    return text.load


def loader_for(path: Path) -> Loader:
    """The loader for one file; LoadError if the format is not supported."""
    suffix = path.suffix.lower()
    if suffix in BY_CONTENT and path.is_file():
        return BY_CONTENT[suffix](path)
    if suffix in BY_EXTENSION:
        return BY_EXTENSION[suffix]
    if suffix in SNIFFED_EXTENSIONS:
        return sniff(path)
    raise LoadError(path, f"unsupported file type '{suffix or path.name}'")


def load_file(path: Path) -> list[Record]:
    """Load every record in one file, each stamped with the file it came from."""
    records = loader_for(path)(path)
    if not records:
        raise LoadError(path, "no documents found in file")
    return stamped(records, path)


def stamped(records: list[Record], path: Path) -> list[Record]:
    """The records, each stamped with the file it came from."""
    return [r.model_copy(update={"file": str(path)}) for r in records]


class FileParts:
    """One file's records in parts of about `size` (formats not streamed come as one part); once all are read,
    `reason` names the entries that were skipped, or is None."""

    def __init__(self, path: Path, size: int) -> None:
        self.path, self.size = path, size
        self.reason: str | None = None

    def __iter__(self) -> Iterator[list[Record]]:
        streamed = STREAMED.get(self.path.suffix.lower())
        if streamed is None:
            yield self._whole()
            return
        parts = streamed(self.path, self.size)
        for part in parts:
            yield stamped(part, self.path)
        self.reason = parts.reason

    def _whole(self) -> list[Record]:
        """Every record of a file that is loaded at once."""
        try:
            return load_file(self.path)
        except PartialLoadError as exc:
            self.reason = exc.reason
            return stamped(exc.records, self.path)


def unsupported(path: Path) -> str | None:
    """Why a file's format is not read ('not a supported format (.docx)'), or None when it is."""
    suffix = path.suffix.lower()
    return None if suffix in SUPPORTED_EXTENSIONS or path.name == ZOTERO_DB else f"not a supported format ({suffix or 'no extension'})"


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand folders recursively (sorted, hidden files skipped); files are yielded as given. Files of formats
    litassist does not read are yielded too, so that each can be named with its reason."""
    for path in paths:
        if not path.is_dir():
            yield path
            continue
        for root, dirs, files in os.walk(path, followlinks=False):
            if ZOTERO_DB in files:  # a Zotero data folder: its database, never storage/'s PDFs on their own
                dirs[:] = []
                yield Path(root) / ZOTERO_DB
                continue
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith("."):
                    yield Path(root) / name
