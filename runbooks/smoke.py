"""The maintenance window's smoke tests (the guide's ``curl -f https://api.example.com/health``): every probe
fetched concurrently, each with its own timeout; its status and latency, or why it failed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class Probe:
    name: str
    url: str
    expect_status: int = 200
    timeout: float = 5.0


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    ok: bool
    status: int | None
    seconds: float
    error: str | None = None  # "timed out after 5 s", "could not connect: …", "answered 500, expected 200"


async def _one(session: aiohttp.ClientSession, probe: Probe) -> ProbeResult:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(probe.timeout):
            async with session.get(probe.url, allow_redirects=False) as response:
                await response.read()
                status = response.status
    except TimeoutError:
        return ProbeResult(probe, False, None, time.perf_counter() - started, f"timed out after {probe.timeout:g} s")
    except (aiohttp.ClientError, OSError) as exc:
        why = f"could not connect: {type(exc).__name__}"
        return ProbeResult(probe, False, None, time.perf_counter() - started, why)
    seconds = time.perf_counter() - started
    if status != probe.expect_status:
        return ProbeResult(probe, False, status, seconds, f"answered {status}, expected {probe.expect_status}")
    return ProbeResult(probe, True, status, seconds)


async def run(probes: Sequence[Probe]) -> list[ProbeResult]:
    """Every probe at once; the results in the order given."""
    if not probes:
        return []
    async with aiohttp.ClientSession(headers={"User-Agent": "chatops-bot smoke test"}) as session:
        return list(await asyncio.gather(*(_one(session, p) for p in probes)))
