"""Answering with a chat model passed in: numbered passages in, cited sentences out, references by us."""

from __future__ import annotations

import re
from typing import Any

from index.chunking import split_sentences
from index.records import Passage

from assistant.citations import body_text, number_sources
from assistant.models import CANNOT_ANSWER, Answer, AnswerSentence
from assistant.prompting import render

_MARKERS = re.compile(r"\s*((?:\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+)")


def numbered(passages: list[Passage]) -> str:
    """Passages as the prompt shows them: '[n] (title) text'."""
    return "\n\n".join(f"[{i}] ({p.record.title or p.record.source_id}) {p.chunk.text}"
                       for i, p in enumerate(passages, start=1))


def cited(sentence: str) -> tuple[str, list[int]]:
    """Strip the [n] markers from a sentence and return them as numbers."""
    numbers = [int(n) for group in _MARKERS.findall(sentence) for n in re.findall(r"\d+", group)]
    return _MARKERS.sub("", sentence).strip(), list(dict.fromkeys(numbers))


def compose_with_llm(question: str, passages: list[Passage], llm: Any) -> Answer:
    """Ask the model, keep only citations of retrieved passages, renumber in order of use."""
    from assistant.answer import abstain, passages_out

    prompt = render("answer", question=question, passages=numbered(passages), cannot_answer=CANNOT_ANSWER)
    reply = str(llm.invoke(prompt).content).strip()
    if not passages or CANNOT_ANSWER.rstrip(".") in reply:
        return abstain(question, passages, mode="llm")
    picks, unsupported = [], []
    for sentence in split_sentences(reply):
        text, numbers = cited(sentence)
        valid = [n for n in numbers if 1 <= n <= len(passages)]
        if valid:  # the first valid passage anchors the sentence's citation
            picks.append((text, passages[valid[0] - 1]))
        else:
            unsupported.append(text)
    sentences, citations = number_sources(picks)
    sentences += [AnswerSentence(text=t, citations=[], supported=False) for t in unsupported]
    return Answer(question=question, answer=body_text(sentences), abstained=False, mode="llm",
                  sentences=sentences, citations=citations, passages=passages_out(passages))
