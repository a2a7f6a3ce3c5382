"""`litassist fetch` against a loopback server that answers like NCBI E-utilities (esearch JSON, efetch PubMed XML
and PMC JATS, NCBI's error shapes), never the real service; and no other command opening a connection."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from litassist.assistant.errors import FetchError
from litassist.assistant.eutils import Eutils
from litassist.assistant.fetch import fetch_pubmed
from litassist.assistant.settings import FetchSettings
from tests.conftest import free_port
from tests.test_security import HOOK

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Record:
    """A PubMed record the fake service holds."""

    pmid: str
    title: str
    abstract: str
    year: int = 2004


RECORDS = [
    Record("31000001", "HER2 signalling raises CXCR4 in breast cancer cells",
           "HER2 increases the expression of the chemokine receptor CXCR4 in breast cancer cells, which is required "
           "for HER2-mediated invasion in vitro and lung metastasis in vivo. HER2 enhances CXCR4 expression by "
           "inhibiting its ligand-induced degradation."),
    Record("31000002", "Tamoxifen response in estrogen receptor positive breast cancer",
           "Estrogen receptor positive breast cancer responds to tamoxifen in most patients. Resistance arises after "
           "years of treatment.", 2011),
    Record("31000003", "Mammographic screening and breast cancer mortality",
           "Regular mammographic screening lowered breast cancer mortality in women aged 50 to 69.", 2015),
    Record("31000004", "Erythrocyte invasion by Plasmodium falciparum merozoites",
           "Merozoites bind glycophorin A before they enter red blood cells.", 2009),
]
PMC_ID = "4267894"
NOT_IN_PMC = "999"


def pubmed_article(r: Record) -> str:
    """One <PubmedArticle> in the shape efetch db=pubmed retmode=xml returns."""
    return f"""<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{r.pmid}</PMID>
<Article PubModel="Print"><Journal><ISSN IssnType="Print">0000-0000</ISSN><JournalIssue CitedMedium="Print">
<Volume>5</Volume><Issue>2</Issue><PubDate><Year>{r.year}</Year><Month>Feb</Month></PubDate></JournalIssue>
<Title>Journal of Loopback Oncology</Title></Journal><ArticleTitle>{r.title}</ArticleTitle>
<Pagination><MedlinePgn>10-20</MedlinePgn></Pagination><Abstract><AbstractText>{r.abstract}</AbstractText></Abstract>
<AuthorList CompleteYN="Y"><Author ValidYN="Y"><LastName>Rivera</LastName><ForeName>Ana</ForeName><Initials>A</Initials>
</Author></AuthorList><Language>eng</Language></Article></MedlineCitation><PubmedData><ArticleIdList>
<ArticleId IdType="pubmed">{r.pmid}</ArticleId></ArticleIdList></PubmedData></PubmedArticle>"""


def pmc_article(number: str) -> str:
    """One open-access JATS <article> as efetch db=pmc returns it."""
    return f"""<article xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:mml="http://www.w3.org/1998/Math/MathML"
 article-type="research-article"><?properties open_access?><front><journal-meta><journal-title-group>
<journal-title>Loopback Biology</journal-title></journal-title-group></journal-meta><article-meta>
<article-id pub-id-type="pmid">31000001</article-id><article-id pub-id-type="pmc">{number}</article-id>
<title-group><article-title>CXCR4 degradation in HER2 positive tumours</article-title></title-group>
<pub-date pub-type="epub"><year>2014</year></pub-date><abstract><p>HER2 slows CXCR4 degradation.</p></abstract>
</article-meta></front><body><sec><title>Results</title><p>CXCR4 protein stayed high when HER2 was expressed.</p>
</sec></body></article>"""


@dataclass
class FakeEutils:
    """The loopback service's state: its records, the requests it saw (arrival time, endpoint, parameters) and
    errors to answer before answering normally."""

    records: list[Record]
    requests: list[tuple[float, str, dict[str, str]]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    url: str = ""

    def calls(self, endpoint: str) -> list[dict[str, str]]:
        """The parameters of every request to one endpoint."""
        return [params for _, name, params in self.requests if name == endpoint]

    def answer(self, endpoint: str, params: dict[str, str]) -> tuple[int, str, str]:
        """(status, content type, body) for one request."""
        if self.errors:
            status, body = self.errors.pop(0)
            return status, "application/json", body
        if endpoint == "esearch.fcgi":
            return 200, "application/json", self.esearch(params)
        if endpoint == "efetch.fcgi" and params.get("db") == "pmc":
            return 200, "text/xml", self.efetch_pmc(params["id"].split(","))
        if endpoint == "efetch.fcgi":
            wanted = params["id"].split(",")
            found = "\n".join(pubmed_article(r) for r in self.records if r.pmid in wanted)
            return 200, "text/xml", ('<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
                                     '1st January 2024//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_240101.dtd">\n'
                                     f"<PubmedArticleSet>\n{found}\n</PubmedArticleSet>")
        return 404, "text/plain", "unknown endpoint"

    def esearch(self, params: dict[str, str]) -> str:
        """Records whose title or abstract holds every word of the term, newest PMID first, as esearch JSON."""
        words = params["term"].lower().replace('"', "").split()
        hits = [r.pmid for r in sorted(self.records, key=lambda r: r.pmid, reverse=True)
                if all(w in f"{r.title} {r.abstract}".lower() for w in words)]
        start, count = int(params.get("retstart", 0)), int(params.get("retmax", 20))
        return json.dumps({"header": {"type": "esearch", "version": "0.3"},
                           "esearchresult": {"count": str(len(hits)), "retmax": str(len(hits[start:start + count])),
                                             "retstart": str(start), "idlist": hits[start:start + count],
                                             "translationset": [], "querytranslation": params["term"]}})

    def efetch_pmc(self, numbers: list[str]) -> str:
        """A pmc-articleset: the article for PMC_ID, NCBI's error element for any other id."""
        parts = [pmc_article(n) if n == PMC_ID else f'<error id="{n}">The following PMCID is not available: {n}</error>'
                 for n in numbers]
        return ('<?xml version="1.0" ?>\n<!DOCTYPE pmc-articleset PUBLIC "-//NLM//DTD ARTICLE SET 2.0//EN" '
                '"https://dtd.nlm.nih.gov/ncbi/pmc/articleset/nlm-articleset-2.0.dtd">\n'
                f"<pmc-articleset>{''.join(parts)}</pmc-articleset>")


@pytest.fixture()
def eutils(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEutils]:
    """The loopback E-utilities service, with LITASSIST_FETCH__BASE_URL pointing at it."""
    fake = FakeEutils(list(RECORDS))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(url.query).items()}
            endpoint = url.path.rsplit("/", 1)[-1]
            fake.requests.append((time.monotonic(), endpoint, params))
            status, kind, body = fake.answer(endpoint, params)
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/entrez/eutils/"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LITASSIST_FETCH__BASE_URL", fake.url)
    monkeypatch.setenv("LITASSIST_FETCH__BACKOFF_S", "0.01")
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_pubmed_writes_ingests_and_ask_cites_the_paper_then_reruns_fetch_only_new(eutils, run_cli, tmp_path):
    home = tmp_path / "home"
    code, _, err = run_cli("--home", home, "fetch", "pubmed", "breast cancer")
    assert code == 0, err
    assert "PubMed: 3 records match 'breast cancer'; 3 new, 0 already fetched" in err
    folder = home / "fetched" / "pubmed"
    assert sorted(p.name for p in folder.iterdir()) == ["31000001.xml", "31000002.xml", "31000003.xml"]
    assert "3 added" in err
    # Every request names the tool and nothing else about the user (no email or key is set).
    assert all(set(params) - {"db", "term", "retstart", "retmax", "retmode", "id", "rettype"} == {"tool"}
               and params["tool"] == "litassist" for _, _, params in eutils.requests)
    assert eutils.calls("efetch.fcgi")[0]["id"] == "31000003,31000002,31000001"

    code, out, err = run_cli("--home", home, "ask", "How does HER2 affect CXCR4?")
    assert code == 0, err
    assert "HER2 enhances CXCR4 expression" in out and "https://pubmed.ncbi.nlm.nih.gov/31000001/" in out

    # A record new to the search is fetched alone; the three fetched before are not asked for again.
    eutils.records.append(Record("31000005", "Breast cancer incidence in Norway", "Breast cancer incidence rose."))
    code, _, err = run_cli("--home", home, "fetch", "pubmed", "breast cancer")
    assert code == 0, err
    assert "4 records match 'breast cancer'; 1 new, 3 already fetched" in err
    assert [c["id"] for c in eutils.calls("efetch.fcgi")] == ["31000003,31000002,31000001", "31000005"]
    assert "1 added" in err and "31000001.xml" not in err  # unchanged files are not listed

    before = len(eutils.requests)
    code, _, err = run_cli("--home", home, "fetch", "pubmed", "breast cancer")
    assert code == 0, err
    assert "0 new, 4 already fetched" in err
    assert [name for _, name, _ in eutils.requests[before:]] == ["esearch.fcgi"]  # the search only, no efetch


def test_max_takes_the_first_records_and_pages_the_search(eutils, monkeypatch, tmp_path):
    settings = FetchSettings(base_url=eutils.url, search_page=1, batch_size=2)
    with Eutils(settings) as client:
        result = fetch_pubmed(client, tmp_path, "breast cancer", limit=2)
    assert result.found == 3 and result.ids == ["31000003", "31000002"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["31000002.xml", "31000003.xml"]
    assert [(c["retstart"], c["retmax"]) for c in eutils.calls("esearch.fcgi")] == [("0", "1"), ("1", "1")]
    root = ET.parse(tmp_path / "31000003.xml").getroot()  # a PubmedArticleSet the PubMed loader reads
    assert root.tag == "PubmedArticleSet" and root.findtext("PubmedArticle/MedlineCitation/PMID") == "31000003"


def test_rate_limit_and_429_are_honoured_then_the_fetch_succeeds(eutils, tmp_path):
    eutils.errors.append((429, '{"error":"API rate limit exceeded","api-key":"127.0.0.1","count":"4","limit":"3"}'))
    settings = FetchSettings(base_url=eutils.url, search_page=1, batch_size=1, backoff_s=0.01)
    with Eutils(settings) as client:
        result = fetch_pubmed(client, tmp_path, "breast cancer", limit=3)
    assert len(result.written) == 3
    names = [name for _, name, _ in eutils.requests]
    assert names[:2] == ["esearch.fcgi", "esearch.fcgi"]  # the 429 was asked again
    assert len(names) == 1 + 3 + 3  # the refused try, 3 search pages, 3 fetches
    times = [t for t, _, _ in eutils.requests]
    # NCBI's limit without a key: no more than 3 requests in any one second, as the server saw them arrive.
    assert all(later - first >= 1.0 for first, later in zip(times, times[3:])), times


def test_an_api_key_is_sent_and_allows_10_requests_a_second(eutils, tmp_path):
    eutils.records += [Record(f"3200000{n}", f"Breast cancer cohort {n}", "A cohort study.") for n in range(6)]
    settings = FetchSettings(base_url=eutils.url, search_page=1, batch_size=1, api_key="k3y", email="me@lab.org")
    with Eutils(settings) as client:
        fetch_pubmed(client, tmp_path, "breast cancer", limit=9)
    assert all(p["api_key"] == "k3y" and p["email"] == "me@lab.org" for _, _, p in eutils.requests)
    times = [t for t, _, _ in eutils.requests]
    assert len(times) == 18  # 9 search pages, 9 fetches
    assert all(later - first >= 1.0 for first, later in zip(times, times[10:]))
    assert times[3] - times[0] < 1.0  # faster than the keyless limit allows


def test_server_errors_are_retried_then_reported_in_one_line(eutils, run_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("LITASSIST_FETCH__RETRIES", "2")
    eutils.errors.extend([(503, "<html><body>Service Unavailable</body></html>")] * 5)
    code, out, err = run_cli("--home", tmp_path, "fetch", "pubmed", "breast cancer")
    assert code == 1 and out == ""
    host = urlsplit(eutils.url).netloc
    assert err.strip() == f"error: {host} answered HTTP 503: <html><body>Service Unavailable</body></html> (gave up after 3 tries)"
    assert len(eutils.requests) == 3
    assert not (tmp_path / "fetched").exists()


def test_a_refused_request_is_not_retried(eutils, run_cli, tmp_path):
    eutils.errors.append((400, '{"error":"API key invalid","api-key":"bad","type":"api-key","status":"unknown"}'))
    code, _, err = run_cli("--home", tmp_path, "fetch", "pubmed", "breast cancer")
    assert code == 1
    assert err.strip().endswith("refused the request: HTTP 400: API key invalid")
    assert len(eutils.requests) == 1


def test_fetch_pmc_writes_the_article_and_names_ids_pmc_does_not_have(eutils, run_cli, tmp_path):
    code, _, err = run_cli("--home", tmp_path, "fetch", "pmc", f"PMC{PMC_ID}", f"PMC{NOT_IN_PMC}")
    assert code == 3, err  # partial: one of the two ids got no article
    assert f"warning: PMC{NOT_IN_PMC}: The following PMCID is not available: {NOT_IN_PMC}" in err
    article = ET.parse(tmp_path / "fetched" / "pmc" / f"PMC{PMC_ID}.nxml").getroot()
    assert article.tag == "article" and "CXCR4 protein stayed high" in "".join(article.find("body").itertext())
    assert eutils.calls("efetch.fcgi")[0]["id"] == f"{PMC_ID},{NOT_IN_PMC}"

    code, _, err = run_cli("--home", tmp_path, "fetch", "pmc", PMC_ID)  # fetched before: no request
    assert "1 article already fetched" in err and len(eutils.calls("efetch.fcgi")) == 1


def test_a_malformed_pmc_id_is_refused_before_any_request(eutils, run_cli, tmp_path):
    code, _, err = run_cli("--home", tmp_path, "fetch", "pmc", "PMC4267894", "PMCabc")
    assert code == 1 and err.strip() == "error: 'PMCabc' is not a PMC id: expected PMC followed by digits, e.g. PMC4267894"
    assert eutils.requests == []


def test_an_esearch_error_is_a_fetch_error(eutils, tmp_path):
    eutils.errors.append((200, '{"header":{"type":"esearch","version":"0.3"},"esearchresult":{"ERROR":"Invalid query"}}'))
    with Eutils(FetchSettings(base_url=eutils.url)) as client, pytest.raises(FetchError, match="Invalid query"):
        fetch_pubmed(client, tmp_path, "breast cancer", limit=3)


SESSION = """
import sys
from litassist.assistant.cli import main
for args in sys.argv[1:]:
    sys.argv = ["litassist", *args.split("|")]
    try:
        main()
    except SystemExit as exc:
        print(f"exit {exc.code}", file=sys.stderr)
"""


def test_only_fetch_reaches_out_and_says_so_in_one_line(corpus_home, tmp_path):
    """ingest, ask and sources open no connection off this machine; fetch (at NCBI's real address) tries to."""
    hook_dir, log = tmp_path / "hook", tmp_path / "net.log"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
    home = shutil.copytree(corpus_home, tmp_path / "home")
    note = tmp_path / "note.md"
    note.write_text("# Kinase note\n\nEGFR dimerises with HER2 after ligand binding.\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITASSIST_") and "proxy" not in k.lower()}
    env.update(PYTHONPATH=os.pathsep.join([str(hook_dir), str(ROOT)]), LITASSIST_TEST_NETLOG=str(log),
               LITASSIST_EMBEDDING__BACKEND="torch", LITASSIST_FETCH__RETRIES="0")
    commands = [f"--home|{home}|ingest|{note}", f"--home|{home}|ask|How does HER2 affect CXCR4?",
                f"--home|{home}|sources"]
    run = subprocess.run([sys.executable, "-c", SESSION, *commands], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.stderr.count("exit") == 0 and "CXCR4" in run.stdout, run.stderr
    assert [line for line in log.read_text().splitlines() if line.startswith("blocked")] == []

    run = subprocess.run([sys.executable, "-c", SESSION, f"--home|{home}|fetch|pubmed|HER2"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert "blocked lookup 'eutils.ncbi.nlm.nih.gov'" in log.read_text()
    assert run.stderr.splitlines() == [
        "error: cannot reach eutils.ncbi.nlm.nih.gov (no network?): test: no name lookup off this machine "
        "('eutils.ncbi.nlm.nih.gov') (gave up after 1 try)", "exit 1"], run.stderr
