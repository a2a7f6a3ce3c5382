"""bench/rank_terms.py, whose word-pair and feedback rows docs/evaluation.md reports: its own BM25 must rank as the
index does, without word pairs and with them, and its adopted row must be `litassist eval`'s ranking."""

from pathlib import Path

from litassist.index import bm25 as bm25_module
from bench.rank_levers import build_cache
from bench.rank_terms import term_runs
from tests.conftest import eval_document_ranking

BEIR = Path(__file__).parent / "data" / "beir"


def test_the_matrix_bm25_ranks_as_the_index_with_and_without_word_pairs(tmp_path, encoder, monkeypatch):
    settings, _, default = eval_document_ranking(BEIR, tmp_path / "home")  # word pairs and dense feedback
    build_cache(BEIR, settings.home, tmp_path / "cache")
    ranked = dict(term_runs(BEIR, ["unigram", "rocchio_0.2_bigrams_0.2_chunk", "bigrams_1.0"], tmp_path / "cache"))
    assert ranked["rocchio_0.2_bigrams_0.2_chunk"] == default
    assert ranked["bigrams_1.0"] != ranked["unigram"]  # pairs move documents: the comparison can tell rankings apart

    monkeypatch.setattr(bm25_module, "PAIR_WEIGHT", 0.0)
    _, _, words_only = eval_document_ranking(BEIR, tmp_path / "home", feedback=0.0)
    assert ranked["unigram"] == words_only  # the index before word pairs and feedback
