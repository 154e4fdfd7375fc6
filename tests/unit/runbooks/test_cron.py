"""Crontab weekdays mean what they mean in cron (APScheduler's own from_crontab counts Monday as 0)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runbooks.cron import trigger, weekdays


def fires(expression: str, start: datetime, n: int) -> list[str]:
    t, out, at = trigger(expression, UTC), [], start
    for _ in range(n):
        at = t.get_next_fire_time(None, at)
        out.append(at.strftime("%a %d"))
        at = at.replace(second=1)
    return out


def test_weekday_numbers_are_crontabs() -> None:
    assert weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert weekdays("0") == weekdays("7") == "sun"
    assert weekdays("5-7") == "sun,fri,sat"
    assert weekdays("*/2") == "sun,tue,thu,sat"
    assert weekdays("MON-FRI") == "mon,tue,wed,thu,fri"
    with pytest.raises(ValueError):
        weekdays("5-1")


def test_weekdays_monday_and_the_first_monday_of_the_month() -> None:
    friday = datetime(2026, 11, 27, tzinfo=UTC)
    assert fires("0 8 * * 1-5", friday, 3) == ["Fri 27", "Mon 30", "Tue 01"]
    assert fires("0 9 * * 1", friday, 2) == ["Mon 30", "Mon 07"]
    assert fires("0 9 1-7 * 1", friday, 3) == ["Mon 07", "Mon 04", "Mon 01"]
