"""Building and posting the health digest: on the ``digest.cron`` schedule (exactly once per tick across
replicas), on demand with ``/health``, and in the terminal with ``chatops-bot digest --print``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk.web.async_client import AsyncWebClient

from bot import digest as render
from bot import metrics
from bot.digest import Digest
from bot.incidents.store import IncidentStore
from bot.redis_conn import StoreUnavailable
from bot.settings import BotConfig
from bot.slack_client import SLACK_ERRORS
from runbooks.cluster import Cluster
from runbooks.digest import ClusterHealth, collect_all
from runbooks.metrics import DEFAULT_QUERIES
from runbooks.metrics import collect as collect_metrics

log = logging.getLogger(__name__)

MISFIRE_GRACE = timedelta(hours=1)
TICK_CLAIM_TTL = 2 * 86400


def clusters_from(config: BotConfig) -> list[Cluster]:
    """``kubernetes.clusters``, or the in-cluster/current context when none is listed."""
    listed = config.kubernetes.clusters
    if not listed:
        return [Cluster.connect("default")]
    return [Cluster.connect(c.name, c.context) for c in listed]


class DigestService:
    def __init__(
        self,
        config: BotConfig,
        client: AsyncWebClient | None,
        store: IncidentStore | None,
        clock: Callable[[], datetime],
        clusters: Callable[[], list[Cluster]] | None = None,
    ) -> None:
        self.config = config
        self.client = client
        self.store = store
        self.clock = clock
        self._clusters = clusters or (lambda: clusters_from(config))
        self.trigger = CronTrigger.from_crontab(config.digest.cron, timezone=ZoneInfo(config.digest.timezone))

    async def build(self) -> Digest:
        now = self.clock()
        try:
            clusters = self._clusters()
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
        metrics = None
        prometheus = self.config.prometheus
        if prometheus is not None:
            queries = {**DEFAULT_QUERIES, **prometheus.queries}
            metrics = await collect_metrics(prometheus.url, queries, prometheus.error_target)
        return Digest(at=now, clusters=health, incidents=incidents, incidents_note=note, metrics=metrics)

    def tick_of(self, now: datetime) -> datetime | None:
        """The scheduled fire time this run belongs to: the latest one at or before ``now`` (within grace)."""
        fire = self.trigger.get_next_fire_time(None, now - MISFIRE_GRACE)
        latest = None
        while fire is not None and fire <= now:
            latest = fire
            fire = self.trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        return latest

    async def scheduled(self) -> None:
        """The cron job: claim the tick (SET NX), build, post to ``channels.digest``."""
        channel = self.config.channels.digest
        if channel is None or self.client is None or self.store is None:
            return
        tick = self.tick_of(self.clock())
        if tick is None:
            return
        try:
            if not await self.store.claim(f"digest:tick:{tick.isoformat()}", TICK_CLAIM_TTL):
                return
        except StoreUnavailable as exc:
            log.error("digest for %s skipped: %s", tick, exc)
            return
        digest = await self.build()
        try:
            await self.client.chat_postMessage(
                channel=channel, text=render.verdict(digest), blocks=render.blocks(digest), unfurl_links=False
            )
        except SLACK_ERRORS as exc:
            metrics.SLACK_API_ERRORS.labels(method="chat.postMessage").inc()
            log.error("digest for %s not posted: %s", tick, type(exc).__name__)
            return
        metrics.DIGESTS_POSTED.labels(trigger="schedule").inc()
        log.info("health digest for %s posted: %s", tick, render.verdict(digest))

    def scheduler(self) -> AsyncIOScheduler:
        """APScheduler with the digest job; later scheduled posts are added here too."""
        scheduler = AsyncIOScheduler(timezone=ZoneInfo(self.config.digest.timezone))
        scheduler.add_job(
            self.scheduled,
            self.trigger,
            id="health-digest",
            misfire_grace_time=int(MISFIRE_GRACE.total_seconds()),
            coalesce=True,
            max_instances=1,
        )
        return scheduler
