"""Work run beside the caller, which reads its progress as it goes: an ingest's counts (the UI's one progress
display), a chat model's draft answer as its tokens arrive."""

from __future__ import annotations

import html
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import TypeVar

from litassist.index.ingest_progress import IngestProgress

T = TypeVar("T")
U = TypeVar("U")
_END = object()  # put on the queue once the run has ended, whichever way


def run_beside(run: Callable[[Callable[[U], None]], T], lock: AbstractContextManager | None = None
               ) -> Iterator[U | T]:
    """`run(tell)` (work that calls `tell` with its progress) in a thread, holding `lock`; yield the progress, the
    newest of what came since the last yield, then what `run` returned. An error of `run` is raised here."""
    updates: queue.Queue = queue.Queue()
    result: dict[str, object] = {}

    def work() -> None:
        try:
            with lock or nullcontext():
                result["report"] = run(updates.put)
        except BaseException as exc:  # noqa: BLE001  (handed to the caller's thread, which raises it)
            result["error"] = exc
        finally:
            updates.put(_END)

    # Not joined: if the page goes away an ingest still finishes, and a file half written is never left behind.
    threading.Thread(target=work, name="litassist-ui-work", daemon=True).start()
    ended = False
    while not ended:
        latest = updates.get()
        if latest is _END:
            break
        while not updates.empty():  # progress comes faster than a page can draw it: only the newest is shown
            item = updates.get_nowait()
            if item is _END:
                ended = True
                break
            latest = item
        yield latest
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    yield result["report"]  # type: ignore[misc]


def progress_html(progress: IngestProgress) -> str:
    """A bar of chunks embedded (of those read so far; moving while nothing is read yet) and the counts in words."""
    bar = (f'<progress value="{progress.chunks_embedded}" max="{progress.chunks_total}"></progress>'
           if progress.chunks_total else "<progress></progress>")
    return (f'<div class="la-progress" role="status" style="display:flex;gap:.6em;align-items:center">{bar} '
            f'<span class="la-progress-text">Ingesting: {html.escape(progress.line())}</span></div>')
