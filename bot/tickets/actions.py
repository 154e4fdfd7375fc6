"""Action items (the guide's POST-MORTEM "Create action items"): recorded on the incident and its timeline, each a
ticket of its own in the tracker when one is set up (once, as the incident's: a claim, and a look-up by its marker
``chatops-INC-42-A1`` before a create is tried again), linked to the incident's ticket; listed with their tickets'
live status, in the post-mortem draft, and counted in the weekly report."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import UserError
from bot.core.logs import redact_value
from bot.core.severity import Severity
from bot.core.slack import SLACK_ERRORS
from bot.core.timeline import TimelineEntry
from bot.incidents.model import Incident
from bot.incidents.service import IncidentService
from bot.incidents.store import IncidentNotFound
from bot.tickets import text
from bot.tickets.action_store import ActionStore
from bot.tickets.model import ActionItem, NewTicket, Ticket, TrackerDown, TrackerRefused, is_done, marker_line
from bot.tickets.parse import ListActions, NewAction
from bot.tickets.service import Busy, IncidentTickets

log = logging.getLogger(__name__)

LIVE_MOST = 20  # tickets asked for their status in one listing
LIVE_WAIT = 8.0  # seconds for all of them together
QUIET = logging.getLogger("bot.tickets.owner_email")
QUIET.setLevel(logging.INFO)  # slack_sdk's debug lines show users.info's answer, the owner's email in it
Readable = Callable[[Incident], Awaitable[bool]]  # whether the viewer may read that incident


@runtime_checkable
class Links(Protocol):
    """A tracker with links between issues (Jira, Linear); GitHub's follow-up is the reference in its body."""

    async def link(self, ticket: Ticket, other: Ticket) -> None: ...


def quiet(client: AsyncWebClient) -> AsyncWebClient:
    """The bot's Slack client whose own debug lines are not logged (the answer it logs carries an email)."""
    return AsyncWebClient(
        token=client.token, base_url=client.base_url, timeout=client.timeout, ssl=client.ssl, proxy=client.proxy,
        session=client.session, trust_env_in_session=client.trust_env_in_session, headers=dict(client.headers),
        team_id=client.default_params.get("team_id"), logger=QUIET, retry_handlers=client.retry_handlers,
    )  # fmt: skip


class ActionItems:
    def __init__(
        self,
        *,
        store: ActionStore,
        incidents: IncidentService,
        tickets: IncidentTickets | None,
        tz: ZoneInfo,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.incidents = incidents
        self.tickets = tickets
        self.tz = tz
        self.clock = clock

    def today(self) -> date:
        return self.clock().astimezone(self.tz).date()

    async def add(self, new: NewAction, by: str) -> tuple[ActionItem, Incident, TimelineEntry]:
        """Recorded, and on the incident's timeline; its ticket follows in the background (``ticket``)."""
        await self.incidents.store.get(new.number)  # it exists
        item = await self.store.add(
            ActionItem(number=new.number, index=0, text=new.text, owner=new.owner, due=new.due, by=by, at=self.clock())
        )
        incident, entry = await self.incidents.note(new.number, "action item", text.action_line(item), by)
        return item, incident, entry

    async def later_ticket(self, item: ActionItem) -> None:
        if self.tickets is not None:
            number, index = item.number, item.index
            await self.tickets.later(f"the ticket of {item.ref}", lambda: self.ticket(number, index))

    async def ticket(self, number: int, index: int) -> ActionItem | None:
        """Item k's ticket, made once (across replicas and lost answers) and kept as soon as it exists; then linked to
        the incident's ticket, a step of its own (a refused link is said once and leaves the ticket as it is)."""
        tickets = self.tickets
        assert tickets is not None
        token = await self.store.claim_ticket(number, index, tickets.claim_ttl)
        if token is None:
            raise Busy(f"another replica is making the ticket of INC-{number}-A{index}")
        try:
            item = await self.store.get(number, index)
            if item is None:
                return None
            incident = await self.incidents.store.get(number)
            relates = await tickets.ticket_of(incident) if incident.ticket_key else None
            if not item.ticket_key:
                made = await self._made(item, incident, relates)
                if made is None:
                    return item
                item = made
            if relates is not None:
                await self._link(item, incident, relates)
            return item
        finally:
            await self.store.release_claim(number, index, token)

    async def _made(self, item: ActionItem, incident: Incident, relates: Ticket | None) -> ActionItem | None:
        """Found by its marker (a create tried before) or made; kept and said at once. None: refused (said)."""
        tickets = self.tickets
        assert tickets is not None
        number, index = item.number, item.index
        try:
            found = await tickets.tracker.find(item.ref) if await self.store.tried(number, index) else None
            if found is None:
                await self.store.trying(number, index)
                found = await self._create(item, incident, relates)
        except TrackerDown as exc:
            await tickets.trouble(incident, "down", text.down(tickets.name, incident, str(exc)))
            raise
        except TrackerRefused as exc:
            await tickets.trouble(incident, f"refused:{item.ref}", text.action_refused(item, str(exc)))
            return None
        made = item.model_copy(update={"ticket_key": found.key, "ticket_url": found.url, "ticket_id": found.id})
        await self.store.put(made)
        await tickets.say(incident, text.action_ticketed(tickets.name, made))
        return made

    async def _link(self, item: ActionItem, incident: Incident, relates: Ticket) -> None:
        """The "relates to" link (Jira's issue link, Linear's relation; GitHub's is the reference in the body), once:
        a tracker down is tried again (the ticket is not made again), a refusal said once and not tried again."""
        tickets = self.tickets
        tracker = tickets.tracker if tickets is not None else None
        ticket = item.ticket
        if tickets is None or not isinstance(tracker, Links) or ticket is None:
            return
        if await self.store.linked(item.number, item.index):
            return
        try:
            await tracker.link(ticket, relates)
        except TrackerDown as exc:
            await tickets.trouble(incident, "down", text.down(tickets.name, incident, str(exc)))
            raise
        except TrackerRefused as exc:
            await tickets.trouble(incident, f"unlinked:{item.ref}", text.action_unlinked(item, relates, str(exc)))
        await self.store.link_done(item.number, item.index)

    async def _create(self, item: ActionItem, incident: Incident, relates: Ticket | None) -> Ticket:
        """Assigned to the owner's user in the tracker where their Slack email finds one; otherwise (or when the
        tracker will not assign them) unassigned, the owner named in the body."""
        tickets = self.tickets
        assert tickets is not None
        assignee = await self.assignee(item)

        def new(who: str | None) -> NewTicket:
            body = text.action_body(item, incident, who is not None) + "\n" + marker_line(item.ref)
            return NewTicket(ref=item.ref, title=item.text, severity=Severity.P4, body=body, action=True,
                             relates_to=relates, assignee=who)  # fmt: skip

        try:
            return await tickets.tracker.create(new(assignee))
        except TrackerRefused as exc:
            if assignee is None or exc.status != 400:
                raise
            log.info("%s's ticket: the tracker would not assign its owner (%s); made unassigned", item.ref, exc.status)
            return await tickets.tracker.create(new(None))

    async def assignee(self, item: ActionItem) -> str | None:
        """The tracker's user of the owner's Slack email (``users:read.email``), or None (no owner, no email, no
        match, or the tracker refuses the look-up). Neither the email nor the user is logged."""
        tickets = self.tickets
        if tickets is None or item.owner is None:
            return None
        try:
            answer = await quiet(tickets.client).users_info(user=item.owner)
        except SLACK_ERRORS as exc:
            log.info("%s's owner %s: no email from Slack (%s)", item.ref, item.owner, type(exc).__name__)
            return None
        user = answer.get("user") if isinstance(answer.data, dict) else None
        email = ((user or {}).get("profile") or {}).get("email") if isinstance(user, dict) else None
        if not isinstance(email, str) or "@" not in email:
            log.info("%s's owner %s has no email Slack shows the bot: unassigned", item.ref, item.owner)
            return None
        redact_value(email)  # whatever logs it from now on (a tracker's error echoing it) shows [redacted]
        try:
            found = await tickets.tracker.user_of(email)
        except TrackerRefused as exc:
            log.info("%s's owner %s: the tracker refused the user look-up (%s)", item.ref, item.owner, exc.status)
            return None
        if found is None:
            log.info("%s's owner %s has no user in %s: unassigned", item.ref, item.owner, tickets.name)
        return found

    async def done(self, number: int, index: int, by: str) -> ActionItem:
        item = await self.store.get(number, index)
        if item is None:
            raise UserError(f"INC-{number} has no action item {index}; `/incident actions INC-{number}` lists them.")
        closed = item.model_copy(update={"done_at": self.clock()})
        await self.store.put(closed)
        await self.incidents.note(number, "action item done", text.action_line(closed), by)
        return closed

    async def listed(self, query: ListActions, viewer: str, readable: Readable) -> list[ActionItem]:
        """The items asked for, with their tickets' live status (as last known where the tracker does not answer);
        across incidents, only those of incidents the viewer may read (``readable``: a private one's members)."""
        if query.number is not None:
            await self.incidents.store.get(query.number)
            return await self.live(await self.store.of(query.number))
        items = [i for i in await self.store.newest() if i.done_at is None]
        if query.mine:
            items = [i for i in items if i.owner == viewer or (i.owner is None and i.by == viewer)]
        shown: dict[int, bool] = {}
        for number in {i.number for i in items}:
            try:
                shown[number] = await readable(await self.incidents.store.get(number))
            except IncidentNotFound:  # gone from the store: whether it was private is not known
                shown[number] = False
        items = [i for i in items if shown[i.number]]
        return [i for i in await self.live(items) if i.done_at is None]  # as the tracker says now

    async def live(self, items: list[ActionItem]) -> list[ActionItem]:
        tickets = self.tickets
        asked = [i for i in items if i.ticket_key and i.done_at is None][:LIVE_MOST]
        if tickets is None or not asked:
            return items

        async def status(item: ActionItem) -> ActionItem:
            ticket = item.ticket
            assert ticket is not None
            try:
                now = await tickets.tracker.status(ticket)
            except (TrackerDown, TrackerRefused) as exc:
                log.info("the status of %s's ticket is not known: %s", item.ref, exc)
                return item
            changes: dict[str, object] = {"ticket_status": now}
            if is_done(now):
                changes["done_at"] = self.clock()
            fresh = item.model_copy(update=changes)
            if fresh != item:
                await self.store.put(fresh)
            return fresh

        try:
            answered = await asyncio.wait_for(asyncio.gather(*(status(i) for i in asked)), LIVE_WAIT)
        except TimeoutError:
            return items
        fresh = {(i.number, i.index): i for i in answered}
        return [fresh.get((i.number, i.index), i) for i in items]

    async def rows(self, incident: Incident) -> list[tuple[str, str, str]]:
        """The post-mortem draft's action items: what (and its ticket), owner, due."""
        return [text.action_row(i) for i in await self.store.of(incident.number)]

    async def weekly(self, start: datetime, end: datetime) -> list[str]:
        """The weekly report: open and overdue items per team (the incident's service namespace), the oldest named."""
        items = [i for i in await self.live([i for i in await self.store.newest() if i.done_at is None])
                 if i.done_at is None]  # fmt: skip
        if not items:
            return ["no open action items"]
        teams: dict[str, list[ActionItem]] = {}
        private: set[int] = set()  # incidents whose items are counted, their text not shown
        rooms = self.incidents.config.incident_channels
        for item in items:
            try:
                incident = await self.incidents.store.get(item.number)
            except IncidentNotFound:  # an incident gone from the store: its items still count, unnamed
                incident = None
            if incident is None or (rooms.private and incident.room):
                private.add(item.number)
            service = incident.service if incident is not None else None
            teams.setdefault((service or "no service").split("/", 1)[0], []).append(item)
        today = self.today()
        return [text.weekly_line(team, found, today, private) for team, found in sorted(teams.items())]
