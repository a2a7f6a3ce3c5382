"""Query latency (hybrid retrieval, extractive answers, filtered retrieval) and HNSW recall@10.

    python bench/query.py CORPUS_PATH... [--quick] [--json] [--queries FILE] [--limit N] [--home DIR]
                          [--questions N] [--replicate N] [--noise X] [--backend B] [--ef-search N]
                          [--max-neighbors M] [--ef-construction N] [--study-filters]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling bench/common.py, however this is run

import study_facts  # noqa: E402
from common import (BACKENDS, EXPORT_DIR, Phases, encoder_label, limited_files,  # noqa: E402
                    emit, load_average, peak_rss_mib, torch_threads)

import numpy as np  # noqa: E402

from litassist.assistant.answer import answer  # noqa: E402
from litassist.assistant.factory import Components  # noqa: E402
from litassist.assistant.settings import Settings  # noqa: E402
from litassist.index.bm25 import SearchFilter  # noqa: E402
from litassist.index.chunking import chunk_id  # noqa: E402
from litassist.index.store import Entry, Store, passage_of  # noqa: E402

QUICK = {"limit": 60, "questions": 10}
DEFAULT = {"limit": 500, "questions": 100}
NOISE = 0.3  # default norm of the noise added to a replica's vector: cosine ~0.96 to its original
GENERIC_QUESTIONS = [
    "What is the role of BRCA1 in DNA repair?",
    "How does TP53 mutation affect cancer prognosis?",
    "Which signaling pathways does EGFR activate?",
    "Does vitamin D supplementation reduce fracture risk?",
    "What is the effect of statins on cardiovascular mortality?",
    "How does insulin resistance develop in type 2 diabetes?",
    "What is the function of mTOR in cell growth?",
    "Does smoking increase the risk of lung cancer?",
    "How do T cells recognise antigens?",
    "What causes antibiotic resistance in bacteria?",
    "What is the role of inflammation in atherosclerosis?",
    "How does the Wnt pathway regulate stem cells?",
    "Which genes are associated with Alzheimer's disease?",
    "What is the mechanism of action of metformin?",
    "How does hypoxia induce HIF-1 alpha?",
    "Does aspirin prevent colorectal cancer?",
    "What is the role of microRNAs in gene regulation?",
    "How does obesity affect blood pressure?",
    "What are the effects of exercise on mitochondrial biogenesis?",
    "How does NF-kB regulate immune responses?",
]


def load_questions(corpus: list[Path], queries: Path | None, count: int) -> list[str]:
    """--queries (jsonl `text` or one question per line), else a BEIR queries.jsonl beside a corpus.jsonl."""
    if queries is None:
        beside = [p.parent / "queries.jsonl" for p in corpus if p.suffix == ".jsonl"]
        queries = next((q for q in beside if q.is_file()), None)
    if queries is None:
        return GENERIC_QUESTIONS[:count]
    found = []
    for line in queries.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            found.append(json.loads(line)["text"] if line.startswith("{") else line)
    return found[:count]


def replicate(store: Store, copies: int, originals: list[Path], noise: float = NOISE, seed: int = 0) -> None:
    """Write `copies` variants of every chunk of the `originals` files straight into the store: about a tenth of the
    words dropped from the text and a small random offset on the vector, so the index grows without encoding."""
    rng = np.random.default_rng(seed)
    where = {"file": {"$in": [str(path.resolve()) for path in originals]}}  # a reused --home also holds replicas
    rows = sorted(all_rows(store, ["documents", "metadatas", "embeddings"], where), key=lambda r: r[0])
    hashes = {(meta["file"], meta["file_hash"]) for _, _, meta, _ in rows}
    if all(store.file_hash(f"{file}#copy{copy}") == f"{digest}-{copy}" for file, digest in hashes
           for copy in range(1, copies + 1)):
        return  # a reused, complete --home: making a million replica objects to skip them left the process that
        # then times questions with a 9 GB heap, and its retrievals ~25 % slower than a fresh process's
    wrote = False
    for copy in range(1, copies + 1):
        files: dict[str, tuple[str, list, dict, list]] = {}
        for cid, doc, meta, vector in rows:  # every copy draws its noise, written or not: same seed, same replicas
            original = passage_of(cid, doc, meta, 0.0)
            source = f"{original.chunk.source_id}~{copy}"
            text = " ".join([w for w in doc.split() if rng.random() > 0.1] or doc.split()[:1])
            chunk = original.chunk.model_copy(update={
                "id": chunk_id(source, original.chunk.position, text, original.chunk.context),
                "source_id": source, "text": text})
            noisy = np.asarray(vector) + rng.normal(size=len(vector)) * noise / np.sqrt(len(vector))
            _, chunks, records, vectors = files.setdefault(
                f"{meta['file']}#copy{copy}", (f"{meta['file_hash']}-{copy}", [], {}, []))
            chunks.append(chunk)
            records[source] = original.record.model_copy(update={"source_id": source})
            vectors.append(noisy / np.linalg.norm(noisy))
        entries = [Entry(file, digest, chunks, records, np.asarray(vectors, dtype=np.float32))
                   for file, (digest, chunks, records, vectors) in files.items()
                   if store.file_hash(file) != digest]  # a reused --home (or a resumed build) keeps what it has
        if entries:
            with store.lock:  # writes to the index hold the data home's write lock
                store.write(entries)
            wrote = True
    if wrote:
        store.rebuild_bm25()


def all_rows(store: Store, include: list[str], where: dict | None = None, page: int = 1000) -> list[tuple]:
    """Every stored row (or those `where` matches) as (id, *included fields): the ids first, then pages by id (Chroma's
    offset pages re-read every row before the offset: quadratic at 1M chunks)."""
    ids = store.collection.get(where=where, include=[])["ids"]
    rows: list[tuple] = []
    for start in range(0, len(ids), page):
        got = store.collection.get(ids=ids[start : start + page], include=include)
        rows.extend(zip(got["ids"], *(got[name] for name in include)))
    return rows


def exact_top(matrix: np.ndarray, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force cosine: (similarities to every row, index of the top k) per query vector."""
    similarity = vectors @ matrix.T
    return similarity, np.argsort(-similarity, axis=1)[:, :k]


def hnsw_recall(store: Store, query_vectors: np.ndarray, k: int = 10) -> dict[str, Any]:
    """Recall@k of Chroma's HNSW against brute-force cosine over every stored vector, and the raw query's p50.

    Tie-aware recall counts a returned chunk as correct when it is at least as similar as the exact k-th (chunks
    with identical vectors make id sets arbitrary); `exact_spread` is the median gap between the exact 1st and
    k-th similarity: the tighter the neighbourhoods, the harder HNSW's job. Chroma applies ef_search when a process
    first loads the index, so one run measures one ef_search: sweep with several runs (--ef-search)."""
    rows = all_rows(store, ["embeddings"])
    position = {cid: i for i, (cid, _) in enumerate(rows)}
    matrix = np.asarray([vec for _, vec in rows], dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    k = min(k, len(rows))
    similarity, exact = exact_top(matrix, query_vectors, k)
    tie_aware, strict, times = [], [], []
    for i, vector in enumerate(query_vectors):
        start = time.perf_counter()
        got = store.collection.query(query_embeddings=[vector.tolist()], n_results=k, include=["distances"])
        times.append((time.perf_counter() - start) * 1000)
        found = [position[cid] for cid in got["ids"][0]]
        tie_aware.append(np.sum(similarity[i, found] >= similarity[i, exact[i, -1]] - 1e-5) / k)
        strict.append(len(set(exact[i]) & set(found)) / k)
    spread = float(np.median([similarity[i, e[0]] - similarity[i, e[-1]] for i, e in enumerate(exact)]))
    return {"recall_at_10": round(float(np.mean(tie_aware)), 4),
            "recall_at_10_strict_ids": round(float(np.mean(strict)), 4),
            "query_p50_ms": round(float(np.median(times)), 2), "exact_spread": round(spread, 4)}


def latencies_ms(questions: list[str], call: Callable[[str], Any]) -> np.ndarray:
    """Wall milliseconds of call(q) for each question, after one untimed warm-up call."""
    call(questions[0])
    times = []
    for question in questions:
        start = time.perf_counter()
        call(question)
        times.append((time.perf_counter() - start) * 1000)
    return np.asarray(times)


def breakdown(comp: Components, questions: list[str], where: SearchFilter, depth: int) -> dict[str, float]:
    """p50 ms of each step of one hybrid retrieval: question encode, dense and BM25 side (plain and filtered)."""
    store, encoder = comp.store, comp.encoder
    vectors = {q: encoder.encode([q])[0] for q in questions}
    steps = {
        "encode": lambda q: encoder.encode([q]),
        "dense": lambda q: store.dense(vectors[q], depth),
        "lexical": lambda q: store.lexical(q, depth),
        "dense_filtered": lambda q: store.dense(vectors[q], depth, where),
        "lexical_filtered": lambda q: store.lexical(q, depth, where),
    }
    return {f"{name}_p50_ms": round(float(np.median(latencies_ms(questions, step))), 2) for name, step in steps.items()}


def measure(comp: Components, questions: list[str]) -> dict[str, Any]:
    """Latency percentiles of the three query paths, a per-step breakdown and HNSW recall, on the same questions."""
    retriever = comp.retriever()  # the app's own retriever: k 8, 50 candidates per side, synonyms
    papers = SearchFilter(kind="paper")
    settings = comp.settings.answer
    phases = Phases()
    retrieval = phases.run("retrieval", lambda: latencies_ms(questions, retriever.search))
    answers = phases.run("answer", lambda: latencies_ms(questions, lambda q: answer(q, retriever, settings=settings)))
    filtered = phases.run("filtered", lambda: latencies_ms(questions, lambda q: retriever.search(q, where=papers)))
    steps = phases.run("breakdown", lambda: breakdown(comp, questions, papers, retriever.candidates))
    hnsw = phases.run("hnsw", lambda: hnsw_recall(comp.store, comp.encoder.encode(questions)))
    phases.warn_if_contended()
    pct = lambda values, p: round(float(np.percentile(values, p)), 1)  # noqa: E731
    return {
        "chunks": comp.store.count(), "questions": len(questions),
        "retrieval_p50_ms": pct(retrieval, 50), "retrieval_p95_ms": pct(retrieval, 95),
        "answer_p50_ms": pct(answers, 50), "answer_p95_ms": pct(answers, 95),
        "filtered_p50_ms": pct(filtered, 50), "filtered_p95_ms": pct(filtered, 95),
        "hnsw_recall_at_10": hnsw["recall_at_10"], "hnsw_recall_at_10_strict_ids": hnsw["recall_at_10_strict_ids"],
        "encoder": encoder_label(comp.encoder), "torch_threads": torch_threads(),
        "hnsw": {"ef_search": comp.store.collection.configuration["hnsw"]["ef_search"],
                 "max_neighbors": comp.store.collection.configuration["hnsw"]["max_neighbors"],
                 "ef_construction": comp.store.collection.configuration["hnsw"]["ef_construction"],
                 "query_p50_ms": hnsw["query_p50_ms"], "exact_spread": hnsw["exact_spread"]},
        "retrieval_breakdown": steps,
        "peak_rss_mib": peak_rss_mib(), "load_average_1m": load_average(),
        "other_cpu_share": phases.contention,
    }


def study_filters(comp: Components, questions: list[str]) -> dict[str, Any]:
    """Study-type and species filters against unfiltered hybrid retrieval (bench/study_facts.py)."""
    study_facts.assign(comp.store)
    retriever = comp.retriever()
    phases = Phases()
    result = phases.run("study_filters", lambda: study_facts.measure(comp.store, retriever.search, questions,
                                                                     retriever.k))
    phases.warn_if_contended()
    return {"chunks": comp.store.count(), "questions": len(questions), **result,
            "load_average_1m": load_average(), "other_cpu_share": phases.contention}


def components(args: argparse.Namespace, home: Path) -> Components:
    """The app's own factory, pointed at the bench home, backend and HNSW parameters."""
    store = {k: v for k, v in (("ef_search", args.ef_search), ("max_neighbors", args.max_neighbors),
                               ("ef_construction", args.ef_construction)) if v}
    embedding = {"backend": args.backend, "device": args.device, "export_dir": EXPORT_DIR}
    return Components(Settings(home=home, embedding=embedding, store=store))


def build(args: argparse.Namespace, home: Path, limit: int) -> Components:
    """Ingest the (limited) corpus into the home, then add replicas if asked."""
    corpus_copy = home / "bench-corpus"  # a stable place, so a reused --home sees unchanged files
    corpus_copy.mkdir(parents=True, exist_ok=True)
    comp = components(args, home)
    comp.encoder.encode(["warm-up: BRCA1 regulates DNA repair."])  # model load (or export) is never timed
    files = limited_files(args.corpus, limit, corpus_copy)
    report = comp.ingestor().run(files)
    if report.failed:
        print(f"warning: {len(report.failed)} file(s) failed: {report.failed[0].reason}", file=sys.stderr)
    if args.replicate:
        start = time.perf_counter()
        replicate(comp.store, args.replicate, files, args.noise)
        print(f"replicated to {comp.store.count()} chunks in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return comp


def arguments(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="+", type=Path, help="Files or folders in any supported format")
    parser.add_argument("--quick", action="store_true", help=f"Small sample ({QUICK})")
    parser.add_argument("--json", action="store_true", help="Print one JSON object instead of a table")
    parser.add_argument("--queries", type=Path, help="Questions: BEIR queries.jsonl or one per line")
    parser.add_argument("--questions", type=int, help=f"How many questions to time (default {DEFAULT['questions']})")
    parser.add_argument("--limit", type=int,
                        help=f"Documents per jsonl / files from folders (default {DEFAULT['limit']})")
    parser.add_argument("--home", type=Path, help="Reuse this data home instead of a temporary one")
    parser.add_argument("--replicate", type=int, default=0, help="Add N perturbed copies of every chunk (scale test)")
    parser.add_argument("--noise", type=float, default=NOISE,
                        help=f"Norm of the random offset on each replica's unit vector (default {NOISE})")
    parser.add_argument("--backend", choices=("auto", *BACKENDS), default=Settings().embedding.backend,
                        help="Encoder backend (default: the settings' default)")
    parser.add_argument("--ef-search", type=int, help="HNSW ef_search (default: the settings' default)")
    parser.add_argument("--max-neighbors", type=int, help="HNSW M for a new index (default: the settings')")
    parser.add_argument("--ef-construction", type=int, help="HNSW ef_construction for a new index")
    parser.add_argument("--device", default="auto", help="Encoder device: auto, cpu or cuda")
    parser.add_argument("--study-filters", action="store_true",
                        help="Assign study types and species to the papers (bench/study_facts.py) and time only "
                             "retrieval filtered on them against unfiltered")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Build or reuse the index, time the questions and print the result."""
    args = arguments(argv)
    sizes = QUICK if args.quick else DEFAULT
    limit, count = args.limit or sizes["limit"], args.questions or sizes["questions"]
    questions = load_questions(args.corpus, args.queries, count)
    if not questions:
        raise SystemExit("no questions to time")
    with tempfile.TemporaryDirectory(prefix="litassist-bench-") as tmp:
        comp = build(args, args.home or Path(tmp), limit)
        result = study_filters(comp, questions) if args.study_filters else measure(comp, questions)
    emit(result, args.json, f"query benchmark ({', '.join(map(str, args.corpus))}, limit {limit})")


if __name__ == "__main__":
    main()
