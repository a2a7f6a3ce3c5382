"""Abstract pages: abstract text followed by a `Key | Value |` bibliographic table (research-portal exports)."""

from __future__ import annotations

import re
from pathlib import Path

from litassist.index.errors import LoadError
from litassist.index.loaders.text import content_id, read_text
from litassist.index.records import Paper

_ROW = re.compile(r"^\s*([^|\n]{1,60}?)\s*\|\s*(.*?)\s*\|\s*$")
_RULE = re.compile(r"^\s*-{2,}\s*\|\s*-{2,}\s*\|?\s*$")
_KNOWN_KEYS = {"journal", "volume", "issue number", "pages (from-to)", "dois", "state", "original language"}
# Lines after the table that begin trailing sections we do not index as the abstract.
_MONTH = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\b")


def looks_like(head: str) -> bool:
    """True when at least two rows of the bibliographic table are present."""
    keys = {m.group(1).strip().lower() for m in map(_ROW.match, head.splitlines()) if m}
    return len(keys & _KNOWN_KEYS) >= 2


def split_page(text: str) -> tuple[list[str], dict[str, str]]:
    """Separate the prose lines before the table from the table's key/value rows."""
    prose: list[str] = []
    table: dict[str, str] = {}
    for line in text.splitlines():
        row = _ROW.match(line)
        if row and not _RULE.match(line):
            table.setdefault(row.group(1).strip().lower(), row.group(2).strip())
        elif not table and not _RULE.match(line):
            prose.append(line.strip())
    return [p for p in prose if p], table


def title_and_abstract(prose: list[str]) -> tuple[str | None, str]:
    """A line 'Abstract' separates an optional title from the abstract text."""
    lowered = [p.lower() for p in prose]
    if "abstract" in lowered:
        cut = lowered.index("abstract")
        title = " ".join(prose[:cut]) or None
        return title, " ".join(prose[cut + 1 :])
    return None, " ".join(prose)


def parse_state(state: str) -> tuple[int | None, str | None]:
    """'Published - Nov 2004' -> (2004, 'Nov')."""
    year = re.search(r"\b(1[89]|20)\d\d\b", state)
    month = _MONTH.search(state)
    return (int(year.group(0)) if year else None, month.group(1) if month else None)


def to_paper(text: str, path: Path) -> Paper:
    """Build a Paper from an abstract page's text."""
    prose, table = split_page(text)
    title, abstract = title_and_abstract(prose)
    if not abstract:
        raise LoadError(path, "abstract page has no abstract text before its table")
    year, month = parse_state(table.get("state", "") or table.get("publication date", ""))
    doi = table.get("dois") or table.get("doi") or None
    value = lambda key: table.get(key) or None  # noqa: E731
    return Paper(
        source_id=f"doi:{doi.lower()}" if doi else content_id(abstract),
        title=value("title") or title, journal=value("journal"), year=year, month=month,
        volume=value("volume"), issue=value("issue number"), pages=value("pages (from-to)"),
        doi=doi, abstract=abstract,
        authors=[a.strip() for a in (value("authors") or "").split(",") if a.strip()],
    )


def load(path: Path) -> list[Paper]:
    """Load one abstract page."""
    return [to_paper(read_text(path), path)]
