"""Which loader reads an .xml or .json file, by what it holds: PubMed XML, JATS or BioC; CSL-JSON or BioC JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from litassist.index.errors import LoadError
from litassist.index.loaders import bioc, jats, pubmed, refman, safe_xml
from litassist.index.loaders.text import read_text
from litassist.index.records import Record

Loader = Callable[[Path], list[Record]]


def xml_loader(path: Path) -> Loader:
    """JATS for an <article> or <pmc-articleset> root, BioC for <collection>, else PubMed XML (which names the
    fault of a malformed file by line and column)."""
    root = safe_xml.root_name(path)
    if root in jats.ROOTS:
        return jats.load
    if root == "collection":
        return bioc.load_xml
    if root is None or root.startswith("Pubmed"):
        return pubmed.load_xml
    return unknown_xml


def unknown_xml(path: Path) -> list[Record]:
    """LoadError naming the XML formats litassist reads."""
    root = safe_xml.root_name(path)
    raise LoadError(path, f"not a supported XML format: the root <{root}> is none of <PubmedArticleSet> (PubMed), "
                          "<article> or <pmc-articleset> (JATS) and <collection> (BioC)")


def json_loader(path: Path) -> Loader:
    """BioC JSON when the file holds 'documents' lists, otherwise CSL-JSON (which names any JSON error)."""
    try:
        data = json.loads(read_text(path))
    except (ValueError, LoadError):
        return refman.load_csl_json
    return bioc.load_json if bioc.looks_like_json(data) else refman.load_csl_json
