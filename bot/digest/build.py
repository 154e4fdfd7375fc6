"""Building the health digest: every configured cluster's checklist, the key metrics, each part another domain
declared (``DigestSection`` on the board: RDS backups, maintenance today, what is firing), the open incidents.

No Slack here, so ``chatops-bot digest --print`` imports only what reading the clusters needs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.board import Board
from bot.core.errors import DependencyError
from bot.core.settings.config import BotConfig
from bot.core.settings.teams import owners
from bot.digest.model import Digest, DigestPart, DigestSection
from bot.digest.text import metric_lines
from runbooks.checklist.collect import collect_all
from runbooks.checklist.model import ClusterHealth
from runbooks.errors import NotConfigured
from runbooks.kube.client import ClusterSet

if TYPE_CHECKING:  # the store only when REDIS_URL is set: digest --print without it never loads a Redis client
    from bot.incidents.store import IncidentStore

log = logging.getLogger(__name__)

METRICS_ORDER = 20


class DigestBuilder:
    def __init__(
        self,
        config: BotConfig,
        store: IncidentStore | None,
        clock: Callable[[], datetime],
        clusters: ClusterSet,
        *,
        board: Board,
        prometheus_authorization: str | None = None,
    ) -> None:
        self.prometheus_authorization = prometheus_authorization
        self.config = config
        self.store = store
        self.clock = clock
        self.clusters = clusters
        self.board = board

    async def build(self) -> Digest:
        now = self.clock()
        own = DigestSection("metrics", METRICS_ORDER, "Key metrics", self._metrics)
        sections = sorted([own, *self.board.of(DigestSection)], key=lambda s: s.order)
        health, *parts = await asyncio.gather(self._clusters(now), *(self._part(s, now) for s in sections))
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
            parts=[p for p in parts if isinstance(p, DigestPart)],
            owners=owners(self.config.teams, self.config.default_team),
        )

    async def _clusters(self, now: datetime) -> list[ClusterHealth]:
        try:
            # Connecting may run a kubeconfig exec plugin (aws eks get-token): never on the event loop.
            clusters = await asyncio.to_thread(self.clusters.connect_all)
        except Exception as exc:  # noqa: BLE001 - a broken kubeconfig is reported in the digest, not raised
            log.error("kubernetes configuration could not be loaded: %s", exc)
            # Not one cluster but the way to all of them, named as what failed; the parser's words (paths, lines of
            # the file) stay in the log.
            error = "no usable kubeconfig (the bot's log has the details)"
            if isinstance(exc, NotConfigured):  # it names the setting to fix
                error = str(exc)
            return [ClusterHealth(name="kubernetes", reachable=False, error=error)]
        timeout = self.config.digest.check_timeout.total_seconds()
        return await collect_all(clusters, now, timeout, self.config.velero.namespace)

    async def _part(self, section: DigestSection, now: datetime) -> DigestPart | None:
        """One declared part; a dependency that fails is said in it, and the rest of the digest posts."""
        try:
            return await section.part(now)
        except DependencyError as exc:
            return DigestPart(key=section.key, title=section.title, lines=[f"⚠️ not read: {exc}"])

    async def _metrics(self, now: datetime) -> DigestPart | None:
        prometheus = self.config.prometheus
        if prometheus is None:
            return None
        from runbooks.prometheus.client import collect  # noqa: PLC0415 - aiohttp only when Prometheus is set

        metrics = await collect(
            prometheus.url, prometheus.all_queries, prometheus.error_target, authorization=self.prometheus_authorization
        )
        breached = 1 if metrics.error_rate_breached else 0
        return DigestPart(key="metrics", title="Key metrics", lines=metric_lines(metrics), problems=breached)
