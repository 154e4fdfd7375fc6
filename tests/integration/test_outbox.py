"""Records the outbox retries are written once: a retry after a lost answer (a Redis that paused runs the buffered
first try when it wakes, and the outbox tries again) leaves one drill report and one audit entry, against a real Redis."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import keys
from bot.core.outbox import Outbox
from bot.core.redis import Client, StoreUnavailable
from bot.core.tasks import BackgroundTasks
from bot.dr.model import Drill
from bot.dr.store import DrStore
from bot.operations.audit import AuditLog
from tests.support.redis_server import with_client


async def recent(audit: AuditLog, field: str) -> list[str]:
    """``field`` of each audit entry of the last minute, oldest first."""
    now = datetime.now(UTC)
    return [e[field] for e in await audit.entries(now - timedelta(minutes=1), now + timedelta(minutes=1))]


def test_a_drill_kept_twice_is_listed_once() -> None:
    async def use(client: Client) -> list[str]:
        store = DrStore(client, "Redis at test")
        drill = Drill(id="dr-20261203-0300-ab12", by="schedule", started=datetime(2026, 12, 3, 3, tzinfo=UTC),
                      rto_target=3600.0)  # fmt: skip
        await store.keep(drill)
        await store.keep(drill)  # a retry after a lost answer
        return [d.id for d in await store.recent()]

    assert with_client(use) == ["dr-20261203-0300-ab12"]


def test_an_audit_entry_written_twice_under_one_id_is_in_the_stream_once() -> None:
    async def use(client: Client) -> list[str]:
        audit = AuditLog(client, "Redis at test")
        entry = {"kind": "runbook", "runbook": "crashloop", "actor": "U0ALICE", "summary": "payments: OOMKilled"}
        await audit.record(entry, once="e1")
        await audit.record(entry, once="e1")  # the outbox's retry after the first try's answer was lost
        await audit.record(entry, once="e2")  # another run of the same runbook: its own entry
        return await recent(audit, "runbook")

    assert with_client(use) == ["crashloop", "crashloop"]


def test_an_audit_entry_whose_write_failed_is_written_by_its_retry() -> None:
    """The mark comes after the XADD: a write Redis refused (here the stream's key holds a string) leaves nothing
    that would make the retry skip the entry."""

    async def use(client: Client) -> list[str]:
        audit = AuditLog(client, "Redis at test")
        entry = {"kind": "maintenance-schedule", "actor": "U0ALICE", "target": "MW-1", "result": "done"}
        await client.set(keys.AUDIT, "not a stream")
        with pytest.raises(StoreUnavailable):
            await audit.record(entry, once="e1")
        await client.delete(keys.AUDIT)
        await audit.record(entry, once="e1")  # the retry
        return await recent(audit, "target")

    assert with_client(use) == ["MW-1"]


def test_the_outbox_names_a_record_briefly_while_it_retries_and_in_full_only_when_it_is_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        tasks = BackgroundTasks()
        outbox = Outbox(tasks, retry_every=0.01, retry_for=0.05)

        async def refused() -> None:
            raise StoreUnavailable("the state store (Redis at test) is unavailable: ConnectionError")

        assert not await outbox.deliver("audit entry ab12 (runbook crashloop)", refused, lost="{'summary': 'in full'}")
        await tasks.drain(timeout=5)
        assert outbox.waiting == 0

    with caplog.at_level(logging.INFO, logger="bot.core.outbox"):
        asyncio.run(main())
    said = [r.getMessage() for r in caplog.records if r.name == "bot.core.outbox"]
    assert said[0].startswith("audit entry ab12 (runbook crashloop) not written yet") and "in full" not in said[0]
    assert said[-1].startswith("LOST after 0 s of retries: {'summary': 'in full'}")
