"""Study-type and species filters, and retraction flags, in the web UI and its API: a server over tests/data/formats
(the browser fixtures are tests/test_ui.py's; skipped without Debian's chromium, as those are)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_ui import ask, browser, page, pytestmark  # noqa: F401  (fixtures and the chromium skip)
from tests.conftest import served, store_at

FORMATS = Path(__file__).parent / "data" / "formats"
TEAD_QUESTION = "What does TEAD4 do in intestinal stem cells?"
YAP_QUESTION = "How quickly does YAP1 enter the nucleus after partial hepatectomy?"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, encoder) -> Iterator[str]:
    """The UI served over the format samples (page, from tests/test_ui.py, opens this one)."""
    from tests.conftest import ingest

    from litassist.assistant.settings import Settings

    home = tmp_path_factory.mktemp("evidence_ui_home")
    report = ingest([FORMATS], store_at(home, encoder.name), encoder)
    assert not report.failed, report.failed
    del report
    gc.collect()  # free ingest's progress bars now: Gradio's tqdm patch cannot close bars made before it
    with served(Settings(home=home)) as url:
        yield url


def choose(page, label: str, value: str) -> None:
    """Open a filter dropdown and click one of its options."""
    page.get_by_label(label).click()
    page.get_by_role("option", name=value, exact=True).click()


def test_species_filter_keeps_only_that_species_and_the_card_shows_the_concern(page) -> None:
    page.get_by_text("Filters").click()
    page.get_by_label("Species").click()
    assert {"mouse", "rat", "zebrafish", "human"} <= {o.strip() for o in page.get_by_role("option").all_inner_texts()}
    choose(page, "Species", "rat")
    ask(page, TEAD_QUESTION)
    page.locator("#chat").get_by_text("Filters: rat").wait_for()
    cards = page.locator("#sources .la-card")
    assert cards.count() >= 1
    assert all("TEAD4 controls intestinal stem cell renewal" in text for text in cards.all_inner_texts())
    assert "EXPRESSION OF CONCERN" in cards.first.inner_text() and "Expression of concern in: Cell Rep." in cards.first.inner_text()
    assert "(EXPRESSION OF CONCERN)" in page.locator("#chat").inner_text()


def test_study_type_filter_keeps_only_that_type_and_the_answer_counts_its_sources(page) -> None:
    page.get_by_text("Filters").click()
    choose(page, "Study type", "meta-analysis")
    ask(page, "What is known about YAP1 in liver disease?")
    chat = page.locator("#chat")
    chat.get_by_text("Filters: meta-analysis").wait_for()
    assert "Sources: 1 meta-analysis (1 expression of concern)" in chat.inner_text()
    titles = page.locator("#sources .la-card .la-title").all_inner_texts()
    assert titles == ["Hippo pathway signalling in liver disease: a systematic review and meta-analysis."]


def test_a_retracted_papers_card_and_quoted_sentences_are_flagged(page) -> None:
    ask(page, YAP_QUESTION)
    card = page.locator("#sources .la-paper").filter(has_text="YAP1 drives hepatocyte proliferation")
    assert "RETRACTED" in card.locator(".la-flag").inner_text()
    assert "Retraction in: Hepatol Res. 2021" in card.inner_text() and "Quoted from:" in card.inner_text()
    assert "mouse" in card.locator(".la-tags").inner_text()
    assert "(RETRACTED)" in page.locator("#chat").inner_text()


def test_api_takes_study_type_and_species(app_url: str) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    result = client.predict(TEAD_QUESTION, "both", "", 0, 0, [], "", "rat", api_name="/ask")
    assert result["citations"] and {c["source_id"] for c in result["citations"]} == {"34500001"}
    assert result["citations"][0]["flag"] == "expression of concern"
    result = client.predict("What is known about YAP1?", "both", "", 0, 0, [], "review", "", api_name="/ask")
    assert result["citations"] and all("review" in c["study_types"] for c in result["citations"])
