"""Alert webhooks at a sustained rate; writes its section of bench/RESULTS.md.

200 Alertmanager deliveries a second for 10 s into one ``chatops-bot serve`` process (a real Redis, the Slack
stand-in in its own process): 100 alert groups, each delivered 20 times as Alertmanager re-sends them (every fifth
delivery with one more alert firing), so 100 incidents are opened, announced and paged while the rest are
recognised as re-sends. Latency is the client-observed HTTP round trip; afterwards Redis is checked for duplicates.

Run: ``python -m bench.alerts`` (part of ``make bench``).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis as redis_sync

from bench.results import machine_info, write_section
from bench.run import CONCURRENCY, load, pct
from bot.core import keys
from tests.support.bot_process import BotProcess
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import RecorderProcess

RATE = 200
SECONDS = 10
GROUPS = 100
TOKEN = "bench-alerts-token-0123456789"
CONFIG = """channels: {incidents: C0INCIDENTS}
oncall: {rotation: [U0ALICE, U0BOB]}
alerts: {max_new_per_minute: 1000}
"""


def schedule(spread: bool) -> list[tuple[int, int]]:
    """(group, alerts firing) of each delivery. Burst: every group is new within the first half second (100
    incidents opened at once), then re-sent in turn. Spread: a new group every 0.1 s (10 incidents a second), the
    other deliveries re-sends of the groups open so far. A re-sent group fires one more alert now and then."""
    total = RATE * SECONDS
    out = []
    for i in range(total):
        if spread:
            step = total // GROUPS
            group = i // step if i % step == 0 else (i * 7919) % (i // step + 1)
        else:
            group = i % GROUPS
        out.append((group, 1 + (i // (total // 4)) if group % 5 == 0 else 1))
    return out


def payload(group: int, firing: int) -> bytes:
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": f"Bench{group}", "instance": f"node-{n}", "severity": "critical"},
            "annotations": {"summary": f"Bench alert {group}"},
            "startsAt": "2026-11-27T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com/graph",
            "fingerprint": f"{group:04d}{n:012d}",
        }
        for n in range(firing)
    ]
    body = {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="Bench{group}"}}',
        "status": "firing",
        "receiver": "bench",
        "groupLabels": {"alertname": f"Bench{group}"},
        "commonLabels": {"alertname": f"Bench{group}", "severity": "critical"},
        "commonAnnotations": {"summary": f"Bench alert {group}"},
        "externalURL": "http://alertmanager.example.com",
        "alerts": alerts,
    }
    return json.dumps(body).encode()


def run(spread: bool) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="chatops-bench-alerts-"))
    server = RedisServer().start()
    recorder = RecorderProcess().start()
    config = tmp / "c.yaml"
    config.write_text(CONFIG)
    bot = BotProcess(
        redis_url=server.url,
        slack_api_url=recorder.api_url,
        config_path=config,
        log_path=tmp / "bot.log",
        extra_env={"LOG_LEVEL": "INFO", "ALERTS_TOKEN": TOKEN},
    ).start()
    bodies = [payload(g, f) for g, f in schedule(spread)]
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    try:
        latencies, wall, errors = asyncio.run(
            load(bot.base_url, lambda i: ("POST", "/alerts/alertmanager", headers, bodies[i]), len(bodies), rate=RATE)
        )
        client = redis_sync.Redis.from_url(server.url, decode_responses=True)
        incidents = int(client.get(keys.SEQ) or 0)
        holders = [client.get(k) for k in client.scan_iter("alerts:*:incident")]
        client.close()
    finally:
        bot.terminate()
        recorder.stop()
        server.cleanup()
    return {
        "latencies": latencies,
        "wall": wall,
        "errors": errors,
        "incidents": incidents,
        "groups": len(holders),
        "duplicates": incidents - len(set(holders)),
    }


def main() -> None:
    total = RATE * SECONDS
    rows = []
    for name, spread in (("10 new groups a second", True), ("all 100 groups new in the first 0.5 s", False)):
        r = run(spread)
        lat = r["latencies"]
        rows.append(
            f"| {name} | {total / r['wall']:.0f}/s | {pct(lat, 50):.1f} | {pct(lat, 99):.1f} | {max(lat):.1f} | "
            f"{r['errors']} | {r['incidents']} for {r['groups']} groups | {r['duplicates']} |"
        )
    lines = [
        "## Alert webhooks at a sustained rate",
        "",
        f"Command: `python -m bench.alerts` (part of `make bench`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine_info()}.",
        f"Setup: one `chatops-bot serve` process, a throwaway `redis-server`, the Slack stand-in in its own process; "
        f"{total:,} POSTs",
        f"to `/alerts/alertmanager` paced at {RATE}/s for {SECONDS} s over {CONCURRENCY} connections from an aiohttp "
        "client on the same 2 cores, for",
        f"{GROUPS} alert groups (storm control raised to 1,000 a minute so that every group opens its own incident); "
        "re-sent groups",
        "now and then fire one more alert. Each opened incident is announced and its primary paged in the same "
        "process. Latency is the",
        "HTTP round trip (ms); duplicates are counted in Redis afterwards.",
        "",
        "| deliveries | rate | p50 | p99 | max | non-200 | incidents | duplicates |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Targets: 200/s for 10 s, p99 ≤ 50 ms, 0 duplicates.",
    ]
    write_section("alerts", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
