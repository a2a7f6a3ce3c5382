"""The server side of bench/load.py: index a corpus, start `litassist serve`, and count its CPU time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling bench/common.py, however this is run
from common import free_port  # noqa: E402,F401  (bench/bm25_rebuild.py takes it from here)

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 300  # the server loads torch and the model; on a busy 2-core machine that can take minutes


def litassist(*args: str) -> list[str]:
    """The command line of `litassist ARGS` in this Python (no console script needed)."""
    return [sys.executable, "-c", "from litassist import main; main()", *args]


def start_server(home: Path, concurrency: int | None, log: Path) -> tuple[subprocess.Popen, str]:
    """`litassist serve` on a free port, with LITASSIST_SERVER__CONCURRENCY when given; waits until it answers."""
    port = free_port()
    env = {**os.environ, **({"LITASSIST_SERVER__CONCURRENCY": str(concurrency)} if concurrency else {})}
    with log.open("w") as out:
        server = subprocess.Popen(litassist("--home", str(home), "serve", "--port", str(port)), cwd=ROOT, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not answers(url):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            sys.exit(f"`litassist serve` did not start: {log.read_text()[-2000:]}")
        time.sleep(0.5)
    return server, url


def answers(url: str) -> bool:
    """True once the server's page config is served (auth-protected servers answer 401, also up)."""
    try:
        return httpx.get(url + "config", timeout=5, trust_env=False).status_code in (200, 401)
    except httpx.TransportError:
        return False


def index_questions(home: Path, count: int) -> list[str]:
    """Up to `count` questions suggested from the index (the page shows the first three of the same list)."""
    code = ("import json, sys; from pathlib import Path; from litassist.assistant.factory import Components; "
            "from litassist.assistant.settings import Settings; from litassist.assistant.suggest import example_questions; "
            "store = Components(Settings(home=Path(sys.argv[1]))).store; "
            "print(json.dumps(example_questions(store, int(sys.argv[2]))))")
    done = subprocess.run([sys.executable, "-c", code, str(home), str(count)], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds (user + system, children included) of the given processes, from /proc."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def machine_busy() -> float:
    """Busy CPU seconds of the whole machine since boot (user..steal, idle and iowait left out)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def prepared_home(home: Path | None, corpus: list[Path], folder: Path) -> Path:
    """home as given, else a fresh one under `folder`; the corpus is ingested into it with `litassist ingest`."""
    home = home or folder / "home"
    corpus = corpus or [ROOT / "examples" / "corpus"]
    done = subprocess.run(litassist("--home", str(home), "ingest", *map(str, corpus)), cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode not in (0, 3):
        sys.exit(f"ingest failed: {done.stderr[-2000:]}")
    return home
