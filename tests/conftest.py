"""Shared fixtures: the real embedding model, and a store built from the project's own test corpus."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# Fixtures, in-process CLI runs and subprocesses must all read one collection, so the suite pins the torch encoder;
# tests/test_encoders.py covers the onnx backends (the default on CPU is onnx-int8) end to end.
os.environ["LITASSIST_EMBEDDING__BACKEND"] = "torch"

import litassist.assistant  # noqa: F401  (switches every library to offline before anything else loads)
from litassist.assistant.factory import hnsw_for, ingestor_for, retriever_for
from litassist.assistant.retrieval import HybridRetriever
from litassist.assistant.settings import EmbeddingSettings, Settings, StoreSettings
from litassist.index.embedding import SentenceTransformerEncoder
from litassist.index.ingest_report import IngestReport
from litassist.index.store import Store

DATA = Path(__file__).parent / "data"
BROWSER_SKIP = "browser tests need Debian's chromium"
CORPUS = DATA / "corpus"


def torch_encoder(cls: type[SentenceTransformerEncoder] = SentenceTransformerEncoder) -> SentenceTransformerEncoder:
    """The sentence-transformers encoder (or a subclass) with the default embedding settings (the bundled model)."""
    s = EmbeddingSettings()
    return cls(s.model, device=s.device, batch_size=s.batch_size)


def store_at(home: Path, model_name: str, client=None) -> Store:
    """A store under `home` with the default HNSW settings (they matter only when the collection is created)."""
    return Store(home, model_name, hnsw=hnsw_for(StoreSettings()), client=client)


def ingest(paths: list[Path], store: Store, encoder, **options) -> IngestReport:
    """Ingest into a given store with the default settings (`options` overrides, e.g. flush_chunks)."""
    return ingestor_for(Settings(), store, encoder, **options).run(paths)


def retriever_over(store: Store, encoder, synonyms=None, **overrides) -> HybridRetriever:
    """A retriever over a given store with the default retrieval settings (`overrides`: e.g. k)."""
    return retriever_for(Settings().retrieval, store, encoder, synonyms, **overrides)


@pytest.fixture(scope="session")
def encoder() -> SentenceTransformerEncoder:
    """The real bundled all-MiniLM-L6-v2, loaded once per test session."""
    return torch_encoder()


@pytest.fixture(scope="session")
def corpus_home(tmp_path_factory: pytest.TempPathFactory, encoder: SentenceTransformerEncoder) -> Path:
    """A data home with tests/data/corpus ingested (read-only for tests: copy it to modify)."""
    home = tmp_path_factory.mktemp("corpus_home")
    ingest([CORPUS], store_at(home, encoder.name), encoder)
    return home


@pytest.fixture()
def store(corpus_home: Path, encoder: SentenceTransformerEncoder) -> Store:
    """The ingested test corpus."""
    return store_at(corpus_home, encoder.name)


@pytest.fixture()
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """Run the real `litassist` entry point in-process; returns (exit code, stdout, stderr)."""
    from litassist.assistant.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["litassist", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def free_port() -> int:
    """A loopback port with nothing listening on it right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(settings) -> Iterator[str]:
    """`litassist serve` in this process with these settings (its port replaced by a free one); yields its URL."""
    from litassist.app import serve

    port = free_port()
    demo = serve(settings.model_copy(update={"server": settings.server.model_copy(update={"port": port})}),
                 block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def upload(client, *paths: Path) -> tuple[list[list], str]:
    """Upload files through the Library's /ingest endpoint: the report's rows (file, status, records, chunks,
    reason) and the summary line."""
    from gradio_client import handle_file

    report, summary, _, _ = client.predict([handle_file(str(p)) for p in paths], api_name="/ingest")
    return report["data"], summary


def pytest_terminal_summary(terminalreporter) -> None:
    """Say plainly at the end of the run when the browser tests did not run, and how to make them run."""
    skipped = terminalreporter.stats.get("skipped", [])
    reasons = {str(r.longrepr[-1]) for r in skipped if isinstance(r.longrepr, tuple) and BROWSER_SKIP in str(r.longrepr[-1])}
    if reasons:
        terminalreporter.write_line(f"NOTE: {len([r for r in skipped if BROWSER_SKIP in str(r.longrepr)])} browser "
                                    f"tests were skipped ({'; '.join(sorted(reasons)).removeprefix('Skipped: ')}). "
                                    "Install it with `sudo apt-get install chromium` and run `make test` again.",
                                    yellow=True, bold=True)


def eval_document_ranking(dataset_dir: Path, home: Path, **retrieval: Any
                          ) -> tuple[Settings, Any, dict[str, list[str]]]:
    """The settings, the dataset and, per query, the document ranking `litassist eval` (hybrid) gives over a BEIR
    folder (with other retrieval settings when given, e.g. feedback=0.0)."""
    from litassist.assistant.evaluate import build_index, load_dataset, make_retriever

    settings = Settings(home=home)
    for name, value in retrieval.items():
        setattr(settings.retrieval, name, value)
    dataset = load_dataset(dataset_dir)
    comp, _ = build_index(dataset, settings)
    retriever = make_retriever(comp, "hybrid")
    return settings, dataset, {q: [p.chunk.source_id for p in retriever.documents(text, settings.retrieval.doc_candidates)]
                      for q, text in dataset.queries.items()}
