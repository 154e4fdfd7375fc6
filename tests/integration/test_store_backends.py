"""Every store method against one Redis server, a real Redis Cluster (3 masters, 3 replicas) and a Sentinel
deployment (master, replica, 3 Sentinels): each script and pipeline keeps its keys in one hash slot, or it
fails here with CROSSSLOT/MOVED. Also: an incident is never lost when the id counter fell behind."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core import keys
from bot.core.redis import RedisConnection, connect
from bot.core.severity import Severity
from bot.core.timeline import TimelineEntry
from bot.core.versioned import TIMELINE_MAXLEN
from bot.incidents import machine
from bot.incidents.model import Action, State
from bot.incidents.store import IncidentStore
from bot.oncall.schedule import Cover
from bot.oncall.store import ChainRestarted, OnCallStore
from bot.operations.audit import AuditLog
from bot.operations.offers import Offers
from tests.support.redis_server import RedisServer
from tests.support.redis_topologies import LocalCluster, LocalSentinel

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=["single", "cluster", "sentinel"])
def redis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    deployment: Any = {"single": RedisServer, "cluster": LocalCluster, "sentinel": LocalSentinel}[request.param]()
    deployment.start()
    yield deployment.url
    deployment.cleanup()


def run(url: str, body: Callable[[RedisConnection], Awaitable[None]]) -> None:
    async def main() -> None:
        conn = connect(url, Path("unused"))
        try:
            await body(conn)
        finally:
            await conn.close()

    asyncio.run(main())


async def opened(store: IncidentStore, title: str) -> int:
    incident = await store.open(
        title=title,
        description="",
        severity=Severity.P1,
        opened_by="U1",
        now=NOW,
        respond_by=NOW + timedelta(minutes=15),
    )
    return incident.number


def test_every_incident_store_method(redis_url: str) -> None:
    async def body(conn: RedisConnection) -> None:
        store = IncidentStore(conn.client, conn.description)
        assert await store.ping()
        a, b = await opened(store, "first"), await opened(store, "second")
        assert b == a + 1
        assert (await store.get(a)).title == "first"
        acked, entry = await store.change(a, lambda cur: machine.apply(cur, Action.ACKNOWLEDGE, "U2", NOW))
        assert acked.state is State.ACKNOWLEDGED and entry.entry_id
        assert {i.number for i in await store.active()} >= {a, b}
        assert [i.number for i in await store.recent(NOW - timedelta(days=1))][:2] == [b, a]
        entries, total = await store.timeline(a)
        assert total == 2 and [e.kind for e in entries] == ["opened", "acknowledged"]
        assert [e.kind for e in await store.last_timeline(a, 1)] == ["acknowledged"]
        assert await store.claim_announcement(a)
        assert not await store.claim_announcement(a)
        assert await store.set_announcement(a, "C1", "1.000001") == 2
        assert await store.posted_announcement(a, timeout=1) == ("C1", "1.000001")
        incident, where = await store.snapshot(a)
        assert where == ("C1", "1.000001") and incident.number == a
        assert await store.where_to_reply(incident) == ("C1", "1.000001")
        await store.release_announcement(b)
        await store.set_room("C0ROOM", b)
        assert await store.room_of("C0ROOM") == b and await store.room_of("C0NONE") is None
        assert await store.version(a) == 2
        assert await store.claim("digest:tick:x", 60) and not await store.claim("digest:tick:x", 60)

    run(redis_url, body)


def test_every_oncall_and_operations_store_method(redis_url: str) -> None:
    async def body(conn: RedisConnection) -> None:
        store = IncidentStore(conn.client, conn.description)
        oncall = OnCallStore(conn.client, conn.description)
        number = await opened(store, "paged")
        await oncall.arm(number, NOW)
        await oncall.move(number, NOW - timedelta(seconds=1))
        assert await oncall.is_scheduled([number]) == {number}
        assert number in await oncall.claim_due(NOW, NOW + timedelta(seconds=60))
        incident, step, sent, early, _, _ = await oncall.state(number)
        assert incident is not None and (step, sent, early) == (1, False, False)
        page = TimelineEntry(at=NOW, actor="U1", kind="was paged", text="step 1")
        assert await oncall.record_page(number, 1, page, next_at_once=True)
        assert not await oncall.record_page(number, 1, page)
        _, step, sent, early, _, _ = await oncall.state(number)
        assert (step, sent, early) == (2, False, True)
        await oncall.complete(number, NOW + timedelta(minutes=5))
        await oncall.cancel(number)
        assert await oncall.is_scheduled([number]) == set()
        assert await oncall.anchor(date(2026, 11, 23)) == await oncall.anchor(date(2030, 1, 7))
        await oncall.set_override("U9", NOW + timedelta(hours=4), "U1", NOW)
        assert (await oncall.override(NOW) or {})["user"] == "U9"
        await oncall.clear_override("U1", NOW)
        assert await oncall.override(NOW) is None

        offers = Offers(conn.client, conn.description)
        offer = await offers.offer({"kind": "scale", "namespace": "ns", "deployment": "app", "replicas": 2})
        assert (await offers.get(offer) or {})["replicas"] == 2
        assert await offers.take(offer, "U1", NOW, "t1") is None
        assert await offers.take(offer, "U1", NOW, "t1") is None  # the same token: still its own claim
        held = await offers.take(offer, "U2", NOW, "t2")
        assert held is not None and held.by == "U1" and held.state == "claimed"
        await offers.give_back(offer, "t2")  # not its claim: nothing happens
        await offers.settle(offer, "t1", "done")
        held = await offers.take(offer, "U2", NOW, "t2")
        assert held is not None and held.state == "done"
        await offers.give_back(offer, "t1")
        assert await offers.take(offer, "U2", NOW, "t2") is None
        await AuditLog(conn.client, conn.description).record({"kind": "runbook", "actor": "U1", "n": 1})
        assert await conn.client.xlen(keys.AUDIT) >= 1

    run(redis_url, body)


def test_a_hand_over_while_a_page_is_out_and_a_swaps_two_halves(redis_url: str) -> None:
    async def body(conn: RedisConnection) -> None:
        store = IncidentStore(conn.client, conn.description)
        oncall = OnCallStore(conn.client, conn.description)
        number = await opened(store, "handed over")
        page = TimelineEntry(at=NOW, actor="U1", kind="was paged", text="step 1")
        # Handed over while a page is out: the chain restarts in the next generation (once, whoever is first) and is
        # armed at once, but not taken by another replica while this one holds it; the old page is not recorded in
        # the new chain, and the sooner due time outlives the old chain's next.
        await oncall.arm(number, NOW)
        assert number in await oncall.claim_due(NOW, NOW + timedelta(seconds=60))
        old = (await oncall.state(number)).generation
        assert old == "0"
        assert await oncall.restart(number, 1, NOW)
        await oncall.arm(number, NOW)
        assert await oncall.claim_due(NOW, NOW + timedelta(seconds=60)) == []
        with pytest.raises(ChainRestarted):
            await oncall.record_page(number, 1, page, generation=old)
        await oncall.complete(number, NOW + timedelta(minutes=30))
        assert number in await oncall.claim_due(NOW, NOW + timedelta(seconds=60))
        fresh = await oncall.state(number)
        assert (fresh.step, fresh.sent, fresh.generation, fresh.since) == (1, False, "1", NOW)
        assert await oncall.record_page(number, 1, page, generation=fresh.generation)
        assert not await oncall.restart(
            number, 1, NOW + timedelta(minutes=1)
        )  # the hand-over's own restart, after the page: nothing forgotten
        assert (await oncall.state(number)).step == 2
        # A swap's two halves are kept together or not at all.
        one = Cover("U2", NOW, NOW + timedelta(hours=4), replaces="U1", by="U1", kind="swap")
        assert await oncall.add_covers("web", [("r:a", one)], NOW)
        assert not await oncall.add_covers("web", [("r:a", one), ("r:b", one)], NOW)
        assert [c.user for c in await oncall.covers("web")] == ["U2"]
        await oncall.cancel(number)

    run(redis_url, body)


def test_a_counter_that_fell_behind_never_loses_an_incident(redis_url: str) -> None:
    async def body(conn: RedisConnection) -> None:
        store = IncidentStore(conn.client, conn.description)
        first = await opened(store, "kept")
        last = first
        for i in range(5):
            last = await opened(store, f"kept {i}")
        await conn.client.set(keys.SEQ, str(first - 1))  # as if restored from an older copy (or evicted)
        new = await opened(store, "new one")
        assert new == last + 1
        assert (await store.get(first)).title == "kept" and (await store.get(new)).title == "new one"
        assert await conn.client.get(keys.SEQ) == str(new)

    run(redis_url, body)


def test_an_incident_timeline_stops_growing_at_its_cap(redis_server: RedisServer) -> None:
    """Anyone may post updates: each incident's stream keeps about its newest TIMELINE_MAXLEN entries."""

    async def body(conn: RedisConnection) -> None:
        store = IncidentStore(conn.client, conn.description)
        number = await opened(store, "chatty")
        for i in range(TIMELINE_MAXLEN + 300):
            await store.change(number, lambda cur, i=i: machine.status_update(cur, f"update {i}", "U1", NOW))
        length = await conn.client.xlen(keys.timeline(number))
        assert TIMELINE_MAXLEN <= length <= TIMELINE_MAXLEN + 200, length
        newest = await store.last_timeline(number, 1)
        assert newest[0].text == f"update {TIMELINE_MAXLEN + 299}"

    run(redis_server.url, body)
