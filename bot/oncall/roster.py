"""Who is on call right now: the rotation from the config, the shared anchor, and any override."""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.settings.config import OnCallConfig
from bot.oncall.model import OnCallNow
from bot.oncall.rotation import Handoff, anchor_for, shift_at
from bot.oncall.store import OnCallStore

OVERRIDE_CACHE_SECONDS = 1.0


class Roster:
    """Reads are cheap enough for every page: the anchor never changes once set, and the
    override is re-read at most once a second (a burst of pages shares one read)."""

    def __init__(self, config: OnCallConfig, store: OnCallStore) -> None:
        self.config = config
        self.store = store
        self.tz = ZoneInfo(config.timezone)
        self.handoff = Handoff.parse(config.handoff)
        self._anchor: date | None = config.rotation_start
        self._override: tuple[float, dict[str, Any] | None] | None = None

    async def now(self, instant: datetime) -> OnCallNow:
        if self._anchor is None:
            self._anchor = await self.store.anchor(anchor_for(instant, self.handoff, self.tz))
        shift = shift_at(instant, list(self.config.rotation), self.handoff, self.tz, self._anchor)
        override = await self._current_override(instant)
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

    async def _current_override(self, instant: datetime) -> dict[str, Any] | None:
        cached = self._override
        if cached is None or time.monotonic() - cached[0] > OVERRIDE_CACHE_SECONDS:
            cached = self._override = (time.monotonic(), await self.store.override(instant))
        override = cached[1]
        return override if override and datetime.fromisoformat(override["until"]) > instant else None

    def forget_override(self) -> None:
        """After this replica changed the override: read it afresh next time."""
        self._override = None
