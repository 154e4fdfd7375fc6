"""Covers by the shift they belong to (pure): a span located in the weekly rotation's week or a layer's run of hours,
resolved again with the config of the moment (the hand-off moved: the span moves with its shift), and covers kept
before they had a shift staying at their instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.core.settings.teams import Layer, Schedule, Team
from bot.oncall.schedule import Cover, ShiftRef, at
from bot.oncall.shifts import locate, next_primary, placed, span, week_start

ANCHOR = date(2026, 3, 23)  # a Monday: week 0


def team(handoff: str = "mon 09:00", hours: str = "00:00-08:00") -> Team:
    return Team(
        schedules=[
            Schedule(name="weekly", rotation=["U0ALICE", "U0BOB", "U0CAROL"], handoff=handoff),
            Schedule(name="sun", layers=[Layer(rotation=["U0DAN", "U0EVE"], hours=hours)]),
        ],
        lead="U0LEAD",
    )


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type]


def test_week_n_starts_at_the_handoff_of_the_anchors_nth_week() -> None:
    assert week_start(team(), ANCHOR, 0) == utc(2026, 3, 23, 9)
    assert week_start(team(), ANCHOR, 2) == utc(2026, 4, 6, 9)
    assert week_start(team("tue 10:00"), ANCHOR, 1) == utc(2026, 3, 31, 10)
    assert week_start(team("sun 10:00"), ANCHOR, 0) == utc(2026, 3, 29, 10)  # earlier in the week than the anchor


def test_a_cover_follows_its_week_when_the_handoff_moves() -> None:
    start, until = utc(2026, 3, 25, 17), utc(2026, 3, 25, 21)  # Wednesday of week 0
    ref = locate(team(), ANCHOR, start, until)
    assert ref == ShiftRef("weekly", 0, offset=timedelta(days=2, hours=8), length=timedelta(hours=4))
    assert span(team(), ANCHOR, ref) == (start, until)  # the same config: the same instants
    assert span(team("tue 10:00"), ANCHOR, ref) == (utc(2026, 3, 26, 18), utc(2026, 3, 26, 22))
    cover = Cover("U0CAROL", start, until, replaces="U0ALICE", shift=ref)
    moved = placed(team("tue 10:00"), ANCHOR, cover)
    assert at(team("tue 10:00"), "p", utc(2026, 3, 25, 18), ANCHOR, [moved]).primary == "U0ALICE"
    assert at(team("tue 10:00"), "p", utc(2026, 3, 26, 19), ANCHOR, [moved]).primary == "U0CAROL"


def test_a_whole_shift_is_the_week_or_the_layers_run_of_hours() -> None:
    week = locate(team(), ANCHOR, utc(2026, 3, 25, 12), utc(2026, 3, 26), whole=True)
    assert week == ShiftRef("weekly", 0)
    assert span(team("tue 10:00"), ANCHOR, week) == (utc(2026, 3, 24, 10), utc(2026, 3, 31, 10))
    run = locate(team(), ANCHOR, utc(2026, 3, 25, 2), utc(2026, 3, 25, 8), whole=True)
    assert run == ShiftRef("sun", 0, layer=0, block=1)  # Wednesday's run: week 0's second (Monday's began before 09:00)
    assert span(team(), ANCHOR, run) == (utc(2026, 3, 25), utc(2026, 3, 25, 8))
    assert span(team("tue 10:00"), ANCHOR, run) == (utc(2026, 3, 26), utc(2026, 3, 26, 8))
    night = locate(team(hours="22:00-06:00"), ANCHOR, utc(2026, 3, 26, 3), utc(2026, 3, 26, 5))
    assert night is not None and night.layer == 0 and night.offset == timedelta(hours=5)  # from 22:00 the day before


def test_next_primary_is_the_persons_next_whole_week() -> None:
    assert next_primary(team(), "U0CAROL", utc(2026, 3, 30, 9), ANCHOR) == ShiftRef("weekly", 2)
    assert next_primary(team(), "U0EVE", utc(2026, 3, 25, 12), ANCHOR) == ShiftRef("sun", 1, layer=0, block=0)


def test_covers_without_a_shift_or_whose_schedule_is_gone_stay_at_their_instants() -> None:
    kept = Cover("U0CAROL", utc(2026, 3, 25, 17), utc(2026, 3, 25, 21), replaces="U0ALICE")
    assert placed(team("tue 10:00"), ANCHOR, kept) == kept
    gone = Cover("U0CAROL", kept.start, kept.until, shift=ShiftRef("old", 0, length=timedelta(hours=1)))
    assert placed(team("tue 10:00"), ANCHOR, gone) == gone
    assert ShiftRef.from_json(ShiftRef("sun", 3, 0, 2, timedelta(hours=1)).to_json()) == ShiftRef(
        "sun", 3, 0, 2, timedelta(hours=1)
    )
