"""The one place that builds models and stores from settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from langchain_core.language_models import BaseChatModel

from index.bm25 import SearchFilter
from index.embedding import SentenceTransformerEncoder
from index.store import Hnsw, Store

from assistant.errors import SettingsError
from assistant.llm import client_class, client_kwargs, first_line, parse_spec
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings


@dataclass
class Components:
    """Encoder, store and retriever built from one Settings object, each on first use."""

    settings: Settings

    @cached_property
    def encoder(self) -> SentenceTransformerEncoder:
        """The embedding model (loaded lazily on first encode)."""
        s = self.settings.embedding
        return SentenceTransformerEncoder(s.model, device=s.device, batch_size=s.batch_size)

    @cached_property
    def store(self) -> Store:
        """The Chroma + BM25 store under the data home."""
        s = self.settings.store
        hnsw = Hnsw(ef_construction=s.ef_construction, ef_search=s.ef_search, max_neighbors=s.max_neighbors)
        return Store(self.settings.home, self.encoder.name, hnsw)

    def retriever(self, where: SearchFilter | None = None, k: int | None = None) -> HybridRetriever:
        """A hybrid retriever over the store."""
        r = self.settings.retrieval
        return HybridRetriever(store=self.store, encoder=self.encoder, k=k or r.k, candidates=r.candidates,
                               rrf_k=r.rrf_k, where=where)

    def chat_model(self, spec: str | None = None) -> BaseChatModel | None:
        """The chat model named by spec (else settings.llm); None means answer extractively."""
        parsed = parse_spec(self.settings.llm if spec is None else spec)
        if parsed is None:
            return None  # nothing is called unless configured: no default hosted provider
        key = self.settings.llm_api_key.get_secret_value() if self.settings.llm_api_key else None
        cls = client_class(parsed.provider)
        try:
            return cls(**client_kwargs(parsed, self.settings.llm_timeout, key))
        except Exception as exc:  # e.g. openai without OPENAI_API_KEY: a configuration problem, one line
            raise SettingsError(f"cannot set up the LLM '{parsed}': {first_line(exc)}") from exc
