"""A small NCBI E-utilities client: esearch and efetch over HTTP, NCBI's rate limit, retries with back-off.

Only `litassist fetch` builds one; nothing else in litassist opens a connection to NCBI.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from litassist.assistant.errors import FetchError
from litassist.assistant.settings import FetchSettings

# NCBI's published limits: 3 requests per second per IP address, 10 with an API key.
RATE_WITHOUT_KEY, RATE_WITH_KEY = 3, 10
# NCBI counts requests as they arrive, not as we send them: slack keeps network and scheduling delays (a request
# held up ~0.1 s while the next leaves on time) from letting one more request into a one-second window.
SPACING_SLACK = 1.15


@dataclass(frozen=True)
class SearchPage:
    """One esearch answer: how many records match in all, and this page's ids."""

    count: int
    ids: list[str]


class RateLimiter:
    """Spaces request starts at least 1/rate seconds apart (thread-safe)."""

    def __init__(self, per_second: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = SPACING_SLACK / per_second
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until the next request may start."""
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


class Eutils:
    """esearch and efetch against settings.base_url, with tool/email/api_key on every request."""

    def __init__(self, settings: FetchSettings, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.host = urlsplit(settings.base_url).netloc
        key = settings.api_key.get_secret_value() if settings.api_key else None
        self.identity = {"tool": settings.tool, **({"email": settings.email} if settings.email else {}),
                         **({"api_key": key} if key else {})}
        self.limiter = RateLimiter(RATE_WITH_KEY if key else RATE_WITHOUT_KEY, sleep=sleep)
        self._sleep = sleep
        self._http = httpx.Client(timeout=settings.timeout_s, follow_redirects=True)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Eutils:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def esearch(self, db: str, term: str, retstart: int, retmax: int) -> SearchPage:
        """One page of a search's ids (JSON answer)."""
        params = {"db": db, "term": term, "retstart": retstart, "retmax": retmax, "retmode": "json"}
        text = self.get("esearch.fcgi", params)
        try:
            result = json.loads(text)["esearchresult"]
        except (ValueError, KeyError, TypeError) as exc:
            raise FetchError(f"{self.host} sent an esearch answer litassist cannot read: {text[:120]!r}") from exc
        if "ERROR" in result:  # NCBI reports a query it cannot run inside an HTTP 200 answer
            raise FetchError(f"{self.host} could not run the search: {result['ERROR']}")
        return SearchPage(count=int(result.get("count", 0)), ids=[str(i) for i in result.get("idlist", [])])

    def efetch(self, db: str, ids: list[str], **params: str) -> str:
        """The records of `ids` as text (PubMed or PMC XML with retmode=xml)."""
        return self.get("efetch.fcgi", {"db": db, "id": ",".join(ids), **params})

    def get(self, endpoint: str, params: dict[str, object]) -> str:
        """The body of one GET, retried with doubling waits on 429, 5xx and failed connections."""
        url = self.settings.base_url + endpoint
        tries = self.settings.retries + 1
        for attempt in range(tries):
            self.limiter.wait()
            try:
                response = self._http.get(url, params={**params, **self.identity})
            except httpx.TransportError as exc:
                problem, wait = f"cannot reach {self.host} (no network?): {exc or type(exc).__name__}", 0.0
            else:
                if response.status_code < 400:
                    return response.text
                message = f"HTTP {response.status_code}" + (f": {m}" if (m := error_message(response)) else "")
                if response.status_code != 429 and response.status_code < 500:
                    raise FetchError(f"{self.host} refused the request: {message}")
                problem, wait = f"{self.host} answered {message}", retry_after(response)
            if attempt + 1 < tries:
                self._sleep(max(wait, self.settings.backoff_s * 2 ** attempt))
        raise FetchError(f"{problem} (gave up after {tries} {'try' if tries == 1 else 'tries'})")


def error_message(response: httpx.Response) -> str:
    """NCBI's own words for an error: the JSON 'error' field ({"error":"API rate limit exceeded",…}), else the
    body's first line, cut short."""
    try:
        data = response.json()
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            return data["error"]
    except ValueError:
        pass
    lines = response.text.strip().splitlines()
    return lines[0][:200] if lines else ""


def retry_after(response: httpx.Response) -> float:
    """Seconds a Retry-After header asks for (0 when absent or not a number of seconds)."""
    try:
        # capped: a server asking for an hour would look like a hang; the retries then end with its error
        return min(60.0, max(0.0, float(response.headers.get("Retry-After", "0"))))
    except ValueError:
        return 0.0
