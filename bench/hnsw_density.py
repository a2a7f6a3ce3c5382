"""Why HNSW recall on bench/query.py's replicas depends on how many copies each chunk has (issue 17): real chunk
vectors from data homes, each with N noisy copies made as bench/query.py makes them, ~100k vectors per N, searched by
hnswlib (the library Chroma's HNSW index comes from) with Chroma's M and ef_construction, in one run.

    python bench/hnsw_density.py HOME... --queries queries.jsonl [--questions 50] [--replicas 0 18 68 150 565]
                                 [--total 100000] [--ef 128 600] [--noise 1.0] [--json]

Needs `hnswlib` (not a litassist dependency: `uv pip install --python .venv/bin/python hnswlib`). Recall@10 is
tie-aware against exact cosines, as in bench/query.py; `spread` is the median gap between the exact 1st and 10th
similarity. The homes' chunks are the originals (a random sample of total / (N + 1) of them for each N).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench.common`, however this is run

from bench.common import beir_questions, emit, load_average  # noqa: E402
from bench.ef_search import all_vectors, fresh  # noqa: E402
from bench.query import exact_top  # noqa: E402


def copies(originals: np.ndarray, n: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """The originals and n noisy unit copies of each (bench/query.py's replicate(), vectors only)."""
    parts = [originals]
    for _ in range(n):
        noisy = originals + rng.normal(size=originals.shape).astype(np.float32) * noise / np.sqrt(originals.shape[1])
        parts.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    return np.concatenate(parts)


def recall(vectors: np.ndarray, queries: np.ndarray, efs: list[int], m: int, ef_construction: int) -> dict:
    """Tie-aware recall@10 per ef_search, and the exact spread, of an hnswlib index over `vectors`."""
    import hnswlib

    similarity, exact = exact_top(vectors, queries, 10)
    kth = similarity[np.arange(len(queries)), exact[:, -1]]
    index = hnswlib.Index(space="ip", dim=vectors.shape[1])
    index.init_index(max_elements=len(vectors), ef_construction=ef_construction, M=m, random_seed=0)
    index.add_items(vectors)
    out = {}
    for ef in efs:
        index.set_ef(ef)
        labels, _ = index.knn_query(queries, k=10)
        found = similarity[np.arange(len(queries))[:, None], labels] >= kth[:, None] - 1e-5
        out[f"recall_at_10_ef{ef}"] = round(float(found.mean()), 3)
    out["spread"] = round(float(np.median(similarity[np.arange(len(queries)), exact[:, 0]] - kth)), 4)
    return out


def main() -> None:
    """Command line: gather the homes' vectors, then one hnswlib index per replica count."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("homes", nargs="+", type=Path)
    parser.add_argument("--queries", type=Path, required=True, help="BEIR queries.jsonl")
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--replicas", type=int, nargs="+", default=[0, 18, 68, 150, 565])
    parser.add_argument("--total", type=int, default=100_000, help="vectors per replica count (about)")
    parser.add_argument("--ef", type=int, nargs="+", default=[128, 600])
    parser.add_argument("--noise", type=float, default=1.0, help="as bench/query.py --noise (the 1M runs used 1.0)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    comps = [fresh(home, 600) for home in args.homes]
    real = np.concatenate([all_vectors(comp)[1] for comp in comps])
    hnsw = comps[0].settings.store
    queries = comps[0].encoder.encode(beir_questions(args.queries, args.questions)).astype(np.float32)
    rng = np.random.default_rng(0)
    rows = []
    for n in args.replicas:
        count = min(len(real), args.total // (n + 1))
        vectors = copies(real[rng.choice(len(real), count, replace=False)], n, args.noise, rng)
        rows.append({"replicas": n, "originals": count, "vectors": len(vectors),
                     **recall(vectors, queries, args.ef, hnsw.max_neighbors, hnsw.ef_construction)})
    emit({"real_chunks": len(real), "M": hnsw.max_neighbors, "ef_construction": hnsw.ef_construction,
          "rows": rows, "load_average_1m": load_average()}, args.json, "HNSW recall by copies per chunk")


if __name__ == "__main__":
    main()
