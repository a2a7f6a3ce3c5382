"""Ingest throughput: raw encoder speed vs. end-to-end ingest vs. unchanged re-ingest, on the same chunks.

    python bench/ingest.py CORPUS_PATH... [--quick] [--json] [--limit N] [--device cpu|cuda|auto]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import assistant  # noqa: F401  (must come first: switches Hugging Face and Chroma to offline mode)
from index.chunking import chunk_records
from index.embedding import SentenceTransformerEncoder
from index.errors import LoadError, PartialLoadError
from index.ingest import Ingestor
from index.loaders import iter_files, load_file
from index.records import Chunk
from index.store import Hnsw, Store

QUICK_LIMIT = 40  # documents per jsonl / files from folders: ~100 chunks, under a minute per pass on 2 cores
DEFAULT_LIMIT = 300  # ~750 scifact chunks: ~1 minute per pass on 2 cores
MAX_TOKENS = 200  # ChunkingSettings.max_tokens default, so chunks match what `litassist ingest` makes


class Stopwatch:
    """Seconds spent inside wrapped methods, by label: shows where ingest time goes."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, obj: Any, attr: str, label: str) -> None:
        """Replace obj.attr (on the instance only) with a timed pass-through."""
        inner: Callable[..., Any] = getattr(obj, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start

        setattr(obj, attr, timed)


def truncated_jsonl(path: Path, limit: int, folder: Path, tag: int) -> Path:
    """A copy of the first `limit` non-blank lines of a jsonl corpus, so --limit caps documents."""
    target = folder / f"{tag}-{path.stem}-first{limit}.jsonl"
    lines = []
    with path.open("rb") as handle:
        for raw in handle:
            if len(lines) >= limit:
                break
            if raw.strip():
                lines.append(raw)
    target.write_bytes(b"".join(lines))
    return target


def limited_files(paths: Iterable[Path], limit: int, folder: Path) -> list[Path]:
    """Expand corpus paths to files: each jsonl cut to `limit` documents, at most `limit` other files."""
    files: list[Path] = []
    others = 0
    for tag, path in enumerate(iter_files(Path(p) for p in paths)):
        if path.suffix.lower() == ".jsonl":
            files.append(truncated_jsonl(path, limit, folder, tag))
        elif others < limit:
            files.append(path)
            others += 1
    return files


def warm_encoder(device: str) -> SentenceTransformerEncoder:
    """Load the bundled model and run one small encode, so no timing below includes start-up."""
    encoder = SentenceTransformerEncoder(device=device)
    encoder.encode(["warm-up: BRCA1 regulates DNA repair."])
    return encoder


def encoder_label(encoder: SentenceTransformerEncoder) -> str:
    """Model name plus the device it actually runs on."""
    return f"{encoder.name} on {encoder.model.device}"


def torch_threads() -> int:
    """Intra-op threads torch uses (the CPU parallelism behind the encoder numbers)."""
    import torch

    return torch.get_num_threads()


def cpu_snapshot() -> tuple[float, float, float]:
    """(wall, machine-wide busy CPU seconds, this process's CPU seconds) for other_cpu_share()."""
    own = sum(os.times()[:2])
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):  # not Linux: the share is then reported as None
        return time.perf_counter(), float("nan"), own
    # user..steal (guest time is already inside user); steal counts too: CPU this VM wanted and did not get
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return time.perf_counter(), busy / os.sysconf("SC_CLK_TCK"), own


def other_cpu_share(start: tuple[float, float, float]) -> float | None:
    """Share of all cores that other processes used since `start`: on 2 cores any of it slows torch a lot."""
    end = cpu_snapshot()
    wall = end[0] - start[0]
    if wall < 1.0:  # /proc/stat counts 10 ms ticks: a shorter phase cannot be judged
        return None
    share = ((end[1] - start[1]) - (end[2] - start[2])) / (wall * (os.cpu_count() or 1))
    return None if share != share else round(max(share, 0.0), 3)


def parse_and_chunk(files: list[Path], encoder: SentenceTransformerEncoder) -> tuple[int, list[Chunk]]:
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
        for chunk in chunk_records(records, MAX_TOKENS, encoder.count_tokens):
            if chunk.id not in seen:  # the Ingestor stores (and embeds) each chunk id once
                seen.add(chunk.id)
                chunks.append(chunk)
    return documents, chunks


class Phases:
    """Wall seconds of each timed phase, and the CPU share other processes took meanwhile."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.contention: dict[str, float | None] = {}

    def run(self, label: str, fn: Callable[[], Any]) -> Any:
        """Call fn() as the phase `label` and return its result."""
        start = cpu_snapshot()
        result = fn()
        self.seconds[label] = time.perf_counter() - start[0]
        self.contention[label] = other_cpu_share(start)
        return result

    def warn_if_contended(self, limit: float = 0.05) -> None:
        """Say so on stderr when other processes competed for the CPU: those numbers are low."""
        busy = {k: v for k, v in self.contention.items() if v is not None and v > limit}
        if busy:
            print(f"warning: other processes used CPU during {busy}; timings are pessimistic", file=sys.stderr)


def ingest_pass(files: list[Path], store: Store, encoder: SentenceTransformerEncoder) -> Any:
    """One Ingestor pass over the files."""
    return Ingestor(store, encoder, max_tokens=MAX_TOKENS).run(files)


def measure(files: list[Path], encoder: SentenceTransformerEncoder, home: Path) -> dict[str, Any]:
    """Raw encode, first ingest and re-ingest of the same files, with a breakdown of the first ingest."""
    phases = Phases()
    documents, chunks = phases.run("parse_chunk", lambda: parse_and_chunk(files, encoder))
    if not chunks:
        raise SystemExit("no chunks: nothing to benchmark")
    encoder.encode([c.search_text for c in chunks[: encoder.batch_size]])  # one full batch: steady state
    phases.run("raw_encode", lambda: encoder.encode([c.search_text for c in chunks]))
    store = Store(home, encoder.name, Hnsw())  # opened outside the timing: a one-off client start-up
    watch = Stopwatch()
    for obj, attr, label in ((encoder, "encode", "encode_s"), (store, "write", "chroma_write_s"),
                             (store, "rebuild_bm25", "bm25_rebuild_s"), (store, "vectors", "vector_lookup_s")):
        watch.wrap(obj, attr, label)
    first = phases.run("ingest", lambda: ingest_pass(files, store, encoder))
    if first.failed:
        print(f"warning: {len(first.failed)} file(s) failed: {first.failed[0].reason}", file=sys.stderr)
    if first.embedded != len(chunks):
        print(f"warning: ingest embedded {first.embedded} chunks, raw pass had {len(chunks)}", file=sys.stderr)
    again = phases.run("reingest", lambda: ingest_pass(files, store, encoder))
    if again.embedded != 0:
        raise SystemExit(f"re-ingest of an unchanged corpus embedded {again.embedded} chunks (expected 0)")
    phases.warn_if_contended()
    return summary(phases, watch, documents, len(chunks), store.count(), encoder)


def summary(phases: Phases, watch: Stopwatch, documents: int, chunks: int, stored: int,
            encoder: SentenceTransformerEncoder) -> dict[str, Any]:
    """The result object: headline rates first, then the detail behind them."""
    secs = phases.seconds
    breakdown = {k: round(v, 2) for k, v in sorted(watch.seconds.items())}
    breakdown["other_s"] = round(secs["ingest"] - sum(watch.seconds.values()), 2)  # hashing, parsing, chunking
    raw_rate, ingest_rate = chunks / secs["raw_encode"], chunks / secs["ingest"]
    return {
        "raw_chunks_per_s": round(raw_rate, 2), "ingest_chunks_per_s": round(ingest_rate, 2),
        "ratio": round(ingest_rate / raw_rate, 3), "reingest_speedup": round(secs["ingest"] / secs["reingest"], 1),
        "encoder": encoder_label(encoder), "torch_threads": torch_threads(),
        "documents": documents, "chunks": chunks, "stored": stored,
        "seconds": {k: round(v, 3) for k, v in secs.items()}, "ingest_breakdown": breakdown,
        "other_cpu_share": phases.contention,
    }


def print_table(title: str, rows: dict[str, Any]) -> None:
    """A plain two-column table; nested dicts become indented rows."""
    print(title)
    width = max(len(k) for k in rows) + 4
    for key, value in rows.items():
        if isinstance(value, dict):
            print(f"  {key}")
            for sub, val in value.items():
                print(f"    {sub:<{width - 2}}{val}")
        else:
            print(f"  {key:<{width}}{value}")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="+", type=Path, help="Files or folders in any supported format")
    parser.add_argument("--quick", action="store_true", help=f"Small sample (--limit {QUICK_LIMIT})")
    parser.add_argument("--json", action="store_true", help="Print one JSON object instead of a table")
    parser.add_argument("--limit", type=int, default=None,
                        help=f"Documents per jsonl corpus and files from folders (default {DEFAULT_LIMIT})")
    parser.add_argument("--device", default="auto", help="Encoder device: auto, cpu or cuda")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the result."""
    args = arguments(argv)
    limit = args.limit or (QUICK_LIMIT if args.quick else DEFAULT_LIMIT)
    encoder = warm_encoder(args.device)
    with tempfile.TemporaryDirectory(prefix="litassist-bench-") as tmp:
        files = limited_files(args.corpus, limit, Path(tmp))
        result = measure(files, encoder, Path(tmp) / "home")
    if args.json:
        print(json.dumps(result))
    else:
        print_table(f"ingest benchmark ({', '.join(map(str, args.corpus))}, limit {limit})", result)


if __name__ == "__main__":
    main()
