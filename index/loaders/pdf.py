"""PDF papers via pypdf: one Paper per file with its text kept page by page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from litassist.index.errors import LoadError, first_line
from litassist.index.loaders.text import content_id

if TYPE_CHECKING:  # pypdf loads when a PDF is read, not for every ingest (an unchanged corpus reads no file)
    from pypdf import PdfReader
from litassist.index.records import Paper

_MAX_TITLE = 300
_MAX_ABSTRACT = 4000
# A line shorter than this share of the page's usual line width may end a paragraph.
_SHORT_LINE = 0.75
_TERMINAL = tuple('.!?:;"\u201d)]')
_HYPHENS = ("-", "\u00ad", "\u2010")
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})
_HEADING = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s+)?(Abstract|ABSTRACT|Summary|SUMMARY|Background|BACKGROUND|Introduction|"
    r"INTRODUCTION|Methods?|METHODS?|Materials and [Mm]ethods|Results|RESULTS|Discussion|DISCUSSION|"
    r"Conclusions?|CONCLUSIONS?|References|REFERENCES|Acknowledge?ments|Keywords|KEYWORDS)"
    r"(?:\s*[:.\u2014]\s*(.*)|\s*)$"
)
# Metadata titles that name the authoring tool or file rather than the paper.
_JUNK_TITLE = re.compile(r"^(untitled|microsoft word\b.*|.*\.(docx?|pdf|tex|dvi|indd|rtf))$", re.IGNORECASE)
_DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+")


def check_header(path: Path) -> None:
    """Refuse files that are not PDFs at all (a saved error page, an empty download) with what they start with."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
    except OSError as exc:
        raise LoadError(path, f"cannot read: {exc.strerror or exc}") from exc
    if not head.strip():
        raise LoadError(path, "empty file")
    if b"%PDF-" not in head:  # the PDF standard lets the header sit anywhere in the first 1024 bytes
        start = head[:40].decode("latin-1").split("\n")[0].strip()
        raise LoadError(path, f"not a PDF: it starts with {start!r}, not '%PDF-'")


def open_reader(path: Path) -> PdfReader:
    """Open and, when protected only by an owner password, decrypt a PDF; LoadError otherwise."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    check_header(path)
    try:
        reader = PdfReader(path)
    except OSError as exc:
        raise LoadError(path, f"cannot read: {exc.strerror or exc}") from exc
    except DependencyError as exc:  # AES encryption needs the optional 'cryptography' package
        raise LoadError(path, f"encrypted PDF ({first_line(exc, named=False)})") from exc
    except Exception as exc:  # pypdf raises many types (KeyError, ValueError ...) on malformed files
        raise LoadError(path, f"corrupt PDF ({first_line(exc, named=False)})") from exc
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except (DependencyError, NotImplementedError) as exc:
            raise LoadError(path, f"encrypted PDF ({first_line(exc, named=False)})") from exc
        if not opened:
            raise LoadError(path, "encrypted PDF (a password is needed to open it)")
    return reader


def page_texts(reader: PdfReader, path: Path) -> list[str]:
    """Raw text of every page, '' for empty pages so that list index + 1 is the page number."""
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        pages = list(reader.pages)
    except FileNotDecryptedError as exc:
        raise LoadError(path, "encrypted PDF") from exc
    except Exception as exc:  # a broken page tree fails here rather than at open
        raise LoadError(path, f"corrupt PDF ({first_line(exc, named=False)})") from exc
    if not pages:
        raise LoadError(path, "PDF has no pages")
    texts, failures = [], []
    for page in pages:
        try:
            texts.append(page.extract_text() or "")
        except DependencyError as exc:  # AES content streams need 'cryptography', even with no password
            raise LoadError(path, f"encrypted PDF ({first_line(exc, named=False)})") from exc
        except Exception as exc:  # one unreadable page should not lose the others
            texts.append("")
            failures.append(exc)
    if failures and not any(t.strip() for t in texts):
        raise LoadError(path, f"corrupt PDF ({first_line(failures[0], named=False)})")
    return texts


def line_width(lines: list[str]) -> int:
    """The page's usual full line length (90th percentile, so one long line does not skew it)."""
    lengths = sorted(len(line) for line in lines)
    return lengths[round(0.9 * (len(lengths) - 1))] if lengths else 0


def join_line(text: str, line: str) -> str:
    """Append a wrapped line, undoing a line-end hyphen that split a lower-case word."""
    if not text:
        return line
    if text.endswith(_HYPHENS) and len(text) > 1 and not text[-2].isspace():
        if text[-2].islower() and line[:1].islower():
            return text[:-1] + line  # 'phos-' + 'phorylation'
        return text.rstrip("\u00ad") + line  # 'HER2-' + 'mediated' and 'anti-' + 'HER2' keep the hyphen
    return f"{text} {line}"


def ends_paragraph(line: str, following: str, width: int) -> bool:
    """A short line ends its paragraph if it closes a sentence or the next line starts a new one."""
    heading = _HEADING.match(line)
    if _HEADING.match(following) or (heading and not heading.group(2)):
        return True  # headings stand alone; 'Abstract: text...' keeps its text
    if len(line) >= _SHORT_LINE * width or line.endswith(_HYPHENS + (",",)):
        return False
    return line.endswith(_TERMINAL) or following[:1].isupper() or following[:1].isdigit()


def paragraphs(raw: str) -> list[str]:
    """Join a page's wrapped lines into paragraphs (blank lines and headings also separate them)."""
    lines = [line.strip() for line in raw.translate(_LIGATURES).splitlines()]
    width = line_width([line for line in lines if line])
    result, current = [], ""
    for index, line in enumerate(lines):
        if line:
            current = join_line(current, line)
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if current and (not line or not following or ends_paragraph(line, following, width)):
            result.append(current)
            current = ""
    return result


def sentence_text(page: list[str]) -> list[str]:
    """A page's paragraphs as quotable text: titles, headings, author and DOI lines are left out.

    Such a line ends no sentence, so the sentence splitter would glue it onto the next one ("…in colorectal cancer
    In colorectal cancer cells, …"); the title is the record's context, not a sentence of it. A page's last
    paragraph may end mid-sentence (it goes on over the page) and stays, as does a long one (prose cut by a figure);
    an inline heading keeps its text ('Abstract: Radiation induces …' -> 'Radiation induces …').
    """
    kept = []
    for index, paragraph in enumerate(page):
        heading = _HEADING.match(paragraph)
        if heading and heading.group(2):
            paragraph = heading.group(2)
        elif heading or (index + 1 < len(page) and len(paragraph) <= _MAX_TITLE
                         and not paragraph.endswith(_TERMINAL)):
            continue
        kept.append(paragraph)
    return kept


def find_abstract(first_page: list[str]) -> str:
    """The text under an 'Abstract' (or 'Summary') heading among page 1's paragraphs, or ''."""
    for index, paragraph in enumerate(first_page):
        match = _HEADING.match(paragraph)
        if match and match.group(1).lower() in ("abstract", "summary"):
            following = first_page[index + 1] if index + 1 < len(first_page) else ""
            return (match.group(2) or following)[:_MAX_ABSTRACT]
    return ""


def title_of(reader: PdfReader, first_page: str) -> str | None:
    """The metadata title unless it is a tool or file name, else the first line of page 1 if short."""
    meta = reader.metadata
    title = str(meta.title or "").strip() if meta else ""
    if title and not _JUNK_TITLE.match(title):
        return title
    line = next((line.strip() for line in first_page.splitlines() if line.strip()), "")
    return line if 0 < len(line) < _MAX_TITLE else None


def authors_of(reader: PdfReader) -> list[str]:
    """Authors from the metadata: ';' or ' and ' separate names; commas only between full names."""
    meta = reader.metadata
    raw = str(meta.author or "").strip() if meta else ""
    names = [n.strip() for n in re.split(r";|\band\b|&", raw) if n.strip()]
    result: list[str] = []
    for name in names:
        parts = [p.strip() for p in name.split(",") if p.strip()]
        # 'Smith, John' is one name; 'Jane Doe, John Roe' is two.
        result += parts if len(parts) > 1 and all(" " in p for p in parts) else [name]
    return result


def doi_of(reader: PdfReader, first_page: str) -> str | None:
    """A DOI from the metadata's /doi entry or the first one printed on page 1."""
    meta = reader.metadata
    candidate = str(meta.get("/doi", "") or "") if meta else ""
    match = _DOI.search(candidate) or _DOI.search(first_page)
    return match.group(0).rstrip(".,;)]") if match else None


def load(path: Path) -> list[Paper]:
    """Load one PDF as a Paper whose body holds the tidied text of each page."""
    reader = open_reader(path)
    raw = page_texts(reader, path)
    pages = [paragraphs(text) for text in raw]
    if not any(pages):
        raise LoadError(path, "no text layer (scanned PDF?)")
    body = ["\n\n".join(sentence_text(page)) for page in pages]
    try:
        title, authors, doi = title_of(reader, raw[0]), authors_of(reader), doi_of(reader, raw[0])
    except Exception:  # broken metadata should not lose readable text
        title, authors, doi = None, [], None
    return [Paper(
        source_id=content_id(*body), title=title or path.stem, authors=authors, doi=doi,
        abstract=find_abstract(pages[0]), body=body,
    )]
