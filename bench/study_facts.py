"""Study types and species for a benchmark corpus that has none (BEIR), and the cost of filtering on them.

Every paper (source id, replicas included) gets, from a hash of its id, study type "review" (30 %) or
"randomized controlled trial" (5 %) and species "human" (30 %) or "mouse" (5 %), independently, stored as ingest
stores MEDLINE-derived ones (the record's fields and the chunk's metadata lists, index/entries.py). Filtered hybrid
retrieval is then timed against unfiltered retrieval question by question, and every filtered hit is checked
against the assignment itself, not against what the index says.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import numpy as np

from litassist.index.bm25 import SearchFilter
from litassist.index.entries import RECORD, record_metadata
from litassist.index.records import Passage
from litassist.index.store import Store

SEED = 7
# (upper end of the hash interval, value): a paper whose hash falls below the first bound gets the first value.
STUDY_TYPE_SHARES = ((0.30, "review"), (0.35, "randomized controlled trial"))
SPECIES_SHARES = ((0.30, "human"), (0.35, "mouse"))
FILTERS = {  # name -> filter; shares of papers admitted: 30 %, 5 %, 30 %, 5 %, 9 %
    "review": SearchFilter(study_type="review"),
    "rct": SearchFilter(study_type="randomized controlled trial"),
    "human": SearchFilter(species="human"),
    "mouse": SearchFilter(species="mouse"),
    "review+human": SearchFilter(study_type="review", species="human"),
}
_MARK = "bench_study_facts"  # collection metadata: the seed the stored facts were assigned with


def share_of(source_id: str, field: str, seed: int = SEED) -> float:
    """A stable uniform number in [0, 1) for one paper and one field."""
    digest = hashlib.blake2b(f"{seed}:{field}:{source_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def pick(source_id: str, field: str, shares: tuple[tuple[float, str], ...], seed: int = SEED) -> list[str]:
    """The paper's value for this field ([] for most papers)."""
    u = share_of(source_id, field, seed)
    return next(([value] for bound, value in shares if u < bound), [])


def facts_for(source_id: str, seed: int = SEED) -> tuple[list[str], list[str]]:
    """(study types, species) assigned to a paper."""
    return pick(source_id, "study_type", STUDY_TYPE_SHARES, seed), pick(source_id, "species", SPECIES_SHARES, seed)


def assign(store: Store, seed: int = SEED, page: int = 2000) -> bool:
    """Write the assigned study types and species into every chunk's record and metadata lists, then rebuild
    BM25 (whose chunk facts the filters use); False when the home already holds this seed's assignment."""
    if (store.collection.metadata or {}).get(_MARK) == seed:
        return False
    with store.lock:
        store.update_metadata(lambda meta: meta, new_generation=True)  # the saved BM25 facts are stale from here
        ids, metas = [], []
        for cid, _, meta in store.scan():
            study_types, species = facts_for(meta["source_id"], seed)
            record = RECORD.validate_json(meta["record"]).model_copy(
                update={"study_types": study_types, "species": species})
            ids.append(cid)
            metas.append({**meta, **record_metadata(record)})
        for start in range(0, len(ids), page):
            store.collection.update(ids=ids[start:start + page], metadatas=metas[start:start + page])
        store.update_metadata(lambda meta: {**meta, _MARK: seed})
    store.rebuild_bm25()
    return True


def violations(passages: list[Passage], where: SearchFilter, seed: int = SEED) -> int:
    """Hits whose paper was not assigned the filtered study type or species."""
    bad = 0
    for passage in passages:
        study_types, species = facts_for(passage.chunk.source_id, seed)
        bad += bool(where.study_type and where.study_type not in study_types)
        bad += bool(where.species and where.species not in species)
    return bad


def admitted_share(store: Store, where: SearchFilter) -> float:
    """Share of the stored chunks the filter admits."""
    return len(store.bm25.admitted(where)) / max(len(store.bm25.ids), 1)


def measure(store: Store, search: Any, questions: list[str], k: int, rounds: int = 2) -> dict[str, Any]:
    """p50/p95 ms of unfiltered and each filtered hybrid retrieval (`search(q, where=…)`, k hits), and the ratios.

    The paths are interleaved question by question (the order rotating), so load from other processes falls on
    all of them alike; one untimed warm-up per path builds the filters' cached masks first."""
    paths: dict[str, SearchFilter | None] = {"unfiltered": None, **FILTERS}
    for where in paths.values():
        search(questions[0], where=where)
    times: dict[str, list[float]] = {name: [] for name in paths}
    bad = {name: 0 for name in FILTERS}
    short = {name: 0 for name in FILTERS}
    unfiltered_bad = {name: 0 for name in FILTERS}  # the same check on unfiltered hits: shows it can fail
    names = list(paths)
    for turn, question in enumerate(questions * rounds):
        for name in names[turn % len(names):] + names[:turn % len(names)]:
            start = time.perf_counter()
            hits = search(question, where=paths[name])
            times[name].append((time.perf_counter() - start) * 1000)
            if name == "unfiltered":
                for other, where in FILTERS.items():
                    unfiltered_bad[other] += violations(hits, where)
            else:
                bad[name] += violations(hits, FILTERS[name])
                short[name] += len(hits) < k  # fewer than k hits: the filter lost passages it should have found
    base = np.asarray(times["unfiltered"])
    result: dict[str, Any] = {"timed_per_path": len(base)}
    for name, values in times.items():
        got = np.asarray(values)
        row = {"p50_ms": round(float(np.percentile(got, 50)), 1), "p95_ms": round(float(np.percentile(got, 95)), 1)}
        if name in FILTERS:
            row |= {"share": round(admitted_share(store, FILTERS[name]), 3),
                    "ratio_p50": round(float(np.median(got) / np.median(base)), 2),
                    "ratio_p95": round(float(np.percentile(got, 95) / np.percentile(base, 95)), 2),
                    "violations": bad[name], "short_results": short[name],
                    "unfiltered_violations": unfiltered_bad[name]}
        result[name] = row
    return result
