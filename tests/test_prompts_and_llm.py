"""Prompt files render strictly; a chat model plugged into the chain gets citations checked and renumbered."""

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant.answer import answer
from assistant.errors import PromptError
from assistant.models import CANNOT_ANSWER
from assistant.prompting import available, render, variables
from assistant.retrieval import HybridRetriever


@pytest.mark.parametrize("name", available())
def test_every_prompt_renders_with_its_variables(name):
    values = {v: f"<{v}>" for v in variables(name)}
    text = render(name, **values)
    assert all(f"<{v}>" in text for v in values) and "{" not in text


def test_missing_or_unknown_variable_is_an_error():
    with pytest.raises(PromptError, match="needs passages"):
        render("answer", question="q", cannot_answer=CANNOT_ANSWER)
    with pytest.raises(PromptError, match="no variable colour"):
        render("answer", question="q", passages="p", cannot_answer="c", colour="red")
    with pytest.raises(PromptError, match="no prompt named 'nope'"):
        render("nope")


def test_answer_prompt_states_the_shared_cannot_answer_phrase():
    text = render("answer", question="Q?", passages="[1] P", cannot_answer=CANNOT_ANSWER)
    assert f"reply with exactly: {CANNOT_ANSWER}" in text


def test_chat_model_answer_keeps_only_citations_of_retrieved_passages(store, encoder):
    retriever = HybridRetriever(store=store, encoder=encoder, k=3)
    llm = FakeListChatModel(responses=["HER2 raises CXCR4 levels [1]. It also cures everything [9]."])
    result = answer("How does HER2 affect CXCR4?", retriever, llm=llm)
    assert result.mode == "llm" and not result.abstained
    assert [c.n for c in result.citations] == [1]
    assert result.sentences[0].text == "HER2 raises CXCR4 levels." and result.sentences[0].citations == [1]
    assert result.sentences[1].supported is False and result.sentences[1].citations == []
    assert result.answer == "HER2 raises CXCR4 levels [1]. It also cures everything."


def test_chat_model_that_cannot_answer_abstains(store, encoder):
    retriever = HybridRetriever(store=store, encoder=encoder, k=3)
    result = answer("What is the capital of France?", retriever, llm=FakeListChatModel(responses=[CANNOT_ANSWER]))
    assert result.abstained and result.mode == "llm" and result.answer == CANNOT_ANSWER
