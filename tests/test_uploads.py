"""Library uploads through the served app's /ingest endpoint: uploads never overwrite one another, a bad zip member
costs only itself, and uploads nothing is indexed from are removed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import litassist.assistant  # noqa: F401  (offline switches before gradio loads)
from tests.conftest import DATA, served, upload

HOSTILE_UPLOADS = DATA / "hostile" / "uploads"
BIB = "@article{{{key},\n  title = {{{title}}},\n  journal = {{J Test}},\n  year = {{2020}},\n  abstract = {{{text}}}\n}}\n"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The UI on an empty data home: (its URL, the data home)."""
    from litassist.assistant.settings import Settings

    home = tmp_path_factory.mktemp("library_home")
    with served(Settings(home=home)) as url:
        yield url, home


@pytest.fixture()
def client(library):
    from gradio_client import Client

    return Client(library[0], verbose=False)


def titles(client) -> set[str]:
    """Titles of every indexed source, as the /sources endpoint lists them."""
    return {source["title"] for source in client.predict(api_name="/sources")}


def bib_export(folder: Path, entries: list[tuple[str, str, str]]) -> Path:
    """A Zotero-style export, always called 'Exported Items.bib', holding these (key, title, abstract) entries."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "Exported Items.bib"
    path.write_text("".join(BIB.format(key=k, title=t, text=x) for k, t, x in entries), encoding="utf-8")
    return path


def uploaded_files(home: Path) -> list[str]:
    """Files kept under the data home's uploads folder (pending marks aside)."""
    return sorted(p.name for p in (home / "uploads").rglob("*") if p.is_file() and ".pending" not in p.parts)


def test_two_different_uploads_with_the_same_name_both_stay_indexed(client, tmp_path):
    first = bib_export(tmp_path / "alice", [("a1", "Otter lungs express PLXNB3", "PLXNB3 is high in otter lungs."),
                                            ("a2", "Otter skin lacks PLXNB3", "Otter skin lacks PLXNB3.")])
    second = bib_export(tmp_path / "bob", [("b1", "Beaver kidneys express SEMA4D", "SEMA4D is high in beaver kidneys."),
                                           ("b2", "Beaver teeth lack SEMA4D", "Beaver teeth lack SEMA4D.")])
    rows, _ = upload(client, first)
    assert [row[:3] for row in rows] == [["Exported Items.bib", "added", 2]]
    rows, _ = upload(client, second)  # another file of the same name: its own upload, not a new version of Alice's
    assert [row[:3] for row in rows] == [["Exported Items.bib", "added", 2]]
    assert {"Otter lungs express PLXNB3", "Otter skin lacks PLXNB3", "Beaver kidneys express SEMA4D",
            "Beaver teeth lack SEMA4D"} <= titles(client)
    rows, _ = upload(client, first)  # the same bytes again: nothing to do
    assert [row[:2] for row in rows] == [["Exported Items.bib", "unchanged"]]


def test_two_sessions_uploading_files_of_one_name_at_once_keep_both(library, tmp_path):
    from gradio_client import Client

    files = []
    for who in ("carol", "dave"):
        path = tmp_path / who / "shared.jsonl"
        path.parent.mkdir()
        path.write_text("".join(json.dumps({"_id": f"{who}-{i}", "title": f"{who.title()} record {i} on MRGPRX{i}",
                                            "text": f"MRGPRX{i} is studied by {who} in mast cells."}) + "\n"
                                for i in range(20)), encoding="utf-8")
        files.append(path)
    results: dict[str, list] = {}
    errors: list[str] = []

    def session(path: Path) -> None:
        try:
            results[path.parent.name] = upload(Client(library[0], verbose=False), path)[0]
        except Exception as exc:  # what the user would see as an error
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=session, args=(path,)) for path in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {who: [row[:3] for row in rows] for who, rows in results.items()} == {
        "carol": [["shared.jsonl", "added", 20]], "dave": [["shared.jsonl", "added", 20]]}
    indexed = titles(Client(library[0], verbose=False))
    assert all(f"{who} record {i} on MRGPRX{i}" in indexed for who in ("Carol", "Dave") for i in range(20))


def test_one_bad_zip_member_costs_only_itself_and_no_message_shows_the_data_home(client, library):
    url, home = library
    rows, summary = upload(client, HOSTILE_UPLOADS / "long_member_name.zip", HOSTILE_UPLOADS / "file_and_folder.zip",
                           HOSTILE_UPLOADS / "encrypted_member.zip")
    added = sorted(row[0] for row in rows if row[1] == "added")
    assert added == ["good_member.md", "good_member.md", "good_member.md", "p.md"], rows  # the good files went in
    failed = sorted((row[0], row[4]) for row in rows if row[1] == "failed")
    assert failed == [
        ("q.md (in file_and_folder.zip)", "clashes with a file of the same name in the zip (a file and a folder)"),
        ("secret.md (in encrypted_member.zip)",
         "encrypted (password-protected); unpack it yourself and upload the file"),
        ("very-long-title-very-long-title-very-lon…ng-title-.md (in long_member_name.zip)",
         "a name in its path is longer than 255 bytes"),
    ], rows
    assert "3 failed" in summary and str(home) not in json.dumps([rows, summary])
    assert "MYC drives ribosome biogenesis." not in json.dumps(rows)


def test_uploads_nothing_is_indexed_from_are_removed_and_a_deleted_sources_upload_stays_for_restore(client, library,
                                                                                                    tmp_path):
    _, home = library
    before = uploaded_files(home)
    rows, _ = upload(client, DATA / "hostile" / "corpus" / "corrupt.pdf")
    assert [row[:2] for row in rows] == [["corrupt.pdf", "failed"]]
    assert uploaded_files(home) == before  # the failed upload was not kept
    note = tmp_path / "lonely_note.md"
    note.write_text("# Lonely note on ZNF999\n\nZNF999 binds nothing at all in this made-up note.\n")
    rows, _ = upload(client, note)
    assert [row[:2] for row in rows] == [["lonely_note.md", "added"]] and "lonely_note.md" in uploaded_files(home)
    source = next(s for s in client.predict(api_name="/sources") if s["title"] == "Lonely note on ZNF999")
    deleted, *_ = client.predict(source["source_id"], api_name="/delete_source")
    # Issue 13 item 10 changed this on purpose: a deleted source is remembered and can be restored from its file, so
    # its upload stays (it went with its last source before).
    assert deleted.startswith("Deleted") and "lonely_note.md" in uploaded_files(home)
    restored, *_ = client.predict(source["source_id"], api_name="/restore_source")
    assert restored == "Restored “Lonely note on ZNF999” (paper, 1 chunk)."
    assert any(s["title"] == "Lonely note on ZNF999" for s in client.predict(api_name="/sources"))
