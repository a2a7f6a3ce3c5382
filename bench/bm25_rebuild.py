"""What a machine joining a shared Chroma server pays: rebuilding its BM25 copy from the server's documents.

    python bench/bm25_rebuild.py CORPUS.jsonl [--copies N] [--json]
    python bench/bm25_rebuild.py CORPUS.jsonl --add-one-file [--copies N] [--json]

The corpus's texts (BEIR JSONL, `text` field) are written N times as chunks, with random vectors (BM25 never reads
vectors, so nothing is encoded), into a `chroma run` server on a free loopback port and into an embedded database.
Then a Store is opened twice on each from a fresh data home: each open rebuilds BM25 from Chroma, and is timed.
--add-one-file instead times what an ingest of one more file (10 chunks) pays to bring BM25 in step, in the embedded
database: the new segment (Store.update_bm25) against the whole rebuild every ingest paid before (rebuild_bm25).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling bench/served.py, however this is run

import litassist.assistant  # noqa: F401,E402  (offline switches before chromadb loads)
import numpy as np  # noqa: E402
from served import free_port  # noqa: E402

from litassist.index.chroma_server import http_client  # noqa: E402
from litassist.index.store import Store  # noqa: E402
from litassist.assistant.factory import hnsw_for  # noqa: E402
from litassist.assistant.settings import StoreSettings  # noqa: E402

MODEL = "bench-rebuild"  # a collection name of its own


def rows(corpus: Path, copies: int) -> list[tuple[str, str]]:
    """(chunk id, text) for every non-empty text, `copies` times."""
    texts = [json.loads(line)["text"] for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(f"c{copy}-{i}", text) for copy in range(copies) for i, text in enumerate(texts) if text.strip()]


def fill(client, chunks: list[tuple[str, str]]) -> None:
    """Write the chunks with the metadata BM25 reads, and a generation stamp, as an ingest would."""
    collection = client.get_or_create_collection(f"chunks-{MODEL}", embedding_function=None,
                                                 configuration={"hnsw": {"space": "cosine", **hnsw_for(StoreSettings()).__dict__}})
    vectors = np.random.default_rng(0).standard_normal((len(chunks), 384)).astype(np.float32)
    step = client.get_max_batch_size()
    for start in range(0, len(chunks), step):
        part = chunks[start : start + step]
        collection.upsert(ids=[c[0] for c in part], documents=[c[1] for c in part],
                          embeddings=vectors[start : start + len(part)],
                          metadatas=[{"kind": "paper", "context": "", "source_id": c[0], "position": 0, "file": "f",
                                      "file_hash": "h", "record": "{}"} for c in part])
    collection.modify(metadata={"generation": "bench"})


def timed_opens(make_client, folder: Path, label: str, times: int = 2) -> list[float]:
    """Seconds to open a Store from a fresh home (BM25 rebuilt from Chroma), `times` times."""
    seconds = []
    for n in range(times):
        client = make_client()
        start = time.perf_counter()
        store = Store(folder / f"{label}-{n}", MODEL, hnsw=hnsw_for(StoreSettings()), client=client)
        seconds.append(round(time.perf_counter() - start, 2))
        assert store.bm25.generation == "bench"
    return seconds


def add_one_file(client, folder: Path, chunks: list[tuple[str, str]]) -> dict:
    """Seconds to bring BM25 in step after one more file is written: by a new segment, and by a full rebuild."""
    store = Store(folder / "home", MODEL, hnsw=hnsw_for(StoreSettings()), client=client)  # rebuilt from Chroma on open, then saved
    with store.lock:
        store._begin_write(["new-file"])  # as Store.write does: journal the file, new generation
        extra = chunks[:10]
        store.collection.upsert(ids=[f"new-{cid}" for cid, _ in extra], documents=[text for _, text in extra],
                                embeddings=np.random.default_rng(1).standard_normal((len(extra), 384)).astype(np.float32),
                                metadatas=[{"kind": "paper", "context": "", "source_id": f"new-{cid}", "position": 0,
                                            "file": "new-file", "file_hash": "h2", "record": "{}"} for cid, _ in extra])
        store._end_write(["new-file"])
    start = time.perf_counter()
    store.update_bm25()
    segment = time.perf_counter() - start
    assert len(store.bm25.ids) == store.count() and len(store.bm25.parts) == 2
    start = time.perf_counter()
    store.rebuild_bm25()
    rebuild = time.perf_counter() - start
    return {"add_one_file_segment_s": round(segment, 3), "add_one_file_full_rebuild_s": round(rebuild, 2),
            "speedup": round(rebuild / segment, 1)}


def main() -> None:
    """Fill both databases, time the rebuilds, print the result."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("corpus", type=Path)
    p.add_argument("--copies", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p.add_argument("--add-one-file", action="store_true", help="Time one more file's BM25 update, not the rebuilds")
    args = p.parse_args()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chunks = rows(args.corpus, args.copies)
    if args.add_one_file:
        with tempfile.TemporaryDirectory(prefix="litassist-rebuild-") as tmp:
            embedded = chromadb.PersistentClient(path=str(Path(tmp) / "embedded"),
                                                 settings=ChromaSettings(anonymized_telemetry=False))
            fill(embedded, chunks)
            result = {"chunks": len(chunks), **add_one_file(embedded, Path(tmp), chunks)}
        print(json.dumps(result) if args.json else "\n".join(f"{k:<28} {v}" for k, v in result.items()))
        return
    with tempfile.TemporaryDirectory(prefix="litassist-rebuild-") as tmp:
        folder, port = Path(tmp), free_port()
        server = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(folder / "srv"),
                                   "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(100):  # up to 20 s for the server to answer
                try:
                    remote = http_client(url)
                    break
                except Exception:
                    time.sleep(0.2)
            else:
                sys.exit(f"`chroma run` did not answer at {url}")
            embedded = chromadb.PersistentClient(path=str(folder / "embedded"),
                                                 settings=ChromaSettings(anonymized_telemetry=False))
            fill(remote, chunks)
            fill(embedded, chunks)
            result = {"chunks": len(chunks), "server_rebuild_s": timed_opens(lambda: http_client(url), folder, "http"),
                      "embedded_rebuild_s": timed_opens(lambda: embedded, folder, "embedded")}
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(json.dumps(result) if args.json else "\n".join(f"{k:<20} {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
