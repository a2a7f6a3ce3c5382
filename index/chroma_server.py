"""A Chroma HTTP client for a `chroma run` server, used instead of the embedded database when a URL is given."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litassist.index import offline  # noqa: F401  (before any library that could reach the network)
from litassist.index.errors import StoreError

DEFAULT_PORTS = {"http": 8000, "https": 443}  # 8000 is what `chroma run` listens on unless told otherwise


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
    return client
