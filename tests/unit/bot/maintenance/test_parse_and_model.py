"""/maintenance and /eks text, times in a zone with DST, and when a window's reminders are due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.errors import UserError
from bot.maintenance import parse
from bot.maintenance.model import Reminder, Window, WindowState, member, parse_member, parse_ref

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def window(created: datetime, start: datetime) -> Window:
    return Window(title="x", start=start, end=start + timedelta(hours=2), owner="U1", created_at=created)


def test_times_in_the_zone_with_offsets_and_seconds() -> None:
    assert parse.local_time("2026-12-01", "02:00", BERLIN) == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert parse.local_time("2026-12-01", "02:00Z", BERLIN) == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert parse.local_time("2026-12-01", "02:00+05:30", BERLIN) == datetime(2026, 11, 30, 20, 30, tzinfo=UTC)
    assert parse.local_time("2026-12-01", "02:00:30Z", BERLIN).second == 30
    summer = parse.local_time("2027-07-01", "12:00", BERLIN)
    assert summer.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(
    ("day", "clock", "rule"),
    [
        ("2027-03-28", "02:30", "does not exist in Europe/Berlin"),
        ("2027-10-31", "02:30", "happens twice in Europe/Berlin"),
        ("2027-02-30", "10:00", "is not a date in the calendar"),
        ("2027-1-5", "10:00", "is not a start time"),
        ("2027-01-05", "25:00", "is not a start time"),
        ("2027-01-05", "10:00+25:00", "is not a start time"),
    ],
)
def test_times_that_do_not_exist_or_repeat_are_refused(day: str, clock: str, rule: str) -> None:
    with pytest.raises(UserError, match=rule):
        parse.local_time(day, clock, BERLIN)


@pytest.mark.parametrize(
    ("zone", "day", "clock"),
    [
        ("America/New_York", "9999-12-31", "23:59"),  # after year 9999 in UTC
        ("Europe/Berlin", "0001-01-01", "00:00"),  # before year 1 in UTC
        ("Asia/Tokyo", "0001-01-01", "08:30"),
    ],
)
def test_times_past_the_calendar_are_refused_not_overflowed(zone: str, day: str, clock: str) -> None:
    tz = ZoneInfo(zone)
    with pytest.raises(UserError, match="within a year from now"):
        parse.local_time(day, clock, tz)
    with pytest.raises(UserError, match="within a year from now"):
        parse.parse(f"schedule {day} {clock} 2h x", tz=tz, now=NOW, clusters=[])
    fields = {"title": "x", "date": day, "time": clock, "duration": "2h", "cluster": "", "nodes": "", "services": ""}
    found, errors = parse.from_form(fields, tz=tz, now=NOW, clusters=[], longest=timedelta(days=7))
    assert found is None and "within a year from now" in errors["time"]


def test_schedule_command_and_its_rules() -> None:
    cmd = parse.parse(
        "schedule 2026-12-01 02:00 90m Postgres minor upgrade --nodes=n1,n2 --services=db/postgres --cluster=prod",
        tz=BERLIN,
        now=NOW,
        clusters=["prod"],
    )
    assert isinstance(cmd, parse.Schedule)
    assert (cmd.title, cmd.nodes, cmd.services, cmd.cluster) == (
        "Postgres minor upgrade",
        ["n1", "n2"],
        ["db/postgres"],
        "prod",
    )
    assert cmd.end - cmd.start == timedelta(minutes=90) and cmd.start.tzinfo == UTC
    assert isinstance(parse.parse("schedule", tz=BERLIN, now=NOW, clusters=[]), parse.ScheduleForm)
    assert parse.parse("done mw-7 all good", tz=BERLIN, now=NOW, clusters=[]) == parse.Transition("done", 7, "all good")
    for text, rule in [
        ("schedule 2026-12-01 02:00 2h", "Write `/maintenance schedule"),
        ("schedule 2027-12-01 02:00 2h x", "more than a year ahead"),
        ("schedule 2026-12-01 02:00 8d x", "at most 7d"),
        ("schedule 2026-12-01 02:00 2h x --nodes=" + ",".join(f"n{i}" for i in range(51)), "At most 50 nodes"),
        ("schedule 2026-12-01 02:00 2h x --force", "is not an option here"),
        ("cancel", "Name the window"),
    ]:
        with pytest.raises(UserError, match=rule):
            parse.parse(text, tz=BERLIN, now=NOW, clusters=["prod"])


def test_eks_commands() -> None:
    assert parse.parse_eks("check prod", ["prod"]) == parse.EksCheck("prod")
    assert parse.parse_eks("check prod v1.30", ["prod"]) == parse.EksCheck("prod", "1.30")
    assert parse.parse_eks("upgrade prod 1.30 --force", ["prod"]) == parse.EksUpgrade("prod", "1.30", True)
    for text, rule in [("check prod 1.3x", "not a Kubernetes version"), ("upgrade prod", "Write"), ("check", "Write")]:
        with pytest.raises(UserError, match=rule):
            parse.parse_eks(text, ["prod"])


def test_reminders_are_due_only_when_scheduled_earlier_than_them() -> None:
    start = NOW + timedelta(days=10)
    early = window(NOW, start).reminders()
    assert early == {
        Reminder.WEEK: start - timedelta(days=7),
        Reminder.DAY: start - timedelta(days=1),
        Reminder.SOON: start - timedelta(minutes=15),
        Reminder.START: start,
        Reminder.OVERRUN: start + timedelta(hours=2),
    }
    late = window(NOW, NOW + timedelta(hours=3)).reminders()
    assert set(late) == {Reminder.SOON, Reminder.START, Reminder.OVERRUN}
    assert set(window(NOW, NOW + timedelta(minutes=5)).reminders()) == {Reminder.START, Reminder.OVERRUN}


def test_refs_and_members() -> None:
    assert [parse_ref(t) for t in ("MW-3", "mw-3", "3", "MW-", "MW-x", "9" * 12)] == [3, 3, 3, None, None, None]
    assert parse_member(member(4, Reminder.DAY)) == (4, Reminder.DAY)
    assert parse_member("4:never") is None and parse_member("x:day") is None


def test_a_window_holds_pages_within_its_scope_and_time() -> None:
    start = NOW + timedelta(hours=1)
    scoped = window(NOW, start).model_copy(
        update={"suppress": True, "cluster": "prod", "services": ["shop/checkout"], "nodes": ["node-7"]}
    )
    grace = timedelta(minutes=15)
    assert not scoped.suppressing(start - timedelta(seconds=1), grace)  # scheduled, not yet started
    assert scoped.suppressing(start, grace)
    assert scoped.suppressing(scoped.end + grace - timedelta(seconds=1), grace)
    assert not scoped.suppressing(scoped.end + grace, grace)
    early = scoped.model_copy(update={"state": WindowState.RUNNING, "started_at": start - timedelta(minutes=30)})
    assert early.suppressing(start - timedelta(minutes=10), grace)
    assert not early.model_copy(update={"state": WindowState.DONE}).suppressing(start, grace)
    assert not early.model_copy(update={"suppress": False}).suppressing(start, grace)  # --no-suppress, or older

    assert scoped.covers({"namespace": "shop", "deployment": "checkout"}, "prod")  # no cluster label: the default
    assert scoped.covers({"cluster": "prod", "namespace": "shop", "service": "checkout"}, "prod")
    assert scoped.covers({"cluster": "prod", "node": "node-7"}, "prod")
    assert not scoped.covers({"cluster": "stage", "namespace": "shop", "deployment": "checkout"}, "prod")
    assert not scoped.covers({"namespace": "shop", "deployment": "payments"}, "prod")
    assert not scoped.covers({"namespace": "shop"}, "prod")  # a group spanning the namespace: not only the service
    whole = scoped.model_copy(update={"services": [], "nodes": []})
    assert whole.covers({"alertname": "x"}, "prod") and not whole.covers({"cluster": "stage"}, "prod")


def test_no_suppress_is_a_flag() -> None:
    text = "schedule 2026-12-01 02:00Z 2h Upgrade --services=shop/api"
    assert parse.parse(text, tz=BERLIN, now=NOW, clusters=[]).suppress  # type: ignore[union-attr]
    assert not parse.parse(f"{text} --no-suppress", tz=BERLIN, now=NOW, clusters=[]).suppress  # type: ignore[union-attr]
    with pytest.raises(UserError, match="takes no value"):
        parse.parse(f"{text} --no-suppress=1", tz=BERLIN, now=NOW, clusters=[])
