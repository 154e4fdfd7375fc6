"""Who is on call right now (pure data): the schedule's shift, with any cover and override applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.settings.teams import IMPLICIT
from bot.oncall.rotation import Shift
from bot.oncall.schedule import Cover


@dataclass(frozen=True)
class OnCallNow:
    shift: Shift
    primary: str | None
    secondary: str | None
    lead: str | None
    override_until: datetime | None
    override_by: str | None
    team: str = IMPLICIT
    source: str = ""  # which schedule or layer names the primary ("weekly", "follow-the-sun 00:00-08:00", "cover")
    covered: tuple[Cover, ...] = ()  # the covers that apply now
