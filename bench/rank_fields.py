"""Field and window levers (issue 18) over the cached candidates of bench/rank_levers.py: an extra BM25 built over the
same chunks, each indexed with its neighbours' text (or alone, or with its whole document), with the title counted w
times (a cheap BM25F) and/or the gene synonyms applied on the document side, scored with given k1 and b, and fused
with the cached dense side exactly as `litassist eval` fuses the index's own BM25.

    PYTHONPATH=. python bench/rank_fields.py DATASET_DIR [--variant NAME ...]

Needs /tmp/litassist-rank/<dataset>.pkl (`rank_levers.py cache`); no dense vector is computed. The chunk texts come
from the cache, the titles (the chunks' context) from the dataset's corpus.jsonl, as index/chunking.py sets them;
"rebuilt" (no lever) must give `litassist eval`'s numbers with `retrieval.feedback` 0 (the dense feedback is not
applied here), which checks that the extra index is built like the real one (index/bm25_sync.py `windows`,
index/bm25.py K1, B and word pairs).
"""

from __future__ import annotations

import argparse
import json
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.rank_cache import CACHE, DEPTH, Corpus, Query
from bench.rank_levers import convex, doc_max, minmax
from litassist.assistant.evaluate import ir_metrics
from litassist.assistant.synonyms import SynonymTable, bm25_terms, load_synonyms
from litassist.index import bm25 as bm25_module
from litassist.index.bm25 import Bm25Index, ChunkFacts
from litassist.index.bm25_sync import WINDOW, windows


# The `form_words` lever: words that make a sentence a question or a request, never its topic (papers do not state
# them, and a rare one such as 'list' rewards any abstract that happens to use it). Tried, not adopted.
FORM_WORDS = frozenset("""
how what which why when where who whom whose whether do does did can could should would may might shall must
has have had
""".split())
REQUEST_WORDS = frozenset("please list describe name explain tell give mention enumerate".split())  # when leading


def lexical_query(question: str) -> str:
    """The question as BM25 should match it: leading request words and question-forming words out, the rest as is."""
    words = question.split()
    start = 0
    while start < len(words) and words[start].lower().strip(",:;") in REQUEST_WORDS:
        start += 1
    kept = [w for w in words[start:] if w.lower().strip("?!,.:;\"'()") not in FORM_WORDS]
    return " ".join(kept) or question


@dataclass(frozen=True)
class Fields:
    """How one extra BM25 is built: title repeats, and what of a chunk's genes is appended."""

    title: int = 1  # times the title (the chunk's context) is counted; 1 is today's index
    synonyms: bool = False  # append the other names of each gene the chunk names (the query side's expansion)
    genes: int = 0  # extra times the chunk's gene names themselves are counted (a weighted entity field)
    window: int = WINDOW  # neighbours on each side indexed with a chunk (0: the chunk alone; large: its document)
    k1: float = bm25_module.K1
    b: float = bm25_module.B
    form: bool = False  # leave a question's form words out of the BM25 query (assistant/terms.py lexical_query)


BM25S = {"k1": 1.5, "b": 0.75}  # bm25s's defaults, the index's parameters before 2026-12-04
VARIANTS: dict[str, Fields] = {
    "rebuilt": Fields(),
    "chunk_bm25s": Fields(window=0, **BM25S),  # the index before 2026-12-04: each chunk alone, bm25s's k1 and b
    "chunk": Fields(window=0),
    "window_bm25s": Fields(**BM25S),
    "window_2": Fields(window=2),
    "document": Fields(window=10_000),
    "window_k1_1.2": Fields(k1=1.2),
    "window_b_0.3": Fields(b=0.3),
    "window_b_0.5": Fields(b=0.5),
    "title_x2": Fields(title=2),
    "title_x3": Fields(title=3),
    "doc_synonyms": Fields(synonyms=True),
    "genes_x2": Fields(genes=1),
    "genes_x2_synonyms": Fields(synonyms=True, genes=1),
    "title_x2_doc_synonyms": Fields(title=2, synonyms=True),
    "title_x2_genes_x2": Fields(title=2, genes=1),
    "form_words": Fields(form=True),
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


def neighbours(corpus: Corpus, window: int) -> list[str]:
    """Per chunk, its text between those of up to `window` chunks before and after it in its document, joined by the
    index's own `windows` (context left out: field_texts counts it)."""
    if corpus.positions is None:
        raise SystemExit("this cache has no chunk positions: run `bench/rank_levers.py cache` again")
    metas = [{"file": "", "source_id": int(d), "position": int(p)} for d, p in zip(corpus.source, corpus.positions)]
    return [text.lstrip("\n") for text in windows(corpus.texts, metas, window)]


def field_texts(corpus: Corpus, records: dict[str, tuple[str, str]], table: SynonymTable, fields: Fields) -> list[str]:
    """Per chunk, the text the extra BM25 indexes: context repeated, the chunk with its neighbours, and the appended
    gene names (found in the chunk and its context)."""
    out = []
    around = neighbours(corpus, fields.window)
    for i, text in enumerate(corpus.texts):
        context = context_of(*records[corpus.docs[int(corpus.source[i])]])
        parts = [context] * fields.title if context else [""]
        parts.append(around[i])
        search_text = f"{context}\n{text}" if context else text
        if fields.synonyms:
            parts += gene_words(table, search_text, synonyms=True)
        for _ in range(fields.genes):
            parts += gene_words(table, search_text, synonyms=False)
        out.append("\n".join(parts))
    return out


@contextmanager
def parameters(k1: float, b: float) -> Iterator[None]:
    """BM25's k1 and b set for the extra index's queries (the index reads them at query time)."""
    saved = bm25_module.K1, bm25_module.B
    bm25_module.K1, bm25_module.B = k1, b
    try:
        yield
    finally:
        bm25_module.K1, bm25_module.B = saved


def bm25_scores(corpus: Corpus, queries: list[Query], texts: list[str], table: SynonymTable,
                form: bool = False, phrases: list[str] | None = None) -> list[dict[int, float]]:
    """Per query, the extra BM25's positive chunk scores (query expanded as retrieval expands it; with `form`, its
    question-forming words left out; `phrases`: the texts whose word pairs are indexed, as Bm25Index.build)."""
    index = Bm25Index.build(corpus.ids, texts, [ChunkFacts(kind="paper")] * len(texts), "fields",
                            phrases=phrases)
    row = {cid: i for i, cid in enumerate(corpus.ids)}
    out = []
    for q in queries:
        extra = " ".join(bm25_terms(table.expansions(q.text)))
        text = lexical_query(q.text) if form else q.text
        hits = index.search(f"{text} {extra}" if extra else text, len(corpus.ids))
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
        with parameters(VARIANTS[v].k1, VARIANTS[v].b):
            texts = field_texts(corpus, records, table, VARIANTS[v])
            phrases = [f"{context_of(*records[corpus.docs[int(corpus.source[i])]])}\n{text}"
                       for i, text in enumerate(corpus.texts)]  # the chunk with its context, as bm25_sync.columns
            scores = bm25_scores(corpus, queries, texts, table, VARIANTS[v].form, phrases)
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
