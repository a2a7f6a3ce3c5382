"""PubMed exports: MEDLINE/.nbib text and PubMed XML.

Authors come out as "Last, First" (MEDLINE FAU, XML LastName/ForeName); a MEDLINE record
without FAU lines keeps its short AU form ("Ferreira AB"). Collective authors are kept as
written. source_id is the bare PMID ("34781234"), else a content hash of title and abstract.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers.expat import ErrorString

from Bio import Medline

from litassist.index.errors import LoadError
from litassist.index.loaders.fields import finish, make_paper, month_in, month_of, squash, year_of
from litassist.index.loaders.notices import medline_fields, xml_fields
from litassist.index.loaders.text import read_text
from litassist.index.records import Paper

_TAGGED_DOI = re.compile(r"(\S+)\s*\[doi\]")
# A file named .nbib/.medline must show at least one MEDLINE tag line to be parsed as such.
_MEDLINE_TAG = re.compile(r"^(PMID|TI  |AB  )- ", re.MULTILINE)


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
        **medline_fields(record),
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
        **xml_fields(article),
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
