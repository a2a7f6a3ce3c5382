"""A Chroma HTTP client for a `chroma run` server, used instead of the embedded database when a URL is given."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from litassist.index import offline  # noqa: F401  (before any library that could reach the network)
from litassist.index.errors import StoreError

DEFAULT_PORTS = {"http": 8000, "https": 443}  # 8000 is what `chroma run` listens on unless told otherwise
# A single-node `chroma run` with several writers at once sometimes answers a request with this, when it opens an
# HNSW segment another writer is persisting (docs/benchmarks.md, "Concurrent writers"); the same request a moment
# later succeeds. Every call retried is idempotent: reads, upserts and deletes by id or filter.
TRANSIENT = "Nothing found on disk"
RETRY_WAITS_S = (0.1, 0.3, 1.0, 3.0, 6.0)
BUSY = f"The Chroma server is busy with another writer ({TRANSIENT}): trying again in"
_RETRIED = frozenset({"get", "query", "count", "upsert", "delete", "modify", "peek"})


def parse_url(url: str) -> tuple[str, int, bool]:
    """(host, port, ssl) from 'http://host:port' or 'https://host[:port]'."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:  # a port that is not a number, or out of range
        raise StoreError(f"invalid Chroma server URL '{url}': {exc}") from exc
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise StoreError(f"invalid Chroma server URL '{url}': expected http://HOST:PORT or https://HOST[:PORT]")
    if parts.path not in ("", "/"):
        raise StoreError(f"invalid Chroma server URL '{url}': a path is not supported, give only HOST:PORT")
    return parts.hostname, port or DEFAULT_PORTS[parts.scheme], parts.scheme == "https"


def http_client(url: str) -> Any:
    """A connected chromadb.HttpClient (telemetry off); StoreError when the server cannot be reached."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    host, port, ssl = parse_url(url)
    try:
        # The constructor already asks the server for its tenant and database, so a dead URL fails here.
        client = chromadb.HttpClient(host=host, port=port, ssl=ssl,
                                     settings=ChromaSettings(anonymized_telemetry=False))
        client.heartbeat()
    except Exception as exc:  # chromadb wraps connection failures in ValueError, httpx errors, or its own types
        raise StoreError(f"Cannot reach the Chroma server at {url}: {exc}") from exc
    return RetryingClient(client)


def retried(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """call(*args, **kwargs), again after a pause while the server reports the transient failure above."""
    from chromadb.errors import InternalError

    for wait in (*RETRY_WAITS_S, None):
        try:
            return call(*args, **kwargs)
        except InternalError as exc:
            if wait is None or TRANSIENT not in str(exc):
                raise
            # said, not hidden: a team sees how often its server is this busy (bench/writers.py counts these lines)
            print(f"{BUSY} {wait:.1f} s", file=sys.stderr)
            time.sleep(wait)


class RetryingCollection:
    """A server collection whose reads and writes are tried again on the transient failure; otherwise the same."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._collection, name)
        return functools.partial(retried, value) if name in _RETRIED else value


class RetryingClient:
    """A chromadb client whose collections are RetryingCollections; otherwise the same client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._client, name)
        if name in ("get_collection", "get_or_create_collection", "create_collection"):
            return lambda *args, **kwargs: RetryingCollection(retried(value, *args, **kwargs))
        return value
