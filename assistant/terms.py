"""What a question is about: its named entities (genes, proteins) and content-word stems, and whether a text
mentions them (any spelling of a name, its synonyms)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import Stemmer

from litassist.assistant.synonyms import is_common_word
from litassist.assistant.wording import TOKEN

_STEM = Stemmer.Stemmer("english")
_GREEK = str.maketrans({"α": "a", "β": "b", "γ": "g", "δ": "d", "ε": "e", "κ": "k"})
_GREEK_WORD = re.compile(r"alpha|beta|gamma|delta|epsilon|kappa", re.IGNORECASE)
_ROMAN = re.compile(r"(?=[IVX]{2,}$)X{0,3}(IX|IV|V?I{0,3})")
# Words that shape a question but carry no topic: matching them proves nothing.
QUESTION_WORDS = set("""
a an the of in on at to for from by with without and or not no is are was were be been being do does did doing
how what which why when where who whom whose whether can could should would may might will shall must
affect affects affected effect effects role roles influence influences relate related relationship between
about any some this that these those it its their there here into than then also such via per
tell explain describe show shows shown mean means known much many more most
""".split())
# Capitalised abbreviations of places, settings and statistics, not of genes: an abstract may spell them out
# ("United Kingdom", "intensive care unit"), so a quoted sentence need not repeat them.
ABBREVIATIONS = set("""
UK US USA EU NHS HMO ICU NICU PICU ED OR CI HR RR SD SE IQR AUC ROC MRI CT PET SPECT BMI QOL HRQOL RCT GP
ECG EKG EEG WHO FDA NIH CDC
""".split())


@dataclass
class Terms:
    """What a question is about: named entities (genes, proteins), other content-word stems, entity synonyms."""

    entities: list[str]
    stems: set[str]
    names: dict[str, list[str]] = field(default_factory=dict)  # entity -> its other names ('HER2' -> ERBB2, NEU)


def is_entity(token: str) -> bool:
    """Gene/protein-like tokens: a digit or two capitals within one part (HER2, CXCR4, JNK, NF-kB; not Lloyd-Davies)."""
    parts = re.split(r"[-–—/]", token)
    return any(c.isdigit() for c in token) or any(sum(c.isupper() for c in p) >= 2 for p in parts)


def split_joined(token: str) -> list[str]:
    """'p53-MDM2' -> p53, MDM2; 'anti-CTLA-4' -> anti, CTLA-4; 'NF-kB', 'SDF-1', 'ERK1/2' stay whole."""
    parts: list[str] = []
    for sep, part in re.findall(r"([-–—/]*)([^-–—/]+)", token):
        if parts and part[:1].isdigit():  # a number after a dash or slash belongs to its name: IL-6, ERK1/2
            parts[-1] += sep + part
        else:
            parts.append(part)
    splittable = all(is_entity(p) or (p.islower() and len(p) >= 4) for p in parts)
    return parts if len(parts) > 1 and splittable and any(map(is_entity, parts)) else [token.strip("-")]


def question_terms(question: str, synonyms: dict[str, list[str]] | None = None) -> Terms:
    """Split a question into entities and the stems of its other content words; names with synonyms are entities."""
    synonyms = synonyms or {}
    tokens = [part for t in TOKEN.findall(question) for part in split_joined(t)]
    entities = list(dict.fromkeys(t for t in tokens if t and (is_entity(t) or t in synonyms)))
    words = [t.lower() for t in tokens
             if t and t not in entities and t.lower() not in QUESTION_WORDS and len(t) > 2]
    return Terms(entities, set(_STEM.stemWords(words)), entity_names(entities, synonyms))


def entity_names(entities: list[str], synonyms: dict[str, list[str]]) -> dict[str, list[str]]:
    """Each entity's other names: its synonyms, and the name before a variant suffix (DENV-1 -> DENV)."""
    names = {e: synonyms.get(e, []) + variant_base(e) for e in entities}
    return {e: n for e, n in names.items() if n}


def variant_base(entity: str) -> list[str]:
    """The name before a variant suffix, which texts often use alone: DENV-1 -> DENV, MUC1-C -> MUC1, G34R/V -> G34R."""
    base = re.split(r"[-–—/](?=[^-–—/]*$)", entity)[0]
    return [base] if base != entity and len(base) >= 3 and is_entity(base) else []


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Greek letters and their names as one Latin letter, so NF-κB, NF-kappaB and NF-kB compare equal."""
    return _GREEK_WORD.sub(lambda m: m.group(0)[0].lower(), text.translate(_GREEK))


def _mention(text: str, name: str, exact_case: bool = False) -> bool:
    """Whole-token mention, ignoring case unless told otherwise."""
    # A dash in the name matches any dash, a space or none (NF-kB, NF–kB, NFkB); HER2 also matches HER-2.
    pattern = re.sub(r"\\[-–—]|[-–—]", r"[-–—\\s]?", re.escape(fold(name)))
    pattern = re.sub(r"(?<=[A-Za-z])(?=\d)", "[-–—]?", pattern)
    flags = 0 if exact_case else re.IGNORECASE
    return re.search(rf"(?<![A-Za-z0-9]){pattern}(?![A-Za-z0-9])", fold(text), flags) is not None


def mentions(text: str, entity: str, names: list[str] | tuple[str, ...] = ()) -> bool:
    """Whole-token mention of an entity or one of its other names ('HER2-mediated' mentions HER2)."""
    # The question's own word matches in any case ('Ras' for RAS); a synonym that is an ordinary word only
    # as written ('TRAIL' for TNFSF10, never 'trail').
    return _mention(text, entity) or any(_mention(text, n, is_common_word(n)) for n in names)


def coverage(text: str, terms: Terms) -> tuple[float, float]:
    """Share of the question's entities and content stems that a sentence contains."""
    found = sum(mentions(text, e, terms.names.get(e, ())) for e in terms.entities)
    entity_share = found / len(terms.entities) if terms.entities else 0.0
    stems = set(_STEM.stemWords([t.lower() for t in TOKEN.findall(text)]))
    stem_share = len(terms.stems & stems) / len(terms.stems) if terms.stems else 0.0
    return entity_share, stem_share


def ordinary(entity: str) -> bool:
    """Years, counts, roman numerals and place/statistics abbreviations: not what a question is about."""
    return entity[:1].isdigit() or _ROMAN.fullmatch(entity) is not None or entity.upper() in ABBREVIATIONS


def strong(entity: str, terms: Terms) -> bool:
    """A name the corpus should contain if it answers the question: has a digit (ZNF9137) or known synonyms."""
    return any(c.isdigit() for c in entity) or entity in terms.names
