"""The one poller against a real Redis: scheduled posts once per tick across replicas, retried by any replica when
they fail, taken over when the replica posting them dies, and periodic jobs at their pace on the bots' clock."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.core.board import Board, Periodic
from bot.core.clock import MovableClock
from bot.core.redis import StoreUnavailable, open_client
from bot.core.schedule import LEASE, ScheduledPost, TickClaims
from bot.core.tasks import BackgroundTasks
from bot.runtime.poller import Poller
from tests.support.redis_server import RedisServer

EVERY_MINUTE = CronTrigger(minute="*", timezone=UTC)
HOURLY = CronTrigger(minute=0, timezone=UTC)


def post(run: Callable[[datetime], Awaitable[None]], trigger: object = EVERY_MINUTE, **kwargs: object) -> ScheduledPost:
    tag = uuid.uuid4().hex[:8]  # each test its own claim keys
    return ScheduledPost(f"test-{tag}", trigger, lambda tick: f"test:{tag}:{tick.isoformat()}", run, **kwargs)  # type: ignore[arg-type]


def replica(url: str, clock: MovableClock, *items: object) -> Poller:
    board = Board()
    board.declare(*items)  # type: ignore[arg-type]
    client = open_client(url)
    return Poller(
        board=board.freeze(),
        claims=TickClaims(client, "test"),
        clock=clock,
        interval=timedelta(seconds=1),
        tasks=BackgroundTasks(),
        wake=asyncio.Event(),
    )


async def tick(*pollers: Poller) -> None:
    """One tick of each, and the posts they started finished."""
    for poller in pollers:
        await poller.tick()
    for poller in pollers:
        await poller.tasks.drain(10)


def past_next_minute(clock: MovableClock) -> None:
    now = clock()
    clock.advance(timedelta(seconds=60 - now.second + 1) - timedelta(microseconds=now.microsecond))


def past_next_hour(clock: MovableClock) -> None:
    now = clock()
    clock.advance(
        timedelta(minutes=59 - now.minute, seconds=60 - now.second + 1) - timedelta(microseconds=now.microsecond)
    )


def test_a_tick_is_posted_once_by_one_of_two_replicas(redis_server: RedisServer) -> None:
    ran: list[datetime] = []

    async def run(when: datetime) -> None:
        ran.append(when)

    async def main() -> None:
        clock = MovableClock()
        the_post = post(run)
        a, b = replica(redis_server.url, clock, the_post), replica(redis_server.url, clock, the_post)
        await tick(a, b)
        assert ran == []  # the tick before the replicas started belonged to whoever ran then
        past_next_minute(clock)
        await tick(a, b)
        await tick(b, a)
        assert len(ran) == 1 and ran[0].second == 0

    asyncio.run(main())


def test_a_tick_before_start_is_caught_up_only_when_the_post_says_so(redis_server: RedisServer) -> None:
    ran: list[datetime] = []

    async def run(when: datetime) -> None:
        ran.append(when)

    async def main() -> None:
        clock = MovableClock()
        await tick(replica(redis_server.url, clock, post(run, catch_up=True)))
        assert len(ran) == 1  # the minute just begun, within the grace
        await tick(replica(redis_server.url, clock, post(run, grace=timedelta(seconds=0))))
        assert len(ran) == 1

    asyncio.run(main())


def test_a_failed_post_is_retried_by_any_replica_after_its_wait_then_given_up(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[int] = []
    fail_until = [2]

    async def run(when: datetime) -> None:
        attempts.append(len(attempts) + 1)
        if len(attempts) <= fail_until[0]:
            raise RuntimeError("Slack said no")

    async def main() -> None:
        clock = MovableClock()
        waits = (timedelta(seconds=30), timedelta(minutes=2))
        the_post = post(run, HOURLY, retry_waits=waits)
        a, b = replica(redis_server.url, clock, the_post), replica(redis_server.url, clock, the_post)
        past_next_hour(clock)
        await tick(a, b)
        assert attempts == [1]
        clock.advance(timedelta(seconds=20))
        await tick(a, b)
        assert attempts == [1]  # not before the first wait
        clock.advance(timedelta(seconds=11))
        await tick(b, a)
        assert attempts == [1, 2]
        clock.advance(timedelta(minutes=2, seconds=1))
        await tick(a, b)
        await tick(a, b)
        assert attempts == [1, 2, 3]  # posted at last: done, never again
        clock.advance(timedelta(minutes=10))
        await tick(a, b)
        assert attempts == [1, 2, 3]

    asyncio.run(main())
    fail_until[0] = 10
    attempts.clear()

    async def gives_up() -> None:
        clock = MovableClock()
        the_post = post(run, HOURLY, retry_waits=(timedelta(seconds=30),))
        a = replica(redis_server.url, clock, the_post)
        past_next_hour(clock)
        await tick(a)
        clock.advance(timedelta(seconds=31))
        await tick(a)
        clock.advance(timedelta(minutes=5))
        await tick(a)
        assert attempts == [1, 2]

    with caplog.at_level(logging.ERROR, logger="bot.runtime.poller"):
        asyncio.run(gives_up())
    assert any("not posted after 2 attempts" in r.getMessage() for r in caplog.records)


def test_a_replica_that_dies_while_posting_leaves_the_tick_to_another_once_its_lease_lapses(
    redis_server: RedisServer,
) -> None:
    posted: list[str] = []

    async def run(when: datetime) -> None:
        posted.append("b")

    async def main() -> None:
        clock = MovableClock()
        the_post = post(run)
        past_next_minute(clock)
        tick_time = the_post.tick_of(clock())
        assert tick_time is not None
        dead = TickClaims(open_client(redis_server.url), "test")
        taken = await dead.take(the_post.claim_key(tick_time), "dead-replica", clock(), LEASE, timedelta(days=1))
        assert taken.state == "claimed"  # ... and the replica is killed before it posts
        b = replica(redis_server.url, clock, the_post)
        await tick(b)
        assert posted == []
        clock.advance(LEASE + timedelta(seconds=1))
        await tick(b)
        assert posted == ["b"]

    asyncio.run(main())


def test_periodic_jobs_run_at_their_pace_on_the_clock_and_an_outage_is_said_once(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    runs: list[str] = []
    down = [False]

    async def often(now: datetime) -> None:
        runs.append("often")

    async def rarely(now: datetime) -> None:
        runs.append("rarely")
        if down[0]:
            raise StoreUnavailable("the state store (test) is unavailable: ConnectionError")

    async def main() -> None:
        clock = MovableClock()
        poller = replica(
            redis_server.url,
            clock,
            Periodic("often", timedelta(0), often),
            Periodic("rarely", timedelta(minutes=10), rarely),
        )
        await tick(poller)
        await tick(poller)
        assert runs == ["often", "rarely", "often"]
        clock.advance(timedelta(minutes=10))
        down[0] = True
        await tick(poller)
        clock.advance(timedelta(minutes=10))
        await tick(poller)
        down[0] = False
        clock.advance(timedelta(minutes=10))
        await tick(poller)
        assert runs.count("rarely") == 4

    with caplog.at_level(logging.WARNING, logger="bot.runtime.poller"):
        asyncio.run(main())
    said = [r.getMessage() for r in caplog.records]
    assert sum("rarely paused until the state store answers" in m for m in said) == 1
    assert any("rarely recovered" in m for m in said)


def test_a_job_that_waits_after_start_first_runs_then_and_then_at_its_pace(redis_server: RedisServer) -> None:
    """``first_after`` (the capacity sample: start-up answers people first): no run before that long after the
    poller started, by the bots' clock; then at once, and every ``every`` after."""
    runs: list[datetime] = []

    async def sample(now: datetime) -> None:
        runs.append(now)

    async def main() -> None:
        clock = MovableClock()
        started = clock()
        poller = replica(redis_server.url, clock, Periodic("later", timedelta(hours=1), sample, timedelta(minutes=1)))
        await tick(poller)
        clock.advance(timedelta(seconds=59))
        await tick(poller)
        assert runs == []
        clock.advance(timedelta(seconds=1))
        await tick(poller)
        assert len(runs) == 1 and runs[0] - started >= timedelta(minutes=1)
        clock.advance(timedelta(minutes=59))
        await tick(poller)
        assert len(runs) == 1
        clock.advance(timedelta(minutes=1))
        await tick(poller)
        assert len(runs) == 2

    asyncio.run(main())


def test_a_claim_an_earlier_version_wrote_holds_while_it_lasts(redis_server: RedisServer) -> None:
    """The previous version claimed a tick with "1" (posted, kept two days) and, after a failure, "retry" with a
    short TTL: neither is taken again while it lasts, and a tick whose "retry" expired is posted."""
    import redis as sync_redis

    posted: list[datetime] = []

    async def run(when: datetime) -> None:
        posted.append(when)

    client = sync_redis.Redis.from_url(redis_server.url)

    async def main() -> None:
        clock = MovableClock()
        the_post = post(run, HOURLY)
        first, poller = replica(redis_server.url, clock, the_post), replica(redis_server.url, clock, the_post)
        past_next_hour(clock)
        tick_time = the_post.tick_of(clock())
        assert tick_time is not None
        client.set(the_post.claim_key(tick_time), "1", ex=3600)
        await tick(first)
        assert posted == []
        client.set(the_post.claim_key(tick_time), "retry", px=200)
        await tick(poller)
        assert posted == []
        while client.exists(the_post.claim_key(tick_time)):
            await asyncio.sleep(0.05)
        clock.advance(timedelta(seconds=1))  # past what it was told to wait
        await tick(poller)
        assert len(posted) == 1

    try:
        asyncio.run(main())
    finally:
        client.close()
