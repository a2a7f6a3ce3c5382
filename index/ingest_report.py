"""What an ingest run reports: one outcome per file, and how much encoding work was done."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Status = Literal["added", "unchanged", "replaced", "failed", "skipped"]  # skipped: a format litassist does not read


class FileOutcome(BaseModel):
    """What happened to one file."""

    file: str
    status: Status
    reason: str | None = None
    records: int = 0
    chunks: int = 0
    deleted: list[str] = []  # sources in the file that were deleted and stay deleted


class IngestReport(BaseModel):
    """Per-file outcomes and how much encoding work was done."""

    outcomes: list[FileOutcome] = []
    embedded: int = 0
    reused: int = 0
    removed: list[str] = []  # items gone from a Zotero library, whose chunks left the index

    @property
    def failed(self) -> list[FileOutcome]:
        """Files that did not go in."""
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def stayed_deleted(self) -> list[str]:
        """Deleted sources met in the files, which stay deleted."""
        return list(dict.fromkeys(sid for o in self.outcomes for sid in o.deleted))

    @property
    def ingestible(self) -> bool:
        """Some file was of a format litassist reads (whether it went in, was unchanged or failed)."""
        return any(o.status != "skipped" for o in self.outcomes)

    @property
    def problems(self) -> list[FileOutcome]:
        """Files that failed, and files that went in with some of their entries skipped."""
        return [o for o in self.outcomes if o.status == "failed" or (o.reason and o.status != "skipped")]

    @staticmethod
    def counts_line(counts: dict[str, int]) -> str:
        """'2 added, 0 replaced, 1 unchanged, 0 failed, 3 skipped' (skipped only when some were)."""
        return ", ".join(f"{n} {s}" for s, n in counts.items() if n or s != "skipped")

    def counts(self) -> dict[str, int]:
        """How many files ended in each status."""
        out = {s: 0 for s in ("added", "replaced", "unchanged", "failed", "skipped")}
        for outcome in self.outcomes:
            out[outcome.status] += 1
        return out
