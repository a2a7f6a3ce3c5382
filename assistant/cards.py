"""HTML source cards and chat Markdown for the UI. Every document field is escaped: text, never markup."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from litassist.index.records import Figure, Paper, Record

from litassist.assistant import badges
from litassist.assistant.citations import CLOSEST, authors_line, journal_line, md_literal, md_markers, page_label, paper_url
from litassist.assistant.conversation import SEARCHED_FOR, Conversation, Turn
from litassist.assistant.terms import QUESTION_WORDS, mentions, question_terms
from litassist.assistant.models import Answer, Citation

SOURCES_PLACEHOLDER = '<div class="la-empty">Cited sources appear here.</div>'
CHIPS_SHOWN = 12  # gene chips shown before the rest fold under "+N more"
CAPTION_EXCERPT = 320  # characters of a figure caption shown on its card
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]+")


def safe_url(url: str | None) -> str | None:
    """Only http(s) links: a 'javascript:' figlink in a hostile record must not become a link."""
    return url if url and re.match(r"https?://", url) else None


def link(url: str | None, label: str) -> str:
    """An escaped link that opens in a new tab, or '' when the URL is unusable."""
    url = safe_url(url)
    if not url:
        return ""
    return f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{html.escape(label)}</a>'


FileLinker = Callable[[str], "str | None"]  # a stored file path -> the URL the UI serves it at, or None


def served_pdf(path: str, folder: Path) -> Path | None:
    """The PDF at `path` when it lies inside `folder` (the uploads the UI may serve), else None: nothing outside it,
    and no other format (an uploaded XML file served from the page's origin could run script)."""
    file = Path(path).resolve()
    inside = file.is_relative_to(folder.resolve()) and file.suffix.lower() == ".pdf" and file.is_file()
    return file if inside else None


def file_url(file: Path) -> str:
    """Gradio's URL (relative to the page) for a file it is allowed to serve."""
    return f"gradio_api/file={quote(str(file))}"


@dataclass
class ServedFiles:
    """Uploaded PDFs as links: each file is added to Gradio's allowed paths when a card first links it."""

    folder: Path
    allowed: list[str]  # the app's allowed_paths, which Gradio's file route reads on every request

    def __call__(self, path: str) -> str | None:
        """The URL of an uploaded PDF, or None for any other file."""
        file = served_pdf(path, self.folder)
        if file is None:
            return None
        if str(file) not in self.allowed:
            self.allowed.append(str(file))
        return file_url(file)


def file_anchor(href: str, label: str) -> str:
    """A link to a file the UI serves (built by us, so not filtered like a record's own URL)."""
    return (f'<a class="la-file" href="{html.escape(href, quote=True)}" target="_blank" rel="noopener noreferrer">'
            f'{html.escape(label)}</a>')


def pdf_lines(c: Citation, file_link: FileLinker | None) -> tuple[str, str]:
    """A PDF citation's meta line ('p. 4 · paper.pdf') and its link, when the UI serves the file."""
    if not c.pages:
        return "", ""
    name = Path(c.file).name if c.file else ""
    href = file_link(c.file) if c.file and file_link else None
    anchor = file_anchor(f"{href}#page={c.pages[0]}", f"Open PDF at {page_label(c.pages[:1])}") if href else ""
    return meta_line(" · ".join(p for p in (page_label(c.pages), name) if p)), anchor


def highlight_terms(question: str) -> list[str]:
    """Words of the question worth marking: its entities (genes), else its content words."""
    terms = question_terms(question)
    if terms.entities:  # marking 'cells' and 'cancer' too would drown the genes the reader looks for
        return terms.entities
    return list(dict.fromkeys(w for w in _WORD.findall(question) if w.lower() not in QUESTION_WORDS and len(w) > 3))


def highlight(text: str, terms: list[str]) -> str:
    """Escape text, then wrap the question's terms in <mark>."""
    escaped = html.escape(text)
    for term in sorted(terms, key=len, reverse=True):
        pattern = rf"(?<![A-Za-z0-9>])({re.escape(html.escape(term))})(?![A-Za-z0-9])"
        escaped = re.sub(pattern, r"<mark>\1</mark>", escaped, flags=re.IGNORECASE)
    return escaped


def meta_line(text: str) -> str:
    """A grey metadata line, or nothing when the field is unknown."""
    return f'<div class="la-meta">{html.escape(text)}</div>' if text else ""


def anchor(turn: int, n: int) -> str:
    """The id of a card: turn and citation number, so every answer's [n] keeps leading to its own card."""
    return f"src-{turn}-{n}"


def card_open(c: Citation, kind: str, turn: int) -> str:
    """A card's opening tag and badge: '[n] Paper' with the anchor its marker links to, or, for a closest source
    shown under an abstention, 'Not an answer · Paper' with no number or anchor."""
    if c.answers:
        return (f'<article class="la-card la-{kind.lower()}" id="{anchor(turn, c.n)}"><header>'
                f'<span class="la-badge">[{c.n}] {kind}</span>')
    return (f'<article class="la-card la-{kind.lower()} la-closest"><header>'
            f'<span class="la-badge">Not an answer · {kind}</span>')


def paper_card(c: Citation, paper: Paper, terms: list[str], turn: int = 1, file_link: FileLinker | None = None) -> str:
    """A paper: title (or journal line), authors, journal and year, a PDF's pages and file, DOI/PMID links, the quote."""
    pages, pdf = pdf_lines(c, file_link)
    links = " ".join(filter(None, [
        link(f"https://doi.org/{paper.doi}" if paper.doi else None, f"DOI {paper.doi}"),
        link(f"https://pubmed.ncbi.nlm.nih.gov/{paper.pmid}/" if paper.pmid else None, f"PMID {paper.pmid}"),
        link(paper_url(paper) if not (paper.doi or paper.pmid) else None, "Link"), pdf,
    ]))
    return (
        f'{card_open(c, "Paper", turn)}{badges.flag(c)}'
        f'<span class="la-title">{html.escape(paper.title or journal_line(paper) or paper.source_id)}</span></header>'
        f'{meta_line(authors_line(paper.authors))}'
        f'{meta_line(journal_line(paper))}{pages}'
        f'<div class="la-links">{links}</div>{badges.paper_extras(c)}'
        f'<blockquote class="la-quote">{highlight(c.quote, terms)}</blockquote></article>'
    )


def same_gene(chip: str, name: str) -> bool:
    """A chip names the gene: case is ignored only between forms of one convention ('Taz', a fly gene, is not TAZ)."""
    if chip.upper() != name.upper():
        return False
    return chip == name or name.islower() or chip.isupper() == name.isupper()


def gene_chips(genes: list[str], names: list[str], said: str = "") -> str:
    """Genes as chips: those the question names (or a synonym of them) marked and first, then those the quoted text
    names, then the rest up to a few; more fold under "+N more"."""
    hits = [g for g in genes if any(same_gene(g, n) for n in names)]
    quoted = [g for g in genes if g not in hits and mentions(said, g)]
    rest = [g for g in genes if g not in hits and g not in quoted]
    shown = hits + quoted + rest[:max(0, CHIPS_SHOWN - len(hits) - len(quoted))]
    folded = [g for g in rest if g not in shown]

    def chip(g: str) -> str:
        return f'<span class="la-gene{" la-hit" if g in hits else ""}">{html.escape(g)}</span>'

    more = (f'<details class="la-more"><summary>+{len(folded)} more</summary>{"".join(map(chip, folded))}</details>'
            if folded else "")
    return f'<div class="la-genes">{"".join(map(chip, shown))}{more}</div>' if shown else ""


def figure_card(c: Citation, fig: Figure, terms: list[str], turn: int = 1) -> str:
    """A figure: number and title, organism, gene chips, caption excerpt, paper, PMC link, the quote."""
    caption = fig.caption if len(fig.caption) <= CAPTION_EXCERPT else fig.caption[:CAPTION_EXCERPT].rsplit(" ", 1)[0] + " …"
    paper = " · ".join(html.escape(p) for p in (fig.papertitle, fig.reftext) if p)
    return (
        f'{card_open(c, "Figure", turn)}'
        f'<span class="la-title">Figure {html.escape(fig.label)} — {html.escape(fig.figtitle or fig.figid)}</span></header>'
        f'<div class="la-meta">{html.escape(", ".join(fig.organisms))}</div>{gene_chips(fig.genes, terms, c.quote)}'
        f'<p class="la-caption">{html.escape(caption)}</p><div class="la-meta">{paper}</div>'
        f'<div class="la-links">{link(fig.url, "PMC figure page")}</div>{badges.tags(c)}'
        f'{meta_line(f"Its paper is in your library: {fig.paper_id}" if fig.paper_id else "")}'
        f'<blockquote class="la-quote">{highlight(c.quote, terms)}</blockquote></article>'
    )


def source_cards(answer: Answer, records: dict[str, Record | None], turn: int = 1, query: str | None = None,
                 file_link: FileLinker | None = None) -> str:
    """All cards for one answer, in citation order; a source deleted meanwhile gets a line saying so; `file_link`
    gives the URL of a PDF the UI serves. An abstention shows its closest sources, labelled as not answering."""
    shown = answer.closest if answer.abstained else answer.citations
    if not shown:
        return '<div class="la-empty">No sources cited for this answer.</div>'
    terms = highlight_terms(query or answer.question)
    terms += [n for names in answer.expansions.values() for n in names]  # HER2 also marks ERBB2
    cards = []
    for c in shown:
        record = records.get(c.source_id)
        if record is None:
            cards.append(f'<article class="la-card" id="{anchor(turn, c.n)}"><header><span class="la-badge">[{c.n}]'
                         f'</span> {html.escape(c.title)}</header><div class="la-meta">No longer indexed.</div></article>')
        elif isinstance(record, Figure):
            cards.append(figure_card(c, record, terms, turn))
        else:
            cards.append(paper_card(c, record, terms, turn, file_link))
    head = f'<div class="la-closest-head">{html.escape(CLOSEST)}</div>' if answer.abstained else ""
    return head + "".join(cards)


def turn_cards(turn: int, question: str, cards: str) -> str:
    """One answer's cards under its question, so earlier answers keep their own sources."""
    return (f'<section class="la-turn" id="turn-{turn}"><div class="la-turn-q">Q{turn}. {html.escape(question)}</div>'
            f'{cards}</section>')


QUOTED = "Quoted from your sources"  # under an extractive answer: every sentence is verbatim


def written_by(model: str) -> str:
    """The line under an answer a chat model wrote."""
    return f"Written by {model}, checked against your sources"


def chat_markdown(answer: Answer, turn: int = 1, searched_for: str | None = None, model: str | None = None) -> str:
    """The answer for the chat bubble: document text shown literally, markers linked to this turn's cards."""
    query = (f"\n\n<sub class=\"la-searched\">{SEARCHED_FOR}: {md_literal(searched_for)}</sub>"
             if searched_for else "")
    if answer.abstained:  # the hint says what was searched, with which synonyms and filters
        return md_literal(answer.answer) + (f"\n\n<sub class=\"la-hint\">{md_literal(answer.hint)}</sub>"
                                            if answer.hint else query)
    body = md_markers(answer.answer, lambda n: f"#{anchor(turn, n)}")
    refs = "\n".join(f"{c.n}. {md_literal(c.title)} *({c.kind})*" for c in answer.citations)
    how = written_by(md_literal(model or "a language model")) if answer.mode == "llm" else QUOTED
    if answer.sources_summary:  # what the evidence is: '2 reviews, 1 mouse study (1 retracted)'
        how += f" · Sources: {md_literal(answer.sources_summary)}"
    return f"{body}\n\n{refs}{query}\n\n<sub>{how}</sub>"


@dataclass
class ChatState:
    """One browser session's conversation and the cards of each of its answers (newest shown first)."""

    conversation: Conversation
    cards: dict[int, str] = field(default_factory=dict)

    def add(self, turn: Turn, cards: str) -> None:
        """Keep a turn's cards, forgetting those of turns the conversation no longer remembers."""
        self.cards[turn.turn] = turn_cards(turn.turn, turn.question, cards)
        kept = {t.turn for t in self.conversation.turns}
        self.cards = {n: html_ for n, html_ in self.cards.items() if n in kept}

    def html(self) -> str:
        """Every remembered answer's cards, the latest first."""
        return "".join(self.cards[n] for n in sorted(self.cards, reverse=True)) or SOURCES_PLACEHOLDER


CSS = """
.la-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
  margin-bottom: 10px; background: var(--block-background-fill); color: var(--body-text-color); }
.la-card header { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; font-weight: 600; }
.la-badge { font-size: 0.8em; padding: 1px 8px; border-radius: 999px; white-space: nowrap;
  background: var(--color-accent-soft); color: var(--body-text-color); }
.la-figure { border-left: 5px solid #2a9d8f; } .la-paper { border-left: 5px solid #457b9d; }
.la-meta { font-size: 0.85em; color: var(--body-text-color-subdued); margin-top: 2px; }
.la-links a { margin-right: 10px; font-size: 0.85em; }
.la-quote { margin: 8px 0 0; padding-left: 10px; border-left: 3px solid var(--border-color-accent); }
.la-quote mark { background: #ffe08a; color: #1a1a1a; border-radius: 3px; padding: 0 2px; }
.la-genes { display: flex; flex-wrap: wrap; gap: 4px; margin: 6px 0; }
.la-gene { font-family: var(--font-mono); font-size: 0.75em; padding: 1px 6px; border-radius: 6px;
  border: 1px solid var(--border-color-primary); }
.la-more { display: inline; } .la-more summary { display: inline; cursor: pointer; font-size: 0.75em; }
.la-gene.la-hit { background: #2a9d8f; color: #fff; border-color: #2a9d8f; }
.la-caption { font-size: 0.9em; margin: 6px 0; }
.la-turn { margin-bottom: 14px; } .la-turn-q { font-weight: 600; margin: 4px 0 8px; }
.la-empty { color: var(--body-text-color-subdued); padding: 12px; }
.la-closest-head { font-weight: 600; margin: 4px 0 8px; color: var(--body-text-color-subdued); }
.la-closest { opacity: 0.8; border-style: dashed; }
@media (max-width: 640px) { .la-card { padding: 8px; } }
""" + badges.CSS


def with_note(text: str, note: str | None) -> str:
    """The chat bubble with the answer's note under it (the LLM failed, or sentences were unsupported)."""
    return f"{text}\n\n<sub>⚠ {md_literal(note)}</sub>" if note else text


# Copy the answer and say so on the button for two seconds (or say that copying was refused).
COPY_JS = """(text) => {
  const button = document.querySelector('#copy-answer');
  const say = (label) => { if (!button) return; button.innerText = label;
    setTimeout(() => { button.innerText = 'Copy answer'; }, 2000); };
  if (!navigator.clipboard || !text) { say('Copy failed: select the text instead'); return; }
  navigator.clipboard.writeText(text).then(() => say('Copied ✓'), () => say('Copy failed: select the text instead'));
}"""
