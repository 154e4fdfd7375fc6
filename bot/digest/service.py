"""The health digest in Slack: posted on the ``digest.cron`` schedule (exactly once per tick across replicas) and
answered on ``/health``, where one build in flight is shared by everyone asking and kept for a minute."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.core import keys, slack, telemetry
from bot.core.errors import DependencyError
from bot.core.schedule import ScheduledPost
from bot.core.settings.config import BotConfig
from bot.core.slack import SLACK_ERRORS
from bot.digest import render
from bot.digest.build import DigestBuilder
from bot.digest.model import Digest
from runbooks import cron

log = logging.getLogger(__name__)

FRESH_FOR = 60.0
LAST_TTL = 7 * 86400


class DigestService:
    def __init__(self, config: BotConfig, client: AsyncWebClient, builder: DigestBuilder) -> None:
        self.config = config
        self.client = client
        self.builder = builder
        self.trigger = cron.trigger(config.digest.cron, ZoneInfo(config.digest.timezone))
        self._building: asyncio.Future[Digest] | None = None
        self._latest: tuple[float, Digest] | None = None

    async def build(self) -> Digest:
        """A fresh digest."""
        digest = await self.builder.build()
        await self._remember(digest)
        return digest

    async def _remember(self, digest: Digest) -> None:
        """The verdict kept for the App Home (best effort: a digest is never lost to this)."""
        store = self.builder.store
        if store is None:
            return
        value = json.dumps({"at": digest.at.isoformat(), "verdict": render.verdict(digest)})
        try:
            async with store.io():
                await store.redis.set(keys.DIGEST_LAST, value, ex=LAST_TTL)
        except DependencyError as exc:
            log.warning("the digest's verdict was not kept: %s", exc)

    async def last(self) -> tuple[datetime, str] | None:
        """The newest digest's time and verdict, from any replica (None: none yet, or the store is away)."""
        store = self.builder.store
        if store is None:
            return None
        try:
            async with store.io():
                raw = await store.redis.get(keys.DIGEST_LAST)
        except DependencyError:
            return None
        if not raw:
            return None
        data = json.loads(raw)
        return datetime.fromisoformat(data["at"]), str(data["verdict"])

    async def recent(self) -> Digest:
        """For ``/health``: the digest built in the last minute, else the one being built now, else a new one.

        However many people ask at once, one build runs (a digest of a large cluster costs real memory)."""
        if self._latest is not None and time.monotonic() - self._latest[0] < FRESH_FOR:
            return self._latest[1]
        if self._building is None:
            self._building = asyncio.ensure_future(self._build_and_keep())
        return await asyncio.shield(self._building)

    async def _build_and_keep(self) -> Digest:
        try:
            digest = await self.build()
            self._latest = (time.monotonic(), digest)
            return digest
        finally:
            self._building = None

    def scheduled_post(self) -> ScheduledPost | None:
        """The cron job, when there is a channel to post to."""
        if self.config.channels.digest is None:
            return None
        return ScheduledPost("health-digest", self.trigger, lambda tick: keys.digest_tick(tick.isoformat()), self.post)

    async def post(self, tick: datetime) -> None:
        """Build and post the digest for ``tick`` to ``channels.digest`` (the tick is already claimed; a Slack
        failure is raised, so the poller tries again)."""
        channel = self.config.channels.digest
        assert channel is not None
        digest = await self.build()
        first, *rest = render.messages(digest)
        text = render.verdict(digest)
        try:
            posted = await self.client.chat_postMessage(channel=channel, text=text, blocks=first, unfurl_links=False)
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", f"the digest for {tick}", exc)
            raise
        for i, more in enumerate(rest, start=2):  # the parent is out: a failed reply is said, not posted twice
            try:
                await self.client.chat_postMessage(
                    channel=channel, thread_ts=posted["ts"], text=f"{text} ({i}/{len(rest) + 1})", blocks=more,
                    unfurl_links=False,
                )  # fmt: skip
            except SLACK_ERRORS as exc:
                slack.failed("chat.postMessage", f"part {i} of the digest for {tick}", exc)
                break
        telemetry.DIGESTS_POSTED.labels(trigger="schedule").inc()
        log.info("health digest for %s posted: %s", tick, render.verdict(digest))
