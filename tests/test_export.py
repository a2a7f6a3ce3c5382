"""Markdown, BibTeX and RIS export of answers, on the project's own corpus and through the CLI."""

from pathlib import Path

import bibtexparser
import pytest
import rispy
from pylatexenc.latex2text import LatexNodes2Text

from litassist.assistant.answer import answer
from litassist.assistant.citations import to_markdown
from litassist.assistant.export import cite_keys, to_bibtex, to_ris
from litassist.assistant.models import CANNOT_ANSWER
from litassist.assistant.retrieval import HybridRetriever
from litassist.index.loaders.refman import load_bibtex, load_ris
from litassist.index.records import Paper
from tests.conftest import retriever_over

PAPER_Q = "How does HER2 affect CXCR4?"
FIGURE_Q = "What does mitochondrial MKP1 do in radioresistant breast cancer cells?"
OFF_CORPUS_Q = "What is the capital of France?"
PAPER_TITLE = "HER2 signalling raises CXCR4 levels to drive breast cancer metastasis"
FIGURE_URL = "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC9000001/figure/F3/"
SPECIAL_TITLE = r"50% of {HER2} & co: #1 costs $5, see_this ~ C:\temp for NF-κB in Müller cells"


@pytest.fixture()
def retriever(store, encoder) -> HybridRetriever:
    return retriever_over(store, encoder, k=8)


@pytest.fixture()
def cited(retriever, store):
    """The full stored records cited by the answer to a question."""
    def records(question: str) -> list:
        result = answer(question, retriever)
        return [store.record(c.source_id) for c in result.citations]

    return records


def plain(latex: str) -> str:
    return LatexNodes2Text(math_mode="text").latex_to_text(latex)


def special_paper(**extra) -> Paper:
    fields = dict(source_id="pmid:15123456", title=SPECIAL_TITLE, journal="Cancer Cell", year=2004, volume="6",
                  issue="5", pages="459-469", doi="10.1016/j.ccr.2004.09.027", pmid="15123456",
                  authors=["Candas, Demet", "Lu CL", "Cancer Genome Atlas Research Network"])
    return Paper(**{**fields, **extra})


def test_markdown_has_the_body_and_linked_numbered_references(retriever):
    result = answer(PAPER_Q, retriever)
    body, refs = to_markdown(result).split("\n\n")
    assert body == result.answer and "[1]" in body
    assert refs == ("1. HER2 signalling raises CXCR4 levels to drive breast cancer metastasis. Journal of Test "
                    "Oncology 12(3):101-112, Mar 2019. [https://doi.org/10.9999/jto.2019.0003]"
                    "(https://doi.org/10.9999/jto.2019.0003) *(paper)*")


def test_markdown_marks_figures_and_abstains_plainly(retriever):
    refs = to_markdown(answer(FIGURE_Q, retriever)).split("\n\n")[1]
    assert refs.startswith("1. Figure 3: MKP1 relocates to mitochondria")
    assert refs.endswith(f"({FIGURE_URL}) *(figure)*")
    assert to_markdown(answer(OFF_CORPUS_Q, retriever)) == CANNOT_ANSWER


def test_markdown_escapes_formatting_but_keeps_markers(retriever):
    result = answer(PAPER_Q, retriever).model_copy(update={"answer": "p53_mut *and* <b>x</b> rise [1]."})
    assert to_markdown(result).split("\n\n")[0] == r"p53\_mut \*and\* \<b>x\</b> rise [1]."


def test_bibtex_of_the_cited_paper_parses_back(cited):
    library = bibtexparser.parse_string(to_bibtex(cited(PAPER_Q)))
    assert not library.failed_blocks
    entry = library.entries[0]
    fields = {k: f.value for k, f in entry.fields_dict.items()}
    assert entry.entry_type == "article" and entry.key == "anon2019her2"
    assert plain(fields["title"]) == PAPER_TITLE
    assert fields["title"].startswith("{HER2} signalling")  # acronyms keep their case in BibTeX styles
    assert (fields["journal"], fields["year"], fields["doi"]) == ("Journal of Test Oncology", "2019",
                                                                  "10.9999/jto.2019.0003")
    assert (fields["volume"], fields["number"], fields["pages"]) == ("12", "3", "101--112")


def test_bibtex_of_a_cited_figure_is_a_misc_entry_with_its_pmc_link(cited):
    library = bibtexparser.parse_string(to_bibtex(cited(FIGURE_Q)))
    entry = library.entries[0]
    fields = {k: f.value for k, f in entry.fields_dict.items()}
    assert entry.entry_type == "misc" and entry.key == "PMC9000001__fig3"
    assert fields["url"] == FIGURE_URL and fields["howpublished"] == rf"\url{{{FIGURE_URL}}}"
    assert plain(fields["title"]) == "Figure 3: MKP1 relocates to mitochondria in radioresistant breast cancer cells"
    assert fields["note"].startswith("In: Mitochondrial MKP1 protects HER2-positive breast cancer cells")
    assert "J Test Biol. 2020;5(2):10-20." in fields["note"]
    assert (fields["year"], fields["doi"]) == ("2020", "10.9999/jtb.2020.5")


def test_ris_parses_back_for_papers_and_figures(cited):
    paper, figure = rispy.loads(to_ris(cited(PAPER_Q)[:1] + cited(FIGURE_Q)[:1]))
    assert paper["type_of_reference"] == "JOUR" and paper["title"] == PAPER_TITLE
    assert (paper["secondary_title"], paper["year"], paper["doi"]) == ("Journal of Test Oncology", "2019",
                                                                       "10.9999/jto.2019.0003")
    assert (paper["start_page"], paper["end_page"]) == ("101", "112")
    assert figure["type_of_reference"] == "FIGURE" and figure["urls"] == [FIGURE_URL]
    assert figure["title"].startswith("Figure 3: MKP1") and figure["year"] == "2020"
    assert figure["secondary_title"] == "Mitochondrial MKP1 protects HER2-positive breast cancer cells from radiation"
    assert figure["notes"] == ["A. Tester, et al. J Test Biol. 2020;5(2):10-20."]


def test_special_characters_survive_a_bibtex_round_trip(tmp_path: Path):
    text = to_bibtex([special_paper()])
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks and plain(library.entries[0]["title"]) == SPECIAL_TITLE
    (tmp_path / "out.bib").write_text(text, encoding="utf-8")
    [back] = load_bibtex(tmp_path / "out.bib")  # litassist's own importer reads its export back
    assert back.title == SPECIAL_TITLE and back.pmid == "15123456" and back.pages == "459-469"
    assert back.authors == ["Candas, Demet", "Lu, C. L.", "Cancer Genome Atlas Research Network"]
    assert (back.journal, back.year, back.volume, back.issue) == ("Cancer Cell", 2004, "6", "5")
    assert back.source_id == "doi:10.1016/j.ccr.2004.09.027"


def test_a_lone_brace_still_gives_balanced_bibtex():
    text = to_bibtex([special_paper(title="Sets } and { in reverse")])
    braces = 0
    for char in text:  # BibTeX itself counts every brace, escaped or not
        braces += {"{": 1, "}": -1}.get(char, 0)
        assert braces >= 0
    assert braces == 0 and not bibtexparser.parse_string(text).failed_blocks


def test_ris_round_trip_keeps_the_pmid_and_names(tmp_path: Path):
    (tmp_path / "out.ris").write_text(to_ris([special_paper()]), encoding="utf-8")
    [back] = load_ris(tmp_path / "out.ris")
    assert back.title == SPECIAL_TITLE and back.pmid == "15123456" and back.pages == "459-469"
    assert back.authors == ["Candas, Demet", "Lu, C.L.", "Cancer Genome Atlas Research Network"]
    assert (back.journal, back.year, back.doi) == ("Cancer Cell", 2004, "10.1016/j.ccr.2004.09.027")


def test_cite_keys_are_readable_and_unique():
    first, twin = special_paper(), special_paper(source_id="other")
    untitled = special_paper(title=None, year=None, abstract="x", source_id="sha1:ab/cd")
    assert cite_keys([first, twin, untitled]) == ["candas200450", "candas200450-2", "sha1:ab-cd"]


# --- through the CLI ----------------------------------------------------------------------------------------


def test_cli_markdown_and_bibtex(corpus_home, run_cli):
    code, out, _ = run_cli("--home", corpus_home, "ask", PAPER_Q, "--format", "markdown")
    assert code == 0 and "HER2 increased the expression of CXCR4" in out and "\n\n1. HER2 signalling" in out
    code, out, _ = run_cli("--home", corpus_home, "ask", PAPER_Q, "--format", "bibtex")
    library = bibtexparser.parse_string(out)
    assert code == 0 and not library.failed_blocks
    assert library.entries[0]["doi"] == "10.9999/jto.2019.0003"


def test_cli_ris_of_an_abstention_prints_nothing_and_a_note(corpus_home, run_cli):
    code, out, err = run_cli("--home", corpus_home, "ask", OFF_CORPUS_Q, "--format", "ris")
    assert code == 0 and out == "" and len(err.strip().splitlines()) == 1 and CANNOT_ANSWER in err


def test_cli_json_with_an_export_format_is_a_usage_error(corpus_home, run_cli):
    code, out, err = run_cli("--home", corpus_home, "ask", PAPER_Q, "--json", "--format", "bibtex")
    assert code == 2 and out == "" and "cannot be combined" in err
