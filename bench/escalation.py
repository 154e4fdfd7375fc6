"""Escalation poller benchmark; writes its section of bench/RESULTS.md.

1,000 open incidents with pending deadlines in a real redis-server:
- the cost of one poller tick when nothing is due (target < 5 ms);
- 100 escalations falling due in the same second: time until every page is out (target ≤ 2 s).
The Escalator runs in-process against the Slack stand-in (aiohttp) in its own process.

Run: ``python -m bench.escalation`` (part of ``make bench``).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bench.results import machine_info, write_section
from bot.core import telemetry
from bot.core.settings import load_config_file
from bot.core.severity import Severity
from bot.core.slack import build_client
from bot.incidents.store import IncidentStore
from bot.oncall.escalator import Escalator
from bot.oncall.roster import Roster
from bot.oncall.store import OnCallStore
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import RecorderProcess

INCIDENTS = 1000
DUE_TOGETHER = 100
IDLE_TICKS = 300

CONFIG = """
channels: {incidents: C0INCIDENTS}
oncall: {timezone: UTC, rotation: [U0ALICE, U0BOB], lead: U0LEAD}
"""


def pages_sent() -> float:
    return sum(
        sample.value
        for metric in telemetry.PAGES_SENT.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


async def scenario(redis_url: str, api_url: str, config_path: Path) -> dict[str, float]:
    from redis.asyncio import Redis

    config = load_config_file(config_path)
    redis = Redis.from_url(redis_url, decode_responses=True)
    incidents = IncidentStore(redis, "bench redis")
    oncall = OnCallStore(redis, "bench redis")
    client = build_client("xoxb-bench-token", api_url)
    client.session = aiohttp.ClientSession()
    escalator = Escalator(
        client=client,
        incidents=incidents,
        store=oncall,
        roster=Roster(config.oncall, oncall),
        config=config,
        clock=lambda: datetime.now(UTC),
    )
    now = datetime.now(UTC)
    numbers = []
    for i in range(INCIDENTS):
        # The first DUE_TOGETHER were opened 4 h ago: their deadline (step 2, secondary) has just passed.
        opened = now - timedelta(hours=4, seconds=1) if i < DUE_TOGETHER else now
        inc = await incidents.open(
            title=f"bench {i}",
            description="",
            severity=Severity.P3,
            opened_by="U0BENCH",
            now=opened,
            respond_by=opened + timedelta(hours=4),
        )
        await incidents.set_announcement(inc.number, "C0INCIDENTS", f"1700000000.{inc.number:06d}")
        await oncall.record_page(inc.number, 1, _entry(now))  # step 1 done: the next step is hours away
        await oncall.arm(inc.number, now + timedelta(hours=4))
        numbers.append(inc.number)

    started = time.perf_counter()
    await escalator.tick(datetime.now(UTC))  # the poller's first tick also reconciles every open incident
    await escalator.reconcile()
    reconcile_ms = (time.perf_counter() - started) * 1000

    idle = []
    for _ in range(IDLE_TICKS):
        started = time.perf_counter()
        claimed = await escalator.tick(datetime.now(UTC))
        idle.append((time.perf_counter() - started) * 1000)
        assert claimed == 0

    due_now = datetime.now(UTC)
    for number in numbers[:DUE_TOGETHER]:
        await oncall.move(number, due_now)
    before = pages_sent()
    started = time.perf_counter()
    claimed = await escalator.tick(datetime.now(UTC))
    burst_s = time.perf_counter() - started
    sent = pages_sent() - before
    await escalator.drain(10)
    await client.session.close()
    await redis.aclose()
    return {
        "reconcile_ms": reconcile_ms,
        "idle_p50_ms": statistics.median(idle),
        "idle_p99_ms": sorted(idle)[int(len(idle) * 0.99) - 1],
        "idle_max_ms": max(idle),
        "burst_claimed": claimed,
        "burst_sent": sent,
        "burst_s": burst_s,
    }


def _entry(now: datetime):  # type: ignore[no-untyped-def]
    from bot.core.timeline import TimelineEntry

    return TimelineEntry(at=now, actor="U0ALICE", kind="was paged", text="step 1: primary, at open")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="chatops-bench-"))
    config_path = tmp / "c.yaml"
    config_path.write_text(CONFIG)
    redis = RedisServer().start()
    recorder = RecorderProcess().start()
    try:
        r = asyncio.run(scenario(redis.url, recorder.api_url, config_path))
    finally:
        recorder.stop()
        redis.cleanup()
    lines = [
        "## Escalation poller",
        "",
        f"Command: `python -m bench.escalation` (part of `make bench`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine_info()}.",
        f"Setup: {INCIDENTS:,} open incidents with pending deadlines in a throwaway redis-server (AOF on); the",
        "Escalator in-process, paging through the Slack stand-in (aiohttp, its own process) on loopback.",
        "",
        "| measure | result | target |",
        "|---|---:|---:|",
        f"| poller tick, nothing due (p50 / p99 / max of {IDLE_TICKS}) | {r['idle_p50_ms']:.2f} / "
        f"{r['idle_p99_ms']:.2f} / {r['idle_max_ms']:.2f} ms | < 5 ms |",
        f"| {DUE_TOGETHER} escalations due in the same second: claimed, DMs sent, time for the tick | "
        f"{r['burst_claimed']:.0f}, {r['burst_sent']:.0f}, {r['burst_s']:.2f} s | all within 2 s |",
        f"| first tick (reconciles all {INCIDENTS:,} open incidents against the schedule; every 30 s) | "
        f"{r['reconcile_ms']:.0f} ms | — |",
        "",
        "Each page is conversations.open (cached per user after the first) + chat.postMessage to the DM, a",
        "timeline entry, the next step scheduled; the thread mention runs beside the paging path.",
    ]
    write_section("escalation", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
