"""The `litassist` command line, run through its real entry point."""

import json
import sys
from pathlib import Path

import pytest

SAMPLE_RIS = Path(__file__).parent / "data" / "refs" / "sample.ris"

CORPUS = Path(__file__).parent / "data" / "corpus"
EDGE = Path(__file__).parent / "data" / "edge"


@pytest.fixture()
def home(tmp_path: Path, run_cli) -> Path:
    code, _, err = run_cli("--home", tmp_path / "home", "ingest", CORPUS)
    assert code == 0, err
    return tmp_path / "home"


def test_ingest_reports_each_file_and_exits_3_when_some_fail(tmp_path, run_cli):
    code, out, err = run_cli("--home", tmp_path / "h", "ingest", CORPUS / "papers", EDGE / "all_missing.txt")
    assert code == 3
    assert "+ added     " in err and "her2_cxcr4_page.txt" in err
    assert f"! failed    {EDGE / 'all_missing.txt'}: no text to index" in err
    assert "2 added, 0 replaced, 0 unchanged, 1 failed" in err
    code, _, err = run_cli("--home", tmp_path / "h", "ingest", CORPUS / "papers")
    assert code == 0 and "0 added, 0 replaced, 2 unchanged, 0 failed; 0 chunks embedded" in err


def test_ask_prints_answer_and_reference_list(home, run_cli):
    code, out, _ = run_cli("--home", home, "ask", "how does HER2 affect CXCR4")
    assert code == 0
    body, refs = out.strip().split("\n\n")
    assert "HER2 increased the expression of CXCR4" in body and "[1]" in body
    assert refs.startswith("[1] HER2 signalling raises CXCR4 levels") and refs.endswith("(paper)")


def test_ask_json_follows_the_contract(home, run_cli):
    code, out, _ = run_cli("--home", home, "ask", "how does HER2 affect CXCR4", "--json")
    data = json.loads(out)
    assert code == 0
    # form, closest and hint, and each citation's page, pages, year, file and answers, came with issue 13.
    assert set(data) == {"question", "answer", "abstained", "mode", "note", "sentences", "citations", "passages",
                         "expansions", "form", "closest", "hint", "sources_summary"}
    assert data["sources_summary"] is None  # these sources carry no study type or species
    # HER2 is an alias: the answer says which gene names the search added for it.
    assert "ERBB2" in data["expansions"].get("HER2", [])
    assert data["mode"] == "extractive" and data["abstained"] is False and data["note"] is None
    assert data["form"] == "sentences" and data["closest"] == [] and data["hint"] is None
    assert all(set(s) == {"text", "citations", "supported", "flags"} and s["supported"] and not s["flags"]
               for s in data["sentences"])
    cite = data["citations"][0]
    assert set(cite) == {"n", "source_id", "kind", "title", "reference", "url", "doi", "pmid", "pmcid",
                         "figid", "quote", "page", "pages", "year", "file", "answers", "sections", "study_types",
                         "species", "retracted", "flag", "notices", "paper_id"}
    assert cite["answers"] is True and cite["page"] is None and cite["year"] == 2019
    assert cite["retracted"] is False and cite["flag"] is None
    assert cite["n"] == 1 and cite["source_id"] == "doi:10.9999/jto.2019.0003" and cite["quote"]
    assert all(set(p) == {"source_id", "kind", "text", "score"} for p in data["passages"])


def test_ask_that_abstains_shows_the_closest_sources_as_not_answering(home, run_cli):
    code, out, _ = run_cli("--home", home, "ask", "How does BRCA1 regulate PARP1?", "--kind", "paper")
    assert code == 0
    sentence, hint, closest = out.strip().split("\n\n")
    assert sentence == "The indexed sources do not answer this question."
    assert hint.startswith("Searched for “How does BRCA1 regulate PARP1?”") and "with filters: papers only" in hint
    assert closest.startswith("Closest sources found — they do not answer this:\n- ") and "[1]" not in closest
    code, out, _ = run_cli("--home", home, "ask", "How does BRCA1 regulate PARP1?", "--json")
    data = json.loads(out)
    assert data["abstained"] and data["citations"] == [] and data["closest"]
    assert all(c["answers"] is False and c["quote"] for c in data["closest"])


def test_ask_kind_filter_limits_sources(home, run_cli):
    code, out, _ = run_cli("--home", home, "ask", "CXCR4 metastasis", "--kind", "figure", "--json", "-k", "3")
    data = json.loads(out)
    assert code == 0 and {p["kind"] for p in data["passages"]} == {"figure"} and len(data["passages"]) <= 3


def test_sources_json_counts_by_kind_and_file(home, run_cli):
    code, out, _ = run_cli("--home", home, "sources", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["by_kind"] == {"paper": 2, "figure": 2} and data["sources"] == 4
    assert data["chunks"] == sum(i["chunks"] for i in data["items"])
    assert {i["file"] for i in data["items"]} >= {str((CORPUS / "figures" / "PMC9000001__fig3.md").resolve())}


def test_usage_errors_exit_2_and_user_errors_are_one_line(tmp_path, run_cli):
    code, _, err = run_cli("ask")
    assert code == 2 and "Missing argument" in err
    code, _, err = run_cli("--home", tmp_path / "empty", "ask", "anything")
    assert code == 1 and err.startswith("error: nothing is indexed") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_version_and_singular_counts(tmp_path, run_cli):
    code, out, _ = run_cli("--version")
    assert code == 0 and out.startswith("litassist, version ")
    one = tmp_path / "one.txt"
    one.write_text("# HER2 and CXCR4\n\nHER2 raises CXCR4 in breast cancer cells.\n", encoding="utf-8")
    code, _, err = run_cli("--home", tmp_path / "home", "ingest", one)
    assert code == 0 and "(1 record, 1 chunk)" in err and "1 records" not in err


def test_serve_on_a_busy_port_is_a_one_line_error(tmp_path, run_cli):
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run_cli("--home", tmp_path, "serve", "--port", port)
    assert code == 1 and f"port {port} is busy" in err and "--port" in err
    assert "GRADIO_SERVER_PORT" not in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_test_run_without_chromium_says_the_browser_tests_were_skipped_and_how_to_fix_it(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "LITASSIST_TEST_CHROMIUM": str(tmp_path / "no-chromium")}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_ui.py"],
                         cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:]
    last = run.stdout.strip().splitlines()[-2:]
    assert any("browser tests were skipped" in line and "apt-get install chromium" in line for line in last), last


def test_files_of_other_formats_are_named_and_a_folder_of_only_those_is_an_error(tmp_path, run_cli):
    import shutil

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "notes.docx").write_bytes(b"PK\x03\x04 not really a docx")
    (mixed / "figure.png").write_bytes(b"\x89PNG\r\n")
    shutil.copy(SAMPLE_RIS, mixed / "sample.ris")
    code, _, err = run_cli("--home", tmp_path / "home", "ingest", mixed)
    assert code == 0, err
    assert "notes.docx: not a supported format (.docx)" in err and "figure.png: not a supported format (.png)" in err
    assert "1 added" in err and "2 skipped" in err

    only = tmp_path / "only"
    only.mkdir()
    (only / "table.csv").write_text("a,b\n", encoding="utf-8")
    (only / "notes.docx").write_bytes(b"PK")
    code, _, err = run_cli("--home", tmp_path / "home", "ingest", only)
    assert code == 1 and "nothing ingestible found" in err and "(.csv, .docx)" in err and ".ris" in err

    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli("--home", tmp_path / "home", "ingest", empty)
    assert code == 1 and "no files in" in err


def test_a_zip_upload_names_the_members_it_cannot_read(tmp_path):
    import zipfile

    from litassist.assistant.settings import ServerSettings
    from litassist.assistant.uploads import limits_of, save_uploads

    archive = tmp_path / "library.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(SAMPLE_RIS, "refs/sample.ris")
        zf.writestr("notes.docx", b"PK")
    batch = save_uploads([str(archive)], tmp_path / "home", limits_of(ServerSettings(max_upload_mb=5)))
    assert [p.name for p in batch.files] == ["sample.ris"]
    assert batch.refused == ["notes.docx (in library.zip): not a supported format (.docx)"]


def test_the_first_ingest_says_it_prepares_the_model_and_no_library_logs_leak(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "LITASSIST_EMBEDDING__BACKEND": "onnx-int8",
           "LITASSIST_EMBEDDING__EXPORT_DIR": str(tmp_path / "export")}  # nothing exported yet
    run = subprocess.run([sys.executable, "-c", "from litassist import main; main()", "--home", str(tmp_path),
                          "ingest", str(CORPUS)], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stderr.startswith("Preparing the embedding model (once per machine")
    assert "Loading weights" not in run.stderr and "DEBUG" not in run.stderr and "bm25s" not in run.stderr, run.stderr
    again = subprocess.run([sys.executable, "-c", "from litassist import main; main()", "--home", str(tmp_path),
                            "ask", "How does HER2 affect CXCR4?"], env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "Preparing" not in again.stderr  # once per machine


def test_filters_that_leave_nothing_or_a_reversed_range_are_said_plainly(home, run_cli):
    code, _, err = run_cli("--home", home, "ask", "How does HER2 affect CXCR4?", "--year-min", "1900", "--year-max", "1901")
    assert code == 1 and "No indexed source matches the filters (1900–1901)" in err
    code, _, err = run_cli("--home", home, "ask", "How does HER2 affect CXCR4?", "--year-min", "2020", "--year-max", "2001")
    assert code == 1 and "the year range 2020–2001 is reversed" in err


def test_each_files_line_is_printed_once_it_is_written_not_after_every_file_is_embedded(tmp_path, run_cli,
                                                                                      monkeypatch):
    from litassist.index.embedding import SentenceTransformerEncoder

    encode = SentenceTransformerEncoder.encode

    def noting(self, texts, progress=None):  # the real encoder, saying on stderr what it is about to encode
        if texts:
            sys.stderr.write("[encoding: " + " | ".join(t.replace("\n", " ") for t in texts) + "]\n")
        return encode(self, texts, progress=progress)

    monkeypatch.setattr(SentenceTransformerEncoder, "encode", noting)
    monkeypatch.setenv("LITASSIST_INGEST__WRITE_CHUNKS", "1")  # a write per file: their lines come one by one
    papers = tmp_path / "papers"
    papers.mkdir()
    for n, topic in enumerate(["Alpaca", "Bison", "Caracal", "Dingo"]):
        (papers / f"{n}_{topic.lower()}.txt").write_text(
            f"# {topic} PLXNB3\n\n{topic} fibroblasts raise PLXNB3 when they migrate.\n", encoding="utf-8")
    code, _, err = run_cli("--home", tmp_path / "home", "ingest", papers)
    assert code == 0, err
    lines = err.splitlines()
    first_file = lines.index(f"+ added     {papers / '0_alpaca.txt'} (1 record, 1 chunk)")
    last_encoded = next(i for i, line in enumerate(lines) if line.startswith("[encoding: ") and "Dingo" in line)
    assert first_file < last_encoded, err  # the first file was reported before the last one was even encoded
    assert sum(line.startswith("+ added") for line in lines) == 4
