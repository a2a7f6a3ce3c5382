"""Shared fixtures: the real embedding model, and a store built from the project's own test corpus."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Fixtures, in-process CLI runs and subprocesses must all read one collection, so the suite pins the torch encoder;
# tests/test_encoders.py covers the onnx backends (the default on CPU is onnx-int8) end to end.
os.environ["LITASSIST_EMBEDDING__BACKEND"] = "torch"

import assistant  # noqa: F401  (switches every library to offline before anything else loads)
from index.embedding import SentenceTransformerEncoder
from index.ingest import ingest
from index.store import Store

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "corpus"


@pytest.fixture(scope="session")
def encoder() -> SentenceTransformerEncoder:
    """The real bundled all-MiniLM-L6-v2, loaded once per test session."""
    return SentenceTransformerEncoder()


@pytest.fixture(scope="session")
def corpus_home(tmp_path_factory: pytest.TempPathFactory, encoder: SentenceTransformerEncoder) -> Path:
    """A data home with tests/data/corpus ingested (read-only for tests: copy it to modify)."""
    home = tmp_path_factory.mktemp("corpus_home")
    ingest([CORPUS], Store(home, encoder.name), encoder)
    return home


@pytest.fixture()
def store(corpus_home: Path, encoder: SentenceTransformerEncoder) -> Store:
    """The ingested test corpus."""
    return Store(corpus_home, encoder.name)


@pytest.fixture()
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """Run the real `litassist` entry point in-process; returns (exit code, stdout, stderr)."""
    from assistant.cli import main

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
