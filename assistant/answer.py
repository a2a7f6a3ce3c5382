"""The answer chain: question -> retrieve -> compose (extractive, or a chat model passed in) -> Answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from index.bm25 import SearchFilter
from index.records import Passage
from index.store import passage_of

from assistant.abstain import closest_sources, hint
from assistant.citations import body_text, number_sources
from assistant.discourse import asks_for_list, listed_kind
from assistant.extractive import Floors, select
from assistant.models import CANNOT_ANSWER, Answer, Focus, PassageOut
from assistant.retrieval import HybridRetriever
from assistant.settings import AnswerSettings

if TYPE_CHECKING:  # the chain's runnables load only for a chat model: an extractive answer calls the steps itself
    from langchain_core.runnables import Runnable


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


def chunk_reader(store: Any) -> Callable[[str, int], Passage | None]:
    """(source id, position) -> that chunk as read from the index, or None."""
    def read(source_id: str, position: int) -> Passage | None:
        where = {"$and": [{"source_id": source_id}, {"position": position}]}
        return next((passage_of(cid, text, meta, 0.0) for cid, text, meta in store.scan(True, where)), None)

    return read


def compose_extractive(question: str, passages: list[Passage], encoder: Any, settings: AnswerSettings,
                       synonyms: dict[str, list[str]] | None = None, focus: Focus | None = None,
                       depth: int | None = None, store: Any = None) -> Answer:
    """Quote the sentences that answer the question and cite each one (a synonym counts as a mention); a list
    question gets one line per source. `depth`: the passages a plain question would have had (a list goes deeper);
    `store`: where to read the chunk before a retrieved one, when a sentence opening it needs the one before."""
    floors = Floors(settings.min_similarity, settings.no_entity_min_similarity, settings.missing_min_similarity)
    listing = asks_for_list(question)
    chosen = select(question, passages, encoder, floors, settings.max_sentences, settings.relative_cutoff, synonyms,
                    focus, settings.list_max_sources if listing else 0, depth,
                    chunk_reader(store) if store is not None else None)
    if not chosen:
        return abstain(question, passages, encoder=encoder, closest=settings.closest_sources)
    form = "list" if listing else "sentences"
    sentences, citations = number_sources([(c.text, c.passage) for c in chosen])
    return Answer(question=question, answer=body_text(sentences, form), abstained=False, mode="extractive",
                  form=form, sentences=sentences, citations=citations, passages=passages_out(passages))


def retrieve_step(retriever: HybridRetriever, list_depth: int = 0) -> Callable[[str | dict[str, Any]], dict[str, Any]]:
    """question (or {question, focus}) -> {question, focus, passages, expansions, depth}; a list question
    retrieves `list_depth` passages when that is more than the retriever's k."""
    def run(query: str | dict[str, Any]) -> dict[str, Any]:
        question, focus = (query, None) if isinstance(query, str) else (query["question"], query["focus"])
        return {"question": question, "focus": focus, "passages": for_list(question).search(question),
                "expansions": retriever.expansions(question), "depth": retriever.k}

    def for_list(question: str) -> HybridRetriever:
        """The retriever for a list question: deeper, and limited to the kind of source it asks for ('Which
        figures …') unless a filter already sets the kind."""
        if not list_depth or not asks_for_list(question):
            return retriever
        where = retriever.where or SearchFilter()
        kind = listed_kind(question)
        if kind and not where.kind:
            where = replace(where, kind=kind)
        return retriever.model_copy(update={"k": max(list_depth, retriever.k), "where": where})

    return run


def with_expansions(result: Answer, expansions: dict[str, list[str]], where: SearchFilter | None = None) -> Answer:
    """The answer, reporting which synonyms expanded the question; an abstention also says what was searched."""
    update: dict[str, Any] = {"expansions": expansions}
    if result.abstained:
        update["hint"] = hint(result.question, where, expansions)
    return result.model_copy(update=update)


def extractive_step(retriever: HybridRetriever, settings: AnswerSettings) -> Callable[[dict[str, Any]], Answer]:
    """{question, focus, passages, expansions, depth} -> the extractive Answer."""
    return lambda x: with_expansions(compose_extractive(
        x["question"], x["passages"], retriever.encoder, settings, x["expansions"], x["focus"], x["depth"],
        retriever.store), x["expansions"], retriever.where)


def build_chain(retriever: HybridRetriever, settings: AnswerSettings, llm: Any = None) -> Runnable:
    """question -> {question, passages, expansions} -> Answer, as a LangChain runnable."""
    from langchain_core.runnables import RunnableLambda

    if llm is not None:
        from assistant.generate import compose_with_llm

        return RunnableLambda(retrieve_step(retriever)) | RunnableLambda(lambda x: with_expansions(
            compose_with_llm(x["question"], x["passages"], llm, retriever.encoder, settings), x["expansions"],
            retriever.where))
    return RunnableLambda(retrieve_step(retriever, settings.list_passages)) | extractive_step(retriever, settings)


def chain_input(question: str, focus: Focus | None = None) -> str | dict[str, Any]:
    """What the chain takes: the question, or a follow-up's standalone query with what it is about."""
    return question.strip() if focus is None else {"question": question.strip(), "focus": focus}


def answer(question: str, retriever: HybridRetriever, llm: Any = None,
           settings: AnswerSettings | None = None, focus: Focus | None = None) -> Answer:
    """Answer one question with citations (`focus`: what a follow-up's answer must be about, see select())."""
    settings = settings or AnswerSettings()
    if llm is None:  # the chain's two steps called directly: LangChain is not imported for an extractive answer
        return extractive_step(retriever, settings)(retrieve_step(retriever, settings.list_passages)(
            chain_input(question, focus)))
    return build_chain(retriever, settings, llm).invoke(chain_input(question, focus))


def answering(retriever: HybridRetriever, settings: AnswerSettings, llm: Any = None
              ) -> Callable[[str, Focus | None], Answer]:
    """What a conversation asks with: (standalone query, focus) -> Answer over one retriever."""
    return lambda question, focus=None: answer(question, retriever, llm, settings, focus)
