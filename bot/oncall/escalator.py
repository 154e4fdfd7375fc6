"""Escalation: page the chain until someone acknowledges, exactly once per step across replicas.

On each tick of the poller (``bot.runtime.poller``) every replica claims due incidents from Redis
(bot/oncall/store.py), pages the next person in the chain by DM (with an Acknowledge button) and in the
incident's thread, records the page on the timeline, and schedules the next step. Acknowledging,
resolving or closing cancels what is scheduled; a severity change moves it. A failed page is retried
later from Redis, never dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.core import slack, telemetry
from bot.core.board import Board
from bot.core.durations import format_duration
from bot.core.redis import StoreUnavailable
from bot.core.settings.config import BotConfig
from bot.core.slack import SLACK_ERRORS
from bot.core.tasks import renewing
from bot.core.timeline import TimelineEntry
from bot.incidents.deadline import respond_by
from bot.incidents.model import Incident, State
from bot.incidents.rooms import IncidentRooms
from bot.incidents.store import IncidentStore
from bot.oncall import chain
from bot.oncall.render import held_page_blocks, held_page_text, page_blocks, page_text
from bot.oncall.roster import Roster
from bot.oncall.store import ChainRestarted, OnCallStore

log = logging.getLogger(__name__)

RECONCILE_EVERY = timedelta(seconds=30)
MAX_CONCURRENT_PAGES = 32
ANNOUNCEMENT_WAIT = 3.0
RECORD_RETRY = 0.2
# Slack errors that mean this person cannot be paged at all (retrying will not help): the chain
# moves on to the next person at once instead of waiting for the response deadline.
UNREACHABLE = frozenset(
    {"user_not_found", "users_not_found", "user_disabled", "cannot_dm_bot", "channel_not_found", "is_archived"}
)


@dataclass(frozen=True)
class AfterPage:
    """Declared on the board by a domain that reaches a paged person further (SMS, calls: ``bot.paging``):
    ``paged(incident, user, step, at, last)`` once the Slack page of ``step`` went out and is recorded; ``last``:
    ``step`` is the chain's last step, paged for the first time (not a repeat, not a page outside the chain). A
    failure is logged; the page stands."""

    key: str
    paged: Callable[[Incident, str, int, datetime, bool], Awaitable[None]]


class Escalator:
    def __init__(
        self,
        *,
        client: AsyncWebClient,
        incidents: IncidentStore,
        store: OnCallStore,
        roster: Roster,
        config: BotConfig,
        clock: Callable[[], datetime],
        rooms: IncidentRooms | None = None,
        wake: Callable[[], None] = lambda: None,
        board: Board | None = None,
    ) -> None:
        self.board = board  # what follows a page (AfterPage)
        self.client = client
        self.incidents = incidents
        self.store = store
        self.roster = roster
        self.config = config
        self.clock = clock
        self.rooms = rooms  # whoever is paged joins the incident's own channel
        self.wake = wake  # the poller looks again at once (a page due now)
        self.policy = config.escalation
        self.tz = ZoneInfo(config.oncall.timezone)  # as the incidents' deadlines are read
        self._dm_channels: dict[str, str] = {}
        self._limit = asyncio.Semaphore(MAX_CONCURRENT_PAGES)
        self._mentions: set[asyncio.Task[None]] = set()

    # Steps of the incident flow (bot.incidents.steps.IncidentSteps) ------------------------------

    async def opened(self, incident: Incident) -> None:
        if incident.paging_held:  # the chain waits for the hold to end (bot.incidents.holds), then opened again
            self._off_path(self.page_held(incident))
            return
        await self.store.arm(incident.number, incident.opened_at)
        self.wake()

    async def escalate_now(self, incident: Incident) -> int:
        """The person paged asks to pass it on: the chain's next step is paged at once; which step."""
        step = await self.store.next_at_once(incident.number)
        await self.store.arm(incident.number, self.clock())
        self.wake()
        return step

    async def team_changed(self, incident: Incident) -> None:
        """Handed over to another team: an open incident's chain starts again with that team's on-call (paged at
        once); one someone already responded to pages the new team's primary once, so they know it is theirs."""
        if incident.paging_held:
            return
        if incident.state is State.OPEN:
            await self.store.restart(incident.number, incident.handovers, self.clock())  # unless a page was first
            await self.store.arm(incident.number, self.clock())
            self.wake()
            return
        if incident.state in (State.ACKNOWLEDGED, State.MITIGATED):
            self._off_path(self._tell_new_team(incident))

    async def _tell_new_team(self, incident: Incident) -> None:
        now = self.clock()
        who = await self.roster.now(now, incident.team)
        if who.primary is None:
            return
        target = chain.Target("primary", who.primary)
        if await self._page(incident, target, 1, chain.waited(incident, now)) is None:
            note = f"handed over to team {incident.team}: its primary, told"
            entry = TimelineEntry(at=now, actor=who.primary, kind="was paged", text=note)
            await self.store.record_held_page(incident.number, f"team:{incident.team}:{who.primary}", entry)

    async def stopped(self, incident: Incident) -> None:
        await self.store.cancel(incident.number)

    async def severity_changed(self, incident: Incident) -> None:
        """The deadline moves; made more urgent than the last page said, that person is paged again at once."""
        if incident.state is State.OPEN and not incident.paging_held:
            if await self.store.repage(incident.number, incident.severity.value):
                await self.store.move(incident.number, self.clock())
            else:
                step = (await self.store.state(incident.number)).step
                await self.store.move(incident.number, self._due(incident, step, await self._chain_length(incident)))
            self.wake()

    # Paging held (bot.incidents.steps.PagingHold): only whom the hold names, once each, by DM -------------------

    def _off_path(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._mentions.add(task)  # drained at shutdown with the thread mentions
        task.add_done_callback(self._mentions.discard)

    async def page_held(self, incident: Incident) -> None:
        assert incident.held is not None
        for person in incident.held.page:
            try:
                if await self.store.paged_while_held(incident.number, person):
                    continue
                await self.client.chat_postMessage(
                    channel=await self._dm_channel(person),
                    text=held_page_text(incident, person),
                    blocks=held_page_blocks(incident, person),
                )
                telemetry.PAGES_SENT.labels(role="held").inc()
                note = f"{incident.held.ref}: paged while the on-call's paging is held ({incident.held.text})"
                entry = TimelineEntry(at=self.clock(), actor=person, kind="was paged", text=note)
                await self.store.record_held_page(incident.number, person, entry)
                await self._after_paged(incident, person, 0, entry.at, False)  # step 0: outside the chain
            except SLACK_ERRORS as exc:
                telemetry.PAGES_FAILED.labels(error=slack.error_code(exc)).inc()
                slack.failed("chat.postMessage", f"the page of {person} for {incident.ref} (paging held)", exc)
            except StoreUnavailable as exc:
                log.warning("%s: the page of %s while paging is held: %s", incident.ref, person, exc)

    # On each tick of the poller --------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A page's thread mention is still being posted."""
        return bool(self._mentions)

    async def drain(self, timeout: float) -> None:
        """Let thread mentions in flight finish (graceful shutdown)."""
        if self._mentions:
            await asyncio.wait(set(self._mentions), timeout=timeout)

    async def tick(self, now: datetime) -> int:
        """Claim what is due and page it; return how many incidents were claimed."""
        started = time.perf_counter()
        claimed = await self.store.claim_due(now, now + self.policy.claim_lease)
        if claimed:
            await asyncio.gather(*(self._guarded(number) for number in claimed))
        telemetry.ESCALATION_TICK_SECONDS.observe(time.perf_counter() - started)
        return len(claimed)

    async def _guarded(self, number: int) -> None:
        lease = self.policy.claim_lease
        async with (
            self._limit,
            renewing(
                lambda: self.store.renew(number, self.clock() + lease),
                lease.total_seconds() / 3,
                f"the claim on INC-{number}",
            ),
        ):
            try:
                await self.process(number)
            except StoreUnavailable as exc:
                log.warning("escalation of INC-%s deferred: %s", number, exc)
            except Exception:
                log.exception("escalation of INC-%s failed; it is retried when its claim expires", number)

    async def process(self, number: int) -> None:
        state = await self.store.state(number)
        read = state.incident
        if read is not None and read.state is State.OPEN and read.handovers > int(state.generation):
            # handed over, its chain not restarted yet: that is done here
            await self.store.restart(number, read.handovers, self.clock())
            state = await self.store.state(number)
        incident, step, sent, at_once, generation, since = state
        if incident is None or incident.state is not State.OPEN:
            await self.store.complete(number, None)
            return
        if since is not None:  # a chain started again gives each person their time from then
            ack_within = self.config.severities[incident.severity].ack_within
            incident = chain.restarted(incident, respond_by(since, ack_within, self.tz))
        now = self.clock()
        who = await self.roster.now(now, incident.team)
        targets = chain.targets(who.primary, who.secondary, who.lead)
        due = now if at_once and not sent else self._due(incident, step, len(targets))
        if due > now + timedelta(seconds=0.5):
            await self.store.complete(number, due)  # claimed early (deadline moved): put it back
            return
        target = chain.target_for(step, targets)
        if target is None:
            log.warning("%s: nobody to page (oncall.rotation and oncall.lead are empty)", incident.ref)
            await self.store.complete(number, None)
            return
        if not sent:
            try:
                await self._send(incident, step, target, targets, now=now, generation=generation)
            except ChainRestarted:  # handed over while this page was out: the new team's chain starts at once
                log.info("%s was handed over while step %d was paged; the new team's chain starts", incident.ref, step)
                await self.store.complete(number, self.clock())
            return
        await self.store.complete(number, self._next_due(incident, step, len(targets), now))

    async def _send(
        self, incident: Incident, step: int, target: chain.Target, targets: list[chain.Target], *, now: datetime,
        generation: str,
    ) -> None:  # fmt: skip
        """Page ``target`` for ``step`` and record it (in the chain's ``generation``), then schedule the next."""
        number = incident.number
        waited = chain.waited(incident, now)
        error = await self._page(incident, target, step, waited)
        if error is not None:
            await self._page_failed(incident, step, targets, waited, error, generation=generation)
            return
        # Recorded right after the DM, so a crash can repeat a page only within this narrow gap.
        entry = TimelineEntry(at=now, actor=target.user, kind="was paged", text=_page_note(step, target, waited))
        try:
            await self._record(number, step, entry, generation=generation)
        except ChainRestarted:  # the DM reached the team before: the timeline says so, outside the new chain
            note = f"{entry.text}, as it was handed over to another team (not a step of the new team's chain)"
            try:
                await self.store.record_entry(number, entry.model_copy(update={"text": note}))
            except StoreUnavailable as exc:  # the new chain goes on regardless
                log.warning("%s: the page before the hand-over not noted: %s", incident.ref, exc)
            raise
        await self.store.paged_as(number, incident.severity.value)
        await self.store.complete(number, self._next_due(incident, step, len(targets), now))
        await self._after_paged(incident, target.user, step, now, step == len(targets))
        mention = asyncio.create_task(self._after_page(incident, target, page_text(incident, target, step, waited)))
        self._mentions.add(mention)  # off the paging path: it may wait for the announcement
        mention.add_done_callback(self._mentions.discard)

    async def _after_paged(self, incident: Incident, user: str, step: int, at: datetime, last: bool) -> None:
        for after in self.board.of(AfterPage) if self.board is not None else ():
            try:
                await after.paged(incident, user, step, at, last)
            except Exception:
                log.exception("%s: what follows the page of %s (%s) failed; the page stands", incident.ref, user,
                              after.key)  # fmt: skip

    async def _page_failed(
        self, incident: Incident, step: int, targets: list[chain.Target], waited: timedelta, error: str, *,
        generation: str,
    ) -> None:  # fmt: skip
        """Retry later; but when Slack says the person cannot be reached at all, page the next one now."""
        target, after = chain.target_for(step, targets), chain.target_for(step + 1, targets)
        assert target is not None
        now = self.clock()
        if error in UNREACHABLE and after is not None and after.user != target.user:
            log.error("%s: %s cannot be paged (%s); paging the %s now", incident.ref, target.user, error, after.role)
            note = f"{_page_note(step, target, waited)}; Slack answered {error}, so the {after.role} is paged now"
            entry = TimelineEntry(at=now, actor=target.user, kind="could not be paged", text=note)
            await self._record(incident.number, step, entry, next_at_once=True, generation=generation)
            await self.store.complete(incident.number, now)
            self.wake()
            return
        log.error(
            "paging %s for %s (step %d) failed: %s; retrying in %s",
            target.user,
            incident.ref,
            step,
            error,
            self.policy.retry_failed_page_after,
        )
        await self.store.complete(incident.number, now + self.policy.retry_failed_page_after)

    async def _record(
        self, number: int, step: int, entry: TimelineEntry, *, next_at_once: bool = False, generation: str = ""
    ) -> None:
        """Record a page that went out. The DM cannot be taken back, so while the state store is away (a
        failover) keep trying for as long as the claim is kept; only then give up (and the page may repeat)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.policy.claim_lease.total_seconds()
        while True:
            try:
                await self.store.record_page(number, step, entry, next_at_once=next_at_once, generation=generation)
                return
            except StoreUnavailable:
                if loop.time() >= give_up:
                    raise
                await asyncio.sleep(RECORD_RETRY)

    async def _page(self, incident: Incident, target: chain.Target, step: int, waited: timedelta) -> str | None:
        """Send the DM; None when Slack took it, else Slack's error (or the exception's name)."""
        try:
            channel = await self._dm_channel(target.user)
            await self.client.chat_postMessage(
                channel=channel,
                text=page_text(incident, target, step, waited),
                blocks=page_blocks(incident, target, step, waited),
            )
        except SLACK_ERRORS as exc:
            error = slack.error_code(exc)
            telemetry.PAGES_FAILED.labels(error=error).inc()
            return error
        telemetry.PAGES_SENT.labels(role=target.role).inc()
        return None

    async def _dm_channel(self, user: str) -> str:
        if user not in self._dm_channels:
            resp = await self.client.conversations_open(users=user)
            self._dm_channels[user] = str(resp["channel"]["id"])
        return self._dm_channels[user]

    async def _after_page(self, incident: Incident, target: chain.Target, text: str) -> None:
        await self._mention_in_thread(incident, text)
        if self.rooms is not None:
            await self.rooms.invite_paged(incident, target.user)

    async def _mention_in_thread(self, incident: Incident, text: str) -> None:
        """Mention the paged person under the announcement (waiting briefly if it is still being posted)."""
        try:
            where = await self.incidents.posted_announcement(incident.number, ANNOUNCEMENT_WAIT, interval=0.2)
            if where is None:
                log.info("%s has no announcement yet; the page is on the timeline only", incident.ref)
                return
            await self.client.chat_postMessage(channel=where[0], thread_ts=where[1], text=text)
        except StoreUnavailable as exc:
            log.warning("page mention for %s skipped: %s", incident.ref, exc)
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", f"the page mention of {incident.ref}", exc)

    def _due(self, incident: Incident, step: int, chain_length: int) -> datetime:
        window = self.config.severities[incident.severity].ack_within
        per_step = window if isinstance(window, timedelta) else self.policy.repeat_every
        return chain.step_due(incident, step, chain_length, per_step, self.policy.repeat_every)

    def _next_due(self, incident: Incident, step: int, chain_length: int, now: datetime) -> datetime:
        """When the step after ``step`` is due. Paging the last person again never comes sooner than
        ``repeat_every`` from now: an incident escalated long after its deadlines (the bot was down, or the
        incident restored from a backup) pages once and then at the interval, not once for every interval missed."""
        due = self._due(incident, step + 1, chain_length)
        if step + 1 > chain_length and due <= now:
            return now + self.policy.repeat_every
        return due

    async def _chain_length(self, incident: Incident) -> int:
        who = await self.roster.now(self.clock(), incident.team)
        return len(chain.targets(who.primary, who.secondary, who.lead))

    async def reconcile(self) -> None:
        """Re-arm open incidents that have nothing scheduled (a crash between open and arm)."""
        open_incidents = [i for i in await self.incidents.active() if i.state is State.OPEN and not i.paging_held]
        scheduled = await self.store.is_scheduled([i.number for i in open_incidents])
        for incident in open_incidents:
            if incident.number not in scheduled:
                step = (await self.store.state(incident.number)).step
                log.warning("%s had no escalation scheduled; re-arming step %d", incident.ref, step)
                await self.store.arm(incident.number, self._due(incident, step, await self._chain_length(incident)))


def _page_note(step: int, target: chain.Target, waited: timedelta) -> str:
    if step == 1:
        return f"step 1: {target.role}, at open"
    return f"step {step}: {target.role}, after {format_duration(waited)} unacknowledged"
