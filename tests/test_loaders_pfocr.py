"""PFOCR figure records and abstract pages, loaded from the project's own fixtures."""

from pathlib import Path

import pytest

from litassist.index.errors import LoadError
from litassist.index.loaders import load_file, loader_for
from litassist.index.loaders import abstract_page, pfocr

FIGS = Path(__file__).parent / "data" / "corpus" / "figures"
EDGE = Path(__file__).parent / "data" / "edge"
PAPERS = Path(__file__).parent / "data" / "corpus" / "papers"


def test_current_generation_figure_fields():
    fig = load_file(FIGS / "PMC9000001__fig3.md")[0]
    assert fig.figid == fig.source_id == "PMC9000001__fig3"
    assert fig.figtitle == "MKP1 relocates to mitochondria in radioresistant breast cancer cells"
    assert fig.caption.startswith("MKP1 relocates") and "dephosphorylates JNK" in fig.caption
    assert fig.genes == ["ERBB2", "DUSP1", "MAPK8", "NFKB1"]  # Dusp1 folded into DUSP1
    assert fig.organisms == ["Homo sapiens"]
    assert fig.year == 2020 and fig.doi == "10.9999/jtb.2020.5"
    assert fig.keywords == ["radioresistance", "MKP1", "mitochondria"]
    assert fig.url == "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC9000001/figure/F3/"
    assert fig.label == "3"


def test_older_generation_gene_list_and_scalar_organism():
    fig = load_file(FIGS / "PMC1000002__older.md")[0]
    assert fig.genes == ["CXCL12", "CXCR4", "AKT1"]
    assert fig.gene_words == {"SDF-1": "CXCL12", "CXCR4": "CXCR4", "Akt": "AKT1"}
    assert fig.organisms == ["Mus musculus"]
    assert fig.year == 2005


def test_missing_values_are_none_and_txt_is_sniffed():
    assert loader_for(EDGE / "all_missing.txt") is pfocr.load
    fig = load_file(EDGE / "all_missing.txt")[0]
    assert fig.figid == "PMC1000003__na"
    assert fig.figtitle is None and fig.papertitle is None and fig.pmcid is None and fig.doi is None
    assert fig.caption == "" and fig.organisms == [] and fig.year is None and fig.url is None


def test_unclosed_front_matter_names_the_file(tmp_path):
    bad = tmp_path / "broken.md"
    bad.write_text("---\nfigid: X\ncaption: never closed\n")
    with pytest.raises(LoadError, match="broken.md.*front matter"):
        load_file(bad)


def test_python_tags_in_yaml_are_refused(tmp_path):
    bad = tmp_path / "evil.md"
    bad.write_text("---\nfigid: !!python/object/apply:os.system ['echo hi']\n---\n")
    with pytest.raises(LoadError, match="evil.md.*invalid YAML"):
        load_file(bad)


def test_abstract_page_table_becomes_paper_fields():
    path = PAPERS / "her2_cxcr4_page.txt"
    assert loader_for(path) is abstract_page.load
    paper = load_file(path)[0]
    assert paper.title == "HER2 signalling raises CXCR4 levels to drive breast cancer metastasis"
    assert paper.journal == "Journal of Test Oncology"
    assert (paper.volume, paper.issue, paper.pages) == ("12", "3", "101-112")
    assert (paper.year, paper.month, paper.doi) == (2019, "Mar", "10.9999/jto.2019.0003")
    assert paper.source_id == "doi:10.9999/jto.2019.0003"
    assert paper.abstract.startswith("HER2 is a receptor tyrosine kinase")
    assert "Funding" not in paper.abstract and "|" not in paper.abstract


def test_markdown_note_is_plain_text_with_heading_title():
    paper = load_file(PAPERS / "egfr_notes.md")[0]
    assert paper.title == "EGFR signalling notes"
    assert paper.abstract.startswith("EGFR activates")


def test_unsupported_extension_is_a_clear_error(tmp_path):
    odd = tmp_path / "table.xlsx"
    odd.write_bytes(b"PK\x03\x04")
    with pytest.raises(LoadError, match=r"table.xlsx: unsupported file type '\.xlsx'"):
        load_file(odd)
