"""A conversation: each follow-up resolved into a standalone query, each answer kept with its sources, notes for all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from litassist.assistant.citations import body_text, markdown_body, markdown_reference, marked, with_pages
from litassist.assistant.errors import check_question
from litassist.assistant.followup import Resolution, Topic, resolve, topic_of
from litassist.assistant.llm import ask_model, first_line, model_label
from litassist.assistant.models import Answer, Citation, Focus
from litassist.assistant.prompting import render

# standalone query, and what a follow-up's answer must be about (None for a self-contained question) -> Answer
Answerer = Callable[[str, Focus | None], Answer]
SEARCHED_FOR = "Searched for"  # the label of the standalone query, in the UI, the CLI and the notes
MAX_QUERY_CHARS = 500  # a rewrite longer than this is not a question but a model gone astray


class Turn(BaseModel):
    """One question of a conversation, the query retrieval used for it, and its answer."""

    turn: int = Field(description="1 for the first question of the conversation, then 2, 3, …")
    question: str = Field(description="The question as the user asked it")
    search_query: str = Field(description="The standalone question retrieval used (the question itself when nothing was carried over)")
    answer: Answer

    @property
    def rewritten(self) -> bool:
        """Whether retrieval searched for something other than the question as asked."""
        return self.search_query != self.question

    @property
    def shows_query(self) -> bool:
        """Show what was searched for: always after a rewrite, and when a follow-up abstains."""
        return self.rewritten or (self.turn > 1 and self.answer.abstained)

    def to_json(self) -> dict[str, Any]:
        """`ask --json`'s object plus search_query and turn (the `chat --json` contract)."""
        return {**self.answer.model_dump(), "search_query": self.search_query, "turn": self.turn}


@dataclass
class Conversation:
    """The turns so far (the last `max_turns` of them), and what each was about."""

    max_turns: int = 20
    max_question_chars: int | None = None  # longer questions are refused before any work (None: no limit)
    turns: list[Turn] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)  # as asked, for a chat model's rewrite
    count: int = 0  # turns asked, including those dropped off the front

    def clear(self) -> None:
        """Start a new conversation."""
        self.turns, self.topics, self.questions, self.count = [], [], [], 0

    def remember(self, question: str, topic: Topic) -> None:
        """Keep what a question was about (the last `max_turns` questions)."""
        self.count += 1
        self.topics = [*self.topics, topic][-self.max_turns:]
        self.questions = [*self.questions, question][-self.max_turns:]

    def add(self, question: str, resolution: Resolution, answer: Answer) -> Turn:
        """Keep a finished turn (and forget the oldest beyond max_turns)."""
        self.remember(question, resolution.topic)
        answer = answer.model_copy(update={"question": question})
        turn = Turn(turn=self.count, question=question, search_query=resolution.search_query, answer=answer)
        self.turns = [*self.turns, turn][-self.max_turns:]
        return turn


def replay(questions: list[str], known: Callable[[str], bool], max_turns: int,
           max_question_chars: int | None = None) -> Conversation:
    """A conversation holding only what earlier questions were about (for an API call that sends its history)."""
    conversation = Conversation(max_turns=max_turns, max_question_chars=max_question_chars)
    for question in questions[-max_turns:]:
        check_question(question.strip(), max_question_chars)
        if question.strip():
            conversation.remember(question.strip(), resolve(question.strip(), conversation.topics, known).topic)
    return conversation


def condense(question: str, conversation: Conversation, llm: Any) -> str:
    """A chat model's standalone version of a follow-up (prompts/condense.md); raises when it gives none."""
    history = "\n".join(f"{i}. {q}" for i, q in enumerate(conversation.questions, start=1)) or "(none)"
    reply = ask_model(llm, render("condense", history=history, question=question))
    line = next((l.strip() for l in reply.splitlines() if l.strip()), "")
    line = line.removeprefix("Standalone question:").strip().strip('"“”').strip()
    if not line or len(line) > MAX_QUERY_CHARS:
        raise ValueError("the model gave no usable question")
    return line


def resolution_for(question: str, conversation: Conversation, known: Callable[[str], bool],
                   llm: Any = None) -> tuple[Resolution, str | None]:
    """The standalone query: the rules decide whether a rewrite is needed; a chat model, if given, writes it."""
    rule = resolve(question, conversation.topics, known)
    if llm is None or not rule.carried:
        return rule, None
    try:
        standalone = condense(question, conversation, llm)
    except Exception as exc:  # unreachable, timeout, empty reply: the rule's query still works
        return rule, (f"The LLM ({model_label(llm)}) could not rewrite the follow-up ({first_line(exc)}); "
                      "searched with the earlier question's terms instead.")
    return Resolution(standalone, topic_of(standalone, known), carried=True), None


def ask(conversation: Conversation, question: str, answer: Answerer,
        known: Callable[[str], bool] = lambda _: False, llm: Any = None) -> Turn:
    """Resolve a question against the conversation, answer its standalone query, and keep the turn."""
    question = question.strip()
    check_question(question, conversation.max_question_chars)
    resolution, note = resolution_for(question, conversation, known, llm)
    result = answer(resolution.search_query, resolution.focus)
    if note:
        result = result.model_copy(update={"note": f"{result.note} {note}" if result.note else note})
    return conversation.add(question, resolution, result)


# --- notes: the whole conversation, one reference list -----------------------------------------


def merged_numbers(turns: list[Turn]) -> dict[str, int]:
    """source id -> its number across the conversation, in order of first citation."""
    numbers: dict[str, int] = {}
    for turn in turns:
        for citation in turn.answer.citations:
            numbers.setdefault(citation.source_id, len(numbers) + 1)
    return numbers


def merged_citations(turns: list[Turn]) -> list[Citation]:
    """Every cited source once, numbered across the conversation, quotes of all turns joined."""
    numbers = merged_numbers(turns)
    merged: dict[str, Citation] = {}
    for turn in turns:
        for c in turn.answer.citations:
            if c.source_id in merged:
                kept = merged[c.source_id]
                if c.quote and c.quote not in kept.quote:
                    kept = kept.model_copy(update={"quote": f"{kept.quote} {c.quote}".strip()})
                merged[c.source_id] = with_pages(kept, c.pages)
            else:
                merged[c.source_id] = c.model_copy(update={"n": numbers[c.source_id]})
    return sorted(merged.values(), key=lambda c: c.n)


def renumbered(answer: Answer, numbers: dict[str, int]) -> str:
    """The answer's text with its markers turned into the conversation's numbers."""
    if answer.abstained or not answer.citations:
        return answer.answer
    local = {c.n: numbers[c.source_id] for c in answer.citations}
    sentences = [s.model_copy(update={"citations": [local.get(n, n) for n in s.citations]}) for s in answer.sentences]
    return body_text([marked(s) for s in sentences], answer.form)


def notes_markdown(turns: list[Turn]) -> str:
    """The conversation for notes: every question and answer, then one merged, de-duplicated reference list."""
    numbers = merged_numbers(turns)
    blocks = []
    for turn in turns:
        block = [f"**Q{turn.turn}. {markdown_body(turn.question)}**"]
        if turn.shows_query:
            block.append(f"*{SEARCHED_FOR}: {markdown_body(turn.search_query)}*")
        block.append(markdown_body(renumbered(turn.answer, numbers)))
        blocks.append("\n\n".join(block))
    refs = "\n".join(markdown_reference(c) for c in merged_citations(turns))
    return "\n\n".join(blocks) + (f"\n\n## References\n\n{refs}" if refs else "") + "\n"


def cited_ids(turns: list[Turn]) -> list[str]:
    """Every source the conversation cited, in the order of the merged reference list."""
    return list(merged_numbers(turns))
