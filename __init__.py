"""litassist: cited answers from your papers and pathway figures, offline.

Installed as one package, `litassist`, from the repository's layers: `litassist.index` (documents -> searchable
store) <- `litassist.assistant` (question -> cited answer; the CLI) <- `litassist.app` (the browser UI). This top
layer wires the UI into the CLI's `serve`, so the assistant layer never imports the UI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def main() -> None:
    """The `litassist` command: the assistant layer's CLI, with this layer's browser UI behind `serve`."""
    from litassist.assistant.cli import main as cli_main

    cli_main(serve_ui=serve_ui)


def serve_ui(settings: Any, announce: Callable[[str], None]) -> None:
    """Serve the browser UI (gradio loads only here, for `litassist serve`)."""
    from litassist.app import serve

    serve(settings, announce=announce)
