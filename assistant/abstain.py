"""The answer records both composers share: the retrieved passages as reported, and an abstention with what it still
shows (the closest sources found, marked as not answering, and a hint)."""

from __future__ import annotations

from typing import Any

from litassist.index.bm25 import SearchFilter
from litassist.index.chunking import split_sentences
from litassist.index.records import Passage

from litassist.assistant.citations import citation_for
from litassist.assistant.filters import describe
from litassist.assistant.models import CANNOT_ANSWER, Answer, Citation, PassageOut


def passages_out(passages: list[Passage]) -> list[PassageOut]:
    """Retrieved passages as reported to the user."""
    return [PassageOut(source_id=p.chunk.source_id, kind=p.chunk.kind, text=p.chunk.text, score=p.score)
            for p in passages]


def abstain(question: str, passages: list[Passage], mode: str = "extractive", encoder: Any = None,
            closest: int = 0) -> Answer:
    """The plain 'cannot answer' answer, with what was retrieved and (given an encoder) the `closest` sources."""
    near = closest_sources(question, passages, encoder, closest) if encoder is not None else []
    return Answer(question=question, answer=CANNOT_ANSWER, abstained=True, mode=mode,
                  passages=passages_out(passages), closest=near)


def closest_sources(question: str, passages: list[Passage], encoder: Any, count: int) -> list[Citation]:
    """The first `count` retrieved sources, each with its sentence nearest the question as the quote; marked
    `answers=False`, so they are never mistaken for (or counted as) citations."""
    best: dict[str, Passage] = {}
    for passage in passages:  # retrieval order: a source's best-ranked passage stands for it
        if len(best) == count:
            break
        best.setdefault(passage.record.source_id, passage)
    if not best or count <= 0:
        return []
    sentences = {sid: split_sentences(p.chunk.text) or [p.chunk.text] for sid, p in best.items()}
    texts = [s for group in sentences.values() for s in group]
    vectors = encoder.encode([question, *texts])
    similarity = dict(zip(texts, vectors[1:] @ vectors[0]))
    closest = []
    for n, (sid, passage) in enumerate(best.items(), start=1):
        quote = max(sentences[sid], key=lambda s: similarity[s])
        pages = [passage.chunk.page] if passage.chunk.page else []
        closest.append(citation_for(n, passage.record, [quote], pages).model_copy(update={"answers": False}))
    return closest


def hint(question: str, where: SearchFilter | None, expansions: dict[str, list[str]]) -> str:
    """What was searched (with the synonyms added and the filters in force) and what to try instead."""
    said = f"Searched for “{question}”"
    if expansions:
        said += " (also as " + "; ".join(f"{k}: {', '.join(v)}" for k, v in expansions.items()) + ")"
    filters = describe(where) if where is not None and not where.empty else ""
    if filters:
        said += f" with filters: {filters}"
    advice = "Try rephrasing: name the gene, protein, disease or figure you mean"
    return f"{said}. {advice}" + (", or widen the filters." if filters else ".")
