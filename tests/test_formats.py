"""PMC/JATS and BioC full texts, and study types, species and notices from MEDLINE and PubMed XML, read from small
files in the real formats (tests/data/formats)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from litassist.index.chunking import chunk_records
from litassist.index.errors import LoadError
from litassist.index.loaders import bioc, jats, load_file, loader_for, pubmed, refman
from litassist.index.records import Figure, Paper

FORMATS = Path(__file__).parent / "data" / "formats"
# Text of the parts a full text must leave out: references, acknowledgements, funding, competing interests,
# supplementary material and table footnotes.
LEFT_OUT = ("Michalopoulos", "animal facility", "Example Foundation", "Example Pharma", "Raw counts per animal",
            "Means of six mice", "Example Lung Foundation", "competing interests", "critical analysis")


def everything(records) -> str:
    """All text a set of records could quote or search."""
    parts = []
    for r in records:
        parts += [r.title or "", getattr(r, "abstract", ""), getattr(r, "caption", "")]
        parts += [f"{s.title} {s.subtitle or ''} {s.text}" for s in getattr(r, "sections", [])]
    return " ".join(parts)


def test_jats_paper_takes_its_metadata_from_the_front_matter_and_its_text_by_section():
    paper, *figures = load_file(FORMATS / "yap1_regeneration.nxml")
    assert isinstance(paper, Paper) and len(figures) == 2
    assert paper.source_id == "31000001"
    assert (paper.pmid, paper.pmcid, paper.doi) == ("31000001", "PMC6400001", "10.1000/hep.2019.0001")
    assert paper.title == "YAP1 drives hepatocyte proliferation after partial hepatectomy in mice"
    assert paper.authors == ["Moreau, Claire", "Osei, Kwame"]  # the editor is no author
    assert (paper.journal, paper.year, paper.month, paper.volume, paper.issue, paper.pages) == (
        "Hepatology research", 2019, "Mar", "49", "3", "201-212")
    assert paper.abstract.startswith("Aim: Liver regeneration requires hepatocytes")
    assert [(s.title, s.subtitle) for s in paper.sections] == [
        ("Introduction", None), ("Results", "YAP1 enters the nucleus within hours of hepatectomy"),
        ("Results", "Hepatocyte deletion of Yap1 delays regeneration"), ("Discussion", None), ("Table 1", None)]
    # A figure inside a paragraph is read as a figure, not as part of the sentence around it.
    assert paper.sections[1].text == ("Nuclear YAP1 rose sixfold in hepatocytes six hours after partial hepatectomy "
                                      "(Figure 1).")
    assert paper.sections[-1].text == ("Liver-to-body weight ratio after hepatectomy. Control: Day 3 3.1%; Day 7 4.6%. "
                                       "Yap1 knockout: Day 3 2.2%; Day 7 3.9%.")
    assert paper.species == ["mouse"]  # the research-organism keyword; 'yeast two-hybrid' is an author keyword
    assert not any(text in everything([paper, *figures]) for text in LEFT_OUT)


def test_jats_figures_are_figure_records_linked_to_their_paper_with_pmc_links():
    paper, first, second = load_file(FORMATS / "yap1_regeneration.nxml")
    assert isinstance(first, Figure) and isinstance(second, Figure)
    # Named as PFOCR names figures, so the same figure from both is one source.
    assert [f.source_id for f in (first, second)] == ["PMC6400001__hepres-49-201-g001", "PMC6400001__hepres-49-201-g002"]
    assert (first.label, first.figtitle) == ("1", "Nuclear YAP1 after partial hepatectomy.")
    assert first.caption == "Hepatocytes stained for YAP1 at 0, 6 and 24 hours; nuclear YAP1 peaks at six hours."
    assert first.url == "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC6400001/figure/F1/"
    assert second.url.endswith("/PMC6400001/figure/F2/")  # from the floats group
    assert all(f.paper_id == paper.source_id and f.papertitle == paper.title for f in (first, second))
    assert first.organisms == ["Mus musculus"] and first.species == ["mouse"]


def test_an_xml_file_is_read_as_pubmed_jats_or_bioc_by_its_root_and_json_as_csl_or_bioc():
    assert loader_for(FORMATS / "hippo_review.xml") is jats.load
    assert loader_for(FORMATS / "taz_fibrosis_bioc.xml") is bioc.load_xml
    assert loader_for(FORMATS / "retracted_pubmed.xml") is pubmed.load_xml
    assert loader_for(FORMATS / "lats_kidney_bioc.json") is bioc.load_json
    assert loader_for(Path(__file__).parent / "data" / "refs" / "sample_csl.json") is refman.load_csl_json
    assert loader_for(FORMATS / "yap1_regeneration.nxml") is jats.load


def test_jats_article_set_gives_a_review_with_text_outside_any_section():
    (paper,) = load_file(FORMATS / "hippo_review.xml")
    assert paper.source_id == "PMC7700002" and paper.pmid is None and paper.doi == "10.1000/tcb.2020.0077"
    assert paper.study_types == ["review"]  # article-type="review-article"
    assert paper.authors == ["Hippo Signalling Consortium"] and paper.pages == "e77" and paper.month == "Nov"
    assert [s.title for s in paper.sections] == ["Main text", "TEAD transcription factors"]


def test_bioc_xml_groups_passages_into_sections_and_reads_figures_and_tables():
    paper, figure = load_file(FORMATS / "taz_fibrosis_bioc.xml")
    assert (paper.source_id, paper.pmid, paper.pmcid, paper.doi) == (
        "34700003", "34700003", "PMC8800003", "10.1000/jcb.2021.0333")
    assert paper.authors == ["Achebe, Ngozi", "Kowalski, Piotr"]
    assert (paper.journal, paper.year, paper.volume, paper.pages) == ("J Cell Biol", 2021, "220", "1501-1514")
    assert paper.abstract.startswith("Fibroblast activation drives scarring")
    assert [(s.title, s.subtitle) for s in paper.sections] == [
        ("Introduction", None), ("Results", "TAZ knockdown lowers CTGF"), ("Table 1", None), ("Discussion", None)]
    assert paper.sections[2].text == "CTGF expression after knockdown. siRNA CTGF (relative) Control 1.00 TAZ 0.30"
    assert (figure.figtitle, figure.label, figure.paper_id) == ("TAZ in fibroblastic foci.", "1", "34700003")
    assert figure.caption.startswith("Nuclear TAZ marks activated fibroblasts")
    assert figure.source_id == "PMC8800003__jcb-220-1501-g001"
    assert figure.url == "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC8800003/figure/F1/"
    assert not any(text in everything([paper, figure]) for text in LEFT_OUT)


def test_bioc_json_as_pmc_serves_it_a_list_of_collections():
    paper, figure = load_file(FORMATS / "lats_kidney_bioc.json")
    assert (paper.source_id, paper.pmcid, paper.authors, paper.journal) == (
        "35800004", "PMC9900004", ["Santos, Lucia"], "Kidney Int")
    assert [s.title for s in paper.sections] == ["Methods", "Results"]  # no headings: named by section_type
    assert figure.url.endswith("/PMC9900004/figure/F2/") and figure.label == "2"
    assert "competing interests" not in everything([paper, figure])


def test_medline_gives_study_types_species_and_notices():
    papers = {p.source_id: p for p in pubmed.load_medline(FORMATS / "retracted.nbib")}
    retracted, review, trial = papers["31000001"], papers["32000002"], papers["33000003"]
    assert retracted.species == ["mouse"]  # Mice, Mice Inbred C57BL, Mice Knockout: one species
    assert retracted.flag == "retracted" and retracted.study_types == []
    # A notice wrapped over two MEDLINE lines is one notice.
    assert [(n.kind, n.pmid) for n in retracted.notices] == [("retraction", "34000001"), ("erratum", "31000099")]
    assert retracted.notices[0].text == "Retraction in: Hepatol Res. 2021 Jun;51(6):700. doi: 10.1000/hep.2021.0600 (PMID 34000001)"
    assert review.study_types == ["meta-analysis", "systematic review", "review"] and review.species == ["human"]
    assert review.flag == "expression of concern"
    assert trial.study_types == ["randomized controlled trial", "clinical trial"] and trial.flag is None


def test_pubmed_xml_gives_study_types_species_and_notices():
    papers = {p.source_id: p for p in pubmed.load_xml(FORMATS / "retracted_pubmed.xml")}
    concern, retracted = papers["34500001"], papers["34500002"]
    assert concern.species == ["rat", "zebrafish"]
    # CommentIn is no notice; ExpressionOfConcernIn is.
    assert [(n.kind, n.pmid) for n in concern.notices] == [("expression of concern", "34990001")]
    assert retracted.flag == "retracted" and retracted.notices[0].source == "Oncogene. 2020 Mar;39(12):2600"
    assert retracted.species == ["human"]


def test_full_text_chunks_stay_in_their_section_and_carry_its_title_as_context():
    paper, *_ = load_file(FORMATS / "yap1_regeneration.nxml")
    chunks = chunk_records([paper], max_tokens=40)
    assert list(dict.fromkeys(c.section for c in chunks)) == ["Abstract", "Introduction", "Results", "Discussion",
                                                              "Table 1"]
    for chunk in chunks:
        texts = [paper.abstract] if chunk.section == "Abstract" else [
            s.text for s in paper.sections if s.title == chunk.section]
        assert chunk.context.startswith(paper.title) and chunk.section in chunk.context
        assert any(chunk.text in text for text in texts)  # never text of two sections in one chunk
    results = [c for c in chunks if c.section == "Results"]
    assert results and "Results\nYAP1 enters the nucleus" in results[0].context
    assert "Results" not in results[0].text  # the title is context, not quotable text


# --- hostile XML: JATS and BioC are parsed as safely as PubMed XML -------------------------------------------


BOMB = """<?xml version="1.0"?>
<!DOCTYPE article [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]>
<article><front><article-meta><title-group><article-title>&h;</article-title></title-group></article-meta></front></article>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
{body}
"""


@pytest.mark.parametrize("name, text", [
    ("bomb.nxml", BOMB),
    ("xxe.nxml", XXE.format(root="article", body="<article><front><article-meta><title-group><article-title>&xxe;"
                                                 "</article-title></title-group></article-meta></front></article>")),
    ("xxe_bioc.xml", XXE.format(root="collection", body="<collection><document><id>1</id><passage><infon key="
                                                        "\"type\">title</infon><text>&xxe;</text></passage>"
                                                        "</document></collection>")),
])
def test_xml_that_declares_entities_is_refused_quickly_and_never_expanded(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    started = time.monotonic()
    # libxml2 stops an entity bomb at its declarations (amplification limit); any other declaration is refused.
    with pytest.raises(LoadError, match=r"declares its own entities \(<!ENTITY \w+ …>\)|entity amplification") as caught:
        load_file(path)
    assert time.monotonic() - started < 5  # a bound against a hang, not a benchmark
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd


def test_malformed_jats_names_line_and_column(tmp_path):
    path = tmp_path / "broken.nxml"
    path.write_text("<article><front><article-meta>\n<title-group></article-meta></front></article>")
    with pytest.raises(LoadError, match=r"malformed XML at line 2, column \d+: .*mismatch"):
        load_file(path)


def test_unknown_xml_is_named_by_its_root(tmp_path):
    path = tmp_path / "config.xml"
    path.write_text("<settings><item/></settings>")
    with pytest.raises(LoadError, match=r"not a supported XML format: the root <settings>"):
        load_file(path)
