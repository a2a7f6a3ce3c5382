"""`litassist chat`: a conversation on the command line, typed at a prompt or read one question per line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litassist.index.store import Store

from litassist.assistant.citations import render_text
from litassist.assistant.conversation import SEARCHED_FOR, Answerer, Conversation, Turn, ask, cited_ids, merged_citations, notes_markdown
from litassist.assistant.export import to_bibtex, to_ris
from litassist.assistant.library import stored_records

HELP = """Ask a question, then follow it up ("and its degradation?", "what about in mice?").
  /export FILE   save the conversation: FILE.md (notes with one reference list), FILE.bib or FILE.ris
  /sources       the sources cited so far, numbered as in the notes
  /new           start a new conversation
  /help          this text
  /quit          leave (Ctrl-D too)"""
EXPORTS = {".md": "markdown", ".markdown": "markdown", ".txt": "markdown", ".bib": "bibtex", ".ris": "ris"}


@dataclass
class ChatSession:
    """One conversation driven by lines of input; what it prints goes through `out` (answers) and `err` (notes)."""

    conversation: Conversation
    answer: Answerer
    store: Store
    out: Callable[[str], None]
    err: Callable[[str], None]
    known: Callable[[str], bool] = lambda _: False
    llm: Any = None

    def question(self, text: str) -> Turn:
        """Answer one question in the conversation."""
        return ask(self.conversation, text, self.answer, self.known, self.llm)

    def show(self, turn: Turn) -> None:
        """The answer as text; what was searched for and any note on stderr."""
        if turn.shows_query and not turn.answer.hint:  # an abstention's hint already says what was searched for
            self.err(f"({SEARCHED_FOR.lower()}: {turn.search_query})")
        if turn.answer.note:
            self.err(f"note: {turn.answer.note}")
        self.out(render_text(turn.answer))

    def command(self, line: str) -> bool:
        """Run a /command; False means leave."""
        name, _, arg = line[1:].strip().partition(" ")
        if name in ("quit", "exit", "q"):
            return False
        if name == "new":
            self.conversation.clear()
            self.err("new conversation")
        elif name == "sources":
            self.sources()
        elif name == "export":
            self.export(arg.strip())
        elif name in ("help", "?", ""):
            self.err(HELP)
        else:
            self.err(f"unknown command /{name}; /help lists them")
        return True

    def sources(self) -> None:
        """The conversation's merged reference list."""
        cited = merged_citations(self.conversation.turns)
        self.out("\n".join(f"[{c.n}] {c.reference} ({c.kind})" for c in cited) or "no sources cited yet")

    def export(self, target: str) -> None:
        """Write the conversation as Markdown notes, or its cited sources as BibTeX or RIS."""
        if not target:
            self.err("usage: /export FILE.md | FILE.bib | FILE.ris")
            return
        path = Path(target).expanduser()
        fmt = EXPORTS.get(path.suffix.lower())
        if fmt is None:
            self.err(f"cannot export to '{path.name}': use a .md, .bib or .ris file name")
            return
        turns = self.conversation.turns
        if fmt == "markdown":
            text = notes_markdown(turns)
        else:
            records, missing = stored_records(cited_ids(turns), self.store)
            for sid in missing:
                self.err(f"warning: {sid} is no longer indexed; left out")
            text = (to_bibtex if fmt == "bibtex" else to_ris)(records)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.err(f"cannot write {path}: {exc.strerror or exc}")
            return
        self.err(f"saved {len(turns)} turn(s) to {path}")


def run_json(session: ChatSession, lines: Iterable[str]) -> None:
    """One JSON object per question line, the conversation carried across lines."""
    for line in lines:
        if line.strip():
            session.out(json.dumps(session.question(line).to_json(), ensure_ascii=False))


def run_interactive(session: ChatSession, read: Callable[[], str | None], on_error: Callable[[Exception], None]) -> None:
    """Prompt, answer, repeat; /commands as in HELP; an error in one turn does not end the chat."""
    while (line := read()) is not None:
        line = line.strip()
        if not line:
            continue
        if line.startswith("/"):
            if not session.command(line):
                return
            continue
        try:
            session.show(session.question(line))
        except KeyboardInterrupt:  # Ctrl-C stops this answer, not the chat
            session.err("interrupted")
        except Exception as exc:  # a failing turn is reported; the conversation goes on
            on_error(exc)


def prompt_reader(history_file: Path | None) -> Callable[[], str | None]:
    """input() with line editing and history (arrow keys) where readline exists; None at end of input."""
    try:
        import readline
    except ImportError:  # e.g. Windows without pyreadline: plain input still works
        readline = None
    if readline is not None and history_file is not None:
        try:
            readline.read_history_file(history_file)
        except OSError:
            pass

    def read() -> str | None:
        try:
            line = input("> ")
        except EOFError:
            return None
        except KeyboardInterrupt:  # as in a shell: drop the line being typed, prompt again
            print()
            return ""
        if readline is not None and history_file is not None:
            try:
                readline.write_history_file(history_file)
            except OSError:  # a read-only data home: history is a nicety
                pass
        return line

    return read
