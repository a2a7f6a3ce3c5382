"""The answer chain, wiring only: question -> retrieve -> compose (extractive, or a chat model passed in) -> Answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from litassist.index.bm25 import SearchFilter
from litassist.index.records import Passage

from litassist.assistant.abstain import hint
from litassist.assistant.discourse import asks_for_list, listed_kind
from litassist.assistant.extractive import compose_extractive
from litassist.assistant.generate import compose_with_llm
from litassist.assistant.models import Answer, Focus
from litassist.assistant.retrieval import HybridRetriever
from litassist.assistant.settings import AnswerSettings

if TYPE_CHECKING:  # the runnables load only for a chat model: an extractive answer calls the two steps itself
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.runnables import Runnable


@dataclass
class Retrieved:
    """What retrieval hands a composer: the question, what a follow-up is about, the passages, the synonyms that
    expanded the query, and how many passages a plain (non-list) question gets."""

    question: str
    focus: Focus | None
    passages: list[Passage]
    expansions: dict[str, list[str]]
    depth: int


def retrieve_step(retriever: HybridRetriever, list_depth: int = 0) -> Callable[[str | dict[str, Any]], Retrieved]:
    """question (or {question, focus}) -> Retrieved; a list question retrieves `list_depth` passages when that is
    more than the retriever's k."""
    def run(query: str | dict[str, Any]) -> Retrieved:
        question, focus = (query, None) if isinstance(query, str) else (query["question"], query["focus"])
        return Retrieved(question, focus, for_list(question).search(question), retriever.expansions(question),
                         retriever.k)

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


def compose_step(retriever: HybridRetriever, settings: AnswerSettings, llm: Any = None) -> Callable[[Retrieved], Answer]:
    """Retrieved -> Answer: quoted, or (with `llm`) written by the model."""
    def compose(found: Retrieved) -> Answer:
        if llm is not None:
            result = compose_with_llm(found.question, found.passages, found.expansions, llm, retriever.encoder,
                                      settings, found.focus, retriever.store)
        else:
            result = compose_extractive(found.question, found.passages, found.expansions, retriever.encoder,
                                        settings, found.focus, found.depth, retriever.store)
        return with_expansions(result, found.expansions, retriever.where)

    return compose


def build_chain(retriever: HybridRetriever, settings: AnswerSettings, llm: Any = None) -> Runnable:
    """question -> Retrieved -> Answer, as a LangChain runnable; with `llm`, the model writes the answer."""
    from langchain_core.runnables import RunnableLambda

    compose = compose_step(retriever, settings, llm)
    # A list question goes deeper only when quoting: a chat model reads the first k passages.
    return RunnableLambda(retrieve_step(retriever, 0 if llm is not None else settings.list_passages)) | RunnableLambda(
        compose)


def chain_input(question: str, focus: Focus | None = None) -> str | dict[str, Any]:
    """What the chain takes: the question, or a follow-up's standalone query with what it is about."""
    return question.strip() if focus is None else {"question": question.strip(), "focus": focus}


def answer(question: str, retriever: HybridRetriever, llm: Any = None, settings: AnswerSettings | None = None,
           focus: Focus | None = None, callbacks: list[BaseCallbackHandler] | None = None) -> Answer:
    """Answer one question with citations (`focus`: what a follow-up's answer must be about, see select();
    `callbacks` see a chat model's tokens as they arrive)."""
    settings = settings or AnswerSettings()
    if llm is None and not callbacks:  # the two steps called directly: no LangChain import for a quoted answer
        found = retrieve_step(retriever, settings.list_passages)(chain_input(question, focus))
        return compose_step(retriever, settings)(found)
    config: Any = {"callbacks": callbacks} if callbacks else {}
    return build_chain(retriever, settings, llm).invoke(chain_input(question, focus), config)


def answering(retriever: HybridRetriever, settings: AnswerSettings, llm: Any = None,
              callbacks: list[BaseCallbackHandler] | None = None) -> Callable[[str, Focus | None], Answer]:
    """What a conversation asks with: (standalone query, focus) -> Answer over one retriever."""
    return lambda question, focus=None: answer(question, retriever, llm, settings, focus, callbacks)
