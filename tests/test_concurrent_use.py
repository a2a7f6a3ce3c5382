"""Several users at once in one process, as `litassist serve` runs them: chats answered while an ingest runs."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from assistant.answer import answer
from assistant.retrieval import HybridRetriever
from index.ingest import ingest
from index.store import Store

QUESTIONS = ["How does HER2 affect CXCR4?", "What does mitochondrial MKP1 do in radioresistant breast cancer cells?"]
ROUNDS = 12  # answers per chat thread; the ingest's token counting overlaps them (it races on a shared tokenizer)


def write_corpus(folder: Path, docs: int) -> Path:
    """Short made-up abstracts about genes the questions do not mention, of varied length."""
    path = folder / "background.jsonl"
    lines = [json.dumps({"_id": f"bg-{i}", "title": f"QKX{i} in an imaginary organism",
                         "text": f"QKX{i} binds QKX{i + 1} in cultured cells. " * (1 + i % 5)}) for i in range(docs)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_answers_are_unchanged_and_never_fail_while_an_ingest_runs(store, encoder, tmp_path):
    retriever = HybridRetriever(store=store, encoder=encoder, k=8)
    expected = {q: answer(q, retriever).answer for q in QUESTIONS}
    corpus = write_corpus(tmp_path, 300)
    failures: list[str] = []
    got: list[tuple[str, str]] = []

    def chat(question: str) -> None:
        for _ in range(ROUNDS):
            try:
                got.append((question, answer(question, retriever).answer))
            except Exception as exc:  # what a user would see as an error in the chat
                failures.append(f"{type(exc).__name__}: {exc}")

    chats = [threading.Thread(target=chat, args=(q,)) for q in QUESTIONS * 2]
    for thread in chats:
        thread.start()
    report = ingest([corpus], Store(tmp_path / "other_home", encoder.name), encoder)  # same model, another index
    for thread in chats:
        thread.join()

    assert not report.failed and report.counts()["added"] == 1
    assert failures == []
    assert len(got) == ROUNDS * len(chats)
    assert all(text == expected[question] for question, text in got)
