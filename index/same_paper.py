"""One paper, one source: a paper arriving by a second route (its MEDLINE record and its PMC XML, a PDF and its
BioC) is matched to the one already indexed, or read earlier in the same ingest, by PMID, PMCID or DOI.

The fuller version is kept (full text over abstract over title only) under the first version's source id; the other
adds what it knows (notices, study types, species, missing identifiers) and its chunks go. A figure whose paper is
indexed gets the paper's source id as `paper_id`, whichever of the two came first. Changes to chunks already
written are made by `settle`, once the ingest's writes are done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter

from litassist.index.entries import record_metadata
from litassist.index.records import Figure, Paper, Record
from litassist.index.store import Store

RECORD = TypeAdapter(Record)
_KEYS = ("pmid", "pmcid", "doi")  # in the order a match is trusted
_BATCH = 1000  # identifiers per Chroma query
_FILLED = ("title", "journal", "year", "month", "volume", "issue", "pages", "doi", "pmid", "pmcid", "url")


def keys(record: Record) -> list[tuple[str, str]]:
    """A paper's identifiers as (field, value) pairs, the DOI lower-cased as the store keeps it."""
    if not isinstance(record, Paper):
        return []
    return [(k, v.lower() if k == "doi" else v) for k in _KEYS if (v := getattr(record, k))]


def fullness(paper: Paper) -> int:
    """2 for a full text, 1 for an abstract, 0 for a title alone."""
    return 2 if paper.sections or paper.body else 1 if paper.abstract else 0


def merged(kept: Paper, other: Paper) -> Paper:
    """`kept` with what only `other` knows: notices, study types, species and empty bibliographic fields."""
    update: dict[str, Any] = {f: getattr(other, f) for f in _FILLED if not getattr(kept, f) and getattr(other, f)}
    notices = kept.notices + [n for n in other.notices if n not in kept.notices]
    update |= {"notices": notices, "study_types": list(dict.fromkeys(kept.study_types + other.study_types)),
               "species": list(dict.fromkeys(kept.species + other.species))}
    if not kept.authors and other.authors:
        update["authors"] = other.authors
    return kept.model_copy(update=update)


@dataclass
class Known:
    """An indexed (or claimed) paper: its source id, the file that holds it, and its record."""

    source_id: str
    file: str
    record: Paper  # as stored: without its texts, so `full` says how full it is
    full: int = 0  # fullness() of the version indexed


@dataclass
class SamePaper:
    """Matches an ingest's papers to each other and to the index, and settles the index once writes are done."""

    store: Store
    known: dict[tuple[str, str], Known] = field(default_factory=dict)  # (field, value) -> paper, this run
    revised: dict[str, Paper] = field(default_factory=dict)  # source id -> record to write over its stored chunks
    superseded: list[tuple[str, str]] = field(default_factory=list)  # (source id, file) whose chunks must go
    papers_by_pmcid: dict[str, str] = field(default_factory=dict)  # PMCID -> paper source id, this run

    def resolve(self, records: list[Record], file: str, held: dict[str, str]) -> list[Record]:
        """The records, each paper of an already known paper renamed to its source id: `held` then keeps the
        fuller version's file as its owner, so the claim keeps it and skips the other ('already indexed from')."""
        found = self._lookup([r for r in records if keys(r) or isinstance(r, Figure)])
        out = []
        for record in records:
            if isinstance(record, Figure):
                out.append(self._link(record, found))
                continue
            match = next((m for k in keys(record) if (m := self.known.get(k) or found.get(k))), None)
            out.append(record if match is None else self._join(record, match, file, held))
        return out

    def _join(self, paper: Paper, match: Known, file: str, held: dict[str, str]) -> Paper:
        """The paper under the known one's id; the fuller of the two (the first on a tie) stays indexed."""
        renamed = paper.model_copy(update={"source_id": match.source_id})
        if match.file == file:  # a new version of the same file, or a paper twice in it: the claim decides
            return renamed
        if fullness(paper) > match.full:
            held[match.source_id] = file  # this file takes the source over
            self.superseded.append((match.source_id, match.file))
            self.revised.pop(match.source_id, None)
            return merged(renamed, match.record)
        before = self.revised.get(match.source_id, match.record)
        if (after := merged(before, paper)) != before:  # a second copy of the same record changes nothing
            self.revised[match.source_id] = after
        held[match.source_id] = match.file
        return renamed

    def _link(self, figure: Figure, found: dict[tuple[str, str], Known]) -> Figure:
        """A figure with its paper's source id, when that paper is known."""
        if figure.paper_id or not figure.pmcid:
            return figure
        known = found.get(("pmcid", figure.pmcid))
        paper = self.papers_by_pmcid.get(figure.pmcid) or (known.source_id if known else None)
        return figure.model_copy(update={"paper_id": paper}) if paper else figure

    def note(self, records: Iterable[Record], file: str) -> None:
        """Remember the papers a file claimed, so later files (and parts) of this ingest match them."""
        for record in records:
            if isinstance(record, Paper):
                known = Known(record.source_id, file, self.revised.get(record.source_id, record), fullness(record))
                self.known.update((k, known) for k in keys(record))
                if record.pmcid:
                    self.papers_by_pmcid[record.pmcid] = record.source_id

    def _lookup(self, records: list[Record]) -> dict[tuple[str, str], Known]:
        """Indexed papers sharing an identifier with these records (one Chroma query)."""
        wanted: dict[str, set[str]] = {}
        for record in records:
            for key, value in keys(record) + ([("pmcid", record.pmcid)] if isinstance(record, Figure) and
                                              record.pmcid else []):
                if (key, value) not in self.known:
                    wanted.setdefault(key, set()).add(value)
        if not wanted:
            return {}
        terms = [{key: {"$in": sorted(values)}} for key, values in wanted.items()]
        where = {"$and": [{"kind": "paper"}, terms[0] if len(terms) == 1 else {"$or": terms}]}
        got = self.store.collection.get(where=where, include=["metadatas"])
        found: dict[tuple[str, str], Known] = {}
        for meta in got["metadatas"]:
            paper = RECORD.validate_json(meta["record"])
            # The stored record leaves its texts to the chunks: a chunk from a section or a page means a full text.
            full = 2 if meta.get("section") or meta.get("page") else 1
            for key in keys(paper):
                known = found.setdefault(key, Known(meta["source_id"], meta["file"], paper, full))
                known.full = max(known.full, full)
        return found

    def settle(self) -> bool:
        """After the ingest's writes: drop superseded versions, write merged records over stored chunks, and link
        indexed figures to papers of this run; True when the index changed (BM25 must then be rebuilt)."""
        deletions = [{"$and": [{"source_id": sid}, {"file": file}]} for sid, file in self.superseded]
        updates: dict[str, dict] = {}
        for sid, record in self.revised.items():
            for cid, meta in self._chunks({"source_id": sid}):
                updates[cid] = {**meta, **record_metadata(record)}
        pmcids = sorted(self.papers_by_pmcid)
        for start in range(0, len(pmcids), _BATCH):
            figures = {"$and": [{"kind": "figure"}, {"pmcid": {"$in": pmcids[start : start + _BATCH]}}]}
            for cid, meta in self._chunks(figures):
                figure = RECORD.validate_json(meta["record"])
                if isinstance(figure, Figure) and not figure.paper_id:
                    linked = figure.model_copy(update={"paper_id": self.papers_by_pmcid[figure.pmcid or ""]})
                    updates[cid] = {**meta, **record_metadata(linked)}
        if not deletions and not updates:
            return False
        self._revise(deletions, updates)
        return True

    def _revise(self, deletions: list[dict], updates: dict[str, dict]) -> None:
        """Delete what `deletions` match and replace the metadata of the `updates` chunks, as a new generation,
        holding the data home's write lock like every writer; the caller brings BM25 in step."""
        store = self.store
        with store.lock:
            files = {where["$and"][1]["file"] for where in deletions} | {meta["file"] for meta in updates.values()}
            store.update_metadata(lambda meta: meta, new_generation=True, files=sorted(files))  # BM25: these files
            for where in deletions:
                store.collection.delete(where=where)
            ids = list(updates)
            for start in range(0, len(ids), _BATCH):
                batch = ids[start : start + _BATCH]
                store.collection.update(ids=batch, metadatas=[updates[cid] for cid in batch])

    def _chunks(self, where: dict) -> list[tuple[str, dict]]:
        """(id, metadata) of the stored chunks matching `where`."""
        got = self.store.collection.get(where=where, include=["metadatas"])
        return list(zip(got["ids"], got["metadatas"]))

