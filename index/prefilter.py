"""When a metadata filter is better applied to Chroma's unfiltered HNSW hits than through Chroma's `where`.

Chroma's `where` query lists every admitted id from SQLite first (~300 ms at 100k chunks when the filter admits most
of them); the BM25 index knows which chunks a filter admits (`Bm25Index.admitted`), so a broad filter can instead
drop the unfiltered hits it does not admit.
"""

from __future__ import annotations

POST_FILTER_SHARE = 0.2  # below this share of admitted chunks, post-filtering would need too many HNSW hits


def depth(k: int, share: float) -> int:
    """Unfiltered neighbours to fetch so that about 2k of them pass a filter admitting `share` of the chunks."""
    return int(2 * k / share) + 10
