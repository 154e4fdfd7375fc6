"""Key metrics from Prometheus (the operations guide's "Key Metrics to Monitor"), optional in the digest.

Each metric is one instant PromQL query (the bot's config supplies them); a failing or empty query is
reported as such, never guessed.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from runbooks.prometheus.model import KeyMetrics


async def _query(session: aiohttp.ClientSession, url: str, promql: str) -> float | None:
    async with session.get(f"{url.rstrip('/')}/api/v1/query", params={"query": promql}) as resp:
        body: dict[str, Any] = await resp.json(content_type=None)
    if resp.status != 200 or body.get("status") != "success":
        raise ValueError(str(body.get("error") or f"HTTP {resp.status}"))
    result = (body.get("data") or {}).get("result") or []
    if not result:
        return None
    value = float(result[0]["value"][1])
    return None if math.isnan(value) else value


def shown(url: str) -> str:
    """The URL as it may be printed: without any ``user:password@``."""
    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url
    host = parts.hostname or ""
    return urlunsplit(parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host))


async def collect(
    url: str, queries: dict[str, str], error_target: float, timeout: float = 10.0, authorization: str | None = None
) -> KeyMetrics:
    """Every query at once; ``authorization`` is the ``Authorization`` header value (from PROMETHEUS_AUTH)."""
    values: dict[str, float | None] = {}
    problems: dict[str, str] = {}
    headers = {"Authorization": authorization} if authorization else None
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), headers=headers) as session:
            answers = await asyncio.gather(*(_query(session, url, q) for q in queries.values()), return_exceptions=True)
    except aiohttp.ClientError as exc:
        return KeyMetrics(values={}, unreachable=f"Prometheus at {shown(url)} is unreachable: {type(exc).__name__}")
    for name, answer in zip(queries, answers, strict=True):
        if isinstance(answer, aiohttp.ClientConnectionError | TimeoutError):
            return KeyMetrics(
                values={}, unreachable=f"Prometheus at {shown(url)} is unreachable: {type(answer).__name__}"
            )
        if isinstance(answer, BaseException):
            problems[name] = str(answer)[:200] or type(answer).__name__
            values[name] = None
        else:
            values[name] = answer
    return KeyMetrics(values=values, problems=problems, error_target=error_target)
