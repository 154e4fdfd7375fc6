"""The capacity review (``/capacity``, the monthly post), its daily samples, and the digest's resource use (its errors
in logs are ``bot.capacity.log_errors``).

Each node's use comes from Prometheus when ``prometheus`` is configured (``capacity.node_cpu``/``node_memory``),
else from metrics.k8s.io; a Prometheus that fails is named and metrics.k8s.io read instead. Every review and the
hourly sampling job record the day's sample of each node group once per cluster (``CapacityStore.record``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.capacity import render
from bot.capacity.trend import Sample, day_number, sentence
from bot.core import keys
from bot.core.errors import DependencyError
from bot.core.settings.config import BotConfig
from bot.core.tasks import BackgroundTasks
from bot.core.text import escape
from bot.core.words import cluster_name
from bot.digest.model import DigestPart
from runbooks.checklist import capacity_read
from runbooks.checklist.capacity import Amount, Review, Tally
from runbooks.errors import NotConfigured
from runbooks.kube.client import Cluster, ClusterSet
from runbooks.kube.errors import API_ERRORS, explain

if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.capacity.store import CapacityStore
    from bot.core.schedule import ScheduledPost

log = logging.getLogger(__name__)

Use = tuple[dict[str, Amount] | None, str | None]


class CapacityService:
    def __init__(
        self,
        *,
        config: BotConfig,
        client: AsyncWebClient | None,
        clusters: ClusterSet,
        store: CapacityStore | None,
        clock: Callable[[], datetime],
        tasks: BackgroundTasks | None = None,
        prometheus_authorization: str | None = None,
    ) -> None:
        self.tasks = tasks
        self._sampling: asyncio.Task[None] | None = None
        self.config = config
        self.client = client
        self.clusters = clusters
        self.store = store
        self.clock = clock
        self.prometheus_authorization = prometheus_authorization
        self.timeout = config.digest.check_timeout.total_seconds()

    # The review ------------------------------------------------------------------------------------------------
    async def _connect(self, name: str | None) -> list[Cluster]:
        if name is not None:
            cluster_name(name, self.clusters.names or [self.clusters.UNLISTED])
            return [await asyncio.to_thread(self.clusters.connect, name if self.clusters.names else None)]
        return await asyncio.to_thread(self.clusters.connect_all)

    async def _prometheus_use(self) -> Use | None:
        """Each node's use from Prometheus; None when it is not configured (metrics.k8s.io is read instead)."""
        prometheus = self.config.prometheus
        if prometheus is None:
            return None
        from runbooks.prometheus.vector import PrometheusFailed, by_label  # noqa: PLC0415 - aiohttp only when set

        auth, settings = self.prometheus_authorization, self.config.capacity
        try:
            cpu, memory = await asyncio.gather(
                by_label(prometheus.url, settings.node_cpu, "node", authorization=auth, timeout=self.timeout),
                by_label(prometheus.url, settings.node_memory, "node", authorization=auth, timeout=self.timeout),
            )
        except PrometheusFailed as exc:
            log.warning("capacity: %s; reading metrics.k8s.io instead", exc)
            return None
        if not cpu and not memory:
            return None, "Prometheus answered no series by node for capacity.node_cpu/node_memory: use unknown"
        return {n: Amount(cpu.get(n, 0.0), memory.get(n, 0.0)) for n in set(cpu) | set(memory)}, None

    async def review(self, name: str | None = None) -> tuple[list[Review], dict[str, dict[str, str]]]:
        """Review one cluster (or each configured one); record today's samples; the trend of each node group."""
        now = self.clock()
        clusters = await self._connect(name)
        use = await self._prometheus_use()
        reviews = await asyncio.gather(*(capacity_read.review(c, now, use=use, timeout=self.timeout) for c in clusters))
        trends = {r.cluster: await self._trends(r, now) for r in reviews}
        return list(reviews), trends

    async def _trends(self, review: Review, now: datetime) -> dict[str, str]:
        if self.store is None or not review.groups or not review.complete:  # a partial read is not a sample
            return {}
        day = day_number(now.date())
        try:
            await self.store.record(review.cluster, day, {g.name: Sample.of(day, g) for g in review.groups})
            history = await self.store.history(review.cluster, [g.name for g in review.groups])
        except DependencyError as exc:
            return {g.name: f"trend unknown: {exc}" for g in review.groups}
        return {group: sentence(samples) for group, samples in history.items()}

    async def report(self, name: str | None = None) -> tuple[list[Block], str]:
        reviews, trends = await self.review(name)
        return render.review_blocks(reviews, trends, self.clock()), render.summary(reviews)

    def scheduled_post(self) -> ScheduledPost | None:
        from bot.core.schedule import ScheduledPost  # noqa: PLC0415
        from runbooks import cron  # noqa: PLC0415

        if self.config.channels.digest is None:
            return None
        trigger = cron.trigger(self.config.capacity.cron, ZoneInfo(self.config.digest.timezone))
        return ScheduledPost("capacity-review", trigger, lambda tick: keys.capacity_tick(tick.isoformat()), self.post)

    async def post(self, tick: datetime) -> None:
        """The monthly review in ``channels.digest`` (the tick is claimed; a Slack failure is raised for a retry)."""
        from bot.core import slack  # noqa: PLC0415
        from bot.core.blocks import messages  # noqa: PLC0415
        from bot.core.slack import SLACK_ERRORS  # noqa: PLC0415

        channel = self.config.channels.digest
        assert channel is not None and self.client is not None
        blocks, summary = await self.report()
        try:
            for part in messages(blocks, most=3):
                await self.client.chat_postMessage(channel=channel, text=summary, blocks=part, unfurl_links=False)
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", f"the capacity review for {tick}", exc)
            raise
        log.info("capacity review for %s posted: %s", tick, summary)

    async def sample(self, now: datetime) -> None:
        """The hourly job: today's sample of each cluster not sampled yet, read in the background (never holding the
        poller up while 10,000 pods are read)."""
        if self.store is None or (self._sampling is not None and not self._sampling.done()):
            return
        work = self._sample(now)
        self._sampling = self.tasks.spawn(work, "capacity-sample") if self.tasks else asyncio.create_task(work)

    async def _sample(self, now: datetime) -> None:
        assert self.store is not None
        day = day_number(now.date())
        for cluster in await asyncio.to_thread(self.clusters.connect_all):
            if await self.store.sampled(cluster.name, day):
                continue
            tally = Tally()

            def read(c: Cluster = cluster, t: Tally = tally) -> None:
                t.add_nodes(c.nodes())
                t.add_pods(c.pods())

            try:
                await asyncio.wait_for(asyncio.to_thread(read), self.timeout * 3)
            except API_ERRORS as exc:
                log.warning("capacity sample of %s not taken: %s", cluster.name, explain(exc, "nodes and pods", "list"))
                continue
            groups = tally.groups()
            await self.store.record(cluster.name, day, {g.name: Sample.of(day, g) for g in groups})

    # The digest ------------------------------------------------------------------------------------------------
    async def _digest_clusters(self) -> list[Cluster]:
        try:
            return await asyncio.to_thread(self.clusters.connect_all)
        except NotConfigured as exc:
            raise DependencyError(str(exc)) from None

    async def resource_use(self, now: datetime) -> DigestPart:
        """Each cluster's total use and its nodes above ``digest.utilization.warn`` % (each one problem), all clusters
        at once; a cluster that cannot be read is one line naming it."""
        prometheus = await self._prometheus_use()
        read = await asyncio.gather(*(self._use_of(c, prometheus) for c in await self._digest_clusters()))
        lines = [line for shown, _ in read for line in shown]
        return DigestPart(key="resource-use", title="Resource use", lines=lines, problems=sum(hot for _, hot in read))

    async def _use_of(self, cluster: Cluster, prometheus: Use | None) -> tuple[list[str], int]:
        use, note = prometheus if prometheus is not None else await capacity_read.node_use(cluster, self.timeout)
        try:
            tally = await capacity_read.nodes(cluster, use, self.timeout)
        except API_ERRORS as exc:
            return [f"*{escape(cluster.name)}*: ⚠️ {explain(exc, 'nodes', 'list')}"], 0
        return render.use_lines(cluster.name, list(tally.nodes.values()), self.config.digest.utilization.warn, note)
