"""Incident use cases on top of the store: open, lifecycle steps, severity changes.

No Slack here: callers render the results. Time comes from an injectable clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core import telemetry
from bot.core.board import Board
from bot.core.redis import StoreUnavailable
from bot.core.settings.config import BotConfig
from bot.core.severity import Severity
from bot.core.timeline import TimelineEntry
from bot.incidents import machine
from bot.incidents.deadline import respond_by
from bot.incidents.model import Action, AlertOrigin, During, Hold, Incident, State
from bot.incidents.steps import IncidentSteps, OpenedDuring, PagingHold
from bot.incidents.store import IncidentStore

log = logging.getLogger(__name__)

STOPS_ESCALATION = {Action.ACKNOWLEDGE, Action.MITIGATE, Action.RESOLVE, Action.CLOSE}


class IncidentService:
    def __init__(
        self,
        store: IncidentStore,
        config: BotConfig,
        clock: Callable[[], datetime],
        board: Board,
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.board = board
        self.tz = ZoneInfo(config.oncall.timezone)

    async def _tell(self, step: str, incident: Incident) -> None:
        """The declared ``IncidentSteps``. The change itself is stored; a state store failure here is healed by the
        domain told (escalation re-checks the state and re-arms what has nothing scheduled)."""
        for steps in self.board.of(IncidentSteps):
            call = getattr(steps, step)
            if call is None:
                continue
            try:
                await call(incident)
            except StoreUnavailable as exc:
                log.warning("%s not told that %s %s: %s", steps.key, incident.ref, step, exc)

    async def _during(self, now: datetime) -> list[During]:
        found = []
        for source in self.board.of(OpenedDuring):
            try:
                text = await source.now(now)
            except StoreUnavailable:
                continue
            if text:
                found.append(During(emoji=source.emoji, label=source.label, text=text))
        return found

    async def _hold(self, now: datetime, severity: Severity, alert: AlertOrigin | None) -> Hold | None:
        """The first declared ``PagingHold`` that holds paging for an incident opening now."""
        for source in self.board.of(PagingHold):
            try:
                held = await source.hold(now, severity, alert)
            except StoreUnavailable as exc:  # paging as always rather than a page lost
                log.warning("%s not asked whether to hold paging: %s", source.key, exc)
                continue
            if held is not None:
                return held.model_copy(update={"key": source.key})
        return None

    def deadline(self, severity: Severity, opened_at: datetime) -> datetime:
        return respond_by(opened_at, self.config.severities[severity].ack_within, self.tz)

    async def open(
        self,
        *,
        title: str,
        severity: Severity,
        actor: str,
        description: str = "",
        alert: AlertOrigin | None = None,
        service: str | None = None,
        team: str | None = None,
    ) -> Incident:
        """``team``: whose it is (None: the default team, named on the incident when ``teams`` are configured)."""
        now = self.clock()
        incident = await self.store.open(
            title=title,
            description=description,
            severity=severity,
            opened_by=actor,
            now=now,
            respond_by=self.deadline(severity, now),
            during=await self._during(now),
            alert=alert,
            held=await self._hold(now, severity, alert),
            service=service,
            team=team or (self.config.home_team if self.config.teams else None),
        )
        telemetry.TRANSITIONS.labels(action="open", severity=severity.value).inc()
        await self._tell("opened", incident)
        return incident

    async def act(
        self, number: int, action: Action, actor: str, note: str = "", *, person: bool = True
    ) -> tuple[Incident, TimelineEntry]:
        """Apply a lifecycle step atomically; raises TransitionRefused with the winner's state. ``person=False``:
        a machine's step (it records no acknowledgement)."""
        try:
            incident, entry = await self.store.change(
                number, lambda current: machine.apply(current, action, actor, self.clock(), note, person=person)
            )
        except machine.TransitionRefused:
            telemetry.REFUSED.labels(action=action.value).inc()
            raise
        telemetry.TRANSITIONS.labels(action=action.value, severity=incident.severity.value).inc()
        sev = incident.severity.value
        if incident.acknowledged_at == entry.at:
            telemetry.TIME_TO_ACKNOWLEDGE.labels(severity=sev).observe((entry.at - incident.opened_at).total_seconds())
        if action is Action.RESOLVE:
            telemetry.TIME_TO_RESOLVE.labels(severity=sev).observe((entry.at - incident.opened_at).total_seconds())
        if action in STOPS_ESCALATION:
            await self._tell("stopped", incident)
        return incident, entry

    async def refire(self, number: int, actor: str, note: str) -> tuple[Incident, TimelineEntry]:
        """Take back a machine's mitigation whose alerts fire again; an incident nobody acknowledged is open again
        and its escalation goes on."""
        incident, entry = await self.store.change(number, lambda cur: machine.refire(cur, actor, self.clock(), note))
        if incident.state is State.OPEN:
            await self._tell("opened", incident)
        return incident, entry

    async def release(self, number: int, why: str, actor: str) -> tuple[Incident, TimelineEntry]:
        """End the hold on paging (raises TransitionRefused when it is not held: released already); an incident
        nobody responded to is paged from now, as if it had just opened."""
        now = self.clock()

        def mutation(current: Incident) -> tuple[Incident, TimelineEntry]:
            deadline = self.deadline(current.severity, now)
            return machine.release_hold(current, deadline, actor=actor, now=now, why=why)

        incident, entry = await self.store.change(number, mutation)
        if incident.state is State.OPEN:
            await self._tell("opened", incident)
        return incident, entry

    async def change_severity(
        self, number: int, severity: Severity, actor: str, note: str = ""
    ) -> tuple[Incident, TimelineEntry]:
        def mutation(current: Incident) -> tuple[Incident, TimelineEntry]:
            deadline = self.deadline(severity, current.pages_from)
            return machine.change_severity(current, severity, deadline, actor=actor, now=self.clock(), note=note)

        incident, entry = await self.store.change(number, mutation)
        telemetry.TRANSITIONS.labels(action="severity", severity=severity.value).inc()
        await self._tell("severity_changed", incident)
        return incident, entry

    async def assign(
        self, number: int, commander: str, actor: str, *, operator: bool = False
    ) -> tuple[Incident, TimelineEntry]:
        return await self.store.change(
            number, lambda cur: machine.assign(cur, commander, actor, self.clock(), operator=operator)
        )

    async def hand_over(self, number: int, team: str, actor: str) -> tuple[Incident, TimelineEntry]:
        """Hand the incident to ``team`` (a known team: the caller checked); an open one's response deadline starts
        again, and the new team's on-call is paged (``IncidentSteps.team_changed``)."""

        def mutation(current: Incident) -> tuple[Incident, TimelineEntry]:
            deadline = self.deadline(current.severity, self.clock())
            return machine.hand_over(
                current, team, deadline, actor=actor, now=self.clock(), default=self.config.home_team
            )

        incident, entry = await self.store.change(number, mutation)
        await self._tell("team_changed", incident)
        return incident, entry

    async def update(self, number: int, text: str, actor: str) -> tuple[Incident, TimelineEntry]:
        return await self.store.change(number, lambda cur: machine.status_update(cur, text, actor, self.clock()))

    async def link_room(self, number: int, channel: str, actor: str) -> tuple[Incident, TimelineEntry]:
        return await self.store.change(number, lambda cur: machine.link_room(cur, channel, actor, self.clock()))

    async def postmortem_drafted(self, number: int, actor: str) -> tuple[Incident, TimelineEntry]:
        return await self.store.change(number, lambda cur: machine.postmortem_drafted(cur, actor, self.clock()))

    async def note(self, number: int, kind: str, text: str, actor: str) -> tuple[Incident, TimelineEntry]:
        return await self.store.change(number, lambda cur: machine.record(cur, kind, text, actor, self.clock()))

    async def ticketed(
        self, number: int, key: str, url: str, text: str, *, actor: str
    ) -> tuple[Incident, TimelineEntry]:
        """Its ticket in the issue tracker: key and page kept, ``text`` on the timeline."""
        return await self.store.change(
            number, lambda cur: machine.ticket_linked(cur, key, url, text, actor=actor, now=self.clock())
        )

    async def published(
        self, number: int, page_id: str, status: str, text: str, *, actor: str, components: list[str] | None = None
    ) -> tuple[Incident, TimelineEntry]:
        """A post on the public status page: its incident id and status kept, the post on the timeline."""
        return await self.store.change(
            number,
            lambda cur: machine.public_post(
                cur, page_id, status, text, actor=actor, now=self.clock(), components=components
            ),
        )
