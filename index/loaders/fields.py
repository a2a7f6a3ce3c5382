"""Field clean-up shared by the reference-format loaders (PubMed, RIS, BibTeX, CSL-JSON)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from litassist.index.errors import LoadError, PartialLoadError
from litassist.index.loaders.text import content_id
from litassist.index.records import Figure, Paper, Record
from litassist.index.skips import Skips

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_YEAR = re.compile(r"(?<!\d)(1[6-9]\d\d|20\d\d)(?!\d)")
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DATE_SPLIT = re.compile(r"[\s/-]+")


def squash(value: object) -> str | None:
    """Text with every run of whitespace collapsed to one space; None when empty."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def year_of(value: object) -> int | None:
    """The first plausible four-digit year in a date string, as an int."""
    match = _YEAR.search(str(value or ""))
    return int(match.group(1)) if match else None


def month_of(value: object) -> str | None:
    """'11', 'nov', 'November' or 'Nov-Dec' -> 'Nov'; None for seasons and anything else."""
    text = str(value or "").strip()
    if text.isdigit():
        return MONTHS[int(text) - 1] if 1 <= int(text) <= 12 else None
    head = text[:3].title()
    return head if head in MONTHS else None


def month_in(date: object) -> str | None:
    """The month of a date written '2021 Nov 5', '2021/11/05/', '2021-11' or '2018 Jul-Aug'."""
    tokens = _DATE_SPLIT.split(str(date or "").strip())
    return month_of(tokens[1]) if len(tokens) > 1 and year_of(tokens[0]) else None


def clean_doi(value: object) -> str | None:
    """A bare DOI ('10.x/y') from a DOI, a 'doi:' string or a doi.org URL; None if absent."""
    match = _DOI.search(str(value or ""))
    return match.group(0).rstrip(".,;") if match else None


def pages_of(first: object, last: object = None) -> str | None:
    """A page range 'first-last'; BibTeX '--' and en dashes become a plain hyphen."""
    pages = "-".join(p for p in (squash(first), squash(last)) if p)
    return re.sub(r"\s*(?:-+|\u2013|\u2014)\s*", "-", pages) or None


def make_paper(ids: Iterable[str | None], **fields: Any) -> Paper | None:
    """A Paper with cleaned fields, its id the first non-empty of `ids`; None if no text."""
    title, abstract = squash(fields.pop("title", None)), squash(fields.pop("abstract", None))
    if not title and not abstract:
        return None
    for key in ("journal", "volume", "issue", "pages", "pmid", "pmcid", "url"):
        fields[key] = squash(fields.get(key))
    if fields["pmcid"] and fields["pmcid"].isdigit():
        fields["pmcid"] = "PMC" + fields["pmcid"]
    fields["doi"] = clean_doi(fields.get("doi"))
    fields["authors"] = [a for a in map(squash, fields.get("authors") or []) if a]
    # Records with no identifier of their own get a hash of their text, stable across runs.
    source_id = next((i for i in ids if i), None) or content_id(title or "", abstract or "")
    return Paper(source_id=source_id, title=title, abstract=abstract or "", **fields)


def finish(path: Path, results: list[Paper | str]) -> list[Paper]:
    """The papers in `results`; its strings (skip reasons) raise Partial/LoadError instead."""
    papers = [r for r in results if isinstance(r, Paper)]
    skips = Skips()
    for problem in (r for r in results if isinstance(r, str)):
        skips.add(problem)
    reason = skips.summary(len(results), "entries")
    if reason is None:
        return papers
    if not papers:
        raise LoadError(path, reason)
    raise PartialLoadError(path, reason, papers)


T = TypeVar("T")


def papers_with_figures(path: Path, items: Sequence[T], paper_of: Callable[[T], Paper | None],
                        figures_of: Callable[[T, Paper], list[Figure]], missing: Callable[[int, T], str]) -> list[Record]:
    """Each full-text item's paper followed by its figures; items without text are named (`missing`) and skipped,
    as a PartialLoadError that keeps what was read, or a LoadError when none had text."""
    records: list[Record] = []
    results: list[Paper | str] = []
    for number, item in enumerate(items, 1):
        paper = paper_of(item)
        results.append(paper or missing(number, item))
        if paper is not None:
            records += [paper, *figures_of(item, paper)]
    if any(isinstance(r, str) for r in results):
        try:
            finish(path, results)
        except PartialLoadError as exc:
            raise PartialLoadError(path, exc.reason, records) from None
    return records
