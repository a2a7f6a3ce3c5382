"""Citation numbering, reference strings and plain-text and Markdown rendering of answers."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Callable
from pathlib import Path
from urllib.parse import quote

from litassist.index.records import Figure, Paper, Passage, Record

from litassist.assistant.controls import without_controls  # noqa: F401  (re-exported: export.py and the UI use it from here)
from litassist.assistant.evidence import citation_facts, flag_note, kind_note
from litassist.assistant.models import Answer, AnswerSentence, Citation

MAX_AUTHORS = 3  # "A, B, C, et al." as most journals abbreviate
# Characters Markdown would read as formatting; '<' only where it could open an HTML tag.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]]|<(?=[A-Za-z/!?]))")
_MD_MARKER = re.compile(r"\\\[(\d+)\\\]")
# For views that render Markdown and HTML (the chat bubble): the marks that can start markup — brackets (links,
# images: '(' and '!' are inert without them), emphasis, code, strike-through, the '$' of LaTeX, a '#' opening a
# line — and the ':' or '.' after a scheme or 'www', which would otherwise be auto-linked.
_MD_LIVE = re.compile(r"([\\`*_\[\]~$]|^#|(?<=\bhttps)(?=:)|(?<=\bhttp)(?=:)|(?<=\bftp)(?=:)|(?<=\bwww)(?=\.))",
                      re.IGNORECASE | re.MULTILINE)


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


def page_label(pages: list[int]) -> str:
    """'p. 4' or 'pp. 2, 4': the PDF pages quoted ('' when none is known)."""
    if not pages:
        return ""
    return f"p. {pages[0]}" if len(pages) == 1 else "pp. " + ", ".join(map(str, pages))


def file_link(path: str | None, pages: list[int]) -> str | None:
    """A file:// link to a PDF at its first quoted page, when the file is there to open."""
    file = Path(path).absolute() if path and pages else None
    return f"{file.as_uri()}#page={pages[0]}" if file is not None and file.is_file() else None


def paper_reference(paper: Paper, pages: list[int] | None = None) -> str:
    """Authors. Title. Journal volume(issue):pages, year. p. 4. DOI/PMID link, else the PDF's file link."""
    parts = [authors_line(paper.authors), paper.title, journal_line(paper), page_label(pages or [])]
    text = " ".join(p.strip().rstrip(".") + "." for p in parts if p) or paper.source_id
    url = paper_url(paper) or file_link(paper.file, pages or [])  # pages: a PDF (other files hold collections)
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


def citation_for(n: int, record: Record, quotes: list[str], pages: list[int] | None = None,
                 sections: list[str] | None = None) -> Citation:
    """A numbered Citation for a record; `pages`: the PDF pages of the quoted passages, `sections`: the full-text
    sections they come from."""
    facts = {**citation_facts(record), "sections": list(dict.fromkeys(sections or []))}
    if isinstance(record, Figure):
        return Citation(n=n, source_id=record.source_id, kind="figure", title=figure_title(record),
                        reference=figure_reference(record), url=record.url, doi=record.doi,
                        pmcid=record.pmcid, figid=record.figid, quote=" ".join(quotes), year=record.year, **facts)
    pages = sorted(set(pages or []))
    return Citation(n=n, source_id=record.source_id, kind="paper", title=record.title or journal_line(record),
                    reference=paper_reference(record, pages), url=paper_url(record), doi=record.doi,
                    pmid=record.pmid, pmcid=record.pmcid, quote=" ".join(quotes), page=pages[0] if pages else None,
                    pages=pages, year=record.year, file=record.file if pages else None, **facts)


def flags_of(passage: Passage) -> list[str]:
    """The flag of the record a passage is from, as a list (none for most sources)."""
    return [passage.record.flag] if passage.record.flag else []


def with_pages(citation: Citation, pages: list[int]) -> Citation:
    """The citation quoting from these pages as well (a conversation's notes merge turns' quotes)."""
    merged = sorted(set(citation.pages) | set(pages))
    if merged == citation.pages:
        return citation
    old, new = page_label(citation.pages), page_label(merged)
    reference = citation.reference.replace(f" {old}.", f" {new}.", 1) if old else citation.reference
    if citation.pages:  # the file link opens at the first page quoted
        reference = reference.replace(f"#page={citation.pages[0]}", f"#page={merged[0]}")
    return citation.model_copy(update={"pages": merged, "page": merged[0], "reference": reference})


@dataclass
class Supported:
    """One sentence of an answer with the passages that support it, each with the text quoted as evidence (an
    extractive sentence quotes itself); a sentence with no support is unsupported."""

    text: str
    support: list[tuple[Passage, str]] = field(default_factory=list)

    @property
    def supported(self) -> bool:
        """Supported when at least one passage supports it."""
        return bool(self.support)


def number_sources(items: list[Supported]) -> tuple[list[AnswerSentence], list[Citation]]:
    """Number sources in order of first use; an unsupported sentence gets no number; each source quotes its evidence
    once."""
    numbers: dict[str, int] = {}
    records: dict[str, Record] = {}
    quotes: dict[str, list[str]] = {}
    pages: dict[str, list[int]] = {}
    sections: dict[str, list[str]] = {}
    sentences = []
    for item in items:
        cites: list[int] = []
        for passage, evidence in item.support:
            sid = passage.record.source_id
            records[sid] = passage.record
            cites.append(numbers.setdefault(sid, len(numbers) + 1))
            pages.setdefault(sid, []).extend([passage.chunk.page] if passage.chunk.page else [])
            sections.setdefault(sid, []).extend([passage.chunk.section] if passage.chunk.section else [])
            if evidence not in quotes.setdefault(sid, []):
                quotes[sid].append(evidence)
        sentences.append(AnswerSentence(text=item.text, citations=list(dict.fromkeys(cites)),
                                        supported=item.supported,
                                        flags=[f for p, _ in item.support for f in flags_of(p)]))
    return sentences, [citation_for(n, records[sid], quotes[sid], pages[sid], sections[sid])
                       for sid, n in numbers.items()]


def marked(sentence: AnswerSentence) -> AnswerSentence:
    """The sentence as shown in the answer text: an unsupported one ends in '(unsupported)'."""
    if sentence.supported:
        return sentence
    text = sentence.text.rstrip()
    stop = text[-1] if text and text[-1] in ".!?" else "."
    return sentence.model_copy(update={"text": f"{text.rstrip('.!?')} (unsupported){stop}"})


def cited(sentence: AnswerSentence) -> str:
    """'HER2 enhances CXCR4 [1].' — the marker goes before the full stop, and a sentence quoted from a retracted or
    flagged paper says so after it: 'YAP1 … [2] (RETRACTED).'; an uncited sentence (LLM mode) is shown as written,
    never given a number."""
    markers = "".join(f"[{n}]" for n in sentence.citations)
    text = sentence.text.rstrip()
    if not markers:
        return text
    stop = text[-1] if text and text[-1] in ".!?" else ""
    flags = "".join(f" ({flag.upper()})" for flag in dict.fromkeys(sentence.flags))
    return f"{text[:-1] if stop else text} {markers}{flags}{stop or '.'}"


def body_text(sentences: list[AnswerSentence], form: str = "sentences") -> str:
    """Sentences with their markers, run on; a list answer puts each source's sentences on a line of its own
    ('- … [1].')."""
    if form != "list":
        return " ".join(cited(s) for s in sentences)
    lines: list[list[str]] = []
    for previous, sentence in zip([None, *sentences], sentences):
        if previous is None or previous.citations != sentence.citations:
            lines.append([])
        lines[-1].append(cited(sentence))
    return "\n".join("- " + " ".join(line) for line in lines)


CLOSEST = "Closest sources found — they do not answer this"  # over the sources an abstention shows



def render_text(answer: Answer) -> str:
    """The answer as a user reads it: body, blank line, numbered references marked paper/figure (and flagged),
    then what the sources are when known; an abstention adds its hint and the closest sources, under a line saying
    they do not answer the question."""
    if answer.abstained:
        near = "\n".join(f"- {c.reference} ({c.kind})\n  “{c.quote}”" for c in answer.closest)
        parts = [answer.answer, answer.hint, f"{CLOSEST}:\n{near}" if near else None]
        return "\n\n".join(p for p in parts if p)
    if not answer.citations:
        return answer.answer
    refs = "\n".join(f"[{c.n}] {c.reference} ({kind_note(c)}){flag_note(c)}" for c in answer.citations)
    kinds = f"\n\nSources: {answer.sources_summary}." if answer.sources_summary else ""
    return f"{answer.answer}\n\n{refs}{kinds}"


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
    url = citation.url or file_link(citation.file, citation.pages)
    text = citation.reference.removesuffix(f" {url}") if url else citation.reference
    # Percent-encoding spaces, brackets and parentheses keeps odd DOIs from ending the link early.
    link = f" [{md_escape(url)}]({quote(url, safe=':/?#@!$&*+,;=%~')})" if url else ""
    flag = f" **{md_escape(flag_note(citation).strip())}**" if citation.flag else ""
    return f"{citation.n}. {md_escape(text)}{link} *({md_escape(kind_note(citation))})*{flag}"


def markdown_body(text: str) -> str:
    """Text escaped for Markdown, its [n] markers left readable as written."""
    return _MD_MARKER.sub(r"[\1]", md_escape(text))


def to_markdown(answer: Answer) -> str:
    """The answer for pasting into notes: body with [n] markers, blank line, numbered Markdown references."""
    if answer.abstained or not answer.citations:
        return answer.answer
    body = markdown_body(answer.answer)
    refs = "\n".join(markdown_reference(c) for c in answer.citations)
    kinds = f"\n\n*Sources: {md_escape(answer.sources_summary)}.*" if answer.sources_summary else ""
    return f"{body}\n\n{refs}{kinds}"
