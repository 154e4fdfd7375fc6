"""A due set's next deadline after a moment, against a real Redis: what the shell's ``wait`` stops at."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.core.dueset import DueSet
from bot.core.redis import open_client
from tests.support.redis_server import RedisServer

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_the_next_deadline_is_after_the_moment_asked_and_counts_leases_that_end() -> None:
    server = RedisServer().start()

    async def main() -> list[datetime | None]:
        client = open_client(server.url)
        due = DueSet(client, "Redis at test", "{t}:due", "{t}:pending")
        try:
            found = [await due.earliest(T0)]  # nothing scheduled
            await due.arm({"a": T0 - timedelta(minutes=1), "b": T0 + timedelta(minutes=15)})
            found.append(await due.earliest(T0))  # "a" is due already and not yet taken: it hides nothing
            assert await due.claim_due(T0, T0 + timedelta(minutes=5)) == ["a"]  # taken, its lease ends at 09:05
            found.append(await due.earliest(T0))
            found.append(await due.earliest(T0 + timedelta(minutes=5)))  # the lease's end is not after itself
            return found
        finally:
            await client.aclose()

    try:
        assert asyncio.run(main()) == [
            None,
            T0 + timedelta(minutes=15),
            T0 + timedelta(minutes=5),
            T0 + timedelta(minutes=15),
        ]
    finally:
        server.cleanup()
