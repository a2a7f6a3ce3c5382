"""Candidate caches for bench/rank_levers.py (issue 18): one eval index's chunks, vectors and per-query scores, read
once; and, for the granularity lever, whole-document and sentence-window vectors."""

from __future__ import annotations

import json
import pickle
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from litassist.assistant.evaluate import index_home, load_dataset
from litassist.assistant.factory import Components
from litassist.assistant.settings import load_settings
from litassist.assistant.synonyms import bm25_terms
from litassist.index.embedding import model_slug

CACHE = Path("/tmp/litassist-rank")
DEPTH = 300  # chunk candidates per side, as retrieval.doc_candidates


@dataclass
class Corpus:
    """Every chunk of the index: ids, owning document, vector; and the documents' chunk lists."""

    ids: list[str]
    source: np.ndarray  # document index per chunk
    docs: list[str]
    vectors: np.ndarray  # (chunks, dim), unit length
    texts: list[str]
    bm25_dir: Path  # the index's saved BM25 (pseudo-relevance feedback re-scores single terms with it)
    positions: np.ndarray | None = None  # each chunk's place in its document (caches written before 2026-12-04 lack it)


@dataclass
class Query:
    """One query's inputs: its vector and BM25's positive scores (chunk index -> score)."""

    qid: str
    text: str
    vector: np.ndarray
    bm25: dict[int, float]
    hnsw: dict[int, float]  # Chroma's own top DEPTH chunks (approximate search), as `litassist eval` sees them


def build_cache(folder: Path, home: Path, cache: Path = CACHE) -> Path:
    """Read the eval index of a dataset once; write the cache file."""
    settings = load_settings(home=home)
    data = load_dataset(folder)
    comp = Components(settings.model_copy(update={"home": index_home(home, data.corpus,
                                                                     model_slug(settings.embedding.model))}))
    got = comp.store.collection.get(include=["embeddings", "metadatas", "documents"])
    docs = sorted({m["source_id"] for m in got["metadatas"]})
    where = {d: i for i, d in enumerate(docs)}
    vectors = np.asarray(got["embeddings"], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    corpus = Corpus(list(got["ids"]), np.array([where[m["source_id"]] for m in got["metadatas"]]), docs, vectors,
                    list(got["documents"]), comp.store.bm25_dir, np.array([m["position"] for m in got["metadatas"]]))
    row = {cid: i for i, cid in enumerate(corpus.ids)}
    retriever = comp.retriever()
    queries = []
    for qid, text in data.queries.items():
        vec = comp.encoder.encode([text])[0]  # one at a time, as `ask` does (int8 activations depend on the batch)
        extra = " ".join(bm25_terms(retriever.expansions(text)))
        hits = comp.store.bm25.search(f"{text} {extra}" if extra else text, len(corpus.ids))
        hnsw = {row[p.chunk.id]: p.score for p in comp.store.dense(np.asarray(vec), DEPTH)}
        queries.append(Query(qid, text, np.asarray(vec, dtype=np.float32), {row[c]: s for c, s in hits}, hnsw))
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / f"{data.name}.pkl"
    out.write_bytes(pickle.dumps({"corpus": corpus, "queries": queries, "qrels": data.qrels}))
    return out



def encode_windows(folder: Path, home: Path, cache: Path = CACHE, size: int = 3) -> Path:
    """Whole-document vectors (title + text, cut at the model's window) and every `size`-sentence window's vector,
    for the documents of the cached index; prints the encoding time (the ingest cost this lever would add)."""
    name = folder.resolve().name
    corpus = pickle.loads((cache / f"{name}.pkl").read_bytes())["corpus"]
    records = {}
    with (folder / "corpus.jsonl").open() as f:
        for line in f:
            row = json.loads(line)
            records[str(row["_id"])] = (row.get("title") or "", row.get("text") or "")
    settings = load_settings(home=home)
    encoder = Components(settings).encoder
    wholes, windows, owner = [], [], []
    for i, doc in enumerate(corpus.docs):
        title, text = records[doc]
        wholes.append(f"{title}. {text}" if title else text)
        sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9(])", text) if s.strip()]
        for j in range(max(1, len(sentences) - size + 1)):
            windows.append(" ".join(sentences[j:j + size]))
            owner.append(i)
    start = time.perf_counter()
    whole = np.asarray(encoder.encode(wholes), dtype=np.float32)
    window = np.asarray(encoder.encode(windows), dtype=np.float32)
    took = time.perf_counter() - start
    print(f"{name}: {len(wholes)} documents + {len(windows)} windows ({len(corpus.ids)} chunks) encoded in "
          f"{took:.0f} s", file=sys.stderr)
    out = cache / f"{name}-windows.pkl"
    out.write_bytes(pickle.dumps({"whole": whole / np.linalg.norm(whole, axis=1, keepdims=True),
                                  "window": window / np.linalg.norm(window, axis=1, keepdims=True),
                                  "owner": np.array(owner), "seconds": took}))
    return out
