"""What writing in smaller groups costs Chroma: `Store.write` of the same chunks in groups of N, timed.

    python bench/write_size.py [N ...] [--chunks 2560]

The ingest hands encoded chunks to its writer `ingest.write_chunks` at a time, so that each file is reported as soon
as it is written. Files of three one-chunk records with random vectors (nothing is encoded), into an embedded
database in a fresh temporary data home per group size.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, however this is run

import litassist.assistant  # noqa: F401,E402  (offline switches before chromadb loads)
import numpy as np  # noqa: E402

from litassist.index.entries import Entry  # noqa: E402
from litassist.index.records import Chunk, Paper  # noqa: E402
from litassist.index.store import Store  # noqa: E402
from litassist.assistant.factory import hnsw_for  # noqa: E402
from litassist.assistant.settings import StoreSettings  # noqa: E402

PER_FILE = 3  # records per file: each file's last write also deletes its stale chunks, as in an ingest


def entries(size: int, start: int, rng: np.random.Generator) -> list[Entry]:
    """One write's worth of files: `size` chunks from id `start` on."""
    out = []
    for first in range(start, start + size, PER_FILE):
        ids = range(first, min(first + PER_FILE, start + size))
        records = {f"s{i}": Paper(source_id=f"s{i}", title=f"Paper {i}", abstract="x") for i in ids}
        chunks = [Chunk(id=f"c{i}", source_id=f"s{i}", kind="paper", position=0, text=f"text {i}") for i in ids]
        out.append(Entry(f"/corpus/f{first}.txt", "h", chunks, records,
                         rng.standard_normal((len(chunks), 384)).astype(np.float32)))
    return out


def main() -> None:
    """Time writing the same number of chunks in groups of each size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[512, 128, 64])
    parser.add_argument("--chunks", type=int, default=2560, help="chunks written per size (~1,000 abstracts)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for size in args.sizes:
        store = Store(Path(tempfile.mkdtemp(prefix="litassist-write-size-")), "bench-write-size",
                      hnsw=hnsw_for(StoreSettings()))
        started = time.perf_counter()
        for start in range(0, args.chunks, size):
            store.write(entries(min(size, args.chunks - start), start, rng))
        print(f"groups of {size:>4}: {time.perf_counter() - started:5.1f} s for {args.chunks} chunks "
              f"(load average {os.getloadavg()[0]:.1f})", flush=True)


if __name__ == "__main__":
    main()
