"""`litassist fetch`: PubMed records and PMC full texts written as files under <home>/fetched/, one per article.

PubMed records go to fetched/pubmed/<PMID>.xml (a one-article PubmedArticleSet, read by index/loaders/pubmed.py),
PMC articles to fetched/pmc/PMC<id>.nxml (the JATS article as PMC sends it). A record whose file exists is not
asked for again, so re-running a search fetches only what is new.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from litassist.assistant.errors import FetchError
from litassist.assistant.eutils import Eutils

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
_PUBMED_ARTICLE = re.compile(r"<PubmedArticle(?=[\s>]).*?</PubmedArticle>", re.DOTALL)
_PMC_ARTICLE = re.compile(r"<article(?=[\s>]).*?</article>", re.DOTALL)
_PMCID = re.compile(r"(?:PMC)?(\d{1,12})", re.IGNORECASE)

Progress = Callable[[int], None]  # told how many more records are done


@dataclass
class FetchResult:
    """What one fetch did: the ids it covered, the files it wrote, and why any id got no file."""

    found: int  # records matching the search (pmc: ids asked for)
    ids: list[str]  # the ids this run covers, in order
    already: list[str] = field(default_factory=list)  # had a file before this run
    written: list[Path] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)  # id -> reason
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # every covered id's file that exists now, for the ingest


Plan = Callable[[FetchResult], None]  # told which ids are new before any is fetched


def pubmed_path(folder: Path, pmid: str) -> Path:
    """Where one PubMed record is kept."""
    return folder / f"{pmid}.xml"


def pmc_path(folder: Path, number: str) -> Path:
    """Where one PMC article is kept."""
    return folder / f"PMC{number}.nxml"


def search_ids(client: Eutils, query: str, limit: int) -> tuple[int, list[str]]:
    """(records matching in all, the first `limit` PMIDs), paged through esearch."""
    page_size = client.settings.search_page
    first = client.esearch("pubmed", query, 0, min(page_size, limit))
    ids = dict.fromkeys(first.ids)  # ordered, and a record new to PubMed between pages cannot repeat an id
    start = len(first.ids)
    while start < min(limit, first.count):
        page = client.esearch("pubmed", query, start, min(page_size, limit - start))
        if not page.ids:  # the result shrank while we paged: take what there is
            break
        ids.update(dict.fromkeys(page.ids))
        start += len(page.ids)
    return first.count, list(ids)[:limit]


def fetch_pubmed(client: Eutils, folder: Path, query: str, limit: int,
                 progress: Progress = lambda n: None, on_plan: Plan = lambda r: None) -> FetchResult:
    """Search PubMed and write each new record's PubMed XML under `folder`; `on_plan` hears what is new first."""
    found, ids = search_ids(client, query, limit)
    result = FetchResult(found=found, ids=ids, already=[i for i in ids if pubmed_path(folder, i).exists()])
    on_plan(result)
    done = set(result.already)
    todo = [i for i in ids if i not in done]
    for batch in batches(todo, client.settings.batch_size):
        text = client.efetch("pubmed", batch, rettype="abstract", retmode="xml")
        articles = pubmed_articles(text, client.host)
        for pmid in batch:
            if pmid in articles:
                result.written.append(write_atomic(pubmed_path(folder, pmid), pubmed_file(articles[pmid])))
            else:
                result.unavailable[pmid] = "efetch returned no PubmedArticle for it (a book record, or withdrawn)"
        progress(len(batch))
    result.files = [p for p in (pubmed_path(folder, i) for i in ids) if p.exists()]
    return result


def pubmed_articles(text: str, host: str) -> dict[str, str]:
    """PMID -> the raw <PubmedArticle> element, from an efetch PubMed XML answer."""
    if "<PubmedArticleSet" not in text:
        raise FetchError(f"{host} sent no PubmedArticleSet: {text.strip()[:120]!r}")
    articles = {}
    for raw in _PUBMED_ARTICLE.findall(text):
        pmid = parsed(raw, host).findtext("MedlineCitation/PMID")
        if pmid and pmid.strip():
            articles[pmid.strip()] = raw
    return articles


def pubmed_file(article: str) -> str:
    """One <PubmedArticle> as a PubMed XML file."""
    return f"{XML_HEAD}<PubmedArticleSet>\n{article}\n</PubmedArticleSet>\n"


def pmc_number(text: str) -> str:
    """'PMC4267894' or '4267894' -> '4267894'; FetchError for anything else."""
    match = _PMCID.fullmatch(text.strip())
    if not match:
        raise FetchError(f"'{text}' is not a PMC id: expected PMC followed by digits, e.g. PMC4267894")
    return str(int(match.group(1)))


def fetch_pmc(client: Eutils, folder: Path, pmcids: list[str], progress: Progress = lambda n: None,
              on_plan: Plan = lambda r: None) -> FetchResult:
    """Write each new PMC article's JATS XML under `folder` (ids checked before any request)."""
    numbers = list(dict.fromkeys(pmc_number(i) for i in pmcids))
    result = FetchResult(found=len(numbers), ids=numbers,
                         already=[n for n in numbers if pmc_path(folder, n).exists()])
    on_plan(result)
    done = set(result.already)
    todo = [n for n in numbers if n not in done]
    for batch in batches(todo, client.settings.batch_size):
        articles, errors = pmc_articles(client.efetch("pmc", batch, retmode="xml"), client.host)
        for number in batch:
            if number in articles:
                raw, has_body = articles[number]
                result.written.append(write_atomic(pmc_path(folder, number), XML_HEAD + raw + "\n"))
                if not has_body:
                    result.notes.append(f"PMC{number}: PMC sends no full text for it (not in the open-access "
                                        "subset): only its metadata and abstract were saved")
            else:
                result.unavailable[number] = errors.get(number, "PMC returned no article for it")
        progress(len(batch))
    result.files = [p for p in (pmc_path(folder, n) for n in numbers) if p.exists()]
    return result


def pmc_articles(text: str, host: str) -> tuple[dict[str, tuple[str, bool]], dict[str, str]]:
    """From an efetch PMC answer: PMC number -> (raw <article>, whether it has a body), and PMC number -> NCBI's
    error for ids it could not serve."""
    root = parsed(text, host)
    if root.tag != "pmc-articleset":
        raise FetchError(f"{host} sent no pmc-articleset: {text.strip()[:120]!r}")
    errors = {}
    # <error id="N">The following PMCID is not available: N</error>, or older: <Reply Id="N" error="…"/>
    for node in root.iter("error"):
        errors[_digits(node.get("id"))] = "".join(node.itertext()).strip()
    for node in root.iter("Reply"):
        if node.get("error"):
            errors[_digits(node.get("Id"))] = node.get("error", "")
    articles = {}
    for raw in _PMC_ARTICLE.findall(text):
        article = parsed(raw, host)
        ids = {n.get("pub-id-type"): (n.text or "").strip() for n in article.iterfind("front/article-meta/article-id")}
        number = _digits(ids.get("pmc") or ids.get("pmcid") or ids.get("pmcaid"))
        if number:
            articles[number] = (raw, article.find("body") is not None)
    return articles, errors


def _digits(text: str | None) -> str:
    """The PMC number in 'PMC123' or '123' ('' when none)."""
    match = _PMCID.fullmatch((text or "").strip())
    return str(int(match.group(1))) if match else ""


def parsed(text: str, host: str) -> ET.Element:
    """The XML's root element; FetchError when it is not well-formed (ElementTree never fetches a DTD)."""
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise FetchError(f"{host} sent XML litassist cannot read ({exc})") from exc


def batches(ids: list[str], size: int) -> list[list[str]]:
    """ids in runs of at most `size`."""
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def write_atomic(path: Path, text: str) -> Path:
    """Write via a temporary file and a rename, so an interrupted fetch never leaves half a record behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
