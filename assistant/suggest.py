"""Example questions drawn from what is indexed, for the chat's empty state."""

from __future__ import annotations

import re
from collections import Counter

from litassist.index.chunking import split_sentences
from litassist.index.store import Store

from litassist.assistant.terms import is_entity

MIN_TITLE, MAX_TITLE = 20, 80  # a figure title shown in an example question: readable, and short enough for a chip
UNINFORMATIVE = ("graphical abstract", "figure", "schematic", "summary", "overview")
SCAN_CHUNKS = 2000  # enough text to find the corpus's main relations without reading a large index
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9]")
# All-capital words that are not genes: units, study labels, common abbreviations.
_NOT_GENES = {"DNA", "RNA", "MRNA", "USA", "UK", "OR", "HR", "CI", "IGG", "IGG1", "II", "III", "IV", "PCR", "FDA"}


def entities_in(sentence: str) -> list[str]:
    """Gene-like names in order of appearance, each once."""
    found = [t.split("-")[0] for t in _TOKEN.findall(sentence)]
    return list(dict.fromkeys(t for t in found if is_entity(t) and t.upper() not in _NOT_GENES and not t.isdigit()))


def relation_pairs(store: Store) -> Counter:
    """How often two entities are named in one sentence (subject first) across paper chunks."""
    pairs: Counter = Counter()
    for _, text, meta in store.scan(include_documents=True, limit=SCAN_CHUNKS):
        if meta["kind"] != "paper":
            continue
        for sentence in split_sentences(text):
            names = entities_in(sentence)
            if len(names) >= 2:
                pairs[(names[0], names[1])] += 1
    return pairs


def figure_question(title: str) -> str | None:
    """'What does the figure on "Hippo signaling network in mammals" show?' for a title a reader can take in."""
    title = " ".join(title.split()).strip("'\" .")
    if not MIN_TITLE <= len(title) <= MAX_TITLE or title.lower().startswith(UNINFORMATIVE):
        return None
    return f"What does the figure “{title}” show?"


def example_questions(store: Store, limit: int = 4) -> list[str]:
    """Relation questions for the papers' most frequent entity pairs, then questions about figures, `limit` in all."""
    questions = [f"How does {a} affect {b}?" for (a, b), _ in relation_pairs(store).most_common(limit // 2)]
    seen: set[str] = set()
    for _, _, meta in store.scan(where={"kind": "figure"}, limit=SCAN_CHUNKS):
        if len(questions) >= limit:
            break
        title = meta.get("title") or ""
        if title not in seen and (question := figure_question(title)):
            seen.add(title)
            questions.append(question)
    return questions[:limit]
