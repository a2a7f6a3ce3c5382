"""What a sentence or a question does in discourse: a sentence that leans on the one before it, a question that
asks for a list. Plain text in, yes or no out (no index, no model)."""

from __future__ import annotations

import re

# Sentence openers that point back to something said before: "It", "These effects", "Such cells", "Both".
_POINTING = {"it", "its", "they", "their", "them", "he", "she", "his", "her", "this", "these", "that", "those",
             "such", "both", "either", "neither"}
# "This study shows …" points at the source itself, which its citation names: it stands alone.
_SELF = {"study", "work", "paper", "review", "article", "report", "trial", "analysis", "investigation",
         "research", "survey", "meta-analysis", "chapter", "cohort", "figure", "diagram", "schematic", "model"}
# "It is known that …", "It was found to …": 'it' stands for the clause that follows, not for an earlier noun.
_EXPLETIVE = re.compile(r"^it (is|was|has been|had been|remains|remained|seems|seemed|appears|appeared|becomes|"
                        r"became)( \S+){0,3}? (that|to|whether|if|how|why|when|since)\b")
# "The latter", "The two": a definite phrase that only an earlier sentence can fill in.
_BACK_PHRASE = re.compile(r"^the (latter|former|same|two|three|four|above|aforementioned|resulting)\b")
# "The gene may …", "The main toxicity is …": 'the' and one or two ordinary words as the whole subject.
_VERBISH = ("is|are|was|were|has|have|had|may|might|can|could|would|should|will|must|also|then|thus|therefore|"
            "further|still|itself|themselves|alone|however|likewise|similarly|too")
_BARE_DEFINITE = re.compile(rf"^the( [a-z][a-z-]*){{1,2}} ({_VERBISH})\b")
# A short lead-in before the subject: a connective or an adverb ("However,", "Importantly,"), or a prepositional
# phrase ("In mice,", "In patients with positive lymph nodes it was …"); not a subject ("Various molecules, such as").
_PREPOSITION = r"(?:in|at|for|among|with|within|during|after|before|under|on|upon|across|from|unlike|like|by|despite)"
_LEAD_IN = re.compile(r"^(?:(?:however|thus|therefore|moreover|furthermore|hence|consequently|accordingly|also|"
                      r"finally|indeed|instead|nevertheless|nonetheless|overall|together|taken together|"
                      r"in addition|in contrast|in conclusion|in summary|[a-z]+ly|"
                      rf"{_PREPOSITION}(?: [\w-]+){{1,6}}), |{_PREPOSITION} (?:[a-z][\w-]*(?: |$)){{1,6}}"
                      r"(?=(?:it|they|this|these) ))", re.IGNORECASE)
_NAME = re.compile(r"\b(?=\S*\d|\S*[A-Z]\S*[A-Z])[\w-]+")  # a gene-like name: a digit, or two capitals (HER2, NF-kB)
_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")


def dangling(sentence: str) -> bool:
    """The sentence opens with a reference only an earlier sentence resolves: a pronoun or demonstrative ('It',
    'These effects', 'There,'), a bare definite ('The gene may …', 'The latter'), also after a short lead-in that
    names nothing ('However, this …', 'In mice, they …')."""
    text = sentence.strip()
    if text.lower().startswith("there,"):
        return True  # 'There, MKP1 removes …': a place named before
    lead = _LEAD_IN.match(text)
    if lead and not _NAME.search(lead.group(0)):
        text = text[lead.end():]
    lowered = text.lower()
    words = _WORD.findall(lowered)
    if not words or not (text[:1].isupper() or lead):  # 'he present experiment …' is a broken fragment, not 'He'
        return False
    if words[0] in _POINTING:  # "It (Vaxchora) has …": the name in brackets resolves it
        named = re.match(r"\w+ \(", lowered) is not None
        return not (named or _EXPLETIVE.match(lowered) or (len(words) > 1 and words[1] in _SELF))
    return bool(_BACK_PHRASE.match(lowered) or _BARE_DEFINITE.match(lowered))


# Words that end the look-ahead after 'which'/'what': a verb or auxiliary comes before any plural noun.
_AUX = {"is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "can", "could", "may", "might",
        "will", "would", "should", "must"}
_SKIP = {"of", "the", "these", "those", "all", "other"}  # "which of the figures …", "what other genes …"
_SINGULAR_AUX = {"is", "was", "has", "does"}


_SINGULAR = ("ss", "us", "is")  # analysis, process, virus: a singular noun that ends in s


def plural(word: str) -> bool:
    """A plural-looking noun: caspases, figures, pathways; not analysis, process, virus."""
    return len(word) > 3 and word.endswith("s") and not word.endswith(_SINGULAR) and word not in _AUX


def asks_for_list(question: str) -> bool:
    """A wh-question asking for several things ('Which figures …', 'Which inflammasome sensors …', 'What are the …',
    'What genes are …', 'List …', 'Name …'), the wh-word opening the question or a clause after a comma or 'and'."""
    words = _WORD.findall(question.lower())
    if words[:1] in (["list"], ["name"], ["enumerate"]):
        return True
    for clause in re.split(r",|;|\band\b|\bbut\b|\bso\b", question.lower()):
        words = _WORD.findall(clause)
        if not words or words[0] not in ("which", "what"):
            continue
        start = next((i for i, w in enumerate(words[1:], start=1) if w not in _SKIP), len(words))
        rest = words[start:start + 4]
        if words[0] == "what":  # 'what causes …' is one thing; 'what are the …', 'what genes are …' several
            return words[1:2] in (["are"], ["were"]) or (len(rest) > 1 and plural(rest[0]) and rest[1] in _AUX)
        for position, word in enumerate(rest[:3]):
            if word in _AUX or word.endswith(_SINGULAR):  # the verb, or a singular head noun, comes first
                return False
            if plural(word):
                following = rest[position + 1] if position + 1 < len(rest) else ""
                # "Which species is …": a singular verb. After a first noun, a word ending in s is as often the verb
                # of a singular head ("Which company produces …", "Which transcription factor controls …") as a
                # plural head ("Which cancer types are …"): only a plural auxiliary after it tells.
                return following in _AUX - _SINGULAR_AUX if position else following not in _SINGULAR_AUX
        return False
    return False


# The plural a list question names, when it names a kind of source: "Which figures …", "List the papers …".
_KIND_NOUNS = {"figure": {"figures", "diagrams", "schematics", "illustrations"},
               "paper": {"papers", "articles", "studies", "publications", "abstracts", "reports"}}


def listed_kind(question: str) -> str | None:
    """'figure' or 'paper' when a list question asks for that kind of source, else None."""
    if not asks_for_list(question):
        return None
    words = set(_WORD.findall(question.lower())[:6])  # the head noun comes early: "which (of the) figures …"
    found = [kind for kind, nouns in _KIND_NOUNS.items() if words & nouns]
    return found[0] if len(found) == 1 else None
