"""The `litassist` command line: ingest, ask, chat, serve, eval (sources and delete: assistant/cli_library.py)."""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from litassist.index.errors import LitassistError
from litassist.index.study import SPECIES, STUDY_TYPES

from litassist.assistant.cli_context import Context, ServeUI
from litassist.assistant.cli_fetch import fetch
from litassist.assistant.cli_library import delete, sources
from litassist.assistant.errors import EmptyIndexError, check_question
from litassist.assistant.terminal import (EXIT_PARTIAL, announce_model_export, nothing_ingestible, print_outcome, say,
                                stayed_deleted_line)

if TYPE_CHECKING:  # `--help`, `--version` and usage errors import click alone; each command imports what it uses
    from langchain_core.language_models import BaseChatModel

    from litassist.index.bm25 import SearchFilter
    from litassist.index.store import Store

    from litassist.assistant.conversation import Answerer
    from litassist.assistant.factory import Components
    from litassist.assistant.models import Answer, Focus

EXIT_USAGE = 2
FORMATS = ["text", "markdown", "bibtex", "ris"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), help="Data home (env LITASSIST_HOME).")
@click.option("--chroma-url", default=None, metavar="URL",
              help="Use a `chroma run` server at http://HOST:PORT instead of the embedded database "
                   "(env LITASSIST_STORE__CHROMA_URL).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="litassist", prog_name="litassist")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, chroma_url: str | None, debug: bool) -> None:
    """litassist: cited answers from your papers and pathway figures, offline."""
    ctx.obj = Context(home, chroma_url, serve_ui=ctx.obj)  # --debug is read by main(), before any command runs


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--force", is_flag=True,
              help="Read every file again, even unchanged ones (deleted sources stay deleted).")
@click.pass_obj
def ingest(obj: Context, paths: tuple[Path, ...], as_json: bool, force: bool) -> None:
    """Add files and folders (recursively) to the index."""
    comp = obj.components
    if comp.store.recovered:
        say(f"note: an earlier ingest was interrupted while writing {len(comp.store.recovered)} file(s); "
                   "their partial chunks were removed and they are ingested again", err=True)
    announce_model_export(comp)
    report = comp.ingestor(show_progress=sys.stderr.isatty(), on_outcome=print_outcome, force=force).run(paths)
    if not report.ingestible:
        raise LitassistError(nothing_ingestible(paths, report))
    counts = report.counts()
    if as_json:
        click.echo(json.dumps({**report.model_dump(), "counts": counts}, indent=2))
    partial = len(report.problems) - counts["failed"]
    say(report.counts_line(counts)
               + (f"; {partial} went in with entries skipped" if partial else "")
               + f"; {report.embedded} chunks embedded, {report.reused} reused", err=True)
    if line := stayed_deleted_line(report.stayed_deleted):
        say(line, err=True)
    if report.removed:
        say(f"{len(report.removed)} Zotero item(s) left the index: gone from the library or in its trash", err=True)
    if report.problems:  # a failed file, or a file that went in with some entries skipped
        sys.exit(EXIT_PARTIAL)


def answer_options(func):
    """The options `ask` and `chat` share: depth, filters and the chat model."""
    options = [
        click.option("-k", type=click.IntRange(1, 100), default=None, help="Passages to retrieve."),
        click.option("--kind", type=click.Choice(["paper", "figure"]), default=None, help="Only papers or only figures."),
        click.option("--organism", default=None, help="Only figures annotated with this organism."),
        click.option("--study-type", default=None, metavar="TYPE",
                     help=f"Only sources of this study type: {', '.join(STUDY_TYPES)}."),
        click.option("--species", default=None, metavar="SPECIES",
                     help=f"Only sources about this species: {', '.join(SPECIES)} (or its scientific name)."),
        click.option("--collection", default=None, help="Only items of this Zotero collection (its name)."),
        click.option("--tag", default=None, help="Only items with this Zotero tag."),
        click.option("--year-min", type=int, default=None, help="Only sources from this year on."),
        click.option("--year-max", type=int, default=None, help="Only sources up to this year."),
        click.option("--llm", "llm_spec", default=None, metavar="SPEC",
                     help="Answer with a chat model: openai:MODEL, openai-compatible:MODEL@URL, ollama:MODEL[@URL], "
                          "or 'extractive' (env LITASSIST_LLM; unset: extractive)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def answerer(obj: Context, k: int | None, kind: str | None, organism: str | None, year_min: int | None,
             year_max: int | None, llm: BaseChatModel | None, stream: bool, study_type: str | None = None,
             species: str | None = None, collection: str | None = None, tag: str | None = None) -> Answerer:
    """question -> Answer with the given filters, extractive or through the chat model."""
    from litassist.assistant.answer import answering
    from litassist.assistant.filters import admits_nothing, make_filter, nothing_matches

    comp = obj.components
    if comp.store.count() == 0:
        raise EmptyIndexError(f"nothing is indexed in {obj.settings.home} yet: run 'litassist ingest PATH' first")
    # A reversed year range, and a study type or species outside the vocabulary, are refused.
    where = make_filter(kind, organism, year_min, year_max, study_type, species, collection, tag)
    if admits_nothing(comp.store, where):  # not "the sources do not answer": the filters left nothing to search
        raise LitassistError(nothing_matches(where))
    announce_model_export(comp)
    if llm is None:
        return answering(comp.retriever(where, k), obj.settings.answer)
    return lambda question, focus=None: answer_with_llm(question, comp, where, k, llm, stream, focus)


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text; markdown for notes; bibtex or ris: the cited sources for a reference manager.")
@answer_options
@click.pass_obj
def ask(obj: Context, question: str, as_json: bool, fmt: str, k: int | None, kind: str | None,
        organism: str | None, study_type: str | None, species: str | None, collection: str | None, tag: str | None,
        year_min: int | None, year_max: int | None, llm_spec: str | None) -> None:
    """Answer a question with numbered citations."""
    from litassist.assistant.citations import render_text, to_markdown

    if not question.strip():
        raise click.UsageError("the question is empty")
    check_question(question.strip(), obj.settings.answer.max_question_chars)
    if as_json and fmt != "text":
        raise click.UsageError(f"--json and --format {fmt} cannot be combined")
    llm = obj.components.chat_model(llm_spec)  # built before retrieval, so a bad spec fails fast
    result = answerer(obj, k, kind, organism, year_min, year_max, llm, not as_json, study_type, species, collection,
                      tag)(question)
    if result.note:
        say(f"note: {result.note}", err=True)
    if as_json:
        click.echo(result.model_dump_json(indent=2))
    elif fmt in ("bibtex", "ris"):
        echo_export(result, fmt, obj.components.store)
    else:
        say(to_markdown(result) if fmt == "markdown" else render_text(result))


@cli.command()
@click.option("--json", "as_json", is_flag=True,
              help="Read one question per line on stdin; write one JSON object per line (ask --json's keys plus "
                   "search_query and turn).")
@answer_options
@click.pass_obj
def chat(obj: Context, as_json: bool, k: int | None, kind: str | None, organism: str | None,
         study_type: str | None, species: str | None, collection: str | None, tag: str | None,
         year_min: int | None, year_max: int | None, llm_spec: str | None) -> None:
    """Converse with your library: follow-up questions carry the earlier ones' topic (/help lists commands)."""
    from litassist.assistant.chat import HELP, ChatSession, prompt_reader, run_interactive, run_json
    from litassist.assistant.conversation import Conversation
    from litassist.assistant.llm import first_line

    comp = obj.components
    llm = comp.chat_model(llm_spec)
    answer = answerer(obj, k, kind, organism, year_min, year_max, llm, not as_json, study_type, species, collection,
                      tag)
    rewrite = llm if obj.settings.conversation.llm_rewrite else None
    conversation = Conversation(max_turns=obj.settings.conversation.max_turns,
                                max_question_chars=obj.settings.answer.max_question_chars)
    session = ChatSession(conversation, answer, comp.store,
                          out=click.echo if as_json else say, err=lambda text: say(text, err=True),
                          known=comp.known_name(), llm=rewrite)
    if as_json:
        run_json(session, sys.stdin)
        return
    interactive = sys.stdin.isatty()
    if interactive:
        say(f"litassist chat over {comp.store.count()} chunks in {obj.settings.home}\n{HELP}", err=True)
    read = prompt_reader(obj.settings.home / "chat_history") if interactive else (lambda: next(sys.stdin, None))
    run_interactive(session, read, on_error=lambda exc: say(f"error: {first_line(exc)}", err=True))


def answer_with_llm(question: str, comp: Components, where: SearchFilter, k: int | None, llm: BaseChatModel,
                    stream: bool, focus: Focus | None = None) -> Answer:
    """Answer with the chat model; its tokens go to stderr as they arrive, so stdout holds only the checked answer."""
    from litassist.assistant.answer import answer
    from litassist.assistant.llm import TokenPrinter, model_label

    echo = TokenPrinter(lambda token: say(token, nl=False, err=True))
    result = answer(question, comp.retriever(where, k), llm, comp.settings.answer, focus, [echo] if stream else None)
    if echo.tokens:
        say(err=True)  # end the streamed draft's line
    say(f"answered by: {result.mode}" + (f" ({model_label(llm)})" if result.mode == "llm" else ""), err=True)
    return result


def echo_export(result: Answer, fmt: str, store: Store) -> None:
    """The cited sources as BibTeX or RIS on stdout; an abstention prints only a note on stderr."""
    from litassist.assistant.export import to_bibtex, to_ris
    from litassist.assistant.library import stored_records

    if result.abstained or not result.citations:
        say(f"no sources cited, so no {fmt} to export: {result.answer}", err=True)
        return
    records, missing = stored_records([c.source_id for c in result.citations], store)
    for sid in missing:  # removed from the index while the answer was being made
        say(f"warning: {sid} is no longer indexed; left out", err=True)
    say((to_bibtex if fmt == "bibtex" else to_ris)(records).rstrip("\n"))


@cli.command()
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1; env LITASSIST_SERVER__HOST).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default 7860).")
@click.option("--auth", default=None, metavar="USER:PASSWORD", help="Require a login (env LITASSIST_SERVER__AUTH).")
@click.pass_obj
def serve(obj: Context, host: str | None, port: int | None, auth: str | None) -> None:
    """Serve the chat UI in the browser."""
    from pydantic import ValidationError

    from litassist.assistant.settings import ServerSettings, settings_problem

    if auth is not None and ":" not in auth:
        raise click.BadParameter("expected USER:PASSWORD", param_hint="--auth")
    changes = {k: v for k, v in {"host": host, "port": port, "auth": auth}.items() if v is not None}
    try:  # validated like the environment's values, so `--auth ":"` is refused as LITASSIST_SERVER__AUTH is
        server = ServerSettings.model_validate({**obj.settings.server.model_dump(), **changes})
    except ValidationError as exc:
        raise LitassistError(settings_problem(exc, options=True)) from exc
    settings = obj.settings.model_copy(update={"server": server})
    server = settings.server
    if port_busy(server.host, server.port):
        raise LitassistError(f"port {server.port} is busy (another program, or another litassist, is using it): "
                             f"choose another, e.g. litassist serve --port {server.port + 1} "
                             f"(make run PORT={server.port + 1})")
    if obj.serve_ui is None:
        raise LitassistError("this entry point has no browser UI: run the installed `litassist serve`")
    say("Starting litassist: loading the index and the embedding model …", err=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a plain `kill` still removes the private cache
    obj.serve_ui(settings, lambda url: say(f"litassist is ready at {url}", err=True))


def port_busy(host: str, port: int) -> bool:
    """Whether something already listens on host:port (checked before the slow start, for a one-line error)."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


@cli.command("eval")
@click.argument("dataset", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--split", default="dev", show_default=True, help="Qrels file to score: qrels/SPLIT.tsv.")
@click.option("--retriever", "mode", type=click.Choice(["hybrid", "bm25", "dense"]), default="hybrid",
              show_default=True, help="Rankings to use: fused, BM25 only (no query vectors) or dense only.")
@click.option("--offcorpus", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="File of questions the corpus cannot answer (one per line): also report how often we abstain.")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="TSV of 'question<TAB>source id' lines: score these over DATASET, any ingestible folders or files.")
@click.option("--dialogues", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="JSONL of conversations ({\"id\", \"turns\": [{\"q\", \"gold\"}]}): score first turns and "
                   "follow-ups over DATASET, any ingestible folders or files.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data home; the index is cached under HOME/eval/<corpus hash>-<model>.")
@click.pass_obj
def eval_command(obj: Context, dataset: tuple[Path, ...], split: str, mode: str, offcorpus: Path | None,
                 questions: Path | None, dialogues: Path | None, as_json: bool, home: Path | None) -> None:
    """Score retrieval and citations on a BEIR folder (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv)."""
    from litassist.assistant.evaluate import evaluate, evaluate_conversations, render  # ir-measures loads only here

    settings = obj.settings.model_copy(update={"home": home}) if home else obj.settings
    if dialogues is not None:
        from litassist.assistant.evaluate_dialogues import render_dialogues

        result = evaluate_conversations(list(dataset), dialogues, mode, settings)
        click.echo(json.dumps(result, indent=2) if as_json else render_dialogues(result))
        return
    result = evaluate(list(dataset), split, mode, settings, offcorpus, questions)
    click.echo(json.dumps(result, indent=2) if as_json else render(result))


cli.add_command(sources)
cli.add_command(delete)
cli.add_command(fetch)


def main(serve_ui: ServeUI | None = None) -> None:
    """Console entry point (`serve_ui`: the UI layer's launcher): user errors are one line (exit 1), usage errors 2."""
    debug = "--debug" in sys.argv
    # Loaders report broken entries in our own per-file lines; the parsers' own log lines would repeat them.
    for noisy in ("bibtexparser", "pypdf", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    try:
        cli.main(standalone_mode=False, obj=serve_ui)
    except click.UsageError as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.Abort:
        say("aborted", err=True)
        sys.exit(1)
    except LitassistError as exc:
        if debug:
            raise
        say(f"error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # never a traceback for users; --debug shows it
        if debug:
            raise
        say(f"error: {type(exc).__name__}: {exc} (run with --debug for details)", err=True)
        sys.exit(1)
