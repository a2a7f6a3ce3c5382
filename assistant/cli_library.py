"""The library commands of `litassist`: what is indexed (and what was deleted), deleting and restoring sources."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from litassist.assistant.terminal import plural, say

if TYPE_CHECKING:
    from litassist.assistant.cli_context import Context

RESTORE_HINT = "litassist delete --restore ID"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def sources(obj: Context, as_json: bool) -> None:
    """What is indexed: counts by kind and one line per source; then the deleted sources."""
    from litassist.index.deletion import deleted_sources  # the store's libraries load only when a command runs

    store = obj.components.store
    items = store.sources()
    gone = deleted_sources(store)
    by_kind = {"paper": 0, "figure": 0}
    for item in items:
        by_kind[item.kind] += 1
    summary = {"sources": len(items), "chunks": sum(i.chunks for i in items), "by_kind": by_kind,
               "items": [{k: getattr(i, k) for k in ("source_id", "kind", "title", "file", "chunks")} for i in items],
               "deleted": [s.model_dump(include={"source_id", "kind", "title", "file"}) for s in gone]}
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    say(f"{summary['sources']} sources ({by_kind['paper']} papers, {by_kind['figure']} figures), "
               f"{summary['chunks']} chunks in {obj.settings.home}")
    for item in items:
        say(f"  {item.kind:<6} {item.chunks:>4}  {item.source_id}  {item.title[:70]}  [{item.file}]")
    if gone:
        say(f"{plural(len(gone), 'deleted source')} (kept out of re-ingests; `{RESTORE_HINT}` brings one back):")
    for source in gone:
        say(f"  {source.kind:<6} {'-':>4}  {source.source_id}  {source.title[:70]}  [{source.file}]")


@click.command()
@click.argument("source_ids", nargs=-1, required=True, metavar="SOURCE_ID...")
@click.option("--restore", is_flag=True, help="Bring deleted sources back from their files instead.")
@click.pass_obj
def delete(obj: Context, source_ids: tuple[str, ...], restore: bool) -> None:
    """Delete sources by id (as `litassist sources` lists them); they stay deleted when their files are ingested
    again, until --restore brings them back."""
    from litassist.index.deletion import delete_sources, restore_sources

    comp = obj.components
    if restore:
        results = restore_sources(comp.store, comp.ingestor, list(source_ids))
        for result in results:
            source = result.source
            if result.ok:
                say(f"restored {source.source_id} {source.label(plural(result.chunks, 'chunk'))} from {source.file}")
            else:
                say(f"not restored: {source.source_id} {source.label()}: {result.reason}", err=True)
        if not all(r.ok for r in results):
            sys.exit(1)
        return
    for gone in delete_sources(comp.store, list(source_ids)):
        say(f"deleted {gone.source.source_id} {gone.source.label(plural(gone.chunks, 'chunk'))} from {gone.source.file}")
    say(f"they stay deleted when their files are ingested again; `{RESTORE_HINT}` brings one back", err=True)
