"""A small Zotero data folder built the way Zotero builds one: `zotero.sqlite` made by executing Zotero's own schema
(tests/data/zotero/, vendored from the zotero/zotero repository), the type tables filled with the names and ids
Zotero's schema gives them, and items, creators, collections, tags and PDF attachments under `storage/<KEY>/`.
Used by tests/test_zotero.py and bench/zotero.py."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from fpdf import FPDF

SCHEMA = Path(__file__).parent / "data" / "zotero"
# Ids as in Zotero's system.sql (resource/schema/system.sql); the reader joins by name, so only the names matter.
ITEM_TYPES = {"note": 1, "book": 2, "journalArticle": 4, "attachment": 14}
FIELDS = {"url": 1, "volume": 4, "issue": 5, "pages": 10, "publicationTitle": 12, "date": 14, "extra": 22,
          "DOI": 26, "abstractNote": 90, "title": 110}
CREATOR_TYPES = {"author": 1, "contributor": 2, "editor": 3}
IMPORTED_FILE = 0  # itemAttachments.linkMode


def pdf_bytes(pages: list[str]) -> bytes:
    """A small PDF with one page per string (a core font, a fixed date: the bytes are the same every run)."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2024, 1, 1, tzinfo=timezone.utc))
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


class ZoteroLibrary:
    """A Zotero data folder under construction (and edited, as Zotero would, between ingests)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "zotero.sqlite"
        with self.db() as db:
            db.executescript((SCHEMA / "system.sql").read_text() + (SCHEMA / "userdata.sql").read_text())
            db.executemany("INSERT INTO itemTypes (itemTypeID, typeName) VALUES (?, ?)",
                           [(i, n) for n, i in ITEM_TYPES.items()])
            db.executemany("INSERT INTO fields (fieldID, fieldName) VALUES (?, ?)", [(i, n) for n, i in FIELDS.items()])
            # Zotero fills fieldsCombined (what itemData refers to) from fields and customFields at start-up.
            db.executemany("INSERT INTO fieldsCombined (fieldID, fieldName, custom) VALUES (?, ?, 0)",
                           [(i, n) for n, i in FIELDS.items()])
            db.executemany("INSERT INTO creatorTypes VALUES (?, ?)", [(i, n) for n, i in CREATOR_TYPES.items()])
            db.execute("INSERT INTO libraries (libraryID, type, editable, filesEditable) VALUES (1, 'user', 1, 1)")
        self.ids: dict[str, int] = {}
        self.collections: dict[str, int] = {}

    @contextlib.contextmanager
    def db(self):
        """The database, foreign keys on (Zotero's deletes cascade), committed on success."""
        db = sqlite3.connect(self.path)
        db.execute("PRAGMA foreign_keys = ON")
        try:
            with db:
                yield db
        finally:
            db.close()

    def _new_item(self, db: sqlite3.Connection, key: str, item_type: str) -> int:
        cursor = db.execute("INSERT INTO items (itemTypeID, libraryID, key, dateModified, clientDateModified) "
                            "VALUES (?, 1, ?, '2024-01-01 10:00:00', '2024-01-01 10:00:00')",
                            (ITEM_TYPES[item_type], key))
        self.ids[key] = cursor.lastrowid
        return cursor.lastrowid

    def _set(self, db: sqlite3.Connection, item_id: int, field: str, value: str) -> None:
        db.execute("INSERT OR IGNORE INTO itemDataValues (value) VALUES (?)", (value,))
        value_id = db.execute("SELECT valueID FROM itemDataValues WHERE value = ?", (value,)).fetchone()[0]
        db.execute("INSERT OR REPLACE INTO itemData VALUES (?, ?, ?)", (item_id, FIELDS[field], value_id))

    def add_item(self, key: str, fields: dict[str, str], authors: list[tuple[str, str]] = (),
                 collections: list[str] = (), tags: list[str] = (), pdf_pages: list[str] | None = None,
                 item_type: str = "journalArticle") -> None:
        """A regular item with its fields, authors (last, first), collections, tags and, when `pdf_pages` is given,
        a stored PDF attachment (an imported file: storage/<attachment key>/paper.pdf)."""
        with self.db() as db:
            item_id = self._new_item(db, key, item_type)
            for name, value in fields.items():
                self._set(db, item_id, name, value)
            for order, (last, first) in enumerate(authors):
                db.execute("INSERT OR IGNORE INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, 0)",
                           (first, last))
                creator = db.execute("SELECT creatorID FROM creators WHERE firstName = ? AND lastName = ?",
                                     (first, last)).fetchone()[0]
                db.execute("INSERT INTO itemCreators VALUES (?, ?, ?, ?)", (item_id, creator, CREATOR_TYPES["author"],
                                                                            order))
            for name in collections:
                db.execute("INSERT INTO collectionItems (collectionID, itemID) VALUES (?, ?)",
                           (self._collection(db, name), item_id))
            for name in tags:
                db.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (name,))
                tag = db.execute("SELECT tagID FROM tags WHERE name = ?", (name,)).fetchone()[0]
                db.execute("INSERT INTO itemTags VALUES (?, ?, 0)", (item_id, tag))
            if pdf_pages is not None:
                self._attach(db, item_id, key, pdf_pages)

    def _collection(self, db: sqlite3.Connection, name: str) -> int:
        if name not in self.collections:
            key = f"C{len(self.collections):07d}"
            self.collections[name] = db.execute(
                "INSERT INTO collections (collectionName, libraryID, key) VALUES (?, 1, ?)", (name, key)).lastrowid
        return self.collections[name]

    def _attach(self, db: sqlite3.Connection, parent: int, key: str, pages: list[str]) -> None:
        attachment_key = f"A{len(self.ids):07d}"  # 8 characters, as Zotero's keys are
        attachment = self._new_item(db, attachment_key, "attachment")
        db.execute("INSERT INTO itemAttachments (itemID, parentItemID, linkMode, contentType, path) "
                   "VALUES (?, ?, ?, 'application/pdf', 'storage:paper.pdf')", (attachment, parent, IMPORTED_FILE))
        folder = self.folder / "storage" / attachment_key
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "paper.pdf").write_bytes(pdf_bytes(pages))

    def edit(self, key: str, field: str, value: str) -> None:
        """Change a field as Zotero does: the value, the item's modification time and version move on."""
        with self.db() as db:
            self._set(db, self.ids[key], field, value)
            db.execute("UPDATE items SET dateModified = '2024-02-02 12:00:00', version = version + 1 "
                       "WHERE itemID = ?", (self.ids[key],))

    def trash(self, key: str) -> None:
        """Move an item to Zotero's trash (deletedItems)."""
        with self.db() as db:
            db.execute("INSERT INTO deletedItems (itemID) VALUES (?)", (self.ids[key],))

    def erase(self, key: str) -> None:
        """Delete an item for good (emptying the trash): its rows go, its attachments with it."""
        with self.db() as db:
            db.execute("DELETE FROM items WHERE itemID IN (SELECT itemID FROM itemAttachments WHERE parentItemID = ?)",
                       (self.ids[key],))
            db.execute("DELETE FROM items WHERE itemID = ?", (self.ids[key],))
