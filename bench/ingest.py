"""Ingest throughput: raw encoder speed vs. end-to-end ingest vs. unchanged re-ingest, on the same chunks.

    python bench/ingest.py CORPUS_PATH... [--quick] [--json] [--limit N] [--backend B] [--compare]
                           [--rounds N] [--rechunk TOKENS] [--device cpu|cuda|auto]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling bench/common.py, however this is run

from common import (BACKENDS, MAX_TOKENS, Phases, Stopwatch, encoder_label, limited_files,  # noqa: E402
                    load_average, emit, peak_rss_mib, torch_threads, warm_encoder)

from litassist.index.chunking import chunk_records  # noqa: E402
from litassist.index.embedding import Encoder  # noqa: E402
from litassist.index.errors import LoadError, PartialLoadError  # noqa: E402
from litassist.index.loaders import load_file  # noqa: E402
from litassist.index.records import Chunk  # noqa: E402
from litassist.index.store import Store  # noqa: E402
from litassist.assistant.factory import hnsw_for, ingestor_for  # noqa: E402
from litassist.assistant.settings import Settings, StoreSettings  # noqa: E402

QUICK_LIMIT = 40  # documents per jsonl / files from folders: ~100 chunks, under a minute per pass on 2 cores
DEFAULT_LIMIT = 300  # ~750 scifact chunks: ~1 minute per pass on 2 cores


def parse_and_chunk(files: list[Path], encoder: Encoder) -> tuple[int, list[Chunk]]:
    """Records and unique chunks exactly as the Ingestor makes them (same loader, tokenizer and limit)."""
    documents, chunks, seen = 0, [], set()
    for path in files:
        try:
            records = load_file(path)
        except PartialLoadError as exc:  # the Ingestor keeps the readable part of a partly bad file
            records = exc.records
        except LoadError:
            continue
        documents += len(records)
        for chunk in chunk_records(records, max_tokens=MAX_TOKENS, count=encoder.count_tokens):
            if chunk.id not in seen:  # the Ingestor stores (and embeds) each chunk id once
                seen.add(chunk.id)
                chunks.append(chunk)
    return documents, chunks


def ingest_pass(files: list[Path], store: Store, encoder: Encoder, max_tokens: int = MAX_TOKENS) -> Any:
    """One Ingestor pass over the files."""
    return ingestor_for(Settings(), store, encoder, max_tokens=max_tokens).run(files)  # the app's ingest settings


def measure(files: list[Path], encoder: Encoder, home: Path, rechunk_tokens: int | None) -> dict[str, Any]:
    """Raw encode, first ingest and re-ingest of the same files, with a breakdown of the first ingest."""
    phases = Phases()
    documents, chunks = phases.run("parse_chunk", lambda: parse_and_chunk(files, encoder))
    if not chunks:
        raise SystemExit("no chunks: nothing to benchmark")
    encoder.encode([c.search_text for c in chunks[: encoder.batch_size]])  # one full batch: steady state
    phases.run("raw_encode", lambda: encoder.encode([c.search_text for c in chunks]))
    store = Store(home, encoder.name, hnsw=hnsw_for(StoreSettings()))  # opened outside the timing: a one-off client start-up
    watch = Stopwatch()
    for obj, attr, label in ((encoder, "encode", "encode_s"), (store, "write", "chroma_write_s"),
                             (store, "rebuild_bm25", "bm25_rebuild_s"), (store, "vectors", "vector_lookup_s"),
                             (store, "file_hash", "file_lookup_s"), (store, "owners", "owner_lookup_s")):
        watch.wrap(obj, attr, label)
    first = phases.run("ingest", lambda: ingest_pass(files, store, encoder))
    if first.failed:
        print(f"warning: {len(first.failed)} file(s) failed: {first.failed[0].reason}", file=sys.stderr)
    if first.embedded != len(chunks):
        print(f"warning: ingest embedded {first.embedded} chunks, raw pass had {len(chunks)}", file=sys.stderr)
    breakdown = dict(watch.seconds)
    again = phases.run("reingest", lambda: ingest_pass(files, store, encoder))
    if again.embedded != 0:
        raise SystemExit(f"re-ingest of an unchanged corpus embedded {again.embedded} chunks (expected 0)")
    result = summary(phases, breakdown, documents, len(chunks), store.count(), encoder)
    if rechunk_tokens:
        result["rechunk"] = rechunk(files, store, encoder, rechunk_tokens, phases)
    result["other_cpu_share"] = phases.contention
    phases.warn_if_contended()
    return result


def rechunk(files: list[Path], store: Store, encoder: Encoder, tokens: int, phases: Phases) -> dict[str, Any]:
    """Ingest the same files with another chunk budget, then with the default one again (the vector cache's case)."""
    out: dict[str, Any] = {"max_tokens": tokens}
    for label, budget in (("changed", tokens), ("back", MAX_TOKENS)):
        report = phases.run(f"rechunk_{label}", lambda b=budget: ingest_pass(files, store, encoder, b))
        seconds = phases.seconds[f"rechunk_{label}"]
        out[label] = {"embedded": report.embedded, "reused": report.reused, "seconds": round(seconds, 3),
                      "speedup_vs_first_ingest": round(phases.seconds["ingest"] / seconds, 1)}
    return out


def summary(phases: Phases, watched: dict[str, float], documents: int, chunks: int, stored: int,
            encoder: Encoder) -> dict[str, Any]:
    """The result object: headline rates first, then the detail behind them."""
    secs = phases.seconds
    breakdown = {k: round(v, 2) for k, v in sorted(watched.items())}
    # Hashing, parsing and chunking, less the time they overlap the worker's encoding and writing (can be < 0).
    breakdown["other_s"] = round(secs["ingest"] - sum(watched.values()), 2)
    raw_rate, ingest_rate = chunks / secs["raw_encode"], chunks / secs["ingest"]
    return {
        "raw_chunks_per_s": round(raw_rate, 2), "ingest_chunks_per_s": round(ingest_rate, 2),
        "ratio": round(ingest_rate / raw_rate, 3), "reingest_speedup": round(secs["ingest"] / secs["reingest"], 1),
        "encoder": encoder_label(encoder), "torch_threads": torch_threads(),
        "documents": documents, "chunks": chunks, "stored": stored,
        "seconds": {k: round(v, 3) for k, v in secs.items()}, "ingest_breakdown": breakdown,
        "peak_rss_mib": peak_rss_mib(), "load_average_1m": load_average(),
    }


def compare(texts: list[str], device: str, rounds: int) -> dict[str, Any]:
    """Raw chunks/s of every backend on the same texts (best of `rounds`, backends alternating), vs torch."""
    encoders = {name: warm_encoder(name, device) for name in BACKENDS}
    phases = Phases()
    best, per_cpu = {name: 0.0 for name in BACKENDS}, {name: 0.0 for name in BACKENDS}
    for round_no in range(rounds):
        for name, encoder in encoders.items():
            label = f"{name}#{round_no + 1}"
            encoder.encode(texts[: encoder.batch_size])  # one full batch: steady state
            phases.run(label, lambda e=encoder: e.encode(texts))
            best[name] = max(best[name], len(texts) / phases.seconds[label])
            per_cpu[name] = max(per_cpu[name], len(texts) / phases.cpu_seconds[label])
    phases.warn_if_contended()
    return {"chunks": len(texts), "rounds": rounds,
            "raw_chunks_per_s": {k: round(v, 2) for k, v in best.items()},
            "speedup_vs_torch": {k: round(v / best["torch"], 2) for k, v in best.items()},
            "chunks_per_cpu_s": {k: round(v, 2) for k, v in per_cpu.items()},
            "cpu_speedup_vs_torch": {k: round(v / per_cpu["torch"], 2) for k, v in per_cpu.items()},
            "other_cpu_share": phases.contention}


def arguments(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="+", type=Path, help="Files or folders in any supported format")
    parser.add_argument("--quick", action="store_true", help=f"Small sample (--limit {QUICK_LIMIT})")
    parser.add_argument("--json", action="store_true", help="Print one JSON object instead of a table")
    parser.add_argument("--limit", type=int, default=None,
                        help=f"Documents per jsonl corpus and files from folders (default {DEFAULT_LIMIT})")
    parser.add_argument("--backend", choices=BACKENDS, default="torch", help="Encoder backend for the ingest passes")
    parser.add_argument("--compare", action="store_true",
                        help="Also time the raw encode of every backend on the same chunks (adds `backends`)")
    parser.add_argument("--rounds", type=int, default=2, help="--compare: passes per backend, best one kept")
    parser.add_argument("--rechunk", type=int, metavar="TOKENS",
                        help="Then re-ingest with this chunk budget and back to the default (adds `rechunk`)")
    parser.add_argument("--device", default="auto", help="Encoder device: auto, cpu or cuda")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the result."""
    args = arguments(argv)
    limit = args.limit or (QUICK_LIMIT if args.quick else DEFAULT_LIMIT)
    encoder = warm_encoder(args.backend, args.device)
    with tempfile.TemporaryDirectory(prefix="litassist-bench-") as tmp:
        files = limited_files(args.corpus, limit, Path(tmp))
        result = measure(files, encoder, Path(tmp) / "home", args.rechunk)
        if args.compare:
            _, chunks = parse_and_chunk(files, encoder)
            result["backends"] = compare([c.search_text for c in chunks], args.device, args.rounds)
    emit(result, args.json, f"ingest benchmark ({', '.join(map(str, args.corpus))}, limit {limit})")


if __name__ == "__main__":
    main()
