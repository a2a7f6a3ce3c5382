"""Answers quoted from a PDF: sentences without the title glued on, cited with their page and a link to the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from litassist.assistant.answer import answer
from litassist.assistant.citations import render_text, to_markdown
from litassist.assistant.retrieval import HybridRetriever
from tests.conftest import retriever_over, store_at

PAPER = Path(__file__).parent / "data" / "files" / "smad4_paper.pdf"  # made by tests/data/files/make_pdfs.py
FIRST_SENTENCE = ("In colorectal cancer cells, loss of SMAD4 raises the expression of WNT target genes and speeds "
                  "tumour growth in mice.")
PAGE_FOUR = "Knocking down SMAD4 in HCT116 cells doubled the level of MYC messenger RNA."


@pytest.fixture(scope="module")
def pdf_home(tmp_path_factory: pytest.TempPathFactory, encoder) -> Path:
    """A data home holding the four-page SMAD4 PDF, copied to a folder of its own."""
    from tests.conftest import ingest

    folder = tmp_path_factory.mktemp("pdf_home")
    pdf = Path(shutil.copy(PAPER, folder / PAPER.name))
    report = ingest([pdf], store_at(folder / "home", encoder.name), encoder)
    assert not report.failed, report.failed
    return folder


@pytest.fixture()
def retriever(pdf_home: Path, encoder) -> HybridRetriever:

    return retriever_over(store_at(pdf_home / "home", encoder.name), encoder, k=8)


def test_a_pdf_title_printed_above_the_first_sentence_is_not_quoted_with_it(retriever):
    # The title wraps over two lines and ends without a full stop ("… in colorectal cancer"); the first sentence
    # follows at once ("In colorectal cancer cells, …"). The title is each chunk's context, never sentence text.
    result = answer("What does loss of SMAD4 do in colorectal cancer cells?", retriever)
    said = [s.text for s in result.sentences]
    assert FIRST_SENTENCE in said, said
    assert not any("colorectal cancer In" in s or s.startswith("SMAD4 loss raises") for s in said), said


def test_a_pdf_citation_gives_the_page_and_links_the_file(retriever, pdf_home):
    result = answer("What happens to MYC when SMAD4 is knocked down?", retriever)
    first = result.citations[0]
    assert PAGE_FOUR in [s.text for s in result.sentences]
    assert first.page == 4 and first.pages == [4]
    link = (pdf_home / PAPER.name).as_uri() + "#page=4"
    assert first.reference == f"Mei Tanaka, Omar Haddad. SMAD4 loss raises WNT target genes in colorectal cancer. p. 4. {link}"
    assert f"[1] {first.reference} (paper)" in render_text(result)
    assert f"[{link.replace('_', chr(92) + '_')}]({link})" in to_markdown(result)  # a working link in the notes


def test_ask_json_carries_the_page_and_file(pdf_home, run_cli):
    code, out, err = run_cli("--home", pdf_home / "home", "ask", "What happens to MYC when SMAD4 is knocked down?",
                             "--json")
    assert code == 0, err
    cite = json.loads(out)["citations"][0]
    assert cite["page"] == 4 and cite["pages"] == [4] and cite["file"] == str(pdf_home / PAPER.name)
    assert " p. 4. file://" in cite["reference"]


def test_a_sentence_opening_with_the_gene_is_quoted_after_the_sentence_it_refers_to(retriever):
    # "The gene may therefore link …" says nothing alone; the sentence before it names SMAD4.
    result = answer("How is TGF-beta signalling linked to the WNT programme?", retriever)
    said = [s.text for s in result.sentences]
    gene = "The gene may therefore link TGF-beta signalling to the WNT programme."
    assert gene in said and said[said.index(gene) - 1] == PAGE_FOUR, said
    assert all(s.citations == [1] for s in result.sentences[:2])
