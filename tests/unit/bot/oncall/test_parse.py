"""``/oncall cover`` and ``/oncall swap`` as typed: each form read, each mistake answered with the form to write."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.core.errors import UserError
from bot.oncall.parse import CoverAsk, SwapAsk, cover, next_local, swap


@pytest.mark.parametrize(
    ("typed", "asked"),
    [
        ("", CoverAsk(None, None, None)),
        ("4h", CoverAsk(None, timedelta(hours=4), None)),
        ("until 18:00", CoverAsk(None, None, time(18, 0))),
        ("Until 7:30", CoverAsk(None, None, time(7, 30))),
        ("<@U0BOB> until 18:00", CoverAsk("U0BOB", None, time(18, 0))),
        ("<@U0BOB|bob> 90m", CoverAsk("U0BOB", timedelta(minutes=90), None)),
        ("<@U0BOB>", CoverAsk("U0BOB", None, None)),
    ],
)
def test_a_cover_is_read_as_typed(typed: str, asked: CoverAsk) -> None:
    assert cover(typed.split()) == asked


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("until", "Say until when as a time of day"),
        ("until 24:00", "Say until when as a time of day"),
        ("until 18:00 tomorrow", "Say until when as a time of day"),
        ("4x", "/oncall cover [@user] [4h | until 18:00]"),
        ("15d", "A cover lasts from a minute to 14 days"),
        ("4h please", "Write it as"),
        ("@nobody-here 4h", "is not a person"),
    ],
)
def test_a_cover_typed_wrong_says_how_to_write_it(typed: str, said: str) -> None:
    with pytest.raises(UserError) as raised:
        cover(typed.split())
    assert said in str(raised.value)


def test_a_swap_names_a_person_and_a_day() -> None:
    assert swap(["<@U0BOB>", "2026-12-07"]) == SwapAsk("U0BOB", date(2026, 12, 7))
    for typed, said in [(["2026-12-07"], "Name the person"), (["<@U0BOB>", "monday"], "`monday` is not a day")]:
        with pytest.raises(UserError) as raised:
            swap(typed)
        assert said in str(raised.value)


def test_until_is_the_next_such_time_of_day_in_the_teams_zone() -> None:
    after = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # 17:00 in Berlin
    assert next_local(time(18, 0), after, "Europe/Berlin") == datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    assert next_local(time(9, 0), after, "Europe/Berlin") == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # tomorrow's
    assert next_local(time(17, 0), after, "Europe/Berlin") == datetime(2026, 12, 4, 16, 0, tzinfo=UTC)  # now: next day
    summer = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # the night Berlin's clocks go forward
    assert next_local(time(3, 0), summer, "Europe/Berlin") == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
