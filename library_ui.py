"""The Library tab's handlers: ingest uploads with one progress display; the delete box, which deletes a source
picked by its title after asking, undoes that, and restores any deleted source (deleted sources stay out of
re-ingests until restored)."""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass

import gradio as gr

from litassist.index.deletion import UnknownSourceError, deleted_sources
from litassist.index.ingest_progress import IngestProgress
from litassist.index.store import Store
from litassist.index.tombstones import DeletedSource

from litassist.assistant.citations import md_literal
from litassist.assistant.factory import Components
from litassist.assistant.ingest_stream import progress_html, run_beside
from litassist.assistant.library import describe_source, shown_sources, source_choices, table_row
from litassist.assistant.terminal import plural
from litassist.assistant.upload_jobs import delete_source, ingest_uploads, restore_source
from litassist.assistant.uploads import shown

LISTED = 8  # deleted sources named in the list under the box; past this many, only a count


@dataclass
class DeletionBox:
    """What the page wires further: the picker of sources to delete (an ingest adds to it), and the events that
    changed the index (the page's state is read again after them)."""

    victim: gr.Dropdown
    changes: list


def deleted_choices(gone: list[DeletedSource]) -> list[tuple[str, str]]:
    """(label, source id) for picking a deleted source to restore."""
    return [(f"{s.title or s.source_id} — {s.kind}", s.source_id) for s in gone]


def deleted_markdown(gone: list[DeletedSource]) -> str:
    """The deleted sources in a line: they stay out of re-ingests until restored."""
    if not gone:
        return "No deleted sources."
    names = ", ".join(md_literal(s.label()) for s in gone[:LISTED]) + (
        f" and {len(gone) - LISTED} more" if len(gone) > LISTED else "")
    return (f"**{plural(len(gone), 'deleted source')}**, kept out when their files are ingested again "
            f"(restore one to bring it back): {names}")


def stayed_deleted(source_ids: list[str]) -> str:
    """' · 2 deleted sources stay deleted (Restore, below, brings one back)' for an ingest's summary; '' if none."""
    if not source_ids:
        return ""
    stay = "stays" if len(source_ids) == 1 else "stay"
    return f" · {plural(len(source_ids), 'deleted source')} {stay} deleted (Restore, below, brings one back)"


def listing_for(store: Store, query: str | None):
    """The Library's listing for what is typed in "Find a source": table rows, delete choices, count line."""
    rows, note = shown_sources(store.sources(), query or "")
    return rows, gr.update(choices=source_choices(rows)), note


def ingest_files(components: Components, lock: threading.Lock, files: list[str] | None):
    """Save uploads under the data home and ingest them; the summary counts files and chunks as they go (the one
    progress display), then gives the counts, with the per-file report below it."""
    store = components.store
    if not files:
        yield [], "Choose files or a .zip first.", shown_sources(store.sources())[0], gr.update()
        return
    # Every ingest setting applies, as in the CLI; one writer at a time (the write lock).
    for step in run_beside(lambda tell: ingest_uploads(components, files, on_progress=tell), lock):
        if isinstance(step, IngestProgress):
            yield gr.update(), progress_html(step), gr.update(), gr.update()
        else:
            result = step
    summary = f"{result.counts_line()} · {store.count()} chunks indexed" + stayed_deleted(result.report.stayed_deleted)
    table_rows = shown_sources(store.sources())[0]  # once: after a write it is rebuilt from every chunk's metadata
    yield (result.rows(components.settings.home), html.escape(summary), table_rows,
           gr.update(choices=source_choices(table_rows)))


def deletion_box(components: Components, lock: threading.Lock, table: gr.Dataframe,
                 table_rows: list[list]) -> DeletionBox:
    """Build the box in the current tab and wire its events (the table is re-read after each change)."""
    store = components.store

    def row_of(source_id: str | None) -> list | None:
        """The source table row of an indexed source."""
        return next((table_row(s) for s in store.sources() if s.source_id == source_id), None) if source_id else None

    def ask_to_delete(source_id: str | None):
        """First step of a deletion: say what would go, and ask."""
        row = row_of(source_id)
        if row is None:
            return "Pick a source to delete first (type part of its title).", gr.update(visible=False)
        return f"Delete {md_literal(describe_source(row))} from the index?", gr.update(visible=True)

    def changed(note: str, undo_visible: bool, last: str | None):
        """The box after a deletion or restore: the note, the tables and pickers re-read, the undo button."""
        rows, gone = shown_sources(store.sources())[0], deleted_sources(store)
        return (note, rows, gr.update(choices=source_choices(rows), value=None), gr.update(visible=False),
                gr.update(visible=undo_visible), last, deleted_markdown(gone),
                gr.update(choices=deleted_choices(gone), value=None))

    def delete(source_id: str | None):
        """Delete one source (remembered: it stays out of re-ingests), and say which; Undo brings it back."""
        row = row_of(source_id)
        if row is None:
            return changed("Nothing deleted.", False, None)
        try:
            with lock:  # the upload a deleted source came from is kept: Undo reads it again
                delete_source(components, row[-1])
        except UnknownSourceError as exc:  # deleted meanwhile, from another tab or the command line
            return changed(f"Nothing deleted: {md_literal(str(exc))}", False, None)
        return changed(f"Deleted {md_literal(describe_source(row))}.", True, row[-1])

    def restore(source_id: str | None):
        """Bring a deleted source back from its file, or say why it cannot come back."""
        if not source_id:
            return changed("Pick a deleted source to restore first.", False, None)
        try:
            with lock:
                result = restore_source(components, source_id)
        except UnknownSourceError as exc:
            return changed(f"Nothing restored: {md_literal(str(exc))}", False, None)
        if result.ok:
            return changed(f"Restored {md_literal(result.source.label(plural(result.chunks, 'chunk')))}.", False, None)
        why = shown(result.reason or "", components.settings.home)  # no path of this machine on the page
        return changed(f"Could not restore {md_literal(result.source.label())}: {md_literal(why)}.",
                       False, None)

    gone = deleted_sources(store)
    with gr.Row():
        victim = gr.Dropdown(source_choices(table_rows), label="Source to delete (type part of its title)",
                             value=None, filterable=True, elem_id="victim")
        delete_btn = gr.Button("Delete source…", variant="stop", elem_id="delete")
    note = gr.Markdown(elem_id="deleted")
    with gr.Row(visible=False) as confirm_row:
        confirm_btn = gr.Button("Yes, delete it", variant="stop", elem_id="confirm-delete")
        cancel_btn = gr.Button("Cancel", elem_id="cancel-delete")
    undo_btn = gr.Button("Undo: restore it", visible=False, elem_id="undo-delete", size="sm")
    last_deleted = gr.State(None)
    listing = gr.Markdown(deleted_markdown(gone), elem_id="deleted-sources")
    with gr.Row():
        # A typed id is accepted too (the API's /restore_source): one that names no deleted source is said so.
        pick = gr.Dropdown(deleted_choices(gone), label="Deleted source to restore", value=None, filterable=True,
                           allow_custom_value=True, elem_id="restore-pick")
        restore_btn = gr.Button("Restore", elem_id="restore")

    outputs = [note, table, victim, confirm_row, undo_btn, last_deleted, listing, pick]
    delete_btn.click(ask_to_delete, [victim], [note, confirm_row], api_visibility="private")
    cancel_btn.click(lambda: ("Nothing deleted.", gr.update(visible=False)), None, [note, confirm_row],
                     api_visibility="private")
    return DeletionBox(victim=victim, changes=[
        confirm_btn.click(delete, [victim], outputs, api_name="delete_source"),
        undo_btn.click(restore, [last_deleted], outputs, api_visibility="private"),
        restore_btn.click(restore, [pick], outputs, api_name="restore_source"),
    ])
