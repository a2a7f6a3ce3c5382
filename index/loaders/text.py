"""Plain text and Markdown files, plus the text-decoding helpers every loader shares."""

from __future__ import annotations

import hashlib
from pathlib import Path

from litassist.index.errors import LoadError
from litassist.index.records import Paper

# Bytes of a file that decide whether it is text at all (binary garbage has NULs or many control bytes).
_SNIFF_BYTES = 4096


def decode(data: bytes, path: Path) -> str:
    """Decode bytes as UTF-8 (with or without BOM) or UTF-16 (with or without BOM), else Latin-1; refuse binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:  # binary formats can open with the same two bytes
            raise LoadError(path, "binary content, not a text document") from exc
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        text = decode_utf16_without_bom(data, path)
    else:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    controls = sum(1 for c in text[:_SNIFF_BYTES] if ord(c) < 32 and c not in "\r\n\t\f")
    if controls > len(text[:_SNIFF_BYTES]) * 0.05:
        raise LoadError(path, "binary content, not a text document")
    return text


def decode_utf16_without_bom(data: bytes, path: Path) -> str:
    """Text saved as UTF-16 without a BOM has a NUL in one byte of nearly every pair; anything else is binary."""
    head = data[:_SNIFF_BYTES]
    pairs = len(head) // 2
    even, odd = head[0::2].count(0), head[1::2].count(0)
    encoding = None
    if even == 0 and odd > pairs // 2:
        encoding = "utf-16-le"  # ASCII-range text: the high byte of each pair, stored second, is zero
    elif odd == 0 and even > pairs // 2:
        encoding = "utf-16-be"
    try:
        if encoding and len(data) % 2 == 0:
            return data.decode(encoding)
    except UnicodeDecodeError:
        pass
    raise LoadError(path, "binary content, not a text document")


def read_text(path: Path) -> str:
    """Read a file as text with a clear error naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot read: {exc.strerror or exc}") from exc
    return decode(data, path)


def content_id(*parts: str) -> str:
    """A short stable id from content, for records that carry no identifier of their own."""
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"sha1:{digest[:16]}"


def load(path: Path) -> list[Paper]:
    """A plain text or Markdown document: the first Markdown heading (if any) is its title."""
    text = read_text(path).strip()
    if not text:
        raise LoadError(path, "empty file")
    title = None
    first, _, rest = text.partition("\n")
    if first.startswith("# "):
        title, text = first[2:].strip(), rest.strip()
    return [Paper(source_id=content_id(path.name, text), title=title or path.stem, abstract=text)]
