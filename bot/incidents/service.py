"""Incident use cases on top of the store: open, lifecycle steps, severity changes.

No Slack here: callers render the results. Time comes from an injectable clock.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.core import telemetry
from bot.core.redis import StoreUnavailable
from bot.core.settings.config import BotConfig
from bot.core.severity import Severity
from bot.incidents import machine
from bot.incidents.deadline import respond_by
from bot.incidents.model import Action, AlertOrigin, Incident, TimelineEntry
from bot.incidents.store import IncidentStore

log = logging.getLogger(__name__)

STOPS_ESCALATION = {Action.ACKNOWLEDGE, Action.MITIGATE, Action.RESOLVE, Action.CLOSE}


def utcnow() -> datetime:
    return datetime.now(UTC)


class EscalationHooks(Protocol):
    """What the incident lifecycle tells escalation (bot/oncall/escalator.py)."""

    async def opened(self, incident: Incident) -> None: ...

    async def stopped(self, incident: Incident) -> None: ...

    async def severity_changed(self, incident: Incident) -> None: ...


class IncidentService:
    def __init__(
        self,
        store: IncidentStore,
        config: BotConfig,
        clock: Callable[[], datetime] = utcnow,
        escalation: EscalationHooks | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.escalation = escalation
        self.tz = ZoneInfo(config.oncall.timezone)
        # The maintenance window running now ("MW-3: Postgres minor upgrade"), named in an incident opened during
        # it (set by the composition root: maintenance sits above this domain).
        self.during: Callable[[datetime], Awaitable[str | None]] | None = None

    async def _tell_escalation(self, hook: str, incident: Incident) -> None:
        """The change itself is stored; a failure here is healed by the escalator (state re-checks, re-arming)."""
        if self.escalation is None:
            return
        try:
            await getattr(self.escalation, hook)(incident)
        except StoreUnavailable as exc:
            log.warning("escalation not told that %s %s: %s", incident.ref, hook, exc)

    def deadline(self, severity: Severity, opened_at: datetime) -> datetime:
        return respond_by(opened_at, self.config.severities[severity].ack_within, self.tz)

    async def open(
        self, *, title: str, severity: Severity, actor: str, description: str = "", alert: AlertOrigin | None = None
    ) -> Incident:
        now = self.clock()
        incident = await self.store.open(
            title=title,
            description=description,
            severity=severity,
            opened_by=actor,
            now=now,
            respond_by=self.deadline(severity, now),
            maintenance=await self.during(now) if self.during is not None else None,
            alert=alert,
        )
        telemetry.TRANSITIONS.labels(action="open", severity=severity.value).inc()
        await self._tell_escalation("opened", incident)
        return incident

    async def act(self, number: int, action: Action, actor: str, note: str = "") -> tuple[Incident, TimelineEntry]:
        """Apply a lifecycle step atomically; raises TransitionRefused with the winner's state."""
        try:
            incident, entry = await self.store.change(
                number, lambda current: machine.apply(current, action, actor, self.clock(), note)
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
            await self._tell_escalation("stopped", incident)
        return incident, entry

    async def change_severity(
        self, number: int, severity: Severity, actor: str, note: str = ""
    ) -> tuple[Incident, TimelineEntry]:
        def mutation(current: Incident) -> tuple[Incident, TimelineEntry]:
            deadline = self.deadline(severity, current.opened_at)
            return machine.change_severity(current, severity, deadline, actor=actor, now=self.clock(), note=note)

        incident, entry = await self.store.change(number, mutation)
        telemetry.TRANSITIONS.labels(action="severity", severity=severity.value).inc()
        await self._tell_escalation("severity_changed", incident)
        return incident, entry

    async def assign(
        self, number: int, commander: str, actor: str, *, operator: bool = False
    ) -> tuple[Incident, TimelineEntry]:
        return await self.store.change(
            number, lambda cur: machine.assign(cur, commander, actor, self.clock(), operator=operator)
        )

    async def update(self, number: int, text: str, actor: str) -> tuple[Incident, TimelineEntry]:
        return await self.store.change(number, lambda cur: machine.status_update(cur, text, actor, self.clock()))

    async def link_channel(self, number: int, channel: str, actor: str) -> tuple[Incident, TimelineEntry]:
        return await self.store.change(number, lambda cur: machine.link_channel(cur, channel, actor, self.clock()))

    async def postmortem_drafted(self, number: int, actor: str) -> tuple[Incident, TimelineEntry]:
        return await self.store.change(number, lambda cur: machine.postmortem_drafted(cur, actor, self.clock()))

    async def note(self, number: int, kind: str, text: str, actor: str) -> tuple[Incident, TimelineEntry]:
        return await self.store.change(number, lambda cur: machine.record(cur, kind, text, actor, self.clock()))

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
