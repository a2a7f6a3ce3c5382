"""Field levers (issue 18) over the cached candidates of bench/rank_levers.py: an extra BM25 built over the same chunks
with the title counted w times (a cheap BM25F), and/or with the gene synonyms applied on the document side, fused with
the cached dense side exactly as the baseline (`litassist eval`'s ranking) fuses today's BM25.

    PYTHONPATH=. python bench/rank_fields.py DATASET_DIR [--variant NAME ...]

Needs /tmp/litassist-rank/<dataset>.pkl (`rank_levers.py cache`); no dense vector is computed. The chunk texts come
from the cache, the titles (the chunks' context) from the dataset's corpus.jsonl, as index/chunking.py sets them;
"rebuilt" (no lever) must give the baseline's numbers, which checks that the extra index is built like the real one.
"""

from __future__ import annotations

import argparse
import json
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.rank_cache import CACHE, DEPTH, Corpus, Query
from bench.rank_levers import convex, doc_max, minmax
from litassist.assistant.evaluate import ir_metrics
from litassist.assistant.synonyms import SynonymTable, bm25_terms, load_synonyms
from litassist.index.bm25 import Bm25Index, ChunkFacts


@dataclass(frozen=True)
class Fields:
    """How one extra BM25 is built: title repeats, and what of a chunk's genes is appended."""

    title: int = 1  # times the title (the chunk's context) is counted; 1 is today's index
    synonyms: bool = False  # append the other names of each gene the chunk names (the query side's expansion)
    genes: int = 0  # extra times the chunk's gene names themselves are counted (a weighted entity field)


VARIANTS: dict[str, Fields] = {
    "rebuilt": Fields(),
    "title_x2": Fields(title=2),
    "title_x3": Fields(title=3),
    "doc_synonyms": Fields(synonyms=True),
    "genes_x2": Fields(genes=1),
    "genes_x2_synonyms": Fields(synonyms=True, genes=1),
    "title_x2_doc_synonyms": Fields(title=2, synonyms=True),
    "title_x2_genes_x2": Fields(title=2, genes=1),
}


def titles(folder: Path) -> dict[str, tuple[str, str]]:
    """Document id -> (title, text) from the dataset's corpus.jsonl."""
    out = {}
    with (folder / "corpus.jsonl").open() as f:
        for line in f:
            row = json.loads(line)
            out[str(row["_id"])] = (row.get("title") or "", row.get("text") or "")
    return out


def context_of(title: str, text: str) -> str:
    """The chunk context index/chunking.py gives an abstract: its title, unless the title is the only text."""
    return title if text.strip() else ""


def gene_words(table: SynonymTable, text: str, synonyms: bool) -> list[str]:
    """The gene names a text uses (each once) and, with `synonyms`, their other names as a BM25 query would add."""
    found = table.expansions(text)
    return bm25_terms(found) if synonyms else list(found)


def field_texts(corpus: Corpus, records: dict[str, tuple[str, str]], table: SynonymTable, fields: Fields) -> list[str]:
    """Per chunk, the text the extra BM25 indexes: context repeated, text, and the appended gene names."""
    out = []
    for i, text in enumerate(corpus.texts):
        context = context_of(*records[corpus.docs[int(corpus.source[i])]])
        parts = [context] * fields.title if context else []
        parts.append(text)
        search_text = f"{context}\n{text}" if context else text
        if fields.synonyms:
            parts += gene_words(table, search_text, synonyms=True)
        for _ in range(fields.genes):
            parts += gene_words(table, search_text, synonyms=False)
        out.append("\n".join(parts))
    return out


def bm25_scores(corpus: Corpus, queries: list[Query], texts: list[str], table: SynonymTable) -> list[dict[int, float]]:
    """Per query, the extra BM25's positive chunk scores (query expanded as retrieval expands it)."""
    index = Bm25Index.build(corpus.ids, texts, [ChunkFacts(kind="paper")] * len(texts), "fields")
    row = {cid: i for i, cid in enumerate(corpus.ids)}
    out = []
    for q in queries:
        extra = " ".join(bm25_terms(table.expansions(q.text)))
        hits = index.search(f"{q.text} {extra}" if extra else q.text, len(corpus.ids))
        out.append({row[c]: s for c, s in hits})
    return out


def fused(corpus: Corpus, q: Query, bm25: dict[int, float]) -> list[int]:
    """The baseline's fusion with another BM25: best chunk per side over 300 chunks, min-max, 0.5/0.5."""
    hnsw = np.array(list(q.hnsw), dtype=int)
    dense = doc_max(corpus, hnsw, np.array([q.hnsw[i] for i in hnsw]))
    ids = np.array(sorted(bm25, key=bm25.__getitem__, reverse=True)[:DEPTH], dtype=int)
    sparse = doc_max(corpus, ids, np.array([bm25[i] for i in ids]))
    return convex([minmax(dense), minmax(sparse)], [0.5, 0.5])


def field_runs(folder: Path, variants: list[str], cache: Path = CACHE) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """Per field variant (one at a time), each cached query's top 100 documents."""
    data = pickle.loads((cache / f"{folder.resolve().name}.pkl").read_bytes())
    corpus, queries = data["corpus"], data["queries"]
    records, table = titles(folder), load_synonyms()
    for v in variants:
        scores = bm25_scores(corpus, queries, field_texts(corpus, records, table, VARIANTS[v]), table)
        yield v, {q.qid: [corpus.docs[d] for d in fused(corpus, q, s)[:100]] for q, s in zip(queries, scores)}


def evaluate(folder: Path, variants: list[str], cache: Path = CACHE) -> Iterator[tuple[str, dict[str, float]]]:
    """nDCG@10, hit@1, Recall@100 per field variant over the cached queries, one variant at a time."""
    qrels = pickle.loads((cache / f"{folder.resolve().name}.pkl").read_bytes())["qrels"]
    for v, run in field_runs(folder, variants, cache):
        m = ir_metrics(qrels, run)
        yield v, {k: round(m[k], 4) for k in ("ndcg@10", "hit@1", "recall@100")}


def main() -> None:
    """Command line: score the field variants on one dataset."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--variant", nargs="*", default=list(VARIANTS))
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the cached candidates are kept")
    args = parser.parse_args()
    for v, m in evaluate(args.dataset, args.variant, args.cache):
        print(f"{args.dataset.resolve().name}\t{v}\t" + "\t".join(f"{k} {x:.4f}" for k, x in m.items()), flush=True)


if __name__ == "__main__":
    main()
