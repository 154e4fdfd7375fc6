"""An incident's ticket: made once at ``tickets.create_on`` (or on demand), linked by hand, moved with the incident.

The incident never waits on the tracker: every call runs in the background through the outbox, retried while the
tracker is down (backing off to ``tickets.retry_max``), and a tracker down is said once in the incident's thread. A
ticket is made once per incident across replicas (a claim in Redis) and across a create whose answer was lost: a
create is recorded as tried before it is sent, and the next attempt first looks the ticket up by its marker.

The ticket converges on the incident: the stage and severity last sent to it are kept beside it, every move (live,
or the poller's when a move was lost with a restart or retries that gave up) sends what differs, under the ticket's
claim (one replica at a time) and records it, so a lost move is sent once, by one replica.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import slack
from bot.core.errors import DependencyError, UserError
from bot.core.outbox import Outbox
from bot.core.settings.tickets import Stage, Tickets
from bot.core.severity import SEVERITY_LABELS
from bot.core.slack import SLACK_ERRORS
from bot.core.timeline import TimelineEntry
from bot.incidents.flows import IncidentFlows
from bot.incidents.model import Incident, State
from bot.incidents.service import IncidentService
from bot.tickets import render, text
from bot.tickets.http import Down
from bot.tickets.model import (
    MADE,
    TRACKER_NAMES,
    NewTicket,
    Ticket,
    Tracker,
    TrackerDown,
    TrackerRefused,
    home_of,
    parse_key,
    stage_of,
    stages_to,
)
from bot.tickets.store import TicketStore

log = logging.getLogger(__name__)

BOT = "chatops-bot"
STAGE_OF_STATE: dict[State, Stage] = {
    State.ACKNOWLEDGED: "acknowledged",
    State.MITIGATED: "mitigated",
    State.RESOLVED: "resolved",
    State.CLOSED: "closed",
}
ANNOUNCEMENT_WAIT = 20.0
RECONCILE_EVERY = timedelta(seconds=60)


class Busy(DependencyError):
    """Another replica is creating the ticket: looked at again shortly (it is there by then, or its claim lapsed)."""


class Backoff:
    """Gates the outbox's once-a-second retries of one write: 1 s, 2 s, 4 s … up to ``most`` (or what a 429's
    Retry-After asked, within it)."""

    def __init__(self, most: float) -> None:
        self.most = most
        self.wait = 1.0
        self.next = 0.0

    def ready(self) -> bool:
        return asyncio.get_running_loop().time() >= self.next

    def failed(self, exc: Exception) -> None:
        after = exc.retry_after if isinstance(exc, Down) and exc.retry_after else 0.0
        wait = min(max(self.wait, after), self.most)
        self.next = asyncio.get_running_loop().time() + wait
        self.wait = min(self.wait * 2, self.most)


class IncidentTickets:
    def __init__(
        self,
        *,
        settings: Tickets,
        tracker: Tracker,
        incidents: IncidentService,
        flows: IncidentFlows,
        client: AsyncWebClient,
        store: TicketStore,
        outbox: Outbox,
    ) -> None:
        self.settings = settings
        self.tracker = tracker
        self.name = TRACKER_NAMES[tracker.name]
        self.incidents = incidents
        self.store = incidents.store
        self.flows = flows
        self.client = client
        self.tickets = store
        self.outbox = outbox
        self.claim_ttl = int(4 * max(1.0, self._timeout()) + 60)
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()  # while held
        self._making: dict[int, float] = {}  # incident → until when a make of it is retrying here
        self._converging: dict[int, float] = {}  # incident → until when the poller's move of it is retrying here

    def _timeout(self) -> float:
        chosen = self.settings.jira or self.settings.github or self.settings.linear
        return chosen.timeout.total_seconds() if chosen is not None else 10.0

    # The board's steps --------------------------------------------------------------------------------------------
    async def opened(self, incident: Incident) -> None:
        """``AfterOpened``: the ticket of an incident whose severity is ticketed at open."""
        if self.settings.when(incident.severity) == "opened":
            await self.make(incident.number)

    async def changed(self, incident: Incident, entry: TimelineEntry) -> None:
        """``AfterIncidentChange``: the ticket made once the incident is acknowledged, or moved with it."""
        number = incident.number
        if entry.kind == "post-mortem drafted":
            line, blocks = render.postmortem_button(incident, self.name)
            await self.say(incident, line, blocks)
        if incident.ticket_key is None:
            wanted = self.wanted(incident) and entry.kind != "ticket"
            if wanted and not await self.tickets.was_said(number, "refused"):  # refused: made when asked for
                await self.make(number)
            return
        stage = stage_of(entry.kind)
        if stage is not None or entry.kind == "severity changed":
            await self.later(f"{incident.ref}'s ticket {stage or 'priority'}", lambda: self.converge(number, stage))
        elif entry.kind == "status update" and self.settings.mirror_updates:
            note = text.update_comment(entry)
            await self.later(f"{incident.ref}'s ticket comment", lambda: self.comment(number, note))

    def wanted(self, incident: Incident) -> bool:
        """Whether the incident should have a ticket by now (``tickets.create_on``)."""
        when = self.settings.when(incident.severity)
        return when == "opened" or (when == "acknowledged" and incident.acknowledged_at is not None)

    async def make(self, number: int, actor: str = BOT) -> None:
        """INC-n's ticket, in the background with the outbox's retries (one retrying make per incident here). Even
        its first attempt is spawned: the caller (the poller's tick, the post-mortem's steps) never waits on the
        tracker (a find, the announcement, a create: 10 s each when it hangs)."""
        loop = asyncio.get_running_loop()
        if loop.time() < self._making.get(number, 0.0):
            return
        self._making[number] = loop.time() + self.outbox.retry_for  # until the outbox gives up

        async def ensure() -> None:
            await self.ensure(number, actor)
            self._making.pop(number, None)  # made, or refused and said

        self.outbox.tasks.spawn(self.later(f"the ticket of INC-{number}", ensure), name=f"ticket-INC-{number}-make")

    async def reconcile(self, now: datetime) -> None:
        """The poller's: an incident that should have a ticket and has none (its retries lost with a restart, or a
        tracker back after they gave up) is made one, and a ticket behind its incident (a move or priority lost the
        same way) is moved; the claim keeps each to one replica. It reads Redis only: every tracker call is spawned,
        so the tick (escalation, pages) never waits on the tracker."""
        for incident in await self.store.active():
            if incident.ticket_key is not None:
                await self._behind(incident)
                continue
            if self.wanted(incident) and not await self.tickets.was_said(incident.number, "refused"):
                await self.make(incident.number)

    async def _behind(self, incident: Incident) -> None:
        """A ticket that is not where its incident is gets moved there, in the background (one retrying move per
        incident here); one kept before what was sent to it was recorded is taken as it is."""
        number, now = incident.number, STAGE_OF_STATE.get(incident.state)
        stage, severity = await self.tickets.synced(number)
        if stage is None or severity is None:
            await self.tickets.mark_synced(number, stage=stage or now or MADE, severity=incident.severity.value)
            return
        if not stages_to(stage, now) and severity == incident.severity.value:
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self._converging.get(number, 0.0):
            return
        self._converging[number] = loop.time() + self.outbox.retry_for
        log.info("%s's ticket is behind the incident (sent: %s, %s); moving it", incident.ref, stage, severity)

        async def converge() -> None:
            await self.converge(number)
            self._converging.pop(number, None)

        move = self.later(f"{incident.ref}'s ticket caught up", converge)
        self.outbox.tasks.spawn(move, name=f"ticket-{incident.ref}-sync")

    async def later(self, what: str, write: Callable[[], Awaitable[object]]) -> bool:
        """Through the outbox, with backoff; True when done at once."""
        backoff = Backoff(self.settings.retry_max.total_seconds())

        async def attempt() -> None:
            if not backoff.ready():
                raise Busy("waiting before trying again")
            try:
                await write()
            except (TrackerDown, Busy) as exc:
                backoff.failed(exc)
                raise

        return await self.outbox.deliver(what, attempt)

    # The ticket ---------------------------------------------------------------------------------------------------
    def _lock(self, number: int) -> asyncio.Lock:
        return self._locks.setdefault(number, asyncio.Lock())

    async def ensure(self, number: int, actor: str = BOT) -> Ticket | None:
        """INC-n's ticket, made if it has none (once, across replicas and lost answers). A tracker down raises
        ``TrackerDown`` (said once in the thread; the outbox tries again); a refusal is said and not retried."""
        async with self._lock(number):
            incident = await self.store.get(number)
            if incident.ticket_key:
                return await self.ticket_of(incident)
            token = await self.tickets.claim_create(number, self.claim_ttl)
            if token is None:
                raise Busy(f"another replica is making the ticket of {incident.ref}")
            try:
                return await self._create(number, actor)
            finally:
                await self.tickets.release_create(number, token)

    async def _create(self, number: int, actor: str) -> Ticket | None:
        incident = await self.store.get(number)  # again, under the claim: the last holder may have made it
        if incident.ticket_key:
            return await self.ticket_of(incident)
        try:
            found = await self.tracker.find(incident.ref) if await self.tickets.tried(number) else None
            if found is not None:
                log.info("the unanswered create of %s's ticket was made: %s", incident.ref, found.key)
            else:
                await self.tickets.trying(number)
                where = await self.store.where_to_reply(incident, wait=ANNOUNCEMENT_WAIT)
                found = await self.tracker.create(self._new(incident, where))
        except TrackerDown as exc:
            await self.trouble(incident, "down", text.down(self.name, incident, str(exc)))
            raise
        except TrackerRefused as exc:
            await self.trouble(incident, "refused", text.refused(incident, str(exc)))
            return None
        await self.tickets.keep(number, found)
        await self.tickets.mark_synced(number, stage=MADE, severity=incident.severity.value)
        back = await self.tickets.was_said(number, "down")
        updated, entry = await self.incidents.ticketed(
            number, found.key, found.url, text.timeline(self.name, found), actor=actor
        )
        await self.flows.changed(updated, entry)
        if back:
            await self.say(updated, text.back(self.name, updated, found))
            await self.tickets.forget_said(number, "down")
        if updated.state is not State.OPEN:  # where the incident is now (once the claim's lock is given back)
            move = self.later(f"{updated.ref}'s ticket caught up", lambda: self.converge(number))
            self.outbox.tasks.spawn(move, name=f"ticket-{updated.ref}")
        return found

    def _new(self, incident: Incident, where: tuple[str, str | None] | None) -> NewTicket:
        severity = incident.severity
        labels = [f"severity-{severity.value}"]
        body = text.description(incident, SEVERITY_LABELS[severity], where, self.tracker.name != "jira")
        return NewTicket(ref=incident.ref, title=f"{incident.ref}: {incident.title}", severity=severity, body=body,
                         labels=labels)  # fmt: skip

    async def ticket_of(self, incident: Incident) -> Ticket:
        assert incident.ticket_key is not None
        ticket_id = await self.tickets.ticket_id(incident.number)
        return Ticket(self.tracker.name, incident.ticket_key, incident.ticket_url or "", ticket_id)

    def home(self) -> str:
        """Where the incidents' tickets live: the configured Jira project, GitHub repository or Linear team."""
        s = self.settings
        return s.jira.project if s.jira else s.github.repo if s.github else s.linear.team if s.linear else ""

    def linkable(self, typed: str) -> str:
        """A key typed to link, checked for its form and its home: only a ticket of the configured project (repo,
        team) is linked, so a responder cannot have the bot move or close issues anywhere else its token writes."""
        key = parse_key(self.tracker.name, typed)
        if home_of(self.tracker.name, key).casefold() != self.home().casefold():
            raise UserError(f"Only a {self.name} ticket of `{self.home()}` can be linked; `{key}` is not one.")
        return key

    async def link(self, number: int, key: str, actor: str, replace: bool = False) -> Ticket | None:
        """``/incident ticket INC-n link KEY``: an existing ticket becomes the incident's (marked, then kept), under
        the create's claim; an incident with a ticket keeps it unless ``replace`` (``relink``) is said."""
        incident = await self.store.get(number)
        try:
            key = self.linkable(key)
        except UserError as exc:
            await self.say(incident, f"⚠️ {exc}")
            return None
        token = await self.tickets.claim_create(number, self.claim_ttl)
        if token is None:
            await self.say(incident, f"⚠️ {incident.ref}'s ticket is being made or moved right now; link {key} "
                                     "again in a moment.")  # fmt: skip
            return None
        try:
            return await self._link(number, key, actor, replace)
        finally:
            await self.tickets.release_create(number, token)

    async def _link(self, number: int, key: str, actor: str, replace: bool) -> Ticket | None:
        incident = await self.store.get(number)  # under the claim: a create or another link may have kept one
        if incident.ticket_key == key:
            return await self.ticket_of(incident)
        if incident.ticket_key and not replace:
            await self.say(incident, f"⚠️ {incident.ref}'s ticket is {incident.ticket_key} already; to replace it, "
                                     f"write `/incident ticket {incident.ref} relink {key}`.")  # fmt: skip
            return None
        try:
            found = await self.tracker.get(key)
            if found is None:
                await self.say(incident, text.no_such(self.name, key))
                return None
            await self.tracker.mark(found, incident.ref)
        except TrackerDown as exc:
            await self.trouble(incident, "down", text.down(self.name, incident, str(exc)))
            raise
        except TrackerRefused as exc:
            await self.say(incident, text.refused(incident, str(exc)))
            return None
        await self.tickets.forget_said(number, "down")
        await self.tickets.keep(number, found)
        here = STAGE_OF_STATE.get(incident.state) or MADE  # taken where it is: moved with the incident from now on
        await self.tickets.mark_synced(number, stage=here, severity=incident.severity.value)
        updated, entry = await self.incidents.ticketed(
            number, found.key, found.url, text.linked(self.name, found), actor=actor
        )
        await self.flows.changed(updated, entry)
        return found

    async def converge(self, number: int, hint: Stage | None = None) -> None:
        """Send INC-n's ticket what it lacks of the incident (its stage, its priority), under the ticket's claim, each
        recorded once sent (or refused, which is said and not sent again). ``hint``: the live change's stage, for a
        ticket kept before what was sent to it was recorded."""
        token = await self.tickets.claim_create(number, self.claim_ttl)
        if token is None:
            raise Busy(f"another replica is writing the ticket of INC-{number}")
        try:
            incident = await self.store.get(number)
            if incident.ticket_key is None:
                return
            stage, severity = await self.tickets.synced(number)
            now = STAGE_OF_STATE.get(incident.state)
            steps = stages_to(stage, now) if stage is not None else [hint] if hint is not None and now else []
            for step in steps:
                await self._on_ticket(incident, step, partial(self.tracker.move, stage=step))
                await self.tickets.mark_synced(number, stage=step)
            if severity != incident.severity.value:
                wanted = incident.severity
                await self._on_ticket(incident, "priority", partial(self.tracker.reprioritize, severity=wanted))
                await self.tickets.mark_synced(number, severity=wanted.value)
        finally:
            await self.tickets.release_create(number, token)

    async def comment(self, number: int, note: str) -> None:
        incident = await self.store.get(number)
        await self._on_ticket(incident, "comment", lambda t: self.tracker.comment(t, note))

    async def _on_ticket(self, incident: Incident, what: str, call: Callable[[Ticket], Awaitable[object]]) -> None:
        ticket = await self.ticket_of(incident)
        try:
            await call(ticket)
            await self.tickets.forget_said(incident.number, "down")  # it answers: a later outage is said again
        except TrackerDown as exc:
            await self.trouble(incident, "down", text.down(self.name, incident, str(exc)))
            raise
        except TrackerRefused as exc:
            await self.trouble(incident, f"refused:{what}", text.not_synced(ticket, what, str(exc)))

    # Saying it in the thread --------------------------------------------------------------------------------------
    async def trouble(self, incident: Incident, what: str, line: str) -> None:
        """Once per incident and kind of trouble; logged every time (without the tracker's credentials)."""
        log.warning("%s ticket of %s: %s", self.name, incident.ref, line)
        if await self.tickets.say_once(incident.number, what):
            await self.say(incident, line)

    async def say(self, incident: Incident, line: str, blocks: list[Block] | None = None) -> None:
        where = await self.store.where_to_reply(incident, wait=ANNOUNCEMENT_WAIT)
        if where is None:
            return
        channel, thread = where
        try:
            await self.client.chat_postMessage(channel=channel, thread_ts=thread, text=line, blocks=blocks)
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", f"a ticket note on {incident.ref}", exc)

    async def retry_on_demand(self, number: int, actor: str) -> None:
        """``/incident ticket INC-n``: what was said before may be said again."""
        await self.tickets.forget_said(number, "refused", "down")
        await self.make(number, actor)
