"""Typed records passed between pipeline stages: Paper, Figure, Chunk and Passage."""

from __future__ import annotations

import re
from typing import Literal, Union

from pydantic import BaseModel, Field, field_validator

from litassist.index.study import species_of

Kind = Literal["paper", "figure"]

PMC_BASE = "https://www.ncbi.nlm.nih.gov"
# Identifiers end up in links, BibTeX and RIS: a value with whitespace, braces, quotes or backslashes could break out
# of its field there (a forged BibTeX entry, a 'javascript:' link), so a malformed one is dropped, never written.
_DOI = re.compile(r"^10\.[^\s{}\\\"<>]+$")
_PMID = re.compile(r"^\d{1,9}$")
_PMCID = re.compile(r"^PMC\d{1,9}$")
_WEB_URL = re.compile(r"^https?://[^\s{}\\\"<>]+$", re.IGNORECASE)


def valid_or_none(value: object, pattern: re.Pattern[str]) -> str | None:
    """The value, stripped, if it has the identifier's form; otherwise None."""
    text = str(value).strip() if value is not None else ""
    return text if pattern.match(text) else None


def web_url(url: str | None) -> str | None:
    """Only http(s) links survive: a 'javascript:' or 'file:' URL from a record must never become a link."""
    return valid_or_none(url, _WEB_URL)


NoticeKind = Literal["retraction", "partial retraction", "expression of concern", "erratum"]
# What a notice makes of the paper, as shown on its card and beside every sentence quoted from it (errata: none).
FLAGS = {"retraction": "retracted", "partial retraction": "partially retracted",
         "expression of concern": "expression of concern"}


class Notice(BaseModel):
    """A correction or retraction notice about a paper (MEDLINE CommentsCorrections, PubMed PublicationType)."""

    kind: NoticeKind
    source: str = Field(default="", description="Where the notice was published, as PubMed cites it")
    pmid: str | None = Field(default=None, description="The notice's own PMID")

    @field_validator("pmid", mode="before")
    @classmethod
    def _pmid(cls, value: object) -> str | None:
        """A malformed PMID is dropped (it becomes a link)."""
        return well_formed("pmid", value)

    @property
    def text(self) -> str:
        """'Retraction in: J Biol Chem. 2020;295(1):293. PMID 31900000'."""
        where = f" in: {self.source}" if self.source else ""
        return f"{self.kind.capitalize()}{where}" + (f" (PMID {self.pmid})" if self.pmid else "")


class Section(BaseModel):
    """One titled part of a full text (JATS <sec>, BioC section): its title is context, its text is quotable."""

    title: str = Field(description="The top-level section's title: 'Results'")
    subtitle: str | None = Field(default=None, description="A nested section's own title")
    text: str


class Paper(BaseModel):
    """A paper: bibliographic data plus its abstract and, for PDFs, text per page; for JATS and BioC full texts,
    text per section."""

    kind: Literal["paper"] = "paper"
    source_id: str = Field(description="Stable id: BEIR _id, PMID, DOI or a content hash")
    title: str | None = None
    authors: list[str] = Field(default_factory=list)
    journal: str | None = None
    year: int | None = None
    month: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    url: str | None = None
    abstract: str = ""
    body: list[str] = Field(default_factory=list, description="Full text, one string per PDF page")
    sections: list[Section] = Field(default_factory=list, description="Full text by section (JATS, BioC)")
    study_types: list[str] = Field(default_factory=list, description="From index.study.STUDY_TYPES")
    species: list[str] = Field(default_factory=list, description="From index.study.SPECIES")
    notices: list[Notice] = Field(default_factory=list, description="Retractions, errata, expressions of concern")
    citekey: str | None = Field(default=None, description="A reference manager's citation key (Better BibTeX)")
    collections: list[str] = Field(default_factory=list, description="The Zotero collections it is filed in")
    tags: list[str] = Field(default_factory=list, description="Its Zotero tags")
    file: str | None = Field(default=None, description="The file the record was loaded from")

    @field_validator("doi", "pmid", "pmcid", "url", mode="before")
    @classmethod
    def _identifier(cls, value: object, info) -> str | None:
        """A malformed identifier is dropped (see _DOI)."""
        return well_formed(info.field_name, value)

    @property
    def organisms(self) -> list[str]:
        """Papers carry no organism annotation (figures do)."""
        return []

    @property
    def flag(self) -> str | None:
        """'retracted', 'partially retracted' or 'expression of concern' (the gravest), else None."""
        kinds = {n.kind for n in self.notices}
        return next((FLAGS[k] for k in FLAGS if k in kinds), None)


class Figure(BaseModel):
    """A PFOCR pathway figure record."""

    kind: Literal["figure"] = "figure"
    source_id: str = Field(description="The figid, e.g. PMC4267894__nihms-640515-f0007")
    figid: str
    number: str | None = Field(default=None, description="Figure label as given, e.g. F7")
    figtitle: str | None = None
    caption: str = ""
    organisms: list[str] = Field(default_factory=list)
    genes: list[str] = Field(default_factory=list, description="HGNC-style gene symbols")
    keywords: list[str] = Field(default_factory=list, description="The paper's author keywords")
    gene_words: dict[str, str] = Field(
        default_factory=dict, description="OCR word -> HGNC symbol (older PFOCR generation)"
    )
    papertitle: str | None = Field(default=None, description="The title of the paper the figure is from")
    reftext: str | None = Field(default=None, description="Its paper as a reference line: authors, journal, year")
    pmcid: str | None = Field(default=None, description="Its paper's PMC id, e.g. PMC4267894")
    figlink: str | None = Field(default=None, description="The figure's path on PMC, e.g. /pmc/articles/PMC…/figure/F7/")
    year: int | None = Field(default=None, description="Its paper's publication year")
    doi: str | None = Field(default=None, description="Its paper's DOI")
    journal: str | None = Field(default=None, description="Its paper's journal")
    study_types: list[str] = Field(default_factory=list, description="Its paper's, for figures read from a full text")
    paper_id: str | None = Field(default=None, description="The source id of its paper, when that is indexed")
    file: str | None = None

    @field_validator("doi", "pmcid", mode="before")
    @classmethod
    def _identifier(cls, value: object, info) -> str | None:
        """A malformed identifier is dropped (see _DOI)."""
        return well_formed(info.field_name, value)

    @property
    def title(self) -> str | None:
        """The figure's title, for code that treats papers and figures alike."""
        return self.figtitle

    @property
    def species(self) -> list[str]:
        """Its organisms as species words ('Mus musculus' -> 'mouse'), so one species filter serves both kinds."""
        return species_of(self.organisms)

    @property
    def flag(self) -> str | None:
        """Figures carry no notices of their own."""
        return None

    @property
    def url(self) -> str | None:
        """The PMC figure page built from figlink; None when figlink is not a web address."""
        if self.figlink:
            return web_url(PMC_BASE + self.figlink if self.figlink.startswith("/") else self.figlink)
        if self.pmcid and self.number:
            return f"{PMC_BASE}/pmc/articles/{self.pmcid}/figure/{self.number}/"
        return None

    @property
    def label(self) -> str:
        """Human figure number: 'F7' -> '7', 'Fig3' -> '3'; the raw label when no digits."""
        if not self.number:
            return "?"
        match = re.search(r"\d+[A-Za-z]?$", self.number)
        return match.group(0) if match else self.number


Record = Union[Paper, Figure]

_FORMS = {"doi": _DOI, "pmid": _PMID, "pmcid": _PMCID, "url": _WEB_URL}


def well_formed(field: str, value: object) -> str | None:
    """A record's identifier if it has its field's form; None (absent) otherwise."""
    if field == "pmcid" and value is not None:  # 'pmc123' and a bare '123' are the same PMC id
        text = str(value).strip().upper()
        value = f"PMC{text}" if text.isdigit() else text
    return None if value in (None, "") else valid_or_none(value, _FORMS[field])


class Chunk(BaseModel):
    """A sentence-aligned piece of a record, the unit that is embedded and retrieved."""

    id: str = Field(description="Content hash of source id, position and text")
    source_id: str
    kind: Kind
    position: int = Field(description="Order of the chunk within its record")
    text: str = Field(description="Quotable text: whole sentences from the record")
    context: str = Field(default="", description="Searchable but not quotable: title, genes")
    page: int | None = Field(default=None, description="1-based PDF page")
    section: str | None = Field(default=None, description="The full-text section it is from ('Results')")

    @property
    def search_text(self) -> str:
        """What the encoder and BM25 see: the context before the text."""
        return f"{self.context}\n{self.text}" if self.context else self.text


class Hit(BaseModel):
    """A ranked chunk before its text and record are read (index/hits.py): what fusion needs."""

    id: str
    source_id: str
    score: float


class Passage(BaseModel):
    """A retrieved chunk with its record and score."""

    chunk: Chunk
    record: Record = Field(discriminator="kind")
    score: float
