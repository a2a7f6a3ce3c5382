"""What litassist writes from hostile records: terminals get no escape sequences, BibTeX no forged entries, Markdown
no 'javascript:' links (tests/data/hostile/corpus/markup_escapes.jsonl)."""

from __future__ import annotations

import re
from pathlib import Path

import bibtexparser
import pytest
from markdown_it import MarkdownIt

HOSTILE = Path(__file__).parent / "data" / "hostile" / "corpus" / "markup_escapes.jsonl"
# ESC, BEL and the C1 controls: what starts a clear-screen, an OSC 8 link or an OSC 52 clipboard write.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture()
def home(tmp_path: Path, run_cli, encoder) -> Path:
    """A home holding only the hostile records."""
    code, _, err = run_cli("--home", tmp_path, "ingest", HOSTILE)
    assert code == 0, err
    return tmp_path


def test_terminal_output_carries_no_control_sequences(home: Path, run_cli) -> None:
    code, out, err = run_cli("--home", home, "ask", "How does MYC drive ribosome biogenesis?")
    assert code == 0 and "[1]" in out, out
    assert "MYC drives ribosome biogenesis" in out  # the title is still printed, without its escapes
    assert not CONTROLS.search(out + err), repr(out + err)
    code, out, err = run_cli("--home", home, "sources")
    assert code == 0 and "ribosome biogenesis" in out
    assert not CONTROLS.search(out + err), repr(out + err)


def test_bibtex_export_holds_one_entry_per_source_and_no_forged_ones(home: Path, run_cli) -> None:
    code, out, _ = run_cli("--home", home, "ask", "How does MYC drive ribosome biogenesis?", "--format", "bibtex")
    assert code == 0
    library = bibtexparser.parse_string(out)
    assert len(library.entries) == 1 and not library.failed_blocks, out  # no '@misc{injected, …}' after it
    assert "injected" not in out and "javascript" not in out
    assert "doi" not in library.entries[0].fields_dict  # a malformed DOI is dropped, not written


def test_markdown_and_json_never_link_to_javascript(home: Path, run_cli) -> None:
    question = "What does FOXP3 set in regulatory T cells?"
    code, out, _ = run_cli("--home", home, "ask", question, "--format", "markdown")
    assert code == 0 and "[1]" in out, out
    rendered = MarkdownIt("commonmark").render(out)  # what a notes app shows: the title's '[notes](…)' stays text
    assert "FOXP3 [notes](javascript:alert(1)) in regulatory T cells" in rendered, rendered
    assert "<a " not in rendered.replace("<a href=\"https://", ""), rendered
    code, out, _ = run_cli("--home", home, "ask", question, "--json")
    assert '"url": "javascript' not in out and '"pmid": "12}' not in out, out
