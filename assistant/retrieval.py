"""Hybrid retrieval: BM25 and dense rankings fused, exposed as a LangChain retriever."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from index.bm25 import SearchFilter
from index.records import Passage


def rrf(rankings: list[list[Passage]], k: int = 60) -> list[Passage]:
    """Reciprocal-rank fusion: each ranking adds 1/(k + rank) to a chunk's score."""
    scores: dict[str, float] = {}
    first: dict[str, Passage] = {}
    for ranking in rankings:
        for rank, passage in enumerate(ranking, start=1):
            scores[passage.chunk.id] = scores.get(passage.chunk.id, 0.0) + 1.0 / (k + rank)
            first.setdefault(passage.chunk.id, passage)
    order = sorted(scores, key=scores.__getitem__, reverse=True)
    return [first[cid].model_copy(update={"score": scores[cid]}) for cid in order]


def to_document(passage: Passage) -> Document:
    """LangChain's document type; the typed Passage rides along in metadata."""
    meta = {"source_id": passage.chunk.source_id, "kind": passage.chunk.kind, "score": passage.score,
            "passage": passage}
    return Document(page_content=passage.chunk.text, metadata=meta, id=passage.chunk.id)


def passages_from(documents: list[Document]) -> list[Passage]:
    """Back from LangChain documents to typed passages."""
    return [d.metadata["passage"] for d in documents]


class HybridRetriever(BaseRetriever):
    """BM25 ∪ dense candidates from the store, fused by reciprocal rank."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Any
    encoder: Any
    k: int = 8
    candidates: int = 50
    rrf_k: int = 60
    where: SearchFilter | None = None

    def search(self, query: str, k: int | None = None, where: SearchFilter | None = None) -> list[Passage]:
        """The top-k fused passages for a query."""
        where = where if where is not None else self.where
        vector = self.encoder.encode([query])[0]
        dense = self.store.dense(vector, self.candidates, where)
        lexical = self.store.lexical(query, self.candidates, where)
        return rrf([dense, lexical], self.rrf_k)[: k or self.k]

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        """LangChain entry point."""
        return [to_document(p) for p in self.search(query)]
