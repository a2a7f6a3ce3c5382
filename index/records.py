"""Typed records passed between pipeline stages: Paper, Figure, Chunk and Passage."""

from __future__ import annotations

import re
from typing import Literal, Union

from pydantic import BaseModel, Field

Kind = Literal["paper", "figure"]

PMC_BASE = "https://www.ncbi.nlm.nih.gov"


class Paper(BaseModel):
    """A paper: bibliographic data plus its abstract and, for PDFs, text per page."""

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
    file: str | None = Field(default=None, description="The file the record was loaded from")

    @property
    def organisms(self) -> list[str]:
        """Papers carry no organism annotation (figures do)."""
        return []


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
    papertitle: str | None = None
    reftext: str | None = None
    pmcid: str | None = None
    figlink: str | None = None
    year: int | None = None
    doi: str | None = None
    journal: str | None = None
    file: str | None = None

    @property
    def title(self) -> str | None:
        """The figure's title, for code that treats papers and figures alike."""
        return self.figtitle

    @property
    def url(self) -> str | None:
        """The PMC figure page built from figlink."""
        if self.figlink:
            return PMC_BASE + self.figlink if self.figlink.startswith("/") else self.figlink
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


class Chunk(BaseModel):
    """A sentence-aligned piece of a record, the unit that is embedded and retrieved."""

    id: str = Field(description="Content hash of source id, position and text")
    source_id: str
    kind: Kind
    position: int = Field(description="Order of the chunk within its record")
    text: str = Field(description="Quotable text: whole sentences from the record")
    context: str = Field(default="", description="Searchable but not quotable: title, genes")
    page: int | None = Field(default=None, description="1-based PDF page")

    @property
    def search_text(self) -> str:
        """What the encoder and BM25 see: the context before the text."""
        return f"{self.context}\n{self.text}" if self.context else self.text


class Passage(BaseModel):
    """A retrieved chunk with its record and score."""

    chunk: Chunk
    record: Record = Field(discriminator="kind")
    score: float
