"""Response deadlines: opened + the severity's ``ack_within``, or 09:00 of the next business day."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

BUSINESS_DAY_START = time(9, 0)


def next_business_morning(moment: datetime, tz: ZoneInfo) -> datetime:
    """09:00 local time on the first Monday-to-Friday day after ``moment``'s local date, in UTC."""
    day = moment.astimezone(tz).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, BUSINESS_DAY_START, tzinfo=tz).astimezone(UTC)


def respond_by(opened_at: datetime, ack_within: timedelta | Literal["next_business_day"], tz: ZoneInfo) -> datetime:
    """When the incident must be acknowledged, in UTC."""
    if ack_within == "next_business_day":
        return next_business_morning(opened_at, tz)
    assert isinstance(ack_within, timedelta)
    return (opened_at + ack_within).astimezone(UTC)
