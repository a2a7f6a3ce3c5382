"""Citation numbering, reference strings and plain-text and Markdown rendering of answers."""

from __future__ import annotations

import html
import re
from typing import Callable
from urllib.parse import quote

from index.records import Figure, Paper, Passage, Record

from assistant.models import Answer, AnswerSentence, Citation

MAX_AUTHORS = 3  # "A, B, C, et al." as most journals abbreviate
# Characters Markdown would read as formatting; '<' only where it could open an HTML tag.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]]|<(?=[A-Za-z/!?]))")
# C0 controls but tab and newline, DEL, C1 controls (CSI, OSC as single code points) and the bidi overrides: a record's
# title could otherwise clear a terminal, forge a link (OSC 8), write the clipboard (OSC 52) or reorder a line.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MD_MARKER = re.compile(r"\\\[(\d+)\\\]")
# For views that render Markdown and HTML (the chat bubble): the marks that can start markup — brackets (links,
# images: '(' and '!' are inert without them), emphasis, code, strike-through, the '$' of LaTeX, a '#' opening a
# line — and the ':' or '.' after a scheme or 'www', which would otherwise be auto-linked.
_MD_LIVE = re.compile(r"([\\`*_\[\]~$]|^#|(?<=\bhttps)(?=:)|(?<=\bhttp)(?=:)|(?<=\bftp)(?=:)|(?<=\bwww)(?=\.))",
                      re.IGNORECASE | re.MULTILINE)


def without_controls(text: str) -> str:
    """Text with its control characters removed, line breaks and tabs kept: safe for terminals and exported files."""
    return _CONTROL.sub("", text)


def journal_line(paper: Paper) -> str:
    """'Cancer Cell 6(5):459-469, Nov 2004' from whatever parts are known."""
    where = paper.journal or ""
    if paper.volume:
        where += f" {paper.volume}"
    if paper.issue:
        where += f"({paper.issue})"
    if paper.pages:
        where += f":{paper.pages}"
    when = " ".join(p for p in (paper.month, str(paper.year) if paper.year else None) if p)
    return ", ".join(p for p in (where.strip(), when) if p)


def paper_url(paper: Paper) -> str | None:
    """The best link for a paper: DOI, PubMed, its own URL, then PMC."""
    if paper.doi:
        return f"https://doi.org/{paper.doi}"
    if paper.pmid:
        return f"https://pubmed.ncbi.nlm.nih.gov/{paper.pmid}/"
    if paper.url:
        return paper.url
    if paper.pmcid:
        return f"https://www.ncbi.nlm.nih.gov/pmc/articles/{paper.pmcid}/"
    return None


def short_name(author: str) -> str:
    """'Candas, Demet' -> 'Candas D' (Vancouver style); names without a comma stay as written."""
    last, sep, first = author.partition(",")
    if not sep or not first.strip():
        return author.strip()
    initials = "".join(part[0] for part in re.split(r"[\s.\-]+", first.strip()) if part and part[0].isalpha())
    return f"{last.strip()} {initials}".strip()


def authors_line(authors: list[str]) -> str:
    """First authors, then 'et al.'."""
    shown = ", ".join(short_name(a) for a in authors[:MAX_AUTHORS])
    return shown + (", et al." if len(authors) > MAX_AUTHORS else "")


def paper_reference(paper: Paper) -> str:
    """Authors. Title. Journal volume(issue):pages, year. DOI/PMID link."""
    parts = [authors_line(paper.authors), paper.title, journal_line(paper)]
    text = " ".join(p.strip().rstrip(".") + "." for p in parts if p) or paper.source_id
    url = paper_url(paper)
    return f"{text} {url}" if url else text


def figure_title(figure: Figure) -> str:
    """'Figure 7: Activation of …'."""
    return f"Figure {figure.label}: {figure.figtitle or figure.figid}"


def figure_reference(figure: Figure) -> str:
    """Figure number and title, its paper title and reftext, and the PMC figure link."""
    parts = [figure_title(figure), f"In: {figure.papertitle}" if figure.papertitle else None, figure.reftext]
    text = " ".join(p.strip().rstrip(".") + "." for p in parts if p)
    return f"{text} {figure.url}" if figure.url else text


def reference(record: Record) -> str:
    """The reference-list line for any record."""
    return figure_reference(record) if isinstance(record, Figure) else paper_reference(record)


def citation_for(n: int, record: Record, quotes: list[str]) -> Citation:
    """A numbered Citation for a record."""
    if isinstance(record, Figure):
        return Citation(n=n, source_id=record.source_id, kind="figure", title=figure_title(record),
                        reference=figure_reference(record), url=record.url, doi=record.doi,
                        pmcid=record.pmcid, figid=record.figid, quote=" ".join(quotes))
    return Citation(n=n, source_id=record.source_id, kind="paper", title=record.title or journal_line(record),
                    reference=paper_reference(record), url=paper_url(record), doi=record.doi,
                    pmid=record.pmid, pmcid=record.pmcid, quote=" ".join(quotes))


def number_sources(picks: list[tuple[str, Passage]]) -> tuple[list[AnswerSentence], list[Citation]]:
    """Number sources in order of first use; one AnswerSentence per picked (sentence, passage)."""
    numbers: dict[str, int] = {}
    quotes: dict[str, list[str]] = {}
    records: dict[str, Record] = {}
    sentences = []
    for text, passage in picks:
        sid = passage.record.source_id
        n = numbers.setdefault(sid, len(numbers) + 1)
        records[sid] = passage.record
        quotes.setdefault(sid, []).append(text)
        sentences.append(AnswerSentence(text=text, citations=[n]))
    citations = [citation_for(n, records[sid], quotes[sid]) for sid, n in numbers.items()]
    return sentences, citations


def body_text(sentences: list[AnswerSentence]) -> str:
    """Sentences with their markers: 'HER2 enhances CXCR4 [1].' — the marker goes before the full stop."""
    out = []
    for sentence in sentences:
        markers = "".join(f"[{n}]" for n in sentence.citations)
        text = sentence.text.rstrip()
        if not markers:  # an uncited sentence (LLM mode) is shown as written, never given a number
            out.append(text)
            continue
        stop = text[-1] if text and text[-1] in ".!?" else ""
        out.append(f"{text[:-1] if stop else text} {markers}{stop or '.'}")
    return " ".join(out)


def render_text(answer: Answer) -> str:
    """The answer as a user reads it: body, blank line, numbered references marked paper/figure."""
    if answer.abstained or not answer.citations:
        return answer.answer
    refs = "\n".join(f"[{c.n}] {c.reference} ({c.kind})" for c in answer.citations)
    return f"{answer.answer}\n\n{refs}"


def md_escape(text: str) -> str:
    """Text that Markdown shows as written."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_literal(text: str) -> str:
    """Document text for a view that renders Markdown and HTML: shown as written, with no live link or image."""
    return _MD_LIVE.sub(lambda m: "\\" + (m.group(1) or ""), html.escape(text, quote=False))


def md_markers(text: str, link: Callable[[int], str]) -> str:
    """md_literal text whose [n] markers become links to link(n)."""
    return _MD_MARKER.sub(lambda m: f"[[{m.group(1)}]]({link(int(m.group(1)))})", md_literal(text))


def markdown_reference(citation: Citation) -> str:
    """'1. Authors. Title. Journal. [link](link) *(paper)*' — the reference line as a Markdown list item."""
    url = citation.url
    text = citation.reference.removesuffix(f" {url}") if url else citation.reference
    # Percent-encoding spaces, brackets and parentheses keeps odd DOIs from ending the link early.
    link = f" [{md_escape(url)}]({quote(url, safe=':/?#@!$&*+,;=%~')})" if url else ""
    return f"{citation.n}. {md_escape(text)}{link} *({citation.kind})*"


def markdown_body(text: str) -> str:
    """Text escaped for Markdown, its [n] markers left readable as written."""
    return _MD_MARKER.sub(r"[\1]", md_escape(text))


def to_markdown(answer: Answer) -> str:
    """The answer for pasting into notes: body with [n] markers, blank line, numbered Markdown references."""
    if answer.abstained or not answer.citations:
        return answer.answer
    body = markdown_body(answer.answer)
    refs = "\n".join(markdown_reference(c) for c in answer.citations)
    return f"{body}\n\n{refs}"
