"""How a metadata filter reaches Chroma: dropping unfiltered HNSW hits, naming the admitted ids, or as a `where`.

Chroma's `where` query lists every admitted id from SQLite first (~300 ms at 100k chunks when the filter admits most
of them, 85-115 ms for a study type or species on 5-9 % of them: `$contains` on a list field). The BM25 index knows
which chunks a filter admits (`Bm25Index.admitted`), so a broad filter instead drops the unfiltered hits it does not
admit, and a narrow one names its admitted ids in the query (`ids=`: 13-24 ms for 5-9 % of 100k chunks).
`where_clause` remains the reference the tests compare both with.
"""

from __future__ import annotations

from typing import Any

from litassist.index.bm25 import SearchFilter

POST_FILTER_SHARE = 0.2  # below this share of admitted chunks, post-filtering would need too many HNSW hits


def depth(k: int, share: float) -> int:
    """Unfiltered neighbours to fetch so that about 2k of them pass a filter admitting `share` of the chunks."""
    return int(2 * k / share) + 10


def where_clause(where: SearchFilter | None) -> dict[str, Any] | None:
    """The same filter as a Chroma `where` document."""
    if where is None or where.empty:
        return None
    terms: list[dict[str, Any]] = []
    if where.kind:
        terms.append({"kind": where.kind})
    if where.organism:
        terms.append({"organisms": {"$contains": where.organism}})
    if where.study_type:
        terms.append({"study_types": {"$contains": where.study_type}})
    if where.species:
        terms.append({"species": {"$contains": where.species}})
    if where.collection:
        terms.append({"collections": {"$contains": where.collection}})
    if where.tag:
        terms.append({"tags": {"$contains": where.tag}})
    if where.year_min is not None:
        terms.append({"year": {"$gte": where.year_min}})
    if where.year_max is not None:
        terms.append({"year": {"$lte": where.year_max}})
    return terms[0] if len(terms) == 1 else {"$and": terms}
