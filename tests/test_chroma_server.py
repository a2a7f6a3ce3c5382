"""Chroma server mode: `litassist --chroma-url` against a real `chroma run` on a free loopback port.

Each test gets its own server (about a second to start) over a fresh folder, so no test sees another's data.
Skipped, with the server's own output as the reason, only when `chroma run` cannot start.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tests.conftest import free_port, ingest, store_at

CORPUS = Path(__file__).parent / "data" / "corpus"
QUESTION = "How does HER2 affect CXCR4?"
START_TIMEOUT_S = 60
NEW_PAPER = {"_id": "quokka-1", "title": "Quokka keratinocytes raise PLXNB3 under ultraviolet stress",
             "text": "Keratinocytes from quokka skin raise PLXNB3 after ultraviolet exposure, which slows migration.",
             "metadata": {"year": 2021, "journal": "Example Journal"}}



def chroma_command() -> str | None:
    """The `chroma` console script installed beside this Python, else one on PATH."""
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if beside.exists() else shutil.which("chroma")


def heartbeat(url: str) -> bool:
    """True once the server answers its heartbeat (no proxy: the server is on loopback)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/api/v2/heartbeat", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


@pytest.fixture()
def chroma_url(tmp_path: Path) -> Iterator[str]:
    """`chroma run` on a free loopback port with its data in tmp_path; terminated when the test ends."""
    command = chroma_command()
    if command is None:
        pytest.skip("the `chroma` command (installed with chromadb) is not available")
    port = free_port()
    log = (tmp_path / "chroma.log").open("w")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "NO_COLOR": "1"}
    server = subprocess.Popen([command, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not heartbeat(url):
            if server.poll() is not None or time.monotonic() > deadline:
                tail = (tmp_path / "chroma.log").read_text(errors="replace")[-800:]
                pytest.skip(f"`chroma run` did not start (exit code {server.poll()}): {tail}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def ask(run_cli, *options: str) -> dict:
    """`litassist … ask QUESTION --json`, parsed."""
    code, out, err = run_cli(*options, "ask", QUESTION, "--json")
    assert code == 0, err
    return json.loads(out)


def same_answer(data: dict) -> tuple:
    """What a reader sees: the sentences with their citations, and the cited sources."""
    return data["answer"], data["sentences"], data["citations"], [p["source_id"] for p in data["passages"]]


def test_server_mode_answers_like_the_embedded_store_on_every_machine(chroma_url, corpus_home, run_cli, tmp_path):
    embedded = ask(run_cli, "--home", corpus_home)
    first = tmp_path / "machine-a"
    code, _, err = run_cli("--home", first, "--chroma-url", chroma_url, "ingest", CORPUS)
    assert code == 0 and "4 added" in err, err

    served = ask(run_cli, "--home", first, "--chroma-url", chroma_url)
    assert not embedded["abstained"] and "CXCR4" in embedded["answer"]
    assert same_answer(served) == same_answer(embedded)
    assert not (first / "chroma").exists()  # vectors went to the server, not into an embedded database

    # Another machine: a new data home, the same server. Its BM25 index is rebuilt from the server's documents.
    second = tmp_path / "machine-b"
    assert same_answer(ask(run_cli, "--home", second, "--chroma-url", chroma_url)) == same_answer(embedded)
    assert any((second / "bm25").iterdir())
    code, out, _ = run_cli("--home", second, "--chroma-url", chroma_url, "sources", "--json")
    assert code == 0 and json.loads(out)["chunks"] == 4


def test_a_machine_picks_up_papers_another_machine_added(chroma_url, encoder, run_cli, tmp_path):
    from litassist.index.chroma_server import http_client

    code, _, err = run_cli("--home", tmp_path / "a", "--chroma-url", chroma_url, "ingest", CORPUS)
    assert code == 0, err
    reader = store_at(tmp_path / "b", encoder.name, client=http_client(chroma_url))  # e.g. a running `serve`
    assert reader.refresh() is False  # nothing changed since it opened: no rebuild
    assert reader.lexical("quokka PLXNB3", k=5) == []

    paper = tmp_path / "new" / "quokka.jsonl"
    paper.parent.mkdir()
    paper.write_text(json.dumps(NEW_PAPER) + "\n", encoding="utf-8")
    code, _, err = run_cli("--home", tmp_path / "a", "--chroma-url", chroma_url, "ingest", paper)
    assert code == 0 and "1 added" in err, err

    assert reader.refresh() is True
    hits = reader.lexical("quokka PLXNB3", k=5)
    assert [p.chunk.source_id for p in hits] == ["quokka-1"]
    assert reader.count() == 5


def test_a_question_on_one_machine_cites_a_paper_another_machine_just_added(chroma_url, run_cli, tmp_path):
    reader = ("--home", tmp_path / "reader", "--chroma-url", chroma_url)
    code, _, err = run_cli(*reader, "ingest", CORPUS)
    assert code == 0, err
    question = "What do quokka keratinocytes raise after ultraviolet exposure?"
    code, out, err = run_cli(*reader, "ask", question, "--json")
    assert code == 0, err
    assert "quokka-1" not in [p["source_id"] for p in json.loads(out)["passages"]]

    paper = tmp_path / "new" / "quokka.jsonl"
    paper.parent.mkdir()
    paper.write_text(json.dumps(NEW_PAPER) + "\n", encoding="utf-8")
    code, _, err = run_cli("--home", tmp_path / "writer", "--chroma-url", chroma_url, "ingest", paper)
    assert code == 0 and "1 added" in err, err

    code, out, err = run_cli(*reader, "ask", question, "--json")  # the reader's very next question
    assert code == 0, err
    data = json.loads(out)
    assert "PLXNB3" in data["answer"] and "quokka-1" in [c["source_id"] for c in data["citations"]]


def test_a_machine_that_opened_during_another_ones_write_keeps_that_write(chroma_url, encoder, tmp_path,
                                                                         monkeypatch):
    # Machine B opens the server while machine A is writing, begins its own write, and finishes after A. Each
    # machine's journal entry must stay its own: B must not carry A's finished files in the journal, or the next
    # opening on B's machine takes them for B's interrupted write and deletes their chunks. The two writers run in
    # two threads, ordered by events (no timing): A's write is held until B's has begun, B's until A is done. The
    # one stand-in: which machine a journal entry names (A is "machine-a"; only one writer runs at any moment).
    from litassist.index import journal
    from litassist.index.chroma_server import http_client

    machine, this_machine = ["machine-a"], journal.writer
    monkeypatch.setattr(journal, "writer", lambda: {**this_machine(), "host": machine[0]})
    a = store_at(tmp_path / "a", encoder.name, client=http_client(chroma_url))
    a_writing, b_writing, a_done = threading.Event(), threading.Event(), threading.Event()
    a._upsert = held(a._upsert, a_writing, b_writing)
    thread = threading.Thread(target=lambda: (ingest([CORPUS], a, encoder), a_done.set()))
    thread.start()
    assert a_writing.wait(120)
    machine[0] = this_machine()["host"]
    b = store_at(tmp_path / "b", encoder.name, client=http_client(chroma_url))  # opened while A writes
    b._upsert = held(b._upsert, b_writing, a_done, machine)
    paper = tmp_path / "new" / "quokka.jsonl"
    paper.parent.mkdir()
    paper.write_text(json.dumps(NEW_PAPER) + "\n", encoding="utf-8")
    ingest([paper], b, encoder)
    thread.join(120)
    chunks = a.count()

    later = store_at(tmp_path / "c", encoder.name, client=http_client(chroma_url))  # on B's machine
    assert later.recovered == [] and later.count() == chunks
    assert {row.source_id for row in later.sources()} >= {"quokka-1", *{r.source_id for r in a.sources()}}


def held(upsert, started: threading.Event, until: threading.Event, machine: list[str] | None = None):
    """A store's upsert that, the first time, says the write has started and waits for `until` before writing
    (`machine`: the journal's machine name, handed to the other writer meanwhile)."""
    def write(*rows) -> None:
        if not started.is_set():
            own = machine and machine[0]
            if machine:
                machine[0] = "machine-a"
            started.set()
            assert until.wait(120)
            if machine:
                machine[0] = own
        upsert(*rows)
    return write


def test_a_source_deleted_on_one_machine_stays_deleted_while_another_machine_writes(chroma_url, encoder, run_cli,
                                                                                    tmp_path):
    # Machine A begins a write: it reads the collection's metadata to stamp a new generation on it. Machine B deletes
    # a source before A's metadata write lands. Chroma replaces collection metadata whole, so whatever B kept there,
    # A's write erases: the deletion must live elsewhere, or the source comes back on the next ingest of its file.
    from litassist.index.deletion import delete_sources, deleted_sources

    a, b, victim = two_machines(chroma_url, encoder, run_cli, tmp_path)
    while_a_writes(a, encoder, tmp_path, lambda: delete_sources(b, [victim]))

    c = ("--home", tmp_path / "c", "--chroma-url", chroma_url)  # a third machine
    listed = listing(run_cli, *c)
    assert [d["source_id"] for d in listed["deleted"]] == [victim]
    assert victim not in listed["items"] and "quokka-1" in listed["items"]  # A's write landed too
    code, _, err = run_cli(*c, "ingest", "--force", CORPUS)  # its file read again: the source stays out
    assert code == 0, err
    assert victim not in listing(run_cli, *c)["items"]
    assert [s.source_id for s in deleted_sources(b)] == [victim]


def test_a_source_restored_on_one_machine_stays_restored_while_another_machine_writes(chroma_url, encoder, run_cli,
                                                                                      tmp_path):
    # As above, with B restoring a deleted source: A's metadata write, read before the restore, must not bring the
    # deletion back (the source would be listed as deleted, and the next forced ingest of its file would drop it).
    from litassist.assistant.factory import ingestor_for
    from litassist.assistant.settings import Settings
    from litassist.index.deletion import delete_sources, restore_sources

    a, b, victim = two_machines(chroma_url, encoder, run_cli, tmp_path)
    delete_sources(b, [victim])
    restored = []
    while_a_writes(a, encoder, tmp_path, lambda: restored.extend(restore_sources(
        b, lambda **options: ingestor_for(Settings(), b, encoder, **options), [victim])))
    assert [r.ok for r in restored] == [True]

    c = ("--home", tmp_path / "c", "--chroma-url", chroma_url)  # a third machine
    listed = listing(run_cli, *c)
    assert listed["deleted"] == [] and {victim, "quokka-1"} <= set(listed["items"])
    code, _, err = run_cli(*c, "ingest", "--force", CORPUS)
    assert code == 0, err
    assert victim in listing(run_cli, *c)["items"]


def two_machines(url: str, encoder, run_cli, tmp_path: Path):
    """The test corpus ingested into the server; stores on two more machines, A and B (their own data homes), and
    the id of the source in egfr_notes.md."""
    from litassist.index.chroma_server import http_client

    code, _, err = run_cli("--home", tmp_path / "first", "--chroma-url", url, "ingest", CORPUS)
    assert code == 0, err
    a = store_at(tmp_path / "a", encoder.name, client=http_client(url))
    b = store_at(tmp_path / "b", encoder.name, client=http_client(url))
    return a, b, next(r.source_id for r in b.sources() if r.file.endswith("egfr_notes.md"))


def while_a_writes(a, encoder, tmp_path: Path, action) -> None:
    """Run `action` (machine B's) while machine A ingests a new paper, in the gap between A reading the collection's
    metadata and writing it back: two threads ordered by events, no timing."""
    a_read, b_done = threading.Event(), threading.Event()
    modify = a.collection.modify

    def held_modify(**change) -> None:  # called by Store._modify once it has read the metadata as the server has it
        if "metadata" in change and not a_read.is_set():
            a_read.set()
            assert b_done.wait(120)
        modify(**change)

    a.collection.modify = held_modify
    paper = tmp_path / "new" / "quokka.jsonl"
    paper.parent.mkdir()
    paper.write_text(json.dumps(NEW_PAPER) + "\n", encoding="utf-8")
    thread = threading.Thread(target=lambda: ingest([paper], a, encoder))
    thread.start()
    assert a_read.wait(120)
    try:
        action()
    finally:
        b_done.set()
        thread.join(120)
    assert not thread.is_alive()


def listing(run_cli, *options) -> dict:
    """`litassist sources --json`, with `items` as the set of indexed source ids."""
    code, out, err = run_cli(*options, "sources", "--json")
    assert code == 0, err
    listed = json.loads(out)
    return {**listed, "items": {i["source_id"] for i in listed["items"]}}


def test_an_unreachable_server_is_a_one_line_error(run_cli, tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = run_cli("--home", tmp_path, "--chroma-url", url, "sources")
    assert code == 1 and out == ""
    assert err.startswith(f"error: Cannot reach the Chroma server at {url}") and err.count("\n") == 1


def test_a_malformed_server_url_says_what_is_expected(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("LITASSIST_STORE__CHROMA_URL", "localhost:8000")  # the setting, not only the option
    code, _, err = run_cli("--home", tmp_path, "sources")
    assert code == 1
    assert "invalid Chroma server URL 'localhost:8000': expected http://HOST:PORT" in err


# What `chroma run` answered concurrent writers in bench/writers.py (docs/benchmarks.md, "Concurrent writers").
NOTHING_ON_DISK = ("Error executing plan: Internal error: Error creating hnsw segment reader: Nothing found on "
                   "disk")


class FlakyChroma(ThreadingHTTPServer):
    """A loopback proxy in front of a real `chroma run`: the first `failures` requests whose path ends with one of
    `ends` get the answer Chroma's server gives when it fails (500, its error JSON); the rest go through."""

    daemon_threads = True

    def __init__(self, upstream: str, ends: tuple[str, ...], failures: int, message: str) -> None:
        self.upstream, self.ends, self.left, self.message = upstream, ends, dict.fromkeys(ends, failures), message
        self.failed: list[str] = []
        super().__init__(("127.0.0.1", 0), _Relay)

    @property
    def url(self) -> str:
        """Where clients connect."""
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def relay(self) -> None:
        server: FlakyChroma = self.server  # type: ignore[assignment]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        end = next((e for e in server.ends if self.path.endswith(e)), None)
        if end is not None and server.left[end] > 0:
            server.left[end] -= 1
            server.failed.append(end)
            status, content = 500, json.dumps({"error": "InternalError", "message": server.message}).encode()
        else:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            request = urllib.request.Request(server.upstream + self.path, data=body or None, method=self.command,
                                             headers=headers)
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            try:
                with opener.open(request, timeout=60) as reply:
                    status, content = reply.status, reply.read()
            except urllib.error.HTTPError as exc:
                status, content = exc.code, exc.read()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_DELETE = relay


@pytest.fixture()
def flaky(chroma_url: str):
    """Start a FlakyChroma in front of the test's server: flaky(ends, failures, message)."""
    started: list[FlakyChroma] = []

    def start(ends: tuple[str, ...], failures: int, message: str = NOTHING_ON_DISK) -> FlakyChroma:
        proxy = FlakyChroma(chroma_url, ends, failures, message)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.shutdown()
        proxy.server_close()


def test_a_server_busy_with_other_writers_costs_a_pause_not_a_failed_ingest(flaky, corpus_home, run_cli, tmp_path):
    proxy = flaky(("/upsert", "/get", "/query"), failures=2)
    code, _, err = run_cli("--home", tmp_path / "a", "--chroma-url", proxy.url, "ingest", CORPUS)
    assert code == 0 and "4 added" in err, err
    assert err.count("The Chroma server is busy with another writer (Nothing found on disk): trying again in") >= 2
    assert same_answer(ask(run_cli, "--home", tmp_path / "a", "--chroma-url", proxy.url)) == \
        same_answer(ask(run_cli, "--home", corpus_home))
    assert sorted(proxy.failed) == sorted(["/upsert", "/get", "/query"] * 2)  # each failed twice, then went through


def test_other_server_errors_are_not_tried_again(flaky, run_cli, tmp_path):
    proxy = flaky(("/upsert",), failures=50, message="Error executing plan: Internal error: disk full")
    code, _, err = run_cli("--home", tmp_path / "a", "--chroma-url", proxy.url, "ingest", CORPUS)
    assert code != 0 and "disk full" in err
    assert proxy.failed == ["/upsert"]  # the ingest's one write failed once and was not sent again
