"""Disaster-recovery drills: every restore of a drill at once (``bot.dr.restores``), the report kept for the trend
and posted to ``channels.digest``. One drill at a time (a lock in Redis, renewed while the drill runs); the scheduled
one once across replicas (its tick claimed); a sweep deletes every scratch copy whose drill is no longer running (its
process died: the lock lapsed) and any older than ``dr.max_age``."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import keys, slack
from bot.core.errors import DependencyError
from bot.core.outbox import Outbox
from bot.core.settings.config import BotConfig
from bot.core.slack import SLACK_ERRORS
from bot.core.tasks import renewing
from bot.dr import model, render
from bot.dr.model import Drill, Restored
from bot.dr.restores import Restorer, reason
from bot.dr.store import LOCK_TTL, DrStore, Running
from runbooks.aws import rds_drill as rdsd
from runbooks.aws.session import AwsSession
from runbooks.kube import drill as kd
from runbooks.kube.client import ClusterSet

if TYPE_CHECKING:
    from bot.core.schedule import ScheduledPost

log = logging.getLogger(__name__)


class DrService:
    def __init__(
        self,
        *,
        config: BotConfig,
        client: AsyncWebClient,
        store: DrStore,
        clusters: ClusterSet,
        aws: AwsSession | None,
        clock: Callable[[], datetime],
        outbox: Outbox,
    ) -> None:
        self.outbox = outbox
        self.config = config
        self.settings = config.dr
        self.client = client
        self.store = store
        self.clusters = clusters
        self.aws = aws
        self.clock = clock
        self.restorer = Restorer(config=config, clusters=clusters, aws=aws, clock=clock)

    # Starting, one at a time ----------------------------------------------------------------------------------
    async def begin(self, by: str, drill: str | None = None) -> tuple[Running, bool]:
        """Take the one-drill lock: (this drill, True), or (the drill running, False)."""
        now = self.clock()
        return await self.store.lock(drill or model.drill_id(now, secrets.token_hex(2)), by, now)

    async def run(self, held: Running) -> Drill:
        """The drill the lock was taken for: every restore at once, each verified and cleaned up; kept. The lock is
        renewed meanwhile and released after."""
        try:
            async with renewing(lambda: self._renew(held), LOCK_TTL / 4, "the DR drill's lock"):
                drill = await self._drill(held)
            # Restored, verified and cleaned up: the drill's record is kept through the outbox while the state
            # store is away, and its report still posted (never lost to a Redis stall at the end of an hour's work).
            await self.outbox.deliver(f"the record of DR drill {drill.id}", lambda: self.store.keep(drill))
        finally:
            try:
                await self.store.unlock(held)
            except DependencyError as exc:  # the lock's time to live ends it
                log.warning("DR drill %s: its lock not released (it lapses by itself): %s", held.drill, exc)
        log.info("%s", render.verdict(drill))
        return drill

    async def _renew(self, held: Running) -> None:
        """Renew the lock (taken again if it lapsed meanwhile); another drill holding it stops this one's steps."""
        kept, other = await self.store.renew(held)
        if kept or held.lost is not None:
            return
        if other is None:  # pragma: no cover - the lock came and went between the script and the read
            return
        held.lost = other
        log.error("DR drill %s lost its lock to drill %s; its further steps are stopped", held.drill, other.drill)

    async def _drill(self, held: Running) -> Drill:
        target = self.settings.rto_target.total_seconds()
        base = Drill(id=held.drill, by=held.by, started=held.started, rto_target=target)
        if not self.settings.enabled:
            note = "nothing to restore: set dr.velero.schedules and/or dr.rds in the config"
            return base.model_copy(update={"note": note, "finished": self.clock()})
        jobs: list[Awaitable[Restored]] = [self.restorer.velero(s, held) for s in self.settings.velero.schedules]
        if self.settings.rds:
            try:
                jobs += [self.restorer.rds(i, held) for i in await self.restorer.instances()]
            except Exception as exc:  # noqa: BLE001 - said in the report
                base = base.model_copy(update={"note": f"RDS: {reason(exc, 'listing the RDS instances')}"})
        restores = list(await asyncio.gather(*jobs))
        noted = base.note
        if held.lost is not None:
            lost = f"drill {held.lost.drill} took the drill lock while this one ran; its further steps were stopped"
            noted = f"{noted}; {lost}" if noted else lost
        unchecked = self.restorer.unchecked(restores)
        update = {"restores": restores, "finished": self.clock(), "note": noted, "unchecked": unchecked}
        return base.model_copy(update=update)

    async def manual(self, held: Running) -> Drill:
        """A drill started with ``/dr drill``: run, and its report posted to ``channels.digest`` too (the reply
        follows where it was started)."""
        drill = await self.run(held)
        if self.config.channels.digest is not None:
            with contextlib.suppress(*SLACK_ERRORS):  # said in the log by _post; the reply still goes out
                await self._post(render.verdict(drill), render.report_blocks(drill))
        return drill

    # The sweep --------------------------------------------------------------------------------------------------
    async def sweep(self, now: datetime) -> list[str]:
        """Delete the scratch copies no running drill owns, and any older than ``dr.max_age``: what was deleted.
        A part that cannot be read is logged and tried again on the next sweep."""
        deleted: list[str] = []
        if self.settings.velero.schedules:
            deleted += await self._part("namespaces", self._sweep_namespaces(now))
        if self.settings.rds and self.aws is not None:
            deleted += await self._part("RDS instances", self._sweep_instances(now))
        if deleted:
            log.warning("the DR sweep deleted what a drill left: %s", ", ".join(deleted))
        return deleted

    async def _part(self, what: str, work: Awaitable[list[str]]) -> list[str]:
        try:
            return await work
        except Exception as exc:  # noqa: BLE001 - the next sweep tries again
            log.warning("the DR sweep could not look at the drills' %s: %s", what, reason(exc, f"the drills' {what}"))
            return []

    async def _running(self) -> tuple[str, str] | None:
        held = await self.store.running()
        return held.owner if held is not None else None

    async def _sweep_namespaces(self, now: datetime) -> list[str]:
        cluster = await asyncio.to_thread(self.clusters.connect, None)
        ns, schedules = self.config.velero.namespace, self.settings.velero.schedules
        sources = await asyncio.to_thread(kd.sources, cluster, ns, schedules)  # unread: nothing is deleted
        found = [model.Scratch(*f) for f in await asyncio.to_thread(kd.scratch_namespaces, cluster, ns)]
        running = await self._running()  # read after the listing: a drill that starts in between made none of them
        out = []
        for item in model.leftovers(found, running, now, self.settings.max_age):
            delete = functools.partial(kd.delete_scratch, cluster, item.name, sources=sources, mapped=item.mapped)
            if await self._delete(f"namespace {item.name}", delete):
                out.append(f"namespace {item.name}")
        return out

    async def _sweep_instances(self, now: datetime) -> list[str]:
        assert self.aws is not None
        client = self.aws.rds()
        found = [model.Scratch(*f) for f in await asyncio.to_thread(rdsd.drill_instances, client)]
        running = await self._running()
        out = []
        for item in model.leftovers(found, running, now, self.settings.max_age):
            if await self._delete(f"RDS instance {item.name}", functools.partial(rdsd.delete, client, item.name)):
                out.append(f"RDS instance {item.name}")
        return out

    async def _delete(self, what: str, delete: Callable[[], bool]) -> bool:
        """One leftover deleted (in a worker thread); a failure is logged and the sweep goes on to the next."""
        try:
            return await asyncio.to_thread(delete)
        except Exception as exc:  # noqa: BLE001 - the next sweep tries again
            log.warning("the DR sweep could not delete %s: %s", what, reason(exc, f"deleting {what}"))
            return False

    # The scheduled drill and the reports ------------------------------------------------------------------------
    def scheduled_post(self) -> ScheduledPost | None:
        from bot.core.schedule import ScheduledPost  # noqa: PLC0415 - the scheduler only where it runs
        from runbooks import cron  # noqa: PLC0415

        if self.config.channels.digest is None or not self.settings.enabled:
            return None
        trigger = cron.trigger(self.settings.cron, ZoneInfo(self.config.digest.timezone))
        return ScheduledPost("dr-drill", trigger, lambda tick: keys.dr_tick(tick.isoformat()), self.post)

    async def post(self, tick: datetime) -> None:
        """The scheduled drill (its tick claimed once across replicas), its report in ``channels.digest``. A retry
        after a failed post posts the kept report again: the drill never runs twice for one tick."""
        drill_id = model.drill_id(tick)
        kept = [d for d in await self.store.recent() if d.id == drill_id]
        if kept:
            await self._post(render.verdict(kept[0]), render.report_blocks(kept[0]))
            return
        held, mine = await self.begin("schedule", drill_id)
        if not mine:
            if held.drill == drill_id:  # this tick's drill, run by a replica whose claim lapsed: it posts
                return
            await self._post(render.skipped(held), None)
            return
        drill = await self.run(held)
        await self._post(render.verdict(drill), render.report_blocks(drill))

    async def _post(self, text: str, blocks: list[Block] | None) -> None:
        channel = self.config.channels.digest
        assert channel is not None
        try:
            await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", "the DR drill's report", exc)
            raise

    async def weekly(self, start: datetime, end: datetime) -> list[str]:
        return render.weekly_lines(await self.store.recent(), start, end)
