"""`litassist --help`, `--version` and usage errors answer at once: they import click, not the libraries that only
the commands need (chromadb, torch, LangChain, gradio, pydantic …, seconds of imports before any output)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = {"chromadb", "torch", "transformers", "sentence_transformers", "langchain_core", "gradio", "bm25s", "scipy",
         "onnxruntime", "pydantic", "pydantic_settings", "numpy", "tqdm", "pypdf"}
PROBE = """
import json, sys
from litassist.assistant.cli import main
sys.argv = ["litassist", *json.loads(sys.argv[1])]
try:
    main()
    code = 0
except SystemExit as exc:
    code = exc.code
print("MODULES " + json.dumps({"code": code, "loaded": sorted({m.split(".")[0] for m in sys.modules})}),
      file=sys.__stderr__)
"""


@pytest.mark.parametrize(("args", "code", "shown"), [
    (["--help"], 0, "Usage: litassist"),
    (["-h"], 0, "Commands:"),
    (["--version"], 0, "litassist, version"),
    (["no-such-command"], 2, "No such command"),
    (["ask"], 2, "Missing argument 'QUESTION'"),
    (["ask", "--help"], 0, "Answer a question with numbered citations"),
    (["--home", "/nonexistent/home", "ingest"], 2, "Missing argument 'PATHS...'"),
    (["serve", "--port", "0"], 2, "Invalid value for '--port'"),
])
def test_help_version_and_usage_errors_import_no_heavy_library(args, code, shown):
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, timeout=120)
    report = json.loads(done.stderr.rsplit("MODULES ", 1)[1])
    assert report["code"] == code and shown in done.stdout + done.stderr
    assert HEAVY.isdisjoint(report["loaded"]), sorted(HEAVY.intersection(report["loaded"]))
