"""Study types, species, retractions and one-paper-one-source, end to end: the real store and encoder over
tests/data/formats, asked through the real `litassist` entry point."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from litassist.assistant.cards import source_cards
from litassist.assistant.citations import to_markdown
from litassist.assistant.models import Answer
from tests.conftest import ingest, store_at
from litassist.index.records import Figure, Paper

FORMATS = Path(__file__).parent / "data" / "formats"
PFOCR_FIGURE = """---
figid: PMC6400001__hepres-49-201-g009
figtitle: YAP1 and TEAD in regenerating liver
organisms:
- Mus musculus
pmcid: PMC6400001
figlink: /pmc/articles/PMC6400001/figure/F9/
number: F9
caption: A pathway diagram of YAP1 and TEAD driving cyclin D1 in regenerating hepatocytes.
papertitle: YAP1 drives hepatocyte proliferation after partial hepatectomy in mice
year: '2019'
---
"""
YAP_QUESTION = "How quickly does YAP1 enter the nucleus after partial hepatectomy?"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, encoder) -> Path:
    """A data home with every file of tests/data/formats ingested (the MEDLINE record of the YAP1 paper first)."""
    home = tmp_path_factory.mktemp("formats_home")
    report = ingest([FORMATS], store_at(home, encoder.name), encoder)
    assert not report.problems, report.problems
    return home


def test_a_paper_from_medline_and_from_pmc_xml_is_one_source_with_the_full_text_and_the_retraction(home, encoder):
    store = store_at(home, encoder.name)
    rows = [r for r in store.sources() if r.source_id == "31000001"]
    assert len(rows) == 1 and rows[0].file.endswith("yap1_regeneration.nxml")  # the fuller version stays
    paper = store.record("31000001")
    assert isinstance(paper, Paper) and paper.flag == "retracted"  # the notice came with the MEDLINE record
    assert [n.pmid for n in paper.notices] == ["34000001", "31000099"]
    figures = [store.record(r.source_id) for r in store.sources() if r.source_id.startswith("PMC6400001__")]
    assert figures and all(isinstance(f, Figure) and f.paper_id == "31000001" for f in figures)


def test_the_same_paper_in_the_other_order_is_one_source_too(tmp_path, encoder):
    store = store_at(tmp_path / "home", encoder.name)
    ingest([FORMATS / "yap1_regeneration.nxml"], store, encoder)
    report = ingest([FORMATS / "retracted.nbib"], store, encoder)
    assert "'31000001' is already indexed from" in report.outcomes[0].reason
    rows = [r for r in store.sources() if r.source_id == "31000001"]
    assert len(rows) == 1 and rows[0].file.endswith("yap1_regeneration.nxml") and rows[0].chunks > 1
    assert store.record("31000001").flag == "retracted"  # written over the full text's chunks after the ingest
    assert store.bm25.mask(make_where(species="mouse")).sum() == rows[0].chunks + 2  # the paper and its figures


def make_where(**filters):
    """A SearchFilter as the CLI builds it."""
    from litassist.assistant.filters import make_filter

    return make_filter(**filters)


def test_a_figure_indexed_before_or_after_its_paper_links_to_it(tmp_path, encoder):
    figure = tmp_path / "PMC6400001__hepres-49-201-g009.md"
    figure.write_text(PFOCR_FIGURE)
    store = store_at(tmp_path / "before", encoder.name)
    ingest([figure], store, encoder)
    ingest([FORMATS / "yap1_regeneration.nxml"], store, encoder)
    assert store.record("PMC6400001__hepres-49-201-g009").paper_id == "31000001"
    store = store_at(tmp_path / "after", encoder.name)
    ingest([FORMATS / "yap1_regeneration.nxml"], store, encoder)
    ingest([figure], store, encoder)
    assert store.record("PMC6400001__hepres-49-201-g009").paper_id == "31000001"


def test_a_sentence_quoted_from_a_retracted_paper_is_flagged_in_text_json_and_markdown(home, run_cli):
    code, out, _ = run_cli("--home", home, "ask", YAP_QUESTION, "--json")
    answer = Answer.model_validate_json(out)
    cited = {c.source_id: c for c in answer.citations}
    assert code == 0 and "31000001" in cited
    paper = cited["31000001"]
    assert paper.retracted is True and paper.flag == "retracted"
    assert paper.notices[0].startswith("Retraction in: Hepatol Res. 2021") and "PMID 34000001" in paper.notices[0]
    assert set(paper.sections) <= {"Abstract", "Results", "Discussion", "Introduction", "Table 1"} and paper.sections
    quoted = [s for s in answer.sentences if paper.n in s.citations]
    assert quoted and all(s.flags == ["retracted"] for s in quoted)
    assert answer.answer.count(f"[{paper.n}] (RETRACTED)") == len(quoted)
    assert len({c.source_id for c in answer.citations}) == len(answer.citations)  # never the same paper twice
    code, text, _ = run_cli("--home", home, "ask", YAP_QUESTION)
    assert f"[{paper.n}] (RETRACTED)" in text
    assert "(paper, " in text and "RETRACTED: Retraction in: Hepatol Res. 2021" in text
    assert "Sources: 1 mouse study" in text and "(1 retracted)" in text
    markdown = to_markdown(answer)
    assert "**RETRACTED: Retraction in: Hepatol Res. 2021" in markdown and f"[{paper.n}] (RETRACTED)" in markdown


def test_the_card_of_a_retracted_paper_shows_the_flag_the_notice_and_its_badges(home, encoder, run_cli):
    _, out, _ = run_cli("--home", home, "ask", YAP_QUESTION, "--json")
    answer = Answer.model_validate_json(out)
    store = store_at(home, encoder.name)
    cards = source_cards(answer, {c.source_id: store.record(c.source_id) for c in answer.citations})
    card = cards[cards.index('id="src-1-'):]
    assert '<span class="la-flag">RETRACTED</span>' in cards
    assert "Retraction in: Hepatol Res. 2021 Jun;51(6):700." in cards
    assert '<span class="la-tag la-species">mouse</span>' in card and "Quoted from: " in cards
    assert "Its paper is in your library: 31000001" in cards or all(c.kind == "paper" for c in answer.citations)


def test_an_expression_of_concern_is_flagged_but_not_called_a_retraction(home, run_cli):
    code, out, _ = run_cli("--home", home, "ask", "What does TEAD4 do in intestinal stem cells?", "--json")
    answer = Answer.model_validate_json(out)
    concern = next(c for c in answer.citations if c.source_id == "34500001")
    assert code == 0 and concern.flag == "expression of concern" and concern.retracted is False
    assert "(EXPRESSION OF CONCERN)" in answer.answer


@pytest.mark.parametrize("options, allowed", [
    (["--study-type", "review"], {"32000002", "PMC7700002"}),
    (["--study-type", "Randomized Controlled Trial"], {"33000003"}),
    (["--species", "rat"], {"34500001"}),
    (["--species", "Mus musculus"], {"31000001", "PMC6400001__hepres-49-201-g001", "PMC6400001__hepres-49-201-g002"}),
])
def test_study_type_and_species_filters_keep_only_such_sources(home, run_cli, options, allowed):
    code, out, err = run_cli("--home", home, "ask", "What does YAP1 or TEAD do?", "--json", "-k", "20", *options)
    assert code == 0, err
    data = json.loads(out)
    assert data["passages"] and {p["source_id"] for p in data["passages"]} <= allowed


def test_an_unknown_species_is_refused_with_the_choices(home, run_cli):
    code, _, err = run_cli("--home", home, "ask", "What does YAP1 do?", "--species", "unicorn")
    assert code == 1 and "unknown species “unicorn”: choose one of human, mouse, rat" in err


def test_answers_count_their_sources_by_study_type_and_species(home, run_cli):
    code, out, _ = run_cli("--home", home, "ask", "What is known about YAP1 in liver disease?", "--json")
    data = json.loads(out)
    kinds = {c["source_id"]: (c["study_types"], c["species"]) for c in data["citations"]}
    assert code == 0 and data["sources_summary"]
    if "32000002" in kinds:
        assert "1 meta-analysis" in data["sources_summary"]
    if "31000001" in kinds:
        assert "1 mouse study" in data["sources_summary"]


def test_filters_on_an_index_without_these_fields_admit_nothing_and_say_so(tmp_path, run_cli):
    shutil.copy(Path(__file__).parent / "data" / "refs" / "sample.ris", tmp_path / "sample.ris")
    assert run_cli("--home", tmp_path / "h", "ingest", tmp_path / "sample.ris")[0] == 0
    code, _, err = run_cli("--home", tmp_path / "h", "ask", "HER2", "--study-type", "review")
    assert code == 1 and "No indexed source matches the filters (review)" in err


def test_bibtex_and_ris_exports_carry_the_retraction(home, run_cli):
    code, bib, _ = run_cli("--home", home, "ask", YAP_QUESTION, "--format", "bibtex")
    assert code == 0 and "note = {RETRACTED: Retraction in: Hepatol Res. 2021 Jun;51(6):700." in bib
    code, ris, _ = run_cli("--home", home, "ask", YAP_QUESTION, "--format", "ris")
    assert code == 0 and "N1  - RETRACTED: Retraction in: Hepatol Res. 2021" in ris


def test_a_changed_file_replaces_its_papers_notices_rather_than_keeping_the_old_ones(tmp_path, encoder):
    path = tmp_path / "export.nbib"
    text = (FORMATS / "retracted.nbib").read_text()
    path.write_text(text)
    store = store_at(tmp_path / "home", encoder.name)
    ingest([path], store, encoder)
    assert store.record("31000001").flag == "retracted"
    start = text.index("RIN - ")
    path.write_text(text[:start] + text[text.index("EIN - "):])  # the retraction notice withdrawn (an export error)
    path.write_text(path.read_text().replace("PT  - Retracted Publication\n", ""))
    report = ingest([path], store, encoder)
    assert report.outcomes[0].status == "replaced"
    assert store.record("31000001").flag is None and [n.kind for n in store.record("31000001").notices] == ["erratum"]
