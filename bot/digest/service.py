"""Building and posting the health digest: on the ``digest.cron`` schedule (exactly once per tick across
replicas), on demand with ``/health``, and in the terminal with ``chatops-bot digest --print``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import keys, slack, telemetry
from bot.core.redis import StoreUnavailable
from bot.core.schedule import ScheduledPost
from bot.core.settings.config import BotConfig
from bot.core.slack import SLACK_ERRORS
from bot.digest import render
from bot.digest.model import Digest
from bot.incidents.store import IncidentStore
from runbooks.checklist.collect import collect_all
from runbooks.checklist.model import ClusterHealth
from runbooks.kube.client import Cluster, ClusterSet
from runbooks.prometheus.client import collect as collect_metrics

log = logging.getLogger(__name__)


class DigestService:
    def __init__(
        self,
        config: BotConfig,
        client: AsyncWebClient | None,
        store: IncidentStore | None,
        clock: Callable[[], datetime],
        clusters: ClusterSet,
    ) -> None:
        self.config = config
        self.client = client
        self.store = store
        self.clock = clock
        self.clusters = clusters
        self.trigger = CronTrigger.from_crontab(config.digest.cron, timezone=ZoneInfo(config.digest.timezone))

    async def build(self) -> Digest:
        now = self.clock()
        try:
            clusters: list[Cluster] = self.clusters.connect_all()
        except Exception as exc:  # noqa: BLE001 - a broken kubeconfig is reported in the digest, not raised
            log.error("kubernetes configuration could not be loaded: %s", exc)
            health = [ClusterHealth(name="kubernetes", reachable=False, error=f"no usable kubeconfig: {exc}")]
        else:
            health = await collect_all(clusters, now, self.config.digest.check_timeout.total_seconds())
        incidents, note = None, "the state store is not configured (set REDIS_URL)"
        if self.store is not None:
            try:
                incidents = await self.store.active()
            except StoreUnavailable as exc:
                note = str(exc)
        key_metrics = None
        prometheus = self.config.prometheus
        if prometheus is not None:
            key_metrics = await collect_metrics(prometheus.url, prometheus.all_queries, prometheus.error_target)
        return Digest(at=now, clusters=health, incidents=incidents, incidents_note=note, metrics=key_metrics)

    def scheduled_post(self) -> ScheduledPost | None:
        """The cron job, when there is a channel to post to."""
        if self.config.channels.digest is None or self.client is None:
            return None
        return ScheduledPost("health-digest", self.trigger, keys.digest_tick, self.post)

    async def post(self, tick: datetime) -> None:
        """Build and post the digest for ``tick`` to ``channels.digest`` (the tick is already claimed)."""
        channel = self.config.channels.digest
        assert channel is not None and self.client is not None
        digest = await self.build()
        try:
            await self.client.chat_postMessage(
                channel=channel, text=render.verdict(digest), blocks=render.blocks(digest), unfurl_links=False
            )
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", f"the digest for {tick}", exc)
            return
        telemetry.DIGESTS_POSTED.labels(trigger="schedule").inc()
        log.info("health digest for %s posted: %s", tick, render.verdict(digest))
