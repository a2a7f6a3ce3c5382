"""What HNSW's ef_search buys and costs (issues 17 and 18): the dense side's recall of the exact top-k chunks and the
retrieval time, per ef_search value, on one data home, in one run.

    python bench/ef_search.py HOME --queries queries.jsonl [--questions 50] [--ef 128 600] [--k 300] [--json]

The dense side asks Chroma for `retrieval.candidates` (300) chunks, and hnswlib searches with max(ef_search, k), so
the default ef_search 128 is in effect 300 there. Each value gets a freshly opened database (a process sees one
value), and the values are run twice in turn (A B A B) so that drift in the machine's load falls on both. Recall is
against exact cosines over every stored vector.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench.common`, however this is run

from bench.common import beir_questions, emit, home_bench_parser, load_average  # noqa: E402
from litassist.assistant.factory import Components  # noqa: E402
from litassist.assistant.settings import Settings  # noqa: E402
from litassist.index.hits import dense_hits  # noqa: E402


def fresh(home: Path, ef: int) -> Components:
    """Components on a newly opened database with this ef_search (Chroma keeps one system per path)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    return Components(Settings(home=home, embedding={"backend": "onnx-int8"}, store={"ef_search": ef}))


def all_vectors(comp: Components) -> tuple[list[str], np.ndarray]:
    """Every stored chunk id and its unit vector."""
    ids = list(comp.store.bm25.ids)
    got: dict[str, np.ndarray] = {}
    for start in range(0, len(ids), 5000):  # pages: one read of every id is one very large query
        got.update(comp.store.vectors(ids[start:start + 5000]))
    ids = [i for i in ids if i in got]
    vectors = np.stack([np.asarray(got[i], dtype=np.float32) for i in ids])
    return ids, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def phase(comp: Components, vectors: list[np.ndarray], questions: list[str], k: int,
          exact: list[set[str]]) -> dict[str, list[float]]:
    """Per question: dense-side time, recall of the exact top k, and the whole retrieval's time."""
    retriever = comp.retriever()
    retriever.search(questions[0])  # warm: the HNSW index loaded with this ef
    out: dict[str, list[float]] = {"dense_ms": [], "retrieval_ms": [], "recall_k": []}
    for v, q, want in zip(vectors, questions, exact):
        start = time.perf_counter()
        hits = dense_hits(comp.store, v, k)
        out["dense_ms"].append((time.perf_counter() - start) * 1000)
        got = [h.id for h in hits]
        out["recall_k"].append(len(want & set(got)) / len(want))
        start = time.perf_counter()
        retriever.search(q)
        out["retrieval_ms"].append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    """Command line: alternate the ef_search values; print recall and p50/p95 per value."""
    parser = home_bench_parser(__doc__, questions=50)
    parser.add_argument("--ef", type=int, nargs="+", default=[128, 600])
    parser.add_argument("--k", type=int, default=300, help="chunks asked of the dense side")
    args = parser.parse_args()
    questions = beir_questions(args.queries, args.questions)
    comp = fresh(args.home, args.ef[0])
    vectors = [comp.encoder.encode([q])[0] for q in questions]  # one at a time, as `ask` encodes a question
    ids, matrix = all_vectors(comp)
    ranked = [np.argsort(-(matrix @ (v / np.linalg.norm(v))))[: args.k] for v in vectors]
    exact = [{ids[i] for i in r} for r in ranked]
    exact10 = [{ids[i] for i in r[:10]} for r in ranked]
    times: dict[int, dict[str, list[float]]] = {ef: {} for ef in args.ef}
    recall10: dict[int, list[float]] = {ef: [] for ef in args.ef}
    for _ in range(2):
        for ef in args.ef:
            comp = fresh(args.home, ef)
            got = phase(comp, vectors, questions, args.k, exact)
            for key, values in got.items():
                times[ef].setdefault(key, []).extend(values)
            recall10[ef] += [len(w & {h.id for h in dense_hits(comp.store, v, 10)}) / 10
                             for v, w in zip(vectors, exact10)]
    result: dict = {"chunks": len(ids), "questions": len(questions), "k": args.k, "load_average_1m": load_average()}
    for ef, got in times.items():
        result[f"ef_{ef}"] = {
            "recall_at_k": round(float(np.mean(got["recall_k"])), 4),
            "recall_at_10": round(float(np.mean(recall10[ef])), 4),
            **{f"{key[:-3]}_{p}_ms": round(float(np.percentile(got[key], int(p[1:]))), 1)
               for key in ("dense_ms", "retrieval_ms") for p in ("p50", "p95")}}
    low, high = args.ef[0], args.ef[-1]
    for key in ("dense_p50_ms", "retrieval_p50_ms"):
        result[f"ratio_{key}"] = round(result[f"ef_{high}"][key] / result[f"ef_{low}"][key], 2)
    emit(result, args.json, f"ef_search at {len(ids)} chunks")


if __name__ == "__main__":
    main()
