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


def test_serving_the_ui_writes_no_type_stubs_beside_component_sources(tmp_path):
    """gradio's component metaclass reads, parses and rewrites a `.pyi` stub beside every component's source each
    time a component class is defined (half of `import gradio`, read again on every `litassist serve`); with the
    UI loaded it leaves sources alone: a component module defined afterwards gets no stub written beside it."""
    (tmp_path / "custom_box.py").write_text("from gradio.components import Textbox\n\n\n"
                                           "class CustomBox(Textbox):\n    \"\"\"A text box.\"\"\"\n")
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import litassist.app; import custom_box"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".pyc" and p.is_file()) == ["custom_box.py"]
