"""BM25 in segments: adding a file writes a small segment, not a rebuild, and ranks exactly as one rebuilt index;
deleted and re-ingested files' old chunks are retired; a kill while a segment is written loses nothing."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import bm25s
import Stemmer

from litassist.index import bm25 as bm25_module
from litassist.index.bm25 import Bm25Index, ChunkFacts, SearchFilter
from litassist.index.bm25_tokens import STOPWORDS, tokenize
from litassist.index.deletion import delete_sources
from litassist.index.store import Store

from tests.conftest import ingest, retriever_over, store_at

BEIR = Path(__file__).parent / "data" / "beir" / "corpus.jsonl"
QUERIES = ["HER2 CXCR4 metastasis", "chemokine receptor breast cancer", "p53 degradation", "kinase signalling",
           "BRCA1 DNA repair", "pathway figure", "double strand break repair by homologous recombination"]


def corpus_texts() -> list[str]:
    """Every text of the test BEIR corpus."""
    return [json.loads(line)["text"] for line in BEIR.read_text().splitlines() if line.strip()]


def ranked(index: Bm25Index, where: SearchFilter | None = None) -> dict[str, list[tuple[str, float]]]:
    """Each query's ranking, scores rounded."""
    return {q: [(cid, round(s, 6)) for cid, s in index.search(q, 50, where)] for q in QUERIES}


def test_the_tokenizer_is_bm25s_tokenizer_without_importing_bm25s():
    texts = corpus_texts() + ["How does HER2 affect CXCR4?", "l'effet α-catenin 3'UTR ΔNp63", ""]
    expected = bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), return_ids=False,
                              show_progress=False)
    assert [tokenize(t) for t in texts] == expected
    assert STOPWORDS == set(bm25s.stopwords.STOPWORDS_EN)


def test_adding_files_keeps_the_ranking_of_a_full_rebuild(tmp_path):
    texts = [f"{text} (copy {n})" for n in range(5) for text in corpus_texts()]
    ids = [f"c{i}" for i in range(len(texts))]
    files = [f"f{i % 7}" for i in range(len(texts))]
    facts = [ChunkFacts(kind="figure" if i % 3 == 0 else "paper", year=2000 + i % 20) for i in range(len(texts))]
    half = len(texts) // 2
    folder = tmp_path / "bm25"
    index = Bm25Index.build(ids[:half], texts[:half], facts[:half], "g1", files[:half])
    index.save(folder)
    # The second half arrives in steps, each a new segment; then file f3 is "re-ingested" with new texts.
    for start in range(half, len(texts), 2):
        chunk = range(start, min(start + 2, len(texts)))
        index = index.updated(folder, [], [ids[i] for i in chunk], [texts[i] for i in chunk],
                              [facts[i] for i in chunk], [files[i] for i in chunk], f"g{start}")
    f3 = [i for i in range(len(texts)) if files[i] == "f3"]
    index = index.updated(folder, ["f3"], [ids[i] + "-v2" for i in f3], [texts[i] + " revised" for i in f3],
                          [facts[i] for i in f3], ["f3"] * len(f3), "g-last")
    assert len(index.parts) <= bm25_module.MAX_SEGMENTS  # small segments were merged on the way
    assert len(list(folder.glob("seg-*"))) == len(index.parts)  # merged and retired ones are gone from disk

    live = [i for i in range(len(texts)) if files[i] != "f3"]
    one = Bm25Index.build([ids[i] for i in live] + [ids[i] + "-v2" for i in f3],
                          [texts[i] for i in live] + [texts[i] + " revised" for i in f3],
                          [facts[i] for i in live] + [facts[i] for i in f3],
                          "g", [files[i] for i in live] + ["f3"] * len(f3))
    assert sorted(index.ids) == sorted(one.ids)
    for where in (None, SearchFilter(kind="figure"), SearchFilter(year_min=2010)):
        assert ranked(index, where) == ranked(one, where)
    assert ranked(Bm25Index.load(folder)) == ranked(one)  # what a later process loads is the same index


def test_the_ranking_is_the_one_bm25s_gave(tmp_path, monkeypatch):
    monkeypatch.setattr(bm25_module, "PAIR_WEIGHT", 0.0)  # the words' part of the score (bm25s has no word pairs)
    texts = corpus_texts()
    ids = [f"c{i}" for i in range(len(texts))]
    model = bm25s.BM25(k1=bm25_module.K1, b=bm25_module.B)  # Lucene's formula, as bm25s computes it
    model.index(bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False),
                show_progress=False)
    ours = Bm25Index.build(ids, texts, [ChunkFacts(kind="paper")] * len(texts), "g")
    for query in QUERIES:
        docs, scores = model.retrieve(bm25s.tokenize([query], stopwords="en", stemmer=Stemmer.Stemmer("english"),
                                                     show_progress=False), k=10, show_progress=False)
        theirs = {ids[d]: float(s) for d, s in zip(docs[0], scores[0]) if s > 0}
        mine = dict(ours.search(query, 10))
        assert mine.keys() == theirs.keys()
        assert all(abs(mine[cid] - theirs[cid]) < 1e-4 * max(1.0, theirs[cid]) for cid in mine)


def test_a_question_whose_words_stand_together_in_a_chunk_ranks_it_above_one_that_has_them_apart(monkeypatch):
    texts = ["Multidisciplinary clinics for breast cancer shorten the time to treatment.",
             "Clinics offer breast imaging, and other clinics track cancer in their region.",
             "Colon surgery outcomes in rural hospitals."]
    ids = ["together", "apart", "other"]
    index = Bm25Index.build(ids, texts, [ChunkFacts(kind="paper")] * 3, "g")
    assert [cid for cid, _ in index.search("breast cancer clinics", 3)][:2] == ["together", "apart"]
    monkeypatch.setattr(bm25_module, "PAIR_WEIGHT", 0.0)  # words alone: 'cancer' twice wins
    assert [cid for cid, _ in index.search("breast cancer clinics", 3)][:2] == ["apart", "together"]


def test_the_few_best_are_the_head_of_the_whole_ranking_when_the_rarest_word_is_in_weak_chunks():
    # The k best are chosen among chunks scoring at least the k-th best of the rarest word's chunks; here that word
    # sits in long chunks that score low, and the best chunks hold only the common word, many times.
    texts = [f"zebrafish {'filler ' * 40}{i}" for i in range(12)]  # the rare word, diluted
    texts += [f"kinase kinase kinase note {i}" for i in range(30)]  # the common word, dense
    texts += [f"plus other words here {i}" for i in range(200)]
    ids = [f"c{i}" for i in range(len(texts))]
    index = Bm25Index.build(ids, texts, [ChunkFacts(kind="paper")] * len(texts), "g")
    everything = index.search("zebrafish kinase", len(texts))
    assert everything[0][0] in ids[12:42] and {"c0", "c11"} <= {cid for cid, _ in everything}  # both kinds reached
    for k in (1, 5, 12, 40, 100):
        assert index.search("zebrafish kinase", k) == everything[:k]


def test_ingesting_one_more_file_adds_a_segment_and_answers_as_a_rebuild(tmp_path, corpus_home, encoder):
    home = tmp_path / "home"
    shutil.copytree(corpus_home, home)
    store = store_at(home, encoder.name)
    before = set(store.bm25_dir.glob("seg-*"))
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"_id": "zf1", "title": "Zebrafish fin regrowth",
                                 "text": "Zebrafish regrow fins through a blastema driven by Wnt signalling."}) + "\n")
    ingest([extra], store, encoder)
    after = set(store.bm25_dir.glob("seg-*"))
    assert before < after and len(after - before) == 1  # the old segment untouched, one small one added
    assert store.lexical("zebrafish blastema", 3)[0].chunk.source_id == "zf1"
    incremental = {q: [(p.chunk.id, round(p.score, 6)) for p in store.lexical(q, 30)] for q in QUERIES}
    store.rebuild_bm25()
    assert {q: [(p.chunk.id, round(p.score, 6)) for p in store.lexical(q, 30)] for q in QUERIES} == incremental


def test_a_deleted_source_leaves_bm25_without_a_rebuild(tmp_path, corpus_home, encoder):
    home = tmp_path / "home"
    shutil.copytree(corpus_home, home)
    store = store_at(home, encoder.name)
    segments = set(store.bm25_dir.glob("seg-*"))
    victim = store.lexical("HER2 CXCR4", 1)[0].chunk.source_id
    delete_sources(store, [victim])
    assert set(store.bm25_dir.glob("seg-*")) == segments  # only the manifest changed: the chunks are retired
    assert victim not in {p.chunk.source_id for p in store.lexical("HER2 CXCR4", 50)}
    reopened = store_at(home, encoder.name)
    assert sorted(reopened.bm25.ids) == sorted(cid for cid, _, _ in reopened.scan())


KILLED_UPDATE = """
import os, signal, sys
from pathlib import Path
from litassist.index import bm25_segment
from litassist.assistant.factory import ingestor_for
from litassist.assistant.settings import Settings
from tests.conftest import store_at, torch_encoder

real_save = bm25_segment.Segment.save
def die(self, folder):
    real_save(self, folder)  # the segment's files are written; the manifest naming it is not
    (folder / "docs.json").write_text("{")  # and one of them is cut short, as a kill mid-write would leave it
    os.kill(os.getpid(), signal.SIGKILL)

bm25_segment.Segment.save = die
encoder = torch_encoder()
ingestor_for(Settings(), store_at(Path(sys.argv[1]), encoder.name), encoder).run([Path(sys.argv[2])])
"""


def test_a_kill_while_a_segment_is_written_leaves_the_index_answering(tmp_path, corpus_home, encoder):
    for name in ("crashed", "clean"):
        shutil.copytree(corpus_home, tmp_path / name)
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"_id": "zf1", "title": "Zebrafish fin regrowth",
                                 "text": "Zebrafish regrow fins through a blastema driven by Wnt signalling."}) + "\n")
    ingest([extra], store_at(tmp_path / "clean", encoder.name), encoder)
    child = subprocess.run([sys.executable, "-c", KILLED_UPDATE, str(tmp_path / "crashed"), str(extra)],
                           capture_output=True, text=True, timeout=900, cwd=Path(__file__).resolve().parents[1])
    assert child.returncode == -signal.SIGKILL, child.stderr

    crashed, clean = store_at(tmp_path / "crashed", encoder.name), store_at(tmp_path / "clean", encoder.name)
    for query in [*QUERIES, "zebrafish blastema"]:
        assert ([(p.chunk.id, round(p.score, 6)) for p in crashed.lexical(query, 30)]
                == [(p.chunk.id, round(p.score, 6)) for p in clean.lexical(query, 30)])
    assert crashed.bm25.generation == crashed.generation


def spread_abstract() -> str:
    """An abstract of two chunks or more: the question's first words open it, its last words close it."""
    opening = "Zebrafish regrow an amputated fin within two weeks of injury."
    middle = [f"In cohort {n}, the wound epidermis thickened and nerve fibres entered the stump by day {n + 2}."
              for n in range(14)]
    closing = "Lineage tracing showed that osteoblast dedifferentiation supplies the new bone."
    return " ".join([opening, *middle, closing])


SPREAD_QUESTION = "zebrafish fin osteoblast dedifferentiation"


def spread_store(tmp_path: Path, encoder) -> Store:
    """A store holding the spread abstract, a short one with three of its question's four words, and an unrelated one."""
    corpus = tmp_path / "corpus.jsonl"
    rows = [{"_id": "spread", "title": "", "text": spread_abstract()},
            {"_id": "short", "title": "", "text": "Osteoblast dedifferentiation drives fin ray regrowth in "
                                                   "medaka."},
            {"_id": "other", "title": "", "text": "Axolotl limbs regenerate from a blastema of dedifferentiated "
                                                   "connective tissue cells."}]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    store = store_at(tmp_path / "home", encoder.name)
    ingest([corpus], store, encoder)
    assert len(list(store.scan(where={"source_id": "spread"}))) >= 2
    return store


def test_a_question_whose_words_are_spread_over_one_abstract_finds_that_abstract_first(tmp_path, encoder):
    # BM25 indexes each chunk with its neighbours: the abstract that holds every word of the question, across its
    # chunks, outranks a short one that holds only some of them (chunk by chunk, the short one won).
    bm25 = retriever_over(spread_store(tmp_path, encoder), encoder, mode="bm25")
    assert [p.chunk.source_id for p in bm25.documents(SPREAD_QUESTION)][:2] == ["spread", "short"]


def test_an_index_saved_before_windows_is_rebuilt_with_them(tmp_path, encoder):
    store = spread_store(tmp_path, encoder)
    expected = store.bm25.search(SPREAD_QUESTION, 10)
    rows = list(store.scan(include_documents=True))
    old = Bm25Index.build([r[0] for r in rows], [f"{r[2].get('context', '')}\n{r[1]}" for r in rows],
                          [ChunkFacts(kind=r[2]["kind"]) for r in rows], store.generation, [r[2]["file"] for r in rows])
    old.save(store.bm25_dir)  # each chunk's own text, as an older release indexed it, in its manifest's format
    manifest = store.bm25_dir / "manifest.json"
    manifest.write_text(json.dumps({k: v for k, v in json.loads(manifest.read_text()).items() if k != "format"}))
    assert old.search(SPREAD_QUESTION, 10) != expected
    assert store_at(tmp_path / "home", encoder.name).bm25.search(SPREAD_QUESTION, 10) == expected
