"""Entries a file could not contribute, told in one user-facing line that names the first few and counts the rest."""

from __future__ import annotations

from dataclasses import dataclass, field

NAMED = 3  # skipped entries a message names; past this many, only a count is given


@dataclass
class Skips:
    """How many entries were skipped, and the descriptions of the first few (never more: files can be huge)."""

    count: int = 0
    named: list[str] = field(default_factory=list)

    def add(self, problem: str) -> None:
        """Count one skipped entry, keeping its description if it is among the first few."""
        self.count += 1
        if len(self.named) < NAMED:
            self.named.append(problem)

    def summary(self, total: int, noun: str) -> str | None:
        """'skipped 2 of 40 lines: line 3: invalid JSON (...); line 9: ...'; None when nothing was skipped."""
        if not self.count:
            return None
        more = self.count - NAMED
        return f"skipped {self.count} of {total} {noun}: {'; '.join(self.named)}" + (
            f"; and {more} more" if more > 0 else "")
