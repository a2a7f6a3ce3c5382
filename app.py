"""Gradio front end: builds the assistant's components from settings and wires them into one page."""

from __future__ import annotations

import hashlib
import html
import threading
from pathlib import Path

import assistant  # noqa: F401  (offline switches before gradio, chromadb and transformers load)
import gradio as gr

from index.bm25 import SearchFilter
from index.ingest import Ingestor

from assistant.answer import answer
from assistant.cards import CSS, chat_markdown, source_cards
from assistant.citations import body_text, to_markdown
from assistant.export import to_bibtex, to_ris
from assistant.factory import Components
from assistant.library import SOURCE_COLUMNS, save_uploads, source_rows
from assistant.settings import Settings
from assistant.suggest import example_questions
from assistant.support import marked

EMPTY = "**No documents yet** — add some in the **Library** tab."
WELCOME = "Ask a question about your papers and pathway figures. Every sentence of the answer is cited."
# System fonts only: the default theme would fetch web fonts, and the product makes no outside requests.
THEME = gr.themes.Soft(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def filters(kind: str, organism: str | None, year_min: float | None, year_max: float | None) -> SearchFilter:
    """The UI's filter widgets as a SearchFilter."""
    return SearchFilter(kind=None if kind == "both" else kind, organism=organism or None,
                        year_min=int(year_min) if year_min else None, year_max=int(year_max) if year_max else None)


def build_app(components: Components) -> gr.Blocks:
    """The whole page: Chat, Library and Settings tabs."""
    settings, store = components.settings, components.store
    llm = components.chat_model()  # None unless LITASSIST_LLM is set: then every answer goes through it
    ingest_lock = threading.Lock()  # one ingest at a time; chats keep reading meanwhile

    def sync() -> None:
        """Chroma server mode: take in what other machines wrote since the last question."""
        if settings.store.chroma_url and not ingest_lock.locked():  # our own ingest rebuilds BM25 when it ends
            store.refresh()

    def ask_json(question: str, kind: str = "both", organism: str = "", year_min: float = 0, year_max: float = 0) -> dict:
        """API: one question -> the same JSON as `litassist ask --json`."""
        sync()
        retriever = components.retriever(filters(kind, organism, year_min, year_max))
        return answer(question, retriever, llm=llm, settings=settings.answer).model_dump()

    def chat(message: str, history: list, kind: str, organism: str, year_min: float, year_max: float):
        """Answer in the chat, streamed sentence by sentence, with cards and notes beside it."""
        history = history + [{"role": "user", "content": html.escape(message, quote=False)}]
        if not message.strip() or store.count() == 0:
            yield history + [{"role": "assistant", "content": EMPTY if store.count() == 0 else WELCOME}], "", "", None, None
            return
        sync()
        result = answer(message, components.retriever(filters(kind, organism, year_min, year_max)), llm=llm,
                        settings=settings.answer)
        records = {c.source_id: store.record(c.source_id) for c in result.citations}
        cards = source_cards(result, records)
        for n in range(1, len(result.sentences)):
            partial = result.model_copy(update={"answer": body_text([marked(s) for s in result.sentences[:n]]) + " …", "citations": []})
            yield history + [{"role": "assistant", "content": chat_markdown(partial)}], cards, "", None, None
        bib, ris = export_files(result, records)
        reply = with_note(chat_markdown(result), result.note)
        yield history + [{"role": "assistant", "content": reply}], cards, to_markdown(result), bib, ris

    def export_files(result, records) -> tuple[str | None, str | None]:
        """BibTeX and RIS files of the cited sources, for the download buttons."""
        if not result.citations:
            return None, None
        cited = [records[c.source_id] for c in result.citations]
        folder = Path(settings.home) / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / ("citations-" + hashlib.sha1(result.question.encode()).hexdigest()[:10])
        stem.with_suffix(".bib").write_text(to_bibtex(cited), encoding="utf-8")
        stem.with_suffix(".ris").write_text(to_ris(cited), encoding="utf-8")
        return str(stem.with_suffix(".bib")), str(stem.with_suffix(".ris"))

    def ingest_files(files: list[str] | None, progress=gr.Progress(track_tqdm=True)):
        """Save uploads under the data home and ingest them with a progress bar."""
        if not files:
            return [], "Choose files or a .zip first.", source_rows(store), gr.update()
        saved, refused = save_uploads(files, settings.home, settings.server.max_upload_mb)
        with ingest_lock:
            ingestor = Ingestor(store, components.encoder, max_tokens=settings.chunking.max_tokens, show_progress=True)
            report = ingestor.run(saved)
        rows = [[Path(o.file).name, o.status, o.reason or ""] for o in report.outcomes]
        rows += [[r.split(":")[0], "failed", r.split(": ", 1)[1]] for r in refused]
        counts = report.counts()
        summary = ", ".join(f"{n} {s}" for s, n in counts.items()) + f" · {store.count()} chunks indexed"
        table_rows = source_rows(store)  # once: after a write it is rebuilt from every chunk's metadata
        return rows, summary, table_rows, gr.update(choices=[r[-1] for r in table_rows])

    def list_sources() -> list[dict]:
        """API: every indexed source with its kind, title, file and chunk count."""
        return store.sources()

    def delete(source_id: str | None):
        """Remove one source from the index."""
        removed = store.delete_source(source_id) if source_id else 0
        note = f"Deleted {source_id} ({removed} chunks)." if removed else "Nothing deleted."
        table_rows = source_rows(store)
        return note, table_rows, gr.update(choices=[r[-1] for r in table_rows], value=None)

    # The source list is built once for both widgets (saved with BM25; without it, reading every chunk's metadata
    # takes 9-17 s at 100k chunks); the organism list comes from the filter facts BM25 already holds in memory.
    table_rows = source_rows(store)
    organisms = sorted({o for facts in store.bm25.facts for o in facts.organisms})
    with gr.Blocks(title="litassist") as demo:
        gr.Markdown("## litassist — cited answers from your papers and pathway figures")
        with gr.Tab("Chat"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=320):
                    chatbot = gr.Chatbot(label="Conversation", show_label=False, height=600, elem_id="chat",
                                         placeholder=EMPTY if store.count() == 0 else WELCOME)
                    question = gr.Textbox(placeholder="e.g. How does HER2 affect CXCR4?", show_label=False,
                                          submit_btn="Ask", elem_id="question")
                    gr.Examples([[q] for q in example_questions(store)] or [["How does HER2 affect CXCR4?"]],
                                inputs=[question], label="Example questions")
                    with gr.Accordion("Filters", open=False):
                        kind = gr.Radio(["both", "paper", "figure"], value="both", label="Kind")
                        organism = gr.Dropdown(organisms, value=None, label="Organism", allow_custom_value=True)
                        with gr.Row():
                            year_min = gr.Number(label="From year", precision=0)
                            year_max = gr.Number(label="To year", precision=0)
                    with gr.Row():
                        copy = gr.Button("Copy answer", size="sm", elem_id="copy-answer")
                        bib = gr.DownloadButton("Download BibTeX", size="sm", elem_id="download-bib")
                        ris = gr.DownloadButton("Download RIS", size="sm", elem_id="download-ris")
                    notes = gr.Textbox(visible=False, elem_id="notes")
                with gr.Column(scale=2, min_width=280):
                    gr.Markdown("### Sources")
                    cards = gr.HTML('<div class="la-empty">Cited sources appear here.</div>', elem_id="sources")
        with gr.Tab("Library"):
            uploads = gr.File(file_count="multiple", label="Add files or a folder as .zip", elem_id="upload")
            ingest_btn = gr.Button("Ingest", variant="primary", elem_id="ingest")
            summary = gr.Markdown(elem_id="ingest-summary")
            report = gr.Dataframe(headers=["file", "status", "reason"], label="Per-file report", interactive=False)
            table = gr.Dataframe(table_rows, headers=SOURCE_COLUMNS, label="Indexed sources",
                                 interactive=False, show_search="search", elem_id="sources-table", wrap=True,
                                 max_chars=80, column_widths=["8%", "40%", "7%", "15%", "7%", "23%"])
            with gr.Row():
                victim = gr.Dropdown([r[-1] for r in table_rows], label="Source to delete", value=None)
                delete_btn = gr.Button("Delete source", variant="stop")
            deleted = gr.Markdown()
        with gr.Tab("Settings"):
            gr.Markdown(settings_markdown(components))

        inputs = [question, chatbot, kind, organism, year_min, year_max]
        question.submit(chat, inputs, [chatbot, cards, notes, bib, ris], api_name="chat").then(lambda: "", None, question)
        copy.click(None, [notes], None, js="(text) => { navigator.clipboard.writeText(text || ''); }")
        ingest_btn.click(ingest_files, [uploads], [report, summary, table, victim], api_name="ingest")
        delete_btn.click(delete, [victim], [deleted, table, victim], api_name="delete_source")
        gr.api(ask_json, api_name="ask")
        gr.api(list_sources, api_name="sources")
    return demo


def with_note(text: str, note: str | None) -> str:
    """The chat bubble with the answer's note under it (the LLM failed, or sentences were unsupported)."""
    return f"{text}\n\n<sub>⚠ {html.escape(note, quote=False)}</sub>" if note else text


def settings_markdown(components: Components) -> str:
    """The settings a user may want to know, read-only."""
    s = components.settings
    mode = f"LLM ({s.llm})" if s.llm else "extractive (no LLM, offline)"
    vectors = f"Chroma server at {s.store.chroma_url}" if s.store.chroma_url else "embedded Chroma (data home)"
    return (f"| setting | value |\n|---|---|\n| embedding model | `{components.encoder.name}` ({s.embedding.device}) |\n"
            f"| answer mode | {mode} |\n| data home | `{s.home}` |\n| vector store | {vectors} |\n"
            f"| passages per answer | {s.retrieval.k} |\n"
            f"| chunks indexed | {components.store.count()} |\n\nChange settings with `LITASSIST_*` environment "
            "variables (see the README) and restart.")


def serve(settings: Settings | None = None, block: bool = True) -> gr.Blocks:
    """Serve the UI on the configured host and port (127.0.0.1:7860 by default)."""
    settings = settings or Settings()
    server = settings.server
    auth = tuple(server.auth.split(":", 1)) if server.auth else None
    demo = build_app(Components(settings))
    demo.queue(default_concurrency_limit=server.concurrency).launch(
        server_name=server.host, server_port=server.port, auth=auth, theme=THEME, css=CSS,
        max_file_size=f"{server.max_upload_mb}mb", show_error=True, footer_links=[], prevent_thread_lock=not block,
        quiet=not block)
    return demo


if __name__ == "__main__":
    serve()
