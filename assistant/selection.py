"""Choosing among the sentences that passed the entity test: each statement once, the best ones, a list's one line
per source, and a sentence that leans on the one before it quoted with that sentence or not at all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from litassist.index.chunking import split_sentences
from litassist.index.records import Passage

from litassist.assistant.discourse import dangling
from litassist.assistant.wording import content_words, repeats

MAX_ANTECEDENTS = 2  # sentences brought back to resolve one that opens with "The gene" or "These effects"


@dataclass
class Candidate:
    """A sentence from a retrieved passage, with where it came from."""

    text: str
    passage: Passage
    rank: int  # passage rank in retrieval
    index: int  # sentence order within the passage
    score: float = 0.0
    similarity: float = 0.0


def distinct(found: list[Candidate]) -> list[Candidate]:
    """Each statement once, in its best-scoring wording (a conclusion that restates the abstract is not quoted too)."""
    kept: list[Candidate] = []
    seen: list[frozenset[str]] = []
    for cand in sorted(found, key=lambda c: -c.score):
        words = content_words(cand.text)
        if not repeats(words, seen):
            seen.append(words)
            kept.append(cand)
    return kept


def reading_order(chosen: list[Candidate]) -> list[Candidate]:
    """Sources in retrieval order (the best-ranked source is cited first), each source's sentences in text order."""
    rank: dict[str, int] = {}
    for cand in chosen:
        sid = cand.passage.record.source_id
        rank[sid] = min(rank.get(sid, cand.rank), cand.rank)
    return sorted(chosen, key=lambda c: (rank[c.passage.record.source_id], c.passage.chunk.position, c.index))


def pick(found: list[Candidate], max_sentences: int, relative_cutoff: float) -> list[Candidate]:
    """The best-scoring sentences, plus the best one of the best-ranked passage that has a candidate."""
    best = max(c.score for c in found)
    chosen = sorted((c for c in found if c.score >= relative_cutoff * best), key=lambda c: -c.score)
    chosen = chosen[:max_sentences]
    # Retrieval ranks whole passages (BM25 and dense, title included) better than one sentence's similarity
    # does: the top passage leads the answer when it has a quotable sentence at all.
    top = min(c.rank for c in found)
    if all(c.rank != top for c in chosen):
        lead = max((c for c in found if c.rank == top), key=lambda c: c.score)
        chosen = [lead, *chosen[: max_sentences - 1]]
    return chosen



def quotable(sentence: str) -> bool:
    """A statement worth quoting: long enough, and not a caption's abbreviation glossary."""
    glossary = sentence.count(";") >= 2 or sentence.rstrip().endswith((";", ",", ":"))
    return len(sentence) > 20 and not glossary and not sentence.lower().startswith("abbreviations")


def pick_list(found: list[Candidate], max_sources: int, max_sentences: int) -> list[Candidate]:
    """A list question's answer: one line per source in retrieval order, each with its best sentence; while
    sentences are fewer than `max_sentences`, the listed sources' next-best sentences fill the free slots."""
    ranked: dict[str, list[Candidate]] = {}
    rank: dict[str, int] = {}
    for cand in sorted(found, key=lambda c: -c.score):
        sid = cand.passage.record.source_id
        ranked.setdefault(sid, []).append(cand)
        rank[sid] = min(rank.get(sid, cand.rank), cand.rank)
    listed = sorted(ranked, key=rank.__getitem__)[:max_sources]
    chosen = [ranked[sid][0] for sid in listed]
    more = sorted((c for sid in listed for c in ranked[sid][1:]), key=lambda c: -c.score)
    return chosen + more[: max(0, max_sentences - len(chosen))]


ChunkFetcher = Callable[[str, int], "Passage | None"]  # (source id, position) -> that chunk from the index


class Sentences:
    """The sentences of each retrieved passage, to find the one before a given sentence; `fetch` reads a chunk
    that was not retrieved from the index."""

    def __init__(self, passages: list[Passage], fetch: ChunkFetcher | None = None) -> None:
        self.chunks: dict[tuple[str, int], tuple[int, Passage, list[str]]] = {}
        self.fetch = fetch
        for rank, passage in enumerate(passages):
            key = (passage.chunk.source_id, passage.chunk.position)
            self.chunks.setdefault(key, (rank, passage, split_sentences(passage.chunk.text)))

    def of(self, passage: Passage) -> list[str]:
        """A retrieved passage's sentences."""
        return self.chunks[(passage.chunk.source_id, passage.chunk.position)][2]

    def before(self, cand: Candidate) -> Candidate | None:
        """The sentence before: in the same passage, else the last of the source's previous chunk (retrieved, or
        read from the index; it goes with the source's citation)."""
        if cand.index > 0:
            return Candidate(self.of(cand.passage)[cand.index - 1], cand.passage, cand.rank, cand.index - 1)
        key = (cand.passage.chunk.source_id, cand.passage.chunk.position - 1)
        if key[1] < 0:
            return None
        if key not in self.chunks and self.fetch is not None and (found := self.fetch(*key)) is not None:
            self.chunks[key] = (cand.rank, found, split_sentences(found.chunk.text))
        rank, passage, sentences = self.chunks.get(key, (0, cand.passage, []))
        return Candidate(sentences[-1], passage, rank, len(sentences) - 1) if sentences else None


def antecedents(cand: Candidate, sentences: Sentences) -> list[Candidate] | None:
    """The sentences a dangling one needs before it, back to one that stands alone (none for a sentence that
    stands alone, or that opens its source: a snippet, a first line, text after an elided '…', where the source
    says nothing before it); None when more than MAX_ANTECEDENTS would be needed: it is not quoted."""
    needed: list[Candidate] = []
    current = cand
    while dangling(current.text):
        earlier = sentences.before(current)
        if earlier is None or not quotable(earlier.text):
            return needed
        if len(needed) == MAX_ANTECEDENTS:
            return None
        needed.insert(0, earlier)
        current = earlier
    return needed


def resolvable(found: list[Candidate], sentences: Sentences) -> dict[int, list[Candidate]]:
    """Each candidate that can be quoted (by id) with the sentences it needs before it."""
    leads = {id(c): antecedents(c, sentences) for c in found}
    return {key: lead for key, lead in leads.items() if lead is not None}


def with_antecedents(chosen: list[Candidate], leads: dict[int, list[Candidate]]) -> list[Candidate]:
    """The chosen sentences, each preceded by the sentences it leans on (each sentence once)."""
    out: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for cand in chosen:
        for one in [*leads.get(id(cand), []), cand]:
            key = (one.passage.chunk.id, one.index)
            if key not in seen:
                seen.add(key)
                out.append(one)
    return out
