"""Choosing BM25's k best chunks from the scores of every chunk without ordering all the chunks a query reached: at
1M chunks, ordering every chunk a term reached took about a third of a search."""

from __future__ import annotations

import numpy as np


def rare_positions(reached: list[tuple[int, list]], starts: np.ndarray, enough: int) -> np.ndarray | None:
    """Positions (in the concatenated scores) of the chunks holding the query's rarest terms, at least `enough` of
    them when the terms reach that many. `reached`: (df, [(segment, (chunk positions, counts))]) per term."""
    picked, n = [], 0
    for _, hits in sorted(reached, key=lambda r: r[0]):
        picked += [docs + starts[i] for i, (docs, _) in hits]
        n += sum(len(docs) for _, (docs, _) in hits)
        if n >= enough:
            break
    return np.unique(np.concatenate(picked)) if picked else None


def best(scores: np.ndarray, k: int, sample: np.ndarray | None = None) -> np.ndarray:
    """Positions of the k best positive scores, best first, ties to the earlier position. `sample`: any positions;
    the k-th best of their scores is a floor no true top-k score is below, so only positions at or above it are
    ordered."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    floor = np.partition(scores[sample], len(sample) - k)[len(sample) - k] if sample is not None \
        and len(sample) >= k else 0.0
    candidates = np.flatnonzero(scores >= floor) if floor > 0 else np.flatnonzero(scores > 0)
    if len(candidates) > 4 * k:  # those above the k-th best score, then the earliest of those equal to it
        values = scores[candidates]
        kth = np.partition(values, len(values) - k)[len(values) - k]
        above = candidates[values > kth]
        candidates = np.concatenate([above, candidates[values == kth][: k - len(above)]])
    return candidates[np.lexsort((candidates, -scores[candidates]))][:k]
