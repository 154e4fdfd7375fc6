from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.incidents.deadline import next_business_morning, respond_by

BERLIN = ZoneInfo("Europe/Berlin")


def test_fixed_windows() -> None:
    t0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    assert respond_by(t0, timedelta(minutes=15), BERLIN) == t0 + timedelta(minutes=15)


@pytest.mark.parametrize(
    ("opened_local", "expected_local"),
    [
        (datetime(2026, 1, 5, 15, 0), datetime(2026, 1, 6, 9, 0)),  # Monday afternoon → Tuesday 09:00
        (datetime(2026, 1, 9, 15, 0), datetime(2026, 1, 12, 9, 0)),  # Friday → Monday
        (datetime(2026, 1, 10, 11, 0), datetime(2026, 1, 12, 9, 0)),  # Saturday → Monday
        (datetime(2026, 1, 11, 23, 59), datetime(2026, 1, 12, 9, 0)),  # Sunday night → Monday
        (datetime(2026, 1, 6, 2, 0), datetime(2026, 1, 7, 9, 0)),  # early Tuesday → Wednesday
        (datetime(2025, 12, 31, 18, 0), datetime(2026, 1, 1, 9, 0)),  # across the year boundary
        (datetime(2026, 3, 27, 12, 0), datetime(2026, 3, 30, 9, 0)),  # Friday before the spring DST change
    ],
)
def test_next_business_day_rule(opened_local: datetime, expected_local: datetime) -> None:
    opened = opened_local.replace(tzinfo=BERLIN).astimezone(UTC)
    got = respond_by(opened, "next_business_day", BERLIN)
    assert got.astimezone(BERLIN).replace(tzinfo=None) == expected_local
    assert got.tzinfo is UTC


def test_business_morning_uses_local_offset_after_dst() -> None:
    # 30 March 2026 is CEST (UTC+2): 09:00 local is 07:00 UTC.
    got = next_business_morning(datetime(2026, 3, 27, 12, 0, tzinfo=UTC), BERLIN)
    assert got == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
