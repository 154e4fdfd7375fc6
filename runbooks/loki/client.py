"""Loki's HTTP API: an instant metric query at a given time (``/loki/api/v1/query``) and the newest lines of a log
query (``/loki/api/v1/query_range``, backward).

A 429 is waited out once when its ``Retry-After`` fits in the time left (at most ``MAX_RETRY_AFTER``), a 5xx tried
once more; anything else is a ``LokiFailed`` whose message names Loki and what it said, never the URL's host or the
credentials (``LOKI_AUTH`` is sent as the ``Authorization`` header, the tenant as ``X-Scope-OrgID``).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp

from runbooks.loki import logql

MAX_RETRY_AFTER = 5.0
ATTEMPTS = 2
SERVER_ERROR_WAIT = 0.5
QUERY = "/loki/api/v1/query"
QUERY_RANGE = "/loki/api/v1/query_range"


class LokiFailed(Exception):
    """Loki did not answer the query, or not with a vector; the message says so in words fit for the channel."""


def _said(status: int, text: str) -> str:
    """What Loki said about a refused query: its JSON ``error`` (newer versions) or its plain-text body."""
    said = text.strip()
    if said.startswith("{"):
        try:
            body = json.loads(said)
            said = str(body.get("error") or body.get("message") or "") if isinstance(body, dict) else ""
        except ValueError:
            pass
    said = " ".join(said.split())[:200]
    return f"HTTP {status}" + (f": {said}" if said else "")


def _retry_after(headers: Any) -> float | None:
    value = str(headers.get("Retry-After", "")).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


async def _get(
    url: str, path: str, params: dict[str, str], *, timeout: float, authorization: str | None, org_id: str | None
) -> Any:
    """The ``data`` of a successful answer."""
    headers = {k: v for k, v in (("Authorization", authorization), ("X-Scope-OrgID", org_id)) if v}
    deadline = time.monotonic() + timeout
    last = "no answer"
    for attempt in range(ATTEMPTS):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=left), headers=headers) as session,
                session.get(f"{url.rstrip('/')}{path}", params=params) as resp,
            ):
                text = await resp.text(errors="replace")
                status, waits = resp.status, _retry_after(resp.headers)
        except TimeoutError:
            raise LokiFailed(f"Loki did not answer within {timeout:.0f} s") from None
        except aiohttp.ClientError as exc:
            raise LokiFailed(f"Loki is unreachable ({type(exc).__name__})") from None
        if status == 200:
            return _data(text)
        last = _said(status, text)
        more = attempt + 1 < ATTEMPTS
        if status == 429 and more and waits is not None and waits <= min(MAX_RETRY_AFTER, deadline - time.monotonic()):
            await asyncio.sleep(waits)
            continue
        if status >= 500 and more:
            await asyncio.sleep(SERVER_ERROR_WAIT)
            continue
        break
    if last.startswith("HTTP 429"):
        raise LokiFailed(f"Loki is limiting the bot's queries ({last})")
    if last.startswith(("HTTP 401", "HTTP 403")):
        raise LokiFailed(f"Loki refused the bot's credentials ({last}; check LOKI_AUTH and loki.org_id)")
    raise LokiFailed(f"Loki did not answer the query ({last})")


def _data(text: str) -> Any:
    try:
        body = json.loads(text)
    except ValueError:
        raise LokiFailed("Loki answered something that is not JSON") from None
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else None
        raise LokiFailed(f"Loki did not answer the query ({str(error or 'no success status')[:200]})")
    return body.get("data")


@dataclass(frozen=True)
class Loki:
    """Loki's query API at ``url``; ``authorization`` is the ``Authorization`` header (from LOKI_AUTH), ``org_id``
    the tenant of a multi-tenant Loki."""

    url: str
    timeout: float = 20.0
    authorization: str | None = None
    org_id: str | None = None

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        return await _get(
            self.url, path, params, timeout=self.timeout, authorization=self.authorization, org_id=self.org_id
        )

    async def instant(self, query: str, at: datetime) -> list[tuple[dict[str, str], float]]:
        """Each series of the instant metric ``query`` evaluated at ``at``: (labels, value)."""
        data = await self._get(QUERY, {"query": query, "time": str(_nanos(at))})
        try:
            return logql.series(data)
        except ValueError as exc:
            raise LokiFailed(f"Loki answered {exc}") from None

    async def newest_lines(
        self, query: str, start: datetime, end: datetime, limit: int
    ) -> list[tuple[dict[str, str], str]]:
        """The newest ``limit`` lines of the log ``query`` between ``start`` and ``end``: (stream labels, line),
        newest first."""
        params = {"query": query, "start": str(_nanos(start)), "end": str(_nanos(end)), "limit": str(limit),
                  "direction": "backward"}  # fmt: skip
        data = await self._get(QUERY_RANGE, params)
        try:
            return logql.stream_lines(data)
        except ValueError as exc:
            raise LokiFailed(f"Loki answered {exc}") from None


def _nanos(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000) * 1000
