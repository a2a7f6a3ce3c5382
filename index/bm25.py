"""A BM25 index over chunk texts in segments: an ingest adds a small segment instead of rebuilding the whole index.

Each segment (index/bm25_segment.py) keeps raw term counts; a query scores every segment with the statistics of all
live chunks together (Lucene's BM25, as bm25s computes it), so the ranking is the one a single rebuilt index gives.
A chunk whose file is ingested again or deleted is marked dead in its old segment; small segments are merged.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from litassist.index import bm25_top
from litassist.index.bm25_segment import Segment, merged
from litassist.index.chunk_facts import ChunkFacts
from litassist.index.bm25_tokens import pair_keys, tokenize

_MANIFEST = "manifest.json"
_REMEMBERED = 16  # filters whose mask and admitted ids an index keeps (the UI repeats the same few)
MAX_SEGMENTS = 8  # beyond this, every segment but the largest is merged into one at the next update
# Lucene's BM25 parameters as Anserini sets them for its BEIR baselines (bm25s's defaults, 1.5 and 0.75, ranked
# every dev set lower: docs/evaluation.md, issue 18). Scores are computed at query time, so they need no rebuild.
K1, B = 0.9, 0.4
# A word pair of the question found as a pair in a chunk's own text scores this share of what a word would (its own
# idf, the length of the chunk's window): the sequential-dependence idea in BM25's terms; with the dense feedback
# (assistant/retrieval.py) it ranked all three dev sets higher (docs/evaluation.md, issue 18).
PAIR_WEIGHT = 0.2
# What a saved index's chunks hold; an index saved in another format is rebuilt from Chroma. 2: each chunk is
# indexed with its neighbours' text (index/bm25_sync.py `columns`); 3: its facts carry its source id; 4: the word
# pairs of its own text.
FORMAT = 4


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


@dataclass
class Part:
    """A segment as the index uses it: its folder name and which of its chunks are retired."""

    name: str
    segment: Segment
    dead: set[int] = field(default_factory=set)

    @property
    def alive(self) -> np.ndarray:
        """True for each chunk still indexed."""
        alive = np.ones(len(self.segment.ids), dtype=bool)
        alive[list(self.dead)] = False
        return alive


class Bm25Index:
    """BM25 over chunk texts in segments; `generation` ties a saved index to the Chroma state it was built from."""

    def __init__(self, parts: list[Part], generation: str) -> None:
        self.parts = [p for p in parts if len(p.dead) < len(p.segment.ids)]  # a segment with nothing live goes
        self.generation = generation
        self._alive = [p.alive for p in self.parts]
        self.ids = [cid for p, alive in zip(self.parts, self._alive) for cid, ok in zip(p.segment.ids, alive) if ok]
        self.facts = [f for p, alive in zip(self.parts, self._alive) for f, ok in zip(p.segment.facts, alive) if ok]
        total = sum(int(np.asarray(p.segment.lengths)[alive].sum()) for p, alive in zip(self.parts, self._alive))
        self._avg_length = total / len(self.ids) if self.ids else 0.0
        # Per filter, for the few a session uses: a Python pass over 100k chunks costs ~20-40 ms. An update makes a
        # new index object, so these never outlive the chunks they describe.
        self._masks: dict[tuple, np.ndarray] = {}
        self._admitted: dict[tuple, frozenset[str]] = {}

    @classmethod
    def build(cls, ids: list[str], texts: list[str], facts: list[ChunkFacts], generation: str,
              files: list[str] | None = None, phrases: list[str] | None = None) -> Bm25Index:
        """Index texts from scratch, as one segment (`phrases`: see Segment.build)."""
        segment = Segment.build(ids, texts, facts, files or [""] * len(ids), phrases)
        return cls([Part(_new_name(), segment)] if ids else [], generation)

    def save(self, folder: Path) -> None:
        """Write the whole index to a sibling folder, then swap it in, so a crash never leaves half an index (callers
        hold the data home's write lock; the sibling names are unique all the same, so two saves could never share
        one)."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        for stale in [*folder.parent.glob(f"{folder.name}.tmp-*"), *folder.parent.glob(f"{folder.name}.old-*")]:
            shutil.rmtree(stale, ignore_errors=True)  # what a save killed half-way left
        tmp = Path(tempfile.mkdtemp(prefix=f"{folder.name}.tmp-", dir=folder.parent))
        for part in self.parts:
            part.segment.save(tmp / part.name)
        self._write_manifest(tmp)
        old = folder.with_name(f"{folder.name}.old-{tmp.name.rsplit('-', 1)[1]}")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    def updated(self, folder: Path, retired_files: Iterable[str], ids: list[str], texts: list[str],
                facts: list[ChunkFacts], files: list[str], generation: str, phrases: list[str] | None = None
                ) -> Bm25Index:
        """This index with the chunks of `retired_files` retired and the given chunks added as a new segment, saved
        into `folder` (where this index is saved): the new segment first, then the manifest, replaced in one rename,
        so a crash leaves the old index (stale by generation, hence rebuilt on the next open) or the new one."""
        retired = set(retired_files)
        parts = [Part(p.name, p.segment, p.dead | {i for i, f in enumerate(p.segment.files) if f in retired})
                 for p in self.parts]
        if ids:
            added = Part(_new_name(), Segment.build(ids, texts, facts, files, phrases))
            added.segment.save(folder / added.name)
            parts.append(added)
        parts = [p for p in parts if len(p.dead) < len(p.segment.ids)]
        if len(parts) > MAX_SEGMENTS:
            parts = _merge_small(parts, folder)
        index = Bm25Index(parts, generation)
        index._write_manifest(folder)
        _remove_unlisted(folder, {p.name for p in parts})
        return index

    def _write_manifest(self, folder: Path) -> None:
        """Which segments make the index, their retired chunks and its generation; replaced in one rename."""
        manifest = {"generation": self.generation, "format": FORMAT,
                    "segments": [{"name": p.name, "dead": sorted(p.dead)} for p in self.parts]}
        tmp = folder / f"{_MANIFEST}.tmp-{uuid.uuid4().hex}"
        tmp.write_text(json.dumps(manifest))
        os.replace(tmp, folder / _MANIFEST)

    @staticmethod
    def saved_generation(folder: Path) -> str | None:
        """The generation of the index saved in `folder`, or None when there is none or it is in another format."""
        try:
            manifest = json.loads((folder / _MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        return manifest.get("generation") if manifest.get("format") == FORMAT else None

    @classmethod
    def load(cls, folder: Path) -> Bm25Index | None:
        """The saved index, or None when there is none, it is unreadable or it is in another format (e.g. saved before
        segments or windows existed)."""
        try:
            manifest = json.loads((folder / _MANIFEST).read_text())
            if manifest.get("format") != FORMAT:
                return None
            parts = [Part(s["name"], Segment.load(folder / s["name"]), set(s["dead"])) for s in manifest["segments"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return cls(parts, manifest["generation"])

    @cached_property
    def sources(self) -> dict[str, str]:
        """Chunk id -> source id, for every live chunk."""
        return {cid: f.source for cid, f in zip(self.ids, self.facts)}

    def mask(self, where: SearchFilter) -> np.ndarray:
        """1.0 for each chunk (in `ids` order) the filter admits, else 0.0."""
        return remember(self._masks, where, lambda: np.array([where.admits(f) for f in self.facts], dtype=np.float32))

    def admitted(self, where: SearchFilter) -> frozenset[str]:
        """Ids of the chunks the filter admits (to filter Chroma's unfiltered hits without its `where`)."""
        return remember(self._admitted, where,
                        lambda: frozenset(cid for cid, ok in zip(self.ids, self.mask(where)) if ok))

    def search(self, query: str, k: int, where: SearchFilter | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) pairs with a positive score."""
        words = tokenize(query)
        if not self.ids or not words:
            return []
        weights: list[np.ndarray | None] = [None if not p.dead else a for p, a in zip(self.parts, self._alive)]
        if where is not None and not where.empty:
            mask = self.mask(where)
            if not mask.any():
                return []
            weights = _spread(mask, self._alive)
        norms = self._norms()
        # float32 like bm25s: half the memory traffic of float64 for the same ranking (scores agree to ~1e-6)
        scores = [np.zeros(len(p.segment.ids), dtype=np.float32) for p in self.parts]
        reached: list[tuple[int, list]] = []  # (df, postings) of each term found
        terms = [(lambda seg, t=t: seg.postings(t), n) for t, n in Counter(words).items()]
        terms += [(lambda seg, key=key: seg.pair_postings(key), PAIR_WEIGHT * n)
                  for key, n in Counter(pair_keys(words)).items()]
        for postings, repeats in terms:
            hits = [(i, got) for i, p in enumerate(self.parts) if (got := postings(p.segment)) is not None]
            # a segment with no retired chunk counts its postings as they are (most of them: no per-term mask)
            df = sum(len(docs) if not self.parts[i].dead else int(self._alive[i][docs].sum()) for i, (docs, _) in hits)
            if not df:
                continue
            idf = np.float32(np.log(1 + (len(self.ids) - df + 0.5) / (df + 0.5)))
            reached.append((df, hits))
            for i, (docs, counts) in hits:
                tf = counts.astype(np.float32)
                gain = tf * np.float32(repeats * idf)  # then divided in place: the same arithmetic, two fewer passes
                length = norms[i][docs]
                length += tf
                gain /= length
                scores[i][docs] += gain
        merged = np.concatenate([s if w is None else s * w for s, w in zip(scores, weights)])
        starts = self._starts()
        return self._top(merged, k, starts, bm25_top.rare_positions(reached, starts, 2 * k))

    def _norms(self) -> list[np.ndarray]:
        """Per segment, each chunk's length term K1 (1 - B + B len / avg len), computed once per index (per k1, b:
        they are read at query time)."""
        key = (K1, B)
        if getattr(self, "_norms_for", None) != key:
            self._norm_arrays = [(K1 * (1 - B + B * np.asarray(p.segment.lengths, dtype=np.float64) / self._avg_length)
                                  ).astype(np.float32) for p in self.parts]
            self._norms_for = key
        return self._norm_arrays

    def _starts(self) -> np.ndarray:
        """Where each segment's chunks start in the concatenated scores."""
        return np.cumsum([0] + [len(p.segment.ids) for p in self.parts])

    def _top(self, scores: np.ndarray, k: int, starts: np.ndarray, sample: np.ndarray | None = None
             ) -> list[tuple[str, float]]:
        """The k best positive scores, best first (ties: the earlier chunk), as (id, score); `starts`: where each
        segment begins in `scores` (_starts); `sample` as in bm25_top.best."""
        best = bm25_top.best(scores, k, sample)
        # `scores` runs over every chunk of every segment, retired ones too; only the k found are looked up (a list
        # of every id, built per search, took 14-61 ms of a 52-131 ms search at 1M chunks)
        part = np.searchsorted(starts, best, side="right") - 1
        return [(self.parts[s].segment.ids[i - starts[s]], float(scores[i])) for s, i in zip(part, best)]


def _spread(mask: np.ndarray, alive: list[np.ndarray]) -> list[np.ndarray]:
    """A mask over live chunks (ids order) laid out per segment, 0 for retired chunks."""
    out, start = [], 0
    for live in alive:
        weights = np.zeros(len(live))
        weights[live] = mask[start : start + int(live.sum())]
        out.append(weights)
        start += int(live.sum())
    return out


def _merge_small(parts: list[Part], folder: Path) -> list[Part]:
    """Every segment but the one with the most live chunks merged into one new segment (saved into `folder`)."""
    largest = max(parts, key=lambda p: len(p.segment.ids) - len(p.dead))
    rest = [p for p in parts if p is not largest]
    combined = Part(_new_name(), merged([(p.segment, p.alive) for p in rest]))
    combined.segment.save(folder / combined.name)
    return [largest, combined]


def _remove_unlisted(folder: Path, names: set[str]) -> None:
    """Segments no manifest lists any more (retired, merged, or left by a write that was killed)."""
    for path in folder.glob("seg-*"):
        if path.name not in names:
            shutil.rmtree(path, ignore_errors=True)
    for path in folder.glob(f"{_MANIFEST}.tmp-*"):
        path.unlink(missing_ok=True)


def _new_name() -> str:
    """A segment folder name no other segment has."""
    return f"seg-{uuid.uuid4().hex[:16]}"


def remember(cache: dict[tuple, Any], where: SearchFilter, make: Callable[[], Any]) -> Any:
    """cache[where], made on first use; the oldest of _REMEMBERED filters goes first."""
    key = astuple(where)
    if key not in cache:
        if len(cache) >= _REMEMBERED:
            cache.pop(next(iter(cache)), None)
        cache[key] = make()
    return cache[key]
