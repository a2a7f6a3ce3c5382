"""A BM25 index (bm25s) over chunk texts, persisted with the chunk ids and the fields filters need."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer

_STEMMER = Stemmer.Stemmer("english")
_META = "litassist.json"
_REMEMBERED = 16  # filters whose mask and admitted ids an index keeps (the UI repeats the same few)


def tokenize(texts: list[str], as_ids: bool = False) -> Any:
    """English stop words removed, Snowball-stemmed; gene names like HER2 survive as tokens. Queries and the index
    go through this one function, since they must be tokenized alike (`as_ids`: bm25s's form for indexing)."""
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, return_ids=as_ids, show_progress=False)


@dataclass
class ChunkFacts:
    """Per-chunk fields that retrieval filters on."""

    kind: str
    year: int | None = None
    organisms: list[str] = field(default_factory=list)
    study_types: list[str] = field(default_factory=list)
    species: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)  # Zotero collections and tags (index/loaders/zotero.py)
    tags: list[str] = field(default_factory=list)


@dataclass
class SearchFilter:
    """Metadata filter applied to both dense and BM25 retrieval."""

    kind: str | None = None
    organism: str | None = None
    year_min: int | None = None
    year_max: int | None = None
    study_type: str | None = None  # a word of index.study.STUDY_TYPES
    species: str | None = None  # a word of index.study.SPECIES
    collection: str | None = None  # a Zotero collection's name, as written there
    tag: str | None = None  # a Zotero tag, as written there

    def admits(self, facts: ChunkFacts) -> bool:
        """Whether a chunk with these facts passes the filter (unknown years fail a year filter)."""
        if self.kind and facts.kind != self.kind:
            return False
        if self.organism and self.organism.lower() not in (o.lower() for o in facts.organisms):
            return False
        if self.study_type and self.study_type not in facts.study_types:
            return False
        if self.species and self.species not in facts.species:
            return False
        if (self.collection and self.collection not in facts.collections) or (self.tag and self.tag not in facts.tags):
            return False
        if self.year_min is not None and (facts.year is None or facts.year < self.year_min):
            return False
        return self.year_max is None or (facts.year is not None and facts.year <= self.year_max)

    @property
    def empty(self) -> bool:
        """True when nothing is filtered."""
        return not (self.kind or self.organism or self.study_type or self.species or self.collection or self.tag
                    or self.year_min is not None or self.year_max is not None)


class Bm25Index:
    """bm25s over chunk texts; `generation` ties a saved index to the Chroma state it was built from."""

    def __init__(self, ids: list[str], facts: list[ChunkFacts], model: bm25s.BM25 | None, generation: str) -> None:
        self.ids = ids
        self.facts = facts
        self.model = model
        self.generation = generation
        # Per filter, for the few a session uses: a Python pass over 100k chunks costs ~20-40 ms. A rebuild makes a
        # new index object, so these never outlive the chunks they describe.
        self._masks: dict[tuple, np.ndarray] = {}
        self._admitted: dict[tuple, frozenset[str]] = {}

    @classmethod
    def build(cls, ids: list[str], texts: list[str], facts: list[ChunkFacts], generation: str) -> Bm25Index:
        """Index texts from scratch (bm25s has no incremental update; a rebuild takes seconds at 100k)."""
        model = None
        if ids:
            model = bm25s.BM25()
            model.index(tokenize(texts, as_ids=True), show_progress=False)
        return cls(ids, facts, model, generation)

    def save(self, folder: Path) -> None:
        """Write to a sibling folder, then swap it in, so a crash never leaves half an index (callers hold the data
        home's write lock; the sibling names are unique all the same, so two saves could never share one)."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        for stale in [*folder.parent.glob(f"{folder.name}.tmp-*"), *folder.parent.glob(f"{folder.name}.old-*")]:
            shutil.rmtree(stale, ignore_errors=True)  # what a save killed half-way left
        tmp = Path(tempfile.mkdtemp(prefix=f"{folder.name}.tmp-", dir=folder.parent))
        if self.model is not None:
            self.model.save(str(tmp), show_progress=False)
        meta = {"generation": self.generation, "ids": self.ids, "facts": [f.__dict__ for f in self.facts]}
        (tmp / _META).write_text(json.dumps(meta))
        old = folder.with_name(f"{folder.name}.old-{tmp.name.rsplit('-', 1)[1]}")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> Bm25Index | None:
        """The saved index, or None when there is none or it is unreadable."""
        try:
            meta = json.loads((folder / _META).read_text())
            model = bm25s.BM25.load(str(folder), show_progress=False) if meta["ids"] else None
        except (OSError, ValueError, KeyError):
            return None
        return cls(meta["ids"], [ChunkFacts(**f) for f in meta["facts"]], model, meta["generation"])

    def mask(self, where: SearchFilter) -> np.ndarray:
        """1.0 for each chunk the filter admits, else 0.0."""
        return remember(self._masks, where, lambda: np.array([where.admits(f) for f in self.facts], dtype=np.float32))

    def admitted(self, where: SearchFilter) -> frozenset[str]:
        """Ids of the chunks the filter admits (to filter Chroma's unfiltered hits without its `where`)."""
        return remember(self._admitted, where,
                        lambda: frozenset(cid for cid, ok in zip(self.ids, self.mask(where)) if ok))

    def search(self, query: str, k: int, where: SearchFilter | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) pairs with a positive score."""
        tokens = tokenize([query])
        if self.model is None or not tokens[0]:
            return []
        mask = None
        if where is not None and not where.empty:
            mask = self.mask(where)
            if not mask.any():
                return []
        k = min(k, len(self.ids))
        docs, scores = self.model.retrieve(tokens, k=k, show_progress=False, weight_mask=mask)
        return [(self.ids[d], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]


def remember(cache: dict[tuple, Any], where: SearchFilter, make: Callable[[], Any]) -> Any:
    """cache[where], made on first use; the oldest of _REMEMBERED filters goes first."""
    key = astuple(where)
    if key not in cache:
        if len(cache) >= _REMEMBERED:
            cache.pop(next(iter(cache)), None)
        cache[key] = make()
    return cache[key]
