"""Example questions drawn from what is indexed, for the chat's empty state."""

from __future__ import annotations

import re
from collections import Counter

from index.chunking import split_sentences
from index.store import Store

from assistant.extractive import is_entity

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
    for n, (_, text, meta) in enumerate(store.scan(include_documents=True)):
        if n >= SCAN_CHUNKS:
            break
        if meta["kind"] != "paper":
            continue
        for sentence in split_sentences(text):
            names = entities_in(sentence)
            if len(names) >= 2:
                pairs[(names[0], names[1])] += 1
    return pairs


def example_questions(store: Store, limit: int = 3) -> list[str]:
    """A relation question per frequent entity pair, then one about a figure."""
    questions = [f"How does {a} affect {b}?" for (a, b), _ in relation_pairs(store).most_common(limit - 1)]
    for _, _, meta in store.scan(where={"kind": "figure"}):
        if meta.get("title"):
            # "the HER2/ERK/MKP1 figure" is short enough for a chip and still finds the figure
            names = entities_in(meta["title"])[:3]
            subject = "/".join(names) if names else meta["title"][:50].rsplit(" ", 1)[0]
            questions.append(f"What does the {subject} figure show?")
            break
    return questions[:limit]
