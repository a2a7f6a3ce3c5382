"""What the command line prints about ingests and first runs: one line per file, plain words, no escapes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from litassist.assistant.controls import without_controls

if TYPE_CHECKING:  # every command's error path prints through this module: it imports nothing heavy at the top
    from litassist.index.ingest_report import FileOutcome, IngestReport

EXIT_PARTIAL = 3  # some files failed or went in with entries skipped (`ingest`, `fetch`)
_MARK = {"added": "+", "replaced": "~", "unchanged": "=", "failed": "!", "skipped": "-"}


def printable(text: str) -> str:
    """Control characters escaped, so a file name or a reason quoting file content cannot forge lines or colours."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def shown(text: str) -> str:
    """Text safe to print on a terminal: control characters removed, line breaks and tabs kept."""
    return without_controls(text)


def say(text: str = "", err: bool = False, nl: bool = True) -> None:
    """Print human-facing text (answers, sources, notes, errors) with its control characters removed."""
    click.echo(shown(text), err=err, nl=nl)


def nothing_ingestible(paths: tuple[Path, ...], report: IngestReport) -> str:
    """The error for an ingest that found no file litassist reads."""
    from litassist.index.loaders import SUPPORTED_EXTENSIONS

    where = ", ".join(str(p) for p in paths)
    if not report.outcomes:
        return f"nothing to ingest: no files in {where}"
    kinds = sorted({Path(o.file).suffix.lower() or "no extension" for o in report.outcomes})
    return (f"nothing ingestible found in {where}: {plural(len(report.outcomes), 'file')} of formats litassist does "
            f"not read ({', '.join(kinds)}); it reads {', '.join(sorted(SUPPORTED_EXTENSIONS))}")


def announce_model_export(comp: Any) -> None:
    """Say why the first run waits: the embedding model is exported once per machine."""
    if getattr(comp.encoder, "needs_export", False):
        click.echo("Preparing the embedding model (once per machine, about 20 s) …", err=True)


def plural(n: int, noun: str) -> str:
    """'1 record', '2 records'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def print_outcome(outcome: FileOutcome) -> None:
    """One line per file as it is done, on stderr so --json output stays clean."""
    from tqdm.auto import tqdm

    counts = f"{plural(outcome.records, 'record')}, {plural(outcome.chunks, 'chunk')}"
    kept_out = deleted_note(outcome.deleted)
    detail = "; ".join(d for d in (counts if outcome.status in ("added", "replaced") else "", kept_out) if d)
    reason = f": {printable(outcome.reason)}" if outcome.reason else ""
    line = f"{_MARK[outcome.status]} {outcome.status:<9} {printable(outcome.file)}{reason}" + (
        f" ({detail})" if detail else "")
    tqdm.write(line, file=sys.stderr)  # printed above the progress bars, which tqdm then draws again


def deleted_note(source_ids: list[str]) -> str:
    """'2 deleted sources stay deleted: m1, m7' (the first few named); '' when none."""
    if not source_ids:
        return ""
    named = ", ".join(printable(sid) for sid in source_ids[:3]) + (
        f" and {len(source_ids) - 3} more" if len(source_ids) > 3 else "")
    return f"{plural(len(source_ids), 'deleted source')} {'stays' if len(source_ids) == 1 else 'stay'} deleted: {named}"


def stayed_deleted_line(source_ids: list[str]) -> str | None:
    """The ingest's closing line on deleted sources met in its files, and how to bring them back; None when none."""
    if not source_ids:
        return None
    n = len(source_ids)
    return (f"{plural(n, 'deleted source')} {'stays' if n == 1 else 'stay'} deleted; "
            f"`litassist delete --restore ID` brings {'it' if n == 1 else 'them'} back")
