"""A Zotero library, read offline and read-only from its data folder: `zotero.sqlite` (copied first: Zotero keeps it
locked while it runs) and `storage/<KEY>/` for stored attachments.

Every regular item (not a note, attachment or annotation, not in the trash) becomes one Paper with its fields,
creators, identifiers from Extra ('PMID: …', 'PMCID: …', 'Citation Key: …'), collections and tags; its PDF
attachments' text is read into the same Paper, so one item is one source. Tables are joined by the names Zotero's
global schema gives item types, fields and creator types, never by their numeric ids.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from litassist.index.errors import LoadError
from litassist.index.loaders import ZOTERO_DB, pdf
from litassist.index.loaders.fields import clean_doi, month_in, pages_of, squash, year_of
from litassist.index.records import Paper

SQLITE = ZOTERO_DB
_NOT_REGULAR = ("note", "attachment", "annotation")
_LINKED_FILE = 2  # itemAttachments.linkMode: 0 imported file, 1 imported URL, 2 linked file, 3 linked URL
_JOURNAL_FIELDS = ("publicationTitle", "bookTitle", "proceedingsTitle", "websiteTitle", "blogTitle")
_EXTRA = re.compile(r"^\s*(PMID|PMCID|Citation Key)\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)


def is_library(path: Path) -> bool:
    """A Zotero database: a file named zotero.sqlite (a data folder is found by `iter_files`)."""
    return path.name == SQLITE


@dataclass
class Attachment:
    """A PDF attached to an item: where its file is, and what says it changed."""

    key: str
    path: Path | None  # None: the file is not on this computer
    stamp: str


@dataclass
class Item:
    """One regular Zotero item with what litassist keeps of it."""

    library_id: int
    key: str
    stamp: str  # changes whenever the item, its collections, tags or attachments change
    fields: dict[str, str] = field(default_factory=dict)
    creators: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def name(self) -> str:
        """'1/ABCD2345': the item within its data folder."""
        return f"{self.library_id}/{self.key}"


def private_copy(sqlite: Path) -> Path:
    """A copy of the database (and its write-ahead log, which holds recent changes) in a private temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="litassist-zotero-"))
    for suffix in ("", "-wal"):
        source = sqlite.with_name(sqlite.name + suffix)
        if source.is_file():
            shutil.copyfile(source, folder / source.name)
    return folder / sqlite.name


def read_items(sqlite: Path) -> list[Item]:
    """Every regular item of the library, from a private read-only copy of its database."""
    copy = private_copy(sqlite)
    try:
        with contextlib.closing(sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)) as db:
            return list(_items(db, sqlite.parent))
    except sqlite3.DatabaseError as exc:
        raise LoadError(sqlite, f"cannot be read as a Zotero database ({exc})") from exc
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)


def _items(db: sqlite3.Connection, data_folder: Path) -> Iterator[Item]:
    """Items with their fields, creators, collections, tags and PDFs (a handful of queries, not one per item)."""
    rows = db.execute(
        "SELECT i.itemID, i.libraryID, i.key, i.version, i.dateModified, i.clientDateModified FROM items i "
        "JOIN itemTypes t ON t.itemTypeID = i.itemTypeID WHERE t.typeName NOT IN (?, ?, ?) "
        "AND i.itemID NOT IN (SELECT itemID FROM deletedItems) ORDER BY i.itemID", _NOT_REGULAR).fetchall()
    fields, creators = _grouped(db, _FIELDS_SQL), _grouped(db, _CREATORS_SQL)
    collections, tags = _grouped(db, _COLLECTIONS_SQL), _grouped(db, _TAGS_SQL)
    pdfs = _grouped(db, _PDFS_SQL)
    keys = _citation_keys(data_folder)
    for item_id, library_id, key, version, modified, client_modified in rows:
        item = Item(library_id, key, "", dict(fields.get(item_id, [])),
                    [_name(first, last, mode) for first, last, mode in creators.get(item_id, [])],
                    sorted({c for (c,) in collections.get(item_id, [])}), sorted({t for (t,) in tags.get(item_id, [])}),
                    [_attachment(data_folder, *row) for row in pdfs.get(item_id, [])])
        if (library_id, key) in keys and "citationKey" not in item.fields:
            item.fields["citationKey"] = keys[(library_id, key)]
        parts = [version, modified, client_modified, *sorted(item.fields.items()), *item.creators, *item.collections,
                 *item.tags, *(a.stamp for a in item.attachments)]
        item.stamp = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
        yield item


_FIELDS_SQL = ("SELECT d.itemID, f.fieldName, v.value FROM itemData d JOIN fieldsCombined f ON f.fieldID = d.fieldID "
               "JOIN itemDataValues v ON v.valueID = d.valueID")
_CREATORS_SQL = ("SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode FROM itemCreators ic "
                 "JOIN creators c ON c.creatorID = ic.creatorID JOIN creatorTypes t ON t.creatorTypeID = ic.creatorTypeID "
                 "WHERE t.creatorType = 'author' ORDER BY ic.itemID, ic.orderIndex")
_COLLECTIONS_SQL = ("SELECT ci.itemID, c.collectionName FROM collectionItems ci "
                    "JOIN collections c ON c.collectionID = ci.collectionID")
_TAGS_SQL = "SELECT it.itemID, t.name FROM itemTags it JOIN tags t ON t.tagID = it.tagID"
_PDFS_SQL = ("SELECT a.parentItemID, i.key, a.linkMode, a.path, i.version, i.clientDateModified FROM itemAttachments a "
             "JOIN items i ON i.itemID = a.itemID WHERE a.contentType = 'application/pdf' AND a.parentItemID IS NOT NULL "
             "AND a.itemID NOT IN (SELECT itemID FROM deletedItems) ORDER BY a.itemID")


def _grouped(db: sqlite3.Connection, sql: str) -> dict[int, list[tuple]]:
    """Rows of a query keyed by their first column (an itemID), the rest kept in order."""
    out: dict[int, list[tuple]] = {}
    for row in db.execute(sql):
        out.setdefault(row[0], []).append(tuple(row[1:]))
    return out


def _name(first: str | None, last: str | None, mode: int | None) -> str:
    """'Last, First' as the other loaders write authors; a one-field name (an organisation) as written."""
    return (last or "").strip() if mode == 1 or not first else f"{(last or '').strip()}, {first.strip()}"


def _attachment(data_folder: Path, key: str, link_mode: int, path: str | None, version: int,
                modified: str) -> Attachment:
    """Where a PDF attachment lives: 'storage:file.pdf' is under storage/<KEY>/, a linked file where it points."""
    if path and path.startswith("storage:"):
        file: Path | None = data_folder / "storage" / key / path.removeprefix("storage:")
    elif path and link_mode == _LINKED_FILE and not path.startswith("attachments:"):  # base-dir paths: unknown here
        file = Path(path)
    else:
        file = None
    try:
        info = os.stat(file) if file else None
    except OSError:
        info = None
    stamp = f"{key}:{version}:{modified}:" + (f"{info.st_size}:{info.st_mtime_ns}" if info else "missing")
    return Attachment(key, file if info else None, stamp)


def _citation_keys(data_folder: Path) -> dict[tuple[int, str], str]:
    """Better BibTeX's citation keys, from its own database beside Zotero's when there is one (read from a copy)."""
    bbt = data_folder / "better-bibtex.sqlite"
    if not bbt.is_file():
        return {}
    copy = private_copy(bbt)
    try:
        with contextlib.closing(sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT libraryID, itemKey, citationKey FROM citationkey").fetchall()
        return {(lib, key): cite for lib, key, cite in rows if cite}
    except sqlite3.DatabaseError:  # another Better BibTeX layout: the keys in Extra or Zotero's own field still count
        return {}
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)


def extra_fields(extra: str | None) -> dict[str, str]:
    """'PMID: 123', 'PMCID: PMC45' and 'Citation Key: smith2020' lines of Extra, by lower-case name."""
    return {name.lower(): value for name, value in _EXTRA.findall(extra or "")}


def to_paper(item: Item) -> tuple[Paper | None, list[str]]:
    """The item as a Paper, its PDFs' text as the body (None when it has no title, abstract or text), and why any
    PDF could not be read."""
    f, extra = item.fields, extra_fields(item.fields.get("extra"))
    body, problems = [], []
    for attachment in item.attachments:
        if attachment.path is None:
            continue
        try:
            body += pdf.load(attachment.path)[0].body
        except LoadError as exc:
            problems.append(f"attachment {attachment.path.name}: {exc.reason}")
    title, abstract = squash(f.get("title")), squash(f.get("abstractNote"))
    if not (title or abstract or body):
        return None, problems
    doi = clean_doi(f.get("DOI")) or clean_doi(extra.get("doi"))
    paper = Paper(
        source_id=f"zotero:{item.library_id}:{item.key}", title=title, abstract=abstract or "", body=body,
        authors=item.creators, journal=squash(next((f[k] for k in _JOURNAL_FIELDS if f.get(k)), None)),
        year=year_of(f.get("date")), month=month_in(f.get("date")), volume=squash(f.get("volume")),
        issue=squash(f.get("issue")), pages=pages_of(f.get("pages")), doi=doi, pmid=extra.get("pmid"),
        pmcid=extra.get("pmcid"), url=squash(f.get("url")),
        citekey=squash(f.get("citationKey")) or extra.get("citation key"),
        collections=item.collections, tags=item.tags,
        # Page numbers count through the PDFs in order: a page link is right only when there is one PDF.
        file=str(item.attachments[0].path) if len(item.attachments) == 1 and item.attachments[0].path else None,
    )
    return paper, problems
