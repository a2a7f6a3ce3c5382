"""bench/rank_fields.py, whose field-lever rows docs/evaluation.md reports: its extra BM25 with no lever must rank
documents exactly as `litassist eval` does, and each lever must change what that BM25 indexes."""

import pickle
from pathlib import Path

from litassist.assistant.synonyms import load_synonyms
from bench.rank_fields import VARIANTS, field_runs, field_texts, titles
from tests.conftest import eval_document_ranking
from bench.rank_levers import build_cache

BEIR = Path(__file__).parent / "data" / "beir"


def test_rebuilt_field_index_reproduces_the_eval_ranking_and_levers_change_the_indexed_text(tmp_path, encoder):
    settings, dataset, expected = eval_document_ranking(BEIR, tmp_path / "home", feedback=0.0)  # BM25 alone
    build_cache(BEIR, settings.home, tmp_path / "cache")

    ranked = dict(field_runs(BEIR, ["rebuilt", "title_x3"], tmp_path / "cache"))
    assert ranked["rebuilt"] == expected  # the extra index, built from the cache, is today's BM25

    corpus = pickle.loads((tmp_path / "cache" / f"{dataset.name}.pkl").read_bytes())["corpus"]
    brca = [i for i, t in enumerate(corpus.texts) if "BRCA1" in t][0]
    table, records = load_synonyms(), titles(BEIR)
    plain = field_texts(corpus, records, table, VARIANTS["rebuilt"])[brca]
    assert plain.count("BRCA1 and homologous recombination") == 1  # the title, as the chunk's context
    assert field_texts(corpus, records, table, VARIANTS["title_x3"])[brca].count(
        "BRCA1 and homologous recombination") == 3
    ampk = [i for i, t in enumerate(corpus.texts) if "AMPK" in t][0]  # the metformin abstract names AMPK only
    plain = field_texts(corpus, records, table, VARIANTS["rebuilt"])[ampk]
    with_synonyms = field_texts(corpus, records, table, VARIANTS["doc_synonyms"])[ampk]
    assert "PRKAA1" not in plain and "PRKAA1" in with_synonyms  # the gene's other names, on the document side
