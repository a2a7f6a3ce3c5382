"""Ranking levers (issue 18) over cached candidates: each variant re-ranks the same per-query candidates in seconds.

    PYTHONPATH=. python bench/rank_levers.py cache DATASET_DIR [--home /work/eval-home]  # once per set
    PYTHONPATH=. python bench/rank_levers.py windows DATASET_DIR [--home ...]  # whole-document + window vectors
    PYTHONPATH=. python bench/rank_levers.py run DATASET_DIR [--variant NAME ...]  # nDCG@10 / hit@1 per variant

`cache` reads the dataset's eval index (built by `litassist eval`), every chunk vector, and per query the query
vector and BM25's scores over its whole positive list, into /tmp/litassist-rank/<dataset>.pkl. Dense scores are
exact cosines against every chunk, except in "baseline", which uses Chroma's own top 300 and is `litassist eval`'s
document ranking. Every variant is a function of one query's candidates.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from litassist.assistant.evaluate import ir_metrics
from bench.rank_cache import CACHE, DEPTH, Corpus, Query, build_cache, encode_windows
from litassist.index.bm25 import Bm25Index, tokenize


def doc_max(corpus: Corpus, chunks: np.ndarray, scores: np.ndarray) -> dict[int, float]:
    """Best chunk score per document among the given chunks."""
    best: dict[int, float] = {}
    for c, s in zip(chunks, scores):
        d = int(corpus.source[c])
        if s > best.get(d, -np.inf):
            best[d] = float(s)
    return best


def minmax(scores: dict[int, float], low: float | None = None) -> dict[int, float]:
    """Min-max scaled to [0, 1] (low: a floor to scale from instead of the list's own minimum)."""
    if not scores:
        return {}
    lo = min(scores.values()) if low is None else low
    hi = max(scores.values())
    return {d: (s - lo) / (hi - lo) if hi > lo else 1.0 for d, s in scores.items()}


def convex(sides: list[dict[int, float]], weights: list[float]) -> list[int]:
    """Weighted sum of scaled scores (absent: 0), best first."""
    total: dict[int, float] = {}
    for side, w in zip(sides, weights):
        for d, s in side.items():
            total[d] = total.get(d, 0.0) + w * s
    return sorted(total, key=total.__getitem__, reverse=True)


def top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first."""
    k = min(k, len(scores))
    idx = np.argpartition(-scores, k - 1)[:k]
    return idx[np.argsort(-scores[idx], kind="stable")]


class Ranker:
    """The variants share the per-query dense cosines and BM25 scores."""

    def __init__(self, corpus: Corpus, q: Query) -> None:
        self.corpus, self.q = corpus, q
        self.cos = corpus.vectors @ q.vector / max(np.linalg.norm(q.vector), 1e-9)
        self.bm_ids = np.array(sorted(q.bm25, key=q.bm25.__getitem__, reverse=True), dtype=int)
        self.bm_scores = np.array([q.bm25[i] for i in self.bm_ids], dtype=np.float32)

    def dense_docs(self, depth: int | None = DEPTH, cos: np.ndarray | None = None) -> dict[int, float]:
        """Best-chunk cosine per document over the top `depth` chunks (None: every chunk)."""
        cos = self.cos if cos is None else cos
        chunks = top(cos, depth) if depth else np.arange(len(cos))
        return doc_max(self.corpus, chunks, cos[chunks])

    def bm25_docs(self, depth: int | None = DEPTH) -> dict[int, float]:
        """Best-chunk BM25 per document over the top `depth` chunks (None: every positive chunk)."""
        n = depth or len(self.bm_ids)
        return doc_max(self.corpus, self.bm_ids[:n], self.bm_scores[:n])


Variant = Callable[[Ranker], list[int]]


def baseline(r: Ranker) -> list[int]:
    """Today: best chunk per side over 300 chunks (dense: Chroma's HNSW), min-max per side's documents, 0.5/0.5."""
    hnsw = np.array(list(r.q.hnsw), dtype=int)
    dense = doc_max(r.corpus, hnsw, np.array([r.q.hnsw[i] for i in hnsw]))
    return convex([minmax(dense), minmax(r.bm25_docs())], [0.5, 0.5])


def exact(r: Ranker) -> list[int]:
    """Today's ranking with exact dense cosines (what every other variant starts from)."""
    return convex([minmax(r.dense_docs()), minmax(r.bm25_docs())], [0.5, 0.5])


def full_norm(r: Ranker) -> list[int]:
    """Min-max over every document's best chunk (BM25 from 0: an unmatched document scores 0)."""
    return convex([minmax(r.dense_docs(None)), minmax(r.bm25_docs(None), low=0.0)], [0.5, 0.5])


def deep_norm(depth: int) -> Variant:
    """Min-max over a deeper candidate list per side."""
    return lambda r: convex([minmax(r.dense_docs(depth)), minmax(r.bm25_docs(depth))], [0.5, 0.5])


def centroids(corpus: Corpus) -> np.ndarray:
    """Per document the unit mean of its chunk vectors (a whole-document vector without encoding anything)."""
    if getattr(corpus, "_centroids", None) is None:
        sums = np.zeros((len(corpus.docs), corpus.vectors.shape[1]), dtype=np.float32)
        np.add.at(sums, corpus.source, corpus.vectors)
        corpus._centroids = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    return corpus._centroids


def granular(doc_weight: float, dense_weight: float = 0.5, fill: bool = True) -> Variant:
    """Dense document score = (1 - w) * best chunk + w * centroid cosine, for the documents of both candidate lists
    (fill) or of the dense list only (a document BM25 alone found keeps 0 on the dense side, as today)."""
    def rank(r: Ranker) -> list[int]:
        best, bm = r.dense_docs(), r.bm25_docs()
        cands = np.array(sorted(set(best) | set(bm) if fill else set(best)), dtype=int)
        whole = centroids(r.corpus)[cands] @ (r.q.vector / np.linalg.norm(r.q.vector))
        chunk = doc_max(r.corpus, np.arange(len(r.cos)), r.cos)
        dense = {int(d): (1 - doc_weight) * chunk[int(d)] + doc_weight * float(w) for d, w in zip(cands, whole)}
        return convex([minmax(dense), minmax(bm)], [dense_weight, 1 - dense_weight])
    return rank


def rocchio(k: int, beta: float) -> Variant:
    """Dense pseudo-relevance feedback: the query vector moves towards the best chunks of today's top k documents,
    then today's ranking runs again with the new dense cosines."""
    def rank(r: Ranker) -> list[int]:
        first = exact(r)[:k]
        best = [max(np.flatnonzero(r.corpus.source == d), key=lambda c: r.cos[c]) for d in first]
        q = r.q.vector / np.linalg.norm(r.q.vector) + beta * r.corpus.vectors[best].mean(axis=0)
        cos = r.corpus.vectors @ (q / np.linalg.norm(q))
        return convex([minmax(r.dense_docs(cos=cos)), minmax(r.bm25_docs())], [0.5, 0.5])
    return rank


def granularities(whole_weight: float, fill: bool = False, with_chunk: bool = False) -> Variant:
    """The issue's sketch: dense document score = w * whole-document cosine + (1 - w) * best window cosine, for the
    dense list's documents (fill: for both lists'), then 0.5/0.5 with BM25 as today."""
    def rank(r: Ranker) -> list[int]:
        g = r.corpus._windows
        q = r.q.vector / np.linalg.norm(r.q.vector)
        whole, wcos = g["whole"] @ q, g["window"] @ q
        best_window = np.full(len(r.corpus.docs), -1.0, dtype=np.float32)
        np.maximum.at(best_window, g["owner"], wcos)
        dense, bm = r.dense_docs(), r.bm25_docs()
        docs = set(dense) | set(bm) if fill else set(dense)
        mixed = {d: whole_weight * float(whole[d]) + (1 - whole_weight) * float(best_window[d]) for d in docs}
        if with_chunk:  # the three granularities, a third each
            mixed = {d: (2 * s + dense.get(d, float(r.cos[r.corpus.source == d].max()))) / 3 for d, s in mixed.items()}
        return convex([minmax(mixed), minmax(bm)], [0.5, 0.5])
    return rank


def bm25_model(corpus: Corpus) -> tuple:
    """The saved BM25 model and, per corpus chunk, its row in that model."""
    if getattr(corpus, "_bm25", None) is None:
        index = Bm25Index.load(corpus.bm25_dir)
        row = {cid: i for i, cid in enumerate(index.ids)}
        corpus._bm25 = (index.model, np.array([row[c] for c in corpus.ids]))
    return corpus._bm25


def rm3(k: int, terms: int, lam: float) -> Variant:
    """BM25 pseudo-relevance feedback (RM3): the `terms` commonest stemmed terms of today's top k documents, weighted
    by their share there (each document by its fused rank's score), mixed with the query's own terms (1 - lam)."""
    def rank(r: Ranker) -> list[int]:
        model, rows = bm25_model(r.corpus)
        first = exact(r)[:k]
        feedback: dict[str, float] = {}
        for d in first:
            words = [w for c in np.flatnonzero(r.corpus.source == d) for w in tokenize([r.corpus.texts[c]])[0]]
            for w in words:
                feedback[w] = feedback.get(w, 0.0) + 1.0 / (len(words) * k)
        own = tokenize([r.q.text])[0]
        weights = {w: (1 - lam) / len(own) for w in own} if own else {}
        for w in sorted(feedback, key=feedback.__getitem__, reverse=True)[:terms]:
            weights[w] = weights.get(w, 0.0) + lam * feedback[w] / sum(sorted(feedback.values())[-terms:])
        scores = sum(wt * model.get_scores([w]) for w, wt in weights.items() if w in model.vocab_dict)
        chunk = np.asarray(scores, dtype=np.float32)[rows] if not np.isscalar(scores) else np.zeros(len(rows))
        ids = top(chunk, DEPTH)
        ids = ids[chunk[ids] > 0]
        return convex([minmax(r.dense_docs()), minmax(doc_max(r.corpus, ids, chunk[ids]))], [0.5, 0.5])
    return rank


def neighbour_arrays(corpus: Corpus) -> tuple[np.ndarray, np.ndarray]:
    """Per chunk, the chunk before and after it in its document (itself at either end)."""
    if getattr(corpus, "_neighbours", None) is None:
        if corpus.positions is None:
            raise SystemExit("this cache has no chunk positions: run `bench/rank_levers.py cache` again")
        order = np.lexsort((corpus.positions, corpus.source))
        before, after = np.arange(len(order)), np.arange(len(order))
        same = corpus.source[order[1:]] == corpus.source[order[:-1]]
        before[order[1:][same]] = order[:-1][same]
        after[order[:-1][same]] = order[1:][same]
        corpus._neighbours = before, after
    return corpus._neighbours


def neighbour_dense(lam: float) -> Variant:
    """The dense side's version of BM25's windows: a chunk's cosine plus `lam` times its neighbours' mean cosine
    (a chunk at a document's end counts itself), then today's fusion."""
    def rank(r: Ranker) -> list[int]:
        before, after = neighbour_arrays(r.corpus)
        cos = (r.cos + lam * (r.cos[before] + r.cos[after]) / 2) / (1 + lam)
        return convex([minmax(r.dense_docs(cos=cos)), minmax(r.bm25_docs())], [0.5, 0.5])
    return rank


def neighbour_dense_listed(lam: float) -> Variant:
    """`neighbour_dense` as retrieval could run it without reading more vectors: over Chroma's own top DEPTH chunks,
    a neighbour outside that list counts the list's lowest cosine (an upper bound of its own)."""
    def rank(r: Ranker) -> list[int]:
        before, after = neighbour_arrays(r.corpus)
        listed = np.array(list(r.q.hnsw), dtype=int)
        known = np.full(len(r.corpus.ids), min(r.q.hnsw.values()), dtype=np.float32)
        known[listed] = [r.q.hnsw[i] for i in listed]
        mixed = (known[listed] + lam * (known[before[listed]] + known[after[listed]]) / 2) / (1 + lam)
        dense = doc_max(r.corpus, listed, mixed)
        return convex([minmax(dense), minmax(r.bm25_docs())], [0.5, 0.5])
    return rank


def same_source_dense(lam: float, alone: str = "self") -> Variant:
    """`neighbour_dense` without chunk positions: a listed chunk's neighbours are the (up to two) best other chunks
    of its document in Chroma's top DEPTH; with none listed, the chunk itself (`alone="self"`) or the list's lowest
    cosine (`alone="min"`)."""
    def rank(r: Ranker) -> list[int]:
        listed = sorted(r.q.hnsw, key=r.q.hnsw.__getitem__, reverse=True)
        floor = min(r.q.hnsw.values())
        by_doc: dict[int, list[float]] = {}
        for i in listed:
            by_doc.setdefault(int(r.corpus.source[i]), []).append(r.q.hnsw[i])
        mixed = []
        for i in listed:
            cos = r.q.hnsw[i]
            others = [c for c in by_doc[int(r.corpus.source[i])] if c != cos][:2]
            near = np.mean(others) if others else (cos if alone == "self" else floor)
            mixed.append((cos + lam * near) / (1 + lam))
        dense = doc_max(r.corpus, np.array(listed, dtype=int), np.array(mixed))
        return convex([minmax(dense), minmax(r.bm25_docs())], [0.5, 0.5])
    return rank


def feedback(beta: float, z: bool = False) -> Variant:
    """Dense feedback (retrieval.feedback): the first pass's first document, its best chunk among the candidates
    (Chroma's list, else BM25's), the query vector moved beta towards that chunk's vector, the dense side searched
    again (exactly here: HNSW at ef 600 finds nearly every chunk), fused with the same BM25 (`litassist eval` since
    2026-12-04); with `z`, both passes fuse z-scores (retrieval.doc_fusion "zscore")."""
    def rank(r: Ranker) -> list[int]:
        first = (zscore_fusion(r) if z else baseline(r))[0]
        listed = [c for c in r.q.hnsw if r.corpus.source[c] == first]
        best = max(listed, key=r.q.hnsw.__getitem__) if listed else \
            max((c for c in r.q.bm25 if r.corpus.source[c] == first), key=r.q.bm25.__getitem__)
        moved = r.q.vector / np.linalg.norm(r.q.vector) + beta * r.corpus.vectors[best]
        cos = r.corpus.vectors @ (moved / np.linalg.norm(moved))
        if z:
            return z_fused([r.dense_docs(cos=cos), r.bm25_docs()])
        return convex([minmax(r.dense_docs(cos=cos)), minmax(r.bm25_docs())], [0.5, 0.5])
    return rank


def hnsw_docs(r: Ranker) -> dict[int, float]:
    """Best-chunk cosine per document over Chroma's own top DEPTH chunks (the baseline's dense side)."""
    hnsw = np.array(list(r.q.hnsw), dtype=int)
    return doc_max(r.corpus, hnsw, np.array([r.q.hnsw[i] for i in hnsw]))


def standout(scores: dict[int, float]) -> float:
    """How far a side's best document stands above the rest of its list, in standard deviations (query performance
    prediction: a side whose first document stands out is more likely right)."""
    s = np.array(list(scores.values()), dtype=np.float64)
    return float((s.max() - s.mean()) / s.std()) if len(s) > 1 and s.std() > 0 else 0.0


def adaptive(alpha: float, low: float = 0.3, high: float = 0.7) -> Variant:
    """Per-query dense weight 0.5 + alpha x (dense standout - BM25 standout) / (their sum), kept in [low, high]."""
    def rank(r: Ranker) -> list[int]:
        dense, bm = hnsw_docs(r), r.bm25_docs()
        sd, sb = standout(dense), standout(bm)
        w = 0.5 + alpha * (sd - sb) / (sd + sb) if sd + sb > 0 else 0.5
        w = min(max(w, low), high)
        return convex([minmax(dense), minmax(bm)], [w, 1 - w])
    return rank


def zscore(scores: dict[int, float]) -> dict[int, float]:
    """Standardised scores over the side's list."""
    s = np.array(list(scores.values()), dtype=np.float64)
    mu, sd = s.mean(), s.std() or 1.0
    return {d: (v - mu) / sd for d, v in scores.items()}


def z_fused(sides: list[dict[int, float]]) -> list[int]:
    """0.5/0.5 of each side's z-scores (assistant/retrieval.py `zscore`); a document a side lacks gets its lowest."""
    docs = list(dict.fromkeys(d for side in sides for d in side))  # dense first, as retrieval breaks ties
    total = dict.fromkeys(docs, 0.0)
    for side in sides:
        scaled = zscore(side)
        low = min(scaled.values(), default=0.0)
        for d in docs:
            total[d] += 0.5 * scaled.get(d, low)
    return sorted(total, key=total.__getitem__, reverse=True)


def zscore_fusion(r: Ranker) -> list[int]:
    """The baseline with z-scores instead of min-max (a document missing from a side gets that side's minimum)."""
    return z_fused([hnsw_docs(r), r.bm25_docs()])


def weight(dense_weight: float) -> Variant:
    """Today's ranking with another dense weight."""
    return lambda r: convex([minmax(r.dense_docs()), minmax(r.bm25_docs())], [dense_weight, 1 - dense_weight])


VARIANTS: dict[str, Variant] = {
    "windows_0.5": granularities(0.5),
    "windows_0.5_fill": granularities(0.5, fill=True),
    "windows_0.0": granularities(0.0),
    "chunk_whole_window": granularities(0.5, with_chunk=True),
    "whole_1.0": granularities(1.0),
    "rm3_3_10_0.3": rm3(3, 10, 0.3),
    "rm3_3_10_0.5": rm3(3, 10, 0.5),
    "rm3_5_20_0.3": rm3(5, 20, 0.3),
    "rocchio_3_0.5": rocchio(3, 0.5),
    "rocchio_3_1.0": rocchio(3, 1.0),
    "rocchio_5_0.5": rocchio(5, 0.5),
    "rocchio_3_0.2": rocchio(3, 0.2),
    "rocchio_3_0.1": rocchio(3, 0.1),
    "feedback_0.2": feedback(0.2),
    "feedback_0.2_z": feedback(0.2, z=True),
    "rocchio_1_0.1": rocchio(1, 0.1),
    "rocchio_1_0.2": rocchio(1, 0.2),
    "rocchio_1_0.3": rocchio(1, 0.3),
    "neighbour_dense_0.25": neighbour_dense(0.25),
    "neighbour_dense_0.5": neighbour_dense(0.5),
    "neighbour_dense_1.0": neighbour_dense(1.0),
    "neighbour_dense_listed_0.5": neighbour_dense_listed(0.5),
    "same_source_0.5": same_source_dense(0.5),
    "same_source_min_0.5": same_source_dense(0.5, alone="min"),
    "adaptive_0.2": adaptive(0.2),
    "adaptive_0.4": adaptive(0.4),
    "adaptive_0.8": adaptive(0.8),
    "zscore": zscore_fusion,
    "weight_0.4": weight(0.4),
    "weight_0.6": weight(0.6),
    "fill_dense": granular(0.0),
    "centroid_0.5_nofill": granular(0.5, fill=False),
    "centroid_1.0_nofill": granular(1.0, fill=False),
    "centroid_0.25": granular(0.25),
    "centroid_0.5": granular(0.5),
    "centroid_1.0": granular(1.0),
    "baseline": baseline,
    "exact": exact,
    "full_norm": full_norm,
    "deep_norm_1000": deep_norm(1000),
}


def runs(name: str, variants: list[str], cache: Path = CACHE) -> tuple[dict[str, dict[str, list[str]]], dict]:
    """Per variant, each cached query's top 100 documents; and the qrels."""
    data = pickle.loads((cache / f"{name}.pkl").read_bytes())
    corpus, queries = data["corpus"], data["queries"]
    windows = cache / f"{name}-windows.pkl"
    corpus._windows = pickle.loads(windows.read_bytes()) if windows.exists() else None
    variants = [v for v in variants if corpus._windows is not None or not v.startswith(("windows", "whole"))]
    rankers = [Ranker(corpus, q) for q in queries]
    return {v: {r.q.qid: [corpus.docs[d] for d in VARIANTS[v](r)[:100]] for r in rankers} for v in variants}, \
        data["qrels"]


def evaluate(name: str, variants: list[str], cache: Path = CACHE) -> dict[str, dict[str, float]]:
    """nDCG@10, hit@1, Recall@100 per variant over the cached queries."""
    ranked, qrels = runs(name, variants, cache)
    out = {}
    for v, run in ranked.items():
        m = ir_metrics(qrels, run)
        out[v] = {k: round(m[k], 4) for k in ("ndcg@10", "hit@1", "recall@100")}
    return out


def main() -> None:
    """Command line: cache, or run variants."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["cache", "windows", "run"])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--home", type=Path, default=Path("/work/eval-home"))
    parser.add_argument("--variant", nargs="*", default=list(VARIANTS))
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the cached candidates are kept")
    args = parser.parse_args()
    if args.action == "cache":
        print(build_cache(args.dataset, args.home, args.cache), file=sys.stderr)
        return
    if args.action == "windows":
        print(encode_windows(args.dataset, args.home, args.cache), file=sys.stderr)
        return
    for v, m in evaluate(args.dataset.resolve().name, args.variant, args.cache).items():
        print(f"{args.dataset.resolve().name}\t{v}\t" + "\t".join(f"{k} {x:.4f}" for k, x in m.items()), flush=True)


if __name__ == "__main__":
    main()
