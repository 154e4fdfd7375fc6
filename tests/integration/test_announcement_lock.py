"""The announcement's posting lock outlives a slow post: a change arriving while Slack holds the first post back
(Retry-After) must not post a second announcement. The bot's own Announcer and IncidentStore, in process, against
the test Redis and the Slack stand-in over HTTP; the lock's TTL is set short so the test need not wait 30 s."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.board import Board
from bot.core.clock import utcnow
from bot.core.redis import connect
from bot.core.severity import Severity
from bot.core.slack import build_client
from bot.incidents.announcement import Announcer
from bot.incidents.store import IncidentStore
from tests.support.bot_process import BOT_TOKEN
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder

CHANNEL = "C0SLOWANNOUNCE"


def test_a_slow_announcement_keeps_its_lock(redis_server: RedisServer, recorder: SlackRecorder) -> None:
    def attempts() -> list[object]:
        return [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == CHANNEL]

    async def main() -> None:
        conn = connect(redis_server.url, Path("unused"))
        client = build_client(BOT_TOKEN, recorder.api_url)
        store = IncidentStore(conn.client, conn.description)
        announcer = Announcer(client, store, CHANNEL, utcnow, board=Board().freeze(), lock_ttl=1)
        now = datetime.now(UTC)
        incident = await store.open(
            title="Slow announcement",
            description="",
            severity=Severity.P2,
            opened_by="U1",
            now=now,
            respond_by=now + timedelta(hours=1),
        )
        recorder.rate_limit("chat.postMessage", times=2, retry_after=2, channel=CHANNEL)
        first = asyncio.create_task(announcer.announce(incident))
        while len(attempts()) < 2:  # the second attempt comes after the first Retry-After: past the 1 s TTL
            await asyncio.sleep(0.05)
        assert await announcer.announce(incident) is None  # a change meanwhile finds the post still in flight
        assert await first is not None
        await conn.close()

    try:
        asyncio.run(main())
    finally:
        recorder.clear_faults()
    posted = [c for c in attempts() if not c.limited]  # type: ignore[attr-defined]
    assert len(posted) == 1, posted
