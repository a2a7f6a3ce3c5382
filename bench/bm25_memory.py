"""What a serving process pays to hold a data home's BM25 index (issue 17): resident memory and time of loading it,
with this checkout's code and, with --before, another checkout's, each in a fresh process, in one run.

    python bench/bm25_memory.py HOME [--before OTHER_CHECKOUT] [--json]

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

from bench.common import emit, load_average  # noqa: E402

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
"""


def probe(home: Path, checkout: Path | None) -> dict:
    """Load the index in a fresh process, with `checkout`'s code when given."""
    with tempfile.TemporaryDirectory() as tmp:
        env_path = ""
        if checkout is not None:
            (Path(tmp) / "litassist").symlink_to(checkout.resolve())
            env_path = tmp
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": env_path}
        out = subprocess.run([sys.executable, "-c", _PROBE, str(home)], capture_output=True, text=True, env=env,
                             check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Command line: probe this checkout (and the other one), twice each in turn."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("home", type=Path)
    parser.add_argument("--before", type=Path, help="another checkout of litassist to compare with")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"after": [], **({"before": []} if args.before else {})}
    for _ in range(2):
        for label in runs:
            runs[label].append(probe(args.home, args.before if label == "before" else None))
    result: dict = {"load_average_1m": load_average()}
    for label, got in runs.items():
        best = min(got, key=lambda r: r["rss_growth_mib"])
        result[label] = {**best, "load_s": min(r["load_s"] for r in got)}
    if args.before:
        for key in ("rss_growth_mib", "load_s", "peak_rss_mib"):
            result[f"ratio_{key}"] = round(result["after"][key] / result["before"][key], 2)
    emit(result, args.json, "BM25 index in memory")


if __name__ == "__main__":
    main()
