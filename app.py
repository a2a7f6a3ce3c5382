"""Gradio front end: ChatApp holds the assistant's components and handles one page's events; serve() runs it."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial

from litassist.ui_import import prepare_gradio_import

prepare_gradio_import()  # before gradio loads: no analytics, no type-stub regeneration (half its import time)
import gradio as gr
from starlette.middleware import Middleware

from litassist.index.bm25 import SearchFilter

from litassist.assistant.answer import answering
from litassist.assistant.cards import (COPY_JS, CSS, SOURCES_PLACEHOLDER, ChatState, ServedFiles, chat_markdown,
                                      source_cards, with_note)
from litassist.assistant.citations import md_literal, to_markdown
from litassist.assistant.conversation import Conversation, Turn, ask, replay
from litassist.assistant.errors import QuestionTooLongError
from litassist.assistant.factory import Components
from litassist.assistant.filters import FilterError, admits_nothing, describe, from_widgets, nothing_matches
from litassist.assistant.guard import Guard
from litassist.assistant.ingest_stream import run_beside
from litassist.assistant.library import (FORMATS_NOTE, SOURCE_COLUMNS, conversation_downloads, facet_choices,
                               organism_choices, private_dir, settings_markdown, shown_sources,
                               stored_records)
from litassist.assistant.llm import TokenPrinter, model_label
from litassist.assistant.settings import Settings, load_settings
from litassist.assistant.suggest import example_questions
from litassist.assistant.upload_jobs import resume
from litassist.assistant.uploads import upload_dir
from litassist.library_ui import deletion_box, ingest_files, listing_for

EMPTY = "**No documents yet** — add some in the **Library** tab."
WELCOME = "Ask a question about your papers and pathway figures. Every sentence of the answer is cited."
DEFAULT_EXAMPLE = "How does HER2 affect CXCR4?"  # only while nothing is indexed to draw examples from
# System fonts only: the default theme would fetch web fonts, and the product makes no outside requests.
THEME = gr.themes.Soft(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def log(line: str) -> None:
    """A line for the server's log (its standard error)."""
    print(line, file=sys.stderr, flush=True)


class ChatApp:
    """The page's handlers over the components it is given; build() lays the page out and wires them."""

    def __init__(self, components: Components, say: Callable[[str], None] = log) -> None:
        """Hold the components; first finish what a server killed mid-ingest left (`say` logs it)."""
        self.components, self.settings, self.store = components, components.settings, components.store
        self.resumed = resume(components, say)
        self.limit = self.settings.answer.max_question_chars
        self.llm = components.chat_model()  # None unless LITASSIST_LLM is set: then every answer goes through it
        self.rewrite = self.llm if self.settings.conversation.llm_rewrite else None
        self.ingest_lock = threading.Lock()  # one ingest at a time; chats keep reading meanwhile
        self.exports = private_dir() / "exports"
        self.drawn: dict[str, list[str]] = {}  # example questions by index generation (drawing scans chunks)
        self.demo: gr.Blocks | None = None

    def sync(self) -> None:
        """Take in what other processes or machines wrote since the last question (a CLI ingest, another server)."""
        if not self.ingest_lock.locked():  # our own ingest rebuilds BM25 when it ends
            self.store.refresh()

    def known(self, word: str) -> bool:
        """Whether a word is a known gene name (the synonym table loads on first use)."""
        return self.components.known_name()(word)

    def ask_json(self, question: str, kind: str = "both", organism: str = "", year_min: float = 0,
                 year_max: float = 0, history: list[str] | None = None, study_type: str = "",
                 species: str = "") -> dict:
        """API: one question (with the conversation's earlier questions, if any) -> `litassist ask --json` plus
        search_query and turn."""
        self.sync()
        try:
            conversation = replay(list(history or []), self.known, self.settings.conversation.max_turns, self.limit)
            where = from_widgets(kind, organism, year_min, year_max, study_type, species)
            answerer = answering(self.components.retriever(where), self.settings.answer, self.llm)
            return ask(conversation, question, answerer, self.known, self.rewrite).to_json()
        except QuestionTooLongError as exc:
            raise gr.Error(str(exc)) from None

    def refusal(self, message: str, *filters: str | float | None) -> str | None:
        """Why the question gets no answer (too long, nothing indexed, bad or empty filters), as the chat shows it."""
        if len(message.strip()) > self.limit:  # refused before any work: a pasted document would stall every chat
            refusal = str(QuestionTooLongError(len(message.strip()), self.limit))
            return md_literal(refusal[:1].upper() + refusal[1:])
        if self.store.count() == 0:
            return EMPTY
        self.sync()
        try:
            where = from_widgets(*filters)
        except FilterError as exc:
            return f"The filters cannot be used: {exc}."
        return md_literal(nothing_matches(where)) if admits_nothing(self.store, where) else None

    def chat(self, message: str, history: list, state: ChatState | None, kind: str, organism: str, year_min: float,
             year_max: float, study_type: str | None = None, species: str | None = None):
        """Answer in the chat (with a chat model, its draft shows as its tokens arrive); every answer keeps its own
        cards."""
        state = state or ChatState(Conversation(self.settings.conversation.max_turns, self.limit))
        if not message.strip():  # nothing asked: the chat, its sources and downloads stay as they are
            yield history, *unchanged(state)
            return
        shown = message if len(message) <= self.limit else f"{message[:200]} … ({len(message):,} characters)"
        history = history + [{"role": "user", "content": md_literal(shown)}]
        filters = (kind, organism, year_min, year_max, study_type, species)
        refusal = self.refusal(message, *filters)
        if refusal is not None:
            yield history + [{"role": "assistant", "content": refusal}], *unchanged(state)
            return
        where = from_widgets(*filters)
        for step in self.answers(state.conversation, message, where):
            if isinstance(step, Turn):
                yield self.finished(history, state, step, where)
            else:  # the model's draft so far, before the citation check
                yield history + [{"role": "assistant", "content": md_literal(step) + " …"}], *unchanged(state)

    def answers(self, conversation: Conversation, message: str, where: SearchFilter) -> Iterator[str | Turn]:
        """The finished turn; with a chat model, first its draft, growing as the tokens arrive."""
        retriever = self.components.retriever(where)
        if self.llm is None:
            yield ask(conversation, message, answering(retriever, self.settings.answer), self.known, self.rewrite)
            return

        def run(tell: Callable[[str], None]) -> Turn:
            draft: list[str] = []

            def token(text: str) -> None:
                draft.append(text)
                tell("".join(draft))

            answerer = answering(retriever, self.settings.answer, self.llm, [TokenPrinter(token)])
            return ask(conversation, message, answerer, self.known, self.rewrite)

        yield from run_beside(run)

    def finished(self, history: list, state: ChatState, turn: Turn, where: SearchFilter) -> tuple:
        """The chat outputs for a finished turn: the answer, its cards, notes and downloads."""
        result = turn.answer
        records, _ = stored_records([c.source_id for c in result.citations + result.closest], self.store)
        pdfs = ServedFiles(upload_dir(self.settings.home), self.demo.allowed_paths if self.demo else [])
        cards = source_cards(result, {r.source_id: r for r in records}, turn.turn, turn.search_query, pdfs)
        state.add(turn, cards)  # a source deleted meanwhile has a card saying so
        searched = turn.search_query if turn.shows_query else None
        reply = with_note(chat_markdown(result, turn.turn, searched, model_label(self.llm) if self.llm else None),
                          result.note)
        if not where.empty and not result.hint:  # an abstention's hint names the filters already
            reply += f"\n\n<sub>Filters: {md_literal(describe(where))}</sub>"
        bib, ris, notes_file = conversation_downloads(state.conversation.turns, self.store, self.exports)
        return (history + [{"role": "assistant", "content": reply}], state.html(), to_markdown(result), offered(bib),
                offered(ris), state, offered(notes_file), gr.update(interactive=not result.abstained))

    def list_sources(self) -> list[dict]:
        """API: every indexed source with its kind, title, file and chunk count."""
        return [source.as_dict() for source in self.store.sources()]

    def examples_now(self) -> list[str]:
        """Example questions drawn from the index, worked out once per state of the index."""
        generation = self.store.generation
        if generation not in self.drawn:
            self.drawn.clear()
            self.drawn[generation] = example_questions(self.store) or [DEFAULT_EXAMPLE]
        return self.drawn[generation]

    def page_state(self):
        """What the page shows about the index, read when a page loads and after every change to the index."""
        sources = self.store.sources()
        questions = self.examples_now()
        return (gr.update(choices=organism_choices(sources)), gr.update(samples=[[q] for q in questions]),
                gr.update(placeholder=f"e.g. {questions[0]}"), settings_markdown(self.components),
                gr.update(placeholder=EMPTY if not sources else WELCOME),
                gr.update(choices=facet_choices(sources, "study_types")),
                gr.update(choices=facet_choices(sources, "species")))

    def build(self) -> gr.Blocks:
        """The whole page: Chat, Library and Settings tabs, wired to the handlers."""
        # The source list is built once for both widgets (saved with BM25; without it, reading every chunk's metadata
        # takes 9-17 s at 100k chunks).
        sources = self.store.sources()
        table_rows, listed_note = shown_sources(sources)
        examples = self.examples_now()
        with gr.Blocks(title="litassist") as demo:
            gr.Markdown("## litassist — cited answers from your papers and pathway figures")
            with gr.Tab("Chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chatbot = gr.Chatbot(label="Conversation", show_label=False, height=600, elem_id="chat",
                                             placeholder=EMPTY if self.store.count() == 0 else WELCOME)
                        question = gr.Textbox(placeholder=f"e.g. {examples[0]}", show_label=False,
                                              submit_btn="Ask", elem_id="question")
                        example_set = gr.Dataset(components=[question], samples=[[q] for q in examples],
                                                 label="Example questions (click to ask)", elem_id="examples")
                        with gr.Accordion("Filters", open=False):
                            kind = gr.Radio([("Papers and figures", "both"), ("Papers", "paper"),
                                             ("Figures", "figure")], value="both", label="Search in")
                            organism = gr.Dropdown(organism_choices(sources), value=None, label="Organism",
                                                   allow_custom_value=True, filterable=True,
                                                   info="Most common first; type to search")
                            with gr.Row():
                                study_type = gr.Dropdown(facet_choices(sources, "study_types"), value=None,
                                                         label="Study type", elem_id="study-type",
                                                         info="From PubMed publication types and JATS")
                                species = gr.Dropdown(facet_choices(sources, "species"), value=None,
                                                      label="Species", elem_id="species",
                                                      info="From MeSH check tags and figures")
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
                            ris = gr.DownloadButton("Download RIS", size="sm", elem_id="download-ris",
                                                    interactive=False)
                            clear = gr.Button("Clear", size="sm", elem_id="clear-chat")
                        notes = gr.Textbox(visible=False, elem_id="notes")
                        state = gr.State(None)  # per browser session: two people never share a conversation
                    with gr.Column(scale=2, min_width=280):
                        gr.Markdown("### Sources")
                        cards = gr.HTML(SOURCES_PLACEHOLDER, elem_id="sources")
            with gr.Tab("Library"):
                gr.Markdown(f"⚠ {md_literal(self.resumed or '')}", visible=self.resumed is not None,
                            elem_id="recovery-note")
                uploads = gr.File(file_count="multiple", label="Add files or a folder as .zip", elem_id="upload")
                gr.Markdown(f"<sub>Reads {FORMATS_NOTE}.</sub>", elem_id="formats")
                ingest_btn = gr.Button("Ingest", variant="primary", elem_id="ingest")
                summary = gr.HTML(elem_id="ingest-summary")  # the ingest's progress, then its counts
                report = gr.Dataframe(headers=["file", "status", "records", "chunks", "reason"],
                                      label="Per-file report", interactive=False, elem_id="ingest-report")
                find = gr.Textbox(label="Find a source", placeholder="part of a title, an id or an organism",
                                  max_lines=1, elem_id="find-source")
                listed = gr.Markdown(listed_note, elem_id="sources-listed")
                table = gr.Dataframe(table_rows, headers=SOURCE_COLUMNS, label="Indexed sources",
                                     interactive=False, show_search="search", elem_id="sources-table", wrap=True,
                                     max_chars=80, column_widths=["8%", "40%", "7%", "15%", "7%", "23%"])
                box = deletion_box(self.components, self.ingest_lock, table, table_rows)
                listing = [table, box.victim, listed]
                view = partial(listing_for, self.store)
                find.change(view, [find], listing, api_visibility="private", show_progress="hidden")
            with gr.Tab("Settings"):
                settings_view = gr.Markdown(settings_markdown(self.components), elem_id="settings")

            inputs = [question, chatbot, state, kind, organism, year_min, year_max, study_type, species]
            chat_outputs = [chatbot, cards, notes, bib, ris, state, conversation_md, copy]
            question.submit(self.chat, inputs, chat_outputs, api_name="chat").then(lambda: "", None, question)
            example_set.click(lambda sample: sample[0], example_set, question, api_visibility="private").then(
                self.chat, inputs, chat_outputs, api_visibility="private").then(lambda: "", None, question)
            page_outputs = [organism, example_set, question, settings_view, chatbot, study_type, species]
            demo.load(self.page_state, None, page_outputs, api_visibility="private")
            clear.click(clear_chat, None, chat_outputs, api_visibility="private")
            chatbot.clear(clear_chat, None, chat_outputs, api_visibility="private")
            copy.click(None, [notes], None, js=COPY_JS)
            # Gradio would draw its own progress over every output: the summary shows the one display instead.
            ingest_btn.click(partial(ingest_files, self.components, self.ingest_lock), [uploads],
                             [report, summary, table, box.victim], api_name="ingest", show_progress="hidden").then(
                self.page_state, None, page_outputs, api_visibility="private").then(
                view, [find], listing, api_visibility="private", show_progress="hidden")
            for change in box.changes:  # a deletion or restore: the page's state follows the index
                change.then(self.page_state, None, page_outputs, api_visibility="private").then(
                    view, [find], listing, api_visibility="private", show_progress="hidden")
            gr.api(self.ask_json, api_name="ask")
            gr.api(self.list_sources, api_name="sources")
        self.demo = demo
        return demo


def unchanged(state: ChatState) -> tuple:
    """Chat outputs other than the chat itself, left as they are."""
    return gr.update(), gr.update(), gr.update(), gr.update(), state, gr.update(), gr.update()


def clear_chat():
    """Empty the chat, its sources, notes and downloads together."""
    off = gr.update(value=None, interactive=False)
    return [], SOURCES_PLACEHOLDER, "", off, off, None, off, gr.update(interactive=False)


def offered(path: str | None):
    """A download button offering a file, or inactive when there is none."""
    return gr.update(value=path, interactive=path is not None)


def serve(settings: Settings | None = None, block: bool = True,
          announce: Callable[[str], None] | None = None) -> gr.Blocks:
    """Serve the UI on the configured host and port (127.0.0.1:7860 by default); `announce` gets its URL."""
    settings = settings or load_settings()
    server = settings.server
    auth = tuple(server.auth.split(":", 1)) if server.auth else None
    demo = ChatApp(Components(settings), say=announce or log).build()
    demo.queue(default_concurrency_limit=server.concurrency).launch(
        server_name=server.host, server_port=server.port, auth=auth, theme=THEME, css=CSS,
        max_file_size=f"{server.max_upload_mb}mb", show_error=True, footer_links=[], prevent_thread_lock=True,
        app_kwargs={"middleware": [Middleware(Guard)]},  # same origin only, Lax cookies, login back-off, no URLs
        quiet=True)  # Gradio's own start-up lines (share links) mean nothing here
    if announce is not None:
        announce(f"http://{server.host}:{server.port}")
    if block:
        demo.block_thread()
    return demo


if __name__ == "__main__":
    serve()
