"""Control characters out of text shown on a terminal or written to exported files (stdlib only: the CLI's error
path imports it before any heavy library)."""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls (CSI, OSC as single code points) and the bidi overrides: a record's
# title could otherwise clear a terminal, forge a link (OSC 8), write the clipboard (OSC 52) or reorder a line.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def without_controls(text: str) -> str:
    """Text with its control characters removed, line breaks and tabs kept: safe for terminals and exported files."""
    return _CONTROL.sub("", text)
