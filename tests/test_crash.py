"""Crash safety: `litassist ingest` killed with SIGKILL at random points, ten times in a row, then run to the end,
leaves exactly the index a single uninterrupted run makes: same chunks, texts, metadata and BM25, nothing twice,
nothing orphaned, no write left in the journal."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ingest, store_at

LITASSIST = Path(sys.executable).with_name("litassist")
KILLS = 10
FLUSH = 12  # chunks per write in the killed runs: many small writes, so kills land in and between them
GENES = ["TP53", "KRAS", "EGFR", "BRAF", "PIK3CA", "PTEN", "MYC", "CDK4", "ERBB2", "ALK", "MET", "RET", "NRAS",
         "IDH1", "JAK2", "FLT3", "NPM1", "BRCA1", "BRCA2", "ATM", "CDKN2A", "SMAD4", "APC", "VHL"]
VERBS = ["activates", "represses", "phosphorylates", "stabilises", "degrades", "binds"]
CELLS = ["lung", "breast", "colon", "liver", "kidney", "skin", "blood", "brain"]


def sentence(rng: random.Random, version: int) -> str:
    """A short made-up finding; version 2 rewrites some of them."""
    a, b = rng.sample(GENES, 2)
    cell = rng.choice(CELLS)
    return f"{a} {rng.choice(VERBS)} {b} in {cell} cancer cells (study {rng.randrange(10_000)}, v{version})."


def write_corpus(folder: Path, version: int) -> None:
    """Many small files of every common kind; version 2 changes, drops and adds some, and repeats some ids."""
    rng = random.Random(7)
    for part in range(24 if version == 2 else 16):
        lines = []
        for doc in range(10):
            text = sentence(rng, version if doc % 3 == 0 else 1)
            if not (version == 2 and part % 4 == 1 and doc > 6):  # v2 drops some documents from a file
                lines.append(json.dumps({"_id": f"d{part}-{doc}", "title": f"Paper {part}.{doc}", "text": text}))
        if version == 2 and part >= 20:  # ids another file already holds: skipped, whichever run sees them
            lines.append(json.dumps({"_id": f"d{part - 20}-0", "title": "A copy", "text": sentence(rng, 2)}))
        (folder / "beir" / f"part{part:02}.jsonl").write_text("\n".join(lines) + "\n")
    for note in range(30 if version == 2 else 20):
        body = " ".join(sentence(rng, version if note % 2 else 1) for _ in range(3))
        (folder / "notes" / f"note{note:02}.md").write_text(f"# Note {note}\n\n{body}\n")
    for fig in range(12 if version == 2 else 6):
        caption = " ".join(sentence(rng, version if fig % 3 else 1) for _ in range(2))
        (folder / "figures" / f"PMC{9100000 + fig}__f1.md").write_text(
            f"---\nfigid: PMC{9100000 + fig}__f1\nfigtitle: Pathway {fig}\nnumber: F1\norganisms:\n- Homo sapiens\n"
            f"caption: '{caption}'\n---\n")


def make_corpus(folder: Path, version: int) -> Path:
    """The corpus folder rewritten with the given version's files."""
    for sub in ("beir", "notes", "figures"):
        shutil.rmtree(folder / sub, ignore_errors=True)
        (folder / sub).mkdir(parents=True)
    write_corpus(folder, version)
    return folder


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Small writes; compiled bytecode kept (in tmp) so a dozen start-ups do not each recompile torch and friends."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cache = tmp_path_factory.mktemp("pycache")
    return {**env, "LITASSIST_INGEST__FLUSH_CHUNKS": str(FLUSH), "PYTHONPYCACHEPREFIX": str(cache)}


def written(log: Path) -> int:
    """Files the run has reported written so far."""
    return sum(line.startswith(("+ ", "~ ")) for line in log.read_text().splitlines())


def db_stamp(home: Path) -> tuple:
    """Modification stamps of Chroma's SQLite files: they change when a write begins (the journal entry)."""
    stamps = []
    for path in sorted((home / "chroma").glob("chroma.sqlite3*")):
        try:
            info = path.stat()
        except FileNotFoundError:  # a rollback journal comes and goes
            continue
        stamps.append((path.name, info.st_mtime_ns, info.st_size))
    return tuple(stamps)


def wait_until(proc: subprocess.Popen, ready) -> None:
    """Poll until `ready()` or the process ends (two minutes at most)."""
    started = time.monotonic()
    while proc.poll() is None and not ready() and time.monotonic() - started < 120:
        time.sleep(0.005)


def run_and_kill(home: Path, corpus: Path, rng: random.Random, log: Path, env: dict[str, str]) -> int:
    """Start `litassist ingest` and SIGKILL it: during start-up/recovery, anywhere between writes, or just after a
    write has begun (encoding takes most of the time, so pure chance would rarely hit a write); the exit code."""
    with log.open("w") as err:
        proc = subprocess.Popen([str(LITASSIST), "--home", str(home), "ingest", str(corpus)], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    mode = rng.choices(["start-up", "anywhere", "in a write"], weights=[2, 3, 5])[0]
    writes = rng.randint(1, 3)
    delay = {"start-up": rng.uniform(0.3, 2.5), "anywhere": rng.uniform(0.0, 0.5), "in a write": rng.uniform(0, 0.1)}
    if mode != "start-up":
        wait_until(proc, lambda: written(log) >= writes)
    if mode == "in a write":
        before = db_stamp(home)
        wait_until(proc, lambda: db_stamp(home) != before)
    time.sleep(delay[mode])
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    return proc.wait(timeout=60)  # reaped: a zombie would still look like a live writer


def state(home: Path, model: str) -> dict:
    """Everything a later answer depends on: chunks, BM25 and the dense index, plus the write journal."""
    store = store_at(home, model)
    rows = {cid: (doc, meta) for cid, doc, meta in store.scan(include_documents=True)}
    got = store.collection.get(ids=sorted(rows), include=["embeddings"])
    vectors = dict(zip(got["ids"], np.asarray(got["embeddings"])))
    lexical = {q: {p.chunk.id: round(p.score, 4) for p in store.lexical(q, len(rows))}
               for q in ("KRAS lung", "TP53 phosphorylates", "pathway", "copy", "note")}
    probe = vectors[sorted(rows)[0]]
    dense = store.collection.query(query_embeddings=[probe.tolist()], n_results=len(rows), include=[])["ids"][0]
    return {"rows": rows, "vectors": vectors, "bm25_ids": sorted(store.bm25.ids), "bm25_generation":
            store.bm25.generation == store.generation, "lexical": lexical, "dense_ids": sorted(dense),
            "journal": store.journal.read()}


@pytest.mark.slow
def test_ingest_killed_ten_times_then_finished_equals_one_clean_run(tmp_path, encoder, env):
    corpus = make_corpus(tmp_path / "corpus", 1)
    ingest([corpus], store_at(tmp_path / "v1", encoder.name), encoder)  # both homes start from the same index
    for name in ("crashed", "clean"):
        shutil.copytree(tmp_path / "v1", tmp_path / name)
    make_corpus(corpus, 2)  # changed files are replaced, so kills also land between a replacement's writes
    ingest([corpus], store_at(tmp_path / "clean", encoder.name), encoder)

    rng = random.Random(20240611)
    codes = [run_and_kill(tmp_path / "crashed", corpus, rng, tmp_path / f"run{i}.log", env) for i in range(KILLS)]
    final = subprocess.run([str(LITASSIST), "--home", str(tmp_path / "crashed"), "ingest", str(corpus)],
                           capture_output=True, text=True, timeout=300, env=env)

    assert final.returncode in (0, 3) and ", 0 failed" in final.stderr, final.stderr  # 3: ids another file holds
    assert codes.count(-signal.SIGKILL) >= KILLS // 2, codes  # most runs really were cut short
    crashed, clean = state(tmp_path / "crashed", encoder.name), state(tmp_path / "clean", encoder.name)
    assert crashed["rows"] == clean["rows"]  # identical chunk ids, documents and metadata
    assert crashed["journal"] == {} and crashed["bm25_generation"] and crashed["bm25_ids"] == sorted(crashed["rows"])
    assert crashed["lexical"] == clean["lexical"] and crashed["dense_ids"] == sorted(crashed["rows"])
    assert all(np.allclose(crashed["vectors"][cid], clean["vectors"][cid], atol=1e-4) for cid in clean["rows"])
    positions = defaultdict(list)
    for _, meta in crashed["rows"].values():
        positions[meta["source_id"]].append(meta["position"])
    assert all(sorted(p) == list(range(len(p))) for p in positions.values())  # no chunk twice, no stale leftovers
    assert sum(len(p) for p in positions.values()) == len(clean["rows"]) > 250


CHILD = """
import os, signal, sys
from pathlib import Path
from chromadb.api.models.Collection import Collection
from litassist.assistant.factory import ingestor_for
from litassist.assistant.settings import Settings
from tests.conftest import store_at, torch_encoder

delete = Collection.delete

def die(self, *args, **kwargs):
    if self.name.endswith("-journal"):  # the write journal's own rows: not a chunk deletion
        return delete(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

Collection.delete = die  # kill -9 just after the new chunks are upserted, before the old version's are deleted
os.environ.pop("LITASSIST_INGEST__FLUSH_CHUNKS", None)  # the file is written in one part, as by default
encoder = torch_encoder()
ingestor_for(Settings(), store_at(Path(sys.argv[1]), encoder.name), encoder).run([Path(sys.argv[2])])
"""


def test_a_kill_between_writing_a_new_version_and_deleting_the_old_is_repaired_on_open(tmp_path, encoder, env):
    paper = tmp_path / "papers.jsonl"
    docs = [{"_id": f"p{i}", "title": f"Paper {i}", "text": f"KRAS binds BRAF in study {i}."} for i in range(6)]
    paper.write_text("".join(json.dumps(d) + "\n" for d in docs))
    ingest([paper], store_at(tmp_path / "v1", encoder.name), encoder)
    for name in ("crashed", "clean"):
        shutil.copytree(tmp_path / "v1", tmp_path / name)
    docs = docs[:4] + [{"_id": "p9", "title": "Paper 9", "text": "MET amplification follows osimertinib."}]
    docs[1]["text"] = "KRAS binds RAF1 instead."
    paper.write_text("".join(json.dumps(d) + "\n" for d in docs))
    ingest([paper], store_at(tmp_path / "clean", encoder.name), encoder)

    child = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "crashed"), str(paper)],
                           env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr

    store = store_at(tmp_path / "crashed", encoder.name)  # opening finds the write in the journal and undoes it
    assert store.recovered == [str(paper.resolve())] and store.count() == 0 and store.journal.read() == {}
    report = ingest([paper], store, encoder)
    assert [o.status for o in report.outcomes] == ["added"]  # not "unchanged": the half-written file is redone
    assert state(tmp_path / "crashed", encoder.name)["rows"] == state(tmp_path / "clean", encoder.name)["rows"]


CHILD_BETWEEN_PARTS = """
import os, signal, sys
from pathlib import Path
from chromadb.api.models.Collection import Collection
from litassist.assistant.factory import ingestor_for
from litassist.assistant.settings import Settings
from tests.conftest import store_at, torch_encoder

upsert, calls = Collection.upsert, []

def upsert_then_die(self, *args, **kwargs):
    if self.name.endswith("-journal"):  # the write journal's own rows: not a chunk write
        return upsert(self, *args, **kwargs)
    calls.append(1)
    if len(calls) == 2:  # kill -9 once the file's first part is written, before its second is
        os.kill(os.getpid(), signal.SIGKILL)
    return upsert(self, *args, **kwargs)

Collection.upsert = upsert_then_die
encoder = torch_encoder()
ingestor_for(Settings(), store_at(Path(sys.argv[1]), encoder.name), encoder, flush_chunks=8).run([Path(sys.argv[2])])
"""


def test_a_kill_between_two_parts_of_one_file_is_repaired_on_open(tmp_path, encoder, env):
    paper = tmp_path / "corpus.jsonl"
    docs = [{"_id": f"p{i}", "title": f"Paper {i}", "text": f"{GENES[i % 24]} binds BRAF in study {i}."}
            for i in range(30)]
    paper.write_text("".join(json.dumps(d) + "\n" for d in docs))
    ingest([paper], store_at(tmp_path / "v1", encoder.name), encoder)
    for name in ("crashed", "clean"):
        shutil.copytree(tmp_path / "v1", tmp_path / name)
    docs[3]["text"], docs[25]["text"] = "KRAS binds RAF1 instead.", "MET amplification follows osimertinib."
    paper.write_text("".join(json.dumps(d) + "\n" for d in docs[:28]))
    ingest([paper], store_at(tmp_path / "clean", encoder.name), encoder)

    child = subprocess.run([sys.executable, "-c", CHILD_BETWEEN_PARTS, str(tmp_path / "crashed"), str(paper)],
                           env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr

    store = store_at(tmp_path / "crashed", encoder.name)  # the file was still in the journal: its chunks are removed
    assert store.recovered == [str(paper.resolve())] and store.count() == 0
    report = ingest([paper], store, encoder, flush_chunks=8)
    assert [(o.status, o.records) for o in report.outcomes] == [("added", 28)]
    crashed, clean = state(tmp_path / "crashed", encoder.name), state(tmp_path / "clean", encoder.name)
    assert crashed["rows"] == clean["rows"] and crashed["journal"] == {} and crashed["lexical"] == clean["lexical"]


SERVER_KILLED_IN_AN_UPLOAD = """
import os, signal, sys
from pathlib import Path
from chromadb.api.models.Collection import Collection
from litassist.app import serve
from litassist.assistant.settings import ServerSettings, Settings

upsert, calls = Collection.upsert, []

def upsert_then_die(self, *args, **kwargs):
    upsert(self, *args, **kwargs)
    if self.name.endswith("-journal"):  # the write journal's own rows: not a chunk write
        return
    calls.append(1)
    if len(calls) == 2:  # kill -9 just after the second upload's first write: its first part is in, the rest is not
        os.kill(os.getpid(), signal.SIGKILL)

Collection.upsert = upsert_then_die
serve(Settings(home=Path(sys.argv[1]), server=ServerSettings(port=int(sys.argv[2]))))
"""


def up(url: str, server: subprocess.Popen, log: Path) -> None:
    """Wait until the served UI answers HTTP (or fail with its log if it exits first)."""
    import httpx

    with httpx.Client(trust_env=False, timeout=10) as client:
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                if client.get(url + "config").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)


def export(path: Path, prefix: str, count: int) -> Path:
    """An export of `count` made-up papers (.jsonl: read and written in parts, so a kill can fall between them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"_id": f"{prefix}{i}", "title": f"{prefix.title()} paper {i} on KRAS",
                                        "text": f"KRAS binds partner {i} in {prefix} cells."}) + "\n"
                            for i in range(count)), encoding="utf-8")
    return path


def test_a_server_killed_while_ingesting_an_upload_finishes_it_when_it_next_starts(tmp_path, encoder, env):
    from gradio_client import Client

    from tests.conftest import free_port, upload

    home = tmp_path / "home"
    first = export(tmp_path / "alice" / "export.jsonl", "alice", 2)
    second = export(tmp_path / "bob" / "export.jsonl", "bob", 40)  # another export of the same name
    env = {**env, "LITASSIST_INGEST__FLUSH_CHUNKS": "8"}  # the server applies it: the upload is written in parts
    port, log = free_port(), tmp_path / "killed.log"
    with log.open("w") as output:
        killed = subprocess.Popen([sys.executable, "-c", SERVER_KILLED_IN_AN_UPLOAD, str(home), str(port)],
                                  cwd=Path(__file__).resolve().parents[1], env=env, stdout=output, stderr=output)
    up(f"http://127.0.0.1:{port}/", killed, log)
    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    assert [row[:3] for row in upload(client, first)[0]] == [["export.jsonl", "added", 2]]  # one write
    with pytest.raises(Exception):  # the connection drops: the server is gone
        upload(client, second)
    assert killed.wait(timeout=120) == -signal.SIGKILL, log.read_text()[-3000:]

    port, log = free_port(), tmp_path / "restarted.log"
    with log.open("w") as output:
        restarted = subprocess.Popen([str(LITASSIST), "--home", str(home), "serve", "--port", str(port)], env=env,
                                     stdout=output, stderr=output)
    try:
        up(f"http://127.0.0.1:{port}/", restarted, log)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        titles = {source["title"] for source in client.predict(api_name="/sources")}
        config = Client(f"http://127.0.0.1:{port}/", verbose=False).config
    finally:
        restarted.terminate()
        restarted.wait(timeout=60)
    assert titles == {f"Alice paper {i} on KRAS" for i in range(2)} | {f"Bob paper {i} on KRAS" for i in range(40)}
    said = ("An ingest was interrupted when this server last stopped. The partial chunks of 1 file it was writing "
            "were removed. Its uploads were ingested again: 1 added, 0 replaced, 0 unchanged, 0 failed.")
    assert said in log.read_text(), log.read_text()[-3000:]  # in the log
    note = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "recovery-note")["props"]
    assert said in note["value"] and note["visible"]  # and on the Library tab
    store = store_at(home, encoder.name)
    assert store.journal.read() == {} and sorted(store.bm25.ids) == sorted(
        cid for cid, _, _ in store.scan())
    assert list((home / "uploads" / ".pending").iterdir()) == []  # the batch is finished


def test_a_write_an_earlier_version_journaled_in_metadata_is_still_undone(tmp_path, encoder):
    # Data homes written before the journal moved into its own rows keep theirs in the collection's metadata: a
    # process killed mid-write then must still have its files removed (so the next ingest adds them whole).
    import socket

    store = store_at(tmp_path / "home", encoder.name)
    ingest([Path(__file__).parent / "data" / "corpus"], store, encoder)
    files = sorted({row.file for row in store.sources()})
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = {"host": socket.gethostname(), "pid": int(child.stdout), "start": "1", "files": files[:1]}
    with store.lock:
        store.update_metadata(lambda meta: {**meta, "pending": json.dumps(dead)})

    reopened = store_at(tmp_path / "home", encoder.name)
    assert reopened.recovered == files[:1]
    assert sorted({row.file for row in reopened.sources()}) == files[1:]
    assert "pending" not in (reopened.collection.metadata or {})
