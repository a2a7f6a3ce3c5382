"""BM25 retrieval quality before and after segments: bm25s (what the index used before) against the segmented index,
built whole and built in steps, on a BEIR folder; nDCG@10 and Recall@100 over documents, each text one chunk.

    python bench/bm25_ndcg.py BEIR_DIR [--split dev] [--steps 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import bm25s
import ir_measures
import Stemmer
from ir_measures import R, nDCG

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, however this is run

from litassist.index.bm25 import Bm25Index, ChunkFacts  # noqa: E402

DEPTH = 100


def load(folder: Path, split: str) -> tuple[list[str], list[str], dict[str, str], list]:
    """(ids, texts, queries, qrels) of a BEIR folder; a text is its title and body, as chunks carry their title."""
    docs = [json.loads(line) for line in (folder / "corpus.jsonl").read_text().split("\n") if line.strip()]
    lines = [line for line in (folder / "queries.jsonl").read_text().split("\n") if line.strip()]
    queries = {q["_id"]: q["text"] for q in map(json.loads, lines)}
    lines = (folder / "qrels" / f"{split}.tsv").read_text().splitlines()[1:]  # after the header
    qrels = [ir_measures.Qrel(q, d, int(s)) for q, d, s in (line.split("\t")[:3] for line in lines)]
    wanted = {q.query_id for q in qrels}
    return ([d["_id"] for d in docs], [f"{d.get('title', '')}\n{d['text']}" for d in docs],
            {k: v for k, v in queries.items() if k in wanted}, qrels)


def scores(run: list, qrels: list) -> dict[str, float]:
    """nDCG@10 and R@100 of a run."""
    got = ir_measures.calc_aggregate([nDCG @ 10, R @ 100], qrels, run)
    return {"ndcg@10": round(got[nDCG @ 10], 4), "recall@100": round(got[R @ 100], 4)}


def main() -> None:
    """Rank every query three ways and score each."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("folder", type=Path)
    p.add_argument("--split", default="dev")
    p.add_argument("--steps", type=int, default=10, help="Segments the stepwise index is built from")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    ids, texts, queries, qrels = load(args.folder, args.split)
    stemmer = Stemmer.Stemmer("english")
    model = bm25s.BM25()
    model.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    facts = [ChunkFacts(kind="paper")] * len(ids)
    whole = Bm25Index.build(ids, texts, facts, "g", ids)
    with tempfile.TemporaryDirectory() as tmp:
        step = -(-len(ids) // args.steps)
        stepwise = Bm25Index.build(ids[:step], texts[:step], facts[:step], "g", ids[:step])
        stepwise.save(Path(tmp))
        for start in range(step, len(ids), step):
            part = slice(start, start + step)
            stepwise = stepwise.updated(Path(tmp), [], ids[part], texts[part], facts[part], ids[part], f"g{start}")
        runs = {"bm25s (before)": [], "segments, built whole": [], f"segments, built in {args.steps} steps": []}
        for qid, text in queries.items():
            docs, found = model.retrieve(bm25s.tokenize([text], stopwords="en", stemmer=stemmer, show_progress=False),
                                         k=DEPTH, show_progress=False)
            runs["bm25s (before)"] += [ir_measures.ScoredDoc(qid, ids[d], float(s))
                                       for d, s in zip(docs[0], found[0]) if s > 0]
            for name, index in (("segments, built whole", whole), (f"segments, built in {args.steps} steps", stepwise)):
                runs[name] += [ir_measures.ScoredDoc(qid, cid, s) for cid, s in index.search(text, DEPTH)]
        result = {"corpus": str(args.folder), "documents": len(ids), "queries": len(queries),
                  "segments_stepwise": len(stepwise.parts), **{name: scores(run, qrels) for name, run in runs.items()}}
    print(json.dumps(result) if args.json else "\n".join(f"{k:<34} {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
