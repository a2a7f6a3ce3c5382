"""Ingest into a real Chroma + BM25 store in tmp_path: outcomes, re-ingest, replacement, failures."""

import shutil
from pathlib import Path

import pytest

from tests.conftest import ingest, store_at

CORPUS = Path(__file__).parent / "data" / "corpus"


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    """A private copy of the test corpus that a test may edit."""
    shutil.copytree(CORPUS, tmp_path / "corpus")
    return tmp_path


def statuses(report) -> dict[str, str]:
    return {Path(o.file).name: o.status for o in report.outcomes}


def test_first_ingest_adds_every_file(store):
    rows = store.sources()
    assert {r.kind for r in rows} == {"paper", "figure"}
    assert {r.source_id for r in rows} >= {"PMC9000001__fig3", "PMC1000002__older", "doi:10.9999/jto.2019.0003"}
    assert len(store.bm25.ids) == store.count() > 0


def test_reingest_of_unchanged_corpus_embeds_nothing(workdir, encoder):
    store = store_at(workdir / "home", encoder.name)
    first = ingest([workdir / "corpus"], store, encoder)
    again = ingest([workdir / "corpus"], store_at(workdir / "home", encoder.name), encoder)
    assert first.embedded > 0
    assert set(statuses(again).values()) == {"unchanged"} and len(again.outcomes) == len(first.outcomes)
    assert again.embedded == 0 and again.reused == 0


def test_changed_file_replaces_its_chunks(workdir, encoder):
    store = store_at(workdir / "home", encoder.name)
    ingest([workdir / "corpus"], store, encoder)
    before = store.count()
    note = workdir / "corpus" / "papers" / "egfr_notes.md"
    note.write_text("# EGFR signalling notes\n\nOsimertinib inhibits EGFR carrying the T790M mutation.\n")
    report = ingest([note], store, encoder)
    assert statuses(report) == {"egfr_notes.md": "replaced"}
    texts = [doc for _, doc, meta in store.scan(include_documents=True) if meta["file"] == str(note.resolve())]
    assert texts == ["Osimertinib inhibits EGFR carrying the T790M mutation."]
    assert store.count() == before  # one chunk out, one in
    assert [p.chunk.text for p in store.lexical("osimertinib", 3)] == texts  # BM25 followed Chroma


def test_failed_file_is_reported_and_leaves_index_as_it_was(workdir, encoder):
    store = store_at(workdir / "home", encoder.name)
    ingest([workdir / "corpus"], store, encoder)
    before = sorted(cid for cid, _, _ in store.scan())
    fig = workdir / "corpus" / "figures" / "PMC9000001__fig3.md"
    fig.write_text("---\nfigid: PMC9000001__fig3\ncaption: [unclosed\n---\n")
    (workdir / "corpus" / "garbage.md").write_bytes(b"\x00\x01\x02binary" * 50)
    report = ingest([workdir / "corpus", workdir / "missing.txt"], store, encoder)
    failed = {Path(o.file).name: o.reason for o in report.failed}
    assert "invalid YAML" in failed["PMC9000001__fig3.md"]
    assert "binary" in failed["garbage.md"]
    assert "No such file" in failed["missing.txt"]
    assert sorted(cid for cid, _, _ in store.scan()) == before
    assert store.record("PMC9000001__fig3").figtitle.startswith("MKP1 relocates")


def test_bm25_is_rebuilt_when_out_of_step(workdir, encoder):
    store = store_at(workdir / "home", encoder.name)
    ingest([workdir / "corpus"], store, encoder)
    shutil.rmtree(workdir / "home" / "bm25")  # e.g. a crash between the Chroma write and the BM25 save
    reopened = store_at(workdir / "home", encoder.name)
    assert len(reopened.bm25.ids) == reopened.count()
    assert reopened.lexical("CXCL12", 1)[0].chunk.source_id == "PMC1000002__older"


def test_filters_apply_to_dense_and_bm25(store, encoder):
    from litassist.index.bm25 import SearchFilter

    vector = encoder.encode(["HER2 CXCR4"])[0]
    figures_only = SearchFilter(kind="figure")
    assert {p.chunk.kind for p in store.dense(vector, 10, figures_only)} == {"figure"}
    assert {p.chunk.kind for p in store.lexical("HER2 CXCR4", 10, figures_only)} == {"figure"}
    mouse = SearchFilter(organism="Mus musculus")
    assert {p.chunk.source_id for p in store.lexical("CXCR4 metastasis", 10, mouse)} == {"PMC1000002__older"}
    recent = SearchFilter(year_min=2010)
    assert all(p.record.year >= 2010 for p in store.dense(vector, 10, recent))


def test_record_with_nothing_to_index_fails_clearly(tmp_path, encoder):
    store = store_at(tmp_path / "home", encoder.name)
    report = ingest([Path(__file__).parent / "data" / "edge" / "all_missing.txt"], store, encoder)
    assert [(o.status, o.reason) for o in report.outcomes] == [("failed", "no text to index")]
    assert store.count() == 0


def test_a_file_rewritten_while_it_is_read_fails_and_goes_in_whole_once_complete(tmp_path, encoder, monkeypatch):
    from litassist.index.loaders import jsonl

    corpus = tmp_path / "corpus.jsonl"
    line = '{{"_id": "r{0}", "title": "Record {0}", "text": "GENE{0} binds GENE{1} in cultured cells."}}\n'.format
    corpus.write_text("".join(line(i, i + 1) for i in range(300)))
    store = store_at(tmp_path / "home", encoder.name)
    ingest([corpus], store, encoder, flush_chunks=64)
    before = {cid: meta for cid, _, meta in store.scan()}
    full = "".join(line(i, i + 2) for i in range(600)).encode()  # a new version: every record changed, 300 more
    corpus.write_bytes(full)
    reading = jsonl.numbered_lines

    def cut_short(path: Path):
        """The real reader; at line 150 someone else truncates the file (another program rewriting it)."""
        for number, raw in reading(path):
            yield number, raw
            if number == 150:
                path.write_bytes(full[: len(full) // 3])

    monkeypatch.setattr(jsonl, "numbered_lines", cut_short)
    report = ingest([corpus], store, encoder, flush_chunks=64)
    assert [(o.status, o.reason) for o in report.outcomes] == [("failed", "changed while it was being read (written to, "
        "truncated or replaced): nothing of this version was indexed; ingest it again once it is complete")]
    assert {cid: meta for cid, _, meta in store.scan()} == before  # the earlier version, as it was
    monkeypatch.undo()
    corpus.write_bytes(full)  # the other program put the whole file back
    report = ingest([corpus], store, encoder, flush_chunks=64)
    assert [(o.status, o.records) for o in report.outcomes] == [("replaced", 600)]  # not "unchanged"
    assert {meta["source_id"] for _, _, meta in store.scan()} == {f"r{i}" for i in range(600)}
