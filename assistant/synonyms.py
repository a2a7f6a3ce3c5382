"""Gene and protein synonyms for query expansion: a built-in table, an optional HGNC export, PFOCR's own gene lists."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from litassist.index.embedding import resolve_model
from litassist.assistant.errors import SynonymFileError

_GREEK = str.maketrans({"Α": "A", "Β": "B", "Γ": "G", "Δ": "D", "Ε": "E", "Κ": "K"})
_GREEK_WORDS = re.compile(r"ALPHA|BETA|GAMMA|DELTA|KAPPA")
_GENE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]{1,14}[A-Za-z0-9]")  # one name, no OCR debris ('IKK1/2-/-', 'N-Ras(')
TOKEN = re.compile(r"[A-Za-z0-9α-ωΑ-Ω][A-Za-z0-9α-ωΑ-Ω\-–—/]*")  # a word, compound names kept whole (NF-κB)
MAX_NAMES = 12  # most names one term expands to (a family with many aliases would swamp the BM25 query)


def norm(name: str) -> str:
    """Comparison key: upper case, Greek letters as Latin (α, alpha -> A), no dashes, spaces or dots."""
    key = re.sub(r"[-–—\s.]", "", name.strip().upper().translate(_GREEK))
    return _GREEK_WORDS.sub(lambda m: m.group(0)[0], key) if len(key) > 5 else key


_vocabulary = {"model": ""}  # the configured embedding model, as settings name it ('' is the bundled one)


def use_vocabulary_of(model: str) -> None:
    """Take common words from this embedding model's vocabulary (Components calls it with the configured model)."""
    _vocabulary["model"] = model


def common_words() -> frozenset[str]:
    """Common words: whole lower-case words of the configured model's vocabulary ('cat', 'set', 'trail', 'kit')."""
    return words_of(_vocabulary["model"])


@lru_cache(maxsize=4)
def words_of(model: str) -> frozenset[str]:
    """The whole lower-case ASCII words of a model's vocab.txt (none when its folder has no such file)."""
    vocab = Path(resolve_model(model)) / "vocab.txt"
    words = vocab.read_text(encoding="utf-8").split() if vocab.is_file() else []
    return frozenset(w for w in words if w.isalpha() and w.islower() and w.isascii())


def is_common_word(name: str) -> bool:
    """True for names a reader would take as an ordinary word ('TRAIL', 'raptor'), which need care."""
    return name.isalpha() and name.lower() in common_words()


def specific(name: str) -> bool:
    """Long or distinctive enough to search for: three characters or a digit ('NEU', 'p53'; not 'AR', 'HD')."""
    return len(norm(name)) >= 3 or any(c.isdigit() for c in name)


@dataclass
class GeneRow:
    """One gene: its approved symbol and the other names it goes by."""

    symbol: str
    aliases: list[str]


def split_names(value: str) -> list[str]:
    """HGNC's '"NEU|HER-2|CD340"' (quoted, pipe-separated) as a list of names."""
    return [n.strip() for n in value.strip().strip('"').split("|") if n.strip()]


def read_gene_rows(lines: Iterable[str], source: str) -> list[GeneRow]:
    """Rows of a TSV with the HGNC columns symbol, alias_symbol and prev_symbol ('#' lines are comments)."""
    reader = csv.reader((line for line in lines if line.strip() and not line.startswith("#")), delimiter="\t")
    header = [h.strip() for h in next(reader, [])]
    if "symbol" not in header:
        raise SynonymFileError(f"{source}: no 'symbol' column (expected an HGNC export with symbol, "
                               "alias_symbol, prev_symbol)")
    cols = [header.index(c) for c in ("alias_symbol", "prev_symbol") if c in header]
    rows = []
    for row in reader:
        symbol = row[header.index("symbol")].strip() if len(row) > header.index("symbol") else ""
        if symbol:
            rows.append(GeneRow(symbol, [n for c in cols if c < len(row) for n in split_names(row[c])]))
    return rows


def read_families(lines: Iterable[str]) -> dict[str, list[str]]:
    """family name -> member symbols, from 'family<TAB>A|B|C' lines."""
    rows = csv.reader((line for line in lines if line.strip() and not line.startswith("#")), delimiter="\t")
    return {row[0]: split_names(row[1]) for row in rows if len(row) >= 2 and row[0] != "family"}


def builtin_lines(name: str) -> list[str]:
    """A data file shipped in the package (assistant/data)."""
    return resources.files("litassist.assistant").joinpath("data", name).read_text(encoding="utf-8").splitlines()


@dataclass
class SynonymTable:
    """Names that mean the same gene (symbol <-> aliases) and family names that mean several (ERK -> MAPK1, MAPK3)."""

    symbols: dict[str, str] = field(default_factory=dict)  # norm(symbol) -> symbol
    aliases: dict[str, list[str]] = field(default_factory=dict)  # norm(symbol) -> its aliases
    alias_of: dict[str, set[str]] = field(default_factory=dict)  # norm(alias) -> norm(symbol)s that use it
    families: dict[str, list[str]] = field(default_factory=dict)  # norm(family) -> member symbols

    def add_gene(self, symbol: str, aliases: Iterable[str]) -> None:
        """Record a gene's aliases (repeats and the symbol itself are ignored)."""
        key = norm(symbol)
        self.symbols.setdefault(key, symbol)
        known = {norm(a) for a in self.aliases.setdefault(key, [])}
        for alias in aliases:
            akey = norm(alias)
            if akey and akey != key and akey not in known:
                known.add(akey)
                self.aliases[key].append(alias)
                self.alias_of.setdefault(akey, set()).add(key)

    def usable(self, alias: str) -> bool:
        """An alias names one gene only and is nobody's approved symbol ('TAZ', shared, is not usable)."""
        key = norm(alias)
        return specific(alias) and len(self.alias_of.get(key, ())) == 1 and key not in self.symbols

    def names_of(self, key: str) -> list[str]:
        """A gene's symbol followed by its usable aliases."""
        return [self.symbols[key]] + [a for a in self.aliases.get(key, []) if self.usable(a)]

    def expand(self, term: str) -> list[str]:
        """Other names for a question term: a family's members, a symbol's aliases, or an alias's gene."""
        key = norm(term)
        if key in self.families:
            members = self.families[key]
            found = members + [n for m in members if norm(m) in self.symbols for n in self.names_of(norm(m))]
        elif key in self.symbols:
            found = self.names_of(key)
        elif key in self.alias_of and self.usable(term):
            found = self.names_of(next(iter(self.alias_of[key])))
        else:
            return []
        names: dict[str, str] = {}
        for name in found:  # the first spelling of each name wins; the term itself is not repeated
            if norm(name) != key:
                names.setdefault(norm(name), name)
        return list(names.values())[:MAX_NAMES]

    def knows(self, term: str) -> bool:
        """A gene, alias or family name of the table, unless it is also an ordinary word ('cap', 'set')."""
        key = norm(term)
        known = key in self.symbols or key in self.families or (key in self.alias_of and self.usable(term))
        return known and lookup_worthy(term)

    def expansions(self, question: str) -> dict[str, list[str]]:
        """Each gene-like term of a question that has other names, with those names ({'HER2': ['ERBB2', ...]})."""
        found: dict[str, list[str]] = {}
        for token, parts in lookup_tokens(question):
            # 'SDF-1' is one name; only when the whole token is unknown are 'HER2-positive' and 'ERK/JNK' split.
            for term in [token] if self.expand(token) else parts:
                if term not in found and lookup_worthy(term) and (names := self.expand(term)):
                    found[term] = names
        return found


def lookup_worthy(token: str) -> bool:
    """Gene-like as written (a digit or two capitals), or a rare word such as 'survivin' or 'neu'."""
    gene_like = any(c.isdigit() for c in token) or sum(c.isupper() for c in token) >= 2
    return not token[:1].isdigit() and (gene_like or (len(token) >= 3 and not is_common_word(token)))


def lookup_tokens(question: str) -> list[tuple[str, list[str]]]:
    """The question's tokens ('SDF-1', 'ERK1/2', 'HER2-positive'), each with its dash/slash parts."""
    found = []
    for token in TOKEN.findall(question):
        token = token.strip("-–—/")
        if token:
            found.append((token, [p for p in re.split(r"[-–—/]", token) if p]))
    return found


def bm25_terms(expansions: dict[str, list[str]]) -> list[str]:
    """Expansion names worth adding to a BM25 query: not ordinary words ('TRAIL' would match every trail)."""
    return [n for names in expansions.values() for n in names if not is_common_word(n)]


def learned_words(store: Any) -> dict[str, str]:
    """OCR word -> HGNC symbol from the indexed PFOCR figures (older generation), cached per index state."""
    cache = Path(store.home) / "synonyms-learned.json"
    try:
        saved = json.loads(cache.read_text(encoding="utf-8"))
        if saved.get("generation") == store.generation:
            return saved["words"]
    except (OSError, ValueError, AttributeError):
        pass
    words: dict[str, str] = {}
    for _, _, meta in store.scan(where={"kind": "figure"}):
        words.update(json.loads(meta.get("record", "{}")).get("gene_words") or {})
    try:
        cache.write_text(json.dumps({"generation": store.generation, "words": words}), encoding="utf-8")
    except OSError:  # a read-only data home still answers; it just scans again next time
        pass
    return words


def family_stem(word: str, symbol: str) -> bool:
    """'HDAC' -> HDAC6, 'MAPK' -> MAPK8, 'SMAD' -> SMAD4: an OCR word naming a whole family, not one gene."""
    return norm(symbol).startswith(norm(word)) and norm(symbol) != norm(word)


def add_learned(table: SynonymTable, words: dict[str, str]) -> None:
    """Add PFOCR's OCR words as aliases, skipping family stems, ordinary words and names the table gives elsewhere."""
    by_word: dict[str, set[str]] = {}
    for word, symbol in words.items():
        by_word.setdefault(norm(word), set()).add(norm(symbol))
    for word, symbol in words.items():
        key = norm(word)
        taken = (key in table.families or key in table.symbols
                 or bool(table.alias_of.get(key, set()) - {norm(symbol)}))
        clean = _GENE_WORD.fullmatch(word) and specific(word) and not is_common_word(word)
        if clean and len(by_word[key]) == 1 and not taken and not family_stem(word, symbol):
            table.add_gene(symbol, [word])


def load_synonyms(user_file: Path | None = None, store: Any = None) -> SynonymTable:
    """The built-in table, plus an HGNC-style file and the aliases PFOCR figures in the store carry."""
    table = SynonymTable()
    rows = read_gene_rows(builtin_lines("gene_aliases.tsv"), "built-in gene_aliases.tsv")
    if user_file is not None:
        try:
            rows += read_gene_rows(Path(user_file).read_text(encoding="utf-8").splitlines(), str(user_file))
        except (OSError, UnicodeDecodeError) as exc:
            raise SynonymFileError(f"cannot read the synonym file {user_file}: {exc}") from exc
    for row in rows:
        table.add_gene(row.symbol, row.aliases)
    table.families = {norm(f): members for f, members in read_families(builtin_lines("gene_families.tsv")).items()}
    if store is not None:
        add_learned(table, learned_words(store))
    return table
