"""Adding one file to an existing (large) index, as `litassist ingest` does it, and taking it out again.

    python bench/add_file.py HOME CORPUS.jsonl [--skip N] [--documents N] [--backend B] [--rebuild] [--json]

HOME is an index another bench built (e.g. bench/query.py --home /tmp/h-1m). --documents documents of CORPUS (a BEIR
jsonl the home does not hold, e.g. bioasq's for a scifact-built home; --skip N starts after its first N) go into one
new .jsonl file, which the app's own Ingestor ingests: encode, Chroma write, and BM25 brought
in step by a new segment (`Store.update_bm25`). The file is then removed again (its chunks deleted, BM25 updated the
same way), so the home is left as it was. --rebuild also times the full BM25 rebuild from Chroma in between: what
every ingest paid before BM25 came in segments.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling bench/common.py, however this is run

from common import BACKENDS, EXPORT_DIR, Stopwatch, emit, load_average, peak_rss_mib  # noqa: E402

from litassist.assistant.factory import Components  # noqa: E402
from litassist.assistant.settings import Settings  # noqa: E402


def new_file(corpus: Path, skip: int, documents: int, folder: Path) -> Path:
    """A jsonl of `documents` documents of the corpus, those after the first `skip`."""
    lines = [line for line in corpus.read_bytes().splitlines(keepends=True) if line.strip()][skip: skip + documents]
    if not lines:
        raise SystemExit(f"{corpus} has no documents after the first {skip}")
    target = folder / f"added-{skip}-{documents}.jsonl"
    target.write_bytes(b"".join(lines))
    return target


def timed(call: Any) -> tuple[Any, float]:
    """call()'s result and its wall seconds."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def measure(home: Path, corpus: Path, skip: int, documents: int, backend: str, rebuild: bool) -> dict[str, Any]:
    """Open the home, add one file, optionally rebuild BM25, remove the file; seconds of each step."""
    comp = Components(Settings(home=home, embedding={"backend": backend, "export_dir": EXPORT_DIR}))
    comp.encoder.encode(["warm-up: BRCA1 regulates DNA repair."])  # model load is never timed
    store, opened = timed(lambda: comp.store)  # loads the saved BM25 (a rebuild if it is stale)
    before = store.count()
    watch = Stopwatch()
    for obj, attr, label in ((comp.encoder, "encode", "encode_s"), (store, "write", "chroma_write_s"),
                             (store, "update_bm25", "bm25_update_s")):
        watch.wrap(obj, attr, label)
    with tempfile.TemporaryDirectory(prefix="litassist-add-") as tmp:
        path = new_file(corpus, skip, documents, Path(tmp))
        report, ingest = timed(lambda: comp.ingestor().run([path]))
        if [o.status for o in report.outcomes] != ["added"]:
            raise SystemExit(f"the new file did not go in: {report.outcomes}")
        added = store.count() - before
        if len(store.bm25.ids) != store.count():
            raise SystemExit("BM25 is not in step with Chroma after the ingest")
        result: dict[str, Any] = {
            "chunks_before": before, "chunks_added": added, "open_s": round(opened, 2),
            "add_one_file_s": round(ingest, 3), "ingest_breakdown": {k: round(v, 3) for k, v in watch.seconds.items()},
            "bm25_segments": len(store.bm25.parts)}
        if rebuild:
            _, seconds = timed(store.rebuild_bm25)
            result["full_bm25_rebuild_s"] = round(seconds, 2)
        key = str(path.resolve())
        with store.lock:  # the file's chunks deleted as a write, so BM25 follows by a segment again
            digest = store.file_hash(key)
            _, removed = timed(lambda: (store.abandon(key, digest, ()), store.update_bm25()))
    if store.count() != before or len(store.bm25.ids) != before:
        raise SystemExit(f"removing the file left {store.count()} chunks, {len(store.bm25.ids)} in BM25; "
                         f"expected {before}")
    result["remove_file_s"] = round(removed, 3)
    return {**result, "peak_rss_mib": peak_rss_mib(), "load_average_1m": load_average()}


def main(argv: list[str] | None = None) -> None:
    """Add one file to the home, time it, take it out again, print the result."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("home", type=Path, help="An existing data home (e.g. one bench/query.py built)")
    p.add_argument("corpus", type=Path, help="A BEIR corpus.jsonl to take the new file's documents from")
    p.add_argument("--skip", type=int, default=0, help="Documents of the corpus to skip first (default 0)")
    p.add_argument("--documents", type=int, default=4, help="Documents in the new file (default 4: ~10 chunks)")
    p.add_argument("--backend", choices=BACKENDS, default="onnx-int8", help="Encoder backend the home was built with")
    p.add_argument("--rebuild", action="store_true", help="Also time a full BM25 rebuild from Chroma")
    p.add_argument("--json", action="store_true", help="Print one JSON object instead of a table")
    args = p.parse_args(argv)
    result = measure(args.home, args.corpus, args.skip, args.documents, args.backend, args.rebuild)
    emit(result, args.json, f"add one file ({args.home})")


if __name__ == "__main__":
    main()
