"""The bundled example corpus: real identifiers only, and the questions examples/README.md promises are answered."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from tests.conftest import store_at

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "corpus"
GUIDE = ROOT / "examples" / "README.md"
# Placeholders the illustrative records used: the DOI test prefix, invented PMC ids, invented authors and journal.
PLACEHOLDERS = [re.compile(p) for p in (r"10\.5555/", r"PMC99\d{6}", r"\b[A-Z]\. Example\b", r"Example Pathway")]


def corpus_texts() -> dict[str, str]:
    """Every file of the example corpus, by its path relative to the corpus."""
    return {str(p.relative_to(EXAMPLES)): p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.rglob("*"))
            if p.is_file()}


def guide_questions() -> tuple[list[str], list[str]]:
    """(all questions, figure questions) listed under 'Questions it answers' in examples/README.md."""
    section = GUIDE.read_text(encoding="utf-8").split("## Questions it answers", 1)[1].split("\n## ", 1)[0]
    questions: list[str] = []
    figure: list[str] = []
    in_figure = False
    for line in section.splitlines():
        if line.lower().startswith("figure questions"):
            in_figure = True
        elif line.startswith("- "):
            questions.append(line[2:].strip())
            if in_figure:
                figure.append(line[2:].strip())
    return questions, figure


def test_no_file_in_the_example_corpus_carries_a_placeholder_identifier() -> None:
    found = [(name, p.pattern) for name, text in corpus_texts().items() for p in PLACEHOLDERS if p.search(text)]
    assert found == []


def test_each_figure_record_is_a_cc0_pfocr_record_whose_ids_agree_and_whose_source_is_named() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    figures = sorted((EXAMPLES / "figures").glob("*.md"))
    assert len(figures) >= 4
    generations = set()
    for path in figures:
        data = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        pmcid = data["pmcid"]
        assert re.fullmatch(r"PMC\d{6,8}", pmcid) and data["figid"] == path.stem
        assert data["figid"].startswith(f"{pmcid}__") and f"/pmc/articles/{pmcid}/figure/" in data["figlink"]
        assert data["schema-jsonld"]["license"] == "CC0"
        generations.add("genes" in data)
        assert path.name in guide  # examples/README.md names the record and where it was taken from
    assert generations == {True, False}  # both PFOCR schema generations stay represented


@pytest.fixture(scope="module")
def examples_home(tmp_path_factory: pytest.TempPathFactory, encoder) -> Path:
    """A data home with the bundled example corpus ingested."""
    from tests.conftest import ingest

    home = tmp_path_factory.mktemp("examples_home")
    report = ingest([EXAMPLES], store_at(home, encoder.name), encoder)
    assert not report.failed
    return home


def test_every_question_the_guide_lists_is_answered_and_figure_questions_cite_a_figure(examples_home, run_cli) -> None:
    questions, figure_questions = guide_questions()
    assert len(questions) >= 8 and len(figure_questions) >= 3
    for question in questions:
        code, out, _ = run_cli("--home", examples_home, "ask", question)
        assert code == 0 and "do not answer" not in out, (question, out)
        citations = [line for line in out.splitlines() if re.match(r"\[\d+\] ", line)]
        assert citations, (question, out)
        if question in figure_questions:
            assert any(line.endswith("(figure)") for line in citations), (question, out)
