"""The web UI in a real browser: one app server and one headless Chromium for the whole module.

The server indexes the bundled example corpus plus a hostile figure record (tests/data/ui/xss_figure.md)
before it starts. Needs Debian's chromium at /usr/bin/chromium (CI installs it); skipped without it.
"""

from __future__ import annotations

import gc
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import litassist.assistant  # noqa: F401  (offline switches before gradio loads)
from tests.conftest import BROWSER_SKIP, free_port, store_at

CHROMIUM = Path(os.environ.get("LITASSIST_TEST_CHROMIUM", "/usr/bin/chromium"))  # another path: to test the skip
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{BROWSER_SKIP}: no chromium at {CHROMIUM}")

sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "corpus"
XSS_FIGURE = Path(__file__).parent / "data" / "ui" / "xss_figure.md"
MARKDOWN_PAPER = Path(__file__).parent / "data" / "ui" / "markdown_paper.md"  # Markdown links and images in its text
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
TIMEOUT_MS = 30_000  # one answer takes a second or two; the first one also loads the model
MISSION = "How does HER2 affect CXCR4?"
SMAD4_PDF = Path(__file__).parent / "data" / "files" / "smad4_paper.pdf"  # four pages; MYC is on page 4
UPLOAD_TITLE = "Quokka keratinocytes raise PLXNB3 under ultraviolet stress"



@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, encoder) -> Iterator[str]:
    """The UI served on a free port over the example corpus plus the hostile figure."""
    from tests.conftest import ingest

    from litassist.app import serve
    from litassist.assistant.settings import ServerSettings, Settings

    home = tmp_path_factory.mktemp("ui_home")
    report = ingest([EXAMPLES, XSS_FIGURE, MARKDOWN_PAPER], store_at(home, encoder.name), encoder)
    assert not report.failed, report.failed
    del report
    gc.collect()  # free ingest's progress bars now: Gradio's tqdm patch cannot close bars made before it
    port = free_port()
    demo = serve(Settings(home=home, server=ServerSettings(port=port)), block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One headless Chromium for the module."""
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def page(browser, app_url: str, request: pytest.FixtureRequest) -> Iterator:
    """A fresh page on the app; fails the test if anything opens a dialog (alert() from injected script).

    When the test fails, the page is saved as test-artifacts/<test name>.png.
    """
    failed_before = request.session.testsfailed
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(app_url, wait_until="load")  # never networkidle: Gradio keeps a connection open
    page.wait_for_selector("#question textarea")
    yield page
    if request.session.testsfailed > failed_before:  # the call phase has been reported by now
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not dialogs, f"the page opened dialogs: {dialogs}"


def ask(page, question: str, turn: int = 1) -> None:
    """Type a question, press Enter and wait until the turn's final (non-streaming) answer is in the chat."""
    box = page.locator("#question textarea")
    # the app empties the box once the previous turn has finished: a question typed before that is wiped
    page.wait_for_function("() => document.querySelector('#question textarea')?.value === ''")
    box.fill(question)
    box.press("Enter")
    page.locator("#chat").get_by_text("Quoted from your sources").nth(turn - 1).wait_for()


def test_mission_question_answers_with_citation_and_paper_card(page) -> None:
    ask(page, MISSION)
    chat = page.locator("#chat").inner_text()
    assert "HER2" in chat and "CXCR4" in chat
    assert "[1]" in chat, chat
    assert "Answered by" not in chat and "extractive" not in chat  # no jargon: "Quoted from your sources"
    page.get_by_text("Filters").click()
    page.get_by_text("Papers and figures").wait_for()
    assert page.get_by_text("both", exact=True).count() == 0
    marker = page.locator("#chat a[href='#src-1-1']").first  # the marker links to its card
    assert marker.inner_text().strip() in ("1", "[1]")

    card = page.locator("#sources .la-paper", has=page.locator(".la-title", has_text="CXCR4")).first
    card.wait_for()
    assert "Cancer Cell" in card.locator(".la-meta").all_inner_texts()[-1]
    assert page.locator("#sources #src-1-1").count() == 1  # the marker's anchor exists

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"))


def test_a_conversation_keeps_each_answers_sources_and_downloads_as_notes(page) -> None:
    ask(page, MISSION)
    first_source = page.locator("#sources #src-1-1 .la-title").inner_text()
    ask(page, "and what happens to its degradation?", turn=2)
    chat = page.locator("#chat")
    chat.get_by_text("Searched for: HER2 CXCR4 degradation").wait_for()
    # The first answer's [1] still leads to the first answer's own card, not to the second answer's first card.
    first_marker = chat.locator("a[href='#src-1-1']").first
    assert first_marker.count() == 1 and chat.locator("a[href^='#src-2-']").count() >= 1
    assert page.locator("#sources #src-1-1 .la-title").inner_text() == first_source
    assert page.locator("#sources #src-2-1").count() == 1
    headings = page.locator("#sources .la-turn-q").all_inner_texts()
    assert headings[0].startswith("Q2.") and headings[1] == f"Q1. {MISSION}"  # the latest answer's cards first

    with page.expect_download() as download:
        page.locator("#download-conversation").click()
    notes = Path(download.value.path()).read_text(encoding="utf-8")
    assert f"**Q1. {MISSION}**" in notes and "**Q2. and what happens to its degradation?**" in notes
    assert "*Searched for: HER2 CXCR4 degradation*" in notes
    refs = notes.split("## References", 1)[1].strip().splitlines()
    assert [r.split(".")[0] for r in refs] == [str(n) for n in range(1, len(refs) + 1)]  # one list, numbered once
    assert sum("Upregulation of CXCR4" in r for r in refs) == 1  # the paper both answers cite is listed once

    page.locator("#clear-chat").click()
    page.locator("#sources .la-empty").get_by_text("Cited sources appear here.").wait_for()
    assert chat.get_by_text("Quoted from your sources").count() == 0


def test_two_browser_sessions_never_share_a_conversation(browser, app_url: str) -> None:
    pages = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        tab = context.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        tab.goto(app_url, wait_until="load")
        tab.wait_for_selector("#question textarea")
        pages.append((context, tab))
    try:
        (_, first), (_, second) = pages
        ask(first, MISSION)
        box = second.locator("#question textarea")
        box.fill("and what happens to its degradation?")  # a follow-up with nothing before it in this session
        box.press("Enter")
        chat = second.locator("#chat")
        chat.get_by_text("The indexed sources do not answer this question.").wait_for()
        # Nothing carried over: the abstention's hint (issue 13) names the question as asked, no earlier topic.
        chat.get_by_text("Searched for “and what happens to its degradation?”").wait_for()
        assert "HER2" not in chat.inner_text()
    finally:
        for context, _ in pages:
            context.close()


def test_example_questions_come_from_the_index_and_a_click_asks_one(page) -> None:
    examples = page.locator("#examples")
    texts = examples.locator("button").all_inner_texts()
    assert any("HER2" in t and "CXCR4" in t for t in texts), texts  # a relation the bundled papers state
    assert any(t.startswith("What does the figure") for t in texts), texts  # and a readable figure question
    assert page.locator("#question textarea").get_attribute("placeholder") == f"e.g. {texts[0]}"
    examples.locator("button").first.click()
    page.locator("#chat").get_by_text("Quoted from your sources").wait_for()  # asked, not just put in the box
    assert texts[0] in page.locator("#chat").inner_text()


def test_an_empty_question_changes_nothing(page) -> None:
    ask(page, MISSION)
    cards_before = page.locator("#sources .la-card").all_inner_texts()
    bubbles = page.locator("#chat .message").count()
    box = page.locator("#question textarea")
    box.fill("   ")
    box.press("Enter")
    page.wait_for_timeout(1500)
    assert page.locator("#chat .message").count() == bubbles
    assert page.locator("#sources .la-card").all_inner_texts() == cards_before and cards_before


def test_organisms_are_listed_most_common_first(page) -> None:
    page.get_by_text("Filters").click()
    page.get_by_label("Organism").click()
    options = page.get_by_role("option").all_inner_texts()
    # The bundled figures: four are human (one also mouse and soybean), one names none; alphabetical would start "Glycine".
    assert options[0].strip() == "Homo sapiens", options


def set_filters(page, organism: str = "", years: tuple[str, str] = ("", "")) -> None:
    """Open Filters and set the organism and year boxes."""
    page.get_by_text("Filters").click()
    if organism:
        page.get_by_label("Organism").fill(organism)
        page.get_by_label("Organism").press("Enter")
    for box, year in zip(("#year-min input", "#year-max input"), years):
        if year:
            page.locator(box).fill(year)


def test_filters_that_exclude_everything_say_so(page) -> None:
    page.get_by_text("Filters").click()
    assert page.locator("#year-min input").input_value() == ""  # an empty year box, not "0"
    page.get_by_text("Filters").click()
    set_filters(page, years=("1900", "1901"))
    box = page.locator("#question textarea")
    box.fill(MISSION)
    box.press("Enter")
    page.locator("#chat").get_by_text("No indexed source matches the filters (1900–1901)").wait_for()
    assert "do not answer this question" not in page.locator("#chat").inner_text()


def test_a_reversed_year_range_is_refused_and_active_filters_show_under_the_answer(page) -> None:
    set_filters(page, years=("2010", "2001"))
    box = page.locator("#question textarea")
    box.fill(MISSION)
    box.press("Enter")
    page.locator("#chat").get_by_text("the year range 2010–2001 is reversed").wait_for()
    page.locator("#year-min input").fill("")
    page.locator("#year-max input").fill("")
    page.get_by_label("Organism").fill("Homo sapiens")
    page.get_by_label("Organism").press("Enter")
    ask(page, "What does mitochondrial MKP1 do in radioresistant breast cancer cells?")
    page.locator("#chat").get_by_text("Filters: Homo sapiens").wait_for()


def test_copy_and_downloads_wait_for_an_answer_and_copy_says_it_copied(browser, app_url: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(app_url, wait_until="load")
        buttons = ["#copy-answer", "#download-conversation", "#download-bib", "#download-ris"]
        page.locator("#copy-answer").wait_for()
        assert all(page.locator(b).is_disabled() for b in buttons)  # nothing to copy or download yet
        ask(page, MISSION)
        page.wait_for_function("() => !document.querySelector('#copy-answer').disabled")
        assert all(page.locator(b).is_enabled() for b in buttons)
        page.locator("#copy-answer").click()
        page.locator("#copy-answer").get_by_text("Copied").wait_for()
        assert "[1]" in page.evaluate("navigator.clipboard.readText()")
        page.locator("#clear-chat").click()
        page.wait_for_function("() => document.querySelector('#copy-answer').disabled")
    finally:
        context.close()


def test_gene_chips_mark_synonyms_of_the_question_and_fold_the_rest(page) -> None:
    ask(page, "How does pertuzumab affect HER2?")  # answered from a real PFOCR figure whose genes list ERBB2
    figure = page.locator("#sources .la-figure", has=page.locator(".la-gene", has_text="ERBB2")).first
    figure.wait_for()
    marked = figure.locator(".la-gene.la-hit").all_inner_texts()
    assert "ERBB2" in marked, marked  # HER2 in the question marks its synonym ERBB2 (no bundled figure names CXCR4)
    assert figure.locator(".la-genes > .la-gene").first.inner_text() == "ERBB2"  # named genes lead


def test_a_fly_gene_chip_is_not_marked_for_the_human_gene_of_the_same_letters() -> None:
    from litassist.assistant.cards import gene_chips

    chips = gene_chips(["Taz", "yki", *[f"G{i}" for i in range(30)]], ["TAZ"])
    assert 'la-hit">Taz' not in chips  # Drosophila's Taz is not mammalian TAZ
    assert "+20 more</summary>" in chips  # 12 chips shown, the rest folded


def test_only_uploaded_pdfs_are_ever_served(tmp_path: Path) -> None:
    from urllib.parse import quote

    from litassist.assistant.cards import ServedFiles

    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "paper.pdf").write_bytes(b"%PDF-1.4\n")
    (uploads / "records.xml").write_text("<x/>", encoding="utf-8")  # XML served from the page could run script
    (tmp_path / "outside.pdf").write_bytes(b"%PDF-1.4\n")
    allowed: list[str] = []
    served = ServedFiles(uploads, allowed)
    pdf = (uploads / "paper.pdf").resolve()
    assert served(str(uploads / "paper.pdf")) == f"gradio_api/file={quote(str(pdf))}" and allowed == [str(pdf)]
    for path in (uploads / "records.xml", tmp_path / "outside.pdf", uploads / ".." / "outside.pdf"):
        assert served(str(path)) is None
    assert allowed == [str(pdf)]  # Gradio may serve that one file and nothing else


def test_figure_question_shows_figure_card_with_pmc_link(page) -> None:
    ask(page, "What does mitochondrial MKP1 do in radioresistant breast cancer cells?")
    card = page.locator("#sources .la-figure", has_text="MKP1").first
    card.wait_for()
    hrefs = [a.get_attribute("href") for a in card.locator(".la-links a").all()]
    prefix = "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC4267894/figure/"
    assert any(h and h.startswith(prefix) for h in hrefs), hrefs
    assert card.locator(".la-links a").first.get_attribute("target") == "_blank"


def chunks_indexed(page) -> int:
    """The 'chunks indexed' number the Settings tab shows."""
    page.get_by_role("tab", name="Settings").click()
    row = page.locator("#settings tr", has_text="chunks indexed")
    row.wait_for()
    return int(row.locator("td").last.inner_text())


def test_library_upload_and_ingest_adds_a_source(page, tmp_path: Path) -> None:
    doc = tmp_path / "quokka_corpus.jsonl"
    doc.write_text(json.dumps({
        "_id": "ui-1", "title": UPLOAD_TITLE,
        "text": "Keratinocytes from quokka skin raise PLXNB3 after ultraviolet exposure, which slows their migration.",
        "metadata": {"year": 2021, "journal": "Example Journal"},
    }) + "\n", encoding="utf-8")

    chunks_before = chunks_indexed(page)
    page.get_by_role("tab", name="Library").click()
    table = page.locator("#sources-table")
    grid = table.locator("[role=grid]")  # the table renders only visible rows; aria-rowcount counts them all
    grid.wait_for()
    assert UPLOAD_TITLE not in table.inner_text()
    before = int(grid.get_attribute("aria-rowcount"))

    page.set_input_files("#upload input[type=file]", str(doc))
    # The upload has finished once the file lists with a download link to the server's copy.
    page.locator(f"#upload [data-testid=download-link][download='{doc.name}']").wait_for()
    page.locator("#ingest").click()
    page.locator("#ingest-summary").get_by_text("1 added").wait_for()

    page.wait_for_function("([el, n]) => Number(el.getAttribute('aria-rowcount')) > n",
                           arg=[grid.element_handle(), before])
    assert int(grid.get_attribute("aria-rowcount")) == before + 1
    table.get_by_placeholder("Search...").fill("Quokka")
    table.get_by_text(UPLOAD_TITLE).filter(visible=True).first.wait_for()
    assert chunks_indexed(page) > chunks_before  # the settings follow the index, not the start-up state
    page.reload(wait_until="load")
    page.get_by_role("tab", name="Settings").click()
    page.wait_for_function("""(n) => {
        const row = [...document.querySelectorAll('#settings tr')].find(r => r.innerText.includes('chunks indexed'));
        return row && Number(row.querySelector('td:last-child').innerText) > n; }""", arg=chunks_before)


def test_the_library_lists_formats_reports_counts_and_deletes_by_title_after_asking(page, tmp_path: Path) -> None:
    title = "Wombat fibroblasts lower PLXNB3 in the cold"
    doc = tmp_path / "wombat.jsonl"
    doc.write_text(json.dumps({"_id": "ui-2", "title": title, "text": "Wombat fibroblasts lower PLXNB3 at 4 °C, "
                               "which speeds their migration."}) + "\n", encoding="utf-8")
    page.get_by_role("tab", name="Library").click()
    assert "RIS" in page.locator("#formats").inner_text() and "PDF" in page.locator("#formats").inner_text()
    page.set_input_files("#upload input[type=file]", str(doc))
    page.locator(f"#upload [data-testid=download-link][download='{doc.name}']").wait_for()
    page.locator("#ingest").click()
    page.locator("#ingest-summary").get_by_text("1 added").wait_for()
    report = page.locator("#ingest-report").inner_text()
    assert "records" in report and "chunks" in report, report
    assert re.search(r"wombat\.jsonl\s+added\s+1\s+1", report), report  # one record, one chunk

    page.locator("#victim input").fill("Wombat")
    page.get_by_role("option", name=f"{title} — paper").click()
    page.locator("#delete").click()
    page.locator("#deleted").get_by_text(f"Delete “{title}” (paper, 1 chunk) from the index?").wait_for()
    page.locator("#confirm-delete").click()
    page.locator("#deleted").get_by_text(f"Deleted “{title}” (paper, 1 chunk).").wait_for()
    page.locator("#sources-table").get_by_placeholder("Search...").fill("Wombat")
    page.wait_for_timeout(500)
    assert page.locator("#sources-table").get_by_text(title).filter(visible=True).count() == 0


def test_a_large_library_lists_a_page_of_sources_and_finds_the_others(page, monkeypatch) -> None:
    # A library of hundreds of thousands of sources made a page gradio could not start; the tab lists a page of
    # them (here 2, as if the library were large) and "Find a source" lists the others, for the delete picker too.
    from litassist.assistant import library

    monkeypatch.setattr(library, "MAX_SHOWN", 2)
    page.get_by_role("tab", name="Library").click()
    page.locator("#find-source input").fill("HER2")
    listed = page.locator("#sources-listed")
    listed.get_by_text("Listing 2 of").wait_for()
    assert re.search(r"Listing 2 of \d+ matching “HER2” — type in Find a source to list others", listed.inner_text())
    table = page.locator("#sources-table")
    cells = [table.get_by_test_id(f"cell-{row}-1").inner_text() for row in range(2)]
    assert all("HER2" in c for c in cells) and table.get_by_test_id("cell-2-1").count() == 0, cells
    page.locator("#find-source input").fill("Mdm2 promotes")
    table.get_by_test_id("cell-0-1").get_by_text("Mdm2 promotes the rapid degradation of p53.").wait_for()
    assert table.get_by_test_id("cell-1-1").count() == 0  # one row
    assert listed.inner_text().strip() == "Listing 1 of 1 matching “Mdm2 promotes”."
    page.locator("#victim input").click()
    assert page.get_by_role("option").count() == 1  # the delete picker offers what is listed


def test_a_deleted_source_is_listed_stays_deleted_when_its_file_comes_again_and_undo_brings_it_back(page, tmp_path):
    kept, dropped = "Aardvark kidneys lower SLC5A9 at night", "Aardvark kidneys raise SLC5A9 after rain"
    doc = tmp_path / "aardvark.jsonl"
    doc.write_text("".join(json.dumps({"_id": sid, "title": title, "text": f"{title}, in a field study."}) + "\n"
                           for sid, title in (("ui-aard-1", kept), ("ui-aard-2", dropped))), encoding="utf-8")

    def ingest_upload(expect: str) -> None:
        page.set_input_files("#upload input[type=file]", str(doc))
        page.locator(f"#upload [data-testid=download-link][download='{doc.name}']").wait_for()
        page.locator("#ingest").click()
        page.locator("#ingest-summary").get_by_text(expect).wait_for()

    def shown(title: str):
        """The title in the sources table, searched for (the table draws only the rows in view)."""
        table = page.locator("#sources-table")
        table.get_by_placeholder("Search...").fill("Aardvark")
        table.get_by_text(kept).filter(visible=True).first.wait_for()  # the search has been applied
        return table.get_by_text(title).filter(visible=True)

    page.get_by_role("tab", name="Library").click()
    ingest_upload("1 added")
    page.locator("#victim input").fill("Aardvark kidneys raise")
    page.get_by_role("option", name=f"{dropped} — paper").click()
    page.locator("#delete").click()
    page.locator("#confirm-delete").click()
    page.locator("#deleted").get_by_text(f"Deleted “{dropped}” (paper, 1 chunk).").wait_for()
    page.locator("#deleted-sources").get_by_text(f"“{dropped}” (paper)").wait_for()  # listed as deleted

    page.locator("#upload button[aria-label='Clear']").first.click()
    ingest_upload("1 deleted source stays deleted")  # the same file again: unchanged, and the source stays out
    report = page.locator("#ingest-report").inner_text()
    assert re.search(r"aardvark\.jsonl\s+unchanged", report) and "stays deleted: ui-aard-2" in report, report
    assert shown(dropped).count() == 0

    page.locator("#undo-delete").click()
    page.locator("#deleted").get_by_text(f"Restored “{dropped}” (paper, 1 chunk).").wait_for()
    shown(dropped).first.wait_for()
    assert dropped not in page.locator("#deleted-sources").inner_text()


# Installed before the page's own scripts: a copy of every message the server streams to the page, and, on every
# change to the page once an ingest starts, how many progress displays it shows (Gradio's own, and the Library's).
RECORD_PROGRESS = """
window.__stream = [];
window.__displays = [];
const fetchFirst = window.fetch;
window.fetch = async (...args) => {
  const response = await fetchFirst(...args);
  const url = String(args[0] && args[0].url ? args[0].url : args[0]);
  if (url.includes('/queue/data') && response.body) {
    const reader = response.clone().body.getReader();
    const decoder = new TextDecoder();
    (async () => { for (;;) { const {done, value} = await reader.read(); if (done) return;
                              window.__stream.push(decoder.decode(value, {stream: true})); } })();
  }
  return response;
};
const shown = (selector) => [...document.querySelectorAll(selector)]
  .filter(e => e.checkVisibility({opacityProperty: true, visibilityProperty: true})).length;
new MutationObserver(() => window.__ingesting && window.__displays.push({
  gradio: shown('.progress-text, .progress-level, .eta-bar'), library: shown('#ingest-summary .la-progress'),
  text: [...document.querySelectorAll('#ingest-summary .la-progress-text')].map(e => e.innerText).join(' ')
})).observe(document, {subtree: true, childList: true, characterData: true});
"""
PROGRESS = re.compile(r"Ingesting: (\d+) of (\d+) files? done · (\d+) of (\d+) chunks? embedded")


def streamed_progress(page) -> list[tuple[int, ...]]:
    """(files done, files, chunks embedded, chunks) of every progress message the server sent, in order."""
    found = []
    for line in "".join(page.evaluate("window.__stream")).splitlines():
        if line.startswith("data:"):
            message = json.dumps(json.loads(line[5:]), ensure_ascii=False)
            found += [tuple(map(int, m)) for m in PROGRESS.findall(message)]
    return found


def test_an_ingest_shows_one_progress_display_that_counts_real_files_and_chunks(page, tmp_path: Path) -> None:
    files = []
    for n, animal in enumerate(["Pangolin", "Tapir", "Okapi"]):
        doc = tmp_path / f"{animal.lower()}.jsonl"
        doc.write_text("".join(json.dumps({"_id": f"ui-progress-{n}-{k}", "title": f"{animal} study {k}",
                                           "text": f"{animal} hepatocytes lower ABCC9 after fasting ({k})."}) + "\n"
                               for k in range(2)), encoding="utf-8")
        files.append(doc)
    page.add_init_script(RECORD_PROGRESS)
    page.reload(wait_until="load")
    page.get_by_role("tab", name="Library").click()
    page.set_input_files("#upload input[type=file]", [str(f) for f in files])
    for doc in files:
        page.locator(f"#upload [data-testid=download-link][download='{doc.name}']").wait_for()
    page.evaluate("window.__ingesting = true")
    page.locator("#ingest").click()
    page.locator("#ingest-summary").get_by_text("3 added").wait_for()
    page.wait_for_function("() => window.__stream.join('').includes('3 added')")  # the copy has caught up

    report = page.locator("#ingest-report").inner_text()
    chunks = sum(int(m) for m in re.findall(r"\.jsonl\s+added\s+2\s+(\d+)", report))
    progress = streamed_progress(page)
    assert progress, "no progress was sent while ingesting"
    assert {files_total for _, files_total, _, _ in progress} == {3}  # the files uploaded, not "0/0"
    assert progress[-1] == (3, 3, chunks, chunks) and chunks >= 6  # the last one: every file and chunk, counted
    assert [p[0] for p in progress] == sorted(p[0] for p in progress)  # files done only ever go up
    displays = page.evaluate("window.__displays")
    assert max(d["gradio"] for d in displays) == 0  # no progress drawn over the report, table or delete box
    assert max(d["library"] for d in displays) <= 1
    assert not re.search(r"\b0 ?(/|of) ?0\b", " ".join(d["text"] for d in displays))  # never "0/0 chunks"


def test_an_abstention_shows_the_closest_sources_labelled_as_not_answering(page) -> None:
    box = page.locator("#question textarea")
    box.fill("What is the capital of France?")
    box.press("Enter")
    chat = page.locator("#chat")
    chat.get_by_text("The indexed sources do not answer this question.").wait_for()
    chat.get_by_text("Searched for “What is the capital of France?”").wait_for()
    assert "Try rephrasing" in chat.inner_text()
    sources = page.locator("#sources")
    sources.get_by_text("Closest sources found — they do not answer this").wait_for()
    badges = sources.locator(".la-card.la-closest .la-badge").all_inner_texts()
    assert badges and all(b.startswith("Not an answer") for b in badges), badges
    assert sources.locator("[id^='src-']").count() == 0  # nothing a citation marker could lead to


def test_a_list_question_is_answered_as_a_list_of_cited_sources(page) -> None:
    ask(page, "Which papers report CXCR4 in breast cancer?")
    items = page.locator("#chat li", has=page.locator("a[href^='#src-1-']"))
    assert items.count() >= 2, page.locator("#chat").inner_text()
    assert page.locator("#sources .la-card").count() >= items.count()


def test_an_uploaded_pdf_is_cited_with_its_page_and_opens_from_its_card(page) -> None:
    from urllib.parse import quote

    page.get_by_role("tab", name="Library").click()
    page.set_input_files("#upload input[type=file]", str(SMAD4_PDF))
    page.locator(f"#upload [data-testid=download-link][download='{SMAD4_PDF.name}']").wait_for()
    page.locator("#ingest").click()
    page.locator("#ingest-summary").get_by_text("1 added").wait_for()
    page.get_by_role("tab", name="Chat").click()
    ask(page, "What happens to MYC when SMAD4 is knocked down?")
    card = page.locator("#sources .la-paper", has_text="SMAD4 loss raises WNT").first
    card.wait_for()
    assert "p. 4 · smad4_paper.pdf" in card.inner_text()
    href = card.get_by_text("Open PDF at p. 4").get_attribute("href")
    assert href.startswith("gradio_api/file=") and href.endswith("#page=4"), href
    served = page.request.get(page.url + href.split("#")[0])
    assert served.status == 200 and served.headers["content-type"] == "application/pdf"
    assert served.body()[:5] == b"%PDF-"
    # Only uploaded PDFs a card links are served: the same file outside the uploads folder is refused.
    assert page.request.get(page.url + "gradio_api/file=" + quote(str(SMAD4_PDF))).status == 403


def test_hostile_record_is_shown_as_text_not_run(page) -> None:
    ask(page, "What does ZEB1 do in EMT?")
    card = page.locator("#sources .la-figure", has_text="ZEB1").first
    card.wait_for()
    page.wait_for_timeout(500)  # give a broken <img> time to fire onerror, were it ever created

    assert page.evaluate("window.__xss") is None
    text = card.inner_text()
    assert "<img" in text and "<script>" in text, text  # escaped markup shows as visible text
    for where in ("#sources", "#chat"):
        assert page.locator(f"{where} img[src='x'], {where} script, {where} b[onmouseover]").count() == 0
    assert page.locator("#sources a[href^='javascript']").count() == 0  # the javascript: figlink is no link
    assert "<img" in page.locator("#chat").inner_text()  # the reference list shows the title as text too


def test_markdown_in_documents_shows_as_written_and_fetches_nothing(page) -> None:
    """An image or link written in a document's text stays text in the chat: reading the answer fetches nothing."""
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    ask(page, "What does SALL4 do in the axolotl limb blastema?")
    chat = page.locator("#chat")
    chat.get_by_text("tracker.example/pixel.png").first.wait_for()
    page.wait_for_timeout(500)  # time for an <img> to be requested, were one ever made
    text = chat.inner_text()
    assert "![pixel](https://tracker.example/pixel.png)" in text, text  # the verbatim quote, markup and all
    assert "![title pixel](https://tracker.example/title.png)" in text  # the reference list's title too
    assert chat.locator("img[src*='tracker'], a[href*='tracker'], a[href^='javascript']").count() == 0
    assert not [url for url in requested if "tracker.example" in url], requested
    assert page.evaluate("window.__xss") is None


def test_page_makes_no_request_off_this_machine(browser, app_url: str) -> None:
    """Fonts, scripts and analytics all come from the local server: nothing leaves the machine."""
    from urllib.parse import urlparse

    context = browser.new_context(viewport={"width": 390, "height": 844})  # phone width, too
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    hosts: set[str] = set()
    page.on("request", lambda req: hosts.add(urlparse(req.url).hostname or req.url.split(":")[0]))
    page.goto(app_url, wait_until="load")
    ask(page, MISSION)
    context.close()
    assert hosts <= {"127.0.0.1", "data", "blob"}, hosts


def test_api_is_usable_from_gradio_client(app_url: str) -> None:
    """The documented /ask and /sources endpoints answer through gradio_client."""
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    result = client.predict(MISSION, "both", "", 0, 0, api_name="/ask")
    assert result["abstained"] is False and result["citations"][0]["n"] == 1
    assert "Cancer Cell" in result["citations"][0]["reference"]
    assert (result["search_query"], result["turn"]) == (MISSION, 1)
    follow_up = client.predict("and what happens to its degradation?", "both", "", 0, 0, [MISSION], api_name="/ask")
    assert follow_up["turn"] == 2 and follow_up["search_query"] == "HER2 CXCR4 degradation"
    assert not follow_up["abstained"] and "degradation" in follow_up["answer"]
    sources = client.predict(api_name="/sources")
    assert any(s["kind"] == "figure" for s in sources) and any(s["kind"] == "paper" for s in sources)
