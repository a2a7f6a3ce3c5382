"""Answering with a chat model passed in: fenced numbered passages in, checked cited sentences out, references by us."""

from __future__ import annotations

import re
from typing import Any

from litassist.index.chunking import split_sentences
from litassist.index.embedding import Encoder
from litassist.index.records import Passage

from litassist.assistant.abstain import abstain, passages_out
from litassist.assistant.citation_check import Draft, check
from litassist.assistant.citations import body_text, marked, number_sources
from litassist.assistant.extractive import compose_extractive
from litassist.assistant.llm import ask_model, first_line, model_label
from litassist.assistant.models import CANNOT_ANSWER, Answer, Focus
from litassist.assistant.prompting import render
from litassist.assistant.settings import AnswerSettings

_GROUP = r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]"
_MARKERS = re.compile(rf"\s*((?:{_GROUP})+)")
_LEADING = re.compile(rf"^\s*((?:{_GROUP})+)")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
# Inside passages: anything that could close or open our fence, and numeric brackets that look like our markers.
_FENCE = re.compile(r"</?\s*passages?\b[^>]*>?", re.IGNORECASE)
_REF = re.compile(rf"({_GROUP})")
MAX_RANGE = 20  # '[1-3]' expands; a runaway '[1-9999]' does not


def neutral(text: str) -> str:
    """Passage text that cannot close its fence, and whose own '[7]' references cannot pass for ours."""
    text = _FENCE.sub(" ", text)
    return _REF.sub(lambda m: "(ref. " + m.group(1).strip("[] ") + ")", text)


def numbered(passages: list[Passage]) -> str:
    """Passages as the prompt shows them: each fenced in <passage id="n" source="title"> … </passage>."""
    blocks = []
    for i, p in enumerate(passages, start=1):
        title = neutral(p.record.title or p.record.source_id).replace('"', "'")
        blocks.append(f'<passage id="{i}" source="{title}">\n{neutral(p.chunk.text)}\n</passage>')
    return "\n\n".join(blocks)


def prompt_for(question: str, passages: list[Passage]) -> str:
    """The answer prompt filled with the question and the fenced passages."""
    return render("answer", question=question, passages=numbered(passages), cannot_answer=CANNOT_ANSWER)


def numbers_in(markers: str) -> list[int]:
    """'[1, 3][4-5]' -> [1, 3, 4, 5], each number once."""
    found: list[int] = []
    for low, high in re.findall(r"(\d+)(?:\s*[–-]\s*(\d+))?", markers):
        start, end = int(low), int(high or low)
        found += range(start, min(max(end, start), start + MAX_RANGE) + 1)
    return list(dict.fromkeys(found))


def cited(sentence: str) -> tuple[str, list[int]]:
    """Strip the [n] markers from a sentence and return them as numbers."""
    numbers = numbers_in(" ".join(_MARKERS.findall(sentence)))
    return _MARKERS.sub("", sentence).strip(), numbers


def drafts(reply: str) -> list[Draft]:
    """The reply's sentences with their cited numbers; markers opening a sentence belong to the one before."""
    out: list[Draft] = []
    for sentence in split_sentences(reply):
        sentence = _BULLET.sub("", sentence)
        if (lead := _LEADING.match(sentence)) and out:
            out[-1].numbers += [n for n in numbers_in(lead.group(1)) if n not in out[-1].numbers]
            sentence = sentence[lead.end():]
        text, numbers = cited(sentence)
        if re.search(r"\w", text):
            out.append(Draft(text, numbers))
    return out


def unsupported_note(count: int, dropped: bool) -> str | None:
    """What the citation check did, for the user; None when every sentence passed."""
    if not count:
        return None
    what = "left out" if dropped else "marked (unsupported)"
    return f"{count} sentence(s) from the LLM not supported by the retrieved passages they cite: {what}."


def checked_answer(question: str, passages: list[Passage], found: list[Draft], encoder: Encoder,
                   settings: AnswerSettings) -> Answer:
    """The model's sentences after the citation check, renumbered in order of use."""
    checked = check(found, passages, encoder, settings.support_min_similarity)
    bad = sum(not c.supported for c in checked)
    if settings.drop_unsupported:
        checked = [c for c in checked if c.supported]
    if not checked:  # nothing left to show: say so rather than show an empty answer
        note = unsupported_note(bad, dropped=True) or "The LLM gave an empty reply."
        return abstain(question, passages, "llm", encoder, settings.closest_sources).model_copy(update={"note": note})
    sentences, citations = number_sources(checked)
    return Answer(question=question, answer=body_text([marked(s) for s in sentences]), abstained=False,
                  mode="llm", note=unsupported_note(bad, settings.drop_unsupported), sentences=sentences,
                  citations=citations, passages=passages_out(passages))


def fallback(question: str, passages: list[Passage], expansions: dict[str, list[str]] | None, llm: Any,
             exc: Exception, encoder: Encoder, settings: AnswerSettings, focus: Focus | None = None,
             store: Any = None) -> Answer:
    """The extractive answer to the same question (synonyms, focus and all), with a note saying the LLM failed and
    why."""
    result = compose_extractive(question, passages, expansions, encoder, settings, focus, store=store)
    note = f"The LLM ({model_label(llm)}) failed ({first_line(exc)}); this is the extractive answer instead."
    return result.model_copy(update={"note": note})


def compose_with_llm(question: str, passages: list[Passage], expansions: dict[str, list[str]] | None, llm: Any,
                     encoder: Encoder, settings: AnswerSettings | None = None, focus: Focus | None = None,
                     store: Any = None) -> Answer:
    """Ask the model, check every sentence against the passages it cites; on failure answer extractively (which
    is where `expansions`, `focus` and `store` are used: the model reads the passages themselves)."""
    settings = settings or AnswerSettings()
    if not passages:
        return abstain(question, passages, mode="llm")
    try:
        reply = ask_model(llm, prompt_for(question, passages))
    except Exception as exc:  # unreachable server, timeout, bad key, rate limit: all fall back, none crash
        return fallback(question, passages, expansions, llm, exc, encoder, settings, focus, store)
    if CANNOT_ANSWER.rstrip(".").lower() in reply.lower():
        return abstain(question, passages, "llm", encoder, settings.closest_sources)
    return checked_answer(question, passages, drafts(reply), encoder, settings)
