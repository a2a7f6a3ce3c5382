"""The citation check for generated sentences: a cited passage must be retrieved and must support the sentence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from litassist.index.chunking import split_sentences
from litassist.index.embedding import Encoder
from litassist.index.records import Passage

from litassist.assistant.citations import Supported
from litassist.assistant.terms import coverage, mentions, question_terms


@dataclass
class Draft:
    """One sentence as the model wrote it, with the passage numbers it cited."""

    text: str
    numbers: list[int]


def retrieved(numbers: list[int], passages: list[Passage]) -> list[Passage]:
    """The cited passages that were actually retrieved; numbers outside 1..len(passages) are dropped."""
    return [passages[n - 1] for n in numbers if 1 <= n <= len(passages)]


def missing_entities(sentence: str, passage: Passage) -> list[str]:
    """The sentence's gene/protein-like entities that its passage never mentions (title and genes count)."""
    where = passage.chunk.search_text
    return [e for e in question_terms(sentence).entities if not mentions(where, e)]


def evidence_texts(passage: Passage) -> list[str]:
    """What a sentence is compared with: the whole passage, then each of its sentences."""
    return [passage.chunk.text, *split_sentences(passage.chunk.text)]


def vectors_for(texts: list[str], encoder: Encoder) -> dict[str, np.ndarray]:
    """Unit vectors by text, each distinct text encoded once."""
    unique = list(dict.fromkeys(texts))
    return dict(zip(unique, encoder.encode(unique))) if unique else {}


def best_match(sentence: str, passage: Passage, vectors: dict[str, np.ndarray]) -> tuple[float, str]:
    """The highest cosine with the passage or one of its sentences, and the best sentence (quoted as evidence)."""
    whole, *parts = [(float(vectors[t] @ vectors[sentence]), t) for t in evidence_texts(passage)]
    terms = question_terms(sentence)
    # The quote: similarity, with shared content words breaking MiniLM's preference for short sentences.
    quote = max(parts or [whole], key=lambda pair: pair[0] + 0.2 * coverage(pair[1], terms)[1])[1]
    # A claim drawn from two sentences of a passage can match the whole better than either sentence.
    return max(score for score, _ in [whole, *parts]), quote


def check(drafts: list[Draft], passages: list[Passage], encoder: Encoder, min_similarity: float) -> list[Supported]:
    """Keep, per sentence, only cited passages that were retrieved, name its entities and are similar enough."""
    cited = [retrieved(d.numbers, passages) for d in drafts]
    texts = [d.text for d in drafts] + [t for ps in cited for p in ps for t in evidence_texts(p)]
    vectors = vectors_for(texts, encoder)
    out = []
    for draft, candidates in zip(drafts, cited):
        checked = Supported(draft.text)
        for passage in candidates:
            score, evidence = best_match(draft.text, passage, vectors)
            if score >= min_similarity and not missing_entities(draft.text, passage):
                checked.support.append((passage, evidence))
        out.append(checked)
    return out
