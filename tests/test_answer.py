"""Cited extractive answers on the project's own corpus, through the real chain."""

import pytest

from litassist.assistant.answer import answer
from litassist.assistant.citations import render_text
from litassist.assistant.models import CANNOT_ANSWER
from litassist.assistant.retrieval import HybridRetriever
from tests.conftest import retriever_over, store_at


@pytest.fixture()
def retriever(store, encoder) -> HybridRetriever:
    return retriever_over(store, encoder, k=8)


def test_relation_question_cites_the_paper_first(retriever):
    result = answer("How does HER2 affect CXCR4?", retriever)
    assert not result.abstained and result.mode == "extractive"
    first = result.citations[0]
    assert first.n == 1 and first.source_id == "doi:10.9999/jto.2019.0003" and first.kind == "paper"
    assert "HER2 increased the expression of CXCR4" in result.answer
    assert "HER2 also blocked the degradation of CXCR4" in result.answer
    # every quoted sentence names both entities of the question
    assert all("HER2" in s.text and "CXCR4" in s.text for s in result.sentences)
    assert first.reference == ("HER2 signalling raises CXCR4 levels to drive breast cancer metastasis. "
                               "Journal of Test Oncology 12(3):101-112, Mar 2019. https://doi.org/10.9999/jto.2019.0003")


def test_every_sentence_is_verbatim_from_the_passage_it_cites(retriever):
    result = answer("How does HER2 affect CXCR4?", retriever)
    by_n = {c.n: c.source_id for c in result.citations}
    for sentence in result.sentences:
        cited = {by_n[n] for n in sentence.citations}
        assert any(sentence.text in p.text for p in result.passages if p.source_id in cited)
        assert f"[{sentence.citations[0]}]" in result.answer


def test_figure_question_cites_the_figure_with_its_pmc_link(retriever):
    result = answer("What does mitochondrial MKP1 do in radioresistant breast cancer cells?", retriever)
    first = result.citations[0]
    assert first.kind == "figure" and first.figid == "PMC9000001__fig3"
    assert first.url == "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC9000001/figure/F3/"
    assert "Mitochondrial MKP1 dephosphorylates JNK" in result.answer
    text = render_text(result)
    assert "[1] Figure 3: MKP1 relocates to mitochondria in radioresistant breast cancer cells." in text
    assert text.rstrip().endswith("(figure)")


@pytest.mark.parametrize("question", ["What is the capital of France?", "How does BRCA1 regulate PARP1?"])
def test_off_corpus_questions_abstain(retriever, question):
    result = answer(question, retriever)
    assert result.abstained and result.answer == CANNOT_ANSWER
    # The text goes on with a hint and the closest sources (issue 13, item 18), after the unchanged sentence.
    assert result.citations == [] and render_text(result).startswith(CANNOT_ANSWER + "\n\nSearched for")


def test_an_abstention_shows_the_closest_sources_as_not_answering_and_says_what_was_searched(retriever):
    from litassist.assistant.citations import CLOSEST
    from litassist.index.bm25 import SearchFilter

    result = answer("How does BRCA1 regulate PARP1?", retriever)
    assert result.abstained and result.citations == []  # nothing is cited: the closest sources are not citations
    retrieved = list(dict.fromkeys(p.source_id for p in result.passages))
    assert [c.source_id for c in result.closest] == retrieved[:3]
    assert all(not c.answers and any(c.quote in p.text for p in result.passages if p.source_id == c.source_id)
               for c in result.closest)
    assert result.hint.startswith("Searched for “How does BRCA1 regulate PARP1?”") and "Try rephrasing" in result.hint
    text = render_text(result)
    assert f"{CLOSEST}:\n- {result.closest[0].reference}" in text and "[1]" not in text
    figures = answer("How does BRCA1 regulate PARP1?", retriever.model_copy(update={"where": SearchFilter(kind="figure")}))
    assert "with filters: figures only" in figures.hint and figures.hint.endswith("or widen the filters.")
    assert {c.kind for c in figures.closest} == {"figure"}


def test_retriever_is_a_langchain_retriever_with_filters(retriever):
    from litassist.index.bm25 import SearchFilter

    docs = retriever.invoke("CXCR4")
    assert docs and all(d.metadata["source_id"] for d in docs)
    figures = retriever.model_copy(update={"where": SearchFilter(kind="figure")}).invoke("CXCR4")
    assert figures and {d.metadata["kind"] for d in figures} == {"figure"}


@pytest.mark.parametrize("question, entities", [
    ("What is the p53-MDM2 feedback loop?", ["p53", "MDM2"]),
    ("How does NF-kB affect HER2-positive cells?", ["NF-kB", "HER2"]),
    ("How does HER2 affect CXCR4", ["HER2", "CXCR4"]),
])
def test_question_entities_survive_hyphens(question, entities):
    from litassist.assistant.terms import mentions, question_terms

    assert question_terms(question).entities == entities
    assert mentions("the p53–MDM2 loop and NF–κB", "p53") and mentions("NF–kB is active", "NF-kB")


def test_abbreviation_glossaries_are_never_quoted():
    from litassist.assistant.selection import quotable

    assert not quotable("Abbreviations: AKT, protein kinase B; ERK, extracellular kinase.")
    assert not quotable("CHRM3, M3 muscarinic receptor; PCa, prostate cancer; MAPK, MAP kinase;")
    assert quotable("HER2 also inhibits ligand-induced CXCR4 degradation.")


def test_a_gene_no_source_mentions_makes_the_answer_abstain(retriever):
    # CXCR4 is indexed, ZNF9137 is not: quoting sentences about CXCR4 alone would not answer the question.
    result = answer("How does ZNF9137 regulate CXCR4?", retriever)
    assert result.abstained and result.citations == []


def test_years_and_counts_in_a_question_need_not_be_quoted(retriever):
    result = answer("Did HER2 raise CXCR4 levels in the 2019 study of 12 tumours?", retriever)
    assert not result.abstained and result.citations[0].source_id == "doi:10.9999/jto.2019.0003"
    assert all("HER2" in s.text and "CXCR4" in s.text for s in result.sentences)


def test_sources_are_numbered_in_retrieval_order(retriever):
    result = answer("What drives breast cancer metastasis to the lung?", retriever)
    assert not result.abstained
    retrieved = list(dict.fromkeys(p.source_id for p in result.passages))
    cited = [c.source_id for c in sorted(result.citations, key=lambda c: c.n)]
    assert cited == sorted(cited, key=retrieved.index)  # [1] is the best-ranked cited source, and so on
    assert [s.citations[0] for s in result.sentences] == sorted(s.citations[0] for s in result.sentences)


def test_synonym_of_a_question_entity_counts_as_naming_it():
    from litassist.assistant.terms import mentions, question_terms

    terms = question_terms("How does SDF-1 bind CXCR4?", {"SDF-1": ["CXCL12"]})
    assert terms.entities == ["SDF-1", "CXCR4"] and terms.names["SDF-1"][0] == "CXCL12"
    assert mentions("CXCL12 binds its receptor", "SDF-1", terms.names["SDF-1"])
    assert mentions("the NFkB and HER-2 pathways", "NF-kB") and mentions("HER-2 is amplified", "HER2")
    assert not mentions("they walked the trail", "TNFSF10", ["TRAIL"])  # an ordinary word matches in capitals only
    assert mentions("NOTCH signalling in T cells", "Notch")  # the question's own word matches in any case


def test_a_relation_across_neighbouring_sentences_is_answered(retriever):
    # No single sentence names both NF-κB and JNK: "Irradiation raises HER2 and MKP1 levels through NF-κB." is
    # followed by "Mitochondrial MKP1 dephosphorylates JNK, …"; each names one and its neighbour the other.
    result = answer("How does NF-κB affect JNK?", retriever)
    assert not result.abstained and result.citations[0].source_id == "PMC9000001__fig3"
    assert any("JNK" in s.text for s in result.sentences) and all(
        "JNK" in s.text or "NF-κB" in s.text for s in result.sentences)


def test_a_one_entity_question_may_quote_a_sentence_whose_neighbour_names_it(retriever):
    # "Sustained ERK activity promotes proliferation of epithelial cells." does not say EGFR; the sentence before it
    # ("EGFR activates the RAS-RAF-MEK-ERK cascade …") and the note's title do.
    result = answer("Does EGFR drive the proliferation of epithelial cells?", retriever)
    assert not result.abstained
    assert "Sustained ERK activity promotes proliferation of epithelial cells." in [s.text for s in result.sentences]


def test_a_statement_repeated_in_a_paper_is_quoted_once(tmp_path, encoder):
    from tests.conftest import ingest

    paper = tmp_path / "repeats.txt"
    paper.write_text(
        "# HER2 and CXCR4 in breast cancer metastasis\n\n"
        "HER2 raises CXCR4 expression in breast cancer cells and drives their lung metastasis in mice. "
        "Blocking CXCR4 prevented the metastases.\n\n"
        "We also measured survival in a small cohort of patients over five years of follow-up. "
        "In conclusion, HER2 raises CXCR4 expression in breast cancer cells and drives their lung metastasis in "
        "mice.\n",
        encoding="utf-8")
    store = store_at(tmp_path / "home", encoder.name)
    ingest([paper], store, encoder)
    result = answer("How does HER2 affect CXCR4?", retriever_over(store, encoder, k=8))
    said = [s.text for s in result.sentences]
    assert sum("raises CXCR4 expression in breast cancer cells" in s for s in said) == 1, said


@pytest.mark.parametrize("question", ["How does HER2 affect CXCR4?", "MKP1 in the MAPK pathway figure",
                                      "What regulates CXCR4 degradation?"])
def test_bm25_in_a_second_thread_gives_the_same_passages_and_answer(retriever, question):
    alone = retriever.model_copy(update={"parallel_sides": False})
    assert retriever.parallel_sides  # the default
    assert [(p.chunk.id, round(p.score, 6)) for p in retriever.search(question)] == \
        [(p.chunk.id, round(p.score, 6)) for p in alone.search(question)]
    assert render_text(answer(question, retriever)) == render_text(answer(question, alone))
