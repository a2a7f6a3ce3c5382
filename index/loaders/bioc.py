"""BioC full text and abstracts, XML (<collection>) and JSON (PMC's BioC API, PubTator), one Paper per <document>.

Both forms are read into the same (document id, infons, passages) shape. The paper's metadata comes from the
infons of the document and of its front/title passage (PMC's 'article-id_pmid', 'article-id_pmc', 'article-id_doi',
'name_0' = 'surname:…;given-names:…', 'year', 'source', 'volume', 'issue', 'fpage', 'lpage'). Passages are grouped by
their infon 'section_type' (INTRO, METHODS, RESULTS, DISCUSS, CONCL, CASE …) under the nearest 'title_1' heading;
FIG passages become Figures of the paper, TABLE passages sections of their own, and references and boilerplate
(REF, ACK_FUND, AUTH_CONT, COMP_INT, ABBR, SUPPL, REVIEW_INFO) are left out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litassist.index.errors import LoadError
from litassist.index.loaders import safe_xml
from litassist.index.loaders.fields import make_paper, papers_with_figures, month_of, pages_of, year_of
from litassist.index.loaders.safe_xml import children, first, local, text_of
from litassist.index.loaders.text import read_text
from litassist.index.records import Figure, Paper, Record, Section
from litassist.index.study import scientific_names

SKIPPED = {"REF", "ACK_FUND", "AUTH_CONT", "COMP_INT", "ABBR", "SUPPL", "REVIEW_INFO", "KEYWORD"}
NAMES = {"INTRO": "Introduction", "METHODS": "Methods", "RESULTS": "Results", "DISCUSS": "Discussion",
         "CONCL": "Conclusions", "CASE": "Case report", "APPENDIX": "Appendix"}
_HEADING = re.compile(r"^title(_\d+)?$")
_DIGITS = re.compile(r"\d+[A-Za-z]?$")


@dataclass
class Passage:
    """One BioC passage: its infons and text."""

    infons: dict[str, str]
    text: str


@dataclass
class Document:
    """One BioC document: id, infons and passages in order."""

    id: str
    infons: dict[str, str]
    passages: list[Passage] = field(default_factory=list)


def looks_like_json(data: Any) -> bool:
    """A BioC JSON collection (or PMC's list of them): objects with a 'documents' list."""
    items = data if isinstance(data, list) else [data]
    return bool(items) and all(isinstance(i, dict) and isinstance(i.get("documents"), list) for i in items)


def load_xml(path: Path) -> list[Record]:
    """Every document of a BioC XML <collection>."""
    root = safe_xml.parse(path)
    if local(root) != "collection":
        raise LoadError(path, f"not BioC XML: the root is <{local(root)}>, not <collection>")
    return build(path, [xml_document(d) for d in children(root, "document")])


def xml_document(node: Any) -> Document:
    """A <document> as a Document."""
    passages = [Passage(xml_infons(p), text_of(first(p, "text")) or " ".join(
        text_of(first(s, "text")) for s in children(p, "sentence"))) for p in children(node, "passage")]
    return Document(text_of(first(node, "id")), xml_infons(node), passages)


def xml_infons(node: Any) -> dict[str, str]:
    """The <infon key="…"> children of an element."""
    return {i.get("key"): text_of(i) for i in children(node, "infon") if i.get("key")}


def load_json(path: Path, data: Any | None = None) -> list[Record]:
    """Every document of a BioC JSON collection, or of each collection in a list (as PMC's BioC API returns)."""
    if data is None:
        try:
            data = json.loads(read_text(path))
        except ValueError as exc:
            raise LoadError(path, f"invalid JSON ({exc})") from exc
    if not looks_like_json(data):
        raise LoadError(path, "not BioC JSON: no 'documents' list")
    collections = data if isinstance(data, list) else [data]
    return build(path, [json_document(d) for c in collections for d in c["documents"] if isinstance(d, dict)])


def json_document(data: dict[str, Any]) -> Document:
    """A JSON document object as a Document (ill-typed values read as empty)."""
    passages = []
    for p in data.get("passages") or []:
        if isinstance(p, dict):
            text = p.get("text") if isinstance(p.get("text"), str) else " ".join(
                s.get("text", "") for s in p.get("sentences") or [] if isinstance(s, dict))
            passages.append(Passage(json_infons(p.get("infons")), text or ""))
    return Document(str(data.get("id") or ""), json_infons(data.get("infons")), passages)


def json_infons(value: Any) -> dict[str, str]:
    """Infons as strings (PubTator writes some as numbers)."""
    return {str(k): str(v) for k, v in value.items() if v is not None} if isinstance(value, dict) else {}


def build(path: Path, documents: list[Document]) -> list[Record]:
    """The papers and figures of the documents; documents without title or text are named and skipped."""
    if not documents:
        raise LoadError(path, "no <document> in the collection")
    return papers_with_figures(path, documents, document_paper, document_figures,
                               lambda n, d: f"document {n}{f' ({d.id})' if d.id else ''} has no title or text")


def kind_of(passage: Passage) -> tuple[str, str]:
    """(section_type, type) of a passage, e.g. ('RESULTS', 'paragraph'); PubTator's bare 'title'/'abstract' too."""
    kind = passage.infons.get("type", "").lower()
    section = passage.infons.get("section_type", "").upper()
    if not section:
        section = {"title": "TITLE", "front": "TITLE", "abstract": "ABSTRACT"}.get(kind, "")
    return section, kind


def document_paper(document: Document) -> Paper | None:
    """The paper of one document: metadata from the infons, abstract, and its sections."""
    front = next((p for p in document.passages if kind_of(p)[0] == "TITLE"), None)
    infons = {**document.infons, **(front.infons if front else {})}
    ids = {key: infons.get(f"article-id_{key}") or infons.get(key) for key in ("pmid", "pmc", "doi")}
    if document.id.isdigit() and not ids["pmc"]:
        ids["pmid"] = ids["pmid"] or document.id  # PubTator documents are named by PMID
    elif document.id.upper().startswith("PMC"):
        ids["pmc"] = ids["pmc"] or document.id
    abstract = " ".join(p.text for p in document.passages if kind_of(p) == ("ABSTRACT", "abstract") or
                        kind_of(p) == ("ABSTRACT", "paragraph"))
    paper = make_paper(
        [ids["pmid"], ids["pmc"], f"doi:{ids['doi'].lower()}" if ids["doi"] else None],
        title=front.text if front else None, abstract=abstract, authors=names(infons),
        journal=infons.get("source") or infons.get("journal"), year=year_of(infons.get("year")),
        month=month_of(infons.get("month")), volume=infons.get("volume"), issue=infons.get("issue"),
        pages=pages_of(infons.get("fpage"), infons.get("lpage")), doi=ids["doi"], pmid=ids["pmid"], pmcid=ids["pmc"],
    )
    if paper is None:
        return None
    sections = document_sections(document)
    return paper.model_copy(update={"sections": sections}) if sections else paper


def names(infons: dict[str, str]) -> list[str]:
    """Authors from 'name_0', 'name_1', … ('surname:Moreau;given-names:Claire'), in order; else 'authors'."""
    found = []
    for key in sorted((k for k in infons if re.fullmatch(r"name_\d+", k)), key=lambda k: int(k[5:])):
        parts = dict(p.split(":", 1) for p in infons[key].split(";") if ":" in p)
        surname, given = parts.get("surname", "").strip(), parts.get("given-names", "").strip()
        found.append(f"{surname}, {given}" if surname and given else surname or given)
    if not found and infons.get("authors"):
        found = [a.strip() for a in re.split(r"[;,]\s*", infons["authors"]) if a.strip()]
    return [n for n in found if n]


def document_sections(document: Document) -> list[Section]:
    """Body passages grouped into sections under their headings; tables as sections of their own."""
    sections: list[Section] = []
    top: dict[str, str] = {}  # section_type -> its level-1 heading
    heading: str | None = None
    current = ""
    for passage in document.passages:
        section, kind = kind_of(passage)
        if section in SKIPPED or section in ("TITLE", "ABSTRACT", "FIG") or not passage.text.strip():
            continue
        if section != current:  # a subheading belongs to its own section only
            current, heading = section, None
        if section == "TABLE":
            add_table(sections, passage)
        elif _HEADING.match(kind):
            if kind in ("title", "title_1") or section not in top:
                top[section], heading = passage.text.strip(), None
            else:
                heading = passage.text.strip()
        else:
            title = top.get(section) or NAMES.get(section) or section.title() or "Main text"
            add_text(sections, Section(title=title, subtitle=heading, text=passage.text.strip()))
    return sections


def add_text(sections: list[Section], part: Section) -> None:
    """Append a paragraph to the last section when it has the same headings, else start a new one."""
    last = sections[-1] if sections else None
    if last and (last.title, last.subtitle) == (part.title, part.subtitle) and not last.title.startswith("Table"):
        sections[-1] = last.model_copy(update={"text": f"{last.text}\n\n{part.text}"})
    else:
        sections.append(part)


def add_table(sections: list[Section], passage: Passage) -> None:
    """A table caption, body text or footnote joins its table's section ('Table 2', from the infon id)."""
    table_id = passage.infons.get("id", "")
    number = _DIGITS.search(table_id)
    title = f"Table {number.group(0)}" if number else "Table"
    kind = passage.infons.get("type", "").lower()
    if kind == "table_foot":
        return  # footnotes: abbreviations and statistics legends
    last = sections[-1] if sections else None
    if last and last.title == title:
        sections[-1] = last.model_copy(update={"text": f"{last.text} {passage.text.strip()}"})
    else:
        sections.append(Section(title=title, text=passage.text.strip()))


def document_figures(document: Document, paper: Paper) -> list[Figure]:
    """FIG passages as Figures of the paper: a figure's title and caption passages share its infon 'id'."""
    groups: dict[str, dict[str, str]] = {}
    for passage in document.passages:
        if kind_of(passage)[0] != "FIG" or not passage.text.strip():
            continue
        fig_id = passage.infons.get("id") or f"F{len(groups) + 1}"
        group = groups.setdefault(fig_id, {"file": passage.infons.get("file", "")})
        role = "title" if passage.infons.get("type", "").lower() == "fig_title_caption" else "caption"
        group[role] = f"{group.get(role, '')} {passage.text.strip()}".strip()
    return [bioc_figure(fig_id, group, paper) for fig_id, group in groups.items()]


def bioc_figure(fig_id: str, group: dict[str, str], paper: Paper) -> Figure:
    """One figure: PFOCR-style id '<PMCID>__<image file stem>', its PMC figure page, the paper's metadata."""
    stem = re.sub(r"\.(?:jpe?g|png|gif|tiff?)$", "", group.get("file") or fig_id, flags=re.IGNORECASE)
    owner = paper.pmcid or paper.source_id
    number = _DIGITS.search(fig_id)
    return Figure(
        source_id=f"{owner}__{stem}", figid=f"{owner}__{stem}", number=number.group(0) if number else fig_id,
        figtitle=group.get("title") or None, caption=group.get("caption") or group.get("title", ""),
        organisms=scientific_names(paper.species), papertitle=paper.title, pmcid=paper.pmcid,
        figlink=f"/pmc/articles/{paper.pmcid}/figure/{fig_id}/" if paper.pmcid else None, year=paper.year,
        doi=paper.doi, journal=paper.journal, study_types=paper.study_types, paper_id=paper.source_id,
    )
