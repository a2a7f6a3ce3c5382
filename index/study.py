"""The small vocabularies of study type and species, and how PubMed and JATS terms map onto them.

Study types come from MEDLINE/PubMed PublicationType and JATS @article-type or heading subjects; species from MeSH
check tags (Humans, Mice, Rats …), JATS research-organism keywords and PFOCR figure organisms. Only these words are
stored, so a filter for 'mouse' finds a MEDLINE record tagged 'Mice, Inbred C57BL' and a figure of 'Mus musculus'.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Study types, most specific first: a paper labelled both "meta-analysis" and "review" is counted as a meta-analysis.
STUDY_TYPES = ("meta-analysis", "systematic review", "randomized controlled trial", "clinical trial",
               "observational study", "case report", "review", "guideline", "editorial", "comment", "letter")
# PubMed PublicationType (lower case) -> study type; "Journal Article" and the like say nothing and map to none.
_PUBLICATION_TYPES = {
    "meta-analysis": "meta-analysis", "systematic review": "systematic review", "review": "review",
    "scoping review": "review", "randomized controlled trial": "randomized controlled trial",
    "randomized controlled trial, veterinary": "randomized controlled trial",
    "equivalence trial": "randomized controlled trial", "pragmatic clinical trial": "clinical trial",
    "clinical trial": "clinical trial", "controlled clinical trial": "clinical trial",
    "clinical trial, phase i": "clinical trial", "clinical trial, phase ii": "clinical trial",
    "clinical trial, phase iii": "clinical trial", "clinical trial, phase iv": "clinical trial",
    "clinical trial, veterinary": "clinical trial", "adaptive clinical trial": "clinical trial",
    "observational study": "observational study", "observational study, veterinary": "observational study",
    "multicenter study": None, "case reports": "case report", "case report": "case report", "practice guideline": "guideline",
    "guideline": "guideline", "consensus development conference": "guideline", "editorial": "editorial",
    "comment": "comment", "letter": "letter",
}
# JATS @article-type (and PMC BioC 'article-type') -> study type.
_ARTICLE_TYPES = {"review-article": "review", "systematic-review": "systematic review", "case-report": "case report",
                  "editorial": "editorial", "letter": "letter", "article-commentary": "comment",
                  "meta-analysis": "meta-analysis"}

# Species: the word litassist stores, its scientific name, and the MeSH headings / keywords that mean it.
SPECIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "human": ("Homo sapiens", ("humans", "human", "homo sapiens")),
    "mouse": ("Mus musculus", ("mice", "mouse", "mus musculus", "mice, inbred", "mice, knockout", "mice, transgenic")),
    "rat": ("Rattus norvegicus", ("rats", "rat", "rattus norvegicus", "rattus", "rats, inbred", "rats, transgenic")),
    "zebrafish": ("Danio rerio", ("zebrafish", "danio rerio")),
    "fruit fly": ("Drosophila melanogaster", ("drosophila melanogaster", "drosophila", "d. melanogaster",
                                              "fruit fly")),
    "C. elegans": ("Caenorhabditis elegans", ("caenorhabditis elegans", "c. elegans")),
    "yeast": ("Saccharomyces cerevisiae", ("saccharomyces cerevisiae", "s. cerevisiae", "yeast")),
    "chicken": ("Gallus gallus", ("chickens", "chicken", "gallus gallus", "chick embryo")),
    "frog": ("Xenopus laevis", ("xenopus laevis", "xenopus")),
    "pig": ("Sus scrofa", ("swine", "pig", "sus scrofa", "swine, miniature")),
    "dog": ("Canis lupus familiaris", ("dogs", "dog", "canis lupus familiaris")),
    "cattle": ("Bos taurus", ("cattle", "bos taurus")),
    "rabbit": ("Oryctolagus cuniculus", ("rabbits", "rabbit", "oryctolagus cuniculus")),
    "monkey": ("Macaca mulatta", ("macaca mulatta", "macaca", "macaca fascicularis", "rhesus macaque")),
    "Arabidopsis": ("Arabidopsis thaliana", ("arabidopsis", "arabidopsis thaliana")),
    "E. coli": ("Escherichia coli", ("escherichia coli", "e. coli")),
}
_SPECIES_BY_TERM = {term: word for word, (_, terms) in SPECIES.items() for term in terms}
_SPECIES_BY_TERM.update({name.lower(): word for word, (name, _) in SPECIES.items()})
_SPECIES_BY_TERM.update({word.lower(): word for word in SPECIES})
_QUALIFIED = re.compile(r"^\*?([^/]+)")  # MEDLINE "MH  - *Mice, Knockout/genetics": the heading before qualifiers


def ordered(values: Iterable[str], vocabulary: Iterable[str]) -> list[str]:
    """The distinct values, in the vocabulary's order."""
    found = set(values)
    return [v for v in vocabulary if v in found]


def study_types_from_publication_types(types: Iterable[str]) -> list[str]:
    """PubMed PublicationType values ('Review', 'Randomized Controlled Trial') as study types."""
    return ordered((_PUBLICATION_TYPES.get(" ".join(t.split()).lower()) or "" for t in types), STUDY_TYPES)


def study_types_from_jats(article_type: str | None, subjects: Iterable[str] = ()) -> list[str]:
    """A JATS @article-type ('review-article') and heading subjects ('Review', 'Case Report') as study types."""
    found = [_ARTICLE_TYPES.get((article_type or "").strip().lower(), "")]
    for subject in subjects:  # 'Review', 'Reviews', 'Case Report'
        text = " ".join(subject.split()).lower()
        found.append(_PUBLICATION_TYPES.get(text) or _PUBLICATION_TYPES.get(text.removesuffix("s")) or "")
    return ordered(found, STUDY_TYPES)


def species_word(term: str) -> str | None:
    """The species word for a MeSH heading ('Mice, Inbred C57BL'), keyword or scientific name; None if unknown."""
    match = _QUALIFIED.match(term.strip())
    heading = " ".join(match.group(1).split()).lower() if match else ""
    if heading in _SPECIES_BY_TERM:
        return _SPECIES_BY_TERM[heading]
    # Strain headings name their species first: 'Mice, Inbred BALB C', 'Rats, Sprague-Dawley'.
    return _SPECIES_BY_TERM.get(heading.split(",")[0]) if "," in heading else None


def species_of(terms: Iterable[str]) -> list[str]:
    """The species words among MeSH headings, keywords or organism names, in vocabulary order."""
    return ordered((species_word(t) or "" for t in terms), SPECIES)


def scientific_names(species: Iterable[str]) -> list[str]:
    """'mouse' -> 'Mus musculus': the organism names figures carry."""
    return [SPECIES[s][0] for s in species if s in SPECIES]


def study_type_choice(value: str | None) -> str | None:
    """A user's study type as stored ('Reviews', 'RCT' are not guessed: only the vocabulary's words, any case)."""
    text = " ".join((value or "").split()).lower()
    return next((t for t in STUDY_TYPES if t == text), None)


def species_choice(value: str | None) -> str | None:
    """A user's species as stored: the word, its scientific name or a MeSH heading, in any case."""
    return species_word(value) if value and value.strip() else None
