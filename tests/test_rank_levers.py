"""bench/rank_levers.py, whose rows docs/evaluation.md reports, re-ranks cached candidates exactly as `litassist
eval` ranks documents: its "baseline" must be today's ranking, or every before/after in that table is off."""

from pathlib import Path

from litassist.assistant.evaluate import ir_metrics
from tests.conftest import eval_document_ranking
from bench.rank_levers import build_cache, evaluate, runs

BEIR = Path(__file__).parent / "data" / "beir"


def test_baseline_variant_reproduces_the_eval_document_ranking(tmp_path, encoder):
    # the levers' rows start from the first pass (`baseline`); today's default adds the dense feedback
    settings, dataset, expected = eval_document_ranking(BEIR, tmp_path / "home", feedback=0.0)
    _, _, default = eval_document_ranking(BEIR, tmp_path / "home")
    _, _, by_z = eval_document_ranking(BEIR, tmp_path / "home", doc_fusion="zscore")

    build_cache(BEIR, settings.home, tmp_path / "cache")
    ranked, _ = runs(dataset.name, ["baseline", "exact", "rocchio_3_0.5", "feedback_0.2", "feedback_0.2_z"],
                     tmp_path / "cache")

    assert ranked["baseline"] == expected  # every query, every document, in the first pass's order
    assert ranked["exact"] == expected  # a 12-document index: HNSW finds every chunk
    assert ranked["feedback_0.2"] == default  # `litassist eval`'s own ranking, feedback included
    assert ranked["feedback_0.2_z"] == by_z  # and with z-score fusion
    assert ranked["rocchio_3_0.5"] != expected  # feedback moves documents: the comparison can tell rankings apart
    got = evaluate(dataset.name, ["baseline"], tmp_path / "cache")["baseline"]
    assert got["ndcg@10"] == round(ir_metrics(dataset.qrels, expected)["ndcg@10"], 4)
