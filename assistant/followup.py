"""Follow-up questions without an LLM: does a question lean on an earlier turn, and what standalone query it becomes.

The rules are the ordinary cues of discourse a linguist would name, not patterns of particular questions:
- anaphora: a referential pronoun ("it", "they", "them"), a possessive ("its", "their") with no name of its own to
  point at, a demonstrative ("this pathway", "these"), a definite generic noun with no name ("the figure");
- ellipsis: a lead-in that only makes sense after something ("what about …", "and in mice?", "going back to …"), or
  a fragment with no clause of its own ("Which inhibitors?", "In mice?").
A question with none of these cues is self-contained and is searched exactly as it was typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.extractive import QUESTION_WORDS, fold, is_entity, ordinary, split_joined

_TOKEN = re.compile(r"[A-Za-z0-9α-ωΑ-Ω][A-Za-z0-9α-ωΑ-Ω\-–—/]*")
PRONOUNS = {"it", "they", "them", "itself", "themselves"}
POSSESSIVES = {"its", "their", "theirs"}
DEMONSTRATIVES = {"this", "these", "those", "that"}
CONJUNCTIONS = {"and", "or", "but", "so", "also", "then", "plus", "now", "ok", "okay"}
AUXILIARIES = set("is are was were be been do does did can could should would will has have had may might must "
                  "shall isn't aren't doesn't don't didn't can't".split())
WH_WORDS = {"what", "which", "who", "whom", "whose", "why", "when", "where", "how", "whether"}
PREPOSITIONS = set("in on at for with without during under after before via through by from into across within "
                   "compared versus vs upon among".split())
# Nouns that, after "the", point back to something named before ("the figure", "the pathway") when the question
# names nothing itself.
GENERIC_NOUNS = set("""figure figures pathway pathways paper papers study studies gene genes protein proteins receptor
receptors kinase kinases complex mechanism mechanisms process effect effects interaction interactions article model
signalling signaling cascade drug drugs inhibitor inhibitors axis network diagram ligand ligands enzyme enzymes
target targets factor factors""".split())
# Words that steer a follow-up but name no topic: searching for them would only add noise.
FILLER = set("""happen happens happened else too again instead going back regarding same one ones other others
mention mentioned say said says there please yes just really exactly former latter returning coming""".split())
# Lead-ins that need an earlier turn: "what about …", "how about …", "as for …", "going back to …".
LEAD_IN = re.compile(r"\b(?:what|how)\s+about\b|\bwhat\s+of\b|\bas\s+for\b|\b(?:going|coming)?\s*back\s+to\b"
                     r"|\breturning\s+to\b|\bsame\s+(?:question\s+)?(?:for|in|with)\b|\bthe\s+same\b"
                     r"|\bthe\s+(?:former|latter)\b", re.IGNORECASE)
# 'it' that refers to nothing: "is it true that …", "it is known whether …".
DUMMY_IT = re.compile(r"\b(?:is|was|isn't|wasn't)\s+it\s+(?:true|known|possible|likely|clear|thought|believed|"
                      r"the\s+case|that|whether)\b|\bit\s+(?:is|was|seems|appears|remains)\s+(?:true|known|"
                      r"possible|likely|clear|unclear|thought|believed|that|whether|to)\b", re.IGNORECASE)
MAX_CARRIED_WORDS = 8  # a long chain of follow-ups keeps only its most recent topic words


@dataclass
class Topic:
    """What a turn is about: the names it mentions (genes, pathways) and its other content words."""

    names: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.names or self.words)


@dataclass
class Resolution:
    """The query retrieval uses for a turn, what that turn is about, and whether anything was carried over."""

    search_query: str
    topic: Topic
    carried: bool = False


def tokens(question: str) -> list[str]:
    """The question's words, compound names split as the answerer splits them ('p53-MDM2' -> p53, MDM2)."""
    return [p for t in _TOKEN.findall(question) for p in split_joined(t.strip("-–—/")) if p]


def is_name(token: str, first: bool, known: Callable[[str], bool]) -> bool:
    """A gene-like token (HER2, NF-kB), a capitalised word inside the sentence (Hippo, Notch) or a known gene name."""
    low = token.lower()
    if low in QUESTION_WORDS or low in PRONOUNS | POSSESSIVES | CONJUNCTIONS | AUXILIARIES | FILLER | PREPOSITIONS:
        return False
    if is_entity(token):
        return not ordinary(token)
    capitalised = token[:1].isupper() and not first and len(token) > 2
    return capitalised or known(token)


def topic_of(question: str, known: Callable[[str], bool] = lambda _: False) -> Topic:
    """The names and content words of one question, in the order they appear."""
    names: list[str] = []
    words: list[str] = []
    for i, token in enumerate(tokens(question)):
        low = token.lower()
        if is_name(token, i == 0, known):
            names.append(token)
        elif (len(token) > 2 and not token[:1].isdigit() and low not in QUESTION_WORDS | FILLER | PRONOUNS
              | POSSESSIVES | DEMONSTRATIVES | CONJUNCTIONS | AUXILIARIES | PREPOSITIONS):
            words.append(low)
    return Topic(unique(names), unique(words))


def unique(items: list[str]) -> list[str]:
    """Each item once, compared without case or Greek spelling, first spelling kept."""
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(fold(item).lower(), item)
    return list(seen.values())


@dataclass
class Cues:
    """The discourse cues of a question that point back to an earlier turn."""

    pronoun: bool  # it, they, them (not the 'it' of "is it true that")
    possessive: bool  # its, their
    demonstrative: bool  # this, these, those; 'that' before a noun
    definite: bool  # 'the figure', 'the pathway'
    lead_in: bool  # what about, as for, going back to
    conjunction: bool  # the question opens with and, or, but, also
    fragment: bool  # no clause of its own: "Which inhibitors?", "In mice?"


def cues_of(question: str) -> Cues:
    """Read the anaphora and ellipsis cues of a question."""
    words = [w.lower() for w in re.findall(r"[A-Za-z']+", DUMMY_IT.sub(" ", question))]
    body = list(words)
    while body and body[0] in CONJUNCTIONS:
        body.pop(0)
    demonstrative = any(w in DEMONSTRATIVES - {"that"} for w in words) or any(
        a == "that" and b in GENERIC_NOUNS for a, b in zip(words, words[1:]))
    clause = any(w in AUXILIARIES for w in body) or (any(w in WH_WORDS for w in body) and len(body) > 4)
    fragment = bool(body) and not clause and (len(body) <= 4 or body[0] in PREPOSITIONS)
    return Cues(pronoun=any(w in PRONOUNS for w in words), possessive=any(w in POSSESSIVES for w in words),
                demonstrative=demonstrative,
                definite=any(a == "the" and b in GENERIC_NOUNS for a, b in zip(words, words[1:])),
                lead_in=LEAD_IN.search(question) is not None, conjunction=bool(words) and words[0] in CONJUNCTIONS,
                fragment=fragment or not body)


def same_name(a: str, b: str) -> bool:
    """Two spellings of one name (HER2, her2; NF-κB, NF-kB)."""
    key = lambda s: re.sub(r"[-–—\s]", "", fold(s).lower())  # noqa: E731
    return key(a) == key(b)


def named_before(name: str, earlier: list[Topic]) -> bool:
    """The name appeared in an earlier turn."""
    return any(same_name(name, n) for t in earlier for n in t.names)


def leans_back(own: Topic, cues: Cues, earlier: list[Topic]) -> bool:
    """Whether the question needs an earlier turn to be understood."""
    new_names = [n for n in own.names if not named_before(n, earlier)]
    if cues.pronoun or cues.demonstrative or cues.lead_in:
        return True
    if cues.possessive:  # "How does EGFR affect its ligands?": 'its' points at the question's own new name
        return not new_names
    if cues.fragment:  # a bare list of names is a keyword query; "and YAP?" or "in mice?" is an ellipsis
        return not own.names or cues.conjunction
    return cues.definite and not own.names


def antecedent(own: Topic, earlier: list[Topic]) -> Topic | None:
    """The most recent turn that named one of the question's names, else the most recent turn about anything."""
    for topic in reversed(earlier):
        if any(same_name(n, m) for n in own.names for m in topic.names):
            return topic
    return next((t for t in reversed(earlier) if t), None)


def resolve(question: str, earlier: list[Topic], known: Callable[[str], bool] = lambda _: False) -> Resolution:
    """The standalone query for a question, given what the earlier turns were about (oldest first)."""
    own = topic_of(question, known)
    cues = cues_of(question)
    before = antecedent(own, earlier) if earlier and leans_back(own, cues, earlier) else None
    if before is None:
        return Resolution(question, own)
    new_names = [n for n in own.names if not named_before(n, earlier)]
    substitute = new_names and not (cues.pronoun or cues.demonstrative or cues.possessive)
    # "What about YAP?" asks the earlier question of a new name: the new names replace the old ones.
    names = own.names if substitute else unique(before.names + own.names)
    words = unique(before.words + own.words)[-MAX_CARRIED_WORDS:]
    if not words and not names:
        return Resolution(question, own)
    topic = Topic(names, words)
    return Resolution(" ".join(names + words), topic, carried=True)
