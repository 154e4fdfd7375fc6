"""``/oncall cover`` and ``/oncall swap`` as typed (pure): who, for how long or until when, which day."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.durations import parse_duration
from bot.core.errors import UserError
from bot.core.ids import mentioned_user

COVER_FORM = "`/oncall cover [@user] [4h | until 18:00]`"
SWAP_FORM = "`/oncall swap @user YYYY-MM-DD`"
MAX_COVER = timedelta(days=14)
_CLOCK = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


@dataclass(frozen=True)
class CoverAsk:
    """A cover asked for: of ``person`` (None: anyone of the team), for ``duration`` or ``until`` a local time (both
    None: the rest of the shift)."""

    person: str | None
    duration: timedelta | None
    until: time | None


@dataclass(frozen=True)
class SwapAsk:
    person: str
    day: date


def cover(args: list[str]) -> CoverAsk:
    person = None
    rest = list(args)
    if rest and rest[0].startswith(("<@", "@", "U", "W")) and rest[0].lower() != "until":
        person = mentioned_user(rest[0])
        if person is None:
            raise UserError(f"`{rest[0][:30]}` is not a person. Write it as {COVER_FORM}.")
        rest = rest[1:]
    if not rest:
        return CoverAsk(person, None, None)
    if rest[0].lower() == "until":
        found = _CLOCK.match(rest[1]) if len(rest) == 2 else None
        if found is None:
            raise UserError(f"Say until when as a time of day, like `until 18:00`: {COVER_FORM}.")
        return CoverAsk(person, None, time(int(found.group(1)), int(found.group(2))))
    if len(rest) != 1:
        raise UserError(f"Write it as {COVER_FORM}.")
    try:
        duration = parse_duration(rest[0])
    except ValueError as exc:
        raise UserError(f"{exc}. Write it as {COVER_FORM}.") from None
    if duration <= timedelta(0) or duration > MAX_COVER:
        raise UserError(f"A cover lasts from a minute to {MAX_COVER.days} days: {COVER_FORM}.")
    return CoverAsk(person, duration, None)


def swap(args: list[str]) -> SwapAsk:
    person = mentioned_user(args[0]) if len(args) == 2 else None
    if person is None:
        raise UserError(f"Name the person and the day of your shift: {SWAP_FORM}.")
    try:
        day = date.fromisoformat(args[1])
    except ValueError:
        raise UserError(f"`{args[1][:20]}` is not a day; write it as 2026-12-07: {SWAP_FORM}.") from None
    return SwapAsk(person, day)


def next_local(moment: time, after: datetime, zone: str) -> datetime:
    """The first ``moment`` of the day (in ``zone``) after ``after``, in UTC."""
    tz = ZoneInfo(zone)
    local = after.astimezone(tz)
    candidate = datetime.combine(local.date(), moment, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), moment, tzinfo=tz)
    return candidate.astimezone(UTC)
