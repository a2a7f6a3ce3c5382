"""Reference-file loaders: MEDLINE/.nbib, PubMed XML, RIS, BibTeX and CSL-JSON."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from litassist.index.errors import LoadError, PartialLoadError
from litassist.index.loaders import load_file, loader_for, pubmed, refman
from litassist.index.loaders.text import content_id
from litassist.index.records import Paper

DATA = Path(__file__).parent / "data" / "refs"


def by_id(papers: list[Paper]) -> dict[str, Paper]:
    """Papers keyed by source_id, so tests do not depend on file order."""
    return {p.source_id: p for p in papers}


def write(tmp_path: Path, name: str, text: str) -> Path:
    """A throwaway input file."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- MEDLINE / .nbib ----------------------------------------------------------------------


def test_medline_maps_every_field_of_a_full_record():
    papers = pubmed.load_medline(DATA / "sample.nbib")
    assert [p.source_id for p in papers] == ["34781234", "10987654", "35550001"]
    p = papers[0]
    assert p.title == (
        "Loss of PTEN drives trastuzumab resistance in HER2-amplified breast cancer "
        "through sustained PI3K signalling."
    )
    assert p.authors == ["Lindqvist, Maria E", "Okonkwo, Chidi", "Hartmann, Jens-Peter"]
    assert p.journal == "Cancer research"
    assert (p.year, p.month, p.volume, p.issue, p.pages) == (2021, "Nov", "81", "22", "5712-5725")
    assert p.doi == "10.1158/0008-5472.CAN-21-0917"
    assert (p.pmid, p.pmcid) == ("34781234", "PMC8634412")
    # Wrapped MEDLINE lines are rejoined with single spaces; section labels stay inline.
    assert p.abstract.startswith("BACKGROUND: Amplification of ERBB2 (HER2) defines an aggressive")
    assert "tumours acquire resistance. METHODS: We profiled 148 paired biopsies" in p.abstract
    assert "  " not in p.abstract and "\n" not in p.abstract


def test_medline_older_record_keeps_short_authors_and_abbreviated_journal():
    p = by_id(pubmed.load_medline(DATA / "sample.nbib"))["10987654"]
    assert p.authors == ["Ferreira AB", "Nakamura T"]  # no FAU lines before 2002
    assert p.journal == "Leuk Res"  # no JT: the TA abbreviation
    assert (p.year, p.month, p.pages) == (2000, "Jul", "301-9")
    assert p.doi is None and p.pmcid is None


def test_medline_title_only_record_with_collective_author_is_kept():
    p = by_id(pubmed.load_medline(DATA / "sample.nbib"))["35550001"]
    assert p.authors == ["European TP53 Working Group"]
    assert p.abstract == "" and p.title.startswith("Consensus recommendations for TP53")
    assert (p.year, p.month) == (2022, None)


def test_medline_record_without_title_or_abstract_is_skipped_and_named(tmp_path):
    path = write(
        tmp_path,
        "mixed.nbib",
        "PMID- 111\nTI  - EGFR in glioma\n\nPMID- 222\nSTAT- MEDLINE\n\nAB  - Orphan abstract.\n",
    )
    with pytest.raises(PartialLoadError) as err:
        pubmed.load_medline(path)
    assert "skipped 1 of 3 entries" in err.value.reason
    assert "record 2 (PMID 222) has no title or abstract" in err.value.reason
    good = err.value.records
    assert good[0].source_id == "111"
    # No PMID: the id falls back to a hash of title and abstract.
    assert good[1].source_id == content_id("", "Orphan abstract.")


def test_medline_rejects_a_file_that_is_not_medline(tmp_path):
    path = write(tmp_path, "notes.nbib", "Some notes about HER2.\n")
    with pytest.raises(LoadError) as err:
        pubmed.load_medline(path)
    assert str(path) in str(err.value) and "not MEDLINE" in str(err.value)


# --- PubMed XML ---------------------------------------------------------------------------


def test_pubmed_xml_structured_abstract_and_ids():
    papers = by_id(pubmed.load_xml(DATA / "sample_pubmed.xml"))
    p = papers["36012345"]
    # Inline <i> markup is flattened into the title.
    assert p.title == (
        "Acquired MET amplification after first-line osimertinib in "
        "EGFR-mutant lung adenocarcinoma."
    )
    assert p.authors == ["Tanaka, Hiroshi", "García-López, Elena M", "LungMAP Investigators"]
    assert p.journal.startswith("Journal of thoracic oncology")
    assert (p.year, p.month, p.volume, p.issue, p.pages) == (2023, "Mar", "18", "3", "412-424")
    # The article's own DOI, not the one in its reference list.
    assert (p.doi, p.pmid, p.pmcid) == ("10.1016/j.jtho.2022.11.004", "36012345", "PMC9987654")
    assert p.abstract.startswith("INTRODUCTION: Osimertinib is the standard first-line treatment")
    assert "almost universal. METHODS: We sequenced plasma" in p.abstract
    assert p.abstract.endswith("CONCLUSIONS: MET testing at progression should be routine.")


def test_pubmed_xml_medline_date_and_abbreviated_journal():
    p = by_id(pubmed.load_xml(DATA / "sample_pubmed.xml"))["29876543"]
    assert (p.year, p.month) == (2018, "Jul")  # <MedlineDate>2018 Jul-Aug</MedlineDate>
    assert p.journal == "Cell Cycle"
    assert p.authors == ["Kowalski, P"]
    assert p.abstract.startswith("The MDM2 antagonist nutlin-3 prevents degradation of p53.")
    assert p.doi is None and p.pmcid is None


def test_pubmed_xml_malformed_reports_path_and_position(tmp_path):
    text = "<PubmedArticleSet>\n<PubmedArticle>\n</PubmedArticleSet>\n"
    path = write(tmp_path, "broken.xml", text)
    with pytest.raises(LoadError) as err:
        pubmed.load_xml(path)
    message = str(err.value)
    assert str(path) in message and "line 3, column 2" in message


def test_pubmed_xml_other_xml_is_refused(tmp_path):
    path = write(tmp_path, "config.xml", "<settings><item/></settings>")
    with pytest.raises(LoadError, match="not PubMed XML"):
        pubmed.load_xml(path)


# --- RIS ----------------------------------------------------------------------------------


def test_ris_full_record_with_pubmed_accession():
    p = refman.load_ris(DATA / "sample.ris")[0]
    assert p.source_id == "doi:10.1016/j.jmb.2019.03.012"
    assert p.title == "Structural basis of pertuzumab binding to the HER2 dimerisation arm"
    assert p.authors == ["Whitfield, Rosa K.", "Adeyemi, Olu", "Brandt, Felix"]
    assert p.journal == "Journal of Molecular Biology"  # JF preferred over the JO abbreviation
    assert (p.year, p.month, p.volume, p.issue, p.pages) == (2019, "May", "431", "10", "1984-1997")
    assert (p.doi, p.pmid) == ("10.1016/j.jmb.2019.03.012", "30912345")
    assert p.url == "https://doi.org/10.1016/j.jmb.2019.03.012"
    assert "HER3. Here we report a 2.9 angstrom cryo-EM structure" in p.abstract


def test_ris_alternative_tags_and_content_id():
    p = refman.load_ris(DATA / "sample.ris")[1]
    assert p.title == "CXCL12/CXCR4 signalling recruits regulatory T cells to glioblastoma"
    assert p.authors == ["Moreau, Camille", "Singh, Arjun"]  # A1
    assert p.journal == "Neuro-Oncology"  # T2
    assert (p.year, p.month, p.pages) == (2021, "Nov", "1850-1862")  # Y1 2021/11/22/
    assert p.abstract.startswith("Regulatory T cells accumulate in glioblastoma.")  # N2
    assert p.doi is None and p.pmid is None
    assert p.source_id == content_id(p.title, p.abstract)


def test_ris_doi_url_is_reduced_and_id_lowercased():
    p = refman.load_ris(DATA / "sample.ris")[2]
    assert p.doi == "10.1158/1078-0432.CCR-21-3456"
    assert p.source_id == "doi:10.1158/1078-0432.ccr-21-3456"
    assert p.abstract == "" and p.journal == "Clin Cancer Res"


def test_ris_accession_number_is_a_pmid_only_for_pubmed_records(tmp_path):
    text = "TY  - JOUR\nTI  - {title}\nAN  - 30111222\n{db}ER  - \n"
    pubmed_rec = write(tmp_path, "a.ris", text.format(title="From PubMed", db="DB  - PubMed\n"))
    other_rec = write(tmp_path, "b.ris", text.format(title="From Embase", db="DB  - Embase\n"))
    assert refman.load_ris(pubmed_rec)[0].source_id == "pmid:30111222"
    assert refman.load_ris(other_rec)[0].pmid is None


def test_ris_unterminated_last_record_is_reported(tmp_path):
    text = "TY  - JOUR\nTI  - p53 one\nER  - \n\nTY  - JOUR\nTI  - p53 two\n"
    path = write(tmp_path, "cut.ris", text)
    with pytest.raises(PartialLoadError) as err:
        refman.load_ris(path)
    assert "skipped 1 of 2 entries" in err.value.reason and "'ER  - '" in err.value.reason
    assert [p.title for p in err.value.records] == ["p53 one"]


def test_ris_rejects_a_file_that_is_not_ris(tmp_path):
    path = write(tmp_path, "notes.ris", "not a reference file\n")
    with pytest.raises(LoadError) as err:
        refman.load_ris(path)
    assert str(path) in str(err.value) and "not RIS" in str(err.value)


# --- BibTeX -------------------------------------------------------------------------------


def test_bibtex_broken_entry_is_skipped_and_named():
    with pytest.raises(PartialLoadError) as err:
        refman.load_bibtex(DATA / "sample.bib")
    reason = err.value.reason
    assert reason.startswith("skipped 1 of 3 entries: entry 'smith2020broken' (line 19)")
    assert str(DATA / "sample.bib") in str(err.value)
    assert [p.source_id for p in err.value.records] == [
        "doi:10.1007/s10120-020-01088-2",
        "bibtex:ortega2018tp53",
    ]


def good_bib_entries() -> list[Paper]:
    """The two well-formed entries of sample.bib."""
    with pytest.raises(PartialLoadError) as err:
        refman.load_bibtex(DATA / "sample.bib")
    return err.value.records


def test_bibtex_fields_are_latex_decoded():
    p = good_bib_entries()[0]
    assert p.title == (
        "HER2-positive gastric cancer: tumour heterogeneity limits the benefit of trastuzumab"
    )
    assert p.authors == ["Müller, Katrin", "Li, Yan M.", "The ERBB Consortium"]
    assert p.journal == "Gastric Cancer"
    assert (p.year, p.month, p.volume, p.issue, p.pages) == (2020, "Nov", "23", "6", "1012-1024")
    assert (p.doi, p.pmid) == ("10.1007/S10120-020-01088-2", "32512345")
    assert p.abstract.startswith("Only about 50% of patients with HER2-positive gastric cancer")


def test_bibtex_first_last_names_and_key_id():
    p = good_bib_entries()[1]
    assert p.authors == ["Ortega, Luis", "van der Berg, Anne-Marie"]
    assert p.journal == "Proceedings of the European Cancer Genetics Meeting"  # booktitle
    assert (p.year, p.pages, p.url) == (2018, "45-52", "https://example.org/ecgm2018/ortega")
    assert p.source_id == "bibtex:ortega2018tp53"


def test_bibtex_unescaped_percent_does_not_swallow_text(tmp_path):
    path = write(
        tmp_path,
        "p.bib",
        "@article{k, title = {CXCR4 in 30% of cases & more}, date = {2021-03-04},\n"
        "  doi = {10.1000/ab\\_c}}\n",
    )
    p = refman.load_bibtex(path)[0]
    assert p.title == "CXCR4 in 30% of cases & more"
    assert (p.year, p.month, p.doi) == (2021, "Mar", "10.1000/ab_c")


def test_bibtex_all_entries_broken_is_a_load_error(tmp_path):
    path = write(tmp_path, "bad.bib", "@article{onlyone, title = {never closed\n")
    with pytest.raises(LoadError) as err:
        refman.load_bibtex(path)
    assert not isinstance(err.value, PartialLoadError)
    assert str(path) in str(err.value) and "'onlyone'" in str(err.value)


def test_bibtex_without_entries_is_a_load_error(tmp_path):
    with pytest.raises(LoadError, match="no BibTeX entries"):
        refman.load_bibtex(write(tmp_path, "empty.bib", "% nothing here\n"))


# --- CSL-JSON -----------------------------------------------------------------------------


def test_csl_json_full_item():
    p = refman.load_csl_json(DATA / "sample_csl.json")[0]
    assert p.source_id == "doi:10.1016/j.lungcan.2024.107466"
    assert p.title == "EGFR exon 20 insertions confer resistance to first-generation inhibitors"
    assert p.authors == ["Tanaka, Yuki", "van der Berg, Anne-Marie", "EGFR Resistance Study Group"]
    assert p.journal == "Lung Cancer"
    assert (p.year, p.month, p.volume, p.issue, p.pages) == (2024, "Feb", "188", "2", "107466")
    assert (p.pmid, p.pmcid) == ("38234567", "PMC10876543")
    assert p.url == "https://doi.org/10.1016/j.lungcan.2024.107466"
    # JATS wrapping is removed from the abstract.
    assert p.abstract.startswith("EGFR exon 20 insertions occur in about 10%")
    assert "jats" not in p.abstract


def test_csl_json_loose_types_and_content_id():
    p = refman.load_csl_json(DATA / "sample_csl.json")[1]
    assert p.journal == "Blood Advances"  # container-title given as a list
    assert (p.year, p.month, p.volume, p.pages) == (2017, "Sep", "1", "1801-1810")
    assert p.authors == ["Ng, Wei Ling"]
    assert p.source_id == content_id(p.title, "")


def test_csl_json_single_object(tmp_path):
    path = write(tmp_path, "one.json", '{"type": "article-journal", "title": "p53 and ageing"}')
    assert [p.title for p in refman.load_csl_json(path)] == ["p53 and ageing"]


def test_csl_json_invalid_json_reports_line_and_column(tmp_path):
    path = write(tmp_path, "bad.json", '[\n  {"title": "x",}\n]')
    with pytest.raises(LoadError) as err:
        refman.load_csl_json(path)
    assert str(path) in str(err.value) and "line 2, column 17" in str(err.value)


def test_csl_json_other_json_is_refused(tmp_path):
    path = write(tmp_path, "package.json", '{"name": "x", "version": "1.0"}')
    with pytest.raises(LoadError, match="not CSL-JSON"):
        refman.load_csl_json(path)


def test_csl_json_bad_items_are_skipped_and_named(tmp_path):
    items = '[{"type": "article", "title": "ok"}, 5, {"id": "b1", "type": "book"}]'
    path = write(tmp_path, "m.json", items)
    with pytest.raises(PartialLoadError) as err:
        refman.load_csl_json(path)
    assert "item 2 is not a JSON object" in err.value.reason
    assert "item 3 ('b1') has no title or abstract" in err.value.reason
    assert [p.title for p in err.value.records] == ["ok"]


# --- dispatch -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "loader"),
    [
        ("sample.nbib", pubmed.load_medline),
        ("sample_pubmed.xml", pubmed.load_xml),
        ("sample.ris", refman.load_ris),
        ("sample.bib", refman.load_bibtex),
        ("sample_csl.json", refman.load_csl_json),
    ],
)
def test_loader_is_chosen_by_extension(name, loader):
    assert loader_for(DATA / name) is loader


@pytest.mark.parametrize(
    ("name", "count"),
    [("sample.nbib", 3), ("sample_pubmed.xml", 2), ("sample.ris", 3), ("sample_csl.json", 2)],
)
def test_load_file_stamps_the_file(name, count):
    papers = load_file(DATA / name)
    assert len(papers) == count
    assert all(p.file == str(DATA / name) for p in papers)


def test_txt_starting_with_pmid_is_sniffed_as_medline(tmp_path):
    path = tmp_path / "pubmed_export.txt"
    shutil.copy(DATA / "sample.nbib", path)
    assert loader_for(path) is pubmed.load_medline
    assert [p.source_id for p in load_file(path)] == ["34781234", "10987654", "35550001"]
