"""Weekly rotation arithmetic (pure): who is primary and secondary at any instant.

Hand-offs happen at a local wall-clock time (e.g. Monday 09:00 Europe/Berlin), so a week
across a DST change is 167 or 169 hours long and the hand-off still happens at 09:00.
Week 0 starts at the hand-off on ``anchor`` (a date); ``rotation[0]`` is primary then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Handoff:
    weekday: int
    at: time

    @classmethod
    def parse(cls, text: str) -> Handoff:
        day, clock = text.strip().lower().split()
        hours, minutes = clock.split(":")
        return cls(WEEKDAYS.index(day[:3]), time(int(hours), int(minutes)))


@dataclass(frozen=True)
class Shift:
    primary: str | None
    secondary: str | None
    started: datetime
    ends: datetime
    next_primary: str | None
    next_secondary: str | None


def _at(day: date, handoff: Handoff, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, handoff.at, tzinfo=tz).astimezone(UTC)


def last_handoff(instant: datetime, handoff: Handoff, tz: ZoneInfo) -> datetime:
    """The most recent hand-off at or before ``instant`` (UTC)."""
    local = instant.astimezone(tz)
    day = local.date() - timedelta(days=(local.weekday() - handoff.weekday) % 7)
    candidate = _at(day, handoff, tz)
    if candidate > instant:
        candidate = _at(day - timedelta(days=7), handoff, tz)
    return candidate


def next_handoff(instant: datetime, handoff: Handoff, tz: ZoneInfo) -> datetime:
    day = last_handoff(instant, handoff, tz).astimezone(tz).date() + timedelta(days=7)
    return _at(day, handoff, tz)


def anchor_for(instant: datetime, handoff: Handoff, tz: ZoneInfo) -> date:
    """The anchor that makes ``rotation[0]`` primary in the week containing ``instant``."""
    return last_handoff(instant, handoff, tz).astimezone(tz).date()


def shift_at(instant: datetime, rotation: list[str], handoff: Handoff, tz: ZoneInfo, anchor: date) -> Shift:
    """Primary and secondary at ``instant``; secondary is the next person in the list."""
    started = last_handoff(instant, handoff, tz)
    ends = next_handoff(instant, handoff, tz)
    if not rotation:
        return Shift(None, None, started, ends, None, None)
    week = (started.astimezone(tz).date() - anchor).days // 7
    size = len(rotation)

    def at(offset: int) -> str:
        return rotation[(week + offset) % size]

    return Shift(
        primary=at(0),
        secondary=at(1) if size > 1 else None,
        started=started,
        ends=ends,
        next_primary=at(1),
        next_secondary=at(2) if size > 1 else None,
    )
