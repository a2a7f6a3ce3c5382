"""The served app's gatekeeper (an ASGI middleware around Gradio): same-origin requests only, Lax cookies, a login
back-off per client, and no URL that would make the server fetch something for a client."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote, urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FREE_FAILURES = 3  # wrong passwords a client may type before it has to wait
MAX_WAIT_S = 60  # the longest a client waits between login attempts (the wait doubles per failure up to this)
MAX_JSON_BYTES = 4 * 1024 * 1024  # an API request body read to look for URL inputs; larger ones are refused
_LOGIN_PATHS = ("/login", "/login/")


class LoginThrottle:
    """Failed logins per client: after FREE_FAILURES, each further attempt waits 1, 2, 4 … MAX_WAIT_S seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.failures: dict[str, int] = {}
        self.locked_until: dict[str, float] = {}

    def wait_s(self, client: str) -> int:
        """Seconds this client must still wait before its next attempt (0: it may try now)."""
        return max(0, int(self.locked_until.get(client, 0) - self.clock() + 0.999))

    def failed(self, client: str) -> None:
        """Count a wrong password and lock the client for a while once it is over its free failures."""
        n = self.failures[client] = self.failures.get(client, 0) + 1
        if n > FREE_FAILURES:
            self.locked_until[client] = self.clock() + min(MAX_WAIT_S, 2 ** (n - FREE_FAILURES - 1))

    def succeeded(self, client: str) -> None:
        """A correct password clears the client's record."""
        self.failures.pop(client, None)
        self.locked_until.pop(client, None)


class Guard:
    """ASGI middleware: refuse cross-origin requests, URL inputs and fast password guessing; make cookies Lax."""

    def __init__(self, app: ASGIApp, throttle: LoginThrottle | None = None) -> None:
        self.app = app
        self.throttle = throttle or LoginThrottle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then pass it on with its cookies made Lax."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if not same_origin(headers):
            await refuse(scope, send, 403, "cross-origin request refused: open litassist at its own address")
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        if asks_server_to_fetch(scope["path"]):
            await refuse(scope, send, 403, "litassist does not fetch URLs: upload the file itself")
            return
        if scope["method"] == "POST" and "json" in headers.get("content-type", ""):
            body, receive = await buffered(receive)
            if len(body) > MAX_JSON_BYTES:
                await refuse(scope, send, 413, f"request too large (over {MAX_JSON_BYTES // 2**20} MB)")
                return
            if has_url_file(body):
                await refuse(scope, send, 403, "litassist does not fetch URLs: upload the file itself")
                return
        if scope["method"] == "POST" and scope["path"] in _LOGIN_PATHS:
            await self.login(scope, receive, send)
            return
        await self.app(scope, receive, lax_cookies(send))

    async def login(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A login attempt, unless the client must still wait; its outcome counts toward the back-off."""
        client = (scope.get("client") or ("unknown", 0))[0]
        if wait := self.throttle.wait_s(client):
            await refuse(scope, send, 429, f"too many wrong passwords: try again in {wait} s",
                         extra=[(b"retry-after", str(wait).encode())])
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, lax_cookies(watch))
        if status and status[0] == 200:
            self.throttle.succeeded(client)
        elif status and 400 <= status[0] < 500:
            self.throttle.failed(client)


def same_origin(headers: dict[str, str]) -> bool:
    """No Origin (a same-origin GET, a script) or an Origin naming the host the request was sent to."""
    origin = headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    host = urlsplit(origin).netloc.lower()
    # Behind a reverse proxy the browser's host arrives as X-Forwarded-Host.
    served = {h.strip().lower() for h in (headers.get("host", ""), headers.get("x-forwarded-host", "")) if h}
    served |= {h.split(",")[0].strip() for h in served}
    return host in served


def asks_server_to_fetch(path: str) -> bool:
    """Gradio's /file= route proxies any http(s) URL it is given: litassist serves only its own files."""
    _, sep, target = path.partition("/file=")
    return bool(sep) and "://" in unquote(target)


def has_url_file(body: bytes) -> bool:
    """Whether a JSON request passes a file by URL (Gradio would download it for the client)."""
    try:
        data = json.loads(body)
    except ValueError:
        return False  # not JSON: Gradio refuses it on its own
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            path = item.get("path")
            if isinstance(path, str) and "://" in path:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


async def buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a receive that hands it on to the app (reading stops past MAX_JSON_BYTES)."""
    chunks, size, more = [], 0, True
    while more and size <= MAX_JSON_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return b"", receive
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        more = message.get("more_body", False)
    body, sent = b"".join(chunks), False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def lax_cookies(send: Send) -> Send:
    """Rewrite Gradio's SameSite=None session cookies as SameSite=Lax: other sites' pages cannot use the login."""
    async def rewrite(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [(k, lax(v) if k.lower() == b"set-cookie" else v) for k, v in message["headers"]]
        await send(message)

    return rewrite


def lax(cookie: bytes) -> bytes:
    """One Set-Cookie value with SameSite=Lax."""
    parts = [p for p in cookie.split(b";") if not p.strip().lower().startswith(b"samesite")]
    return b";".join(parts + [b" SameSite=Lax"])


async def refuse(scope: Scope, send: Send, status: int, detail: str,
                 extra: list[tuple[bytes, bytes]] | None = None) -> None:
    """A JSON error response (or a closed websocket) that says why."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
