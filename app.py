"""Gradio front end: builds the assistant's components from settings and wires them into one page."""

from __future__ import annotations

import html
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import assistant  # noqa: F401  (offline switches before gradio, chromadb and transformers load)
import gradio as gr

from index.ingest import Ingestor

from assistant.answer import answering
from assistant.cards import CSS, SOURCES_PLACEHOLDER, ChatState, ServedFiles, chat_markdown, source_cards
from assistant.citations import body_text, to_markdown
from assistant.conversation import Conversation, ask, cited_ids, notes_markdown, replay
from assistant.export import to_bibtex, to_ris
from assistant.factory import Components
from assistant.filters import FilterError, admits_nothing, describe, from_widgets, nothing_matches
from assistant.library import (FORMATS_NOTE, SOURCE_COLUMNS, describe_source, organism_choices, save_uploads,
                               settings_markdown, source_choices, source_rows, stored_records, upload_dir)
from assistant.llm import model_label
from assistant.settings import Settings
from assistant.suggest import example_questions
from assistant.support import marked

EMPTY = "**No documents yet** — add some in the **Library** tab."
WELCOME = "Ask a question about your papers and pathway figures. Every sentence of the answer is cited."
DEFAULT_EXAMPLE = "How does HER2 affect CXCR4?"  # only while nothing is indexed to draw examples from
# Copy the answer and say so on the button for two seconds (or say that copying was refused).
COPY_JS = """(text) => {
  const button = document.querySelector('#copy-answer');
  const say = (label) => { if (!button) return; button.innerText = label;
    setTimeout(() => { button.innerText = 'Copy answer'; }, 2000); };
  if (!navigator.clipboard || !text) { say('Copy failed: select the text instead'); return; }
  navigator.clipboard.writeText(text).then(() => say('Copied ✓'), () => say('Copy failed: select the text instead'));
}"""
# System fonts only: the default theme would fetch web fonts, and the product makes no outside requests.
THEME = gr.themes.Soft(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def build_app(components: Components) -> gr.Blocks:
    """The whole page: Chat, Library and Settings tabs."""
    settings, store = components.settings, components.store
    llm = components.chat_model()  # None unless LITASSIST_LLM is set: then every answer goes through it
    ingest_lock = threading.Lock()  # one ingest at a time; chats keep reading meanwhile

    def sync() -> None:
        """Chroma server mode: take in what other machines wrote since the last question."""
        if settings.store.chroma_url and not ingest_lock.locked():  # our own ingest rebuilds BM25 when it ends
            store.refresh()

    known = lambda word: components.known_name()(word)  # noqa: E731  (the synonym table loads on first use)
    rewrite = llm if settings.conversation.llm_rewrite else None
    exports = Path(tempfile.mkdtemp(prefix="litassist-exports-"))  # private (0700); Gradio serves from temp

    def answer_fn(kind: str, organism: str | None, year_min: float | None, year_max: float | None):
        """question -> Answer with the page's filters."""
        return answering(components.retriever(from_widgets(kind, organism, year_min, year_max)), settings.answer, llm)

    def ask_json(question: str, kind: str = "both", organism: str = "", year_min: float = 0, year_max: float = 0,
                 history: list[str] | None = None) -> dict:
        """API: one question (with the conversation's earlier questions, if any) -> `litassist ask --json` plus
        search_query and turn."""
        sync()
        conversation = replay(list(history or []), known, settings.conversation.max_turns)
        turn = ask(conversation, question, answer_fn(kind, organism, year_min, year_max), known, rewrite)
        return turn.to_json()

    def chat(message: str, history: list, state: ChatState | None, kind: str, organism: str, year_min: float,
             year_max: float):
        """Answer in the chat, streamed sentence by sentence; every answer keeps its own cards."""
        state = state or ChatState(Conversation(max_turns=settings.conversation.max_turns))
        if not message.strip():  # nothing asked: the chat, its sources and downloads stay as they are
            yield history, *unchanged(state)
            return
        history = history + [{"role": "user", "content": html.escape(message, quote=False)}]
        if store.count() == 0:
            reply = {"role": "assistant", "content": EMPTY}
            yield history + [reply], *unchanged(state)
            return
        sync()
        try:
            where = from_widgets(kind, organism, year_min, year_max)
        except FilterError as exc:
            yield history + [{"role": "assistant", "content": f"The filters cannot be used: {exc}."}], *unchanged(state)
            return
        if admits_nothing(store, where):
            yield history + [{"role": "assistant", "content": html.escape(nothing_matches(where))}], *unchanged(state)
            return
        turn = ask(state.conversation, message, answer_fn(kind, organism, year_min, year_max), known, rewrite)
        result = turn.answer
        records = {c.source_id: store.record(c.source_id) for c in result.citations + result.closest}
        pdfs = ServedFiles(upload_dir(settings.home), demo.allowed_paths)  # an uploaded PDF opens from its card
        state.add(turn, source_cards(result, records, turn.turn, turn.search_query, pdfs))
        for n in range(1, len(result.sentences)):
            partial = result.model_copy(update={"answer": body_text([marked(s) for s in result.sentences[:n]],
                                                                    result.form) + " …", "citations": []})
            yield (history + [{"role": "assistant", "content": chat_markdown(partial, turn.turn)}], state.html(),
                   *unchanged(state)[1:])
        searched = turn.search_query if turn.shows_query else None
        reply = with_note(chat_markdown(result, turn.turn, searched, model_label(llm) if llm else None), result.note)
        if not where.empty and not result.hint:  # an abstention's hint names the filters already
            reply += f"\n\n<sub>Filters: {html.escape(describe(where), quote=False)}</sub>"
        bib, ris, notes_file = export_files(state.conversation)
        yield (history + [{"role": "assistant", "content": reply}], state.html(), to_markdown(result), offered(bib),
               offered(ris), state, offered(notes_file), gr.update(interactive=not result.abstained))

    def unchanged(state: ChatState) -> tuple:
        """Chat outputs other than the chat itself, left as they are."""
        return gr.update(), gr.update(), gr.update(), gr.update(), state, gr.update(), gr.update()

    def export_files(conversation: Conversation) -> tuple[str | None, str | None, str | None]:
        """The conversation as Markdown notes, and BibTeX and RIS of everything it cited, for the downloads."""
        turns = conversation.turns
        if not turns:
            return None, None, None
        folder = Path(tempfile.mkdtemp(dir=exports))
        notes = folder / "litassist-conversation.md"
        notes.write_text(notes_markdown(turns), encoding="utf-8")
        records, _ = stored_records(cited_ids(turns), store)
        if not records:
            return None, None, str(notes)
        bib, ris = folder / "litassist-citations.bib", folder / "litassist-citations.ris"
        bib.write_text(to_bibtex(records), encoding="utf-8")
        ris.write_text(to_ris(records), encoding="utf-8")
        return str(bib), str(ris), str(notes)

    def clear_chat():
        """Empty the chat, its sources, notes and downloads together."""
        off = gr.update(value=None, interactive=False)
        return [], SOURCES_PLACEHOLDER, "", off, off, None, off, gr.update(interactive=False)

    def ingest_files(files: list[str] | None, progress=gr.Progress(track_tqdm=True)):
        """Save uploads under the data home and ingest them with a progress bar."""
        if not files:
            return [], "Choose files or a .zip first.", source_rows(store), gr.update()
        saved, refused = save_uploads(files, settings.home, settings.server.max_upload_mb)
        with ingest_lock:
            ingestor = Ingestor(store, components.encoder, max_tokens=settings.chunking.max_tokens, show_progress=True)
            report = ingestor.run(saved)
        rows = [[Path(o.file).name, o.status, o.records, o.chunks, o.reason or ""] for o in report.outcomes]
        for name, _, reason in (r.partition(": ") for r in refused):
            status = "skipped" if reason.startswith(("not a supported", "unsupported")) else "failed"
            rows.append([name, status, 0, 0, reason])
        counts = report.counts()
        counts["skipped"] += sum(row[1] == "skipped" for row in rows[len(report.outcomes):])
        summary = f"{report.counts_line(counts)} · {store.count()} chunks indexed"
        table_rows = source_rows(store)  # once: after a write it is rebuilt from every chunk's metadata
        return rows, summary, table_rows, gr.update(choices=source_choices(table_rows))

    def list_sources() -> list[dict]:
        """API: every indexed source with its kind, title, file and chunk count."""
        return store.sources()

    drawn: dict[str, list[str]] = {}  # example questions by index generation: scanning chunks on every page load

    def examples_now() -> list[str]:
        """Example questions drawn from the index, worked out once per state of the index."""
        generation = store.generation
        if generation not in drawn:
            drawn.clear()
            drawn[generation] = example_questions(store) or [DEFAULT_EXAMPLE]
        return drawn[generation]

    def page_state():
        """What the page shows about the index, read when a page loads and after every change to the index."""
        sources = store.sources()
        questions = examples_now()
        return (gr.update(choices=organism_choices(sources)), gr.update(samples=[[q] for q in questions]),
                gr.update(placeholder=f"e.g. {questions[0]}"), settings_markdown(components),
                gr.update(placeholder=EMPTY if not sources else WELCOME))

    def row_of(source_id: str | None) -> list | None:
        """The source table row of an indexed source."""
        return next((r for r in source_rows(store) if r[-1] == source_id), None) if source_id else None

    def ask_to_delete(source_id: str | None):
        """First step of a deletion: say what would go, and ask."""
        row = row_of(source_id)
        if row is None:
            return "Pick a source to delete first (type part of its title).", gr.update(visible=False)
        return f"Delete {html.escape(describe_source(row))} from the index?", gr.update(visible=True)

    def delete(source_id: str | None):
        """Remove one source from the index, and say which."""
        row = row_of(source_id)
        removed = store.delete_source(source_id) if row else 0
        note = f"Deleted {html.escape(describe_source(row))}." if removed else "Nothing deleted."
        table_rows = source_rows(store)
        return note, table_rows, gr.update(choices=source_choices(table_rows), value=None), gr.update(visible=False)

    # The source list is built once for both widgets (saved with BM25; without it, reading every chunk's metadata
    # takes 9-17 s at 100k chunks).
    sources = store.sources()
    table_rows = source_rows(store, sources)
    examples = examples_now()
    with gr.Blocks(title="litassist") as demo:
        gr.Markdown("## litassist — cited answers from your papers and pathway figures")
        with gr.Tab("Chat"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=320):
                    chatbot = gr.Chatbot(label="Conversation", show_label=False, height=600, elem_id="chat",
                                         placeholder=EMPTY if store.count() == 0 else WELCOME)
                    question = gr.Textbox(placeholder=f"e.g. {examples[0]}", show_label=False,
                                          submit_btn="Ask", elem_id="question")
                    example_set = gr.Dataset(components=[question], samples=[[q] for q in examples],
                                             label="Example questions (click to ask)", elem_id="examples")
                    with gr.Accordion("Filters", open=False):
                        kind = gr.Radio([("Papers and figures", "both"), ("Papers", "paper"), ("Figures", "figure")],
                                        value="both", label="Search in")
                        organism = gr.Dropdown(organism_choices(sources), value=None, label="Organism",
                                               allow_custom_value=True, filterable=True,
                                               info="Most common first; type to search")
                        with gr.Row():
                            # Text boxes: a Number box shows "0" when empty, which reads as a year
                            year_min = gr.Textbox(label="From year", placeholder="any year", max_lines=1,
                                                  elem_id="year-min")
                            year_max = gr.Textbox(label="To year", placeholder="any year", max_lines=1,
                                                  elem_id="year-max")
                    with gr.Row():
                        # Inactive until there is an answer to copy or a source to download.
                        copy = gr.Button("Copy answer", size="sm", elem_id="copy-answer", interactive=False)
                        conversation_md = gr.DownloadButton("Download conversation", size="sm",
                                                            elem_id="download-conversation", interactive=False)
                        bib = gr.DownloadButton("Download BibTeX", size="sm", elem_id="download-bib",
                                                interactive=False)
                        ris = gr.DownloadButton("Download RIS", size="sm", elem_id="download-ris", interactive=False)
                        clear = gr.Button("Clear", size="sm", elem_id="clear-chat")
                    notes = gr.Textbox(visible=False, elem_id="notes")
                    state = gr.State(None)  # per browser session: two people never share a conversation
                with gr.Column(scale=2, min_width=280):
                    gr.Markdown("### Sources")
                    cards = gr.HTML(SOURCES_PLACEHOLDER, elem_id="sources")
        with gr.Tab("Library"):
            uploads = gr.File(file_count="multiple", label="Add files or a folder as .zip", elem_id="upload")
            gr.Markdown(f"<sub>Reads {FORMATS_NOTE}.</sub>", elem_id="formats")
            ingest_btn = gr.Button("Ingest", variant="primary", elem_id="ingest")
            summary = gr.Markdown(elem_id="ingest-summary")
            report = gr.Dataframe(headers=["file", "status", "records", "chunks", "reason"], label="Per-file report",
                                  interactive=False, elem_id="ingest-report")
            table = gr.Dataframe(table_rows, headers=SOURCE_COLUMNS, label="Indexed sources",
                                 interactive=False, show_search="search", elem_id="sources-table", wrap=True,
                                 max_chars=80, column_widths=["8%", "40%", "7%", "15%", "7%", "23%"])
            with gr.Row():
                victim = gr.Dropdown(source_choices(table_rows), label="Source to delete (type part of its title)",
                                     value=None, filterable=True, elem_id="victim")
                delete_btn = gr.Button("Delete source…", variant="stop", elem_id="delete")
            deleted = gr.Markdown(elem_id="deleted")
            with gr.Row(visible=False) as confirm_row:
                confirm_btn = gr.Button("Yes, delete it", variant="stop", elem_id="confirm-delete")
                cancel_btn = gr.Button("Cancel", elem_id="cancel-delete")
        with gr.Tab("Settings"):
            settings_view = gr.Markdown(settings_markdown(components), elem_id="settings")

        inputs = [question, chatbot, state, kind, organism, year_min, year_max]
        chat_outputs = [chatbot, cards, notes, bib, ris, state, conversation_md, copy]
        question.submit(chat, inputs, chat_outputs, api_name="chat").then(lambda: "", None, question)
        example_set.click(lambda sample: sample[0], example_set, question, api_visibility="private").then(
            chat, inputs, chat_outputs, api_visibility="private").then(lambda: "", None, question)
        page_outputs = [organism, example_set, question, settings_view, chatbot]
        demo.load(page_state, None, page_outputs, api_visibility="private")
        clear.click(clear_chat, None, chat_outputs, api_visibility="private")
        chatbot.clear(clear_chat, None, chat_outputs, api_visibility="private")
        copy.click(None, [notes], None, js=COPY_JS)
        ingest_btn.click(ingest_files, [uploads], [report, summary, table, victim], api_name="ingest").then(
            page_state, None, page_outputs, api_visibility="private")
        delete_btn.click(ask_to_delete, [victim], [deleted, confirm_row], api_visibility="private")
        cancel_btn.click(lambda: ("Nothing deleted.", gr.update(visible=False)), None, [deleted, confirm_row],
                         api_visibility="private")
        confirm_btn.click(delete, [victim], [deleted, table, victim, confirm_row], api_name="delete_source").then(
            page_state, None, page_outputs, api_visibility="private")
        gr.api(ask_json, api_name="ask")
        gr.api(list_sources, api_name="sources")
    return demo


def offered(path: str | None):
    """A download button offering a file, or inactive when there is none."""
    return gr.update(value=path, interactive=path is not None)


def with_note(text: str, note: str | None) -> str:
    """The chat bubble with the answer's note under it (the LLM failed, or sentences were unsupported)."""
    return f"{text}\n\n<sub>⚠ {html.escape(note, quote=False)}</sub>" if note else text


def serve(settings: Settings | None = None, block: bool = True,
          announce: Callable[[str], None] | None = None) -> gr.Blocks:
    """Serve the UI on the configured host and port (127.0.0.1:7860 by default); `announce` gets its URL."""
    settings = settings or Settings()
    server = settings.server
    auth = tuple(server.auth.split(":", 1)) if server.auth else None
    demo = build_app(Components(settings))
    demo.queue(default_concurrency_limit=server.concurrency).launch(
        server_name=server.host, server_port=server.port, auth=auth, theme=THEME, css=CSS,
        max_file_size=f"{server.max_upload_mb}mb", show_error=True, footer_links=[], prevent_thread_lock=True,
        quiet=True)  # Gradio's own start-up lines (share links) mean nothing here
    if announce is not None:
        announce(f"http://{server.host}:{server.port}")
    if block:
        demo.block_thread()
    return demo


if __name__ == "__main__":
    serve()
