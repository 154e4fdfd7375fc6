"""Records the outbox retries are written once: a retry after a lost answer (a Redis that paused runs the buffered
first try when it wakes, and the outbox tries again) leaves one drill report and one audit entry, against a real Redis."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.core.redis import open_client
from bot.dr.model import Drill
from bot.dr.store import DrStore
from bot.operations.audit import AuditLog
from tests.support.redis_server import RedisServer


def test_a_drill_kept_twice_is_listed_once() -> None:
    server = RedisServer().start()

    async def main() -> list[str]:
        client = open_client(server.url)
        store = DrStore(client, "Redis at test")
        drill = Drill(id="dr-20261203-0300-ab12", by="schedule", started=datetime(2026, 12, 3, 3, tzinfo=UTC),
                      rto_target=3600.0)  # fmt: skip
        try:
            await store.keep(drill)
            await store.keep(drill)  # a retry after a lost answer
            return [d.id for d in await store.recent()]
        finally:
            await client.aclose()

    try:
        assert asyncio.run(main()) == ["dr-20261203-0300-ab12"]
    finally:
        server.cleanup()


def test_an_audit_entry_written_twice_under_one_id_is_in_the_stream_once() -> None:
    server = RedisServer().start()

    async def main() -> list[str]:
        client = open_client(server.url)
        audit = AuditLog(client, "Redis at test")
        entry = {"kind": "runbook", "runbook": "crashloop", "actor": "U0ALICE", "summary": "payments: OOMKilled"}
        try:
            await audit.record(entry, once="e1")
            await audit.record(entry, once="e1")  # the outbox's retry after the first try's answer was lost
            await audit.record(entry, once="e2")  # another run of the same runbook: its own entry
            now = datetime.now(UTC)
            return [e["runbook"] for e in await audit.entries(now - timedelta(minutes=1), now + timedelta(minutes=1))]
        finally:
            await client.aclose()

    try:
        assert asyncio.run(main()) == ["crashloop", "crashloop"]
    finally:
        server.cleanup()
