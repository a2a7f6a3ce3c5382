"""PubMed exports (MEDLINE/.nbib text and PubMed XML), plus the field helpers refman shares.

Authors come out as "Last, First" (MEDLINE FAU, XML LastName/ForeName); a MEDLINE record
without FAU lines keeps its short AU form ("Ferreira AB"). Collective authors are kept as
written. source_id is the bare PMID ("34781234"), else a content hash of title and abstract.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.parsers.expat import ErrorString

from Bio import Medline

from index.errors import LoadError, PartialLoadError
from index.loaders.text import content_id, read_text
from index.records import Paper

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_YEAR = re.compile(r"(?<!\d)(1[6-9]\d\d|20\d\d)(?!\d)")
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_TAGGED_DOI = re.compile(r"(\S+)\s*\[doi\]")
_DATE_SPLIT = re.compile(r"[\s/-]+")
# A file named .nbib/.medline must show at least one MEDLINE tag line to be parsed as such.
_MEDLINE_TAG = re.compile(r"^(PMID|TI  |AB  )- ", re.MULTILINE)
# Skipped entries are named in a one-line message; past this many, only a count is given.
_NAMED_SKIPS = 3


# --- field helpers shared with refman ---------------------------------------------------


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
    skipped = [r for r in results if isinstance(r, str)]
    if not skipped:
        return papers
    named = "; ".join(skipped[:_NAMED_SKIPS])
    more = f"; and {len(skipped) - _NAMED_SKIPS} more" if len(skipped) > _NAMED_SKIPS else ""
    reason = f"skipped {len(skipped)} of {len(results)} entries: {named}{more}"
    if not papers:
        raise LoadError(path, reason)
    raise PartialLoadError(path, reason, papers)


# --- MEDLINE / .nbib ----------------------------------------------------------------------


def load_medline(path: Path) -> list[Paper]:
    """Every record of a PubMed MEDLINE (.nbib) export."""
    text = read_text(path)
    if not _MEDLINE_TAG.search(text):
        raise LoadError(path, "not MEDLINE format: no 'PMID- ', 'TI  - ' or 'AB  - ' lines")
    try:
        # newline=None turns CRLF into LF: Bio.Medline spots record breaks as a bare "\n".
        records = list(Medline.parse(io.StringIO(text, newline=None)))
    except KeyError as exc:  # Bio.Medline fails this way on a continuation line before any tag
        raise LoadError(path, "malformed MEDLINE: an indented line comes before any tag") from exc
    results = [_medline_paper(r) or _medline_skip(r, n) for n, r in enumerate(records, 1)]
    return finish(path, results)


def _medline_paper(record: dict) -> Paper | None:
    """One MEDLINE record as a Paper; None when it has neither title nor abstract."""
    pmid = squash(record.get("PMID"))
    return make_paper(
        [pmid],
        title=record.get("TI"),
        abstract=record.get("AB"),
        # FAU is "Last, First"; records from before 2002 only have the short AU form.
        authors=(record.get("FAU") or record.get("AU") or []) + record.get("CN", []),
        journal=record.get("JT") or record.get("TA"),
        year=year_of(record.get("DP")),
        month=month_in(record.get("DP")),
        volume=record.get("VI"),
        issue=record.get("IP"),
        pages=record.get("PG"),
        doi=_medline_doi(record),
        pmid=pmid,
        pmcid=record.get("PMC"),
    )


def _medline_doi(record: dict) -> str | None:
    """The DOI tagged '[doi]' in the LID or AID lines."""
    tagged = " ".join([record.get("LID", ""), *record.get("AID", [])])
    match = _TAGGED_DOI.search(tagged)
    return match.group(1) if match else None


def _medline_skip(record: dict, number: int) -> str:
    """Why a MEDLINE record was skipped, naming it by position and PMID."""
    pmid = squash(record.get("PMID"))
    return f"record {number}{f' (PMID {pmid})' if pmid else ''} has no title or abstract"


# --- PubMed XML ---------------------------------------------------------------------------


def load_xml(path: Path) -> list[Paper]:
    """Every <PubmedArticle> of a PubMed XML export (efetch or 'Save as XML')."""
    root = _parse_xml(path)
    articles = list(root.iter("PubmedArticle"))
    if not articles:
        raise LoadError(path, f"not PubMed XML: no <PubmedArticle> in <{root.tag}>")
    results = [_xml_paper(a) or _xml_skip(a, n) for n, a in enumerate(articles, 1)]
    return finish(path, results)


def _parse_xml(path: Path) -> ET.Element:
    """The root element; ElementTree never fetches the external DTD PubMed files declare."""
    try:
        return ET.fromstring(read_text(path))
    except ET.ParseError as exc:
        line, column = exc.position
        problem = ErrorString(exc.code)
        raise LoadError(path, f"malformed XML at line {line}, column {column}: {problem}") from exc


def _xml_paper(article: ET.Element) -> Paper | None:
    """One <PubmedArticle> as a Paper; None when it has neither title nor abstract."""
    art = article.find("MedlineCitation/Article")
    if art is None:
        return None
    ids = _article_ids(article)
    pmid = _text(article, "MedlineCitation/PMID") or ids.get("pubmed")
    date = art.find("Journal/JournalIssue/PubDate")
    medline_date = _text(date, "MedlineDate")
    return make_paper(
        [pmid],
        title=_text(art, "ArticleTitle"),
        abstract=_abstract(art),
        authors=[_xml_author(a) for a in art.iterfind("AuthorList/Author")],
        journal=_text(art, "Journal/Title") or _text(art, "Journal/ISOAbbreviation"),
        year=year_of(_text(date, "Year") or medline_date),
        month=month_of(_text(date, "Month")) or month_in(medline_date),
        volume=_text(art, "Journal/JournalIssue/Volume"),
        issue=_text(art, "Journal/JournalIssue/Issue"),
        pages=_text(art, "Pagination/MedlinePgn") or _text(art, "Pagination/StartPage"),
        doi=ids.get("doi") or _text(art, "ELocationID[@EIdType='doi']"),
        pmid=pmid,
        pmcid=ids.get("pmc"),
    )


def _text(parent: ET.Element | None, path: str) -> str | None:
    """All text inside the element at `path` (titles carry <i>, <sup> markup), squashed."""
    node = parent.find(path) if parent is not None else None
    return squash("".join(node.itertext())) if node is not None else None


def _article_ids(article: ET.Element) -> dict[str, str]:
    """The article's own ids by type (doi, pmc, pubmed), not those of its references."""
    nodes = article.iterfind("PubmedData/ArticleIdList/ArticleId")
    return {n.get("IdType"): squash(n.text) for n in nodes if n.get("IdType") and squash(n.text)}


def _abstract(art: ET.Element) -> str:
    """The abstract; labelled parts become 'LABEL: text', joined as MEDLINE prints them."""
    parts = []
    for node in art.iterfind("Abstract/AbstractText"):
        text, label = squash("".join(node.itertext())), node.get("Label")
        if text:
            parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts)


def _xml_author(author: ET.Element) -> str | None:
    """'Last, ForeName' (or initials), or the collective name as written."""
    last = _text(author, "LastName")
    first = _text(author, "ForeName") or _text(author, "Initials")
    if last:
        return f"{last}, {first}" if first else last
    return _text(author, "CollectiveName")


def _xml_skip(article: ET.Element, number: int) -> str:
    """Why a PubMed XML article was skipped, naming it by position and PMID."""
    pmid = _text(article, "MedlineCitation/PMID")
    return f"article {number}{f' (PMID {pmid})' if pmid else ''} has no title or abstract"
