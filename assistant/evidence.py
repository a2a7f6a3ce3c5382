"""What kind of evidence an answer rests on: each cited source's study type, species and notices, and a count of
them for the answer ('2 reviews, 1 mouse study (1 retracted)')."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from litassist.index.records import Figure, Paper, Record

if TYPE_CHECKING:
    from litassist.assistant.models import Citation

# Plurals of the study-type words (index/study.py) that do not just take an 's'.
_PLURALS = {"meta-analysis": "meta-analyses", "observational study": "observational studies"}
RETRACTED_FLAGS = ("retracted", "partially retracted")


def plural(label: str, n: int) -> str:
    """'1 review', '2 reviews', '2 meta-analyses', '3 mouse studies'."""
    if n == 1:
        return f"1 {label}"
    if label in _PLURALS:
        return f"{n} {_PLURALS[label]}"
    return f"{n} {label[:-5]}studies" if label.endswith(" study") else f"{n} {label}s"


def citation_facts(record: Record) -> dict:
    """The Citation fields that describe the evidence: study types, species, flag and notices (and a figure's paper)."""
    facts: dict = {"study_types": list(record.study_types), "species": list(record.species), "flag": record.flag,
                   "retracted": record.flag in RETRACTED_FLAGS}
    if isinstance(record, Figure):
        facts["paper_id"] = record.paper_id
    else:
        facts["notices"] = [n.text for n in record.notices]
    return facts


def label(kind: str, study_types: list[str], species: list[str]) -> str | None:
    """How one source is counted: its most specific study type, else '<species> study', 'figure', or None."""
    if kind == "figure":
        return "figure"
    if study_types:
        return study_types[0]  # study types are stored most specific first
    return f"{' and '.join(species)} study" if species else None


def summary(sources: Iterable[tuple[str, list[str], list[str], str | None]]) -> str | None:
    """'2 reviews, 1 mouse study, 1 other paper (1 retracted)' from (kind, study types, species, flag) per cited
    source; None when no cited paper has a study type or species (so plain answers stay as they were)."""
    items = list(sources)
    labels = [label(kind, types, species) for kind, types, species, _ in items]
    if not any(lab not in (None, "figure") for lab in labels):
        return None
    counts = Counter(lab or "other paper" for lab in labels)
    text = ", ".join(plural(lab, n) for lab, n in counts.most_common())
    flagged = Counter(flag for *_, flag in items if flag)
    notes = [f"{n} {flag}" for flag, n in flagged.most_common()]
    return text + (f" ({', '.join(notes)})" if notes else "")


def flag_line(paper: Paper) -> str | None:
    """'RETRACTED: Retraction in: … (PMID …)' for a flagged paper (its errata left out), else None."""
    if not paper.flag:
        return None
    notices = [n.text for n in paper.notices if n.kind != "erratum"]
    return paper.flag.upper() + (f": {'; '.join(notices)}" if notices else "")


def kind_note(citation: Citation) -> str:
    """'paper', or 'paper, Results; Discussion' when quoted from a full text's sections."""
    return ", ".join([citation.kind, "; ".join(citation.sections)]) if citation.sections else citation.kind


def flag_note(citation: Citation) -> str:
    """' RETRACTED: Retraction in: … (PMID …)' for a flagged source, else ''."""
    if not citation.flag:
        return ""
    notices = [n for n in citation.notices if not n.startswith("Erratum")]
    return f" {citation.flag.upper()}" + (f": {'; '.join(notices)}" if notices else "")
