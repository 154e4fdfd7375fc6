"""Who is on call right now (pure data): the rotation's shift, with any override applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.oncall.rotation import Shift


@dataclass(frozen=True)
class OnCallNow:
    shift: Shift
    primary: str | None
    secondary: str | None
    lead: str | None
    override_until: datetime | None
    override_by: str | None
