"""Corrections and retractions, study types and species from a MEDLINE record or a PubMed XML article."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from litassist.index.loaders.fields import squash
from litassist.index.records import Notice, NoticeKind
from litassist.index.study import species_of, study_types_from_publication_types

# MEDLINE CommentsCorrections tags that say something happened to this paper ("… in"), not what it is about.
MEDLINE_TAGS: dict[str, NoticeKind] = {"RIN": "retraction", "PRIN": "partial retraction",
                                       "ECI": "expression of concern", "EIN": "erratum"}
# The same in PubMed XML: <CommentsCorrections RefType="RetractionIn">.
XML_REF_TYPES: dict[str, NoticeKind] = {"RetractionIn": "retraction", "PartialRetractionIn": "partial retraction",
                                        "ExpressionOfConcernIn": "expression of concern", "ErratumIn": "erratum"}
RETRACTED_TYPE = "retracted publication"  # PubMed marks the retracted paper itself with this PublicationType
# "J Biol Chem. 2020;295(1):293. doi: 10.1074/jbc.W119.011929. PMID: 31900000" -> source and PMID.
_TRAILING_PMID = re.compile(r"\s*PMID:\s*(\d+)\.?\s*$")


def notice_from_line(kind: NoticeKind, line: str) -> Notice:
    """A MEDLINE 'RIN  - …' line as a Notice: where it was published and its PMID."""
    text = squash(line) or ""
    match = _TRAILING_PMID.search(text)
    source = text[: match.start()] if match else text
    return Notice(kind=kind, source=source.strip().rstrip("."), pmid=match.group(1) if match else None)


def medline_notices(record: dict[str, Any]) -> list[Notice]:
    """The notices of a MEDLINE record. Bio.Medline keeps a wrapped line's continuation as an item of its own, so
    items are joined until one ends in its 'PMID: n'."""
    notices = []
    for tag, kind in MEDLINE_TAGS.items():
        pending: list[str] = []
        for line in record.get(tag, []):
            pending.append(line)
            if _TRAILING_PMID.search(line):
                notices.append(notice_from_line(kind, " ".join(pending)))
                pending = []
        if pending:
            notices.append(notice_from_line(kind, " ".join(pending)))
    return notices


def with_retracted_type(notices: list[Notice], publication_types: Iterable[str]) -> list[Notice]:
    """The notices, plus a bare retraction when PubMed types the paper 'Retracted Publication' without citing one."""
    retracted = any(" ".join(t.split()).lower() == RETRACTED_TYPE for t in publication_types)
    if retracted and not any(n.kind == "retraction" for n in notices):
        return [*notices, Notice(kind="retraction", source="")]
    return notices


def medline_fields(record: dict[str, Any]) -> dict[str, Any]:
    """study_types, species and notices of one MEDLINE record (PT, MH and the '… in' tags)."""
    types = record.get("PT", [])
    notices = medline_notices(record)
    return {"study_types": study_types_from_publication_types(types), "species": species_of(record.get("MH", [])),
            "notices": with_retracted_type(notices, types)}


def xml_fields(article: ET.Element) -> dict[str, Any]:
    """study_types, species and notices of one <PubmedArticle>."""
    citation = article.find("MedlineCitation")
    if citation is None:
        return {}
    types = [squash("".join(n.itertext())) or "" for n in citation.iterfind("Article/PublicationTypeList/PublicationType")]
    headings = [squash("".join(n.itertext())) or "" for n in citation.iterfind("MeshHeadingList/MeshHeading/DescriptorName")]
    notices = []
    for node in citation.iterfind("CommentsCorrectionsList/CommentsCorrections"):
        kind = XML_REF_TYPES.get(node.get("RefType") or "")
        if kind:
            source = squash("".join(node.findtext("RefSource") or "")) or ""
            notices.append(Notice(kind=kind, source=source.rstrip("."), pmid=squash(node.findtext("PMID"))))
    return {"study_types": study_types_from_publication_types(types), "species": species_of(headings),
            "notices": with_retracted_type(notices, types)}
