"""Typed answer records: Citation, AnswerSentence, Answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

from litassist.index.records import Kind

from litassist.assistant.evidence import summary

# Shared by the extractive answerer, the LLM prompt and the tests: one string, defined once.
CANNOT_ANSWER = "The indexed sources do not answer this question."


class Citation(BaseModel):
    """One numbered source of an answer, with its reference line and the quoted text."""

    n: int
    source_id: str
    kind: Kind
    title: str
    reference: str
    url: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    figid: str | None = None
    answers: bool = Field(True, description="False for a closest source shown when the answer abstains: it does not answer the question")
    quote: str = Field("", description="The sentence(s) quoted from this source, joined by spaces")
    sections: list[str] = Field(default_factory=list, description="Full-text sections quoted from ('Results')")
    study_types: list[str] = Field(default_factory=list, description="The source's study types (index/study.py)")
    species: list[str] = Field(default_factory=list, description="The species the source is about")
    retracted: bool = Field(False, description="The paper is retracted (wholly or partly)")
    flag: str | None = Field(None, description="'retracted', 'partially retracted' or 'expression of concern'")
    notices: list[str] = Field(default_factory=list, description="Retraction, erratum and concern notices")
    paper_id: str | None = Field(None, description="A figure's paper, when that is indexed")
    page: int | None = Field(None, description="First PDF page quoted from (1-based); None for other formats")
    pages: list[int] = Field(default_factory=list, description="Every PDF page quoted from, in order")
    year: int | None = None
    file: str | None = Field(None, description="The PDF the paper was read from")


class AnswerSentence(BaseModel):
    """One sentence of an answer and the citation numbers that support it."""

    text: str
    citations: list[int]
    supported: bool = True
    flags: list[str] = Field(default_factory=list, description="Flags of the sources it quotes: 'retracted' …")


class PassageOut(BaseModel):
    """A retrieved passage as reported in JSON."""

    source_id: str
    kind: Kind
    text: str
    score: float


class Focus(BaseModel):
    """What a follow-up's answer must be about, beyond its standalone query (which also carries the earlier topic)."""

    entities: list[str] = Field(description="Names quoted sentences must mention: the follow-up's own, else those its pronouns stand for")
    words: list[str] = Field(default_factory=list, description="The follow-up's own content words: a rare one no retrieved passage uses raises the bar to quote anything")


class Answer(BaseModel):
    """A cited answer to one question."""

    question: str
    answer: str = Field(description="The answer's sentences, each ending in citation markers like [1]")
    abstained: bool
    mode: Literal["extractive", "llm"] = "extractive"
    form: Literal["sentences", "list"] = Field("sentences", description="'list': a list question, answered with one line per source")
    note: str | None = Field(None, description="Why the answer differs from the plain case: LLM failed, sentences unsupported")
    sentences: list[AnswerSentence] = []
    citations: list[Citation] = []
    passages: list[PassageOut] = []
    closest: list[Citation] = Field(default_factory=list, description="When the answer abstains: the retrieved sources nearest the question, each with its nearest sentence; they do not answer it and are not citations")
    hint: str | None = Field(None, description="When the answer abstains: what was searched (synonyms, filters) and what to try")
    expansions: dict[str, list[str]] = Field(
        default_factory=dict, description="Question terms expanded with synonyms for retrieval, e.g. {'HER2': ['ERBB2', 'NEU']}")

    @computed_field
    @property
    def sources_summary(self) -> str | None:
        """What the cited sources are: '2 reviews, 1 mouse study (1 retracted)'; None when nothing is known."""
        if self.abstained:
            return None
        return summary((c.kind, c.study_types, c.species, c.flag) for c in self.citations)
