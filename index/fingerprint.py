"""A file's fingerprint as stored with its chunks: its content hash and chunk budget, plus a mark after `--force`.

A forced re-read writes a fingerprint its file's chunks did not have (the mark is new each time), so that the usual
rules still hold: the last part deletes the chunks of other fingerprints, and a failed file removes only its own.
Whether a file changed compares fingerprints without their marks.
"""

from __future__ import annotations

import uuid

MARK = "!"


def forced(digest: str) -> str:
    """The fingerprint of a forced re-read: the same content, a new mark."""
    return f"{content(digest)}{MARK}{uuid.uuid4().hex[:8]}"


def content(digest: str) -> str:
    """The fingerprint without its mark."""
    return digest.split(MARK, 1)[0]


def same_content(stored: str | None, digest: str) -> bool:
    """Whether a stored fingerprint is of the same content (and chunk budget) as this one."""
    return stored is not None and content(stored) == content(digest)
