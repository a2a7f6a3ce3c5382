"""Deleting sources: `litassist delete`, deleted sources staying deleted on re-ingest, `--restore`, `ingest --force`,
and a deletion or restore killed half way."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from litassist.index import tombstones
from litassist.index.embedding import SentenceTransformerEncoder
from tests.conftest import ingest, store_at


def write_corpus(folder: Path) -> Path:
    """A BEIR file of three papers and a text file of one."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "three.jsonl").write_text("".join(json.dumps(
        {"_id": f"m{i}", "title": f"Marmot study {i}", "text": f"Marmot hepatocytes lower ABCB{i + 4} in winter."}) + "\n"
        for i in range(3)), encoding="utf-8")
    (folder / "one.txt").write_text("# Lemur PLXNB3\n\nLemur fibroblasts raise PLXNB3 in the dry season.\n",
                                    encoding="utf-8")
    return folder


def sources_json(run_cli, home: Path) -> dict:
    code, out, err = run_cli("--home", home, "sources", "--json")
    assert code == 0, err
    return json.loads(out)


def test_deleted_sources_stay_deleted_on_reingest_and_come_back_only_when_restored(tmp_path, run_cli):
    corpus, home = write_corpus(tmp_path / "corpus"), tmp_path / "home"
    assert run_cli("--home", home, "ingest", corpus)[0] == 0
    single = next(i["source_id"] for i in sources_json(run_cli, home)["items"] if i["file"].endswith("one.txt"))

    code, out, _ = run_cli("--home", home, "delete", "m1", single)
    assert code == 0
    assert f"deleted m1 “Marmot study 1” (paper, 1 chunk) from {corpus.resolve() / 'three.jsonl'}" in out
    assert f"deleted {single} “Lemur PLXNB3” (paper, 1 chunk)" in out
    listed = sources_json(run_cli, home)
    assert {i["source_id"] for i in listed["items"]} == {"m0", "m2"}
    assert {d["source_id"] for d in listed["deleted"]} == {"m1", single}
    code, out, _ = run_cli("--home", home, "sources")
    assert "2 deleted sources" in out and "Marmot study 1" in out.split("2 deleted sources")[1]

    # The file of several records is unchanged, the file of one record is read again: both keep their deleted source out.
    code, _, err = run_cli("--home", home, "ingest", corpus)
    assert code == 0, err
    assert f"= unchanged {corpus / 'three.jsonl'} (1 deleted source stays deleted: m1)" in err
    assert f"= unchanged {corpus / 'one.txt'} (1 deleted source stays deleted: {single})" in err
    assert "2 deleted sources stay deleted; `litassist delete --restore ID` brings them back" in err
    code, _, err = run_cli("--home", home, "ingest", "--force", corpus)
    assert code == 0 and f"~ replaced  {corpus / 'three.jsonl'} (2 records, 2 chunks; 1 deleted source" in err
    assert {i["source_id"] for i in sources_json(run_cli, home)["items"]} == {"m0", "m2"}

    code, out, _ = run_cli("--home", home, "delete", "--restore", "m1")
    assert code == 0 and "restored m1 “Marmot study 1” (paper, 1 chunk)" in out
    (corpus / "one.txt").unlink()
    code, _, err = run_cli("--home", home, "delete", "--restore", single)
    assert code == 1 and f"not restored: {single} “Lemur PLXNB3” (paper): its file" in err and "no longer there" in err
    listed = sources_json(run_cli, home)
    assert {i["source_id"] for i in listed["items"]} == {"m0", "m1", "m2"}
    assert [d["source_id"] for d in listed["deleted"]] == [single]
    code, out, _ = run_cli("--home", home, "ask", "Which gene do marmot hepatocytes lower in winter?", "--json")
    assert code == 0 and "m1" in {p["source_id"] for p in json.loads(out)["passages"]}  # searchable again


def test_delete_refuses_unknown_ids_and_then_deletes_nothing(tmp_path, run_cli):
    corpus, home = write_corpus(tmp_path / "corpus"), tmp_path / "home"
    assert run_cli("--home", home, "ingest", corpus)[0] == 0
    code, out, err = run_cli("--home", home, "delete", "m0", "m9")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert "no indexed source has the id 'm9'" in err and "nothing was deleted" in err
    assert "m0" in {i["source_id"] for i in sources_json(run_cli, home)["items"]}
    code, _, err = run_cli("--home", home, "delete", "--restore", "m0")
    assert code == 1 and "m0 is indexed, not deleted" in err
    assert run_cli("--home", home, "delete")[0] == 2  # no id at all: a usage error


def test_ingest_force_reads_unchanged_files_again_and_they_stay_unchanged_after(tmp_path, run_cli):
    corpus, home = write_corpus(tmp_path / "corpus"), tmp_path / "home"
    assert run_cli("--home", home, "ingest", corpus)[0] == 0
    chunks = sources_json(run_cli, home)["chunks"]
    code, _, err = run_cli("--home", home, "ingest", "--force", corpus)
    assert code == 0 and "0 added, 2 replaced, 0 unchanged, 0 failed; 0 chunks embedded, 4 reused" in err
    assert sources_json(run_cli, home)["chunks"] == chunks
    code, _, err = run_cli("--home", home, "ingest", corpus)
    assert code == 0 and "0 added, 0 replaced, 2 unchanged" in err  # the forced read left the files as they were


KILLED = """
import os, signal, sys
from pathlib import Path
from litassist.index import deletion, tombstones
from litassist.assistant.factory import ingestor_for
from litassist.assistant.settings import Settings
from tests.conftest import store_at, torch_encoder

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

home, what = Path(sys.argv[1]), sys.argv[2]
encoder = torch_encoder()
store = store_at(home, encoder.name)
if what == "delete":  # killed once the deletion is remembered, before any chunk is removed
    store.collection.delete = die
    deletion.delete_sources(store, ["m1"])
elif what == "restore-early":  # killed once the restore is marked, before its file is read
    deletion.restore_sources(store, lambda **options: die(), ["m1"])
else:  # killed once the file is written again, before the restore is settled
    tombstones.restored = die
    deletion.restore_sources(store, lambda **options: ingestor_for(Settings(), store, encoder, **options), ["m1"])
"""


def run_killed(home: Path, what: str) -> None:
    """Run a deletion or restore in a child that SIGKILLs itself at the chosen point."""
    child = subprocess.run([sys.executable, "-c", KILLED, str(home), what], capture_output=True, text=True,
                           timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]


def settled(home: Path, encoder: SentenceTransformerEncoder) -> tuple[set[str], set[str]]:
    """Indexed and deleted source ids after opening the index again; no mark left and BM25 in step with Chroma."""
    store = store_at(home, encoder.name)  # deletions and their marks are rows of their own, not collection metadata
    assert not tombstones.marked(store, tombstones.DELETING) and not tombstones.marked(store, tombstones.RESTORING)
    assert store.journal.read() == {} and len(store.bm25.ids) == store.count()
    return {r.source_id for r in store.sources()}, set(tombstones.read(store))


@pytest.mark.parametrize("kill", ["restore-early", "restore-late"])
def test_a_deletion_or_restore_killed_half_way_is_settled_when_the_index_is_opened(tmp_path, encoder, kill):
    corpus, home = write_corpus(tmp_path / "corpus"), tmp_path / "home"
    ingest([corpus], store_at(home, encoder.name), encoder)
    before = {r.source_id for r in store_at(home, encoder.name).sources()}

    run_killed(home, "delete")
    assert settled(home, encoder) == (before - {"m1"}, {"m1"})  # remembered, and its chunks are gone too

    run_killed(home, kill)
    indexed, deleted = settled(home, encoder)
    if kill == "restore-early":  # nothing was written: it stays deleted
        assert (indexed, deleted) == (before - {"m1"}, {"m1"})
    else:  # every chunk was written: the restore is complete
        assert (indexed, deleted) == (before, set())



def test_deletions_an_earlier_version_kept_in_the_metadata_are_moved_into_rows_and_settled(tmp_path, encoder):
    corpus, home = write_corpus(tmp_path / "corpus"), tmp_path / "home"
    ingest([corpus], store_at(home, encoder.name), encoder)
    store = store_at(home, encoder.name)
    rows = {r.source_id: r for r in store.sources()}
    fields = {sid: {"kind": "paper", "title": rows[sid].title, "file": rows[sid].file} for sid in rows}
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    restorer = {"host": socket.gethostname(), "pid": int(ended.stdout), "start": None}  # a process that has ended
    with store.lock:  # as an earlier version left it: m0 deleted; m1's deletion killed before its chunks went;
        # m2's restore killed once its file was written again
        store.collection.delete(where={"source_id": "m0"})
        store.update_metadata(lambda meta: {**meta, "deleted": json.dumps({s: fields[s] for s in ("m0", "m1", "m2")}),
                                            "deleting": json.dumps(["m1"]),
                                            "restoring": json.dumps({**restorer, "ids": ["m2"]})})
    assert set(tombstones.read(store)) == {"m0", "m1", "m2"}  # read where they are, before any writer moved them

    reopened = store_at(home, encoder.name)  # the first writer to hold the lock moves and settles them
    assert not set(tombstones.LEGACY) & set(reopened.collection.metadata or {})
    assert {sid: m.state for sid, m in reopened.marks.get().items()} == {"m0": "deleted", "m1": "deleted"}
    assert {r.source_id for r in reopened.sources()} == set(rows) - {"m0", "m1"}
    report = ingest([corpus], reopened, encoder, force=True)
    assert set(report.stayed_deleted) == {"m0", "m1"}
    assert {r.source_id for r in reopened.sources()} == set(rows) - {"m0", "m1"}
