"""Building the health digest: every configured cluster's checklist, the key metrics, the open incidents.

No Slack here, so ``chatops-bot digest --print`` imports only what reading the clusters needs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.errors import DependencyError
from bot.core.settings.config import BotConfig
from bot.digest.model import Digest
from runbooks.aws.session import Aws
from runbooks.checklist.backups import RDS_TITLE
from runbooks.checklist.collect import collect_all, rds_backups
from runbooks.checklist.model import ClusterHealth, Section
from runbooks.kube.client import ClusterSet
from runbooks.prometheus.model import KeyMetrics

if TYPE_CHECKING:  # the store only when REDIS_URL is set: digest --print without it never loads a Redis client
    from bot.incidents.store import IncidentStore

log = logging.getLogger(__name__)


class DigestBuilder:
    def __init__(
        self,
        config: BotConfig,
        store: IncidentStore | None,
        clock: Callable[[], datetime],
        clusters: ClusterSet,
        *,
        prometheus_authorization: str | None = None,
        aws: Aws | None = None,
    ) -> None:
        self.aws = aws
        # Today's maintenance windows, one line each (set by the composition root: maintenance sits above).
        self.maintenance_today: Callable[[datetime], Awaitable[list[str]]] | None = None
        # What is firing now (set when alerts.alertmanager_url is configured).
        self.firing_alerts: Callable[[], Awaitable[list[str]]] | None = None
        self.prometheus_authorization = prometheus_authorization
        self.config = config
        self.store = store
        self.clock = clock
        self.clusters = clusters

    async def build(self) -> Digest:
        now = self.clock()
        try:
            # Connecting may run a kubeconfig exec plugin (aws eks get-token): never on the event loop.
            clusters = await asyncio.to_thread(self.clusters.connect_all)
        except Exception as exc:  # noqa: BLE001 - a broken kubeconfig is reported in the digest, not raised
            log.error("kubernetes configuration could not be loaded: %s", exc)
            health = [ClusterHealth(name="kubernetes", reachable=False, error=f"no usable kubeconfig: {exc}")]
        else:
            timeout = self.config.digest.check_timeout.total_seconds()
            health = await collect_all(clusters, now, timeout, self.config.velero.namespace)
        incidents, note = None, "the state store is not configured (set REDIS_URL)"
        if self.store is not None:
            try:
                incidents = await self.store.active()
            except DependencyError as exc:  # the state store is unavailable
                note = str(exc)
        return Digest(
            at=now,
            clusters=health,
            incidents=incidents,
            incidents_note=note,
            metrics=await self._metrics(),
            account=await self._account(now),
            maintenance=await self._maintenance(now),
            alerts=await self.firing_alerts() if self.firing_alerts is not None else None,
            account_name=f"AWS ({self.config.aws.region})" if self.config.aws else "AWS",
        )

    async def _maintenance(self, now: datetime) -> list[str] | None:
        if self.maintenance_today is None:
            return None
        try:
            return await self.maintenance_today(now)
        except DependencyError as exc:  # the state store is unavailable: the rest posts
            return [f"⚠️ maintenance windows not read: {exc}"]

    async def _account(self, now: datetime) -> list[Section]:
        settings = self.config.aws
        if settings is None or self.aws is None or settings.rds.instances == []:
            return []
        timeout = self.config.digest.check_timeout.total_seconds()
        try:
            return [await asyncio.wait_for(asyncio.to_thread(rds_backups, self.aws, settings.rds.wanted, now), timeout)]
        except TimeoutError:
            return [Section(key="rds", title=RDS_TITLE, note="timed out reading RDS", failed=True)]

    async def _metrics(self) -> KeyMetrics | None:
        prometheus = self.config.prometheus
        if prometheus is None:
            return None
        from runbooks.prometheus.client import collect  # noqa: PLC0415 - aiohttp only when Prometheus is set

        return await collect(
            prometheus.url, prometheus.all_queries, prometheus.error_target, authorization=self.prometheus_authorization
        )
