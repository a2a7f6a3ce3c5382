"""The extractive answerer: quote the retrieved sentences that answer the question, verbatim."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import Stemmer

from index.chunking import split_sentences
from index.embedding import Encoder
from index.records import Passage

_STEM = Stemmer.Stemmer("english")
_TOKEN = re.compile(r"[A-Za-z0-9α-ωΑ-Ω][A-Za-z0-9α-ωΑ-Ω\-–—/]*")
# Words that shape a question but carry no topic: matching them proves nothing.
QUESTION_WORDS = set("""
a an the of in on at to for from by with without and or not no is are was were be been being do does did doing
how what which why when where who whom whose whether can could should would may might will shall must
affect affects affected effect effects role roles influence influences relate related relationship between
about any some this that these those it its their there here into than then also such via per
tell explain describe show shows shown mean means known much many more most
""".split())


@dataclass
class Terms:
    """What a question is about: named entities (genes, proteins) and other content-word stems."""

    entities: list[str]
    stems: set[str]


@dataclass
class Candidate:
    """A sentence from a retrieved passage, with where it came from."""

    text: str
    passage: Passage
    rank: int  # passage rank in retrieval
    index: int  # sentence order within the passage
    score: float = 0.0


def is_entity(token: str) -> bool:
    """Gene/protein-like tokens: a digit or two capitals (HER2, CXCR4, JNK, NF-kB)."""
    return any(c.isdigit() for c in token) or sum(c.isupper() for c in token) >= 2


def split_joined(token: str) -> list[str]:
    """'p53-MDM2' -> p53, MDM2; 'HER2-positive' -> HER2, positive; 'NF-kB' stays one token."""
    parts = [p for p in re.split(r"[-–—/]", token) if p]
    splittable = all(is_entity(p) or (p.islower() and len(p) >= 4) for p in parts)
    return parts if len(parts) > 1 and splittable and any(map(is_entity, parts)) else [token.strip("-")]


def question_terms(question: str) -> Terms:
    """Split a question into entities and the stems of its other content words."""
    tokens = [part for t in _TOKEN.findall(question) for part in split_joined(t)]
    entities = list(dict.fromkeys(t for t in tokens if t and is_entity(t)))
    words = [t.lower() for t in tokens if t and not is_entity(t) and t.lower() not in QUESTION_WORDS and len(t) > 2]
    return Terms(entities, set(_STEM.stemWords(words)))


def mentions(text: str, entity: str) -> bool:
    """Whole-token, case-insensitive mention ('HER2-mediated' mentions HER2)."""
    # Any dash in the entity matches any dash in the text (NF-kB vs NF–kB).
    pattern = re.sub(r"\\[-–—]|[-–—]", "[-–—]", re.escape(entity))
    return re.search(rf"(?<![A-Za-z0-9]){pattern}(?![A-Za-z0-9])", text, re.IGNORECASE) is not None


def coverage(text: str, terms: Terms) -> tuple[float, float]:
    """Share of the question's entities and content stems that a sentence contains."""
    found = sum(mentions(text, e) for e in terms.entities)
    entity_share = found / len(terms.entities) if terms.entities else 0.0
    stems = set(_STEM.stemWords([t.lower() for t in _TOKEN.findall(text)]))
    stem_share = len(terms.stems & stems) / len(terms.stems) if terms.stems else 0.0
    return entity_share, stem_share


def answers_question(text: str, terms: Terms) -> bool:
    """A sentence must name the question's entities (two of them for a relation question)."""
    if terms.entities:
        needed = min(2, len(terms.entities))
        return sum(mentions(text, e) for e in terms.entities) >= needed
    return coverage(text, terms)[1] > 0


def quotable(sentence: str) -> bool:
    """A statement worth quoting: long enough, and not a caption's abbreviation glossary."""
    glossary = sentence.count(";") >= 2 or sentence.rstrip().endswith((";", ",", ":"))
    return len(sentence) > 20 and not glossary and not sentence.lower().startswith("abbreviations")


def candidates(passages: list[Passage], terms: Terms) -> list[Candidate]:
    """Sentences of the passages that pass the entity test, without repeats."""
    seen: set[str] = set()
    found = []
    for rank, passage in enumerate(passages):
        for index, sentence in enumerate(split_sentences(passage.chunk.text)):
            key = re.sub(r"\W+", " ", sentence.lower()).strip()
            if key not in seen and quotable(sentence) and answers_question(sentence, terms):
                seen.add(key)
                found.append(Candidate(sentence, passage, rank, index))
    return found


def score(question: str, found: list[Candidate], terms: Terms, encoder: Encoder) -> np.ndarray:
    """Cosine similarity to the question, for each candidate."""
    vectors = encoder.encode([question] + [c.text for c in found])
    similarity = vectors[1:] @ vectors[0]
    for cand, sim in zip(found, similarity):
        entity_share, stem_share = coverage(cand.text, terms)
        # Similarity decides; covering more of the question's terms breaks near-ties.
        cand.score = float(sim) + 0.1 * entity_share + 0.1 * stem_share
    return similarity


def select(question: str, passages: list[Passage], encoder: Encoder, min_similarity: float,
           max_sentences: int, relative_cutoff: float) -> list[Candidate]:
    """The sentences to quote, in reading order; empty means the evidence is too weak."""
    terms = question_terms(question)
    found = candidates(passages, terms)
    if not found:
        return []
    similarity = score(question, found, terms, encoder)
    if float(similarity.max()) < min_similarity:
        return []
    best = max(c.score for c in found)
    chosen = sorted((c for c in found if c.score >= relative_cutoff * best), key=lambda c: -c.score)
    chosen = chosen[:max_sentences]
    # Readable order: sources by their best quote, then each source's sentences in document order.
    first = {}
    for cand in chosen:
        first.setdefault(cand.passage.record.source_id, len(first))
    return sorted(chosen, key=lambda c: (first[c.passage.record.source_id], c.passage.chunk.position, c.index))
