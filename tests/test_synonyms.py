"""Gene synonyms: HER2 finds ERBB2, SDF-1 finds CXCL12, PFOCR gene lists and an HGNC file add aliases."""

import json
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from tests.conftest import ingest, retriever_over, store_at

from litassist.assistant.answer import answer
from litassist.assistant.retrieval import HybridRetriever
from litassist.assistant.synonyms import bm25_terms, load_synonyms

DATA = Path(__file__).parent / "data"
HGNC = DATA / "hgnc" / "hgnc_sample.tsv"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, encoder) -> Path:
    """Small papers that name genes by one name only, and an older-generation PFOCR figure."""
    home = tmp_path_factory.mktemp("synonyms_home")
    ingest([DATA / "synonyms"], store_at(home, encoder.name), encoder)
    return home


@pytest.fixture()
def retriever(home: Path, encoder) -> HybridRetriever:
    store = store_at(home, encoder.name)
    return retriever_over(store, encoder, load_synonyms(None, store), k=8)


def test_her2_question_cites_a_paper_that_only_says_erbb2(retriever):
    result = answer("Does HER2 drive invasion of gastric carcinoma cells?", retriever)
    assert not result.abstained
    assert result.citations[0].source_id.startswith("sha1:") and "ERBB2" in result.citations[0].title
    assert "ERBB2 amplification drives invasion of gastric carcinoma cells" in result.answer
    assert result.expansions["HER2"][:2] == ["ERBB2", "NEU"]


def test_when_the_llm_fails_its_fallback_reads_her2_as_erbb2_like_plain_extractive(retriever):
    question = "Does lapatinib block HER2?"  # the paper says ERBB2 only
    plain = answer(question, retriever)
    # The model's connection drops mid-reply: the answer falls back to quoting.
    dropped = FakeListChatModel(responses=["Lapatinib blocks the kinase [1]."], error_on_chunk_number=3)
    result = answer(question, retriever, llm=dropped)
    assert "The LLM (FakeListChatModel) failed" in result.note
    assert "Blocking the ERBB2 kinase with lapatinib halved invasion" in plain.answer
    assert not result.abstained and result.answer == plain.answer and result.citations == plain.citations


def test_bm25_finds_erbb2_for_her2_only_through_the_synonyms(retriever):
    plain = retriever.model_copy(update={"synonyms": None, "mode": "bm25"})
    assert plain.search("HER2") == [] and plain.expansions("HER2") == {}
    found = retriever.model_copy(update={"mode": "bm25"}).search("HER2")
    assert found and "ERBB2" in found[0].chunk.text


def test_sdf1_question_cites_the_cxcl12_paper(retriever):
    result = answer("How does SDF-1 attract leukaemia cells?", retriever)
    assert not result.abstained and "CXCL12" in result.citations[0].title
    assert all("CXCL12" in s.text for s in result.sentences)
    assert result.expansions["SDF-1"][0] == "CXCL12"


def test_aliases_learned_from_pfocr_gene_lists(retriever):
    # The figure maps the OCR word p57KIP2 to CDKN1C; the paper says only CDKN1C.
    assert retriever.expansions("What does p57KIP2 do in the placenta?") == {"p57KIP2": ["CDKN1C"]}
    found = retriever.model_copy(update={"mode": "bm25"}).search("p57KIP2")
    assert {p.chunk.source_id for p in found} >= {"PMC1000003__kip2"}
    assert any("CDKN1C" in p.chunk.text for p in found)


def test_ask_json_lists_the_expansions(home, run_cli):
    code, out, err = run_cli("--home", home, "ask", "How does SDF-1 attract leukaemia cells?", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["expansions"]["SDF-1"][:2] == ["CXCL12", "SDF-1alpha"]
    assert "CXCL12" in result["answer"] and result["citations"][0]["n"] == 1


def test_hgnc_file_adds_aliases_and_ambiguous_ones_are_not_used(home, run_cli, monkeypatch):
    table = load_synonyms(HGNC)
    assert table.expansions("Does GKLF control goblet cells?") == {"GKLF": ["KLF4", "EZF"]}
    assert table.expansions("What does SHARED7 do?") == {}  # two genes use this alias
    assert table.expansions("Does TRAIL kill tumour cells?") == {}  # now shared with TNFSF10
    assert load_synonyms().expansions("Does TRAIL kill tumour cells?")["TRAIL"][0] == "TNFSF10"
    monkeypatch.setenv("LITASSIST_RETRIEVAL__SYNONYMS_FILE", str(HGNC))
    code, out, err = run_cli("--home", home, "ask", "Does GKLF control goblet cell numbers?", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["expansions"] == {"GKLF": ["KLF4", "EZF"]} and "KLF4" in result["citations"][0]["title"]


def test_ordinary_word_aliases_are_not_searched_as_words():
    expansions = load_synonyms().expansions("How does TNFSF10 induce apoptosis?")
    assert "TRAIL" in expansions["TNFSF10"] and "TRAIL" not in bm25_terms(expansions)
    assert load_synonyms().expansions("Does the trail of a comet matter?") == {}
    assert load_synonyms(HGNC).expansions("Is NE raised in sputum?") == {}  # two-letter aliases are too vague


def test_family_names_expand_to_their_members():
    table = load_synonyms()
    assert table.expansions("Is ERK active?")["ERK"][:2] == ["MAPK1", "MAPK3"]
    assert table.expansions("Does JNK kill cells?")["JNK"][:3] == ["MAPK8", "MAPK9", "MAPK10"]
    assert table.expansions("Does MKP1 bind ERK?")["MKP1"][0] == "DUSP1"


def test_common_words_come_from_the_configured_models_vocabulary(tmp_path, monkeypatch):
    """'survivin' is missing from the bundled model's vocabulary, so BM25 also searches its gene's names; a configured
    model whose vocabulary holds it as an ordinary word turns that off (issue 14, item 6)."""
    from litassist.assistant import synonyms
    from litassist.assistant.factory import Components
    from litassist.assistant.settings import Settings

    monkeypatch.setitem(synonyms._vocabulary, "model", "")  # the test leaves the process's vocabulary as it found it
    question = "What does survivin inhibit in tumour cells?"
    bundled = Components(Settings(home=tmp_path / "bundled")).retriever()
    assert bundled.expansions(question) == {"survivin": ["BIRC5", "API4"]}
    model = tmp_path / "biomedical-model"
    model.mkdir()
    (model / "vocab.txt").write_text("[PAD]\n[UNK]\nthe\ncells\nsurvivin\ninhibit\n", encoding="utf-8")
    configured = Components(Settings(home=tmp_path / "configured", embedding={"model": str(model)})).retriever()
    assert configured.expansions(question) == {}
