"""What scoring BM25 in a second thread buys (issue 17): the same questions through the app's own retriever with
`retrieval.parallel_sides` off and on, alternated question by question in one run, on a data home built by
bench/query.py.

    python bench/parallel_sides.py HOME --queries queries.jsonl [--questions 50] [--json]

Reports hybrid retrieval and extractive-answer p50/p95 (ms) for each and their ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench.common`, however this is run

from bench.common import emit, load_average  # noqa: E402
from litassist.assistant.answer import answer  # noqa: E402
from litassist.assistant.factory import Components  # noqa: E402
from litassist.assistant.settings import Settings  # noqa: E402


def main() -> None:
    """Command line: alternate sequential and parallel sides per question; print p50/p95 of each."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("home", type=Path)
    parser.add_argument("--queries", type=Path, required=True, help="BEIR queries.jsonl")
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    comp = Components(Settings(home=args.home, embedding={"backend": "onnx-int8"}))
    lines = args.queries.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["text"] for line in lines if line.strip()][: args.questions]
    retrievers = {mode: comp.retriever().model_copy(update={"parallel_sides": mode == "parallel"})
                  for mode in ("sequential", "parallel")}
    for r in retrievers.values():
        r.search(questions[0])  # warm: BM25 loaded, encoder session, the thread started
    times: dict[str, dict[str, list[float]]] = {m: {"retrieval": [], "answer": []} for m in retrievers}
    for q in questions:
        for mode, r in retrievers.items():
            start = time.perf_counter()
            r.search(q)
            times[mode]["retrieval"].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            answer(q, r, settings=comp.settings.answer)
            times[mode]["answer"].append((time.perf_counter() - start) * 1000)
    result: dict = {"chunks": comp.store.count(), "questions": len(questions), "load_average_1m": load_average()}
    for mode, got in times.items():
        result[mode] = {f"{k}_{p}_ms": round(float(np.percentile(v, int(p[1:]))), 1)
                        for k, v in got.items() for p in ("p50", "p95")}
    for key in ("retrieval_p50_ms", "answer_p50_ms"):
        result[f"ratio_{key}"] = round(result["parallel"][key] / result["sequential"][key], 2)
    emit(result, args.json, f"BM25 beside the dense side at {result['chunks']} chunks")


if __name__ == "__main__":
    main()
