"""What the retrieval depth costs (issue 18): the same questions through the app's own retriever with two
`retrieval.candidates` values, alternated question by question in one run, on a data home built by bench/query.py.

    python bench/candidates.py HOME --queries queries.jsonl [--questions 30] [--depths 50 300] [--json]

Reports retrieval and extractive-answer p50/p95 (ms) per depth and their ratio; since issue 18 each side ranks ids
and scores only (index/hits.py), so the depth adds index work (HNSW and BM25 top-k, fusion), not Chroma reads.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench.common`, however this is run

from bench.common import alternate, beir_questions, emit, home_bench_parser, load_average  # noqa: E402
from litassist.assistant.factory import Components  # noqa: E402
from litassist.assistant.settings import Settings  # noqa: E402


def main() -> None:
    """Command line: alternate the depths per question; print p50/p95 per depth."""
    parser = home_bench_parser(__doc__, questions=30)
    parser.add_argument("--depths", type=int, nargs=2, default=[50, 300])
    args = parser.parse_args()
    comp = Components(Settings(home=args.home, embedding={"backend": "onnx-int8"}))
    questions = beir_questions(args.queries, args.questions)
    retrievers = {d: comp.retriever().model_copy(update={"candidates": d}) for d in args.depths}
    timed = alternate(retrievers, questions, comp.settings.answer)
    result: dict = {"chunks": comp.store.count(), "questions": len(questions), "load_average_1m": load_average()}
    result.update({f"candidates_{depth}": got for depth, got in timed.items()})
    low, high = args.depths
    result["ratio_retrieval_p50"] = round(result[f"candidates_{high}"]["retrieval_p50_ms"]
                                          / result[f"candidates_{low}"]["retrieval_p50_ms"], 2)
    emit(result, args.json, f"retrieval depth at {result['chunks']} chunks")


if __name__ == "__main__":
    main()
