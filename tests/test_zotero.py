"""A Zotero library, ingested from its data folder: items with their metadata and PDFs as one source each,
collections and tags as filters, and re-ingests that read only what changed and drop what left the library."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.zotero_library import ZoteroLibrary

YAP = {"title": "YAP1 drives hepatocyte proliferation after partial hepatectomy",
       "abstractNote": "YAP1 is a transcriptional coactivator of the Hippo pathway.",
       "date": "2019-03-01 2019-03-01", "publicationTitle": "Hepatology", "volume": "12", "issue": "3",
       "pages": "100-110", "DOI": "10.1000/yap.1",
       "extra": "PMID: 31234567\nPMCID: PMC6543210\nCitation Key: smith2019yap"}
YAP_PDF = ["Results\nKnocking down YAP1 halved hepatocyte proliferation in regenerating mouse livers."]
KRAS = {"title": "KRAS mutations in pancreatic cancer", "abstractNote": "Oncogenic KRAS sustains pancreatic "
        "tumour growth through MAPK signalling.", "date": "2021", "publicationTitle": "Cancer Cell"}
TP53 = {"title": "TP53 loss in colorectal tumours", "abstractNote": "Loss of TP53 lets colorectal tumour cells "
        "escape apoptosis after DNA damage.", "date": "2015", "publicationTitle": "Gut"}


def build(folder: Path) -> ZoteroLibrary:
    """Three items: one with a PDF, in collection 'Thesis ch.2'; one tagged 'pancreas'; one plain."""
    library = ZoteroLibrary(folder / "Zotero")
    library.add_item("AAAA2222", YAP, [("Smith", "Anna"), ("Lee", "Bo")], ["Thesis ch.2"], ["liver"], YAP_PDF)
    library.add_item("BBBB3333", KRAS, [("Ruiz", "Carla")], [], ["pancreas"])
    library.add_item("CCCC4444", TP53, [("Okafor", "Ngozi")])
    return library


def ingest(run_cli, home: Path, library: ZoteroLibrary) -> dict:
    """`litassist ingest <data folder> --json`: the report."""
    code, out, err = run_cli("--home", home, "ingest", library.folder, "--json")
    assert code == 0, err
    return json.loads(out)


def statuses(report: dict) -> dict[str, str]:
    """Item key -> status."""
    return {o["file"].rsplit("/", 1)[-1]: o["status"] for o in report["outcomes"]}


def test_each_item_is_one_source_with_its_metadata_and_pdf_text(tmp_path, run_cli) -> None:
    library = build(tmp_path)
    report = ingest(run_cli, tmp_path / "home", library)
    assert statuses(report) == {"AAAA2222": "added", "BBBB3333": "added", "CCCC4444": "added"}
    code, out, _ = run_cli("--home", tmp_path / "home", "sources", "--json")
    items = json.loads(out)["items"]
    assert len(items) == 3  # the PDF under storage/ is part of its item, never a source of its own
    code, out, _ = run_cli("--home", tmp_path / "home", "ask", "What does knocking down YAP1 do to hepatocyte "
                           "proliferation?", "--json")
    cite = json.loads(out)["citations"][0]
    assert "halved hepatocyte proliferation" in cite["quote"]  # quoted from the PDF, cited as the item
    assert cite["source_id"] == "zotero:1:AAAA2222"
    assert cite["doi"] == "10.1000/yap.1" and cite["pmid"] == "31234567" and cite["pmcid"] == "PMC6543210"
    assert cite["year"] == 2019 and cite["page"] == 1
    assert "Smith A, Lee B. YAP1 drives hepatocyte proliferation" in cite["reference"]
    assert "Hepatology" in cite["reference"] and "12(3)" in cite["reference"]


def test_collection_and_tag_filters_keep_to_their_items(tmp_path, run_cli) -> None:
    library = build(tmp_path)
    ingest(run_cli, tmp_path / "home", library)
    question = "Which gene drives tumour growth?"
    code, out, _ = run_cli("--home", tmp_path / "home", "ask", question, "--tag", "pancreas", "--json")
    assert {c["source_id"] for c in json.loads(out)["citations"]} == {"zotero:1:BBBB3333"}
    code, out, _ = run_cli("--home", tmp_path / "home", "ask", "What does YAP1 do?", "--collection", "Thesis ch.2",
                           "--json")
    assert {p["source_id"] for p in json.loads(out)["passages"]} == {"zotero:1:AAAA2222"}
    code, _, err = run_cli("--home", tmp_path / "home", "ask", question, "--collection", "No such collection")
    assert code != 0 and "collection “No such collection”" in err


def test_reingest_reads_only_changed_items_and_drops_deleted_ones(tmp_path, run_cli) -> None:
    library = build(tmp_path)
    home = tmp_path / "home"
    ingest(run_cli, home, library)
    assert set(statuses(ingest(run_cli, home, library)).values()) == {"unchanged"}
    library.edit("BBBB3333", "abstractNote", "Oncogenic KRAS rewires glutamine metabolism in pancreatic cancer.")
    library.trash("CCCC4444")
    report = ingest(run_cli, home, library)
    assert statuses(report) == {"AAAA2222": "unchanged", "BBBB3333": "replaced"}
    assert [f.rsplit("/", 1)[-1] for f in report["removed"]] == ["CCCC4444"]
    code, out, _ = run_cli("--home", home, "sources", "--json")
    assert {i["source_id"] for i in json.loads(out)["items"]} == {"zotero:1:AAAA2222", "zotero:1:BBBB3333"}
    code, out, _ = run_cli("--home", home, "ask", "What does KRAS rewire in pancreatic cancer?", "--json")
    assert "glutamine" in json.loads(out)["citations"][0]["quote"]
    library.erase("BBBB3333")  # emptied from the trash: gone from the database altogether
    assert ingest(run_cli, home, library)["removed"][0].endswith("/BBBB3333")


def test_the_library_is_read_from_a_copy_while_zotero_holds_it_locked(tmp_path, run_cli) -> None:
    library = build(tmp_path)
    zotero = sqlite3.connect(library.path)
    zotero.execute("BEGIN EXCLUSIVE")  # as Zotero does while it runs
    try:
        report = ingest(run_cli, tmp_path / "home", library)
    finally:
        zotero.rollback()
        zotero.close()
    assert set(statuses(report).values()) == {"added"}


def test_a_broken_database_fails_with_a_reason(tmp_path, run_cli) -> None:
    folder = tmp_path / "Zotero"
    folder.mkdir()
    (folder / "zotero.sqlite").write_bytes(b"not a database at all" * 100)
    code, _, err = run_cli("--home", tmp_path / "home", "ingest", folder)
    assert code != 0 and "cannot be read as a Zotero database" in err


@pytest.mark.parametrize("extra, expected", [("PMID: 123\nPMCID: PMC9", {"pmid": "123", "pmcid": "PMC9"}),
                                             ("Citation Key: lee2020", {"citation key": "lee2020"}), ("", {})])
def test_extra_lines_give_identifiers_and_the_citation_key(extra, expected) -> None:
    from litassist.index.loaders.zotero import extra_fields

    assert extra_fields(extra) == expected


def test_bibtex_export_keeps_the_better_bibtex_citation_key(tmp_path, run_cli) -> None:
    library = build(tmp_path)
    ingest(run_cli, tmp_path / "home", library)
    code, out, _ = run_cli("--home", tmp_path / "home", "ask", "What does knocking down YAP1 do to hepatocyte "
                           "proliferation?", "--format", "bibtex")
    assert "@article{smith2019yap," in out


def test_progress_counts_each_item_as_a_file(tmp_path, encoder) -> None:
    from tests.conftest import ingest, store_at

    library = build(tmp_path)
    seen = []
    ingest([library.folder], store_at(tmp_path / "home", encoder.name), encoder, on_progress=seen.append)
    assert (seen[-1].files_done, seen[-1].files_total) == (3, 3)
