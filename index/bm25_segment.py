"""One BM25 segment: the term postings of some chunks, in numpy arrays saved as .npy and read memory-mapped.

A segment keeps raw term counts and chunk lengths, not finished scores, so the index (index/bm25.py) can score a
query with statistics of every segment together: the ranking equals one index built over all live chunks at once.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from litassist.index.bm25_tokens import pair_keys, tokenize
from litassist.index.chunk_facts import ChunkFacts, decoded

_ARRAYS = ("indptr", "docs", "counts", "lengths", "pair_keys", "pair_indptr", "pair_docs", "pair_counts")
_DOCS = "docs.json"


@dataclass
class Segment:
    """Postings in compressed-column form: term t's chunks are docs[indptr[t]:indptr[t+1]], with their counts."""

    terms: list[str]
    indptr: np.ndarray  # int64, one more than terms
    docs: np.ndarray  # int32 chunk positions in this segment, ascending within a term
    counts: np.ndarray  # int32 occurrences of the term in the chunk
    lengths: np.ndarray  # int32 terms per chunk
    # The word-pair field (bm25_tokens.pair_keys): pair_keys[p]'s chunks are pair_docs[pair_indptr[p]:…[p+1]], with
    # counts; keys ascending, found by binary search instead of a vocabulary of millions of pairs.
    pair_keys: np.ndarray  # uint64
    pair_indptr: np.ndarray  # int64, one more than pair_keys
    pair_docs: np.ndarray  # int32
    pair_counts: np.ndarray  # uint16 (a pair repeated more often in one chunk counts 65,535)
    ids: list[str]
    facts: list[ChunkFacts]  # what filters read, per chunk
    files: list[str]  # the file each chunk came from: a re-ingested or deleted file retires its chunks

    @cached_property
    def vocab(self) -> dict[str, int]:
        """term -> its column."""
        return {term: i for i, term in enumerate(self.terms)}

    @classmethod
    def build(cls, ids: list[str], texts: list[str], facts: list[ChunkFacts], files: list[str],
              phrases: list[str] | None = None) -> Segment:
        """Tokenize and count the chunks' texts, and the word pairs of `phrases` (each chunk's own text with its
        context; default: `texts`)."""
        vocab: dict[str, int] = {}
        term_of, doc_of, count_of, lengths, pair_key, pair_doc = [], [], [], [], [], []
        for doc, text in enumerate(texts):
            tokens = tokenize(text)
            lengths.append(len(tokens))
            for term, n in Counter(tokens).items():
                term_of.append(vocab.setdefault(term, len(vocab)))
                doc_of.append(doc)
                count_of.append(n)
            keys = pair_keys(tokens if phrases is None else tokenize(phrases[doc]))
            pair_key.append(np.array(keys, dtype=np.uint64))
            pair_doc.append(np.full(len(keys), doc, dtype=np.int32))
        columns = np.asarray(term_of, dtype=np.int64)
        order = np.argsort(columns, kind="stable")  # stable: chunks stay ascending within a term
        return cls(list(vocab), _indptr(columns, len(vocab)), np.asarray(doc_of, dtype=np.int32)[order],
                   np.asarray(count_of, dtype=np.int32)[order], np.asarray(lengths, dtype=np.int32),
                   *_pairs_counted(_joined(pair_key, np.uint64), _joined(pair_doc, np.int32)), ids, facts, files)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(chunk positions, counts) of a term, or None when no chunk here has it."""
        col = self.vocab.get(term)
        if col is None:
            return None
        start, end = self.indptr[col], self.indptr[col + 1]
        return self.docs[start:end], self.counts[start:end]

    def pair_postings(self, key: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(chunk positions, counts) of a word pair's key, or None when no chunk here has it."""
        at = int(np.searchsorted(self.pair_keys, np.uint64(key)))
        if at == len(self.pair_keys) or int(self.pair_keys[at]) != key:
            return None
        start, end = self.pair_indptr[at], self.pair_indptr[at + 1]
        return self.pair_docs[start:end], self.pair_counts[start:end]

    def save(self, folder: Path) -> None:
        """Write into a new folder (the caller makes it visible atomically)."""
        folder.mkdir(parents=True)
        for name in _ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name))
        facts = [f.as_dict() for f in self.facts]
        (folder / _DOCS).write_text(json.dumps({"terms": self.terms, "ids": self.ids, "facts": facts,
                                                "files": self.files}))

    @classmethod
    def load(cls, folder: Path) -> Segment:
        """Read a saved segment; its arrays are memory-mapped, so only the postings a query touches are read."""
        meta = json.loads((folder / _DOCS).read_text(), object_hook=decoded)
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
        files = [sys.intern(f) for f in meta["files"]]  # a file's chunks share one string
        return cls(meta["terms"], ids=meta["ids"], facts=meta["facts"], files=files, **arrays)


def merged(parts: list[tuple[Segment, np.ndarray]]) -> Segment:
    """One segment holding the live chunks (alive[i] true) of several, without tokenizing anything again."""
    vocab: dict[str, int] = {}
    columns, docs, counts, lengths, ids, facts, files = [], [], [], [], [], [], []
    pair_key, pair_doc, pair_count = [], [], []
    offset = 0
    for seg, alive in parts:
        renumber = np.full(len(seg.ids), -1, dtype=np.int64)
        renumber[alive] = offset + np.arange(int(alive.sum()))
        new_col = np.asarray([vocab.setdefault(t, len(vocab)) for t in seg.terms], dtype=np.int64)
        col_of = np.repeat(new_col, np.diff(np.asarray(seg.indptr)))
        doc = renumber[np.asarray(seg.docs)]
        keep = doc >= 0
        columns.append(col_of[keep])
        docs.append(doc[keep])
        counts.append(np.asarray(seg.counts)[keep])
        lengths.append(np.asarray(seg.lengths)[alive])
        pair_of = np.repeat(np.asarray(seg.pair_keys), np.diff(np.asarray(seg.pair_indptr)))
        doc = renumber[np.asarray(seg.pair_docs)]
        keep = doc >= 0
        pair_key.append(pair_of[keep])
        pair_doc.append(doc[keep])
        pair_count.append(np.asarray(seg.pair_counts)[keep])
        for i in np.flatnonzero(alive):
            ids.append(seg.ids[i])
            facts.append(seg.facts[i])
            files.append(seg.files[i])
        offset += int(alive.sum())
    column = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
    order = np.argsort(column, kind="stable")  # parts in order and chunks ascending within each: still ascending
    keys = _joined(pair_key, np.uint64)
    by_key = np.argsort(keys, kind="stable")  # the same reasoning: chunks stay ascending within a pair
    keys, key_start = _starts(keys[by_key])
    return Segment(list(vocab), _indptr(column, len(vocab)), np.concatenate(docs)[order].astype(np.int32),
                   np.concatenate(counts)[order].astype(np.int32), np.concatenate(lengths).astype(np.int32),
                   keys, key_start, _joined(pair_doc, np.int32)[by_key], _joined(pair_count, np.uint16)[by_key],
                   ids, facts, files)


def _indptr(columns: np.ndarray, n_terms: int) -> np.ndarray:
    """Where each term's postings start, for postings sorted by term."""
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(columns, minlength=n_terms), out=indptr[1:])
    return indptr


def _joined(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    """The arrays one after another (an empty array of `dtype` for none)."""
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype=dtype)


def _pairs_counted(keys: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(keys, indptr, docs, counts) of the pair field from one (key, chunk) row per occurrence."""
    order = np.lexsort((docs, keys))
    keys, docs = keys[order], docs[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = (keys[1:] != keys[:-1]) | (docs[1:] != docs[:-1])
    at = np.flatnonzero(first)
    counts = np.minimum(np.diff(np.append(at, len(keys))), np.iinfo(np.uint16).max).astype(np.uint16)
    unique, indptr = _starts(keys[at])
    return unique, indptr, docs[at], counts


def _starts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys of a sorted array and where each one's run starts (with the end appended)."""
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    at = np.flatnonzero(first)
    return keys[at], np.append(at, len(keys)).astype(np.int64)
