"""Serving safely: loopback by default, a login wall with --auth, upload limits, and no connection off the machine.

The last test runs `litassist serve` in its own process with an audit hook (a sitecustomize on PYTHONPATH) that
blocks and records every socket connection or name lookup that is not for this machine, then asks a question.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import litassist.assistant  # noqa: F401  (offline switches before gradio loads)
from tests.conftest import DATA, free_port, served, upload

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How does HER2 affect CXCR4?"
USER, PASSWORD = "alice", "correct-horse"
START_TIMEOUT_S = 180  # the served process loads torch and the model on a shared 2-core machine
HOOK = '''
import ipaddress, os, socket, sys

LOG = os.environ["LITASSIST_TEST_NETLOG"]


def ip_of(host):
    """The IP address written in host, or None when host is a name."""
    try:
        return ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return None


def local(host):
    """True for localhost and loopback or unspecified addresses."""
    if isinstance(host, bytes):
        host = host.decode()
    if host is None or host in ("", "localhost") or host.endswith(".localhost"):
        return True
    ip = ip_of(host)
    return ip is not None and (ip.is_loopback or ip.is_unspecified)


def record(line):
    with open(LOG, "a") as log:
        log.write(line + "\\n")


def hook(event, args):
    if event == "socket.connect":
        sock, address = args
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not local(address[0]):
            record(f"blocked connect {address!r} in pid {os.getpid()}")
            raise PermissionError(f"test: no connection off this machine ({address!r})")
    elif event in ("socket.getaddrinfo", "socket.gethostbyname") and not local(args[0]) and ip_of(args[0]) is None:
        # a name other than localhost would go to a DNS server; a written address is checked at connect
        record(f"blocked lookup {args[0]!r} in pid {os.getpid()}")
        raise PermissionError(f"test: no name lookup off this machine ({args[0]!r})")


sys.addaudithook(hook)
record(f"watching pid {os.getpid()}")
'''



def lan_address() -> str | None:
    """This machine's address on its network, if it has one (a UDP connect picks the route; nothing is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("203.0.113.1", 9))
        except OSError:
            return None
        address = s.getsockname()[0]
    return None if ipaddress.ip_address(address).is_loopback else address


@pytest.fixture(scope="module")
def shared_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The UI as a shared demo would run it: default host, a login, a 1 MB upload limit."""
    from litassist.app import serve
    from litassist.assistant.settings import ServerSettings, Settings

    port = free_port()
    server = ServerSettings(port=port, auth=f"{USER}:{PASSWORD}", max_upload_mb=1)
    demo = serve(Settings(home=tmp_path_factory.mktemp("demo_home"), server=server), block=False)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        demo.close()


def http() -> httpx.Client:
    """An HTTP client that ignores proxy settings (everything here is on loopback)."""
    return httpx.Client(trust_env=False, timeout=30)


def test_the_server_listens_on_loopback_only_by_default(shared_demo):
    assert http().get(shared_demo + "/").status_code == 200
    address = lan_address()
    if address is None:
        pytest.skip("this machine has no network address other than loopback")
    port = int(shared_demo.rsplit(":", 1)[1])
    with pytest.raises(OSError):  # refused: nothing listens on the machine's network address
        socket.create_connection((address, port), timeout=5).close()


def test_auth_keeps_the_api_and_uploads_behind_a_login(shared_demo):
    from gradio_client import Client

    with http() as client:
        assert client.get(shared_demo + "/config").status_code == 401
        upload = client.post(shared_demo + "/gradio_api/upload", files={"files": ("a.md", b"# A\n\ntext")})
        assert upload.status_code == 401
    with pytest.raises(Exception, match="(?i)login|credentials"):
        Client(shared_demo + "/", auth=(USER, "wrong"), verbose=False)
    assert Client(shared_demo + "/", auth=(USER, PASSWORD), verbose=False).predict(api_name="/sources") == []


def test_the_server_refuses_uploads_over_the_limit(shared_demo):
    with http() as client:
        assert client.post(shared_demo + "/login", data={"username": USER, "password": PASSWORD}).status_code == 200
        big = client.post(shared_demo + "/gradio_api/upload", files={"files": ("big.txt", b"x" * (1024 * 1024 + 1))})
        small = client.post(shared_demo + "/gradio_api/upload", files={"files": ("small.txt", b"x" * 1024)})
    assert big.status_code == 413 and "maximum allowed size" in big.text
    assert small.status_code == 200


def test_uploads_stay_under_the_data_home_and_unsafe_members_are_skipped(tmp_path):
    from litassist.assistant.settings import ServerSettings
    from litassist.assistant.uploads import limits_of, save_uploads

    incoming, home = tmp_path / "incoming", tmp_path / "home"
    incoming.mkdir()
    good = incoming / "good.md"
    good.write_text("# Good\n\nHER2 raises CXCR4.\n", encoding="utf-8")
    (incoming / "tool.exe").write_bytes(b"MZ")
    (incoming / "huge.txt").write_bytes(b"a" * (1024 * 1024 + 1))
    with zipfile.ZipFile(incoming / "papers.zip", "w") as zf:
        zf.writestr("inner/paper.md", "# Inner\n\nEGFR binds EGF.\n")
        zf.writestr("../escaped.md", "# Escaped\n")
        zf.writestr("inner/../../also_escaped.md", "# Escaped\n")
        zf.writestr("/absolute.md", "# Absolute\n")
        zf.writestr("inner/script.sh", "echo hi\n")
    (incoming / "broken.zip").write_bytes(b"not a zip")

    batch = save_uploads([str(p) for p in sorted(incoming.iterdir())], home, limits_of(ServerSettings(max_upload_mb=1)))

    uploads = (home / "uploads").resolve()
    folder = {name: hashlib.sha256((incoming / name).read_bytes()).hexdigest()[:16] for name in ("good.md", "papers.zip")}
    assert sorted(p.relative_to(uploads).as_posix() for p in batch.files) == sorted(
        [f"{folder['good.md']}/good.md", f"{folder['papers.zip']}/papers/inner/paper.md"])  # folders named by content
    assert all(p.resolve().is_relative_to(uploads) for p in batch.files)
    assert sorted(batch.refused) == ["broken.zip: not a readable zip file",
                               "huge.txt: larger than the 1 MB upload limit",
                               "script.sh (in papers.zip): not a supported format (.sh)",  # named, not silent
                               "tool.exe: unsupported file type '.exe'"]
    written = {p.name for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(incoming)}
    assert written == {"good.md", "paper.md"}  # nothing escaped, nothing else was written anywhere


def test_the_served_process_makes_no_connection_off_this_machine(corpus_home, tmp_path):
    hook_dir, log = tmp_path / "hook", tmp_path / "net.log"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
    home = shutil.copytree(corpus_home, tmp_path / "home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITASSIST_") and "proxy" not in k.lower()}
    env.update(PYTHONPATH=str(hook_dir), LITASSIST_TEST_NETLOG=str(log))

    # The watcher works: an outside connection attempt is blocked and recorded (nothing is sent).
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('203.0.113.1', 80), 2)"],
                           env=env, capture_output=True, text=True, timeout=60)
    assert probe.returncode != 0 and "no connection off this machine" in probe.stderr
    assert "blocked connect ('203.0.113.1', 80)" in log.read_text()
    log.unlink()

    port = free_port()
    command = [sys.executable, "-c", "from litassist import main; main()", "--home", str(home), "serve",
               "--port", str(port)]
    with (tmp_path / "serve.log").open("w") as output:  # a file, not a pipe: a full pipe would stall the server
        served = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            result = ask_when_up(f"http://127.0.0.1:{port}", served, tmp_path / "serve.log")
        finally:
            served.terminate()
            served.wait(timeout=30)
    assert not result["abstained"] and "CXCR4" in result["answer"], result
    said = (tmp_path / "serve.log").read_text()
    assert f"litassist is ready at http://127.0.0.1:{port}" in said and "share=True" not in said, said
    lines = log.read_text().splitlines()
    assert lines[0].startswith("watching pid") and lines[0].endswith(str(served.pid)), lines
    assert [line for line in lines if line.startswith("blocked")] == [], lines


def ask_when_up(url: str, served: subprocess.Popen, output: Path) -> dict:
    """Wait for the served UI to answer HTTP, then ask the mission question through gradio_client."""
    from gradio_client import Client

    deadline = time.monotonic() + START_TIMEOUT_S
    with http() as client:
        while True:
            if served.poll() is not None:
                pytest.fail(f"`litassist serve` exited with {served.returncode}: {output.read_text()[-2000:]}")
            try:
                if client.get(url + "/config").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "`litassist serve` did not come up in time"
            time.sleep(0.5)
    return Client(url + "/", verbose=False).predict(QUESTION, "both", "", 0, 0, api_name="/ask")


# --- what one request may cost (issue 15, item 12) ------------------------------------------------------------------

@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, corpus_home: Path) -> Iterator[tuple[str, Path]]:
    """The UI over the test corpus with small limits: a zip may unpack to 8 MB, a file over 0.0625 MB (64 KiB) fails at
    ingest; the default limits otherwise (10,000 entries per zip, 2,000 characters per question)."""
    from litassist.assistant.settings import IngestSettings, ServerSettings, Settings

    home = shutil.copytree(corpus_home, tmp_path_factory.mktemp("limited") / "home")
    settings = Settings(home=home, server=ServerSettings(max_unpacked_mb=8), ingest=IngestSettings(max_file_mb=0.0625))
    with served(settings) as url:
        yield url, home


def text_of(content: str | list[dict]) -> str:
    """A chat message's text (Gradio sends it as a list of parts)."""
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def kept_uploads(home: Path) -> list[Path]:
    """Every file under the data home's uploads folder."""
    return sorted(p for p in (home / "uploads").rglob("*") if p.is_file()) if (home / "uploads").exists() else []


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(limited):
    from gradio_client import Client

    url, home = limited
    rows, summary = upload(Client(url, verbose=False), DATA / "hostile" / "uploads" / "zip_bomb.zip")
    assert rows == [["zip_bomb.zip", "failed", 0, 0, "unpacks to 16.0 MB, over the limit of 8 MB per zip"]]
    assert summary.startswith("0 added, 0 replaced, 0 unchanged, 1 failed") and kept_uploads(home) == []


def test_a_zip_of_more_entries_than_the_limit_is_refused_unread(limited, tmp_path):
    from gradio_client import Client

    url, home = limited
    crowded = tmp_path / "crowded.zip"
    with zipfile.ZipFile(crowded, "w") as zf:  # the default limit is 10,000 entries; a 50 MB zip can hold 415,000
        zf.writestr("paper.md", "# A paper\n\nIt would go in, were the zip not refused.\n")
        for i in range(10_000):
            zf.writestr(f"empty/{i}.md", "")
    rows, _ = upload(Client(url, verbose=False), crowded)
    assert rows == [["crowded.zip", "failed", 0, 0, "holds 10,001 entries (0.6 MB of names), over the limit of 10,000 "
                                                    "per zip"]]
    assert kept_uploads(home) == []


def test_the_server_applies_every_ingest_setting(limited, tmp_path):
    from gradio_client import Client

    big = tmp_path / "big_note.md"
    big.write_text("# A big note\n\n" + "PTEN loss activates AKT in this long note. " * 2000, encoding="utf-8")
    rows, _ = upload(Client(limited[0], verbose=False), big)  # 84 KB: under the upload limit, over the ingest one
    assert rows == [["big_note.md", "failed", 0, 0, "too large: 0.1 MB, over the 0.0625 MB limit per file"]]


def test_a_question_over_the_length_limit_is_refused_with_a_message(limited, corpus_home, run_cli):
    from gradio_client import Client

    pasted = ("How does HER2 affect CXCR4? " + "Padding pasted from a document. " * 3200).strip()  # 102,427 chars
    said = "the question is 102,427 characters long, over the limit of 2,000: ask about one thing at a time"
    code, out, err = run_cli("--home", corpus_home, "ask", pasted)
    assert (code, out) == (1, "") and said in err
    client = Client(limited[0], verbose=False)
    with pytest.raises(Exception, match=said):
        client.predict(pasted, "both", "", 0, 0, api_name="/ask")
    with pytest.raises(Exception, match="the question is 2,001 characters long"):  # the history is held to it too
        client.predict("And its degradation?", "both", "", 0, 0, ["x" * 2001], api_name="/ask")
    question, reply = [text_of(message["content"]) for message in client.predict(pasted, [], "both", "", 0, 0,
                                                                                  api_name="/chat")[0]]
    assert reply.startswith(said[:1].upper() + said[1:]) and len(question) < 300  # no 100 KB echoed back to the tab
    assert not client.predict("How does HER2 affect CXCR4?", "both", "", 0, 0, api_name="/ask")["abstained"]
