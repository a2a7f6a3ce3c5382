"""A BEIR corpus.jsonl is read, claimed, chunked and written in parts (memory flat in file size): the index it
makes, the reasons it reports and what a failure part-way leaves behind match ingesting the file in one piece."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from litassist.index.embedding import SentenceTransformerEncoder
from tests.conftest import ingest, store_at, torch_encoder
from litassist.index.store import Store

GENES = ["TP53", "KRAS", "EGFR", "BRAF", "PTEN", "MYC", "ALK", "MET", "RET", "JAK2"]
MARKER = "UNTOKENIZABLE"
SMALL = 8  # records per part and chunks per write: a 40-line file goes in five or more writes


def doc(i: int, note: str = "") -> dict:
    """A short made-up abstract with a year in its metadata."""
    a, b = GENES[i % 10], GENES[(i * 3 + 1) % 10]
    text = f"{a} phosphorylates {b} in cell line {i}. Loss of {a} slows growth {note}".strip()
    return {"_id": f"r{i}", "title": f"{a} and {b} study {i}", "text": text, "metadata": {"year": 2000 + i % 20}}


def write_jsonl(path: Path, lines: list[dict | str]) -> Path:
    """One JSON object (or raw text) per line."""
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def snapshot(store: Store) -> dict[str, tuple[str, dict]]:
    """Every chunk's document and metadata by id."""
    return {cid: (doc, meta) for cid, doc, meta in store.scan(include_documents=True)}


def lexical(store: Store) -> dict[str, dict[str, float]]:
    """BM25 scores for a few queries (ties may come in any order)."""
    return {q: {p.chunk.id: round(p.score, 4) for p in store.lexical(q, 50)}
            for q in ("KRAS phosphorylates", "growth", "cell line 17", "MYC MET")}


class MarkerEncoder(SentenceTransformerEncoder):
    """The real encoder, whose tokenizer refuses one marker text: a file that fails to chunk part-way through."""

    def count_tokens(self, text: str) -> int:
        if MARKER in text:
            raise ValueError("the tokenizer refused this text")
        return super().count_tokens(text)


def test_a_jsonl_written_in_small_parts_equals_one_written_whole(tmp_path, encoder):
    lines: list[dict | str] = [doc(i) for i in range(40)]
    lines[19] = '{"_id": "broken", "title": '  # a bad line in the third part
    lines.insert(33, {**doc(3), "title": "A second r3"})  # the id of a record in the first part
    corpus = write_jsonl(tmp_path / "corpus.jsonl", lines)
    parts = ingest([corpus], store_at(tmp_path / "parts", encoder.name), encoder, flush_chunks=SMALL)
    whole = ingest([corpus], store_at(tmp_path / "whole", encoder.name), encoder, flush_chunks=100_000)

    assert [o.model_dump() for o in parts.outcomes] == [o.model_dump() for o in whole.outcomes]
    (outcome,) = parts.outcomes
    assert outcome.status == "added" and outcome.records == 39 and outcome.chunks >= 39
    assert outcome.reason == ("skipped 1 of 41 lines: line 20: invalid JSON (Expecting value); "
                              "skipped 1 of 40 records: 'r3' appears twice in the file")
    small, big = store_at(tmp_path / "parts", encoder.name), store_at(tmp_path / "whole", encoder.name)
    assert snapshot(small) == snapshot(big) and len(snapshot(small)) == outcome.chunks
    assert small.record("r3").title == doc(3)["title"]  # the first r3 kept, the later one skipped
    assert lexical(small) == lexical(big) and sorted(small.bm25.ids) == sorted(snapshot(small))
    assert parts.embedded == whole.embedded == outcome.chunks and parts.reused == 0
    assert small.journal.read() == {}

    again = ingest([corpus], small, encoder, flush_chunks=SMALL)  # unchanged: nothing parsed, nothing embedded
    assert [o.status for o in again.outcomes] == ["unchanged"] and again.embedded == again.reused == 0


def test_replacing_a_jsonl_that_fails_in_a_later_part_keeps_the_old_version(tmp_path, encoder):
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [doc(i) for i in range(40)])
    store = store_at(tmp_path / "home", encoder.name)
    ingest([corpus], store, encoder, flush_chunks=SMALL)
    before, before_bm25 = snapshot(store), lexical(store)
    vectors = store.vectors(sorted(before))

    # The new version rewrites most chunks unchanged (same ids), changes one record's text and another's year in
    # the first parts, adds one, and only its last part holds text the tokenizer refuses.
    new = [doc(i) for i in range(40)] + [doc(40)]
    new[2] = doc(2, "in hypoxia.")
    new[5]["metadata"]["year"] = 1999
    new[37] = doc(37, MARKER)
    write_jsonl(corpus, new)
    report = ingest([corpus], store, torch_encoder(MarkerEncoder), flush_chunks=SMALL)

    assert [(o.status, o.reason) for o in report.outcomes] == [
        ("failed", "cannot be split into chunks (ValueError: the tokenizer refused this text)")]
    reopened = store_at(tmp_path / "home", encoder.name)
    assert reopened.recovered == [] and reopened.journal.read() == {}
    assert snapshot(reopened) == before  # every old chunk back, with its old metadata; nothing new left
    assert reopened.record("r5").year == 2005 and reopened.record("r40") is None
    got = reopened.vectors(sorted(before))
    assert all(np.allclose(got[cid], vectors[cid]) for cid in before)
    assert lexical(reopened) == before_bm25

    new[37] = doc(37, "after all.")  # fixed: the file now replaces its old version
    write_jsonl(corpus, new)
    report = ingest([corpus], reopened, encoder, flush_chunks=SMALL)
    assert [(o.status, o.records) for o in report.outcomes] == [("replaced", 41)]
    assert reopened.record("r5").year == 1999 and reopened.record("r40") is not None
    assert {meta["file_hash"] for _, meta in snapshot(reopened).values()} == {
        reopened.file_hash(str(corpus.resolve()))}
