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

import Stemmer

from litassist.assistant.terms import QUESTION_WORDS, fold, is_entity, mentions, ordinary, split_joined
from litassist.assistant.models import Focus
from litassist.assistant.wording import TOKEN

_STEM = Stemmer.Stemmer("english")

PRONOUNS = {"it", "they", "them", "itself", "themselves"}
POSSESSIVES = {"its", "their", "theirs"}
DEMONSTRATIVES = {"this", "these", "those", "that"}
CONJUNCTIONS = {"and", "or", "but", "so", "also", "then", "plus", "now", "ok", "okay"}
AUXILIARIES = set("is are was were be been do does did can could should would will has have had may might must "
                  "shall isn't aren't doesn't don't didn't can't".split())
BE = {"is", "are", "was", "were", "be", "been"}
NUMBERS = {"two", "three", "four", "both", "former", "latter", "same", "first", "second"}
WH_WORDS = {"what", "which", "who", "whom", "whose", "why", "when", "where", "how", "whether"}
PREPOSITIONS = set("in on at for with without during under after before via through by from into across within "
                   "compared versus vs upon among against about between toward towards like than".split())
# Nouns that, after "the", point back to something named before ("the figure", "the pathway") when the question
# names nothing itself.
GENERIC_NOUNS = set("""figure figures pathway pathways paper papers study studies gene genes protein proteins receptor
receptors kinase kinases complex mechanism mechanisms process effect effects interaction interactions article model
signalling signaling cascade drug drugs inhibitor inhibitors axis network diagram ligand ligands enzyme enzymes
target targets factor factors one ones version""".split())
# Words that steer a follow-up but name no topic: searching for them would only add noise.
FILLER = set("""happen happens happened else too again instead going back regarding same one ones other others
mention mentioned say said says there please yes just really exactly former latter returning coming
unrelated separate different question topic subject switching changing similar comparable another anything
something any kind sort true look looks tell show give more""".split())
# Lead-ins that need an earlier turn: "what about …", "how about …", "as for …", "going back to …".
LEAD_IN = re.compile(r"\b(?:what|how)\s+about\b|\bwhat\s+of\b|\bas\s+for\b|\b(?:going|coming)?\s*back\s+to\b"
                     r"|\breturning\s+to\b|\bsame\s+(?:question\s+)?(?:for|in|with)\b|\bthe\s+same\b"
                     r"|\bthe\s+(?:former|latter)\b", re.IGNORECASE)
BACK_REFERENCE = re.compile(r"\b(?:(?:going|coming)\s+)?back\s+to\b|\breturning\s+to\b|\bearlier\b|\bbefore\b",
                            re.IGNORECASE)
# 'it' that refers to nothing: "is it true that …", "it is known whether …".
DUMMY_IT = re.compile(r"\b(?:is|was|isn't|wasn't)\s+it\s+(?:true|known|possible|likely|clear|thought|believed|"
                      r"the\s+case|that|whether)\b|\bit\s+(?:is|was|seems|appears|remains)\s+(?:true|known|"
                      r"possible|likely|clear|unclear|thought|believed|that|whether|to)\b", re.IGNORECASE)
# Markers of a new topic: nothing is carried over, whatever else the question says.
TOPIC_SHIFT = re.compile(r"^\W*(?:(?:an?\s+)?unrelated|(?:a\s+)?(?:separate|different|new|another|other)\s+"
                         r"(?:topic|question|subject|thing)|new\s+topic|changing\s+(?:the\s+)?(?:topic|subject)|"
                         r"switching\s+(?:topics?|subjects?)|on\s+another\s+note)\b", re.IGNORECASE)
# 'one' standing for a noun said before: "a similar one for mice", "another one", "which ones".
ONE_ANAPHORA = re.compile(r"\b(?:similar|another|other|same|different|comparable|this|that|which|the)\s+ones?\b(?!\s+of)",
                          re.IGNORECASE)
MOVE = re.compile(r"\b(?:similar|another|comparable|analogous|equivalent)\b", re.IGNORECASE)
WH_START = re.compile(r"^\W*(?:(?:and|or|but|so|also|then)\s+)*(?:what|which|who|whom|whose|why|when|where|how)\b",
                      re.IGNORECASE)
CLAUSE_BOUNDARY = re.compile(r"[,;:]|\b(?:and|but|or|which|that|while|whereas|when|so)\b", re.IGNORECASE)
MAX_CARRIED_WORDS = 8  # words carried from the earlier turn: its first (the topic) and its latest; the follow-up's own
KEPT_TOPIC_WORDS = 3  # words all count


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
    focus: Focus | None = None  # what the answer must be about; None: the search query alone


def tokens(question: str) -> list[str]:
    """The question's words, compound names split as the answerer splits them ('p53-MDM2' -> p53, MDM2)."""
    return [p for t in TOKEN.findall(question) for p in split_joined(t.strip("-–—/")) if p]


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
    shift: bool = False  # "Unrelated: …", "Different question: …"
    polar: bool = False  # a yes/no question: "Did they try neratinib?", "Is it also found in mice?"
    move: bool = False  # asks for another source like the last: "a similar one for …", "another figure on …"


def cues_of(question: str) -> Cues:
    """Read the anaphora and ellipsis cues of a question."""
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", DUMMY_IT.sub(" ", question))]  # it's -> it, s
    body = list(words)
    while body and body[0] in CONJUNCTIONS:
        body.pop(0)
    pairs = list(zip(["^", *words], [*words, "$"]))
    # 'that' points back before a noun ("that pathway"), after a verb ("is that", "do that") or at the end;
    # 'there' does unless it is existential ("is there", "there are").
    demonstrative = any(w in DEMONSTRATIVES - {"that"} for w in words) or any(
        b == "that" and (a in AUXILIARIES or a in PREPOSITIONS) for a, b in pairs) or any(
        a == "that" and (c in GENERIC_NOUNS or c in AUXILIARIES or c == "$") for a, c in pairs) or any(
        a == "there" and b not in BE and c not in BE for (c, a), (_, b) in zip(pairs, pairs[1:]))
    definite = any(a == "the" and (b in GENERIC_NOUNS or b in NUMBERS) for a, b in zip(words, words[1:]))
    demonstrative = demonstrative or ONE_ANAPHORA.search(question) is not None  # "a similar one", "which ones"
    clause = any(w in AUXILIARIES for w in body) or (any(w in WH_WORDS for w in body) and len(body) > 4)
    fragment = bool(body) and not clause and (len(body) <= 4 or body[0] in PREPOSITIONS)
    return Cues(pronoun=any(w in PRONOUNS for w in words), possessive=any(w in POSSESSIVES for w in words),
                demonstrative=demonstrative,
                definite=definite, lead_in=LEAD_IN.search(question) is not None,
                conjunction=bool(words) and words[0] in CONJUNCTIONS, fragment=fragment or not body,
                shift=TOPIC_SHIFT.search(question) is not None, polar=bool(body) and body[0] in AUXILIARIES,
                move=MOVE.search(question) is not None)


def same_name(a: str, b: str) -> bool:
    """Two spellings of one name (HER2, her2; NF-κB, NF-kB; caspase, caspases), or one inside the other (ERK1/2,
    Ras-ERK1/2)."""
    if mentions(a, b) or mentions(b, a):
        return True
    return not is_entity(a) and not is_entity(b) and _STEM.stemWord(a.lower()) == _STEM.stemWord(b.lower())


def named_before(name: str, earlier: list[Topic]) -> bool:
    """The name appeared in an earlier turn."""
    return any(same_name(name, n) for t in earlier for n in t.names)


def bound_inside(question: str, new_names: list[str]) -> bool:
    """A pronoun whose antecedent is a new name earlier in the question, across a clause boundary: "How does EGFR
    signal, and what inhibits it?" (within one clause, "Does YAP bind it?", the pronoun cannot be the subject)."""
    text = DUMMY_IT.sub(" ", question)
    pronoun = re.search(r"\b(?:it|they|them)\b", text, re.IGNORECASE)
    names = [m.start() for n in new_names if (m := re.search(re.escape(n), text))]
    return bool(pronoun and names) and min(names) < pronoun.start() and CLAUSE_BOUNDARY.search(
        text[min(names):pronoun.start()]) is not None


def leans_back(question: str, own: Topic, cues: Cues, new_names: list[str]) -> bool:
    """Whether the question needs an earlier turn to be understood (`new_names`: its names no earlier turn used)."""
    if cues.shift:
        return False
    if cues.demonstrative or cues.lead_in:
        return True
    if cues.pronoun:
        return not bound_inside(question, new_names)
    if cues.possessive:  # "How does EGFR affect its ligands?": 'its' points at the question's own new name
        return not new_names
    if cues.fragment:  # a bare list of names is a keyword query; "and YAP?" or "in mice?" is an ellipsis
        return not own.names or cues.conjunction
    # "And in the noncanonical route, which caspases …?": opening with 'and' continues the topic it names none of
    return (cues.definite or cues.conjunction) and not own.names


def shares_names(own: Topic, topic: Topic) -> bool:
    """An earlier turn named one of the question's names."""
    return any(same_name(n, m) for n in own.names for m in topic.names)


def shared_words(own: Topic, topic: Topic) -> int:
    """How many of the question's content words (by stem) an earlier turn used."""
    stems = set(_STEM.stemWords(topic.words))
    return sum(s in stems for s in _STEM.stemWords(own.words))


def antecedent(own: Topic, earlier: list[Topic], back_reference: bool) -> Topic | None:
    """The latest turn that named one of the question's names; for "going back to the caspase figure …" the turn
    sharing most of its words; else the latest turn about anything."""
    named = [t for t in earlier if shares_names(own, t)]
    if named:
        return named[-1]
    if back_reference:  # "back to …" points past the latest turn: to the one it names, or to none
        best = max(range(len(earlier)), key=lambda i: (shared_words(own, earlier[i]), i))
        return earlier[best] if shared_words(own, earlier[best]) else None
    return next((t for t in reversed(earlier) if t), None)


def resolve(question: str, earlier: list[Topic], known: Callable[[str], bool] = lambda _: False) -> Resolution:
    """The standalone query for a question, given what the earlier turns were about (oldest first)."""
    own = topic_of(question, known)
    cues = cues_of(question)
    back = BACK_REFERENCE.search(question) is not None
    new_names = [n for n in own.names if not named_before(n, earlier)]
    before = antecedent(own, earlier, back) if earlier and leans_back(question, own, cues, new_names) else None
    if before is None:
        return Resolution(question, own)
    substitute = new_names and not (cues.pronoun or cues.demonstrative or cues.possessive)
    # "What about YAP?" asks the earlier question of a new name: the new names replace the old ones.
    names = own.names if substitute else unique(before.names + own.names)
    # "A similar one for the brain?" wants another source on the same genes, not the last one's details again.
    carried = [] if cues.move else before.words
    if len(carried) > MAX_CARRIED_WORDS:  # a long chain: keep what it began with and what it said last
        carried = carried[:KEPT_TOPIC_WORDS] + carried[-(MAX_CARRIED_WORDS - KEPT_TOPIC_WORDS):]
    words = unique(carried + own.words)
    if not words and not names:
        return Resolution(question, own)
    # The answer must name the follow-up's own entities, or else the ones its pronouns stand for.
    focus = [n for n in own.names if is_entity(n)] or [n for n in names if is_entity(n)]
    # What a yes/no question or a fragment adds is what it asks about ("Did they try neratinib?", "And in
    # zebrafish?"): the passages must mention it. A wh-question's other words only narrow the answer, which may
    # word them differently (gasdermin D as GSDMD).
    # A new name it brings ("… in Drosophila?") is asked about in any form of question.
    asked = [n for n in new_names if not is_entity(n)]
    wh_fragment = cues.fragment and WH_START.match(question) is not None  # "Which inhibitors?" asks like a wh-question
    asked += own.words if cues.polar or cues.lead_in or (cues.fragment and not wh_fragment) else []
    return Resolution(" ".join(names + words), Topic(names, words), carried=True,
                      focus=Focus(entities=focus, words=asked))
