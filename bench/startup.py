"""Start-up and memory: `litassist serve` to first answer, `litassist ask` wall time, peak RSS serving and ingesting.

    python bench/startup.py CORPUS_PATH... [--home DIR] [--backend B] [--runs N] [--questions N]
                            [--ingest-sizes 300,1000] [--quick] [--json]
    python bench/startup.py CORPUS_PATH... --ratios [--before CHECKOUT] [--limit 600] [--runs 5] [--json]
    python bench/startup.py --home DIR --quick --before CHECKOUT [--json]   # serve from both checkouts, alternated

--ratios times everyday commands in one run, each the median of --runs fresh processes, as ratios to `python -c pass`
and to `python -c "import chromadb, onnxruntime, numpy"` (what an answer cannot do without), all with this Python:
`--help`, `--version`, a usage error, `ask`, an `ingest` of the unchanged corpus (indexed first, untimed) and
`serve` to its first answer (median of up to 3 starts); and gradio's import as `serve` makes it (without its type-stub
regeneration) against the same reference: what `serve` pays before any work of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling bench/common.py, however this is run

from common import (BACKENDS, EXPORT_DIR, code_of, emit, free_port, limited_files, load_average,  # noqa: E402
                    warm_encoder)

from gradio_client import Client  # noqa: E402  (imported before any timing starts)

ROOT = Path(__file__).resolve().parents[1]
GRADIO_AS_SERVED = "from litassist.ui_import import prepare_gradio_import; prepare_gradio_import(); import gradio"
QUESTIONS = ["How does HER2 affect CXCR4?", "What is the role of BRCA1 in DNA repair?",
             "Does vitamin D supplementation reduce fracture risk?", "Which pathways does EGFR activate?"]


def litassist(*args: str, code: Path = ROOT) -> list[str]:
    """`litassist ARGS` as the checkout `code` installs it: its own `.venv`'s Python (the package is installed
    editable there, so another checkout's Python would run that checkout's code), else this Python."""
    own = code / ".venv" / "bin" / "python"
    python = str(own) if code != ROOT and own.exists() else sys.executable
    return [python, "-c", "from litassist import main; main()", *args]


def environment(backend: str) -> dict[str, str]:
    """The backend and the bench's export folder, so no run pays for an export."""
    return {**os.environ, "LITASSIST_EMBEDDING__BACKEND": backend, "LITASSIST_EMBEDDING__EXPORT_DIR": str(EXPORT_DIR)}



def rss_mib(pid: int, field: str = "VmHWM") -> float:
    """Peak (VmHWM) or current (VmRSS) resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def first_answer(url: str, question: str, deadline: float) -> dict:
    """Retry until the server takes connections, then ask once through its /ask API."""
    while True:
        try:
            client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
            break
        except Exception:  # noqa: BLE001  (not listening yet: any connection error means wait)
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return client.predict(question, "both", "", 0, 0, api_name="/ask"), client


def serve_once(home: Path, backend: str, questions: list[str], log: Path, code: Path = ROOT,
               env: dict[str, str] | None = None) -> dict[str, Any]:
    """Start `litassist serve`, time the first answer from spawn, ask the rest, read the server's peak RSS."""
    port = free_port()
    start = time.monotonic()
    with log.open("w") as out:
        server = subprocess.Popen(litassist("--home", str(home), "serve", "--port", str(port), code=code), cwd=code,
                                  env=env or environment(backend), stdout=out, stderr=subprocess.STDOUT)
    try:
        answer, client = first_answer(f"http://127.0.0.1:{port}/", questions[0], start + 600)
        seconds = time.monotonic() - start
        for question in questions[1:]:
            client.predict(question, "both", "", 0, 0, api_name="/ask")
        return {"first_answer_s": round(seconds, 2), "abstained": answer["abstained"],
                "peak_rss_mib": rss_mib(server.pid), "rss_mib": rss_mib(server.pid, "VmRSS")}
    finally:
        server.terminate()
        server.wait(timeout=30)


def ask_once(home: Path, backend: str, question: str, log: Path) -> dict[str, Any]:
    """`litassist ask` as a user runs it: a fresh process; wall time and peak RSS."""
    start = time.monotonic()
    with log.open("w") as err:
        proc = subprocess.Popen(litassist("--home", str(home), "ask", question, "--json"), cwd=ROOT,
                                env=environment(backend), stdout=subprocess.PIPE, stderr=err)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"litassist ask failed: {log.read_text()[-2000:]}")
    return {"seconds": round(seconds, 2), "abstained": json.loads(out)["abstained"],
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def ingest_memory(corpus: list[Path], sizes: list[int], backend: str, folder: Path) -> dict[str, float]:
    """Peak RSS of `litassist ingest` (a fresh home each time) by corpus size: flat means it streams."""
    peaks = {}
    for size in sizes:
        files = limited_files(corpus, size, folder)
        proc = subprocess.Popen(litassist("--home", str(folder / f"home-{size}"), "ingest", *map(str, files)),
                                cwd=ROOT, env=environment(backend), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) not in (0, 3):
            raise SystemExit(f"litassist ingest of {size} documents failed")
        peaks[str(size)] = round(usage.ru_maxrss / 1024, 1)
    return peaks


def prepare(corpus: list[Path], limit: int, backend: str, folder: Path, code: Path = ROOT, name: str = "home") -> Path:
    """A home with the corpus ingested by `litassist ingest` (untimed), run from the checkout `code`."""
    home = folder / name
    files = limited_files(corpus, limit, folder)
    done = subprocess.run(litassist("--home", str(home), "ingest", *map(str, files), code=code), cwd=code,
                          env=environment(backend), capture_output=True, text=True)
    if done.returncode not in (0, 3):
        raise SystemExit(f"ingest failed: {done.stderr[-2000:]}")
    return home


REFERENCE = "import chromadb, onnxruntime, numpy"


def run_seconds(command: list[str], env: dict[str, str], codes: tuple[int, ...] = (0,), code: Path = ROOT) -> float:
    """Wall time of one fresh run of a command (output discarded; an unexpected exit code stops the bench)."""
    start = time.monotonic()
    done = subprocess.run(command, cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.monotonic() - start
    if done.returncode not in codes:
        raise SystemExit(f"{command[3:]} exited {done.returncode}: {done.stderr[-2000:]!r}")
    return seconds


def median(values: list[float]) -> float:
    """The middle value."""
    return sorted(values)[len(values) // 2]


def ratios(corpus: list[Path], limit: int, backend: str, runs: int, folder: Path, before: Path | None = None
           ) -> dict[str, Any]:
    """Everyday commands against `python -c pass` and the reference imports, medians from one run; with `before`
    (another checkout, e.g. main's) its commands too, each checkout on a home it indexed itself. Runs go round
    robin (every command of every checkout, then again), so a change in outside load hits all of them alike."""
    # Compiled bytecode cached as an installed package has it (a PYTHONDONTWRITEBYTECODE environment would otherwise
    # recompile every library on each start: seconds, not what a user's installation pays).
    env = {k: v for k, v in environment(backend).items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    files = [str(f) for f in limited_files(corpus, limit, folder)]  # ingested again unchanged: nothing is read
    checkouts = [("after", ROOT)] + ([("before", before)] if before else [])
    commands: dict[str, dict[str, tuple[list[str], tuple[int, ...], Path]]] = {
        "": {"python_pass": ([sys.executable, "-c", "pass"], (0,), ROOT),
             "reference_imports": ([sys.executable, "-c", REFERENCE], (0,), ROOT),
             # what `serve` cannot avoid besides the reference: the UI library's import, as `serve` makes it
             "gradio_import": ([sys.executable, "-c", GRADIO_AS_SERVED], (0,), ROOT)}}
    for label, code in checkouts:
        home = str(prepare(corpus, limit, backend, folder, code, f"home-{label}"))
        commands[label] = {
            "help": (litassist("--help", code=code), (0,), code),
            "version": (litassist("--version", code=code), (0,), code),
            "usage_error": (litassist("--home", home, "ask", code=code), (2,), code),
            "ask": (litassist("--home", home, "ask", QUESTIONS[0], "--json", code=code), (0,), code),
            "ingest_unchanged": (litassist("--home", home, "ingest", *files, code=code), (0, 3), code),
        }
    times: dict[str, dict[str, list[float]]] = {label: {name: [] for name in cmds} for label, cmds in commands.items()}
    for _ in range(runs + 1):  # the first round writes the bytecode caches, as installing a package does: dropped
        for label, cmds in commands.items():
            for name, (command, codes, code) in cmds.items():
                times[label][name].append(run_seconds(command, env, codes, code))
    for label, code in checkouts:
        times[label]["serve_first_answer"] = []
    for n in range(min(runs, 3)):
        for label, code in checkouts:
            home = folder / f"home-{label}"
            log = folder / f"serve-{label}-{n}.log"
            times[label]["serve_first_answer"].append(
                serve_once(home, backend, QUESTIONS[:1], log, code, env)["first_answer_s"])
    seconds = {label: {name: median(v[1:] if name != "serve_first_answer" else v) for name, v in got.items()}
               for label, got in times.items()}
    base, ref = seconds[""]["python_pass"], seconds[""]["reference_imports"]
    result: dict[str, Any] = {"python_pass_s": round(base, 3), "reference_imports_s": round(ref, 3), "runs": runs,
                              "documents": limit,
                              "gradio_import_x_reference": round(seconds[""]["gradio_import"] / ref, 2)}
    for label, _ in checkouts:
        got = seconds[label]
        result[label] = {"seconds_median": {k: round(v, 3) for k, v in got.items()},
                         "x_python_pass": {k: round(got[k] / base, 1) for k in ("help", "version", "usage_error")},
                         "x_reference": {k: round(got[k] / ref, 2)
                                         for k in ("ask", "ingest_unchanged", "serve_first_answer")}}
    return result


def arguments(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="*", type=Path, help="Files or folders to index (unless --home is given)")
    parser.add_argument("--home", type=Path, help="An existing index to serve (e.g. one bench/query.py built)")
    parser.add_argument("--limit", type=int, default=300, help="Documents per jsonl / files from folders")
    parser.add_argument("--backend", choices=BACKENDS, default="onnx-int8", help="Encoder backend")
    parser.add_argument("--runs", type=int, default=3, help="Server starts (and `litassist ask` runs) to time")
    parser.add_argument("--questions", type=int, default=4, help="Questions asked per server start")
    parser.add_argument("--ingest-sizes", default="", help="Also measure ingest peak RSS at these corpus sizes")
    parser.add_argument("--quick", action="store_true", help="One run, two questions, no ingest sizes")
    parser.add_argument("--json", action="store_true", help="Print one JSON object instead of a table")
    parser.add_argument("--ratios", action="store_true", help="Time everyday commands as ratios (see above)")
    parser.add_argument("--before", type=Path, help="Also time another checkout (e.g. main's): everyday commands "
                        "with --ratios, else its `serve`")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Prepare (or reuse) an index, then time server starts and CLI answers and read memory."""
    args = arguments(argv)
    runs, count = (1, 2) if args.quick else (args.runs, args.questions)
    warm_encoder(args.backend, "cpu")  # exports the model once, outside every timing
    questions = (QUESTIONS * count)[:count]
    with tempfile.TemporaryDirectory(prefix="litassist-bench-") as tmp:
        folder = Path(tmp)
        if args.ratios:
            result = {**ratios(args.corpus, args.limit, args.backend, args.runs, folder, args.before),
                      "backend": args.backend, "load_average_1m": load_average()}
            return emit(result, args.json, f"everyday commands ({args.limit} documents, backend {args.backend})")
        if args.home is None and not args.corpus:
            raise SystemExit("give a corpus to index or --home")
        home = args.home or prepare(args.corpus, args.limit, args.backend, folder)
        serves = [serve_once(home, args.backend, questions, folder / f"serve-{i}.log") for i in range(runs)]
        other = {**environment(args.backend), "PYTHONPATH": code_of(args.before, folder / "before")} \
            if args.before else {}
        before = [serve_once(home, args.backend, questions, folder / f"before-{i}.log", code=args.before, env=other)
                  for i in range(runs)] if args.before else []
        asks = [ask_once(home, args.backend, questions[0], folder / f"ask-{i}.log") for i in range(runs)]
        sizes = [int(v) for v in args.ingest_sizes.split(",") if v] if not args.quick else []
        ingest = ingest_memory(args.corpus, sizes, args.backend, folder) if sizes and args.corpus else {}
    first = sorted(r["first_answer_s"] for r in serves)
    result = {
        "backend": args.backend, "home": str(args.home) if args.home else "temporary",
        "serve_first_answer_s_median": first[len(first) // 2], "serve_first_answer_s": first,
        "serve_peak_rss_mib": max(r["peak_rss_mib"] for r in serves),
        "ask_cli_s_median": sorted(a["seconds"] for a in asks)[len(asks) // 2],
        "ask_cli_peak_rss_mib": max(a["peak_rss_mib"] for a in asks),
        "ingest_peak_rss_mib_by_size": ingest, "abstained": [r["abstained"] for r in serves],
        "load_average_1m": load_average(),
    }
    if before:  # the same serve measurement of another checkout, in the same run
        result["before"] = {"serve_first_answer_s": sorted(r["first_answer_s"] for r in before),
                            "serve_peak_rss_mib": max(r["peak_rss_mib"] for r in before)}
    emit(result, args.json, f"start-up benchmark ({result['home']}, backend {args.backend})")


if __name__ == "__main__":
    main()
