"""PFOCR pathway-figure records: Markdown with YAML front matter, both schema generations."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from litassist.index.errors import LoadError
from litassist.index.loaders.fields import year_of
from litassist.index.loaders.text import read_text
from litassist.index.records import Figure

# PFOCR exports R's missing value as this string; '' and 'NA' also mean "unknown".
MISSING = {".na.character", "", "NA", "na", "None", "null"}
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
# PFOCR front matter nests three levels at most; deeper input is hostile (and would exhaust Python's stack).
_MAX_DEPTH = 20


class FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader (no Python tags) that also refuses aliases and deep nesting.

    PFOCR records never use anchors; an alias is how a "billion laughs" document grows exponentially once read.
    """

    depth = 0

    def compose_node(self, parent, index):  # noqa: ANN001, ANN201  (PyYAML's own signature)
        """Compose one node, refusing aliases and anything nested deeper than _MAX_DEPTH."""
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", mark)
        if self.depth >= _MAX_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nested more than {_MAX_DEPTH} levels deep",
                                              self.peek_event().start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def yaml_problem(exc: yaml.YAMLError) -> str:
    """'line N: what is wrong', counting lines of the whole file (the front matter starts on line 2)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if "constructor for the tag" in problem:
        tag = problem.split()[-1].strip("'").replace("tag:yaml.org,2002:", "!!")
        problem = f"tag '{tag}' is not allowed (Python and custom tags are refused)"
    return f"line {mark.line + 2}: {problem}" if mark else problem


def looks_like(head: str) -> bool:
    """True when the text opens with YAML front matter that names a figid."""
    return head.lstrip("\ufeff").startswith("---") and re.search(r"^figid:", head, re.MULTILINE) is not None


def clean(value: Any) -> Any:
    """Map PFOCR's missing-value markers to None; strip strings."""
    if isinstance(value, str):
        value = value.strip()
        return None if value in MISSING else value
    return value


def as_list(value: Any) -> list[str]:
    """A YAML scalar or list as a list of present strings."""
    items = value if isinstance(value, list) else [value]
    return [str(c) for c in (clean(v) for v in items) if c is not None and not isinstance(c, (dict, list))]


def unique(items: list[str]) -> list[str]:
    """Drop case-insensitive repeats, preferring the upper-case (human HGNC) spelling."""
    best: dict[str, str] = {}
    for item in items:
        key = item.upper()
        if key not in best or (item.isupper() and not best[key].isupper()):
            best[key] = item
    return list(best.values())


def front_matter(path: Path) -> dict[str, Any]:
    """Parse the YAML front matter safely (no Python tags, aliases or deep nesting) into a dict."""
    match = _FRONT_MATTER.match(read_text(path))
    if not match:
        raise LoadError(path, "no closed YAML front matter (expected '---' ... '---')")
    try:
        data = yaml.load(match.group(1), Loader=FrontMatterLoader)  # noqa: S506  (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise LoadError(path, f"invalid YAML front matter at {yaml_problem(exc)}") from exc
    if not isinstance(data, dict):
        raise LoadError(path, "YAML front matter is not a mapping of fields")
    return data


def genes_of(data: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Gene symbols from the older `genes:` list or the newer schema-jsonld keywords."""
    words: dict[str, str] = {}
    symbols: list[str] = []
    for gene in data.get("genes") or []:
        if isinstance(gene, dict) and clean(gene.get("hgnc_symbol")):
            symbol = str(clean(gene["hgnc_symbol"]))
            symbols.append(symbol)
            for word in str(clean(gene.get("word")) or "").split(","):
                if word.strip("()*[] "):
                    words[word.strip("()*[] ")] = symbol
    schema = data.get("schema-jsonld")
    if isinstance(schema, dict):
        symbols += as_list(schema.get("keywords"))
    return unique(symbols), words


def year(value: Any) -> int | None:
    """A four-digit year from '2023', 2023 or '' (missing)."""
    return year_of(clean(value))


def keywords_of(value: Any) -> list[str]:
    """Author keywords, which PFOCR joins with ' | '."""
    if isinstance(value, list):
        return as_list(value)
    return [k.strip() for k in str(clean(value) or "").split("|") if k.strip()]


def to_figure(data: dict[str, Any], path: Path) -> Figure:
    """Build a Figure from parsed front matter."""
    figid = clean(data.get("figid"))
    if not figid:
        raise LoadError(path, "PFOCR record has no figid")
    genes, words = genes_of(data)
    get = lambda key: (None if clean(data.get(key)) is None else str(clean(data.get(key))))  # noqa: E731
    return Figure(
        source_id=str(figid), figid=str(figid), number=get("number"), figtitle=get("figtitle"),
        caption=get("caption") or "", organisms=[o for o in as_list(data.get("organisms"))],
        genes=genes, gene_words=words, keywords=keywords_of(data.get("keywords")),
        papertitle=get("papertitle"), reftext=get("reftext"), pmcid=get("pmcid"),
        figlink=get("figlink"), year=year(data.get("year")) or year(get("reftext")),
        doi=get("doi"), journal=get("journal_title"),
    )


def load(path: Path) -> list[Figure]:
    """Load one PFOCR figure record."""
    return [to_figure(front_matter(path), path)]
