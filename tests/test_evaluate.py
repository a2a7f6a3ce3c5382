"""`litassist eval` on a tiny BEIR fixture, with the real model: metrics, caching, retriever modes."""

import json
from pathlib import Path

import pytest

from litassist.index.records import Hit

from litassist.assistant.factory import Components
from litassist.assistant.evaluate import (Dataset, build_index, cite_hit, ir_metrics, load_dataset, make_retriever,
                                read_qrels)
from litassist.assistant.models import Answer, Citation
from litassist.assistant.retrieval import best_per_source, convex, in_document_order, rrf, source_key, zscore
from litassist.assistant.settings import Settings
from tests.conftest import ingest, retriever_over, store_at

BEIR = Path(__file__).parent / "data" / "beir"
KEYS = {"ndcg@10", "recall@10", "recall@100", "mrr@10", "hit@1", "hit@3", "cite_hit@1", "cite_hit@3",
        "abstain_rate", "n_queries", "retriever", "dataset", "split"}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, encoder) -> tuple[Dataset, Settings]:
    """The fixture corpus indexed once for this module's library-level tests."""
    settings = Settings(home=tmp_path_factory.mktemp("eval_home"))
    dataset = load_dataset(BEIR)
    build_index(dataset, settings)
    return dataset, settings


def test_dataset_keeps_only_queries_with_relevant_documents():
    dataset = load_dataset(BEIR, "dev")
    assert sorted(dataset.queries) == ["q1", "q2", "q3", "q4", "q5", "q6"]  # q7 has no qrels
    assert dataset.qrels["q2"] == {"d04": 1, "d05": 1} and dataset.qrels["q6"]["d02"] == 0
    assert read_qrels(BEIR / "qrels" / "dev.tsv")["q1"] == {"d01": 1}  # the header row is skipped


def test_ir_metrics_come_from_ir_measures_and_count_empty_rankings_as_zero():
    qrels = {"a": {"x": 1}, "b": {"y": 1}}
    perfect = ir_metrics(qrels, {"a": ["x", "z"], "b": ["y"]})
    assert perfect == {"ndcg@10": 1.0, "recall@10": 1.0, "recall@100": 1.0, "mrr@10": 1.0, "hit@1": 1.0, "hit@3": 1.0}
    half = ir_metrics(qrels, {"a": ["z", "x"], "b": []})
    assert half["mrr@10"] == pytest.approx(0.25) and half["recall@10"] == pytest.approx(0.5)
    assert half["hit@1"] == 0.0 and half["hit@3"] == pytest.approx(0.5)


def test_cite_hit_looks_at_the_first_n_citations_in_order():
    cites = [Citation(n=n, source_id=s, kind="paper", title="", reference="") for n, s in ((2, "d1"), (1, "d9"))]
    result = Answer(question="q", answer="a", abstained=False, citations=cites)
    assert cite_hit(result, {"d1"}, 1) == 0.0 and cite_hit(result, {"d1"}, 3) == 1.0
    assert cite_hit(Answer(question="q", answer="none", abstained=True), {"d1"}, 3) == 0.0
    # The closest sources an abstention shows are not citations: a relevant one there is still a miss.
    near = [Citation(n=1, source_id="d1", kind="paper", title="", reference="", answers=False)]
    assert cite_hit(Answer(question="q", answer="none", abstained=True, closest=near), {"d1"}, 3) == 0.0


def passage(chunk: str, source: str, score: float) -> Hit:
    """A scored chunk of a paper, as a side of retrieval ranks it."""
    return Hit(id=chunk, source_id=source, score=score)


def test_document_fusion_rrf_of_best_ranks_and_convex_of_scaled_scores():
    dense = [passage("a1", "A", 0.9), passage("b1", "B", 0.8), passage("a2", "A", 0.7), passage("c1", "C", 0.1)]
    bm25 = [passage("c1", "C", 30.0), passage("b1", "B", 20.0), passage("d1", "D", 10.0)]
    assert [p.id for p in best_per_source(dense)] == ["a1", "b1", "c1"]
    by_rank = rrf([best_per_source(dense), best_per_source(bm25)], 60, source_key)
    assert {source_key(p) for p in by_rank[:2]} == {"B", "C"}  # seen by both sides
    scaled = convex([best_per_source(dense), bm25], [0.5, 0.5], source_key)
    assert {source_key(p): round(p.score, 3) for p in scaled} == {"B": 0.688, "A": 0.5, "C": 0.5, "D": 0.0}
    assert [source_key(p) for p in convex([best_per_source(dense), bm25], [1.0, 0.0], source_key)][0] == "A"


def test_zscore_fusion_sums_standardised_scores_and_gives_a_missing_document_the_sides_lowest():
    dense = [passage("a1", "A", 0.9), passage("b1", "B", 0.8), passage("c1", "C", 0.5)]
    bm25 = [passage("b1", "B", 10.0), passage("c1", "C", 9.0), passage("d1", "D", 1.0)]
    fused = zscore([dense, bm25], [0.5, 0.5], source_key)
    # dense z: A 0.981, B 0.392, C -1.373; BM25 z: B 0.828, C 0.579, D -1.407 (A gets -1.407, D gets -1.373)
    assert {source_key(p): round(p.score, 3) for p in fused} == {"B": 0.610, "A": -0.213, "C": -0.397, "D": -1.390}
    assert [source_key(p) for p in fused] == ["B", "A", "C", "D"]
    assert [source_key(p) for p in zscore([dense, bm25], [1.0, 0.0], source_key)][0] == "A"


def test_an_answers_passages_follow_the_document_ranking():
    # A is best on each side through two different chunks; B's one chunk is good on both, so chunk fusion ranks it
    # first. The document ranking puts A first, and so must the passages an answer numbers its sources by.
    dense = [passage("a1", "A", 0.9), passage("b1", "B", 0.85), passage("c1", "C", 0.5), passage("a2", "A", 0.1)]
    bm25 = [passage("a2", "A", 10.0), passage("b1", "B", 9.0), passage("c1", "C", 1.0)]
    chunks = convex([dense, bm25], [0.5, 0.5])
    documents = convex([best_per_source(dense), best_per_source(bm25)], [0.5, 0.5], source_key)
    assert chunks[0].id == "b1" and documents[0].source_id == "A"
    assert [p.id for p in in_document_order(chunks, documents)] == ["a1", "a2", "b1", "c1"]


def test_documents_are_ranked_once_each_even_with_several_chunks(indexed):
    dataset, settings = indexed
    comp, report = build_index(dataset, settings)
    assert report.embedded == 0 and report.counts()["unchanged"] == 1  # cached: nothing re-embedded
    assert comp.store.count() > 12  # d11 is long enough for two chunks
    for aggregate in ("rrf", "max"):
        retriever = make_retriever(comp, "hybrid").model_copy(update={"doc_aggregate": aggregate})
        ids = [p.chunk.source_id for p in retriever.documents(dataset.queries["q5"], depth=300)]
        assert ids[0] == "d11" and len(ids) == len(set(ids)) == 12


def test_bm25_mode_ranks_documents_without_an_encoder(indexed):
    dataset, settings = indexed
    comp, _ = build_index(dataset, settings)
    retriever = retriever_over(comp.store, None, mode="bm25")  # any encode call would fail
    assert retriever.documents(dataset.queries["q1"])[0].chunk.source_id == "d01"
    assert retriever.search(dataset.queries["q3"], k=2)[0].chunk.source_id == "d03"


def test_eval_cli_json_contract_and_second_run_embeds_nothing(tmp_path, run_cli):
    code, out, err = run_cli("eval", BEIR, "--json", "--home", tmp_path)
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == KEYS and result["n_queries"] == 6 and result["retriever"] == "hybrid"
    assert all(0.0 <= result[k] <= 1.0 for k in KEYS - {"n_queries", "retriever", "dataset", "split"})
    assert result["ndcg@10"] > 0.8 and result["recall@100"] == 1.0
    assert "queries" in err and " 0 chunks embedded" not in err  # progress bar; the first run embeds
    cached = list((tmp_path / "eval").iterdir())
    assert len(cached) == 1 and cached[0].name.endswith("-all-MiniLM-L6-v2")
    code, again, err = run_cli("eval", BEIR, "--json", "--home", tmp_path)
    assert code == 0 and ": 0 chunks embedded" in err
    assert json.loads(again) == result


def test_eval_cli_bm25_text_table_and_offcorpus(tmp_path, run_cli):
    code, out, err = run_cli("--home", tmp_path, "eval", BEIR, "--retriever", "bm25",
                             "--offcorpus", BEIR / "offcorpus.txt")
    assert code == 0, err
    assert out.startswith("beir (dev, bm25): 6 queries") and "nDCG@10" in out and "citation hit@1" in out
    assert "off-corpus abstention" in out


def test_eval_cli_rejects_a_folder_without_qrels(tmp_path, run_cli):
    code, _, err = run_cli("eval", tmp_path, "--home", tmp_path)
    assert code == 1 and "queries.jsonl not found" in err


def test_eval_questions_file_over_any_folder_scores_figure_citations(tmp_path, run_cli):
    questions = Path(__file__).parent / "data" / "figure_questions.tsv"
    code, out, err = run_cli("eval", Path(__file__).parent / "data" / "corpus", "--questions", questions,
                             "--json", "--home", tmp_path)
    assert code == 0, err
    result = json.loads(out)
    assert result["n_queries"] == 2 and result["dataset"] == "corpus" and result["split"] == "figure_questions.tsv"
    assert result["hit@1"] == 1.0 and result["cite_hit@1"] == 1.0 and result["abstain_rate"] == 0.0


def test_eval_builds_its_index_with_the_ingest_settings(tmp_path, run_cli, monkeypatch):
    """LITASSIST_INGEST__MAX_FILE_MB applies to `litassist eval`'s index as to `litassist ingest` (issue 14, item 2)."""
    corpus = Path(__file__).parent / "data" / "corpus"
    monkeypatch.setenv("LITASSIST_INGEST__MAX_FILE_MB", "0.001")  # 1,048 bytes: the 1,287-byte figure is too large
    code, _, err = run_cli("eval", corpus, "--questions", Path(__file__).parent / "data" / "figure_questions.tsv",
                           "--json", "--home", tmp_path)
    assert code == 0, err
    assert "warning: " in err and "PMC9000001__fig3.md: too large:" in err


def test_the_document_ranking_follows_the_doc_settings_of_the_factory_retriever(indexed):
    """retrieval.doc_dense_weight reaches the retriever Components builds, with nothing patched in (issue 14, item 2):
    all weight on one side ranks documents as that side alone does."""
    dataset, settings = indexed
    home = build_index(dataset, settings)[0].settings.home
    tops = {}
    for weight in (0.0, 1.0):
        retrieval = settings.retrieval.model_copy(update={"doc_aggregate": "rrf", "doc_fusion": "convex",
                                                          "doc_dense_weight": weight})
        comp = Components(settings.model_copy(update={"home": home, "retrieval": retrieval}))
        side = "dense" if weight else "bm25"
        for question in dataset.queries.values():
            top = comp.retriever().documents(question)[0].chunk.source_id
            alone = make_retriever(comp, side).documents(question)[0].chunk.source_id
            assert top == alone, (weight, question)
            tops.setdefault(question, set()).add(top)
    assert any(len(found) == 2 for found in tops.values())  # the setting changed a ranking a user sees


FEEDBACK_QUESTION = "Which drug treats chronic myeloid leukemia?"
FEEDBACK_ROWS = {
    "first": "Imatinib treats chronic myeloid leukemia by inhibiting the BCR-ABL kinase.",
    "related": "Imatinib mesylate, a BCR-ABL tyrosine kinase inhibitor, induced durable remissions in CML patients.",
    "distractor": "Chronic kidney disease: which drug treats anaemia in elderly patients remains debated.",
    "metformin": "Metformin lowers blood glucose in type 2 diabetes.",
    "zebrafish": "Zebrafish regrow an amputated fin within two weeks of injury.",
    "statins": "Statins reduce cardiovascular events in patients with high cholesterol."}


def test_a_paper_worded_like_the_first_result_outranks_one_that_only_shares_the_questions_words(tmp_path, encoder):
    # Dense feedback: the second dense search leans towards the first document ('imatinib', 'BCR-ABL'), so the
    # paper that says the same in other words ('CML') passes the one about another chronic disease.
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"_id": k, "title": "", "text": v}) + "\n" for k, v in FEEDBACK_ROWS.items()))
    store = store_at(tmp_path / "home", encoder.name)
    ingest([corpus], store, encoder)

    def ranked(feedback: float) -> list[str]:
        return [p.chunk.source_id for p in retriever_over(store, encoder, feedback=feedback).documents(FEEDBACK_QUESTION)]

    assert ranked(0.2)[:3] == ["first", "related", "distractor"]  # the default
    assert Settings().retrieval.feedback == 0.2
    assert ranked(0.0)[:3] == ["first", "distractor", "related"]  # without it, shared words win second place
