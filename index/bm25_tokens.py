"""BM25's tokenizer: the rule bm25s applies (lower-cased words of two or more characters, English stop words out,
Snowball stems), without importing bm25s, whose import loads scipy: a question tokenizes with the stdlib alone."""

from __future__ import annotations

import re
import zlib

import Stemmer

_WORD = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's CountVectorizer pattern, as bm25s uses it
# bm25s's "en" list (itself NLTK's/Lucene's short English list): tests/test_bm25_segments.py checks the two agree.
STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
    "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with"))
_STEMMER = Stemmer.Stemmer("english")
_STEMS: dict[str, str] = {}  # word -> stem; a corpus repeats its words, and stemming is most of the time
_MAX_STEMS = 1_000_000  # a memo this large is cleared rather than grown without end
_HASHES: dict[str, int] = {}  # stem -> crc32, memoised as the stems are


def tokenize(text: str) -> list[str]:
    """The BM25 terms of one text, repeats kept (they count); queries and chunks go through this one function."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]
    missing = [w for w in dict.fromkeys(words) if w not in _STEMS]
    if missing:
        if len(_STEMS) > _MAX_STEMS:
            _STEMS.clear()
        _STEMS.update(zip(missing, _STEMMER.stemWords(missing)))
    return [_STEMS[w] for w in words]


def pair_keys(stems: list[str]) -> list[int]:
    """Each two neighbouring stems as one 64-bit key (their crc32s side by side): the terms of BM25's word-pair field,
    which ranks a text that says the question's words together ('breast cancer', 'tumor growth') above one that has
    them apart. Keys need no vocabulary: two stems sharing a crc32 is rare, and then only merges two pairs' counts."""
    if len(_HASHES) > _MAX_STEMS:
        _HASHES.clear()
    hashes = [_HASHES.get(s) or _HASHES.setdefault(s, zlib.crc32(s.encode())) for s in stems]
    return [(a << 32) | b for a, b in zip(hashes, hashes[1:])]
