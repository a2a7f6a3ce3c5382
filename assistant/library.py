"""What the UI shows of the library: the table of indexed sources, settings, and a conversation's downloads (uploads
are saved by assistant/uploads.py)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from litassist.index.records import Record
from litassist.index.source_table import SourceRow
from litassist.index.store import Store

from litassist.assistant.conversation import Turn, cited_ids, notes_markdown
from litassist.assistant.export import to_bibtex, to_ris
from litassist.assistant.factory import Components

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


def conversation_downloads(turns: list[Turn], store: Store, folder: Path) -> tuple[str | None, str | None, str | None]:
    """The conversation as Markdown notes, and BibTeX and RIS of everything it cited (paths of BibTeX, RIS, notes),
    written to a new private folder inside `folder`."""
    if not turns:
        return None, None, None
    folder = fresh_export_folder(folder)
    notes = folder / "litassist-conversation.md"
    notes.write_text(notes_markdown(turns), encoding="utf-8")
    records, _ = stored_records(cited_ids(turns), store)
    if not records:
        return None, None, str(notes)
    bib, ris = folder / "litassist-citations.bib", folder / "litassist-citations.ris"
    bib.write_text(to_bibtex(records), encoding="utf-8")
    ris.write_text(to_ris(records), encoding="utf-8")
    return str(bib), str(ris), str(notes)


EXPORTS_KEPT_S = 3600  # downloads stay fetchable this long after their answer
_PRIVATE: Path | None = None


def private_dir() -> Path:
    """This process's folder for Gradio's file cache and the downloads: readable by this user only (0700), removed
    at exit. Made once, before any Blocks exists, since Gradio reads GRADIO_TEMP_DIR when a Blocks is built."""
    global _PRIVATE
    if _PRIVATE is None:
        _PRIVATE = Path(tempfile.mkdtemp(prefix="litassist-"))
        atexit.register(shutil.rmtree, _PRIVATE, ignore_errors=True)
        os.environ.setdefault("GRADIO_TEMP_DIR", str(_PRIVATE / "gradio"))
    return _PRIVATE


def fresh_export_folder(exports: Path) -> Path:
    """A new folder for one answer's downloads; those of answers over an hour old are removed."""
    exports.mkdir(mode=0o700, exist_ok=True)
    cutoff = time.time() - EXPORTS_KEPT_S
    for old in exports.iterdir():
        if old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=exports))


def organism_choices(sources: list[SourceRow]) -> list[str]:
    """Organisms of the indexed figures, the most common first (ties alphabetical)."""
    return facet_choices(sources, "organisms")


def facet_choices(sources: list[SourceRow], key: str) -> list[str]:
    """The values of a source-table list ('organisms', 'study_types', 'species'), the most common first."""
    counts = Counter(o for r in sources for o in getattr(r, key))
    return sorted(counts, key=lambda o: (-counts[o], o))


def source_choices(rows: list[list]) -> list[tuple[str, str]]:
    """(label, source id) for picking a source by its title: 'Upregulation of CXCR4 … — paper'."""
    return [(f"{r[1]} — {r[0]}", r[-1]) for r in rows]


def describe_source(row: list) -> str:
    """'“Upregulation of CXCR4 …” (paper, 2 chunks)' for a source table row."""
    return f"“{row[1]}” ({row[0]}, {row[4]} chunk{'' if row[4] == 1 else 's'})"


FORMATS_NOTE = ("PDF, PubMed/MEDLINE (.nbib, .xml), PMC/JATS full text (.nxml, .xml), BioC (.xml, .json), RIS, "
                "BibTeX, CSL-JSON, BEIR .jsonl, PFOCR figure records (.md), text and Markdown; a folder as .zip")


# Sources the Library tab lists at once: 396,200 rows made a 55 MB page that gradio could not even start
# (docs/benchmarks.md, "One million chunks"); the others are found with the tab's "Find a source" box.
MAX_SHOWN = 1000


def shown_sources(sources: list[SourceRow], query: str = "") -> tuple[list[list], str]:
    """The table rows the Library lists: sources whose kind, title, year, organisms or id contain `query` (any
    case), at most MAX_SHOWN; and a line saying how many that is of how many (empty when every source is listed)."""
    words = query.strip().lower()
    # Table rows only for what is shown: at 396k sources, a row for every one held ~100 MB per page load.
    matching = [s for s in sources if words in " ".join(str(c) for c in table_row(s)).lower()] if words else sources
    shown = [table_row(s) for s in matching[:MAX_SHOWN]]
    if len(shown) == len(sources):
        return shown, ""
    found = f"{len(matching):,} matching “{query.strip()}”" if words else f"{len(sources):,} sources"
    more = " — type in *Find a source* to list others" if len(matching) > len(shown) else ""
    return shown, f"Listing {len(shown):,} of {found}{more}."


def table_row(source: SourceRow) -> list:
    """The Library table's row of a source (SOURCE_COLUMNS)."""
    return [source.kind, source.title or "(untitled)", source.year or "", ", ".join(source.organisms), source.chunks,
            source.source_id]


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
