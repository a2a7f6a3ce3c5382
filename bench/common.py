"""What the benchmark scripts share: corpus sampling, encoders, CPU contention, phase timing, tables."""

from __future__ import annotations

import json
import os
import resource
import socket
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import litassist.assistant  # noqa: F401  (must come first: switches Hugging Face and Chroma to offline mode)
from litassist.assistant.settings import ChunkingSettings, EmbeddingSettings
from litassist.index.embedding import Encoder, make_encoder
from litassist.index.loaders import iter_files, unsupported

MAX_TOKENS = ChunkingSettings().max_tokens  # the default, so chunks match what `litassist ingest` makes
BACKENDS = ("torch", "onnx", "onnx-int8")
# ONNX exports are kept between runs here: exporting is a one-off cost, never part of a timing.
EXPORT_DIR = Path(tempfile.gettempdir()) / "litassist-bench-models"


class Stopwatch:
    """Seconds spent inside wrapped methods, by label: shows where time goes."""

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


def first_lines(path: Path, limit: int) -> list[bytes]:
    """The first `limit` non-blank lines of a jsonl corpus, as read (each with its newline)."""
    lines: list[bytes] = []
    with path.open("rb") as handle:
        for raw in handle:
            if len(lines) >= limit:
                break
            if raw.strip():
                lines.append(raw)
    return lines


def truncated_jsonl(path: Path, limit: int, folder: Path, tag: int) -> Path:
    """A copy of the first `limit` non-blank lines of a jsonl corpus, so --limit caps documents."""
    target = folder / f"{tag}-{path.stem}-first{limit}.jsonl"
    target.write_bytes(b"".join(first_lines(path, limit)))
    return target


def limited_files(paths: Iterable[Path], limit: int, folder: Path) -> list[Path]:
    """Expand corpus paths to files: each jsonl cut to `limit` documents, at most `limit` other files."""
    files: list[Path] = []
    others = 0
    for tag, path in enumerate(p for p in iter_files(Path(p) for p in paths) if not unsupported(p)):
        if path.suffix.lower() == ".jsonl":
            files.append(truncated_jsonl(path, limit, folder, tag))
        elif others < limit:
            files.append(path)
            others += 1
    return files


def warm_encoder(backend: str = "torch", device: str = "auto") -> Encoder:
    """Load (exporting first if needed) and run one small encode, so no timing below includes start-up."""
    model, batch = EmbeddingSettings().model, EmbeddingSettings().batch_size  # the app's defaults
    encoder = make_encoder(backend, model, device=device, batch_size=batch, cache_dir=EXPORT_DIR)
    encoder.encode(["warm-up: BRCA1 regulates DNA repair."])
    return encoder


def encoder_label(encoder: Encoder) -> str:
    """Model name plus where it actually runs."""
    session = getattr(encoder, "session", None)
    if session is not None:
        return f"{encoder.name} via onnxruntime {session.get_providers()[0]}"
    return f"{encoder.name} on {encoder.model.device}"


def torch_threads() -> int:
    """Intra-op threads torch uses (onnxruntime uses one per core by default, here the same number)."""
    import torch

    return torch.get_num_threads()


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


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
    """Share of all cores that other processes used since `start`: on 2 cores any of it slows the encoder a lot."""
    end = cpu_snapshot()
    wall = end[0] - start[0]
    if wall < 1.0:  # /proc/stat counts 10 ms ticks: a shorter phase cannot be judged
        return None
    share = ((end[1] - start[1]) - (end[2] - start[2])) / (wall * (os.cpu_count() or 1))
    return None if share != share else round(max(share, 0.0), 3)


class Phases:
    """Wall seconds of each timed phase, and the CPU share other processes took meanwhile."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}  # this process's CPU time: less sensitive to outside load than wall
        self.contention: dict[str, float | None] = {}

    def run(self, label: str, fn: Callable[[], Any]) -> Any:
        """Call fn() as the phase `label` and return its result."""
        start = cpu_snapshot()
        result = fn()
        self.seconds[label] = time.perf_counter() - start[0]
        self.cpu_seconds[label] = sum(os.times()[:2]) - start[2]
        self.contention[label] = other_cpu_share(start)
        return result

    def warn_if_contended(self, limit: float = 0.05) -> None:
        """Say so on stderr when other processes competed for the CPU: those numbers are low."""
        busy = {k: v for k, v in self.contention.items() if v is not None and v > limit}
        if busy:
            print(f"warning: other processes used CPU during {busy}; timings are pessimistic", file=sys.stderr)


def load_average() -> float | None:
    """1-minute load average when the run ends (a second view of contention)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


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


def emit(result: dict[str, Any], as_json: bool, title: str) -> None:
    """The result as one JSON object (--json), else as a titled table."""
    if as_json:
        print(json.dumps(result))
    else:
        print_table(title, result)


def free_port() -> int:
    """A loopback port with nothing listening on it right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def beir_questions(path: Path, limit: int) -> list[str]:
    """The first `limit` question texts of a BEIR queries.jsonl."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()][:limit]


def alternate(retrievers: dict[Any, Any], questions: list[str], answer_settings: Any) -> dict[Any, dict[str, Any]]:
    """Each question through every retriever in turn (retrieval, then the extractive answer), so drift in the
    machine's load falls on all of them; p50/p95 in ms per retriever."""
    import numpy as np

    from litassist.assistant.answer import answer

    for r in retrievers.values():
        r.search(questions[0])  # warm: BM25 loaded, encoder session, caches, threads
    times: dict[Any, dict[str, list[float]]] = {key: {"retrieval": [], "answer": []} for key in retrievers}
    for q in questions:
        for key, r in retrievers.items():
            start = time.perf_counter()
            r.search(q)
            times[key]["retrieval"].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            answer(q, r, settings=answer_settings)
            times[key]["answer"].append((time.perf_counter() - start) * 1000)
    return {key: {f"{k}_{p}_ms": round(float(np.percentile(v, int(p[1:]))), 1) for k, v in got.items()
                  for p in ("p50", "p95")} for key, got in times.items()}


def home_bench_parser(doc: str, questions: int) -> Any:
    """The command line of a bench over a data home built by bench/query.py: HOME, --queries, --questions, --json."""
    import argparse

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("home", type=Path)
    parser.add_argument("--queries", type=Path, required=True, help="BEIR queries.jsonl")
    parser.add_argument("--questions", type=int, default=questions)
    parser.add_argument("--json", action="store_true")
    return parser


def code_of(checkout: Path, folder: Path) -> str:
    """A PYTHONPATH under `folder` that imports `litassist` from another checkout (this one is installed editable)."""
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "litassist"
    if not link.exists():
        link.symlink_to(checkout.resolve())
    return str(folder)
