"""Store read paths made fast: filtered dense retrieval (post-filter, in-memory narrow search or Chroma `where`), the saved source list."""

import json
import shutil

import pytest

from litassist.index.bm25 import SearchFilter
from litassist.index.store import where_clause

FILTERS = [SearchFilter(kind="paper"), SearchFilter(kind="figure"), SearchFilter(organism="Homo sapiens"),
           SearchFilter(organism="Mus musculus", kind="figure"), SearchFilter(year_min=2019)]


@pytest.mark.parametrize("where", FILTERS, ids=lambda w: "-".join(str(v) for v in vars(w).values() if v))
def test_filtered_dense_returns_what_chromas_where_query_returns(store, encoder, where):
    vector = encoder.encode(["CXCR4 drives breast cancer metastasis"])[0]
    got = store.dense(vector, 5, where)
    want = store.collection.query(query_embeddings=[vector.tolist()], n_results=5, where=where_clause(where),
                                  include=["distances"])
    assert [p.chunk.id for p in got] == want["ids"][0]
    assert [round(p.score, 5) for p in got] == [round(1 - d, 5) for d in want["distances"][0]]
    assert all(where.admits(store.bm25.facts[store.bm25.ids.index(p.chunk.id)]) for p in got)


def test_a_filter_nothing_passes_returns_nothing(store, encoder):
    vector = encoder.encode(["CXCR4"])[0]
    assert store.dense(vector, 5, SearchFilter(organism="Danio rerio")) == []
    assert store.dense(vector, 5, SearchFilter()) == store.dense(vector, 5)  # an empty filter filters nothing


def test_the_source_list_saved_with_bm25_matches_a_full_scan(store):
    from litassist.index import source_table

    rows: dict = {}
    for _, _, meta in store.scan():
        source_table.tally(rows, meta)
    assert store.sources() == source_table.ordered(rows) and len(rows) > 3


def test_file_hashes_saved_with_bm25_match_the_store(store):
    from litassist.index import source_table

    saved = source_table.file_hashes(store.bm25_dir, store.generation)
    files = {meta["file"]: meta["file_hash"] for _, _, meta in store.scan()}
    assert saved == files and len(files) > 3
    assert store.file_hash("/no/such/file.txt") is None


def test_the_source_table_reads_back_as_saved_and_from_an_earlier_versions_file(store, tmp_path):
    from litassist.index import source_table

    rows, files = store.sources(), source_table.file_hashes(store.bm25_dir, store.generation)
    summary = {r.source_id: r._asdict() for r in rows}
    (tmp_path / "written").mkdir()
    source_table.save(tmp_path / "written", store.generation, summary, files)
    shutil.copytree(tmp_path / "written", tmp_path / "copied")  # another folder: read from disk, not remembered
    assert source_table.load(tmp_path / "copied", store.generation) == rows
    assert source_table.file_hashes(tmp_path / "copied", store.generation) == files
    assert source_table.load(tmp_path / "copied", "a later generation") is None  # stale: the caller rebuilds

    (tmp_path / "earlier").mkdir()  # one JSON object with dict rows, as versions before 2026-12-04 saved it
    (tmp_path / "earlier" / "sources.json").write_text(json.dumps(
        {"generation": store.generation, "sources": [r.as_dict() for r in rows], "files": files}))
    assert source_table.load(tmp_path / "earlier", store.generation) == rows  # no rescan of every chunk


@pytest.mark.parametrize("where", FILTERS, ids=lambda w: "-".join(str(v) for v in vars(w).values() if v))
def test_a_narrow_filter_searched_in_memory_returns_what_chromas_where_query_returns(store, encoder, where,
                                                                                     monkeypatch):
    from litassist.index import prefilter

    monkeypatch.setattr(prefilter, "POST_FILTER_SHARE", 1.01)  # the test corpus is tiny: every filter is "narrow"
    vector = encoder.encode(["CXCR4 drives breast cancer metastasis"])[0]
    got = store.dense(vector, 5, where)
    want = store.collection.query(query_embeddings=[vector.tolist()], n_results=5, where=where_clause(where),
                                  include=["distances"])
    assert [p.chunk.id for p in got] == want["ids"][0]
    assert [round(p.score, 4) for p in got] == [round(1 - d, 4) for d in want["distances"][0]]


def test_a_narrow_filter_never_returns_a_chunk_another_writer_deleted(corpus_home, encoder, tmp_path, monkeypatch):
    import shutil

    from litassist.index import prefilter
    from tests.conftest import store_at

    monkeypatch.setattr(prefilter, "POST_FILTER_SHARE", 1.01)  # the test corpus is tiny: every filter is "narrow"
    shutil.copytree(corpus_home, tmp_path / "home")
    store = store_at(tmp_path / "home", encoder.name)
    where = SearchFilter(kind="figure")
    vector = encoder.encode(["pathway figure of signalling"])[0]
    first = store.dense(vector, 5, where)  # reads the admitted chunks' vectors and keeps them
    assert first and all(p.chunk.kind == "figure" for p in first)
    gone = first[0].chunk.id
    other = store_at(tmp_path / "home", encoder.name)  # another writer, as `litassist ingest` beside `serve`
    with other.lock:
        other.collection.delete(ids=[gone])
    assert gone not in [p.chunk.id for p in store.dense(vector, 5, where)]  # before this reader's refresh
    store.refresh()
    after = store.dense(vector, 5, where)
    assert after and gone not in [p.chunk.id for p in after] and all(p.chunk.kind == "figure" for p in after)


def test_a_whole_index_read_meets_every_row_still_there_when_rows_go_during_it(tmp_path, monkeypatch):
    """A whole-index read (BM25 rebuild, source list) goes in pages: rows deleted between two pages (another machine
    deleting sources from a shared server) must not make it skip rows still stored. Pages by offset shifted under the
    deletion and lost the rows that moved up; pages by id, listed first, do not."""
    import numpy as np

    from litassist.index import store as store_module
    from litassist.index.store import Hnsw, Store

    monkeypatch.setattr(store_module, "_PAGE", 10)
    store = Store(tmp_path, "scan-test", hnsw=Hnsw(ef_construction=100, ef_search=50, max_neighbors=16))
    ids = [f"c{i:02d}" for i in range(30)]
    store.collection.add(ids=ids, documents=[f"text {i}" for i in range(30)],
                         embeddings=np.random.default_rng(0).standard_normal((30, 8)).astype(np.float32),
                         metadatas=[{"file": "f.txt", "position": i} for i in range(30)])
    seen = []
    for cid, doc, meta in store.scan(include_documents=True):
        seen.append((cid, doc, meta["position"]))
        if len(seen) == 10:  # between the first page and the second
            store.collection.delete(ids=ids[:5])
    assert seen == [(cid, f"text {i}", i) for i, cid in enumerate(ids)]
    assert [cid for cid, _, _ in store.scan(where={"file": "f.txt"})] == ids[5:]


def test_a_paper_another_writer_added_is_found_before_this_readers_bm25_knows_it(corpus_home, encoder, tmp_path):
    # Ranking works on chunk ids with their sources, which BM25 knows for the chunks it indexed; a chunk written
    # since (another machine, `litassist ingest` beside `serve`) gets its source from Chroma, and is answered from.
    import json
    import shutil

    from tests.conftest import ingest, retriever_over, store_at

    shutil.copytree(corpus_home, tmp_path / "home")
    reader = store_at(tmp_path / "home", encoder.name)
    new = tmp_path / "quokka.jsonl"
    new.write_text(json.dumps({"_id": "quokka-1", "title": "Quokka hearts regenerate",
                               "text": "Quokka cardiomyocytes re-enter the cell cycle after injury."}) + "\n")
    ingest([new], store_at(tmp_path / "home", encoder.name), encoder)
    assert "quokka-1" not in reader.bm25.sources.values()  # not refreshed yet
    found = retriever_over(reader, encoder).search("Do quokka cardiomyocytes re-enter the cell cycle?")
    quokka = [p for p in found if p.chunk.source_id == "quokka-1"]  # from the dense side alone, until the refresh
    assert quokka and quokka[0].record.title == "Quokka hearts regenerate"


def _recall_at_10(store, vectors, queries) -> float:
    """Share of the exact 10 nearest stored vectors that the store's dense search returns."""
    import numpy as np

    from litassist.index.hits import dense_hits

    found = []
    for q in queries:
        exact = {str(i) for i in np.argsort(-(vectors @ q))[:10]}
        found.append(len(exact & {h.id for h in dense_hits(store, q, 10)}) / 10)
    return float(np.mean(found))


def test_a_changed_ef_search_setting_takes_effect_in_the_process_that_changes_it(tmp_path):
    # Chroma keeps searching with the ef_search it loaded once a process has read the collection, so the new
    # value reached only the next process: raising it for recall changed nothing until then.
    import numpy as np
    from chromadb.api.shared_system_client import SharedSystemClient

    from litassist.index.store import Hnsw, Store

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3000, 64)).astype(np.float32)  # random points: the hardest case for a graph index
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[rng.choice(3000, 40, replace=False)] + rng.normal(size=(40, 64)).astype(np.float32) * 0.05
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    rough = Store(tmp_path, "random", hnsw=Hnsw(ef_construction=16, ef_search=10, max_neighbors=4))
    for start in range(0, 3000, 1000):
        ids = [str(i) for i in range(start, start + 1000)]
        metas = [{"source_id": f"s{i}", "kind": "paper", "file": "f", "position": 0} for i in ids]
        rough.collection.add(ids=ids, embeddings=vectors[start:start + 1000], metadatas=metas, documents=ids)
    low = _recall_at_10(rough, vectors, queries)
    SharedSystemClient.clear_system_cache()  # a new process: `ask` run again with a larger ef_search
    careful = Store(tmp_path, "random", hnsw=Hnsw(ef_construction=16, ef_search=2000, max_neighbors=4))
    assert careful.collection.configuration["hnsw"]["ef_search"] == 2000
    assert low < 0.8 and _recall_at_10(careful, vectors, queries) > 0.98
