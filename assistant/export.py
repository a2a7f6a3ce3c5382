"""BibTeX and RIS export of cited sources, for reference managers (Zotero, EndNote, JabRef, Mendeley).

Papers are BibTeX @article / RIS JOUR; figures are BibTeX @misc / RIS FIGURE.
A PMID is written as BibTeX `pmid = {…}` (JabRef, Better BibTeX, biblatex styles) and as RIS
`AN` (accession number) with `DB  - PubMed`, which is how EndNote files a PubMed record's PMID
and what litassist's own RIS loader reads back.
Cite keys are `<first author's last name><year><first title word>` in ASCII lower case
(`anon` when there is no author); figures use their figid. Clashes get `-2`, `-3`, ….
"""

from __future__ import annotations

import re
import unicodedata

import bibtexparser
import rispy
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field

from litassist.index.records import Figure, Paper, Record

from litassist.assistant.citations import figure_title, paper_url, without_controls
from litassist.assistant.evidence import flag_line

_TEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "#": r"\#",
        "$": r"\$", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
# BibTeX counts every brace, escaped or not, so a lone brace needs a brace-free command.
_TEX_LONE_BRACE = {**_TEX, "{": r"\textbraceleft{}", "}": r"\textbraceright{}"}
_TEX_SPECIAL = re.compile(r"[\\{}%&#$_~^]")
# MEDLINE's short form "Ferreira AB": surname, then up to four initials with no dots.
_MEDLINE_NAME = re.compile(r"^(?P<last>.+?)\s+(?P<initials>[A-Z]{1,4})$")
_KEY_STOPWORDS = {"a", "an", "the", "on", "of", "in", "for", "and", "to", "from", "with", "by", "at"}
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_:.-]")


# --- shared ---------------------------------------------------------------------------------


def medline_name(author: str) -> tuple[str, list[str]] | None:
    """('Ferreira', ['A', 'B']) from 'Ferreira AB'; None for any other form."""
    match = _MEDLINE_NAME.match(author.strip())
    return (match["last"], list(match["initials"])) if match and "," not in author else None


def link_of(paper: Paper) -> str | None:
    """The paper's URL for export; a doi.org link is left out because the DOI field already gives it."""
    return paper.url or (None if paper.doi else paper_url(paper))


def figure_note(figure: Figure) -> str | None:
    """'In: paper title. reftext' — where the figure was published."""
    parts = [f"In: {figure.papertitle}" if figure.papertitle else None, figure.reftext]
    return " ".join(p.strip().rstrip(".") + "." for p in parts if p) or None


# --- BibTeX ---------------------------------------------------------------------------------


def to_bibtex(records: list[Record]) -> str:
    """The records as a BibTeX file, one entry each, in the given order."""
    entries = [bib_entry(record, key) for record, key in zip(records, cite_keys(records))]
    return without_controls(bibtexparser.write_string(Library(entries)))


def bib_entry(record: Record, key: str) -> Entry:
    """One @article (paper) or @misc (figure) entry; empty fields are left out."""
    is_figure = isinstance(record, Figure)
    fields = figure_fields(record) if is_figure else paper_fields(record)
    return Entry("misc" if is_figure else "article", key, [Field(k, v) for k, v in fields.items() if v])


def paper_fields(paper: Paper) -> dict[str, str | None]:
    """BibTeX fields of a paper; DOI and URL stay verbatim, as BibTeX and biblatex read them."""
    return {"author": " and ".join(bib_name(a) for a in paper.authors), "title": bib_title(paper.title),
            "journal": tex_escape(paper.journal), "year": paper.year and str(paper.year),
            "volume": tex_escape(paper.volume), "number": tex_escape(paper.issue),
            "pages": tex_escape(paper.pages and paper.pages.replace("-", "--")),
            "doi": paper.doi, "pmid": paper.pmid, "pmcid": paper.pmcid, "url": link_of(paper),
            "note": tex_escape(flag_line(paper))}  # a retraction travels with the reference


def figure_fields(figure: Figure) -> dict[str, str | None]:
    """BibTeX fields of a figure: howpublished for classic BibTeX styles, url for biblatex."""
    return {"title": bib_title(figure_title(figure)), "howpublished": figure.url and f"\\url{{{figure.url}}}",
            "url": figure.url, "note": tex_escape(figure_note(figure)), "year": figure.year and str(figure.year),
            "doi": figure.doi}


def tex_escape(text: str | None) -> str | None:
    """Plain text as LaTeX: specials escaped, non-ASCII kept as UTF-8."""
    if not text:
        return None
    table = _TEX if braces_balance(text) else _TEX_LONE_BRACE
    return _TEX_SPECIAL.sub(lambda m: table[m.group()], text)


def braces_balance(text: str) -> bool:
    """Whether every '}' closes an earlier '{' and every '{' is closed."""
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def bib_title(title: str | None) -> str | None:
    """An escaped title whose acronyms and gene names (HER2, NF-κB) are braced so styles keep their case."""
    escaped = tex_escape(title)
    if not escaped:
        return None
    words = escaped.split(" ")
    return " ".join(f"{{{w}}}" if any(c.isupper() for c in w[1:]) else w for w in words)


def bib_name(author: str) -> str:
    """'Last, First' as written; 'Last AB' as 'Last, A. B.'; anything else braced so it prints verbatim."""
    escaped = tex_escape(author) or ""
    if "," in author:
        return escaped
    if parts := medline_name(author):
        return f"{tex_escape(parts[0])}, {' '.join(i + '.' for i in parts[1])}"
    # A collective name ("Cancer Genome Atlas Network") would otherwise be split into first and last names.
    return f"{{{escaped}}}"


def cite_keys(records: list[Record]) -> list[str]:
    """A key per record, unique within the export."""
    used: set[str] = set()
    keys = []
    for record in records:
        key = base = cite_key(record)
        n = 1
        while key in used:
            n += 1
            key = f"{base}-{n}"
        used.add(key)
        keys.append(key)
    return keys


def cite_key(record: Record) -> str:
    """'smith2019her2' for a paper (or its own citation key, from Better BibTeX), the figid for a figure, the source
    id as a last resort."""
    if isinstance(record, Figure):
        return _KEY_UNSAFE.sub("-", record.figid)
    if record.citekey:  # the key the user's manuscripts already cite
        return _KEY_UNSAFE.sub("-", record.citekey)
    words = [w for w in ascii_words(record.title or "") if w not in _KEY_STOPWORDS]
    if not (record.year or words):
        return _KEY_UNSAFE.sub("-", record.source_id)
    last = "".join(ascii_words(surname(record.authors[0]))) if record.authors else ""
    return (last or "anon") + (str(record.year) if record.year else "") + "".join(words[:1])


def surname(author: str) -> str:
    """The family name of 'Last, First', 'Last AB' or (as PDF metadata writes it) 'First Last'."""
    if "," in author:
        return author.partition(",")[0]
    parts = medline_name(author)
    return parts[0] if parts else author.split()[-1] if author.split() else ""


def ascii_words(text: str) -> list[str]:
    """Lower-case ASCII words: 'Müller-Lüdenscheidt' -> ['mullerludenscheidt']."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z0-9]+", folded.replace("-", "").replace("'", ""))


# --- RIS ------------------------------------------------------------------------------------


class _RisWriter(rispy.RisWriter):
    """rispy's writer without its '1.', '2.' lines, which are not RIS and confuse strict importers."""

    def set_header(self, count: int) -> str:
        """No header line."""
        return ""


def to_ris(records: list[Record]) -> str:
    """The records as a RIS file, one reference each, in the given order."""
    entries = [figure_ris(r) if isinstance(r, Figure) else paper_ris(r) for r in records]
    return without_controls(rispy.dumps([ris_clean(e) for e in entries], implementation=_RisWriter))


def paper_ris(paper: Paper) -> dict:
    """A JOUR reference; T2 is the journal, as Zotero and EndNote export it."""
    first, _, last = (paper.pages or "").partition("-")
    return {"type_of_reference": "JOUR", "title": paper.title, "authors": [ris_name(a) for a in paper.authors],
            "secondary_title": paper.journal, "year": paper.year, "volume": paper.volume,
            "number": paper.issue, "start_page": first, "end_page": last, "doi": paper.doi,
            "accession_number": paper.pmid, "name_of_database": "PubMed" if paper.pmid else None,
            "urls": [link_of(paper)], "notes": [flag_line(paper)]}


def figure_ris(figure: Figure) -> dict:
    """A FIGURE reference: its paper as T2, the paper's reference line as a note."""
    return {"type_of_reference": "FIGURE", "title": figure_title(figure), "urls": [figure.url],
            "secondary_title": (figure.papertitle or "").rstrip("."), "notes": [figure.reftext], "year": figure.year,
            "doi": figure.doi}


def ris_name(author: str) -> str:
    """'Last AB' as 'Last, A.B.' (RIS form); other names as written."""
    parts = medline_name(author)
    return f"{parts[0]}, {''.join(i + '.' for i in parts[1])}" if parts else author


def ris_clean(entry: dict) -> dict:
    """Empty values dropped and each value on one line, since a RIS tag ends at the line break."""
    out: dict = {}
    for key, value in entry.items():
        value = [one_line(v) for v in value if v] if isinstance(value, list) else value and one_line(value)
        if value:
            out[key] = value
    return out


def one_line(value: object) -> str:
    """The value as text with every run of whitespace, line breaks included, made one space."""
    return " ".join(str(value).split())
