"""Badges on a source card: study type, species, a retraction or concern flag with its notices, the sections
quoted. Every value is escaped: text, never markup."""

from __future__ import annotations

import html

from litassist.assistant.models import Citation

CSS = """
.la-tags { display: flex; flex-wrap: wrap; gap: 4px; margin: 4px 0; }
.la-tag { font-size: 0.75em; padding: 1px 7px; border-radius: 999px; border: 1px solid var(--border-color-primary); }
.la-tag.la-species { font-style: italic; }
.la-flag { font-size: 0.8em; font-weight: 700; padding: 1px 8px; border-radius: 6px; background: #b00020; color: #fff; }
.la-flag.la-concern { background: #b26a00; }
.la-notice { font-size: 0.85em; color: #b00020; margin-top: 2px; }
"""


def tags(citation: Citation) -> str:
    """Study-type and species badges, or '' when the source has neither."""
    spans = [f'<span class="la-tag la-study">{html.escape(t)}</span>' for t in citation.study_types]
    spans += [f'<span class="la-tag la-species">{html.escape(s)}</span>' for s in citation.species]
    return f'<div class="la-tags">{"".join(spans)}</div>' if spans else ""


def flag(citation: Citation) -> str:
    """A red 'RETRACTED' (orange for an expression of concern) badge for the card's header, or ''."""
    if not citation.flag:
        return ""
    concern = "" if citation.retracted else " la-concern"
    return f'<span class="la-flag{concern}">{html.escape(citation.flag.upper())}</span>'


def notices(citation: Citation) -> str:
    """Each retraction, erratum or concern notice on a line of its own, or ''."""
    # Errata correct a paper without casting doubt on it: grey, where retractions and concerns are red.
    return "".join(f'<div class="{"la-meta" if n.startswith("Erratum") else "la-notice"}">{html.escape(n)}</div>'
                   for n in citation.notices)


def sections(citation: Citation) -> str:
    """'Quoted from: Results; Discussion' for a full text, or ''."""
    if not citation.sections:
        return ""
    return f'<div class="la-meta">Quoted from: {html.escape("; ".join(citation.sections))}</div>'


def paper_extras(citation: Citation) -> str:
    """Everything this module adds to a paper card below its links."""
    return tags(citation) + notices(citation) + sections(citation)
