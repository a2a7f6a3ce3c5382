"""BM25's tokenizer: the rule bm25s applies (lower-cased words of two or more characters, English stop words out,
Snowball stems), without importing bm25s, whose import loads scipy: a question tokenizes with the stdlib alone."""

from __future__ import annotations

import re

import Stemmer

_WORD = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's CountVectorizer pattern, as bm25s uses it
# bm25s's "en" list (itself NLTK's/Lucene's short English list): tests/test_bm25_segments.py checks the two agree.
STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
    "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with"))
_STEMMER = Stemmer.Stemmer("english")
_STEMS: dict[str, str] = {}  # word -> stem; a corpus repeats its words, and stemming is most of the time
_MAX_STEMS = 1_000_000  # a memo this large is cleared rather than grown without end


def tokenize(text: str) -> list[str]:
    """The BM25 terms of one text, repeats kept (they count); queries and chunks go through this one function."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]
    missing = [w for w in dict.fromkeys(words) if w not in _STEMS]
    if missing:
        if len(_STEMS) > _MAX_STEMS:
            _STEMS.clear()
        _STEMS.update(zip(missing, _STEMMER.stemWords(missing)))
    return [_STEMS[w] for w in words]
