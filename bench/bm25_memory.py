"""What a serving process pays to hold a data home's BM25 index (issue 17): resident memory and time of loading it,
and with --queries the time of one BM25 search, with this checkout's code and, with --before, another checkout's,
each in a fresh process, in turn, in one run.

    python bench/bm25_memory.py HOME [--before OTHER_CHECKOUT] [--queries QUERIES.jsonl --questions 50] [--json]

Each process imports the index module, notes its resident memory, loads the saved index (and the id -> source map
every question uses), and reports the growth and its peak. The other checkout is imported through a temporary
folder in which `litassist` points at it, so it needs no installation of its own (same virtual environment).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench.common`, however this is run

from bench.common import code_of, emit, load_average  # noqa: E402

_PROBE = """
import json, resource, sys, time
from pathlib import Path
def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
from litassist.index.bm25 import Bm25Index
folder = next(p for p in (Path(sys.argv[1]) / "bm25").iterdir() if (p / "manifest.json").exists())
before, start = rss(), time.perf_counter()
index = Bm25Index.load(folder)
index.sources
print(json.dumps({"chunks": len(index.ids), "load_s": round(time.perf_counter() - start, 2),
                  "rss_growth_mib": round(rss() - before, 1),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "module": __import__("litassist").__file__}))
queries = [json.loads(line)["text"] for line in Path(sys.argv[2]).open()][: int(sys.argv[3])] if sys.argv[2] else []
for query in queries:  # once untimed: the postings a question reads come into memory
    index.search(query, 300)
times = []
for _ in range(3):
    for query in queries:
        start = time.perf_counter()
        index.search(query, 300)
        times.append((time.perf_counter() - start) * 1000)
times.sort()
print(json.dumps({"search_p50_ms": round(times[len(times) // 2], 2) if times else None}))
"""


def probe(home: Path, checkout: Path | None, queries: Path | None, questions: int) -> dict:
    """Load the index in a fresh process, with `checkout`'s code when given."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": code_of(checkout, Path(tmp)) if checkout else ""}
        out = subprocess.run([sys.executable, "-c", _PROBE, str(home), str(queries or ""), str(questions)],
                             capture_output=True, text=True, env=env, check=True)
    lines = out.stdout.strip().splitlines()
    return {**json.loads(lines[-2]), **json.loads(lines[-1])}


def main() -> None:
    """Command line: probe this checkout (and the other one), twice each in turn."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("home", type=Path)
    parser.add_argument("--before", type=Path, help="another checkout of litassist to compare with")
    parser.add_argument("--queries", type=Path, help="BEIR queries.jsonl: also time BM25 searches (300 per query)")
    parser.add_argument("--questions", type=int, default=50, help="queries timed, each 3 times")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"after": [], **({"before": []} if args.before else {})}
    for _ in range(2):
        for label in runs:
            runs[label].append(probe(args.home, args.before if label == "before" else None, args.queries,
                                     args.questions))
    result: dict = {"load_average_1m": load_average()}
    for label, got in runs.items():
        best = min(got, key=lambda r: r["rss_growth_mib"])
        result[label] = {**best, "load_s": min(r["load_s"] for r in got)}
        if args.queries:
            result[label]["search_p50_ms"] = min(r["search_p50_ms"] for r in got)
    if args.before:
        for key in ("rss_growth_mib", "load_s", "peak_rss_mib") + (("search_p50_ms",) if args.queries else ()):
            result[f"ratio_{key}"] = round(result["after"][key] / result["before"][key], 2)
    emit(result, args.json, "BM25 index in memory")


if __name__ == "__main__":
    main()
