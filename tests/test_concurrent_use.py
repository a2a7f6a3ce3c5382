"""Several users at once in one process, as `litassist serve` runs them: chats answered while an ingest runs."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from litassist.assistant.answer import answer
from tests.conftest import ingest, retriever_over, store_at

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
    retriever = retriever_over(store, encoder, k=8)
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
    report = ingest([corpus], store_at(tmp_path / "other_home", encoder.name), encoder)  # same model, another index
    for thread in chats:
        thread.join()

    assert not report.failed and report.counts()["added"] == 1
    assert failures == []
    assert len(got) == ROUNDS * len(chats)
    assert all(text == expected[question] for question, text in got)


def records_file(path: Path, prefix: str, count: int) -> Path:
    """A BEIR .jsonl of `count` made-up records whose ids start with `prefix`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"_id": f"{prefix}-{i}", "title": f"{prefix} record {i}",
                                        "text": f"ZNF{i} binds QKX{i} in {prefix} cells."}) + "\n" for i in range(count)))
    return path


def test_uploads_and_deletions_at_once_never_fail_and_leave_one_consistent_index(corpus_home, encoder, tmp_path):
    """Three sessions uploading and two deleting at the same time through the served app: every operation does what
    it said, and Chroma, BM25 and the source list agree at the end."""
    import shutil

    from gradio_client import Client

    from litassist.assistant.settings import Settings
    from tests.conftest import served, upload

    home = shutil.copytree(corpus_home, tmp_path / "home")
    ingest([records_file(tmp_path / "victims.jsonl", "victim", 24)], store_at(home, encoder.name), encoder)
    errors: list[str] = []
    added: list[list] = []
    notes: list[str] = []

    def guarded(work) -> None:
        try:
            work()
        except Exception as exc:  # an error the user would see
            errors.append(f"{type(exc).__name__}: {exc}"[:300])

    def uploader(n: int) -> None:
        client = Client(url, verbose=False)
        for k in range(4):
            rows, _ = upload(client, records_file(tmp_path / f"u{n}" / f"batch{k}.jsonl", f"up{n}x{k}", 3))
            added.extend(rows)

    def deleter(n: int) -> None:
        client = Client(url, verbose=False)
        for i in range(n, 24, 2):
            notes.append(client.predict(f"victim-{i}", api_name="/delete_source")[0])

    with served(Settings(home=home)) as url:
        threads = [threading.Thread(target=guarded, args=(lambda n=n: uploader(n),)) for n in range(3)]
        threads += [threading.Thread(target=guarded, args=(lambda n=n: deleter(n),)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert sorted(row[1:3] for row in added) == [["added", 3]] * 12
    assert sorted(notes) == sorted(f"Deleted “victim record {i}” (paper, 1 chunk)." for i in range(24))
    store = store_at(home, encoder.name)
    chunks = {cid: meta for cid, _, meta in store.scan()}
    ids = {meta["source_id"] for meta in chunks.values()}
    assert {f"up{n}x{k}-{i}" for n in range(3) for k in range(4) for i in range(3)} <= ids
    assert not any(source.startswith("victim-") for source in ids)
    assert sorted(store.bm25.ids) == sorted(chunks) and store.bm25.generation == store.generation
    assert sorted(row.source_id for row in store.sources()) == sorted(ids)
    assert [p.name for p in (home / "bm25").iterdir()] == [store.name]  # no half-saved BM25 folder left behind


def waiting_for(lock: Path, pid: int) -> bool:
    """Whether process `pid` is blocked waiting for the flock on `lock` (a '->' line of /proc/locks)."""
    inode = f":{lock.stat().st_ino} "
    return any("->" in line and inode in line and f" {pid} " in line for line in Path("/proc/locks").open())


def test_a_cli_ingest_waits_for_the_writer_that_holds_the_data_home(tmp_path, encoder):
    """The CLI and a server on one data home: the second writer waits for the first instead of writing beside it."""
    import subprocess
    import sys
    import time

    home = tmp_path / "home"
    store = store_at(home, encoder.name)
    papers = records_file(tmp_path / "papers.jsonl", "cli", 3)
    with store.lock:  # as the server holds it while it ingests an upload or deletes a source
        ingesting = subprocess.Popen([str(Path(sys.executable).with_name("litassist")), "--home", str(home), "ingest",
                                      str(papers)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while ingesting.poll() is None and not waiting_for(home / "write.lock", ingesting.pid):
            time.sleep(0.05)  # until the ingest has loaded and reached the lock (or, before the lock, finished)
        assert ingesting.poll() is None and store.count() == 0  # waiting, nothing written
    _, err = ingesting.communicate(timeout=300)
    assert ingesting.returncode == 0, err
    assert store_at(home, encoder.name).count() == 3 and "1 added" in err
