"""Load: concurrent chat sessions against `litassist serve`, with a Library ingest running in the middle.

    python bench/load.py [CORPUS_PATH...] [--url URL] [--home DIR] [--sessions 20] [--questions 10]
                         [--concurrency N] [--questions-file FILE] [--ingest FILE... | --no-ingest] [--quick] [--json]

Without --url it indexes the corpus (default examples/corpus) into a temporary home with `litassist ingest` and
starts `litassist serve` on a free loopback port. Each session is one gradio_client Client that asks its questions
one after another through the chat endpoint (/chat), sending back the history it got, as a browser tab does.
Every reply is compared with the reply the same question got from a single user before the load started.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling bench/served.py, however this is run
from served import cpu_seconds, index_questions, machine_busy, prepared_home, start_server  # noqa: E402

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio_client loads: no call leaves the machine
from gradio_client import Client, handle_file  # noqa: E402

QUICK = {"sessions": 6, "questions": 4, "ingest_docs": 20}
DEFAULT = {"sessions": 20, "questions": 10, "ingest_docs": 120}
# Made-up gene symbols and an imaginary organism: the ingested documents must not answer the corpus's questions,
# so any reply that changes during the ingest is a broken reply, not a better one.
GENES = [f"QKX{i}" for i in range(1, 30)]
VERBS = ["raises", "lowers", "stabilises", "phosphorylates", "binds", "silences"]


@dataclass
class Call:
    """One chat request as a session saw it."""

    session: int
    question: str
    start: float
    end: float
    error: str | None = None
    changed: bool = False

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000










def example_questions(url: str, auth: tuple[str, str] | None) -> list[str]:
    """The chat's example questions, as the page shows them (drawn from what is indexed)."""
    with httpx.Client(trust_env=False, timeout=30) as http:
        if auth:
            http.post(url + "login", data={"username": auth[0], "password": auth[1]})
        config = http.get(url + "config").json()
    return [row[0] for c in config["components"] for row in c.get("props", {}).get("samples") or []
            if row and isinstance(row[0], str)]




def ingest_file(folder: Path, docs: int) -> Path:
    """A BEIR JSONL of short made-up abstracts (about one chunk each), new on every run."""
    rng, tag = random.Random(0), time.strftime("%Y%m%d%H%M%S")
    lines = []
    for i in range(docs):
        a, b, c = rng.sample(GENES, 3)
        text = (f"In the imaginary organism Testus loadii, {a} {rng.choice(VERBS)} {b} during run {tag}. "
                f"Loss of {b} changes {c} levels in cultured cells. This record {i} only exists to load the server.")
        lines.append(json.dumps({"_id": f"load-{tag}-{i}", "title": f"{a} and {b} in Testus loadii ({i})",
                                 "text": text}))
    path = folder / f"load-ingest-{tag}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def reply_of(result: tuple) -> str:
    """The assistant's last message in the chat history the endpoint returned."""
    content = result[0][-1]["content"]
    return content if isinstance(content, str) else json.dumps(content)


def chat(client: Client, question: str, history: list) -> tuple:
    """One question through the chat tab's endpoint (no filters)."""
    return client.predict(question, history, "both", "", 0, 0, api_name="/chat")


def connect(url: str, auth: tuple[str, str] | None) -> Client:
    """A gradio_client session that downloads nothing (the BibTeX/RIS outputs stay on the server)."""
    return Client(url, auth=auth, verbose=False, download_files=False, analytics_enabled=False,
                  httpx_kwargs={"trust_env": False})


def single_user(url: str, auth: tuple[str, str] | None, questions: list[str]) -> tuple[dict[str, str], list[float]]:
    """Each question once, alone, after a warm-up: the reference replies and unloaded latencies (ms)."""
    client = connect(url, auth)
    chat(client, questions[0], [])  # the server loads the model on its first question: not timed
    replies, latencies = {}, []
    for question in questions:
        start = time.perf_counter()
        replies[question] = reply_of(chat(client, question, []))
        latencies.append((time.perf_counter() - start) * 1000)
    return replies, latencies


def session(n: int, url: str, auth: tuple[str, str] | None, questions: list[str], count: int,
            expected: dict[str, str]) -> list[Call]:
    """One chat tab: `count` questions in a row, starting at its own place in the list, history carried along."""
    client, history, calls = connect(url, auth), [], []
    for i in range(count):
        question = questions[(n + i) % len(questions)]
        call = Call(n, question, time.perf_counter(), 0.0)
        try:
            result = chat(client, question, history)
            history = result[0]
            call.changed = reply_of(result) != expected[question]
        except Exception as exc:  # any failure is an error the user would see
            call.error = f"{type(exc).__name__}: {exc}"[:300]
        call.end = time.perf_counter()
        calls.append(call)
    return calls


def ingest_later(url: str, auth: tuple[str, str] | None, files: list[Path], delay: float) -> dict[str, Any]:
    """Upload and ingest through the Library tab's endpoint after `delay` seconds; when it ran and what it said."""
    time.sleep(delay)
    client = connect(url, auth)
    start = time.perf_counter()
    try:
        _, summary, _, _ = client.predict([handle_file(str(f)) for f in files], api_name="/ingest")
        error = None
    except Exception as exc:
        summary, error = None, f"{type(exc).__name__}: {exc}"[:300]
    return {"start": start, "end": time.perf_counter(), "summary": summary, "error": error}


def run_load(url: str, auth: tuple[str, str] | None, questions: list[str], sessions: int, count: int,
             expected: dict[str, str], ingest: list[Path]) -> tuple[list[Call], dict | None, float, float]:
    """All sessions at once (plus the ingest, a second in); returns calls, ingest timing and the run's wall span."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=sessions + 1) as pool:
        job = pool.submit(ingest_later, url, auth, ingest, 1.0) if ingest else None
        futures = [pool.submit(session, n, url, auth, questions, count, expected) for n in range(sessions)]
        calls = [call for f in futures for call in f.result()]
        ingested = job.result() if job else None
    return calls, ingested, start, time.perf_counter()






def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (linear interpolation), rounded to 0.1 ms."""
    return round(float(np.percentile(values, q)), 1) if values else float("nan")


def summarize(calls: list[Call], ingested: dict | None, span: tuple[float, float], alone: list[float]) -> dict:
    """Errors, changed replies, latency percentiles, throughput; the same for requests that overlapped the ingest."""
    ok = [c.ms for c in calls if c.error is None]
    p50, p95 = percentile(ok, 50), percentile(ok, 95)
    result = {"requests": len(calls), "errors": sum(c.error is not None for c in calls),
              "changed_replies": sum(c.changed for c in calls), "p50_ms": p50, "p95_ms": p95,
              "p95_over_p50": round(p95 / p50, 2) if ok else None, "max_ms": round(max(ok), 1) if ok else None,
              "throughput_per_s": round(len(calls) / (span[1] - span[0]), 2), "wall_s": round(span[1] - span[0], 1),
              "single_user_p50_ms": percentile(alone, 50),
              "first_errors": sorted({c.error for c in calls if c.error})[:3]}
    if ingested:
        during = [c.ms for c in calls if c.start < ingested["end"] and c.end > ingested["start"] and not c.error]
        result.update(ingest_s=round(ingested["end"] - ingested["start"], 1), ingest_summary=ingested["summary"],
                      ingest_error=ingested["error"], during_ingest_requests=len(during),
                      during_ingest_p50_ms=percentile(during, 50), during_ingest_p95_ms=percentile(during, 95))
    return result


def print_table(result: dict) -> None:
    """One row per measure."""
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")




def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("corpus", nargs="*", type=Path, help="files/folders to index (default examples/corpus)")
    p.add_argument("--url", help="an already running server instead of starting one")
    p.add_argument("--auth", help="USER:PASSWORD for a server started with --auth")
    p.add_argument("--home", type=Path, help="data home for the started server (default: a temporary one)")
    p.add_argument("--sessions", type=int, help="concurrent chat sessions (default 20; --quick 6)")
    p.add_argument("--questions", type=int, help="questions per session (default 10; --quick 4)")
    p.add_argument("--questions-file", type=Path, help="one question per line (default: the page's examples)")
    p.add_argument("--concurrency", type=int, help="LITASSIST_SERVER__CONCURRENCY for the started server")
    p.add_argument("--ingest", type=Path, nargs="+", help="files to ingest during the run (default: generated)")
    p.add_argument("--no-ingest", action="store_true", help="chat only")
    p.add_argument("--quick", action="store_true", help="fewer sessions and questions")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p.parse_args(argv)


def load_questions(args: argparse.Namespace, home: Path | None, url: str | None,
                   auth: tuple[str, str] | None, count: int) -> list[str]:
    """--questions-file, else the index's suggestions (started server) or the page's examples (--url)."""
    if args.questions_file:
        raw = args.questions_file.read_text(encoding="utf-8").split("\n")
    elif home:  # read before the server starts: one process at a time opens the embedded database
        raw = index_questions(home, count)
    else:
        raw = example_questions(url, auth)
    return [q.strip() for q in raw if q.strip()][:count] or sys.exit("no questions to ask")


def measure(url: str, auth: tuple[str, str] | None, questions: list[str], sessions: int, count: int,
            files: list[Path], pids: list[int]) -> dict:
    """Single-user replies first, then the concurrent load; the result with other processes' CPU share."""
    expected, alone = single_user(url, auth, questions)
    cpu0, busy0 = cpu_seconds(pids), machine_busy()
    calls, ingested, start, end = run_load(url, auth, questions, sessions, count, expected, files)
    other = (machine_busy() - busy0) - (cpu_seconds(pids) - cpu0)
    return {**summarize(calls, ingested, (start, end), alone),
            "other_cpu_share": round(max(other, 0) / ((end - start) * (os.cpu_count() or 1)), 3)}


def main(argv: list[str] | None = None) -> None:
    """Start (or reach) the server, measure, print one table or one JSON object."""
    args = parse_args(argv)
    size = QUICK if args.quick else DEFAULT
    sessions, count = args.sessions or size["sessions"], args.questions or size["questions"]
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    with tempfile.TemporaryDirectory(prefix="litassist-load-") as tmp:
        folder, server, url = Path(tmp), None, args.url.rstrip("/") + "/" if args.url else None
        home = None if url else prepared_home(args.home, args.corpus, folder)
        questions = load_questions(args, home, url, auth, count)
        if home:
            server, url = start_server(home, args.concurrency, folder / "serve.log")
        files = [] if args.no_ingest else (args.ingest or [ingest_file(folder, size["ingest_docs"])])
        try:
            measured = measure(url, auth, questions, sessions, count, files,
                               [os.getpid()] + ([server.pid] if server else []))
        finally:
            if server:
                server.terminate()
                server.wait(timeout=60)
    result = {"sessions": sessions, "questions_per_session": count, "distinct_questions": len(questions),
              "concurrency": args.concurrency or "server default", **measured}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
