"""Where a ``wait`` stops: at every scheduled post due in the interval (so each goes out as it would have) and at
least every hour, the end last."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from bot.core.schedule import ScheduledPost
from bot.shell.running import Running
from runbooks.cron import trigger


def post(key: str, cron: str) -> ScheduledPost:
    async def run(tick: datetime) -> None:
        return None

    return ScheduledPost(key=key, trigger=trigger(cron, UTC), claim_key=lambda tick: f"{key}:{tick}", run=run)


def running(*posts: ScheduledPost) -> Running:
    services: Any = SimpleNamespace(poller=SimpleNamespace(posts=list(posts)))
    return Running(services)


START = datetime(2026, 12, 2, 18, 41, tzinfo=UTC)  # a Wednesday


def test_a_day_stops_just_after_the_digest_and_every_hour_and_ends_at_the_end() -> None:
    stops = running(post("digest", "0 8 * * *")).stops(START, START + timedelta(days=1))
    assert datetime(2026, 12, 3, 8, 0, 1, tzinfo=UTC) in stops
    assert stops[-1] == START + timedelta(days=1)
    assert stops == sorted(stops) and all(s > START for s in stops)
    gaps = [b - a for a, b in zip([START, *stops], stops, strict=False)]
    assert max(gaps) <= timedelta(hours=1)


def test_a_frequent_post_does_not_crowd_out_a_daily_one_over_a_month() -> None:
    stops = running(post("often", "*/5 * * * *"), post("digest", "0 8 * * *")).stops(START, START + timedelta(days=30))
    digests = [s for s in stops if (s.hour, s.minute, s.second) == (8, 0, 1)]
    assert len(digests) == 30


def test_nothing_due_still_moves_an_hour_at_a_time() -> None:
    assert running().stops(START, START + timedelta(minutes=90)) == [
        START + timedelta(hours=1),
        START + timedelta(minutes=90),
    ]
