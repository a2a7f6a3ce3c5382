"""Concurrent writers into one Chroma server: N `litassist ingest` processes, each with its own data home, at once.

    python bench/writers.py CORPUS.jsonl [--limit 800] [--shards 4] [--writers 1 2 4] [--json]

The first `limit` documents of the corpus are cut into `shards` jsonl files in a temp folder (deleted afterwards; the
corpus itself is only read). For each N a fresh `chroma run` server gets the same shard files, spread over N writer
processes started together; the wall clock runs from their start to the last one's exit. Correctness: the server's
collection (ids, documents, metadata) must equal the single-writer run's, read straight after the writers end and
again after a fresh data home has opened the store (opening settles the write journal, so a journal entry that
wrongly outlived its writer would delete chunks there).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling bench/common.py, however this is run

from common import emit, first_lines, free_port, load_average  # noqa: E402
from litassist.index.chroma_server import BUSY  # noqa: E402

BIN = Path(sys.executable).parent
PAGE = 1000  # rows per Chroma read when comparing collections


def shard(corpus: Path, limit: int, shards: int, folder: Path) -> list[Path]:
    """The first `limit` non-blank lines of the corpus, in `shards` contiguous jsonl files."""
    lines = first_lines(corpus, limit)
    size = -(-len(lines) // shards)
    paths = []
    for i in range(shards):
        path = folder / f"shard-{i}.jsonl"
        path.write_bytes(b"".join(lines[i * size : (i + 1) * size]))
        paths.append(path)
    return paths


def start_chroma(folder: Path) -> tuple[subprocess.Popen, str]:
    """`chroma run` on a free loopback port over `folder`; returns once its heartbeat answers."""
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "NO_COLOR": "1"}
    log = (folder / "chroma.log").open("w")
    server = subprocess.Popen([str(BIN / "chroma"), "run", "--path", str(folder / "server"), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with opener.open(f"{url}/api/v2/heartbeat", timeout=2):
                return server, url
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"`chroma run` did not start: {(folder / 'chroma.log').read_text()[-800:]}")


def snapshot(url: str) -> dict[str, tuple[str, str]]:
    """Every chunk on the server: id -> (document, metadata as sorted JSON)."""
    from litassist.index.chroma_server import http_client

    client = http_client(url)
    rows: dict[str, tuple[str, str]] = {}
    for collection in client.list_collections():
        if collection.name.endswith(("-journal", "-deleted")):  # the write journal, deleted sources
            continue
        total = collection.count()
        for offset in range(0, total, PAGE):
            got = collection.get(limit=PAGE, offset=offset, include=["documents", "metadatas"])
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                rows[cid] = (doc, json.dumps(meta, sort_keys=True))
    return rows


def journal_left(url: str) -> list[str]:
    """Files the server's write journal still lists (none once every writer finished cleanly)."""
    from litassist.index import journal
    from litassist.index.chroma_server import http_client

    client, files = http_client(url), []
    for collection in client.list_collections():
        if collection.name.endswith(("-journal", "-deleted")):  # the write journal, deleted sources
            continue
        files += journal.Journal(client, collection.name).read().get("files", [])
        files += journal.read(collection.metadata).get("files", [])  # where earlier versions kept it
    return files


def run_writers(url: str, groups: dict[Path, list[Path]]) -> tuple[float, list[int], int]:
    """Start one ingest process per data home (and its shard files) at once; (wall seconds to the last exit, exit
    codes, requests the writers sent again because the server was busy)."""
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    start = time.perf_counter()
    procs = [subprocess.Popen([str(BIN / "litassist"), "--home", str(home), "--chroma-url", url,
                               "ingest", *map(str, files)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env=env, text=True)
             for home, files in groups.items()]
    codes, busy = [], 0
    for proc in procs:
        _, err = proc.communicate()
        codes.append(proc.returncode)
        busy += err.count(BUSY)
        if proc.returncode:
            print(err[-1500:], file=sys.stderr)
    return time.perf_counter() - start, codes, busy


def folder_bytes(folder: Path) -> int:
    """Bytes of every file under a folder (0 when it does not exist)."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def compare(rows: dict[str, tuple[str, str]], reference: dict[str, tuple[str, str]]) -> dict[str, int]:
    """Missing, extra and differing chunks against the single-writer run."""
    return {"missing": len(reference.keys() - rows.keys()), "extra": len(rows.keys() - reference.keys()),
            "different": sum(1 for k in rows.keys() & reference.keys() if rows[k] != reference[k])}


def sources(rows: dict[str, tuple[str, str]]) -> set[str]:
    """The source ids the chunks belong to."""
    return {json.loads(meta)["source_id"] for _, meta in rows.values()}


def one_round(n: int, files: list[Path], work: Path, reference: dict | None) -> tuple[dict[str, Any], dict]:
    """A fresh server, n writers over the shard files, then the checks; (result row, the collection)."""
    folder = work / f"n{n}"
    folder.mkdir()
    server, url = start_chroma(folder)
    try:
        groups = {folder / f"writer-{i}": files[i::n] for i in range(n)}
        wall, codes, busy = run_writers(url, groups)
        first_try = compare(snapshot(url), reference) if reference is not None and any(codes) else None
        # A writer that failed is run again alone, as a user would: its unfinished files are recovered and re-added.
        failed = [home for home, code in zip(groups, codes) if code]
        reruns = [run_writers(url, {home: groups[home]}) for home in failed]
        retry_codes, busy = [r[1][0] for r in reruns], busy + sum(r[2] for r in reruns)
        rows = snapshot(url)
        left = journal_left(url)
        # Per chunk on disk: the server's files (vectors, HNSW graph, texts, metadata) and one writer's BM25 (with
        # one writer it holds every chunk).
        sizes = {"server_bytes_per_chunk": round(folder_bytes(folder / "server") / max(len(rows), 1)),
                 "bm25_bytes_per_chunk": round(folder_bytes(folder / "writer-0" / "bm25") / max(len(rows), 1))}
        # A fresh data home opening the store settles the journal, as any later writer or reader would.
        subprocess.run([str(BIN / "litassist"), "--home", str(folder / "opener"), "--chroma-url", url, "sources",
                        "--json"], capture_output=True, check=True)
        after_open = snapshot(url)
    finally:
        server.terminate()
        server.wait(timeout=30)
    ref = reference if reference is not None else rows
    row = {"writers": n, "wall_s": round(wall, 1), "chunks": len(rows), "chunks_per_s": round(len(rows) / wall, 1),
           "sources": len(sources(rows)), "exit_codes": codes, "before_retry": first_try,
           "retry_exit_codes": retry_codes, "journal_left": len(left), "requests_sent_again": busy,
           "vs_single": compare(rows, ref), "vs_single_after_open": compare(after_open, ref),
           "same_sources": sources(rows) == sources(ref) == sources(after_open),
           **(sizes if n == 1 else {}), "load_1min": load_average()}
    return row, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--limit", type=int, default=800, help="documents taken from the corpus")
    parser.add_argument("--shards", type=int, default=4, help="shard files (a multiple of every N)")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="litassist-writers-"))
    try:
        files = shard(args.corpus, args.limit, args.shards, work)
        reference, results = None, []
        for n in sorted(set(args.writers)):  # 1 first: it is the reference
            row, rows = one_round(n, files, work, reference)
            reference = rows if reference is None else reference
            results.append(row)
            print(json.dumps(row), file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    emit({"cpus": os.cpu_count(), "documents": args.limit, "shards": args.shards,
          "runs": {str(r["writers"]): r for r in results}}, args.json, "concurrent writers into one Chroma server")


if __name__ == "__main__":
    main()
