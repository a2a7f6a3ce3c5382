"""The one place that builds models and stores from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from litassist.index.chroma_server import http_client
from litassist.index.embedding import Encoder, make_encoder, model_slug, resolve_backend
from litassist.index.store import Hnsw, Store, local_client

from litassist.assistant.errors import SettingsError
from litassist.assistant.retrieval import HybridRetriever
from litassist.assistant.synonyms import SynonymTable, load_synonyms, use_vocabulary_of
from litassist.assistant.settings import RetrievalSettings, Settings, StoreSettings

if TYPE_CHECKING:  # an answer needs neither the file loaders nor a chat-model client: they load when first built
    from langchain_core.language_models import BaseChatModel

    from litassist.index.bm25 import SearchFilter
    from litassist.index.ingest import Ingestor


def hnsw_for(s: StoreSettings) -> Hnsw:
    """The HNSW parameters the store settings name."""
    return Hnsw(ef_construction=s.ef_construction, ef_search=s.ef_search, max_neighbors=s.max_neighbors)


def ingestor_for(settings: Settings, store: Store, encoder: Encoder, **options) -> Ingestor:
    """An ingestor over a given store and encoder with the ingest and chunking settings applied."""
    from litassist.index.ingest import MB, Ingestor  # the file loaders load for an ingest, not for every answer

    s = settings
    fields = {"max_tokens": s.chunking.max_tokens, "flush_chunks": s.ingest.flush_chunks,
              "write_chunks": s.ingest.write_chunks, "max_file_bytes": int(s.ingest.max_file_mb * MB)}
    return Ingestor(store, encoder, **{**fields, **options})


def retriever_for(r: RetrievalSettings, store: Store, encoder: Encoder | None, synonyms: SynonymTable | None,
                  **overrides) -> HybridRetriever:
    """A hybrid retriever over a given store and encoder with the retrieval settings applied; `overrides` sets what
    only a caller knows (a filter, a mode, a deeper k)."""
    fields = r.model_dump(include={"k", "candidates", "rrf_k", "fusion", "dense_weight", "doc_candidates",
                                   "doc_aggregate", "doc_fusion", "doc_dense_weight", "expand_dense",
                                   "parallel_sides", "feedback"})
    return HybridRetriever(store=store, encoder=encoder, synonyms=synonyms, **{**fields, **overrides})


@dataclass
class Components:
    """Encoder, store and retriever built from one Settings object, each on first use."""

    settings: Settings

    def __post_init__(self) -> None:
        """Ordinary words are those of the configured model's vocabulary, wherever the answer path asks."""
        use_vocabulary_of(self.settings.embedding.model)

    @cached_property
    def encoder(self) -> Encoder:
        """The embedding model (loaded, or exported for the onnx backends, lazily on first encode)."""
        s = self.settings.embedding
        backend = resolve_backend(s.backend, s.device)
        if s.backend == "auto" and backend == "onnx-int8" and self._fp32_index_only():
            backend = "onnx"  # an index built with fp32 vectors keeps working: the same vectors, without torch
        return make_encoder(backend, s.model, device=s.device, batch_size=s.batch_size, cache_dir=s.export_dir)

    def _fp32_index_only(self) -> bool:
        """The embedded database holds this model's fp32 chunks and no int8 ones (built before int8 was the default)."""
        if self.settings.store.chroma_url or not (self.settings.home / "chroma").is_dir():
            return False
        client = local_client(self.settings.home)
        counts = {c.name: c.count() for c in client.list_collections()}
        fp32 = f"chunks-{model_slug(self.settings.embedding.model)}"
        return counts.get(fp32, 0) > 0 and counts.get(f"{fp32}-int8", 0) == 0

    @cached_property
    def store(self) -> Store:
        """The Chroma + BM25 store under the data home."""
        s = self.settings.store
        client = http_client(s.chroma_url) if s.chroma_url else None  # None: the embedded database under home
        return Store(self.settings.home, self.encoder.name, hnsw=hnsw_for(s), client=client)

    def ingestor(self, **options) -> Ingestor:
        """An ingestor with every ingest and chunking setting applied, for the CLI, the UI and eval alike; `options`
        adds what only a caller knows (a progress bar, a per-file or progress callback, force)."""
        return ingestor_for(self.settings, self.store, self.encoder, **options)

    def retriever(self, where: SearchFilter | None = None, k: int | None = None) -> HybridRetriever:
        """A hybrid retriever over the store, every retrieval setting applied (the document ranking's too)."""
        r = self.settings.retrieval
        return retriever_for(r, self.store, self.encoder, self.synonyms if r.synonyms else None, where=where,
                             k=k or r.k)

    def known_name(self) -> Callable[[str], bool]:
        """Whether a word is a gene name the synonym table knows (follow-ups treat it as a name, like HER2)."""
        return self.synonyms.knows if self.settings.retrieval.synonyms else (lambda _: False)

    @cached_property
    def synonyms(self) -> SynonymTable:
        """Built-in gene synonyms, the configured HGNC file, and aliases learned from indexed PFOCR figures."""
        return load_synonyms(self.settings.retrieval.synonyms_file, self.store)

    def chat_model(self, spec: str | None = None) -> BaseChatModel | None:
        """The chat model named by spec (else settings.llm); None means answer extractively."""
        from litassist.assistant.llm import client_class, client_kwargs, first_line, parse_spec

        parsed = parse_spec(self.settings.llm if spec is None else spec)
        if parsed is None:
            return None  # nothing is called unless configured: no default hosted provider
        key = self.settings.llm_api_key.get_secret_value() if self.settings.llm_api_key else None
        cls = client_class(parsed.provider)
        try:
            return cls(**client_kwargs(parsed, self.settings.llm_timeout, key))
        except Exception as exc:  # e.g. openai without OPENAI_API_KEY: a configuration problem, one line
            raise SettingsError(f"cannot set up the LLM '{parsed}': {first_line(exc)}") from exc
