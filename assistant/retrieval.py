"""Hybrid retrieval: BM25 and dense rankings fused; `invoke` gives LangChain documents (LangChain loads only then).

Both sides rank `Hit`s (chunk id, source id, score) and fusion works on those; only the passages kept are then read
from the store, so hundreds of candidates per side cost little more than fifty."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from litassist.index.bm25 import SearchFilter
from litassist.index.hits import dense_hits, lexical_hits
from litassist.index.records import Hit, Passage

from litassist.assistant.synonyms import bm25_terms

if TYPE_CHECKING:  # an extractive answer never imports LangChain (a second of imports); the LLM chain does
    from langchain_core.documents import Document


Mode = Literal["hybrid", "bm25", "dense"]
Aggregate = Literal["rrf", "max"]
Fusion = Literal["rrf", "convex", "zscore"]


def chunk_key(hit: Hit) -> str:
    """Identity of a chunk in a ranking."""
    return hit.id


def source_key(hit: Hit) -> str:
    """Identity of a document (BEIR `_id`, PMID, figid...) in a ranking."""
    return hit.source_id


def rrf(rankings: list[list[Hit]], k: int, key: Callable[[Hit], str] = chunk_key) -> list[Hit]:
    """Reciprocal-rank fusion: each ranking adds 1/(k + rank) to an item's score (items are chunks by default)."""
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            scores[key(hit)] = scores.get(key(hit), 0.0) + 1.0 / (k + rank)
            first.setdefault(key(hit), hit)
    order = sorted(scores, key=scores.__getitem__, reverse=True)
    return [first[cid].model_copy(update={"score": scores[cid]}) for cid in order]


def convex(rankings: list[list[Hit]], weights: list[float], key: Callable[[Hit], str] = chunk_key) -> list[Hit]:
    """Weighted sum of scores min-max scaled per ranking (BM25 and cosine live on different scales); 0 if absent."""
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    for ranking, weight in zip(rankings, weights):
        low, high = min((h.score for h in ranking), default=0.0), max((h.score for h in ranking), default=0.0)
        for hit in ranking:
            scaled = (hit.score - low) / (high - low) if high > low else 1.0
            scores[key(hit)] = scores.get(key(hit), 0.0) + weight * scaled
            first.setdefault(key(hit), hit)
    order = sorted(scores, key=scores.__getitem__, reverse=True)
    return [first[cid].model_copy(update={"score": scores[cid]}) for cid in order]


def zscore(rankings: list[list[Hit]], weights: list[float], key: Callable[[Hit], str] = chunk_key) -> list[Hit]:
    """Weighted sum of scores standardised per ranking (mean 0, standard deviation 1); an item a ranking lacks gets
    that ranking's lowest. Unlike min-max, a side's scale comes from all its scores, not from its two extremes."""
    scaled: list[dict[str, float]] = []
    first: dict[str, Hit] = {}
    for ranking in rankings:
        values = np.array([h.score for h in ranking], dtype=np.float64)
        mean, spread = (float(values.mean()), float(values.std())) if len(values) else (0.0, 0.0)
        scaled.append({key(h): (h.score - mean) / (spread or 1.0) for h in ranking})
        for hit in ranking:
            first.setdefault(key(hit), hit)
    lows = [min(side.values(), default=0.0) for side in scaled]
    scores = {item: sum(w * side.get(item, low) for side, w, low in zip(scaled, weights, lows)) for item in first}
    order = sorted(scores, key=scores.__getitem__, reverse=True)
    return [first[item].model_copy(update={"score": scores[item]}) for item in order]


def best_per_source(ranking: list[Hit]) -> list[Hit]:
    """One hit per document, its best-ranked chunk, in ranking order (max aggregation)."""
    seen: set[str] = set()
    return [h for h in ranking if not (h.source_id in seen or seen.add(h.source_id))]


def in_document_order(hits: list[Hit], documents: list[Hit]) -> list[Hit]:
    """The hits grouped by document in the order `documents` ranks them, a document's chunks in their own order.

    Chunk fusion can put a document's chunk first that is good on both sides while another document is best on
    each side through two different chunks; the document ranking sees the second first (docs/evaluation.md)."""
    place = {h.source_id: i for i, h in enumerate(documents)}
    return sorted(hits, key=lambda h: place.get(h.source_id, len(place)))  # stable within a document


def to_document(passage: Passage) -> Document:
    """LangChain's document type; the typed Passage rides along in metadata."""
    from langchain_core.documents import Document

    meta = {"source_id": passage.chunk.source_id, "kind": passage.chunk.kind, "score": passage.score,
            "passage": passage}
    return Document(page_content=passage.chunk.text, metadata=meta, id=passage.chunk.id)


def passages_from(documents: list[Document]) -> list[Passage]:
    """Back from LangChain documents to typed passages."""
    return [d.metadata["passage"] for d in documents]


_SIDES = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bm25")  # shared: threads only while questions run


class HybridRetriever(BaseModel):
    """BM25 ∪ dense candidates from the store, fused by reciprocal rank or by a weighted sum of scaled scores."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    # The tuning fields have no defaults: assistant/settings.py holds them once, and Components applies them.
    store: Any
    encoder: Any
    k: int
    candidates: int
    rrf_k: int
    fusion: Fusion  # search(): how the chunk rankings are fused
    dense_weight: float  # convex fusion of chunks: the dense side's weight (BM25 gets the rest)
    doc_candidates: int  # documents(): chunk candidates per side
    doc_aggregate: Aggregate  # documents(): fuse per-side best ranks, or take the best fused chunk
    doc_fusion: Fusion  # documents() with doc_aggregate "rrf": RRF, or convex fusion of scaled scores
    doc_dense_weight: float  # convex fusion: the dense side's weight (BM25 gets the rest)
    expand_dense: bool  # also append the synonyms to the text the dense side encodes
    parallel_sides: bool  # run BM25 in a second thread while the dense side runs
    feedback: float  # hybrid: how far the question's vector moves towards the first document's best chunk (0: off)
    synonyms: Any = None  # a SynonymTable: BM25 queries get the other names of the question's genes
    where: SearchFilter | None = None
    mode: Mode = "hybrid"  # bm25 never encodes the query; dense skips BM25

    def expansions(self, query: str) -> dict[str, list[str]]:
        """The question's gene terms that have other names, with those names."""
        return self.synonyms.expansions(query) if self.synonyms is not None else {}

    def rankings(self, query: str, depth: int, where: SearchFilter | None) -> list[list[Hit]]:
        """Chunk rankings of the sides the mode uses, dense first (fusion breaks ties by order)."""
        extra = " ".join(bm25_terms(self.expansions(query)))
        lexical = (lambda: lexical_hits(self.store, f"{query} {extra}" if extra else query, depth, where)) \
            if self.mode != "dense" else None
        if self.mode == "bm25":
            return [lexical()]
        # BM25 scores in a second thread while the question is encoded and the vectors searched: numpy, ONNX
        # Runtime and Chroma release the GIL, so on two cores a retrieval costs about its slower side.
        pending = _SIDES.submit(lexical) if lexical is not None and self.parallel_sides else None
        text = f"{query} {extra}" if extra and self.expand_dense else query
        vector = self.encoder.encode([text])[0]
        out = [dense_hits(self.store, vector, depth, where)]
        if lexical is None:
            return out
        out.append(pending.result() if pending is not None else lexical())
        return self.with_feedback(out, vector, depth, where) if self.feedback > 0 and out[0] and out[1] else out

    def with_feedback(self, rankings: list[list[Hit]], vector: Any, depth: int, where: SearchFilter | None
                      ) -> list[list[Hit]]:
        """The rankings with the dense side searched again, the question's vector moved towards the best chunk of
        the document the first pass ranks first (Rocchio with the one document it is surest of): papers on the
        question's subject share that document's wording more than the question's. It ranked all three dev sets
        higher (docs/evaluation.md, issue 18); it costs one more vector search."""
        dense, lexical = rankings
        source = self.rank_documents(rankings)[0].source_id
        # its best chunk among the candidates: the dense list is best first; a document only BM25 found, its best
        chunk = next((h.id for h in dense if h.source_id == source), None) or \
            next(h.id for h in lexical if h.source_id == source)
        found = self.store.vectors([chunk]).get(chunk)
        if found is None:  # deleted by another writer since the first pass
            return rankings
        unit = np.asarray(vector, dtype=np.float32) / max(float(np.linalg.norm(vector)), 1e-12)
        moved = unit + self.feedback * found / max(float(np.linalg.norm(found)), 1e-12)
        return [dense_hits(self.store, moved / np.linalg.norm(moved), depth, where), lexical]

    def fuse(self, rankings: list[list[Hit]], key: Callable[[Hit], str] = chunk_key,
             fusion: Fusion | None = None, dense_weight: float | None = None) -> list[Hit]:
        """Fuse the dense and BM25 rankings (chunk settings unless given); a single ranking keeps its own scores."""
        if len(rankings) == 1:
            return rankings[0]
        how = fusion or self.fusion
        if how == "rrf":
            return rrf(rankings, self.rrf_k, key)
        weight = self.dense_weight if dense_weight is None else dense_weight  # rankings() puts dense first
        return (convex if how == "convex" else zscore)(rankings, [weight, 1.0 - weight], key)

    def search(self, query: str, k: int | None = None, where: SearchFilter | None = None) -> list[Passage]:
        """The top-k fused passages for a query, their documents in the order `documents` ranks them (a document's
        chunks in their own order): the answer leads with the document the ranking puts first."""
        rankings = self.rankings(query, self.candidates, where if where is not None else self.where)
        top = self.fuse(rankings)[: k or self.k]
        if len(rankings) > 1:
            top = in_document_order(top, self.rank_documents(rankings))
        return self.store.passages([(h.id, h.score) for h in top])

    def documents(self, query: str, depth: int | None = None, where: SearchFilter | None = None) -> list[Passage]:
        """Documents best first, each as its best chunk; `depth` (else doc_candidates) chunk candidates per side feed
        the ranking."""
        ranked = self.rank_documents(self.rankings(query, depth or self.doc_candidates,
                                                   where if where is not None else self.where))
        return self.store.passages([(h.id, h.score) for h in ranked])

    def rank_documents(self, rankings: list[list[Hit]]) -> list[Hit]:
        """Documents best first from chunk rankings, each as its best chunk (the doc_* settings)."""
        if self.doc_aggregate == "max":
            return best_per_source(self.fuse(rankings))
        per_source = [best_per_source(r) for r in rankings]
        return self.fuse(per_source, source_key, self.doc_fusion, self.doc_dense_weight)

    def invoke(self, query: str) -> list[Document]:
        """The top-k passages as LangChain documents, as a LangChain retriever's `invoke` gives them."""
        return [to_document(p) for p in self.search(query)]
