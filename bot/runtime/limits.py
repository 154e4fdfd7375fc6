"""What an HTTP client may cost the bot before it has proven who it is (the signature is checked only
once the whole body is in): bodies are capped and must arrive in time, headers must arrive in time, and
the number of requests in flight is bounded.

- ``BodyLimits`` (ASGI middleware, every POST): a ``Content-Length`` over the cap is answered 413 before a
  byte of the body is read; a body streamed past the cap is cut off with 413; one that trickles in slower
  than the deadline gets 408; one that is not UTF-8 gets 400. Nothing of these reaches Bolt or Redis.
- ``HeaderDeadlineProtocol`` (uvicorn's httptools protocol): a connection that has not finished sending a
  request's headers within the deadline is closed (slowloris).
- uvicorn's ``limit_concurrency``: past it, new requests get 503 at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
BODY_SECONDS = 10.0
HEADER_SECONDS = 10.0
MAX_CONCURRENCY = 200


async def _plain(send: Send, status: int, text: str) -> None:
    body = f"{text}\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimits:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, seconds: float = BODY_SECONDS) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _plain(send, 413, f"request body over {self.max_bytes} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.seconds):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_bytes:
                        await _plain(send, 413, f"request body over {self.max_bytes} bytes")
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            await _plain(send, 408, f"request body not received within {self.seconds:.0f} s")
            return
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            await _plain(send, 400, "request body is not UTF-8")
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """Close a connection that does not finish a request's headers within ``HEADER_SECONDS``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(HEADER_SECONDS, self._too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            log.info("closed a connection that sent no complete request headers within %.0f s", HEADER_SECONDS)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
