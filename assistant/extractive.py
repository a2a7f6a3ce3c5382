"""The extractive composer: quote the retrieved sentences that answer the question, verbatim, each cited."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litassist.index.embedding import Encoder
from litassist.index.records import Passage
from litassist.index.store import passage_of

from litassist.assistant.abstain import abstain, passages_out
from litassist.assistant.citations import Supported, body_text, number_sources
from litassist.assistant.discourse import asks_for_list
from litassist.assistant.models import Answer, Focus
from litassist.assistant.selection import (Candidate, ChunkFetcher, Sentences, distinct, pick, pick_list, quotable,
                                 reading_order, resolvable, with_antecedents)
from litassist.assistant.settings import AnswerSettings
from litassist.assistant.terms import Terms, coverage, entity_names, mentions, ordinary, question_terms, strong
from litassist.assistant.wording import unmentioned


@dataclass
class Requirement:
    """The entities quoted sentences must name, and whether a strong entity is absent from every passage."""

    terms: Terms
    missing: list[str]


def required(terms: Terms, passages: list[Passage]) -> Requirement:
    """Keep the entities some retrieved passage names (title and genes count); report strong ones none names."""
    texts = [p.chunk.search_text for p in passages]
    present, missing = [], []
    for entity in (e for e in terms.entities if not ordinary(e)):
        if any(mentions(t, entity, terms.names.get(entity, ())) for t in texts):
            present.append(entity)
        elif strong(entity, terms):
            missing.append(entity)
    return Requirement(Terms(present, terms.stems, terms.names), missing)


def answers_question(text: str, terms: Terms, nearby: str = "") -> bool:
    """A sentence must name the question's entities (two of them for a relation question).

    For a relation question the sentence names one entity itself; the other may be named by the passage's title
    or a neighbouring sentence ("…lead to a decrease in PTH secretion" under a title naming CaSR).
    """
    if terms.entities:
        needed = min(2, len(terms.entities))
        named = [e for e in terms.entities if mentions(text, e, terms.names.get(e, ()))]
        if len(named) >= needed:
            return True
        if not named and needed == 2:
            return False
        return any(mentions(nearby, e, terms.names.get(e, ())) for e in terms.entities if e not in named)
    return coverage(text, terms)[1] > 0


def candidates(passages: list[Passage], terms: Terms, split: Sentences) -> list[Candidate]:
    """Sentences of the passages that pass the entity test, without repeats."""
    seen: set[str] = set()
    found = []
    for rank, passage in enumerate(passages):
        sentences = split.of(passage)
        for index, sentence in enumerate(sentences):
            key = re.sub(r"\W+", " ", sentence.lower()).strip()
            nearby = " ".join([passage.chunk.context, *sentences[max(index - 1, 0):index], *sentences[index + 1:index + 2]])
            if key not in seen and quotable(sentence) and answers_question(sentence, terms, nearby):
                seen.add(key)
                found.append(Candidate(sentence, passage, rank, index))
    return found


def score(question: str, found: list[Candidate], terms: Terms, encoder: Encoder) -> None:
    """Cosine similarity to the question, plus small bonuses for covering the question's terms."""
    vectors = encoder.encode([question] + [c.text for c in found])
    for cand, sim in zip(found, vectors[1:] @ vectors[0]):
        entity_share, stem_share = coverage(cand.text, terms)
        # Similarity decides; covering more of the question's terms breaks near-ties.
        cand.similarity = float(sim)
        cand.score = float(sim) + 0.1 * entity_share + 0.1 * stem_share


@dataclass
class Floors:
    """Least question-sentence similarity to quote a sentence, by how well the question's names are anchored."""

    # The values come from AnswerSettings (min_similarity, no_entity_min_similarity, missing_min_similarity).
    entities: float  # the question's named entities appear in the sentence
    no_entities: float  # the question names nothing, so only the wording links them
    missing: float  # a gene-like name of the question appears in no retrieved passage

    def pick(self, need: Requirement) -> float:
        """The floor that applies to this question."""
        if need.missing:
            return max(self.missing, self.entities)
        return self.entities if need.terms.entities else self.no_entities


def with_entities(terms: Terms, entities: list[str], synonyms: dict[str, list[str]] | None) -> Terms:
    """The question's terms with the entities given (a follow-up's resolved ones) instead of its own."""
    return Terms(list(entities), terms.stems, entity_names(entities, synonyms or {}))


def select(question: str, passages: list[Passage], encoder: Encoder, floors: Floors, max_sentences: int,
           relative_cutoff: float, synonyms: dict[str, list[str]] | None = None,
           focus: Focus | None = None, list_sources: int = 0, depth: int | None = None,
           fetch: ChunkFetcher | None = None) -> list[Candidate]:
    """The sentences to quote, in reading order; empty means the evidence is too weak.

    `focus` is given for a follow-up: its standalone query lists the earlier turn's names for retrieval, but quoted
    sentences need name only the ones the follow-up is about; and when a rare word it asks about ("did they try
    neratinib?", "and in gout?") is in no passage, the passages answer the earlier question, not this one.
    `list_sources` > 0 answers a list question with one line for each of at most that many sources; its passages
    may go deeper than the first `depth`, which alone decide the names a quoted sentence must have. `fetch` reads
    the chunk before a retrieved one, for a sentence that opens it with "These effects …".
    """
    terms = question_terms(question, synonyms)
    first = passages[:depth] if depth else passages
    need = required(terms if focus is None else with_entities(terms, focus.entities, synonyms), first)
    if focus is not None and unmentioned(focus.words, first):
        return []
    split = Sentences(passages, fetch)
    found = candidates(passages, need.terms, split)
    if not found:
        return []
    score(question, found, need.terms, encoder)
    floor = floors.pick(need)
    leads = resolvable([c for c in found if c.similarity >= floor], split)  # "The gene may …" and the one before
    found = distinct([c for c in found if id(c) in leads])
    if not found:
        return []
    chosen = (pick_list(found, list_sources, max_sentences) if list_sources
              else pick(found, max_sentences, relative_cutoff))
    return reading_order(with_antecedents(chosen, leads))


def chunk_reader(store: Any) -> Callable[[str, int], Passage | None]:
    """(source id, position) -> that chunk as read from the index, or None."""
    def read(source_id: str, position: int) -> Passage | None:
        where = {"$and": [{"source_id": source_id}, {"position": position}]}
        rows = store.scan(True, where, limit=1)
        return next((passage_of(cid, text, meta, 0.0) for cid, text, meta in rows), None)

    return read


def compose_extractive(question: str, passages: list[Passage], expansions: dict[str, list[str]] | None,
                       encoder: Encoder, settings: AnswerSettings, focus: Focus | None = None,
                       depth: int | None = None, store: Any = None) -> Answer:
    """Quote the sentences that answer the question and cite each one (a synonym in `expansions` counts as a
    mention); a list question gets one line per source. `depth`: the passages a plain question would have had (a
    list goes deeper); `store`: where to read the chunk before a retrieved one, when a sentence opening it needs
    the one before."""
    floors = Floors(settings.min_similarity, settings.no_entity_min_similarity, settings.missing_min_similarity)
    listing = asks_for_list(question)
    chosen = select(question, passages, encoder, floors, settings.max_sentences, settings.relative_cutoff, expansions,
                    focus, settings.list_max_sources if listing else 0, depth,
                    chunk_reader(store) if store is not None else None)
    if not chosen:
        return abstain(question, passages, encoder=encoder, closest=settings.closest_sources)
    form = "list" if listing else "sentences"
    sentences, citations = number_sources([Supported(c.text, [(c.passage, c.text)]) for c in chosen])
    return Answer(question=question, answer=body_text(sentences, form), abstained=False, mode="extractive",
                  form=form, sentences=sentences, citations=citations, passages=passages_out(passages))
