"""The answer chain: question -> retrieve -> compose (extractive, or a chat model passed in) -> Answer."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from index.records import Passage

from assistant.citations import body_text, number_sources
from assistant.extractive import select
from assistant.models import CANNOT_ANSWER, Answer, PassageOut
from assistant.retrieval import HybridRetriever, passages_from
from assistant.settings import AnswerSettings


def passages_out(passages: list[Passage]) -> list[PassageOut]:
    """Retrieved passages as reported to the user."""
    return [PassageOut(source_id=p.chunk.source_id, kind=p.chunk.kind, text=p.chunk.text, score=p.score)
            for p in passages]


def abstain(question: str, passages: list[Passage], mode: str = "extractive") -> Answer:
    """The plain 'cannot answer' answer, with what was retrieved for transparency."""
    return Answer(question=question, answer=CANNOT_ANSWER, abstained=True, mode=mode,
                  passages=passages_out(passages))


def compose_extractive(question: str, passages: list[Passage], encoder: Any, settings: AnswerSettings) -> Answer:
    """Quote the sentences that answer the question and cite each one."""
    chosen = select(question, passages, encoder, settings.min_similarity, settings.max_sentences,
                    settings.relative_cutoff)
    if not chosen:
        return abstain(question, passages)
    sentences, citations = number_sources([(c.text, c.passage) for c in chosen])
    return Answer(question=question, answer=body_text(sentences), abstained=False, mode="extractive",
                  sentences=sentences, citations=citations, passages=passages_out(passages))


def build_chain(retriever: HybridRetriever, settings: AnswerSettings, llm: Any = None) -> Runnable:
    """question -> {question, passages} -> Answer, as a LangChain runnable."""
    retrieve = RunnableLambda(lambda q: {"question": q, "passages": passages_from(retriever.invoke(q))})
    if llm is not None:
        from assistant.generate import compose_with_llm

        return retrieve | RunnableLambda(
            lambda x: compose_with_llm(x["question"], x["passages"], llm, retriever.encoder, settings))
    compose = RunnableLambda(
        lambda x: compose_extractive(x["question"], x["passages"], retriever.encoder, settings))
    return retrieve | compose


def answer(question: str, retriever: HybridRetriever, llm: Any = None,
           settings: AnswerSettings | None = None) -> Answer:
    """Answer one question with citations."""
    return build_chain(retriever, settings or AnswerSettings(), llm).invoke(question.strip())
