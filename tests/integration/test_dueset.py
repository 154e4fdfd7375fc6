"""A due set's next deadline after a moment, against a real Redis: what the shell's ``wait`` stops at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.dueset import DueSet
from bot.core.redis import Client
from tests.support.redis_server import with_client

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_the_next_deadline_is_after_the_moment_asked_and_counts_leases_that_end() -> None:
    async def use(client: Client) -> list[datetime | None]:
        due = DueSet(client, "Redis at test", "{t}:due", "{t}:pending")
        found = [await due.earliest(T0)]  # nothing scheduled
        await due.arm({"a": T0 - timedelta(minutes=1), "b": T0 + timedelta(minutes=15)})
        found.append(await due.earliest(T0))  # "a" is due already and not yet taken: it hides nothing
        assert await due.claim_due(T0, T0 + timedelta(minutes=5)) == ["a"]  # taken, its lease ends at 09:05
        found.append(await due.earliest(T0))
        found.append(await due.earliest(T0 + timedelta(minutes=5)))  # the lease's end is not after itself
        return found

    assert with_client(use) == [None, T0 + timedelta(minutes=15), T0 + timedelta(minutes=5), T0 + timedelta(minutes=15)]
