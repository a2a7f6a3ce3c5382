"""What indexing each chunk with its neighbours costs BM25 (issue 18): the same data home's BM25 rebuilt from Chroma
with each chunk alone (window 0, the index before 2026-12-04) and with its neighbours (window 1, today), alternated,
in one run: rebuild seconds, postings, bytes on disk, and the BM25 side's query p50 over the same questions.

    python bench/bm25_windows.py HOME [--queries FILE] [--questions N] [--rounds 2] [--json]

HOME is a data home that `litassist ingest` or bench/query.py built (e.g. bench/query.py's 100k-chunk --home); its
BM25 is rebuilt in place and left as today's (window 1). Questions: BEIR queries.jsonl or one per line (default: a
few generic biomedical questions).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench.common`, however this is run

from bench.common import emit, load_average  # noqa: E402
from litassist.assistant.factory import Components  # noqa: E402
from litassist.assistant.settings import Settings  # noqa: E402
from litassist.index import bm25_sync  # noqa: E402

QUESTIONS = ["How does HER2 affect CXCR4?", "BRCA1 mutations and DNA repair", "insulin resistance in obesity",
             "p53 degradation by MDM2", "vitamin D deficiency and birth weight", "statins and cardiovascular risk"]


def questions(path: Path | None, count: int) -> list[str]:
    """Up to `count` questions from a BEIR queries.jsonl or a one-per-line file."""
    if path is None:
        return QUESTIONS[:count]
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [json.loads(line)["text"] if path.suffix == ".jsonl" else line for line in lines]
    return texts[:count]


def one_round(comp: Components, window: int, asked: list[str]) -> dict[str, float]:
    """Rebuild BM25 with this window; its seconds, size and the BM25 side's query p50 (ms)."""
    bm25_sync.WINDOW = window
    start = time.perf_counter()
    index = comp.store.rebuild_bm25()
    seconds = time.perf_counter() - start
    times = []
    for q in asked * 3:
        t = time.perf_counter()
        comp.store.lexical(q, comp.settings.retrieval.candidates)
        times.append((time.perf_counter() - t) * 1000)
    disk = sum(f.stat().st_size for f in comp.store.bm25_dir.rglob("*") if f.is_file())
    postings = sum(len(p.segment.docs) for p in index.parts)
    return {"rebuild_s": seconds, "postings": postings, "disk_bytes": disk,
            "lexical_p50_ms": sorted(times)[len(times) // 2]}


def main() -> None:
    """Command line: alternate window 0 and window 1 rebuilds; print the medians per window."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("home", type=Path)
    parser.add_argument("--queries", type=Path)
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    comp = Components(Settings(home=args.home, embedding={"backend": "onnx-int8"}))
    asked = questions(args.queries, args.questions)
    today = bm25_sync.WINDOW
    rounds: dict[int, list[dict[str, float]]] = {0: [], today: []}
    for _ in range(args.rounds):
        for window in (0, today):
            rounds[window].append(one_round(comp, window, asked))
    chunks = comp.store.count()
    result: dict = {"chunks": chunks, "questions": len(asked), "load_average_1m": load_average()}
    for window, runs in rounds.items():
        mid = lambda key: sorted(r[key] for r in runs)[len(runs) // 2]  # noqa: E731
        result[f"window_{window}"] = {"rebuild_s": round(mid("rebuild_s"), 1), "postings": int(mid("postings")),
                                      "bytes_per_chunk": round(mid("disk_bytes") / chunks),
                                      "lexical_p50_ms": round(mid("lexical_p50_ms"), 1)}
    emit(result, args.json, f"BM25 windows at {chunks} chunks")


if __name__ == "__main__":
    main()
