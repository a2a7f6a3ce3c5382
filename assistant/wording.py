"""Comparing wordings: one word in British or American spelling, one statement said twice."""

from __future__ import annotations

import re

import Stemmer

from litassist.index.records import Passage

from litassist.assistant.synonyms import TOKEN, is_common_word

_STEM = Stemmer.Stemmer("english")
# British spellings, compared as American ones (the corpus may use either).
_SPELLINGS = [(re.compile(r"oe|ae"), "e"), (re.compile(r"our(s?)\b"), r"or\1"),
              (re.compile(r"([iy])s(e|ed|es|ing|ation)\b"), r"\1z\2")]
MIN_REPEAT_WORDS = 8  # a shorter sentence counts as a repeat only when its words are the same


def content_words(sentence: str) -> frozenset[str]:
    """A sentence's words and numbers, lower case ('IL-6' -> il, 6: IL-6 and IL-8 stay apart)."""
    return frozenset(re.findall(r"[a-z0-9α-ω]+", sentence.lower()))


def repeats(words: frozenset[str], seen: list[frozenset[str]]) -> bool:
    """The sentence says again what one already found says: every word of the shorter is in the longer ("In
    conclusion, HER2 raises CXCR4 …" after "HER2 raises CXCR4 …", as a paper's conclusion repeats its abstract);
    one word apart is another statement ("raises" / "lowers")."""
    for other in seen:
        shorter = min(len(words), len(other))
        if words == other or (shorter >= MIN_REPEAT_WORDS and len(words & other) == shorter):
            return True
    return False


def spelling_key(word: str) -> str:
    """A word's stem in American spelling, cut to 6 letters: oesophageal ~ esophageal, metastasise ~ metastasis."""
    word = word.lower()
    for pattern, american in _SPELLINGS:
        word = pattern.sub(american, word)
    return _STEM.stemWord(word)[:6]


def unmentioned(words: list[str], passages: list[Passage]) -> list[str]:
    """The rare words (not everyday English) that no retrieved passage uses, in any spelling or inflection."""
    words = [w for w in words if len(w) >= 4 and not is_common_word(w)]
    if not words:
        return []
    used = {spelling_key(t) for p in passages for t in TOKEN.findall(p.chunk.search_text)}
    return [w for w in words if spelling_key(w) not in used]
