"""A data home on a read-only mount (a shared, read-only copy of a lab's index): reading works, writing says why.

The mount is made in a private mount namespace (`unshare -m`), since permissions alone do not stop root; the test is
skipped where the machine does not allow that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNSHARE = shutil.which("unshare")


def read_only_run(home: Path, *args: str) -> subprocess.CompletedProcess:
    """`litassist --home HOME ARGS` with HOME mounted read-only for that command only."""
    command = " ".join([sys.executable, "-c", "'from litassist import main; main()'", "--home", str(home),
                        *[f"'{a}'" for a in args]])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITASSIST_EMBEDDING__BACKEND": "torch"}
    return subprocess.run([UNSHARE, "-m", "sh", "-c", f"mount --bind -o ro {home} {home} && {command}"],
                          env=env, capture_output=True, text=True, timeout=300)


def mount_namespaces_work(tmp_path: Path) -> bool:
    """Whether this machine lets us make a private read-only bind mount."""
    if UNSHARE is None:
        return False
    probe = subprocess.run([UNSHARE, "-m", "sh", "-c", f"mount --bind -o ro {tmp_path} {tmp_path}"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


def test_a_read_only_home_answers_and_refuses_writes_with_one_line(corpus_home: Path, tmp_path: Path) -> None:
    if not mount_namespaces_work(tmp_path):
        pytest.skip("needs `unshare -m` and mount (root in a mount namespace) to make a read-only mount")
    home = shutil.copytree(corpus_home, tmp_path / "home")
    listed = read_only_run(home, "sources")
    assert listed.returncode == 0 and "sources (" in listed.stdout, listed.stderr
    answered = read_only_run(home, "ask", "How does HER2 affect CXCR4?")
    assert answered.returncode == 0 and "CXCR4" in answered.stdout and "[1]" in answered.stdout, answered.stderr
    note = tmp_path / "note.md"
    note.write_text("# A note\n\nTP53 loss impairs the G1 checkpoint.\n")
    refused = read_only_run(home, "ingest", str(note))
    assert refused.returncode == 1 and "is read-only: litassist can answer from it but not change it" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
