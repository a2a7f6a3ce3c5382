"""What a retrieval setting costs (issue 18): the same questions through the app's own retriever with two values of
one `retrieval` setting — the depth (`candidates`, the default) or the dense feedback (`--setting feedback --values
0 0.2`) — alternated question by question in one run, on a data home built by bench/query.py.

    python bench/candidates.py HOME --queries queries.jsonl [--questions 30] [--setting candidates] [--values 50 300]

Reports retrieval and extractive-answer p50/p95 (ms) per value and their ratio; since issue 18 each side ranks ids
and scores only (index/hits.py), so the depth adds index work (HNSW and BM25 top-k, fusion), not Chroma reads; the
feedback adds one read of one vector and a second HNSW search.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench.common`, however this is run

from bench.common import alternate, beir_questions, emit, home_bench_parser, load_average  # noqa: E402
from litassist.assistant.factory import Components  # noqa: E402
from litassist.assistant.settings import Settings  # noqa: E402


def main() -> None:
    """Command line: alternate the two values per question; print p50/p95 per value."""
    parser = home_bench_parser(__doc__, questions=30)
    parser.add_argument("--setting", choices=["candidates", "feedback"], default="candidates")
    parser.add_argument("--values", type=float, nargs=2, default=[50, 300], help="the two values (before, after)")
    args = parser.parse_args()
    comp = Components(Settings(home=args.home, embedding={"backend": "onnx-int8"}))
    questions = beir_questions(args.queries, args.questions)
    cast = int if args.setting == "candidates" else float
    values = [cast(v) for v in args.values]
    retrievers = {v: comp.retriever().model_copy(update={args.setting: v}) for v in values}
    timed = alternate(retrievers, questions, comp.settings.answer)
    result: dict = {"chunks": comp.store.count(), "questions": len(questions), "load_average_1m": load_average()}
    result.update({f"{args.setting}_{v}": got for v, got in timed.items()})
    low, high = values
    result["ratio_retrieval_p50"] = round(result[f"{args.setting}_{high}"]["retrieval_p50_ms"]
                                          / result[f"{args.setting}_{low}"]["retrieval_p50_ms"], 2)
    emit(result, args.json, f"retrieval {args.setting} at {result['chunks']} chunks")


if __name__ == "__main__":
    main()
