"""The capacity samples in a real redis-server: one write a day per cluster, 90 days kept, a store that fails named."""

from __future__ import annotations

import asyncio

import pytest
import redis
from redis.asyncio import Redis

from bot.capacity.store import CapacityStore
from bot.capacity.trend import Sample
from bot.core import keys
from bot.core.errors import DependencyError
from tests.support.net import free_port
from tests.support.redis_server import RedisServer

DAY = 20_500


def store_on(url: str) -> tuple[CapacityStore, Redis]:
    client = Redis.from_url(url, decode_responses=True)
    return CapacityStore(client, "redis under test"), client


def test_a_day_is_written_once_and_samples_past_90_days_are_dropped(redis_server: RedisServer) -> None:
    sync = redis.Redis.from_url(redis_server.url, decode_responses=True)
    key = keys.capacity_samples("store-test", "general")
    sync.delete(key, keys.capacity_sampled("store-test", str(DAY)))
    sync.hset(key, mapping={str(DAY - 91): "1,1,1,1", str(DAY - 90): "2,2,2,2", str(DAY - 89): "3,3,3,3"})

    async def run() -> tuple[bool, bool, dict[str, list[Sample]]]:
        store, client = store_on(redis_server.url)
        try:
            first = await store.record("store-test", DAY, {"general": Sample(DAY, 4000, 8192, 8000, 16384)})
            again = await store.record("store-test", DAY, {"general": Sample(DAY, 1, 1, 1, 1)})  # another replica
            return first, again, await store.history("store-test", ["general", "absent"])
        finally:
            await client.aclose()

    first, again, history = asyncio.run(run())
    assert (first, again) == (True, False)
    assert sorted(sync.hkeys(key)) == [str(DAY - 89), str(DAY)]  # 90 days: day-89 … day
    assert sync.hget(key, str(DAY)) == "4000,8192,8000,16384"
    assert [s.day for s in history["general"]] == [DAY - 89, DAY] and history["absent"] == []
    assert 0 < sync.ttl(keys.capacity_sampled("store-test", str(DAY))) <= 2 * 86_400
    sync.close()


def test_a_store_that_does_not_answer_is_named() -> None:
    async def run() -> None:
        store, client = store_on(f"redis://127.0.0.1:{free_port()}/0")
        try:
            await store.record("store-test", DAY, {"general": Sample(DAY, 1, 1, 1, 1)})
        finally:
            await client.aclose()

    with pytest.raises(DependencyError, match="the state store \\(redis under test\\) is unavailable"):
        asyncio.run(run())
