"""Who is on call right now: the rotation from the config, the shared anchor, and any override."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.oncall.rotation import Handoff, Shift, anchor_for, shift_at
from bot.oncall.store import OnCallStore
from bot.settings import OnCall as OnCallConfig


@dataclass(frozen=True)
class OnCallNow:
    shift: Shift
    primary: str | None
    secondary: str | None
    lead: str | None
    override_until: datetime | None
    override_by: str | None


class Roster:
    def __init__(self, config: OnCallConfig, store: OnCallStore) -> None:
        self.config = config
        self.store = store
        self.tz = ZoneInfo(config.timezone)
        self.handoff = Handoff.parse(config.handoff)

    async def now(self, instant: datetime) -> OnCallNow:
        anchor = self.config.rotation_start or await self.store.anchor(anchor_for(instant, self.handoff, self.tz))
        shift = shift_at(instant, list(self.config.rotation), self.handoff, self.tz, anchor)
        override = await self.store.override(instant)
        primary = override["user"] if override else shift.primary
        secondary = shift.secondary if shift.secondary != primary else shift.primary
        return OnCallNow(
            shift=shift,
            primary=primary,
            secondary=secondary,
            lead=self.config.lead,
            override_until=datetime.fromisoformat(override["until"]) if override else None,
            override_by=override["by"] if override else None,
        )
