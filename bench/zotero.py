"""A Zotero library of N items (1,000 by default) ingested, then ingested again with nothing changed, in one run:

    python bench/zotero.py [--items 1000] [--pdf-share 0.1]

The library is built with Zotero's real schema (tests/zotero_library.py): synthetic titles, authors, journals,
collections, tags and two-sentence abstracts, and a share of the items with a one-page PDF under storage/. Both runs
use the real embedding model (torch backend) into a fresh temporary data home; the vector cache is off, so the first
run encodes every chunk. The unchanged re-ingest reads the database copy and every item's stamp, and skips them all
without opening a PDF.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, however this is run

import litassist.assistant  # noqa: F401,E402  (offline switches before chromadb loads)
from litassist.index.embedding import make_encoder  # noqa: E402
from litassist.index.ingest import Ingestor  # noqa: E402
from litassist.index.store import Store  # noqa: E402
from tests.zotero_library import ZoteroLibrary  # noqa: E402

GENES = ["TP53", "KRAS", "MYC", "EGFR", "YAP1", "SMAD4", "CXCR4", "ERBB2", "PTEN", "BRAF", "NOTCH1", "STAT3"]
TISSUES = ["liver", "lung", "colon", "breast", "pancreas", "brain", "kidney", "skin"]
EFFECTS = ["proliferation", "apoptosis", "migration", "invasion", "senescence", "differentiation"]


def build(folder: Path, items: int, pdf_share: float, seed: int = 7) -> ZoteroLibrary:
    """A library of `items` journal articles, `pdf_share` of them with a PDF."""
    rng = random.Random(seed)
    library = ZoteroLibrary(folder / "Zotero")
    for n in range(items):
        gene, tissue, effect = rng.choice(GENES), rng.choice(TISSUES), rng.choice(EFFECTS)
        fields = {"title": f"{gene} controls {effect} in {tissue} cells (study {n})",
                  "abstractNote": f"Loss of {gene} changed {effect} of {tissue} cells in culture and in mice. "
                                  f"Restoring {gene} in study {n} reversed the change within {rng.randint(2, 9)} days.",
                  "date": str(rng.randint(1995, 2024)), "publicationTitle": f"Journal of {tissue.title()} Research",
                  "volume": str(rng.randint(1, 60)), "DOI": f"10.5555/bench.{n}"}
        pdf = [f"In study {n}, knocking down {gene} altered {effect} of {tissue} cells by {rng.randint(10, 90)} "
               f"percent."] if rng.random() < pdf_share else None
        library.add_item(f"K{n:07d}", fields, [(f"Author{n % 97}", "Sam")], [f"{tissue.title()} project"],
                         [gene], pdf)
    return library


def timed_ingest(home: Path, library: ZoteroLibrary, encoder) -> tuple[float, dict[str, int]]:
    """Seconds for one ingest of the library, and its counts."""
    ingestor = Ingestor(Store(home, encoder.name), encoder, cache_vectors=False)
    start = time.perf_counter()
    report = ingestor.run([library.folder])
    return time.perf_counter() - start, report.counts()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--pdf-share", type=float, default=0.1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="litassist-zotero-bench-"))
    library = build(work, args.items, args.pdf_share)
    encoder = make_encoder("torch")
    encoder.encode(["warm-up"])  # model loading is not part of either timing
    first, first_counts = timed_ingest(work / "home", library, encoder)
    again, again_counts = timed_ingest(work / "home", library, encoder)
    print(json.dumps({"items": args.items, "pdf_share": args.pdf_share, "first_s": round(first, 2),
                      "first": first_counts, "unchanged_s": round(again, 2), "unchanged": again_counts,
                      "ratio": round(again / first, 4)}, indent=2))


if __name__ == "__main__":
    main()
