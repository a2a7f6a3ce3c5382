"""Reference-manager exports: RIS, BibTeX and CSL-JSON.

Authors come out as "Last, First" in every format (BibTeX "First von Last" is reordered to
"von Last, First"; CSL {"literal": ...} and BibTeX {braced} names are kept as written).
source_id is "doi:<lowercased DOI>", else "pmid:<PMID>", else (BibTeX only) "bibtex:<key>",
else a content hash of title and abstract.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import bibtexparser
import rispy
from bibtexparser.middlewares import NormalizeFieldKeys, default_parse_stack
from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ParsingFailedBlock,
)
from pylatexenc.latex2text import LatexNodes2Text

from litassist.index.errors import LoadError
from litassist.index.loaders.fields import (
    clean_doi,
    finish,
    make_paper,
    month_in,
    month_of,
    pages_of,
    squash,
    year_of,
)
from litassist.index.loaders.text import read_text
from litassist.index.records import Paper

_RIS_START = re.compile(r"^TY  -", re.MULTILINE)
# RIS AN/ID hold a PMID only when the record says it came from PubMed.
_PUBMED_SOURCES = ("pubmed", "medline", "nlm")
_BIB_KEY = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s]+)")
# In LaTeX a bare % starts a comment and & is a table cell; exports often leave them unescaped.
_BARE_TEX_SPECIAL = re.compile(r"(?<!\\)([%&])")
_JATS_TAG = re.compile(r"</?jats:[^>]*>")
_LATEX = LatexNodes2Text(math_mode="text")


def _ids(doi: str | None, pmid: str | None) -> list[str | None]:
    """The source_id candidates shared by RIS, BibTeX and CSL-JSON, best first."""
    return [doi and f"doi:{doi.lower()}", pmid and f"pmid:{pmid}"]


# --- RIS ----------------------------------------------------------------------------------


def load_ris(path: Path) -> list[Paper]:
    """Every record of a RIS export (EndNote, Zotero, Mendeley, journal sites)."""
    text = read_text(path)
    starts = len(_RIS_START.findall(text))
    if not starts:
        raise LoadError(path, "not RIS: no 'TY  - ' line starts a record")
    try:
        records = rispy.loads(text)
    except Exception as exc:  # rispy has no error type of its own
        raise LoadError(path, f"malformed RIS: {exc}") from exc
    results: list[Paper | str] = [
        _ris_paper(r) or _ris_skip(r, n) for n, r in enumerate(records, 1)
    ]
    # rispy silently drops a last record that has no 'ER  - ' line.
    results += ["the last record has no 'ER  - ' end line"] * (starts - len(records))
    return finish(path, results)


def _ris_paper(record: dict) -> Paper | None:
    """One RIS record as a Paper; None when it has neither title nor abstract."""
    doi, pmid = clean_doi(record.get("doi")), _ris_pmid(record)
    date = record.get("date") or record.get("publication_year") or record.get("year")
    return make_paper(
        _ids(doi, pmid),
        title=record.get("title") or record.get("primary_title"),
        abstract=record.get("abstract") or record.get("notes_abstract"),
        authors=record.get("authors") or record.get("first_authors"),
        # Full journal names first (JF, T2), then abbreviations (JO, JA), as MEDLINE JT > TA.
        journal=_first_of(
            record, "alternate_title3", "secondary_title", "journal_name", "alternate_title2"
        ),
        year=year_of(record.get("year") or date),
        month=month_in(date),
        volume=record.get("volume"),
        issue=record.get("number"),
        pages=pages_of(record.get("start_page"), record.get("end_page")),
        doi=doi,
        pmid=pmid,
        url=(record.get("urls") or [None])[0],
    )


def _first_of(record: dict, *keys: str) -> Any:
    """The value of the first key that is present and non-empty."""
    return next((record[k] for k in keys if record.get(k)), None)


def _ris_pmid(record: dict) -> str | None:
    """The PMID in AN (or ID), trusted only when DB/DP names PubMed, MEDLINE or NLM."""
    source = f"{record.get('name_of_database', '')} {record.get('database_provider', '')}".lower()
    if not any(name in source for name in _PUBMED_SOURCES):
        return None
    values = (squash(record.get("accession_number")), squash(record.get("id")))
    return next((v for v in values if v and v.isdigit()), None)


def _ris_skip(record: dict, number: int) -> str:
    """Why a RIS record was skipped, naming it by position and DOI if any."""
    doi = clean_doi(record.get("doi"))
    return f"record {number}{f' (doi {doi})' if doi else ''} has no title or abstract"


# --- BibTeX -------------------------------------------------------------------------------


def load_bibtex(path: Path) -> list[Paper]:
    """Every entry of a BibTeX (or BibLaTeX) file; broken entries are skipped and named."""
    library = bibtexparser.parse_string(
        read_text(path), parse_stack=[*default_parse_stack(), NormalizeFieldKeys()]
    )
    results: list[Paper | str] = [
        _bib_paper(e) or f"entry '{e.key}' has no title or abstract" for e in library.entries
    ]
    results += [_bib_failure(b) for b in library.failed_blocks]
    if not results:
        raise LoadError(path, "no BibTeX entries found")
    return finish(path, results)


def _bib_paper(entry: Entry) -> Paper | None:
    """One BibTeX entry as a Paper; None when it has neither title nor abstract."""
    fields = {key: str(field.value) for key, field in entry.fields_dict.items()}
    # DOIs and URLs are not LaTeX-decoded (that would eat '%' and '~'), only unescaped.
    doi = clean_doi(fields.get("doi", "").replace("\\_", "_"))
    pmid = squash(fields.get("pmid"))
    date = fields.get("date")  # BibLaTeX: date = {2021-11-05}
    return make_paper(
        [*_ids(doi, pmid), f"bibtex:{entry.key}"],
        title=_tex(fields.get("title")),
        abstract=_tex(fields.get("abstract")),
        authors=[_bib_author(n) for n in split_multiple_persons_names(fields.get("author", ""))],
        journal=_tex(_first_of(fields, "journal", "journaltitle", "booktitle")),
        year=year_of(fields.get("year") or date),
        month=month_of(fields.get("month")) or month_in(date),
        volume=fields.get("volume"),
        issue=fields.get("number") or fields.get("issue"),
        pages=pages_of(fields.get("pages")),
        doi=doi,
        pmid=pmid,
        pmcid=fields.get("pmcid"),
        url=fields.get("url", "").replace("\\_", "_").replace("\\%", "%"),
    )


def _tex(value: str | None) -> str | None:
    """LaTeX to plain text: {\\"u} -> ü, $\\beta$ -> β, protective braces dropped."""
    if not value:
        return None
    return squash(_LATEX.latex_to_text(_BARE_TEX_SPECIAL.sub(r"\\\1", value)))


def _bib_author(name: str) -> str | None:
    """One BibTeX name as 'von Last, Jr, First' in plain text."""
    try:
        name = parse_single_name_into_parts(name, strict=False).merge_last_name_first
    except InvalidNameError:  # keep an oddly written name rather than lose it
        pass
    return _tex(name)


def _bib_failure(block: ParsingFailedBlock) -> str:
    """Why a BibTeX block was skipped, naming its key and 1-based line where known."""
    match = _BIB_KEY.match((block.raw or "").lstrip())
    name = f"entry '{match.group(1)}'" if match else "an entry"
    if block.start_line is not None:  # bibtexparser counts lines from 0
        name += f" (line {block.start_line + 1})"
    if isinstance(block, DuplicateBlockKeyBlock):
        return f"{name} repeats an earlier entry's key"
    if isinstance(block, DuplicateFieldKeyBlock):
        return f"{name} has a field twice: {', '.join(sorted(block.duplicate_keys))}"
    detail = squash(getattr(block.error, "abort_reason", None) or block.error)
    return f"{name} is malformed" + (f": {detail}" if detail else "")


# --- CSL-JSON -----------------------------------------------------------------------------


def load_csl_json(path: Path) -> list[Paper]:
    """The items of a CSL-JSON file (Zotero, Mendeley, citeproc): an array or one item."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise LoadError(path, f"invalid JSON at {where}: {exc.msg}") from exc
    items = data if isinstance(data, list) else [data]
    if not any(isinstance(i, dict) and ("type" in i or "title" in i) for i in items):
        raise LoadError(path, "not CSL-JSON: no item has a 'type' or 'title'")
    return finish(path, [_csl_item(i, n) for n, i in enumerate(items, 1)])


def _csl_item(item: Any, number: int) -> Paper | str:
    """One CSL item as a Paper, or why it was skipped (hand-edited files put any JSON type in any field)."""
    try:
        return _csl_paper(item) or _csl_skip(item, number)
    except (TypeError, ValueError, AttributeError, IndexError) as exc:
        label = f" ('{item['id']}')" if isinstance(item.get("id"), (str, int)) else ""
        return f"item {number}{label} has a field of the wrong type ({type(exc).__name__}: {exc})"


def _csl_paper(item: Any) -> Paper | None:
    """One CSL item as a Paper; None when it is not an object or lacks title and abstract."""
    if not isinstance(item, dict):
        return None
    doi, pmid = clean_doi(item.get("DOI")), squash(item.get("PMID"))
    year, month = _csl_date(item.get("issued"))
    abstract = item.get("abstract")
    return make_paper(
        _ids(doi, pmid),
        title=_one(item.get("title")),
        # Crossref abstracts arrive wrapped in JATS tags.
        abstract=_JATS_TAG.sub(" ", abstract) if isinstance(abstract, str) else None,
        authors=[_csl_name(a) for a in item.get("author") or []],
        journal=_one(item.get("container-title")) or _one(item.get("container-title-short")),
        year=year,
        month=month,
        volume=item.get("volume"),
        issue=item.get("issue"),
        pages=pages_of(item.get("page")),
        doi=doi,
        pmid=pmid,
        pmcid=item.get("PMCID"),
        url=item.get("URL"),
    )


def _one(value: Any) -> str | None:
    """A CSL text field; some exporters (Crossref) give a list of strings."""
    if isinstance(value, list):
        value = value[0] if value else None
    return squash(value)


def _csl_name(name: Any) -> str | None:
    """A CSL name as 'particle Family, Given', or its literal form."""
    if not isinstance(name, dict):
        return squash(name)
    if name.get("literal"):
        return squash(name["literal"])
    family = " ".join(str(p) for p in (name.get("non-dropping-particle"), name.get("family")) if p)
    given = squash(name.get("given"))
    return f"{family}, {given}" if family and given else family or given


def _csl_date(issued: Any) -> tuple[int | None, str | None]:
    """(year, month) from CSL 'issued': date-parts first, else its raw or literal text."""
    if not isinstance(issued, dict):
        return year_of(issued), None
    parts = (issued.get("date-parts") or [[]])[0]
    if isinstance(parts, list) and parts:
        return year_of(parts[0]), month_of(parts[1]) if len(parts) > 1 else None
    text = issued.get("raw") or issued.get("literal")
    return year_of(text), month_in(text)


def _csl_skip(item: Any, number: int) -> str:
    """Why a CSL item was skipped, naming it by position and id."""
    if not isinstance(item, dict):
        return f"item {number} is not a JSON object"
    label = f" ('{item['id']}')" if item.get("id") else ""
    return f"item {number}{label} has no title or abstract"
