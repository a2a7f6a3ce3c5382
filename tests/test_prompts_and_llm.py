"""Prompt files render strictly (the chat-model tests live in test_llm.py)."""

import pytest

from litassist.assistant.errors import PromptError
from litassist.assistant.models import CANNOT_ANSWER
from litassist.assistant.prompting import available, render, variables


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

