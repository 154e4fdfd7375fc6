from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.oncall.rotation import Handoff, anchor_for, last_handoff, next_handoff, shift_at

BERLIN = ZoneInfo("Europe/Berlin")
MON_9 = Handoff.parse("mon 09:00")
ROTA = ["UALICE", "UBOB", "UCAROL"]
ANCHOR = date(2026, 3, 23)  # a Monday: Alice's week


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


def test_primary_and_secondary_rotate_weekly() -> None:
    assert shift_at(berlin(2026, 3, 25, 12), ROTA, MON_9, BERLIN, ANCHOR).primary == "UALICE"
    week2 = shift_at(berlin(2026, 3, 30, 9, 0), ROTA, MON_9, BERLIN, ANCHOR)
    assert (week2.primary, week2.secondary, week2.next_primary) == ("UBOB", "UCAROL", "UCAROL")
    week4 = shift_at(berlin(2026, 4, 13, 10), ROTA, MON_9, BERLIN, ANCHOR)
    assert (week4.primary, week4.secondary) == ("UALICE", "UBOB")


def test_handoff_minute_boundary() -> None:
    before = shift_at(berlin(2026, 3, 30, 8, 59), ROTA, MON_9, BERLIN, ANCHOR)
    after = shift_at(berlin(2026, 3, 30, 9, 0), ROTA, MON_9, BERLIN, ANCHOR)
    assert (before.primary, after.primary) == ("UALICE", "UBOB")


def test_dst_spring_forward_keeps_local_nine_oclock() -> None:
    # Berlin moves to CEST on 29 March 2026: the week of 23 March is 167 hours long.
    shift = shift_at(berlin(2026, 3, 28, 12), ROTA, MON_9, BERLIN, ANCHOR)
    assert shift.started == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert shift.ends == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert (shift.ends - shift.started).total_seconds() == 167 * 3600


def test_dst_fall_back_week_is_169_hours() -> None:
    shift = shift_at(berlin(2026, 10, 27, 12), ROTA, MON_9, BERLIN, ANCHOR)
    assert shift.started == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    assert (
        next_handoff(berlin(2026, 10, 21, 12), MON_9, BERLIN) - last_handoff(berlin(2026, 10, 21, 12), MON_9, BERLIN)
    ).total_seconds() == 169 * 3600


def test_year_boundary_continues_the_count() -> None:
    # 28 Dec 2026 and 4 Jan 2027 are consecutive Mondays; the rotation keeps counting weeks.
    a = shift_at(berlin(2026, 12, 31, 12), ROTA, MON_9, BERLIN, ANCHOR)
    b = shift_at(berlin(2027, 1, 4, 9, 30), ROTA, MON_9, BERLIN, ANCHOR)
    assert b.started == datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    weeks = (date(2026, 12, 28) - ANCHOR).days // 7
    assert a.primary == ROTA[weeks % 3] and b.primary == ROTA[(weeks + 1) % 3]


def test_anchor_makes_the_first_person_primary_now() -> None:
    now = berlin(2026, 11, 26, 14)
    anchor = anchor_for(now, MON_9, BERLIN)
    assert anchor == date(2026, 11, 23)
    assert shift_at(now, ROTA, MON_9, BERLIN, anchor).primary == "UALICE"


def test_small_rotations() -> None:
    solo = shift_at(berlin(2026, 3, 25), ["UONLY"], MON_9, BERLIN, ANCHOR)
    assert (solo.primary, solo.secondary) == ("UONLY", None)
    empty = shift_at(berlin(2026, 3, 25), [], MON_9, BERLIN, ANCHOR)
    assert empty.primary is None
