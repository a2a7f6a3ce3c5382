"""`litassist fetch pubmed|pmc`: the one command that uses the network; what it gets is ingested like any file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from litassist.assistant.terminal import (EXIT_PARTIAL, announce_model_export, plural, print_outcome, printable, say,
                                stayed_deleted_line)

if TYPE_CHECKING:  # types only: `litassist --help` imports click alone (tests/test_startup_imports.py)
    from tqdm import tqdm

    from litassist.index.ingest_report import FileOutcome

    from litassist.assistant.cli_context import Context
    from litassist.assistant.fetch import FetchResult


@click.group()
def fetch() -> None:
    """Get PubMed records or PMC full texts from NCBI (the only command that uses the network), then ingest them."""


@fetch.command()
@click.argument("query")
@click.option("--max", "limit", type=click.IntRange(1, 10_000), default=None,
              help="Most records to take from the search, in esearch's order (default LITASSIST_FETCH__MAX_RESULTS).")
@click.pass_obj
def pubmed(obj: Context, query: str, limit: int | None) -> None:
    """Search PubMed for QUERY and fetch the records not fetched before (abstracts, as PubMed XML)."""
    from litassist.assistant.eutils import Eutils
    from litassist.assistant.fetch import fetch_pubmed

    if not query.strip():
        raise click.UsageError("the query is empty")
    settings = obj.settings
    folder = settings.home / "fetched" / "pubmed"
    with Eutils(settings.fetch) as client, progress_bar() as bar:
        result = fetch_pubmed(client, folder, query, limit or settings.fetch.max_results,
                              progress=bar.update, on_plan=lambda r: announce_search(r, query, bar))
    finish(obj, result, folder, "PMID")


@fetch.command()
@click.argument("pmcids", nargs=-1, required=True)
@click.pass_obj
def pmc(obj: Context, pmcids: tuple[str, ...]) -> None:
    """Fetch the full text of PMC articles (PMC4267894 …) as JATS XML; open-access articles come with their body."""
    from litassist.assistant.eutils import Eutils
    from litassist.assistant.fetch import fetch_pmc, pmc_number

    for pmcid in pmcids:
        pmc_number(pmcid)  # a malformed id is refused before any request
    folder = obj.settings.home / "fetched" / "pmc"
    with Eutils(obj.settings.fetch) as client, progress_bar() as bar:
        result = fetch_pmc(client, folder, list(pmcids), progress=bar.update,
                           on_plan=lambda r: announce_pmc(r, bar))
    finish(obj, result, folder, "PMC")


def progress_bar() -> tqdm:
    """The fetch's bar on stderr (records fetched of records to fetch), drawn only on a terminal."""
    from tqdm.auto import tqdm

    return tqdm(total=0, unit="record", desc="Fetching", disable=not sys.stderr.isatty(), leave=False,
                file=sys.stderr)


def announce_search(result: FetchResult, query: str, bar: tqdm) -> None:
    """What the search found and how much of it is new, before the records are fetched."""
    taken = len(result.ids)
    new = taken - len(result.already)
    more = f"; taking the first {taken}" if result.found > taken else ""
    say(f"PubMed: {plural(result.found, 'record')} match {printable(query)!r}{more}; {new} new, "
        f"{len(result.already)} already fetched", err=True)
    bar.total = new
    bar.refresh()


def announce_pmc(result: FetchResult, bar: tqdm) -> None:
    """How many of the asked-for articles are new."""
    if result.already:
        say(f"{plural(len(result.already), 'article')} already fetched, not asked for again", err=True)
    bar.total = len(result.ids) - len(result.already)
    bar.refresh()


def finish(obj: Context, result: FetchResult, folder: Path, label: str) -> None:
    """Report what was written and what was not, then ingest the covered files like `litassist ingest`."""
    for key, reason in result.unavailable.items():
        say(f"warning: {label}{' ' if label == 'PMID' else ''}{key}: {printable(reason)}", err=True)
    for note in result.notes:
        say(f"note: {printable(note)}", err=True)
    say(f"wrote {plural(len(result.written), 'file')} under {folder}", err=True)
    if result.files:
        ingest_files(obj, result.files)
    if result.unavailable:
        sys.exit(EXIT_PARTIAL)


def ingest_files(obj: Context, files: list[Path]) -> None:
    """Ingest the fetched files (unchanged ones are checked, not re-read, and not listed)."""
    comp = obj.components
    announce_model_export(comp)
    report = comp.ingestor(show_progress=sys.stderr.isatty(), on_outcome=print_changed).run(files)
    counts = report.counts()
    say(report.counts_line(counts) + f"; {report.embedded} chunks embedded, {report.reused} reused", err=True)
    if line := stayed_deleted_line(report.stayed_deleted):
        say(line, err=True)
    if report.problems:
        sys.exit(EXIT_PARTIAL)


def print_changed(outcome: FileOutcome) -> None:
    """An ingest line for every file but the unchanged ones (a re-run covers many files fetched before)."""
    if outcome.status != "unchanged":
        print_outcome(outcome)
