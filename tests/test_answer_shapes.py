"""The shape of an extractive answer: a list question gets one line per source, no relevant sentence is cut while
slots are free, and a sentence that leans on the one before it never stands alone."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from litassist.assistant.answer import answer
from litassist.assistant.retrieval import HybridRetriever
from tests.conftest import retriever_over, store_at

STAT3_CAPTIONS = [
    "IL-6 activates JAK1, which phosphorylates STAT3 and drives its nuclear translocation in hepatocytes.",
    "Leptin signalling through JAK2 and STAT3 controls appetite in hypothalamic neurons.",
    "In gastric cancer cells, STAT3 signalling induces VEGF and promotes angiogenesis.",
    "SOCS3 feeds back on the IL-6 receptor to switch off STAT3 signalling.",
    "Constitutively active STAT3 supports survival of diffuse large B-cell lymphoma cells.",
    "Interferon-gamma activates STAT1 and, to a lesser extent, STAT3 in macrophages.",
]
OTHER_CAPTIONS = ["WNT ligands stabilise beta-catenin, which enters the nucleus with TCF4.",
                  "Hedgehog binding to PTCH1 releases SMO and activates GLI transcription factors."]
CASPASES = ("LPS initiates pyroptosis through the noncanonical route by activating human caspase-4 and caspase-5, "
            "or mouse caspase-11, to cleave GSDMD. MAMPs and DAMPs are detected by TLR4, which induces the MyD88 "
            "pathway to produce pro-IL-1β. Activated caspase-1 promotes the maturation and secretion of IL-1β and "
            "IL-18 and cleaves GSDMD. The released N-terminal domain of GSDMD perforates the plasma membrane.")
CASPASE_1 = "Activated caspase-1 promotes the maturation and secretion of IL-1β and IL-18 and cleaves GSDMD."
STAT3_PAPER = "STAT3 signalling in tumour-associated macrophages suppresses antitumour immunity in mice."
HYPOXIA = ("Hypoxia was induced in the incubators of the second laboratory. These cells then lost their polarity. "
           "They also stopped dividing. Such effects were strongest in breast cancer cells kept under hypoxia for "
           "three days.")


def figure(folder: Path, n: int, caption: str) -> None:
    """A PFOCR-style figure record whose title is its caption's first words."""
    (folder / f"PMC70000{n:02d}__f{n}.md").write_text(textwrap.dedent(f"""\
        ---
        figid: PMC70000{n:02d}__f{n}
        figtitle: {caption.split(",")[0].rstrip(".")}
        pmcid: PMC70000{n:02d}
        number: F{n}
        caption: {caption}
        papertitle: Signalling study number {n}.
        year: '2021'
        ---
        """), encoding="utf-8")


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory, encoder) -> HybridRetriever:
    """Eight figures (six on STAT3), a STAT3 paper, a caspase paper and a paper with a chain of references."""
    from tests.conftest import ingest

    base = tmp_path_factory.mktemp("shapes")
    folder = base / "corpus"
    folder.mkdir()
    for n, caption in enumerate(STAT3_CAPTIONS + OTHER_CAPTIONS, start=1):
        figure(folder, n, caption)
    (folder / "caspases.md").write_text(f"# Inflammasome signalling in liver disease\n\n{CASPASES}\n", encoding="utf-8")
    (folder / "stat3.md").write_text(f"# STAT3 in tumour immunity\n\n{STAT3_PAPER}\n", encoding="utf-8")
    (folder / "hypoxia.md").write_text(f"# Oxygen and breast tumour cells\n\n{HYPOXIA}\n", encoding="utf-8")
    store = store_at(base / "home", encoder.name)
    report = ingest([folder], store, encoder)
    assert not report.failed, report.failed
    return retriever_over(store, encoder, k=8)


def test_a_list_question_answers_with_one_cited_line_per_source(retriever):
    result = answer("Which figures show STAT3 signalling?", retriever)
    lines = result.answer.splitlines()
    assert len(result.citations) >= 5 and len(lines) == len(result.citations), result.answer  # was 4 sentences
    assert result.form == "list" and not result.abstained
    for n, line in enumerate(lines, start=1):
        assert line.startswith("- ") and line.endswith(f"[{n}].")
    assert all("STAT3" in c.quote for c in result.citations)
    assert {c.kind for c in result.citations} == {"figure"}  # "which figures": the STAT3 paper is not listed
    papers = answer("Which papers describe STAT3 signalling?", retriever)
    assert [c.quote for c in papers.citations] == [STAT3_PAPER] and papers.answer.startswith("- ")


def test_a_relevant_sentence_is_not_cut_while_slots_are_free(retriever):
    # The caspase-4/5/11 sentence scores far above the caspase-1 one; "which caspases" asks for all of them.
    result = answer("Which caspases cleave GSDMD to trigger pyroptosis?", retriever)
    said = [s.text for s in result.sentences]
    assert CASPASE_1 in said and any("caspase-11" in s for s in said), said


def test_a_sentence_that_would_need_more_than_two_sentences_before_it_is_not_quoted(retriever):
    # "Such effects …" leans on "They …", which leans on "These cells …": three sentences for one quote.
    result = answer("What happens to breast cancer cells kept under hypoxia?", retriever)
    assert not any(s.text.startswith("Such effects") for s in result.sentences), result.answer


@pytest.mark.parametrize("sentence, leans", [
    ("The gene may therefore contribute to the biology of human breast cancer.", True),
    ("These effects were lost in mice.", True),
    ("However, this pathway is rarely mutated.", True),
    ("In patients with positive lymph nodes it was a stronger prognostic factor.", True),
    ("The latter evokes apoptosis by cleaving BID.", True),
    ("There, mitochondrial MKP1 removes the phosphates from JNK.", True),
    ("This study shows that HER2 raises CXCR4.", False),
    ("It is well established that HER2 drives metastasis.", False),
    ("The chemokine receptor CXCR4 mediates homing to the lung.", False),
    ("In conclusion, HER2 raises CXCR4 expression.", False),
    ("When HER2 is amplified, it drives growth.", False),
])
def test_sentences_that_lean_on_an_earlier_one(sentence, leans):
    from litassist.assistant.discourse import dangling

    assert dangling(sentence) is leans


@pytest.mark.parametrize("question, is_list", [
    ("Which figures show STAT3 signalling?", True),
    ("Which cancer types are associated with TWIST1 mutations?", True),
    ("Which company produces patisiran?", False),
    ("Which transcription factor controls the Hes genes?", False),
    ("And in the noncanonical route, which caspases cut gasdermin D?", True),
    ("What are the targets of miR-7?", True),
    ("What genes are mutated in colorectal cancer?", True),
    ("List the genes regulated by STAT3.", True),
    ("Which of the figures show EMT?", True),
    ("Which pathway is activated by HER2?", False),
    ("What causes pyroptosis?", False),
    ("What is the role of STAT3?", False),
    ("Is there a figure which shows STAT3?", False),
    ("Which analysis shows the effect?", False),
    ("How does HER2 affect CXCR4?", False),
])
def test_list_questions_are_told_apart(question, is_list):
    from litassist.assistant.discourse import asks_for_list

    assert asks_for_list(question) is is_list


def test_the_sentence_before_is_read_from_the_index_and_a_source_s_first_sentence_stands_as_it_is(
        tmp_path: Path, encoder) -> None:
    from tests.conftest import ingest

    cohorts = " ".join(f"Cohort {i} of the trial enrolled adults with stable angina from clinic number {i} in the "
                       "northern region." for i in range(1, 9))
    lowered = "Ivabradine lowered the resting heart rate by twelve beats per minute in every cohort."
    # the chunk that answers says "heart rate" too: BM25 scores the question's word pairs in a chunk's own text
    lasted = "These effects on heart rate lasted for the whole year of follow-up, and no cohort reported bradycardia."
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "ivabradine.md").write_text(f"# Ivabradine in stable angina\n\n{cohorts} {lowered} {lasted}\n",
                                          encoding="utf-8")
    (folder / "sutezolid.md").write_text("# Sutezolid, an oxazolidinone antibiotic\n\nThe drug is being developed for "
                                         "the treatment of tuberculosis caused by resistant strains.\n", encoding="utf-8")
    store = store_at(tmp_path / "home", encoder.name)
    ingest([folder], store, encoder)
    one = retriever_over(store, encoder, k=1)  # only the chunk that opens with "These effects …"

    result = answer("How long did the effects of ivabradine on heart rate last?", one)
    assert [p.text.split(".")[0] for p in result.passages] == [lasted.split(".")[0]]  # its own chunk, alone
    assert [s.text for s in result.sentences] == [lowered, lasted]  # the sentence before came from the index
    # A sentence opening its source has nothing before it to bring: quoted as it is ("The drug": the title says).
    drug = answer("Is sutezolid being developed for the treatment of tuberculosis?", one)
    assert [s.text for s in drug.sentences] == [
        "The drug is being developed for the treatment of tuberculosis caused by resistant strains."]
