"""Incident use cases on top of the store: open, lifecycle steps, severity changes.

No Slack here: callers render the results. Time comes from an injectable clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot import metrics
from bot.incidents import machine
from bot.incidents.deadline import respond_by
from bot.incidents.model import Action, Incident, Severity, TimelineEntry
from bot.incidents.store import IncidentStore
from bot.settings import BotConfig


def utcnow() -> datetime:
    return datetime.now(UTC)


class IncidentService:
    def __init__(self, store: IncidentStore, config: BotConfig, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.tz = ZoneInfo(config.oncall.timezone)

    def deadline(self, severity: Severity, opened_at: datetime) -> datetime:
        return respond_by(opened_at, self.config.severities[severity].ack_within, self.tz)

    async def open(self, *, title: str, severity: Severity, actor: str, description: str = "") -> Incident:
        now = self.clock()
        incident = await self.store.open(
            title=title,
            description=description,
            severity=severity,
            opened_by=actor,
            now=now,
            respond_by=self.deadline(severity, now),
        )
        metrics.TRANSITIONS.labels(action="open", severity=severity.value).inc()
        return incident

    async def act(self, number: int, action: Action, actor: str, note: str = "") -> tuple[Incident, TimelineEntry]:
        """Apply a lifecycle step atomically; raises TransitionRefused with the winner's state."""
        try:
            incident, entry = await self.store.change(
                number, lambda current: machine.apply(current, action, actor, self.clock(), note)
            )
        except machine.TransitionRefused:
            metrics.REFUSED.labels(action=action.value).inc()
            raise
        metrics.TRANSITIONS.labels(action=action.value, severity=incident.severity.value).inc()
        return incident, entry

    async def change_severity(
        self, number: int, severity: Severity, actor: str, note: str = ""
    ) -> tuple[Incident, TimelineEntry]:
        def mutation(current: Incident) -> tuple[Incident, TimelineEntry]:
            deadline = self.deadline(severity, current.opened_at)
            return machine.change_severity(current, severity, deadline, actor=actor, now=self.clock(), note=note)

        incident, entry = await self.store.change(number, mutation)
        metrics.TRANSITIONS.labels(action="severity", severity=severity.value).inc()
        return incident, entry
