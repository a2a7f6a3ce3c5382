"""Sentence-aware chunks that carry their record's metadata."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable

from sentencex import segment

from litassist.index.records import Chunk, Figure, Paper, Record

TokenCounter = Callable[[str], int]

# sentencex knows "et al.", "Fig.", "e.g." and decimals, but splits after these plural/citation
# abbreviations common in papers ("Figs. 3 and 4"); a split right after one is undone.
_NO_SPLIT_AFTER = re.compile(r"(?:\b(?:Figs|Refs|Eqs|Tabs|approx|ca|cf|resp|Suppl|Supp|No|Nos|vol|pp|ref)\.)\s*$", re.I)
_WORDPIECE = re.compile(r"\w+|[^\w\s]")
# Genes listed in a figure chunk's searchable context; real PFOCR records can list hundreds.
MAX_CONTEXT_GENES = 60
# Control characters (a stray NUL in a text file, unmapped PDF glyphs) are never quotable text.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# Characters per token of budget a chunk may hold at most: the tokenizer reads a long unbroken string (a pasted
# sequence, base64) as one unknown token, so a token budget alone would let one chunk grow without bound.
CHARS_PER_TOKEN = 8


def approx_tokens(text: str) -> int:
    """A model-free estimate of word-piece tokens (words and punctuation, plus a margin for splits)."""
    return int(len(_WORDPIECE.findall(text)) * 1.3) + 1


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences with a maintained splitter, mending splits after citation abbreviations."""
    text = re.sub(r"\s+", " ", _CONTROL.sub(" ", text)).strip()
    if not text:
        return []
    sentences: list[str] = []
    for piece in segment("en", text):
        piece = piece.strip()
        if sentences and _NO_SPLIT_AFTER.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        elif piece:
            sentences.append(piece)
    return sentences


def words_of(sentence: str, limit: int) -> list[str]:
    """The sentence's words, a word longer than the whole character budget cut into pieces that fit."""
    step = limit * CHARS_PER_TOKEN
    return [word[i : i + step] for word in sentence.split() for i in range(0, len(word), step)]


def pack(parts: Iterable[tuple[str, int]], limit: int) -> list[tuple[str, int]]:
    """Greedily join (text, token count) parts with spaces into (piece, token count) pairs of at most `limit`
    tokens (bounded count)."""
    # Word pieces never span a space, so a joined piece's count is the sum of its parts' counts: each part is
    # tokenized once instead of re-tokenizing the growing piece (the tokenizer was most of the chunking time).
    pieces: list[tuple[str, int]] = []
    current: list[str] = []
    tokens = chars = 0
    for part, part_tokens in parts:
        joined_chars = chars + len(part) + (1 if current else 0)
        if current and max(tokens + part_tokens, joined_chars // CHARS_PER_TOKEN) > limit:
            pieces.append((" ".join(current), tokens))
            current, tokens, joined_chars = [], 0, len(part)
        current.append(part)
        tokens, chars = tokens + part_tokens, joined_chars
    return pieces + ([(" ".join(current), tokens)] if current else [])


def split_long(sentence: str, limit: int, count: TokenCounter) -> list[tuple[str, int]]:
    """Cut a sentence that alone exceeds the limit at word boundaries; (piece, token count) pairs."""
    return pack(((word, count(word)) for word in words_of(sentence, limit)), limit)


def group_sentences(sentences: Iterable[str], limit: int, count: TokenCounter) -> list[str]:
    """Greedily pack whole sentences into pieces of at most `limit` tokens."""
    parts: list[tuple[str, int]] = []
    for sentence in sentences:
        tokens = count(sentence)
        too_long = max(tokens, len(sentence) // CHARS_PER_TOKEN) > limit
        parts += split_long(sentence, limit, count) if too_long else [(sentence, tokens)]
    return [piece for piece, _ in pack(parts, limit)]


def chunk_id(source_id: str, position: int, text: str, context: str) -> str:
    """Stable id from content, so unchanged text maps to the same chunk (and embedding) again."""
    digest = hashlib.sha1(f"{source_id}\x1f{position}\x1f{context}\x1f{text}".encode()).hexdigest()
    return digest[:24]


def figure_context(figure: Figure, max_genes: int = MAX_CONTEXT_GENES) -> str:
    """Searchable, non-quotable context of a figure: title, paper title and genes."""
    lines = [f"Figure {figure.label}: {figure.figtitle or ''}".strip(), figure.papertitle or ""]
    if figure.genes and max_genes > 0:
        lines.append("Genes: " + ", ".join(figure.genes[:max_genes]))
    return "\n".join(line for line in lines if line)


def bounded_context(figure: Figure, limit: int, count: TokenCounter) -> str:
    """Figure context cut to at most `limit` tokens by listing fewer genes, so the caption stays in the window."""
    genes = MAX_CONTEXT_GENES
    context = figure_context(figure, genes)
    while count(context) > limit and genes > 0:
        genes //= 2
        context = figure_context(figure, genes)
    return context


def sections(record: Record) -> list[tuple[str, int | None]]:
    """The quotable text of a record, as (text, page) sections."""
    if isinstance(record, Figure):
        return [(record.caption or record.figtitle or "", None)]
    # A PDF's abstract is also on its first page: index it once, with the page number.
    found = [(record.abstract, None)] if record.abstract and not record.body else []
    found += [(page, number) for number, page in enumerate(record.body, start=1) if page.strip()]
    # Many MEDLINE and BibTeX records have no abstract: their title is then the only text to quote.
    return found or ([(record.title, None)] if record.title else [])


def full_text_parts(paper: Paper) -> list[tuple[str, str, str]]:
    """(section title, context, text) of a full text by section: the abstract, then each section; the context is
    the paper's title and the section's titles, searchable but not quoted."""
    parts = [("Abstract", "Abstract", paper.abstract)] if paper.abstract else []
    parts += [(s.title, "\n".join(t for t in (s.title, s.subtitle) if t), s.text) for s in paper.sections]
    return [(title, "\n".join(t for t in (paper.title, where) if t), text) for title, where, text in parts]


def chunk_sections(paper: Paper, max_tokens: int, count: TokenCounter) -> list[Chunk]:
    """Chunk a full text section by section: no chunk spans two sections, and each says which it is from."""
    chunks: list[Chunk] = []
    for title, context, text in full_text_parts(paper):
        budget = max(32, max_tokens - count(context))
        for piece in group_sentences(split_sentences(text), budget, count):
            position = len(chunks)
            chunks.append(Chunk(
                id=chunk_id(paper.source_id, position, piece, context), source_id=paper.source_id, kind="paper",
                position=position, text=piece, context=context, section=title,
            ))
    return chunks


def chunk_record(record: Record, *, max_tokens: int, count: TokenCounter = approx_tokens) -> list[Chunk]:
    """Chunk one record; each chunk keeps the record's id, kind and its title or figure context."""
    if isinstance(record, Paper) and record.sections:
        return chunk_sections(record, max_tokens, count)
    # Context may take at most half the window: the model reads only 256 tokens, and the quotable text must fit.
    texts = sections(record)
    context = (bounded_context(record, max_tokens // 2, count) if isinstance(record, Figure)
               else "" if texts == [(record.title, None)] else record.title or "")
    # The context is embedded with every chunk, so it shares the model's window with the text.
    budget = max(32, max_tokens - count(context))
    chunks: list[Chunk] = []
    for text, page in texts:
        for piece in group_sentences(split_sentences(text), budget, count):
            position = len(chunks)
            chunks.append(Chunk(
                id=chunk_id(record.source_id, position, piece, context), source_id=record.source_id,
                kind=record.kind, position=position, text=piece, context=context, page=page,
            ))
    return chunks


def chunk_records(records: Iterable[Record], *, max_tokens: int, count: TokenCounter = approx_tokens) -> list[Chunk]:
    """Chunk many records in order."""
    return [chunk for record in records for chunk in chunk_record(record, max_tokens=max_tokens, count=count)]

