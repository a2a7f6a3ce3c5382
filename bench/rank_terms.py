"""Query-term levers (issue 18) over the cached candidates of bench/rank_levers.py: a BM25 of our own (a sparse
matrix over the same windowed chunk texts, the index's formula, k1 and b) whose query terms can be weighted apart —
synonym expansions down-weighted as query expansion usually is, and adjacent-word pairs (bigrams) scored as a second
field, a cheap form of the sequential dependence model's proximity — fused with the cached dense side exactly as
`litassist eval` fuses the index's own BM25.

    PYTHONPATH=. python bench/rank_terms.py DATASET_DIR [--variant NAME ...]

Needs /tmp/litassist-rank/<dataset>.pkl (`rank_levers.py cache`). "unigram" (no lever) must give `litassist eval`'s
numbers, which checks that the matrix BM25 scores as index/bm25.py does.
"""

from __future__ import annotations

import argparse
import pickle
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from bench.rank_cache import CACHE, DEPTH, Corpus, Query
from bench.rank_levers import convex, doc_max, minmax, top, z_fused
from bench.rank_fields import Fields, field_texts, fused, lexical_query, titles
from litassist.assistant.evaluate import ir_metrics
from litassist.assistant.synonyms import SynonymTable, bm25_terms, load_synonyms
from litassist.index.bm25 import B, K1
from litassist.index.bm25_tokens import tokenize


@dataclass(frozen=True)
class Terms:
    """How the query's terms are weighted: synonym expansions, and the bigram field."""

    synonyms: float = 1.0  # weight of a synonym expansion's terms (1: as the index's BM25 adds them)
    bigrams: float = 0.0  # weight of the adjacent-pair field (0: off)
    window: int = 0  # with >0: pairs of query terms within this many positions (unordered), instead of adjacent
    chunk_only: bool = False  # pairs from the chunk alone, not its window of neighbours
    shared_norm: bool = False  # the pair field normalised by the unigram lengths (one length array in the index)
    buckets: int = 0  # pairs hashed into this many buckets (crc32), as an index without a pair vocabulary would
    expanded: bool = False  # pairs of the query as BM25 receives it (question + synonym names), not the question alone
    surplus: bool = False  # a pair weighs idf(pair) - max(idf of its two words): only what saying them together adds
    form: bool = False  # pairs of the question without its question-forming words (rank_fields.lexical_query)
    rocchio: float = 0.0  # dense feedback: the query vector + this x the best chunk vector of the first document
    mix: bool = False  # with rocchio: the mean of the two passes' fused scores, not the second pass alone
    listed: bool = False  # with rocchio: the first document's best chunk among the listed candidates (dense list,
    # else its best BM25 chunk), as retrieval can find it without reading the document's every vector
    zscore: bool = False  # both passes fuse z-scores (a document missing from a side: that side's lowest)
    dense_first: bool = False  # with rocchio: feed back the dense side's first document, not the fused ranking's
    coord: float = 0.0  # score x (idf share of the query's own terms the chunk has) ** coord (Lucene's coord factor)


VARIANTS: dict[str, Terms] = {
    "unigram": Terms(),
    "synonyms_0.5": Terms(synonyms=0.5),
    "synonyms_0.25": Terms(synonyms=0.25),
    "bigrams_0.1": Terms(bigrams=0.1),
    "bigrams_0.2": Terms(bigrams=0.2),
    "bigrams_0.4": Terms(bigrams=0.4),
    "bigrams_0.6": Terms(bigrams=0.6),
    "bigrams_1.0": Terms(bigrams=1.0),
    "bigrams_0.4_chunk": Terms(bigrams=0.4, chunk_only=True),
    "bigrams_0.4_shared": Terms(bigrams=0.4, shared_norm=True),
    "bigrams_0.4_h20": Terms(bigrams=0.4, shared_norm=True, buckets=1 << 20),
    "bigrams_0.4_h22": Terms(bigrams=0.4, shared_norm=True, buckets=1 << 22),
    "bigrams_0.4_chunk_shared": Terms(bigrams=0.4, chunk_only=True, shared_norm=True),
    "bigrams_0.4_chunk_h22": Terms(bigrams=0.4, chunk_only=True, buckets=1 << 22),
    "bigrams_0.4_shared_h_expanded": Terms(bigrams=0.4, shared_norm=True, buckets=1 << 32, expanded=True),
    "surplus_0.4": Terms(bigrams=0.4, surplus=True),
    "surplus_1.0": Terms(bigrams=1.0, surplus=True),
    "surplus_2.0": Terms(bigrams=2.0, surplus=True),
    "form_0.1": Terms(bigrams=0.1, form=True),
    "form_0.2": Terms(bigrams=0.2, form=True),
    "form_0.4": Terms(bigrams=0.4, form=True),
    "form_surplus_0.4": Terms(bigrams=0.4, form=True, surplus=True),
    "form_surplus_1.0": Terms(bigrams=1.0, form=True, surplus=True),
    "bigrams_0.15": Terms(bigrams=0.15),
    "bigrams_0.3": Terms(bigrams=0.3),
    "surplus_0.6": Terms(bigrams=0.6, surplus=True),
    "surplus_0.2": Terms(bigrams=0.2, surplus=True),
    "rocchio_0.2": Terms(rocchio=0.2),
    "rocchio_0.2_bigrams_0.1": Terms(rocchio=0.2, bigrams=0.1),
    "rocchio_0.2_bigrams_0.2": Terms(rocchio=0.2, bigrams=0.2),
    "rocchio_0.2_bigrams_0.4": Terms(rocchio=0.2, bigrams=0.4),
    "rocchio_0.1_bigrams_0.2": Terms(rocchio=0.1, bigrams=0.2),
    "rocchio_0.3_bigrams_0.2": Terms(rocchio=0.3, bigrams=0.2),
    "rocchio_0.2_surplus_0.4": Terms(rocchio=0.2, bigrams=0.4, surplus=True),
    "rocchio_0.2_bigrams_0.2_mix": Terms(rocchio=0.2, bigrams=0.2, mix=True),
    "rocchio_0.4_bigrams_0.2_mix": Terms(rocchio=0.4, bigrams=0.2, mix=True),
    "rocchio_0.4_bigrams_0.3_mix": Terms(rocchio=0.4, bigrams=0.3, mix=True),
    "rocchio_0.2_bigrams_0.3": Terms(rocchio=0.2, bigrams=0.3),
    "rocchio_0.15_bigrams_0.2": Terms(rocchio=0.15, bigrams=0.2),
    "rocchio_0.25_bigrams_0.2": Terms(rocchio=0.25, bigrams=0.2),
    "rocchio_0.2_bigrams_0.2_listed": Terms(rocchio=0.2, bigrams=0.2, listed=True),
    "rocchio_0.2_bigrams_0.2_chunk": Terms(rocchio=0.2, bigrams=0.2, chunk_only=True, shared_norm=True, listed=True),
    "rocchio_0.2_bigrams_0.2_chunk_own": Terms(rocchio=0.2, bigrams=0.2, chunk_only=True, listed=True),
    "bigrams_0.2_chunk": Terms(bigrams=0.2, chunk_only=True, shared_norm=True),
    "rocchio_0.2_bigrams_0.2_z": Terms(rocchio=0.2, bigrams=0.2, listed=True, zscore=True),
    "bigrams_0.2_z": Terms(bigrams=0.2, zscore=True),
    "unigram_z": Terms(zscore=True),
    "rocchio_0.2_bigrams_0.2_chunk_dense_first": Terms(rocchio=0.2, bigrams=0.2, chunk_only=True, shared_norm=True,
                                                       listed=True, dense_first=True),
    "rocchio_0.2_bigrams_0.2_chunk_z": Terms(rocchio=0.2, bigrams=0.2, chunk_only=True, shared_norm=True, listed=True,
                                             zscore=True),
    "rocchio_0.2_z": Terms(rocchio=0.2, listed=True, zscore=True),
    "rocchio_0.1_bigrams_0.2_z": Terms(rocchio=0.1, bigrams=0.2, listed=True, zscore=True),
    "rocchio_0.3_bigrams_0.2_z": Terms(rocchio=0.3, bigrams=0.2, listed=True, zscore=True),
    "rocchio_0.2_bigrams_0.1_z": Terms(rocchio=0.2, bigrams=0.1, listed=True, zscore=True),
    "rocchio_0.2_bigrams_0.3_z": Terms(rocchio=0.2, bigrams=0.3, listed=True, zscore=True),
    "bigrams_0.6_shared": Terms(bigrams=0.6, shared_norm=True),
    "coord_0.5": Terms(coord=0.5),
    "coord_1.0": Terms(coord=1.0),
    "pairs_w8_0.1": Terms(bigrams=0.1, window=8),
    "pairs_w8_0.2": Terms(bigrams=0.2, window=8),
}


def pairs(tokens: list[str], window: int, buckets: int = 0) -> list[str]:
    """Adjacent stems as one term (window 0), or every unordered pair within `window` positions; with `buckets`, each
    pair is its crc32 bucket instead."""
    if buckets:
        return [str(zlib.crc32(p.encode()) % buckets) for p in pairs(tokens, window)]
    if not window:
        return [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]
    return [" ".join(sorted((a, b))) for i, a in enumerate(tokens) for b in tokens[i + 1:i + window] if a != b]


class Field:
    """One BM25 field over the chunks: tf / (tf + k1 (1 - b + b len / avg)) as a sparse matrix, and idf per term."""

    def __init__(self, docs: list[list[str]], lengths: np.ndarray | None = None) -> None:
        vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for i, terms in enumerate(docs):
            for t, n in Counter(terms).items():
                rows.append(i)
                cols.append(vocab.setdefault(t, len(vocab)))
                vals.append(n)
        tf = sparse.csr_matrix((np.array(vals, dtype=np.float32), (rows, cols)), shape=(len(docs), len(vocab)))
        if lengths is None:
            lengths = np.array([len(d) for d in docs], dtype=np.float64)
        norm = (K1 * (1 - B + B * lengths / max(lengths.mean(), 1e-9))).astype(np.float32)
        sat = tf.tocoo()
        sat.data = sat.data / (sat.data + norm[sat.row])
        self.matrix = sat.tocsc()
        df = np.diff(tf.tocsc().indptr)
        self.idf = np.log(1 + (len(docs) - df + 0.5) / (df + 0.5)).astype(np.float32)
        self.vocab = vocab

    def scores(self, weighted: dict[str, float], less: dict[str, float] | None = None) -> np.ndarray:
        """Each chunk's score for query terms with weights (a term's repeats add to its weight); `less`: an idf to
        take off a term's own (none below 0)."""
        cols = [(self.vocab[t], w, (less or {}).get(t, 0.0)) for t, w in weighted.items() if t in self.vocab]
        if not cols:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        idx = np.array([c for c, _, _ in cols])
        idf = np.maximum(self.idf[idx] - np.array([x for _, _, x in cols], dtype=np.float32), 0)
        w = np.array([w for _, w, _ in cols], dtype=np.float32) * idf
        return np.asarray(self.matrix[:, idx] @ w).ravel()

    def share(self, terms: set[str]) -> np.ndarray:
        """Each chunk's idf-weighted share of the given terms that it contains."""
        idx = np.array([self.vocab[t] for t in terms if t in self.vocab], dtype=int)
        if not len(idx):
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        present = (self.matrix[:, idx] > 0).astype(np.float32)
        return np.asarray(present @ self.idf[idx]).ravel() / self.idf[idx].sum()


def query_terms(text: str, table: SynonymTable, weight: float) -> tuple[dict[str, float], list[str]]:
    """The question's stems (each repeat counts 1) and its synonym expansions' stems (each `weight`); and the
    question's own stems in order (for pairs)."""
    own = tokenize(text)
    weighted: dict[str, float] = dict(Counter(own))
    for t in tokenize(" ".join(bm25_terms(table.expansions(text)))):
        weighted[t] = weighted.get(t, 0.0) + weight
    return weighted, own


def expanded_stems(text: str, table: SynonymTable) -> list[str]:
    """The stems of the query string retrieval hands BM25: the question, then its synonym names."""
    extra = " ".join(bm25_terms(table.expansions(text)))
    return tokenize(f"{text} {extra}" if extra else text)


def sides(corpus: Corpus, q: Query, bm25: dict[int, float]) -> list[dict[int, float]]:
    """The first pass's document scores per side: Chroma's list, and the top DEPTH BM25 chunks."""
    hnsw = np.array(list(q.hnsw), dtype=int)
    ids = np.array(sorted(bm25, key=bm25.__getitem__, reverse=True)[:DEPTH], dtype=int)
    return [doc_max(corpus, hnsw, np.array([q.hnsw[i] for i in hnsw])),
            doc_max(corpus, ids, np.array([bm25[i] for i in ids]))]


def totals(sides: list[dict[int, float]]) -> dict[int, float]:
    """Each document's 0.5/0.5 sum of min-max scaled side scores (absent: 0)."""
    out: dict[int, float] = {}
    for side in sides:
        for d, s in minmax(side).items():
            out[d] = out.get(d, 0.0) + 0.5 * s
    return out


def feedback(corpus: Corpus, q: Query, bm25: dict[int, float], first: int, beta: float, mix: bool = False,
             listed: bool = False, z: bool = False) -> list[int]:
    """The ranking again with the dense side searched (exactly) by the query vector moved towards the best chunk of
    the first-ranked document: Rocchio with the one document the first pass is surest of."""
    unit = q.vector / np.linalg.norm(q.vector)
    own = np.flatnonzero(corpus.source == first)
    best = own[np.argmax(corpus.vectors[own] @ unit)]
    if listed:
        in_dense = [c for c in q.hnsw if corpus.source[c] == first]
        best = max(in_dense, key=q.hnsw.__getitem__) if in_dense else max(
            (c for c in bm25 if corpus.source[c] == first), key=bm25.__getitem__)
    moved = unit + beta * corpus.vectors[best]
    cos = corpus.vectors @ (moved / np.linalg.norm(moved))
    nearest = top(cos, DEPTH)
    dense = doc_max(corpus, nearest, cos[nearest])
    ids = np.array(sorted(bm25, key=bm25.__getitem__, reverse=True)[:DEPTH], dtype=int)
    sparse = doc_max(corpus, ids, np.array([bm25[i] for i in ids]))
    if z:
        return z_fused([dense, sparse])
    if not mix:
        return convex([minmax(dense), minmax(sparse)], [0.5, 0.5])
    hnsw = np.array(list(q.hnsw), dtype=int)
    before = totals([doc_max(corpus, hnsw, np.array([q.hnsw[i] for i in hnsw])), sparse])
    after = totals([dense, sparse])
    both = {d: before.get(d, 0.0) + after.get(d, 0.0) for d in set(before) | set(after)}
    return sorted(both, key=both.__getitem__, reverse=True)


class Scorer:
    """One dataset's fields, built once, and a variant's BM25 scores and ranking for one cached query."""

    def __init__(self, folder: Path, corpus: Corpus) -> None:
        self.corpus, self.table = corpus, load_synonyms()
        self.stems = [tokenize(t) for t in field_texts(corpus, titles(folder), self.table, Fields())]
        self.alone = [tokenize(t) for t in field_texts(corpus, titles(folder), self.table, Fields(window=0))]
        self.unigrams = Field(self.stems)
        self._pairs: dict[tuple, Field] = {}

    def pair_field(self, spec: Terms) -> Field:
        """The pair field a variant asks for (window or chunk pairs, own or shared lengths, hashed or not)."""
        key = (spec.window, spec.chunk_only, spec.shared_norm, spec.buckets)
        if key not in self._pairs:
            lengths = np.array([len(s) for s in self.stems], dtype=np.float64) if spec.shared_norm else None
            texts = self.alone if spec.chunk_only else self.stems
            self._pairs[key] = Field([pairs(s, spec.window, spec.buckets) for s in texts], lengths)
        return self._pairs[key]

    def bm25(self, spec: Terms, text: str) -> dict[int, float]:
        """Chunk -> positive BM25 score of the variant for one question."""
        weighted, own = query_terms(text, self.table, spec.synonyms)
        own = tokenize(lexical_query(text)) if spec.form else own
        score = self.unigrams.scores(weighted)
        if spec.bigrams:
            asked = Counter(pairs(expanded_stems(text, self.table) if spec.expanded else own, spec.window,
                                  spec.buckets))
            less = None
            if spec.surplus:
                uni = {t: float(self.unigrams.idf[self.unigrams.vocab[t]]) if t in self.unigrams.vocab else 0.0
                       for t in own}
                less = {p: max(uni[a], uni[b]) for p, a, b in zip(pairs(own, 0), own, own[1:])}
            score = score + spec.bigrams * self.pair_field(spec).scores(dict(asked), less)
        if spec.coord:
            score = score * self.unigrams.share(set(own)) ** spec.coord
        positive = np.flatnonzero(score > 0)
        return dict(zip(positive.tolist(), score[positive]))

    def ranking(self, spec: Terms, q: Query) -> list[int]:
        """The variant's document ranking of one question."""
        bm = self.bm25(spec, q.text)
        ranked = z_fused(sides(self.corpus, q, bm)) if spec.zscore else fused(self.corpus, q, bm)
        if not spec.rocchio:
            return ranked
        first = int(self.corpus.source[max(q.hnsw, key=q.hnsw.__getitem__)]) if spec.dense_first else ranked[0]
        return feedback(self.corpus, q, bm, first, spec.rocchio, spec.mix, spec.listed, spec.zscore)


def term_runs(folder: Path, variants: list[str], cache: Path = CACHE) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """Per variant, each cached query's top 100 documents."""
    data = pickle.loads((cache / f"{folder.resolve().name}.pkl").read_bytes())
    scorer = Scorer(folder, data["corpus"])
    for v in variants:
        yield v, {q.qid: [scorer.corpus.docs[d] for d in scorer.ranking(VARIANTS[v], q)[:100]]
                  for q in data["queries"]}


def main() -> None:
    """Command line: score the term variants on one dataset."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--variant", nargs="*", default=list(VARIANTS))
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the cached candidates are kept")
    args = parser.parse_args()
    qrels = pickle.loads((args.cache / f"{args.dataset.resolve().name}.pkl").read_bytes())["qrels"]
    for v, run in term_runs(args.dataset, args.variant, args.cache):
        m = ir_metrics(qrels, run)
        print(f"{args.dataset.resolve().name}\t{v}\t" + "\t".join(f"{k} {m[k]:.4f}" for k in ("ndcg@10", "hit@1")),
              flush=True)


if __name__ == "__main__":
    main()
