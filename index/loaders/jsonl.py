"""BEIR corpus.jsonl: one JSON object per line with `_id`, `title`, `text` and optional `metadata`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from litassist.index.errors import LoadError, PartialLoadError
from litassist.index.loaders.fields import year_of
from litassist.index.records import Paper
from litassist.index.skips import Skips

_MONTH = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)", re.IGNORECASE)
# Metadata keys (lower-cased) that fill each plain-string Paper field, first present wins.
_STRING_FIELDS = {
    "doi": ("doi",),
    "pmid": ("pmid", "pubmed_id"),
    "pmcid": ("pmcid", "pmc"),
    "journal": ("journal", "venue", "journal_title", "source_title"),
    "volume": ("volume",),
    "issue": ("issue",),
    "pages": ("pages", "page"),
    "url": ("url", "link"),
}
_DATE_KEYS = ("year", "date", "pubdate", "publication_date", "published")
# A JSON escape of a UTF-16 surrogate: valid only as half of a pair, which json.loads then joins.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class BadLine(ValueError):
    """One line of the file could not become a Paper."""


def numbered_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield (1-based line number, raw bytes) for non-blank lines, reading lazily."""
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if raw.strip():
                    yield number, raw
    except OSError as exc:
        raise LoadError(path, f"cannot read: {exc.strerror or exc}") from exc


def parse_line(raw: bytes) -> dict[str, Any]:
    """Decode and parse one line into a JSON object."""
    try:
        text = raw.decode("utf-8-sig")  # a BOM can only sit on line 1, but is harmless to strip anywhere
    except UnicodeDecodeError as exc:
        raise BadLine("not UTF-8 text") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadLine(f"invalid JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise BadLine(f"expected a JSON object, got {type(data).__name__}")
    if _SURROGATE_ESCAPE.search(raw) and not encodable(data):
        raise BadLine("a \\uD800-\\uDFFF escape without its pair is not text")
    return data


def encodable(data: dict[str, Any]) -> bool:
    """Whether every string in the object is valid Unicode (a lone surrogate cannot be stored or tokenized)."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text_of(value: Any) -> str:
    """A stripped string from a JSON scalar; '' for null, lists and objects."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).strip()
    return ""


def author_name(author: Any) -> str:
    """A display name from a string or a {name} / {first,last} / {given,family} object."""
    if isinstance(author, dict):
        if text_of(author.get("name")):
            return text_of(author["name"])
        first = text_of(author.get("first") or author.get("given"))
        last = text_of(author.get("last") or author.get("family"))
        return f"{first} {last}".strip()
    return text_of(author)


def authors_of(value: Any) -> list[str]:
    """Authors from a list, or from one string separated by ';' (commas are ambiguous in 'Last, First')."""
    items = value if isinstance(value, list) else text_of(value).split(";")
    return [name for name in map(author_name, items) if name]


def date_of(meta: dict[str, Any]) -> tuple[int | None, str | None]:
    """(year, month) from the first date-like metadata value: 2004, '2004', '2004 Nov', '2004-11-01'."""
    for key in _DATE_KEYS:
        value = text_of(meta.get(key))
        year = year_of(value)
        if year:
            month = _MONTH.search(value) or _MONTH.search(text_of(meta.get("month")))
            return year, month.group(1).title() if month else None
    return None, None


def metadata_fields(meta: Any) -> dict[str, Any]:
    """Paper fields from whatever bibliographic keys the metadata object holds."""
    if not isinstance(meta, dict):
        return {}
    meta = {str(k).lower(): v for k, v in meta.items()}
    fields: dict[str, Any] = {}
    for field, keys in _STRING_FIELDS.items():
        value = next((text_of(meta[k]) for k in keys if text_of(meta.get(k))), None)
        if value:
            fields[field] = value
    fields["year"], fields["month"] = date_of(meta)
    fields["authors"] = authors_of(meta.get("authors") or meta.get("author"))
    return fields


def to_paper(data: dict[str, Any]) -> Paper:
    """Build a Paper from one parsed BEIR line."""
    source_id = text_of(data.get("_id"))
    if not source_id:
        raise BadLine("missing _id")
    title, text = text_of(data.get("title")), text_of(data.get("text"))
    if not title and not text:
        raise BadLine("no title and no text")
    return Paper(source_id=source_id, title=title or None, abstract=text, **metadata_fields(data.get("metadata")))


class Parts:
    """A corpus read lazily in parts of at most `size` papers; once all are read, `reason` names the bad lines.

    The file is never held whole (BEIR corpora run to millions of lines): only one part and the first few
    problems are kept. Iterating raises LoadError, after the last part, when the file held no usable line.
    """

    def __init__(self, path: Path, size: int) -> None:
        self.path, self.size = path, max(1, size)
        self.total = self.kept = 0
        self.skips = Skips()

    def __iter__(self) -> Iterator[list[Paper]]:
        part: list[Paper] = []
        for number, raw in numbered_lines(self.path):
            self.total += 1
            try:
                part.append(to_paper(parse_line(raw)))
            except BadLine as exc:
                self.skips.add(f"line {number}: {exc}")
            if len(part) >= self.size:
                self.kept += len(part)
                yield part
                part = []
        self.kept += len(part)
        if part:
            yield part
        self._check()

    def _check(self) -> None:
        """LoadError when the whole file held nothing usable."""
        if not self.total:
            raise LoadError(self.path, "empty file")
        if not self.kept:
            raise LoadError(self.path, f"no usable lines: {self.reason}")

    @property
    def reason(self) -> str | None:
        """Which lines were skipped, or None when every line was good."""
        return self.skips.summary(self.total, "lines")


def load(path: Path) -> list[Paper]:
    """Load every good line; PartialLoadError carries them when some lines were bad."""
    parts = Parts(path, size=1 << 62)
    papers = [paper for part in parts for paper in part]
    if parts.reason:
        raise PartialLoadError(path, parts.reason, papers)
    return papers
