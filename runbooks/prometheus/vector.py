"""Instant queries answered by one value per series, keyed by one label (each node's CPU and memory in use)."""

from __future__ import annotations

import math
from typing import Any

import aiohttp

from runbooks.prometheus.client import shown


class PrometheusFailed(Exception):
    """Prometheus did not answer the query, or not with a vector; the message names it (never its credentials)."""


async def by_label(
    url: str, promql: str, label: str, *, timeout: float = 10.0, authorization: str | None = None
) -> dict[str, float]:
    """``{label value: value}`` of an instant vector query; series without the label or with NaN are left out."""
    headers = {"Authorization": authorization} if authorization else None
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), headers=headers) as session,
            session.get(f"{url.rstrip('/')}/api/v1/query", params={"query": promql}) as resp,
        ):
            body: dict[str, Any] = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise PrometheusFailed(f"Prometheus at {shown(url)} is unreachable: {type(exc).__name__}") from None
    if resp.status != 200 or not isinstance(body, dict) or body.get("status") != "success":
        error = str(body.get("error") if isinstance(body, dict) else "") or f"HTTP {resp.status}"
        raise PrometheusFailed(f"Prometheus at {shown(url)} refused the query: {error[:200]}")
    data = body.get("data") or {}
    if data.get("resultType") != "vector":
        raise PrometheusFailed(f"Prometheus answered a {data.get('resultType')!r}, not an instant vector")
    out: dict[str, float] = {}
    for series in data.get("result") or []:
        try:
            key = (series.get("metric") or {}).get(label)
            value = float(series["value"][1])
        except (KeyError, IndexError, TypeError, ValueError):
            continue
        if key and not math.isnan(value):
            out[str(key)] = out.get(str(key), 0.0) + value
    return out
