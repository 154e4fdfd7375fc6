"""Benchmarks for the incident spine; writes bench/RESULTS.md.

1. HTTP acknowledgement latency and throughput at concurrency 8: ``GET /healthz`` (framework floor),
   signed ``/incident open`` commands, and signed Acknowledge button clicks, against ``chatops-bot serve``
   in a subprocess with a real Redis and the Slack stand-in (all on loopback).
2. Store transitions per second: IncidentStore against the same Redis, in-process.

Run: ``make bench`` (or ``.venv/bin/python -m bench.run``).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

from bench.results import machine_info, write_section
from bot.core.severity import Severity
from bot.incidents import machine
from bot.incidents.model import Action
from bot.incidents.store import IncidentStore
from tests.conftest import write_config
from tests.support.bot_process import BotProcess, SignedSlack
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import RecorderProcess

CONCURRENCY = 8
PACED_RATE = 150
REQUESTS = 1500
WARMUP = 100


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def load(
    base: str, make: Callable[[int], tuple[str, str, dict[str, str], bytes]], n: int, rate: float | None = None
) -> tuple[list[float], float, int]:
    """Send n requests with CONCURRENCY workers; return latencies (ms), wall seconds and non-200 count.

    Without ``rate`` the workers send back to back (saturation); with it, request i is sent at i/rate
    seconds (an open-loop pace) by whichever worker is free. aiohttp rather than httpx: the load
    generator shares the 2 cores with the bot, so it should be light.
    """
    latencies: list[float] = []
    errors = 0
    counter = iter(range(n))
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(base, connector=connector) as client:
        begin = time.perf_counter()

        async def worker() -> None:
            nonlocal errors
            for i in counter:
                if rate is not None:
                    await asyncio.sleep(max(0.0, begin + i / rate - time.perf_counter()))
                method, path, headers, body = make(i)
                started = time.perf_counter()
                async with client.request(method, path, headers=headers, data=body) as resp:
                    await resp.read()
                    latencies.append((time.perf_counter() - started) * 1000)
                    if resp.status != 200:
                        errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        wall = time.perf_counter() - started
    return latencies, wall, errors


def signed(slack: SignedSlack, body: str, content_type: str) -> tuple[str, str, dict[str, str], bytes]:
    return ("POST", "/slack/events", slack.signer.headers(body, content_type), body.encode())


async def http_bench(bot: BotProcess, slack: SignedSlack) -> dict[str, tuple[list[float], float, int]]:
    results = {}
    form = "application/x-www-form-urlencoded"
    health = lambda i: ("GET", "/healthz", {}, b"")  # noqa: E731
    await load(bot.base_url, health, WARMUP)
    results["GET /healthz"] = await load(bot.base_url, health, REQUESTS)

    opens = [slack.command_body(f"open P2 Bench incident {i}") for i in range(2 * REQUESTS + WARMUP)]
    await load(bot.base_url, lambda i: signed(slack, opens[2 * REQUESTS + i], form), WARMUP)
    results["/incident open, saturated"] = await load(bot.base_url, lambda i: signed(slack, opens[i], form), REQUESTS)
    await asyncio.sleep(3)  # let the announcements and pages of those opens drain
    results[f"/incident open, paced at {PACED_RATE}/s"] = await load(
        bot.base_url, lambda i: signed(slack, opens[REQUESTS + i], form), REQUESTS, rate=PACED_RATE
    )

    # Every click acknowledges a different open incident: a real transition each time.
    await asyncio.sleep(3)
    clicks = [slack.click_body("incident_acknowledge", str(n), user="U0BENCH") for n in range(1, 2 * REQUESTS + 1)]
    results["Acknowledge button, saturated"] = await load(
        bot.base_url, lambda i: signed(slack, clicks[i], form), REQUESTS
    )
    await asyncio.sleep(3)
    results[f"Acknowledge button, paced at {PACED_RATE}/s"] = await load(
        bot.base_url, lambda i: signed(slack, clicks[REQUESTS + i], form), REQUESTS, rate=PACED_RATE
    )
    return results


async def store_bench(url: str) -> dict[str, float]:
    redis = Redis.from_url(url, decode_responses=True)
    store = IncidentStore(redis, "bench redis")
    now = datetime.now(UTC)
    numbers = []
    for i in range(2000):
        inc = await store.open(
            title=f"s{i}",
            description="",
            severity=Severity.P3,
            opened_by="U1",
            now=now,
            respond_by=now + timedelta(hours=4),
        )
        numbers.append(inc.number)

    async def run(action: Action, targets: list[int], concurrency: int) -> float:
        queue = iter(targets)

        async def worker() -> None:
            for n in queue:
                await store.change(n, lambda cur, a=action: machine.apply(cur, a, "U2", datetime.now(UTC)))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(targets) / (time.perf_counter() - started)

    out = {
        "acknowledge, 1 coroutine": await run(Action.ACKNOWLEDGE, numbers[:1000], 1),
        "acknowledge, 8 coroutines": await run(Action.ACKNOWLEDGE, numbers[1000:], 8),
        "resolve, 8 coroutines": await run(Action.RESOLVE, numbers, 8),
    }

    # Contention: 8 coroutines racing on one incident; one wins, the rest are refused after re-reading.
    hot = (
        await store.open(title="hot", description="", severity=Severity.P1, opened_by="U1", now=now, respond_by=now)
    ).number
    refused = 0

    async def racer() -> None:
        nonlocal refused
        try:
            await store.change(hot, lambda cur: machine.apply(cur, Action.ACKNOWLEDGE, "U3", datetime.now(UTC)))
        except machine.TransitionRefused:
            refused += 1

    await asyncio.gather(*(racer() for _ in range(8)))
    out["race of 8 on one incident: refused"] = refused
    await redis.aclose()
    return out


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="chatops-bench-"))
    redis = RedisServer().start()
    recorder = RecorderProcess().start()
    bot = BotProcess(
        redis_url=redis.url,
        slack_api_url=recorder.api_url,
        config_path=write_config(tmp / "c.yaml"),
        log_path=tmp / "bot.log",
        extra_env={"LOG_LEVEL": "INFO"},
    ).start()
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        http = asyncio.run(http_bench(bot, slack))
    finally:
        slack.close()
        bot.terminate()
        recorder.stop()
    store_redis = RedisServer().start()
    try:
        store = asyncio.run(store_bench(store_redis.url))
    finally:
        store_redis.cleanup()
        redis.cleanup()

    lines = [
        "## Incident spine: HTTP acknowledgement and store transitions",
        "",
        f"Command: `python -m bench.run` (part of `make bench`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine_info()}.",
        "Setup: one `chatops-bot serve` process (uvicorn, one worker, LOG_LEVEL=INFO), a throwaway `redis-server`",
        "(AOF on) and the Slack stand-in (aiohttp, its own process), all on loopback; load from an aiohttp client in another",
        f"process on the same 2 cores, {CONCURRENCY} concurrent connections, {REQUESTS} requests per row after {WARMUP} warm-up.",
        "Latency is the client-observed time to Slack's acknowledgement (the HTTP response). *Saturated*: each",
        "connection sends its next request as soon as the last is answered (the most the process does);",
        f"*paced*: requests start at a steady {PACED_RATE}/s over the same {CONCURRENCY} connections (the target rate).",
        "Every open also posts the announcement and pages the primary (DM + thread mention), and every click",
        "updates the announcement and its thread, in the same process, so those figures include that work.",
        "",
        "### HTTP acknowledgement at concurrency 8 (targets: p99 ≤ 50 ms, ≥ 150 commands/s)",
        "",
        "| request | p50 ms | p99 ms | max ms | requests/s | non-200 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, (lat, wall, errors) in http.items():
        lines.append(
            f"| {name} | {statistics.median(lat):.1f} | {pct(lat, 99):.1f} | {max(lat):.1f} | {len(lat) / wall:.0f} | {errors} |"
        )
    lines += [
        "",
        "### Store transitions (target: ≥ 2,000/s)",
        "",
        "IncidentStore.change (HGET + Lua compare-and-set appending the timeline entry) against redis-server on loopback.",
        "",
        "| workload | result |",
        "|---|---:|",
    ]
    for name, value in store.items():
        shown = f"{value:,.0f}/s" if "refused" not in name else f"{value:.0f} of 8 (1 winner)"
        lines.append(f"| {name} | {shown} |")
    write_section("spine", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
