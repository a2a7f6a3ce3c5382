"""lxml set up so that no XML file can reach outside itself or blow up in memory, plus helpers for its text.

Entities are never expanded (no billion-laughs bomb, no `SYSTEM "file:///etc/passwd"` inclusion), no DTD is
loaded and nothing is fetched from the network; a file that declares entities of its own is refused outright,
since no JATS or BioC file needs them. huge_tree stays off: libxml2 keeps its limits on depth and text size.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from litassist.index.errors import LoadError

_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}


def parse(path: Path) -> etree._Element:
    """The root element of an XML file, parsed safely; LoadError for malformed XML or declared entities."""
    parser = etree.XMLParser(remove_comments=True, remove_pis=True, dtd_validation=False, **_OPTIONS)
    try:
        root = etree.fromstring(path.read_bytes(), parser)
    except OSError as exc:
        raise LoadError(path, f"cannot read: {exc.strerror or exc}") from exc
    except etree.XMLSyntaxError as exc:
        raise LoadError(path, f"malformed XML at line {exc.lineno}, column {exc.offset}: {exc.msg}") from exc
    if root is None:
        raise LoadError(path, "empty file")
    refuse_entities(path, root)
    return root


def refuse_entities(path: Path, root: etree._Element) -> None:
    """LoadError when the document declares entities: they are never expanded, and no real article needs them."""
    dtd = root.getroottree().docinfo.internalDTD
    names = [entity.name for entity in dtd.iterentities()] if dtd is not None else []
    if names:
        raise LoadError(path, f"the XML declares its own entities (<!ENTITY {names[0]} …>), which are not read: "
                              "a possible entity bomb or file inclusion")


def root_name(path: Path) -> str | None:
    """The local name of the root element, read without parsing the rest; None when that cannot be read."""
    try:
        for _, element in etree.iterparse(str(path), events=("start",), **_OPTIONS):
            return etree.QName(element).localname
    except (etree.XMLSyntaxError, OSError, ValueError):
        return None
    return None


def local(element: etree._Element) -> str:
    """An element's tag without its namespace ('' for comments and entity references)."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def text_of(element: etree._Element | None, skip: Iterable[str] = ()) -> str:
    """All text inside the element, whitespace squashed, leaving out the subtrees of `skip` tags (their tails stay)."""
    if element is None:
        return ""
    skipped = frozenset(skip)
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if local(node) in skipped:
            return
        if isinstance(node.tag, str) and node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return " ".join("".join(parts).split())


def children(element: etree._Element | None, name: str) -> list[etree._Element]:
    """The element's direct children with this local name."""
    return [child for child in element if local(child) == name] if element is not None else []


def first(element: etree._Element | None, *path: str) -> etree._Element | None:
    """The first element down this path of local names, or None."""
    node = element
    for name in path:
        found = children(node, name)
        if not found:
            return None
        node = found[0]
    return node
