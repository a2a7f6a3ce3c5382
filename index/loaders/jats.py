"""PMC / JATS full text (.nxml, or .xml whose root is <article> or <pmc-articleset>).

The paper's metadata comes from <front> (<article-meta>, <journal-meta>); its text from <abstract> and <body>, one
Section per <sec> (a nested <sec> keeps its top-level title, 'Results', with its own as subtitle). Each <fig>
becomes a Figure linked to the paper (label, caption, PMC figure link); each <table-wrap> a section of its own,
its rows as text. <back> (references, acknowledgements, footnotes), <sub-article>s and boilerplate sections
(funding, competing interests, author contributions …) are left out. Parsing is safe_xml's.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from litassist.index.errors import LoadError
from litassist.index.loaders import safe_xml
from litassist.index.loaders.fields import make_paper, papers_with_figures, month_of, pages_of, year_of
from litassist.index.loaders.safe_xml import children, first, local, text_of
from litassist.index.records import Figure, Paper, Record, Section
from litassist.index.study import scientific_names, species_of, study_types_from_jats

ROOTS = ("article", "pmc-articleset")
XLINK = "{http://www.w3.org/1999/xlink}href"
# Never quoted as running text: floats are read on their own, the rest is apparatus.
_FLOATS = ("fig", "fig-group", "table-wrap", "table-wrap-group", "supplementary-material", "disp-formula",
           "boxed-text", "ref-list", "fn-group", "fn", "graphic", "media", "object-id")
_BOILERPLATE = re.compile(r"acknowledg|funding|financial support|competing interest|conflicts? of interest|"
                          r"declaration of interest|author(?:s'|s’|'s)? contributions?|abbreviations|"
                          r"supplementary|supporting information|data availability|availability of data|"
                          r"ethics (?:approval|statement)|consent for publication|references", re.IGNORECASE)
_BOILERPLATE_TYPES = {"supplementary-material", "coi-statement", "data-availability", "funding", "ethics-statement",
                      "author-contributions", "acknowledgments", "acknowledgements", "abbreviations"}
_IMAGE = re.compile(r"\.(?:jpe?g|png|gif|tiff?|eps|svg)$", re.IGNORECASE)
_DATE_TYPES = ("epub", "ppub", "collection", "pub", "epub-ppub", "ecollection")


def load(path: Path) -> list[Record]:
    """Every article of a JATS file: its paper, then its figures."""
    root = safe_xml.parse(path)
    name = local(root)
    articles = [root] if name == "article" else children(root, "article") if name == "pmc-articleset" else []
    if not articles:
        raise LoadError(path, f"not JATS: no <article> in <{name}>")
    return papers_with_figures(path, articles, article_paper, article_figures,
                               lambda n, _: f"article {n} has no title or abstract")


def article_paper(article: etree._Element) -> Paper | None:
    """The paper of one <article>: front-matter metadata, abstract and body sections."""
    meta = first(article, "front", "article-meta")
    journal = first(article, "front", "journal-meta")
    ids = {(node.get("pub-id-type") or "").lower(): text_of(node) for node in children(meta, "article-id")}
    date = publication_date(meta)
    subjects = [text_of(s) for g in _iter(meta, "subj-group") if (g.get("subj-group-type") or "heading") == "heading"
                for s in children(g, "subject")]
    paper = make_paper(
        [ids.get("pmid"), _pmcid(ids), f"doi:{ids['doi'].lower()}" if ids.get("doi") else None],
        title=text_of(first(meta, "title-group", "article-title"), _FLOATS),
        abstract=abstract_text(meta),
        authors=authors(meta),
        journal=text_of(first(journal, "journal-title-group", "journal-title")) or text_of(first(journal, "journal-title")),
        year=year_of(text_of(first(date, "year"))) if date is not None else None,
        month=month_of(text_of(first(date, "month"))) if date is not None else None,
        volume=text_of(first(meta, "volume")), issue=text_of(first(meta, "issue")),
        pages=pages_of(text_of(first(meta, "fpage")), text_of(first(meta, "lpage"))) or text_of(first(meta, "elocation-id")),
        doi=ids.get("doi"), pmid=ids.get("pmid"), pmcid=_pmcid(ids),
        study_types=study_types_from_jats(article.get("article-type"), subjects),
        species=species_of(text_of(k) for g in _iter(meta, "kwd-group") if _organism_group(g) for k in children(g, "kwd")),
    )
    if paper is None:
        return None
    sections = body_sections(first(article, "body")) + table_sections(article)
    return paper.model_copy(update={"sections": sections}) if sections else paper


def _pmcid(ids: dict[str, str]) -> str | None:
    """The PMC id, written 'pmc' (digits) in older files and 'pmcid' in newer ones."""
    return ids.get("pmcid") or ids.get("pmc") or None


def _iter(element: etree._Element | None, name: str) -> list[etree._Element]:
    """Descendants with this local name (front matter only: bodies are walked section by section)."""
    return [e for e in element.iter() if local(e) == name] if element is not None else []


def _organism_group(group: etree._Element) -> bool:
    """A keyword group naming organisms: eLife's 'research-organism', or MeSH terms."""
    kind = (group.get("kwd-group-type") or "").lower()
    title = text_of(first(group, "title")).lower()
    return kind in ("research-organism", "mesh") or "organism" in title


def publication_date(meta: etree._Element | None) -> etree._Element | None:
    """The <pub-date> to cite: electronic or print publication before others."""
    dates = children(meta, "pub-date")
    kind = lambda d: (d.get("pub-type") or d.get("date-type") or "").lower()  # noqa: E731
    ranked = sorted(dates, key=lambda d: _DATE_TYPES.index(kind(d)) if kind(d) in _DATE_TYPES else len(_DATE_TYPES))
    return ranked[0] if ranked else None


def authors(meta: etree._Element | None) -> list[str]:
    """'Surname, Given-names' of each author contrib, or the collaboration's name."""
    names = []
    for group in children(meta, "contrib-group"):
        for contrib in children(group, "contrib"):
            if (contrib.get("contrib-type") or "author") != "author":
                continue
            name = first(contrib, "name")
            surname, given = text_of(first(name, "surname")), text_of(first(name, "given-names"))
            names.append(f"{surname}, {given}" if surname and given else surname or text_of(first(contrib, "collab")))
    return [n for n in names if n]


def abstract_text(meta: etree._Element | None) -> str:
    """The main abstract (not a graphical or teaser one); its titled parts as 'Title: text'."""
    for abstract in children(meta, "abstract"):
        if (abstract.get("abstract-type") or "") in ("graphical", "teaser", "author-highlights", "toc"):
            continue
        parts = [f"{text_of(first(sec, 'title'))}: {paragraphs(sec)}".strip(": ") for sec in children(abstract, "sec")]
        return " ".join([paragraphs(abstract), *parts]).strip()
    return ""


def paragraphs(element: etree._Element | None) -> str:
    """The running text of an element's own <p> children, floats left out."""
    return "\n\n".join(t for t in (text_of(p, _FLOATS) for p in children(element, "p")) if t)


def body_sections(body: etree._Element | None) -> list[Section]:
    """One Section per <sec> with text, in document order; text before any <sec> is 'Main text'."""
    if body is None:
        return []
    found = [Section(title="Main text", text=text)] if (text := paragraphs(body)) else []
    for sec in children(body, "sec"):
        found += sec_sections(sec, top=None)
    return found


def sec_sections(sec: etree._Element, top: str | None) -> list[Section]:
    """A <sec> and its nested ones; boilerplate sections are left out with everything inside them."""
    title = text_of(first(sec, "title"), _FLOATS)
    if (sec.get("sec-type") or "").lower() in _BOILERPLATE_TYPES or (title and _BOILERPLATE.search(title)):
        return []
    heading = top or title or "Main text"
    text = paragraphs(sec)
    found = [Section(title=heading, subtitle=title if top and title else None, text=text)] if text else []
    for child in children(sec, "sec"):
        found += sec_sections(child, heading)
    return found


def table_sections(article: etree._Element) -> list[Section]:
    """Each <table-wrap> of the body as a section: its label, caption and rows as text."""
    body = first(article, "body")
    floats = first(article, "floats-group")
    found = []
    for wrap in [w for part in (body, floats) if part is not None for w in part.iter() if local(w) == "table-wrap"]:
        label = text_of(first(wrap, "label")) or "Table"
        caption = text_of(first(wrap, "caption"), _FLOATS)
        rows = [table_rows(t) for t in wrap.iter() if local(t) == "table"]
        text = " ".join(p for p in [caption, *[r for rs in rows for r in rs]] if p)
        if text:
            found.append(Section(title=label.rstrip(".:"), text=text))
    return found


def table_rows(table: etree._Element) -> list[str]:
    """Rows as sentences: 'YAP1: Fold change 3.2; P 0.001.' under a header row, else cells joined by ';'."""
    rows = [[text_of(c, _FLOATS) for c in tr if local(c) in ("td", "th")] for tr in table.iter() if local(tr) == "tr"]
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    header, rest = (rows[0], rows[1:]) if len(rows) > 1 else ([], rows)
    out = []
    for row in rest:
        pairs = [f"{h} {v}".strip() for h, v in zip(header[1:], row[1:]) if v] if header else [c for c in row[1:] if c]
        out.append(f"{row[0]}: {'; '.join(pairs)}." if pairs else f"{row[0]}.")
    return out


def article_figures(article: etree._Element, paper: Paper) -> list[Figure]:
    """Each <fig> of the body (or floats group) as a Figure of this paper."""
    figures = []
    parts = [p for p in (first(article, "body"), first(article, "floats-group")) if p is not None]
    for fig in [f for part in parts for f in part.iter() if local(f) == "fig"]:
        figure = jats_figure(fig, paper, len(figures) + 1)
        if figure is not None:
            figures.append(figure)
    return figures


def jats_figure(fig: etree._Element, paper: Paper, number: int) -> Figure | None:
    """One <fig>: label, caption title and text, and its PMC figure page; None when it has no caption at all."""
    caption = first(fig, "caption")
    title = text_of(first(caption, "title"), _FLOATS)
    text = paragraphs(caption) or title
    if not text:
        return None
    fig_id = fig.get("id") or f"F{number}"
    graphic = next((g.get(XLINK) for g in fig.iter() if local(g) == "graphic" and g.get(XLINK)), None)
    # PFOCR names a figure '<PMCID>__<graphic file>': the same figure read from both is then one source.
    stem = _IMAGE.sub("", graphic) if graphic else fig_id
    owner = paper.pmcid or paper.source_id
    return Figure(
        source_id=f"{owner}__{stem}", figid=f"{owner}__{stem}", number=text_of(first(fig, "label")) or fig_id,
        figtitle=title or None, caption=text, organisms=scientific_names(paper.species), papertitle=paper.title,
        pmcid=paper.pmcid, figlink=f"/pmc/articles/{paper.pmcid}/figure/{fig_id}/" if paper.pmcid else None,
        year=paper.year, doi=paper.doi, journal=paper.journal, study_types=paper.study_types,
        paper_id=paper.source_id,
    )
