"""A shared server under attack: `litassist serve` with a login, in its own process, its data home outside both its
working directory and its temp folder, and an audit hook that blocks and records any connection off this machine.

What is checked: the server fetches no URL for a client; a page from another origin (same site, another port)
cannot use a logged-in session; cookies are SameSite=Lax; downloads work and stay private (0700) and are removed
when the server stops; wrong passwords back off.
"""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import BROWSER_SKIP, free_port
from tests.test_security import HOOK, START_TIMEOUT_S

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("LITASSIST_TEST_CHROMIUM", "/usr/bin/chromium"))
USER, PASSWORD = "alice", "correct-horse"
QUESTION = "How does HER2 affect CXCR4?"


@dataclass
class Served:
    """The running server and where it keeps things."""

    url: str
    process: subprocess.Popen
    net_log: Path
    output: Path
    temp: Path  # the server's TMPDIR
    home: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, corpus_home: Path) -> Iterator[Served]:
    """`litassist serve --auth` run from one folder, with TMPDIR another and the data home a third."""
    base = tmp_path_factory.mktemp("served")
    hook_dir, temp, cwd = base / "hook", base / "system-temp", base / "somewhere-else"
    for folder in (hook_dir, temp, cwd):
        folder.mkdir()
    (hook_dir / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
    home = shutil.copytree(corpus_home, base / "srv" / "litassist")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LITASSIST_", "GRADIO_")) and "proxy" not in k.lower()}
    env.update(PYTHONPATH=os.pathsep.join([str(hook_dir), str(ROOT)]), LITASSIST_TEST_NETLOG=str(base / "net.log"),
               TMPDIR=str(temp), LITASSIST_EMBEDDING__BACKEND="torch")
    port = free_port()
    output = base / "serve.log"
    command = [sys.executable, "-c", "from litassist import main; main()", "--home", str(home), "serve",
               "--port", str(port), "--auth", f"{USER}:{PASSWORD}"]
    with output.open("w") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    served = Served(f"http://127.0.0.1:{port}", process, base / "net.log", output, temp, home)
    try:
        wait_until_up(served)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def wait_until_up(served: Served) -> None:
    """Poll until the server answers HTTP."""
    deadline = time.monotonic() + START_TIMEOUT_S
    with client() as c:
        while True:
            if served.process.poll() is not None:
                pytest.fail(f"serve exited with {served.process.returncode}: {served.output.read_text()[-2000:]}")
            try:
                if c.get(served.url + "/config").status_code in (200, 401):
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "`litassist serve` did not come up in time"
            time.sleep(0.5)


def client() -> httpx.Client:
    """An HTTP client that ignores proxy settings."""
    return httpx.Client(trust_env=False, timeout=60)


@contextmanager
def logged_in(served: Served) -> Iterator[httpx.Client]:
    """A client holding a session cookie."""
    with client() as c:
        response = c.post(served.url + "/login", data={"username": USER, "password": PASSWORD})
        assert response.status_code == 200, response.text
        yield c


def blocked(served: Served) -> list[str]:
    """What the audit hook stopped: connections or name lookups off this machine."""
    lines = served.net_log.read_text().splitlines() if served.net_log.exists() else []
    return [line for line in lines if line.startswith("blocked")]


def test_the_server_fetches_no_url_for_a_client(served: Served) -> None:
    with logged_in(served) as c:
        proxied = c.get(served.url + "/gradio_api/file=http://203.0.113.7/pixel.png")
        assert proxied.status_code == 403 and "does not fetch URLs" in proxied.text
        file_by_url = {"path": "https://203.0.113.7/export.bib", "meta": {"_type": "gradio.FileData"}}
        ingest = c.post(served.url + "/gradio_api/call/ingest", json={"data": [[file_by_url]]})
        assert ingest.status_code == 403 and "upload the file itself" in ingest.text
        # An ordinary question still works, and nothing anywhere tried to reach off this machine.
        asked = c.post(served.url + "/gradio_api/call/ask", json={"data": [QUESTION, "both", "", 0, 0, [], "", ""]})
        assert asked.status_code == 200, asked.text
        result = c.get(served.url + f"/gradio_api/call/ask/{asked.json()['event_id']}").text
        assert "CXCR4" in result and "event: complete" in result, result
    assert blocked(served) == []


def test_session_cookies_are_same_site_lax(served: Served) -> None:
    with client() as c:
        response = c.post(served.url + "/login", data={"username": USER, "password": PASSWORD})
    cookies = response.headers.get_list("set-cookie")
    assert cookies and all("samesite=lax" in cookie.lower() for cookie in cookies), cookies
    assert not any("samesite=none" in cookie.lower() for cookie in cookies), cookies


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{BROWSER_SKIP}: no chromium at {CHROMIUM}")
def test_a_page_from_another_origin_cannot_use_the_login(served: Served, store) -> None:
    title = store.sources()[0].title
    with logged_in(served) as c:
        assert title in c.get(served.url + "/config").text  # what a logged-in page can read
    attacker = AttackerSite(served.url)
    try:
        with logged_in_page(served) as page:
            page.goto(attacker.url, wait_until="load")  # same site (127.0.0.1), another port: another origin
            page.wait_for_function("window.stolen !== undefined", timeout=30_000)
            stolen = page.evaluate("window.stolen")
            page.goto(served.url, wait_until="load")  # the session itself still works on its own origin
            page.wait_for_selector("#question textarea", timeout=60_000)
    finally:
        attacker.close()
    assert title not in stolen, stolen[:500]


@contextmanager
def logged_in_page(served: Served) -> Iterator:
    """A page in a headless Chromium whose context holds a session cookie."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            context = browser.new_context()
            context.request.post(served.url + "/login", form={"username": USER, "password": PASSWORD})
            yield context.new_page()
        finally:
            browser.close()


class AttackerSite:
    """A page on another port of this machine that tries to read the app's config with the user's cookies."""

    def __init__(self, target: str) -> None:
        page = (f"<script>fetch('{target}/config', {{credentials: 'include'}})"
                ".then(r => r.text()).then(t => window.stolen = t).catch(e => window.stolen = 'error: ' + e)"
                "</script>").encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802  (the http.server API)
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{BROWSER_SKIP}: no chromium at {CHROMIUM}")
def test_downloads_arrive_and_stay_private_with_the_home_outside_cwd_and_temp(served: Served) -> None:
    with logged_in_page(served) as page:
        page.goto(served.url, wait_until="load")
        box = page.locator("#question textarea")
        box.fill(QUESTION)
        box.press("Enter")
        page.locator("#chat").get_by_text("Quoted from your sources").wait_for(timeout=60_000)
        page.wait_for_function("!document.querySelector('#download-bib').disabled", timeout=30_000)
        with page.expect_download() as download:
            page.locator("#download-bib").click()
        assert "@article" in Path(download.value.path()).read_text(encoding="utf-8")
        toasts = page.locator(".toast-body").all_inner_texts()
        assert not toasts, toasts  # no "Cannot move … to the gradio cache dir"
    files = [p for p in served.temp.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".bib") for p in files), files
    for path in files:  # everything under a folder only its owner may enter
        assert any(stat.S_IMODE(parent.stat().st_mode) == 0o700
                   for parent in path.parents if served.temp in parent.parents), path
    assert not [p for p in (served.temp / "gradio").rglob("*") if p.is_file()]  # not in Gradio's shared cache


def test_a_command_line_ingest_beside_the_server_is_seen_by_its_next_question(served: Served, tmp_path) -> None:
    note = tmp_path / "quokka.md"
    note.write_text("# Quokka keratinocytes and PLXNB3\n\nQuokka keratinocytes raise PLXNB3 under ultraviolet stress.\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITASSIST_")}
    env.update(LITASSIST_EMBEDDING__BACKEND="torch", PYTHONPATH=str(ROOT))
    ingest = subprocess.run([sys.executable, "-c", "from litassist import main; main()", "--home", str(served.home),
                             "ingest", str(note)], env=env, capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    with logged_in(served) as c:
        asked = c.post(served.url + "/gradio_api/call/ask",
                       json={"data": ["What do quokka keratinocytes raise under ultraviolet stress?", "both", "", 0, 0,
                                      [], "", ""]})  # no study-type or species filter
        result = c.get(served.url + f"/gradio_api/call/ask/{asked.json()['event_id']}").text
    assert "PLXNB3" in result and "Quokka keratinocytes and PLXNB3" in result, result  # quoted and cited


def test_wrong_passwords_make_the_client_wait(served: Served) -> None:
    with client() as c:
        statuses = [c.post(served.url + "/login", data={"username": USER, "password": f"guess{i}"}).status_code
                    for i in range(6)]
        assert statuses[:4] == [400] * 4 and statuses[4:] == [429, 429], statuses
        waiting = c.post(served.url + "/login", data={"username": USER, "password": PASSWORD})
        assert waiting.status_code == 429  # even the right password waits its turn
        assert "try again in" in waiting.text and int(waiting.headers["retry-after"]) >= 1
        time.sleep(int(waiting.headers["retry-after"]) + 0.2)
        assert c.post(served.url + "/login", data={"username": USER, "password": PASSWORD}).status_code == 200


def test_stopping_the_server_removes_its_private_files(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=60) == 0
    left = [p for p in served.temp.rglob("*") if p.is_file() or p.name.startswith("litassist-")]
    assert left == [], left
