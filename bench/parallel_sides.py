"""What scoring BM25 in a second thread buys (issue 17): the same questions through the app's own retriever with
`retrieval.parallel_sides` off and on, alternated question by question in one run, on a data home built by
bench/query.py.

    python bench/parallel_sides.py HOME --queries queries.jsonl [--questions 50] [--json]

Reports hybrid retrieval and extractive-answer p50/p95 (ms) for each and their ratio.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench.common`, however this is run

from bench.common import alternate, beir_questions, emit, home_bench_parser, load_average  # noqa: E402
from litassist.assistant.factory import Components  # noqa: E402
from litassist.assistant.settings import Settings  # noqa: E402


def main() -> None:
    """Command line: alternate sequential and parallel sides per question; print p50/p95 of each."""
    parser = home_bench_parser(__doc__, questions=50)
    args = parser.parse_args()
    comp = Components(Settings(home=args.home, embedding={"backend": "onnx-int8"}))
    questions = beir_questions(args.queries, args.questions)
    retrievers = {mode: comp.retriever().model_copy(update={"parallel_sides": mode == "parallel"})
                  for mode in ("sequential", "parallel")}
    result: dict = {"chunks": comp.store.count(), "questions": len(questions), "load_average_1m": load_average(),
                    **alternate(retrievers, questions, comp.settings.answer)}
    for key in ("retrieval_p50_ms", "answer_p50_ms"):
        result[f"ratio_{key}"] = round(result["parallel"][key] / result["sequential"][key], 2)
    emit(result, args.json, f"BM25 beside the dense side at {result['chunks']} chunks")


if __name__ == "__main__":
    main()
