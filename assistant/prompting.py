"""Load prompt templates from prompts/*.md by name and render them strictly."""

from __future__ import annotations

import string
from functools import cache
from importlib import resources

from litassist.assistant.errors import PromptError


@cache
def template(name: str) -> str:
    """The raw text of prompts/<name>.md (shipped inside the installed package)."""
    try:
        return resources.files("litassist.prompts").joinpath(f"{name}.md").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PromptError(f"no prompt named '{name}' in prompts/") from exc


def variables(name: str) -> set[str]:
    """The {placeholders} a prompt expects."""
    return {field for _, field, _, _ in string.Formatter().parse(template(name)) if field}


def available() -> list[str]:
    """Names of every prompt file."""
    return sorted(p.name[:-3] for p in resources.files("litassist.prompts").iterdir() if p.name.endswith(".md"))


def render(name: str, **values: str) -> str:
    """Fill a prompt; a missing or unexpected variable is an error, never a silent blank."""
    expected = variables(name)
    if missing := expected - values.keys():
        raise PromptError(f"prompt '{name}' needs {', '.join(sorted(missing))}")
    if extra := values.keys() - expected:
        raise PromptError(f"prompt '{name}' has no variable {', '.join(sorted(extra))}")
    return template(name).format(**values)
