"""File loaders for BEIR corpus.jsonl and PDF papers, checked on small fixtures in tests/data/files."""

from __future__ import annotations

from pathlib import Path

import pytest

from litassist.index.errors import LoadError, PartialLoadError
from litassist.index.loaders import jsonl, load_file, pdf

FILES = Path(__file__).parent / "data" / "files"


# --- BEIR corpus.jsonl -------------------------------------------------------------------------


def test_jsonl_reads_every_good_line_with_ids_as_strings() -> None:
    papers = jsonl.load(FILES / "sample_corpus.jsonl")
    assert [p.source_id for p in papers] == ["1001", "1002", "1003", "1004"]  # blank line ignored, int id kept as text
    first = papers[0]
    assert first.title == "HER2 raises CXCR4 levels in breast cancer cells"
    assert "ligand-triggered degradation" in first.abstract


def test_jsonl_maps_metadata_that_is_present() -> None:
    first, second, third, fourth = jsonl.load(FILES / "sample_corpus.jsonl")
    assert (first.year, first.journal, first.pmid) == (2004, "Cancer Cell", "90000001")
    assert first.doi == "10.5555/litassist.1001"
    assert first.authors == ["Yan M Li", "Mien-Chie Hung"]
    assert second.title is None and second.year is None and second.authors == []
    assert (third.year, third.volume, third.issue, third.pages) == (2005, "353", "16", "1659-1672")
    assert third.authors == ["Ann Example", "B. Sample"]
    assert third.abstract == ""  # a title alone is enough
    assert (fourth.year, fourth.month, fourth.journal) == (1999, "Nov", "Oncogene")
    assert fourth.authors == ["Doe J", "Roe R"]


def test_jsonl_partial_failure_keeps_good_lines_and_names_the_bad_one() -> None:
    with pytest.raises(PartialLoadError) as caught:
        jsonl.load(FILES / "bad_line.jsonl")
    error = caught.value
    assert [p.source_id for p in error.records] == ["2001", "2002", "2004"]
    assert error.reason == "skipped 1 of 4 lines: line 3: invalid JSON (Expecting ',' delimiter)"
    assert str(FILES / "bad_line.jsonl") in str(error)


def test_jsonl_reports_missing_id_and_empty_record(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"_id": "a", "text": "ok"}\n{"title": "no id"}\n{"_id": "c", "title": "", "text": " "}\n[1]\n')
    with pytest.raises(PartialLoadError) as caught:
        jsonl.load(path)
    assert caught.value.reason == (
        "skipped 3 of 4 lines: line 2: missing _id; line 3: no title and no text; "
        "line 4: expected a JSON object, got list"
    )


def test_jsonl_with_no_good_line_is_a_plain_load_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text("not json\n\n")
    with pytest.raises(LoadError) as caught:
        jsonl.load(path)
    assert not isinstance(caught.value, PartialLoadError)
    assert str(path) in str(caught.value) and "line 1: invalid JSON" in str(caught.value)


def test_jsonl_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n  \n")
    with pytest.raises(LoadError, match="empty file"):
        jsonl.load(tmp_path / "empty.jsonl")
    with pytest.raises(LoadError, match="cannot read"):
        jsonl.load(tmp_path / "absent.jsonl")


def test_jsonl_skips_a_line_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"_id": "1", "text": "fine"}\n{"_id": "2", "text": "caf\xe9"}\n')
    with pytest.raises(PartialLoadError, match="line 2: not UTF-8 text") as caught:
        jsonl.load(path)
    assert [p.source_id for p in caught.value.records] == ["1"]


def test_jsonl_is_registered_for_the_extension() -> None:
    papers = load_file(FILES / "sample_corpus.jsonl")
    assert papers[0].file == str(FILES / "sample_corpus.jsonl")


# --- PDF -----------------------------------------------------------------------------------------


def test_pdf_keeps_one_body_entry_per_page_with_metadata() -> None:
    (paper,) = pdf.load(FILES / "two_pages.pdf")
    assert paper.title == "HER2 and CXCR4 in breast cancer metastasis"
    assert paper.authors == ["Jane Q. Researcher", "John Smith"]
    assert len(paper.body) == 2
    # Page text is sentence text: the printed title and the headings ("Abstract", "Results") are left out.
    assert paper.body[0].startswith("HER2 overexpression raises the level")
    assert paper.body[1].startswith("Blocking CXCR4 with a neutralising antibody")
    assert "HER2-driven lung metastasis" in paper.body[1]
    assert paper.source_id.startswith("sha1:")


def test_pdf_joins_wrapped_lines_and_collapses_line_end_hyphens() -> None:
    path = FILES / "two_pages.pdf"
    paragraphs = pdf.paragraphs(pdf.page_texts(pdf.open_reader(path), path)[0])
    assert paragraphs[:2] == ["HER2 signalling and chemokine receptors in breast cancer", "Abstract"]
    assert paragraphs[2] == (
        "HER2 overexpression raises the level of the chemokine receptor CXCR4 in breast cancer cells. "
        "Tyrosine phosphorylation of downstream kinases follows receptor activation and drives "
        "invasion through basement membrane."
    )
    assert paragraphs[3] == "Introduction"
    # The body keeps the sentences only: a title or heading would be glued onto the sentence after it.
    (paper,) = pdf.load(path)
    assert paper.body[0].split("\n\n") == [paragraphs[2], paragraphs[4]]


def test_pdf_page_text_leaves_out_title_author_and_doi_lines_but_keeps_a_sentence_running_on() -> None:
    page = ["SMAD4 loss raises WNT target genes in colorectal cancer", "Mei Tanaka, Omar Haddad",
            "DOI: 10.5555/example.1", "Abstract: In colorectal cancer cells, loss of SMAD4 raises WNT targets.",
            "Results", "Knocking down SMAD4 doubled MYC. Its loss in patients goes with"]
    assert pdf.sentence_text(page) == ["In colorectal cancer cells, loss of SMAD4 raises WNT targets.",
                                      "Knocking down SMAD4 doubled MYC. Its loss in patients goes with"]


def test_pdf_finds_the_abstract_on_page_one() -> None:
    (paper,) = pdf.load(FILES / "two_pages.pdf")
    assert paper.abstract.startswith("HER2 overexpression raises the level")
    assert paper.abstract.endswith("basement membrane.")


def test_pdf_without_metadata_title_uses_first_line_and_keeps_empty_pages() -> None:
    (paper,) = pdf.load(FILES / "untitled.pdf")
    assert paper.title == "Mitochondrial MKP1 in radioresistant cells"
    assert paper.authors == []
    assert len(paper.body) == 3 and paper.body[1] == ""
    assert paper.body[2] == "The third page follows a deliberately blank second page."
    assert paper.abstract.startswith("Radiation induces MKP1")  # inline 'Abstract:' heading
    assert paper.doi == "10.5555/litassist.0001"


def test_pdf_source_id_is_stable() -> None:
    assert pdf.load(FILES / "two_pages.pdf")[0].source_id == pdf.load(FILES / "two_pages.pdf")[0].source_id
    assert pdf.load(FILES / "two_pages.pdf")[0].source_id != pdf.load(FILES / "untitled.pdf")[0].source_id


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("encrypted.pdf", "encrypted PDF"),
        ("corrupt.pdf", "corrupt PDF"),
        ("image_only.pdf", "no text layer (scanned PDF?)"),
        ("missing.pdf", "cannot read"),
    ],
)
def test_bad_pdfs_raise_load_error_naming_file_and_reason(name: str, reason: str) -> None:
    with pytest.raises(LoadError) as caught:
        pdf.load(FILES / name)
    message = str(caught.value)
    assert str(FILES / name) in message
    assert reason in message and "\n" not in message


def test_not_a_pdf_at_all(tmp_path: Path) -> None:
    path = tmp_path / "notes.pdf"
    path.write_text("just some text that is not a PDF")
    with pytest.raises(LoadError, match="not a PDF: it starts with .just some text"):
        pdf.load(path)


@pytest.mark.parametrize(
    ("text", "line", "joined"),
    [
        ("Tyrosine phos-", "phorylation", "Tyrosine phosphorylation"),
        ("a HER2-", "mediated effect", "a HER2-mediated effect"),
        ("anti-", "HER2 therapy", "anti-HER2 therapy"),
        ("see table -", "below", "see table - below"),
        ("the", "receptor", "the receptor"),
    ],
)
def test_join_line(text: str, line: str, joined: str) -> None:
    assert pdf.join_line(text, line) == joined


def test_pdf_is_registered_for_the_extension() -> None:
    (paper,) = load_file(FILES / "two_pages.pdf")
    assert paper.file == str(FILES / "two_pages.pdf")
