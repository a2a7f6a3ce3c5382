"""What indexing each chunk with its neighbours, or its word pairs, costs BM25 (issue 18): the same data home's BM25
rebuilt from Chroma each way, alternated, in one run: rebuild seconds, postings, bytes on disk, and the BM25 side's
query p50 over the same questions. Default: each chunk alone (window 0, the index before 2026-12-04) against its
neighbours (window 1); with --pairs: today's windows without word pairs against with them (index/bm25_tokens.py
`pair_keys`, the index since the second change of 2026-12-04).

    python bench/bm25_windows.py HOME [--pairs] [--queries FILE] [--questions N] [--rounds 2] [--json]

HOME is a data home that `litassist ingest` or bench/query.py built (e.g. bench/query.py's 100k-chunk --home); its
BM25 is rebuilt in place and left as today's. Questions: BEIR queries.jsonl or one per line (default: a few generic
biomedical questions).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench.common`, however this is run

from bench.bm25_memory import probe  # noqa: E402
from bench.common import emit, load_average  # noqa: E402
from litassist.assistant.factory import Components  # noqa: E402
from litassist.assistant.settings import Settings  # noqa: E402
from litassist.index import bm25, bm25_segment, bm25_sync, bm25_tokens  # noqa: E402

PAIR_WEIGHT = bm25.PAIR_WEIGHT  # today's, restored for the rounds with pairs
QUESTIONS = ["How does HER2 affect CXCR4?", "BRCA1 mutations and DNA repair", "insulin resistance in obesity",
             "p53 degradation by MDM2", "vitamin D deficiency and birth weight", "statins and cardiovascular risk"]


def questions(path: Path | None, count: int) -> list[str]:
    """Up to `count` questions from a BEIR queries.jsonl or a one-per-line file."""
    if path is None:
        return QUESTIONS[:count]
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [json.loads(line)["text"] if path.suffix == ".jsonl" else line for line in lines]
    return texts[:count]


def one_round(comp: Components, window: int, asked: list[str], pairs: bool = True, queries: Path | None = None
              ) -> dict[str, float]:
    """Rebuild BM25 with this window, with or without word pairs; its seconds, size and the BM25 side's query p50;
    with `queries` (BEIR), also what a fresh process pays to load it and one search of 300 (bench/bm25_memory.py)."""
    bm25_sync.WINDOW = window
    bm25_segment.pair_keys = bm25_tokens.pair_keys if pairs else (lambda stems: [])
    bm25.PAIR_WEIGHT = PAIR_WEIGHT if pairs else 0.0
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
    pair_postings = sum(len(p.segment.pair_docs) for p in index.parts)
    loaded = probe(comp.settings.home, None, queries, len(asked)) if queries and queries.suffix == ".jsonl" else {}
    return {"rebuild_s": seconds, "postings": postings, "pair_postings": pair_postings, "disk_bytes": disk,
            "lexical_p50_ms": sorted(times)[len(times) // 2], "load_rss_mib": loaded.get("rss_growth_mib", 0.0),
            "fresh_search_p50_ms": loaded.get("search_p50_ms") or 0.0}


def main() -> None:
    """Command line: alternate window 0 and window 1 rebuilds; print the medians per window."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("home", type=Path)
    parser.add_argument("--queries", type=Path)
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pairs", action="store_true", help="compare without and with word pairs (today's window)")
    args = parser.parse_args()
    comp = Components(Settings(home=args.home, embedding={"backend": "onnx-int8"}))
    asked = questions(args.queries, args.questions)
    today = bm25_sync.WINDOW
    ways = {"no_pairs": (today, False), "pairs": (today, True)} if args.pairs else \
        {"window_0": (0, True), f"window_{today}": (today, True)}
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, (window, pairs) in ways.items():
            rounds[name].append(one_round(comp, window, asked, pairs, args.queries))
    chunks = comp.store.count()
    result: dict = {"chunks": chunks, "questions": len(asked), "load_average_1m": load_average()}
    for name, runs in rounds.items():
        mid = lambda key: sorted(r[key] for r in runs)[len(runs) // 2]  # noqa: E731
        result[name] = {"rebuild_s": round(mid("rebuild_s"), 1), "postings": int(mid("postings")),
                        "pair_postings": int(mid("pair_postings")),
                        "bytes_per_chunk": round(mid("disk_bytes") / chunks),
                        "lexical_p50_ms": round(mid("lexical_p50_ms"), 1),
                        "fresh_load_rss_mib": round(mid("load_rss_mib"), 1),
                        "fresh_search_p50_ms": round(mid("fresh_search_p50_ms"), 2)}
    emit(result, args.json, f"BM25 {'word pairs' if args.pairs else 'windows'} at {chunks} chunks")


if __name__ == "__main__":
    main()
