"""Key metrics from Prometheus (the operations guide's "Key Metrics to Monitor"), optional in the digest.

Each metric is one instant PromQL query (the bot's config supplies them); a failing or empty query is
reported as such, never guessed. A scalar or string answer is its number; a vector of several series shows each
(the largest five, by the labels that tell them apart; wrap the query in ``sum(…)`` for one total); a range vector
is refused with what to write instead.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from runbooks.prometheus.model import KeyMetrics, Series, SeriesSet

SERIES_SHOWN = 5  # a query answering more series shows its largest five and "and N more"

Reading = tuple[float | None, SeriesSet | None]


async def _query(session: aiohttp.ClientSession, url: str, promql: str) -> Reading:
    async with session.get(f"{url.rstrip('/')}/api/v1/query", params={"query": promql}) as resp:
        body: dict[str, Any] = await resp.json(content_type=None)
    if resp.status != 200 or body.get("status") != "success":
        raise ValueError(str(body.get("error") or f"HTTP {resp.status}"))
    try:
        return reading(body.get("data") or {})
    except (KeyError, IndexError, TypeError, AttributeError):
        raise ValueError("an answer not in Prometheus' format") from None


def _number(text: Any) -> float | None:
    value = float(text)
    return None if math.isnan(value) else value


def reading(data: dict[str, Any]) -> Reading:
    """An instant query's ``data`` as one value (pure): a scalar or a string (``[<time>, "<value>"]``), a vector of
    one series, or of several (each named by the labels that tell it apart; the value kept is the largest, so the
    error-rate target holds for every series). A range vector (matrix) is refused with what to write instead."""
    kind = data.get("resultType")
    result: Any = data.get("result")
    if kind in ("scalar", "string"):
        try:
            return _number(result[1]), None
        except ValueError:
            raise ValueError(f"the query answered the text {str(result[1])[:60]!r}, not a number") from None
    if kind == "matrix":
        raise ValueError(
            "a range vector (matrix) answered, not one value per series: "
            "drop the [range] or wrap it in a function, e.g. rate(…[5m])"
        )
    if kind not in ("vector", None):
        raise ValueError(f"an answer of type {kind!r}, not a number")
    samples = [(dict(s.get("metric") or {}), _number(s["value"][1])) for s in result or []]
    if len(samples) <= 1:
        return (samples[0][1] if samples else None), None
    names = {k for labels, _ in samples for k in labels}
    telling = sorted(k for k in names if len({labels.get(k, "") for labels, _ in samples}) > 1)
    samples.sort(key=lambda s: -math.inf if s[1] is None else s[1], reverse=True)
    shown = [
        Series(labels={k: str(labels[k]) for k in (telling or sorted(names - {"__name__"})) if k in labels}, value=v)
        for labels, v in samples[:SERIES_SHOWN]
    ]
    largest = samples[0][1]
    return largest, SeriesSet(shown=shown, more=max(0, len(samples) - SERIES_SHOWN))


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
    series: dict[str, SeriesSet] = {}
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
            values[name], several = answer
            if several is not None:
                series[name] = several
    return KeyMetrics(values=values, series=series, problems=problems, error_target=error_target)
