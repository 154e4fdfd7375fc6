"""Teams' schedules (pure): layers (follow-the-sun, wrapping midnight, the later one winning), the weekly fallback,
the lead, covers on top, and check-config's warnings, at given instants."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError

from bot.core.settings.config import BotConfig
from bot.core.settings.teams import IMPLICIT, Hours, Team
from bot.oncall.coverage import double_primaries, gaps, warnings
from bot.oncall.rotation import Handoff, shift_at
from bot.oncall.schedule import Cover, at, scheduled, shift_of

ANCHOR = date(2026, 3, 23)  # a Monday: week 0
CONFIG = """
channels: {incidents: C0INC}
default_team: platform
teams:
  platform:
    channel: C0PLATFORM
    user_group: S0PLATFORM
    owns: {namespaces: [kube-system, ingress], labels: {team: platform}}
    schedules:
      - {name: weekly, rotation: [U0ALICE, U0BOB, U0CAROL], handoff: "mon 09:00", timezone: Europe/Berlin}
      - {name: follow-the-sun, layers: [{rotation: [U0DAN, U0EVE], hours: "00:00-08:00", timezone: UTC}]}
    lead: U0LEAD
  data:
    owns: {namespaces: [kafka], labels: {team: data}, rds: [prod-db]}
    schedules: [{name: weekly, rotation: [U0FAY, U0GUS], handoff: "tue 10:00"}]
    lead: U0DLEAD
"""


def config(text: str = CONFIG) -> BotConfig:
    return BotConfig.model_validate(yaml.safe_load(text))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def team(text: str) -> Team:
    return Team.model_validate(yaml.safe_load(text))


PLATFORM = config().teams["platform"]
DATA = config().teams["data"]


def test_the_issues_example_loads_and_names_the_default_team() -> None:
    loaded = config()
    assert loaded.home_team == "platform"
    assert list(loaded.team_map()) == ["platform", "data"]
    assert loaded.team_channel("data") == "C0INC" and loaded.team_channel("platform") == "C0PLATFORM"
    assert PLATFORM.members == ["U0ALICE", "U0BOB", "U0CAROL", "U0DAN", "U0EVE", "U0LEAD"]


def test_without_teams_the_oncall_section_is_one_implicit_team() -> None:
    loaded = config("channels: {incidents: C0INC}\noncall: {rotation: [U0A1, U0B1], lead: U0L1, handoff: 'tue 10:00'}")
    teams = loaded.team_map()
    assert list(teams) == [IMPLICIT] and loaded.home_team == IMPLICIT
    weekly = teams[IMPLICIT].weekly
    assert weekly is not None and weekly.rotation == ["U0A1", "U0B1"] and weekly.handoff == "tue 10:00"
    now = utc(2026, 3, 25, 12)
    alone = shift_at(now, ["U0A1", "U0B1"], Handoff.parse("tue 10:00"), ZoneInfo("UTC"), ANCHOR)
    shift = at(teams[IMPLICIT], IMPLICIT, now, ANCHOR)
    assert (shift.primary, shift.secondary, shift.ends, shift.next_primary) == (
        alone.primary, alone.secondary, alone.ends, alone.next_primary,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("default_team: ops\nteams: {data: {lead: U0L1}}", "default_team 'ops' is not a team"),
        ("teams: {Data: {lead: U0L1}}", "not a team name"),
        ("oncall: {rotation: [U0A1]}\nteams: {data: {lead: U0L1}}", "both set"),
        ("teams: {data: {schedules: [{name: x}]}}", "either a weekly rotation or layers"),
        ("teams: {data: {schedules: [{layers: [{rotation: [U0A1], hours: '25:00-02:00'}]}]}}", "not hours"),
        ("teams: {data: {schedules: [{layers: [{rotation: [U0A1], hours: '08:00-08:00'}]}]}}", "covers no hours"),
        ("teams: {data: {user_group: U0NOTAGROUP}}", "not a Slack user group id"),
        ("teams: {cover: {lead: U0L1}}", "'cover' is an /oncall command"),
        ("teams: {help: {lead: U0L1}}", "'help' is an /oncall command"),
        ("teams: {data: {schedules: [{rotation: [U0A1]}, {rotation: [U0B1]}]}}", "two schedules are named 'weekly'"),
        (
            "teams: {data: {schedules: [{name: a, rotation: [U0A1]}, {name: b, rotation: [U0B1]}]}}",
            "one weekly rotation per team",
        ),
    ],
)
def test_bad_team_config_is_refused_clearly(text: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        config("channels: {incidents: C0INC}\n" + text)


def test_hours_wrap_midnight() -> None:
    night = Hours.parse("22:00-06:00")
    assert night.contains(utc(2026, 1, 1, 23).time()) and night.contains(utc(2026, 1, 1, 5, 59).time())
    assert not night.contains(utc(2026, 1, 1, 6).time()) and not night.contains(utc(2026, 1, 1, 12).time())
    assert str(Hours.parse("16:00-24:00")) == "16:00-24:00"


def test_a_layer_covers_its_hours_and_the_weekly_schedule_the_rest() -> None:
    # Week 0 (from Mon 2026-03-23 09:00 Berlin): Dan in the layer, Alice weekly; week 1: Eve and Bob.
    night = at(PLATFORM, "platform", utc(2026, 3, 25, 3), ANCHOR)
    assert (night.primary, night.secondary, night.source) == ("U0DAN", "U0EVE", "follow-the-sun 00:00-08:00")
    assert night.ends == utc(2026, 3, 25, 8) and night.started == utc(2026, 3, 25, 0)
    assert night.next_primary == "U0ALICE"  # the weekly schedule after 08:00 UTC
    day = at(PLATFORM, "platform", utc(2026, 3, 25, 12), ANCHOR)
    assert (day.primary, day.secondary, day.source, day.ends) == ("U0ALICE", "U0BOB", "weekly", utc(2026, 3, 26, 0))
    week1 = at(PLATFORM, "platform", utc(2026, 3, 31, 3), ANCHOR)
    assert (week1.primary, week1.secondary) == ("U0EVE", "U0DAN")  # the layer's rotation turned at the hand-off


def test_the_later_layer_wins_where_layers_overlap_and_the_lead_takes_what_nobody_covers() -> None:
    sun = team(
        """
        schedules:
          - {name: emea, layers: [{rotation: [U0E1], hours: "06:00-18:00"}]}
          - {name: amer, layers: [{rotation: [U0A1, U0A2], hours: "14:00-02:00"}]}
        lead: U0LEAD
        """
    )
    assert scheduled(sun, utc(2026, 3, 25, 10), ANCHOR).primary == "U0E1"
    assert scheduled(sun, utc(2026, 3, 25, 15), ANCHOR).primary == "U0A1"  # both cover 14-18: the later wins
    assert scheduled(sun, utc(2026, 3, 26, 1), ANCHOR).primary == "U0A1"  # wrapped past midnight
    gap = at(sun, "sun", utc(2026, 3, 26, 3), ANCHOR)
    assert (gap.primary, gap.lead, gap.source) == (None, "U0LEAD", "lead")  # the chain pages the lead
    assert gap.ends == utc(2026, 3, 26, 6)


def test_a_cover_replaces_the_person_for_exactly_its_span() -> None:
    cover = Cover("U0CAROL", utc(2026, 3, 25, 12), utc(2026, 3, 25, 16), replaces="U0ALICE", by="U0ALICE")
    inside = at(PLATFORM, "platform", utc(2026, 3, 25, 13), ANCHOR, [cover])
    assert (inside.primary, inside.secondary, inside.source) == ("U0CAROL", "U0BOB", "cover")
    assert inside.started == cover.start and inside.ends == cover.until and inside.covered == (cover,)
    assert at(PLATFORM, "platform", utc(2026, 3, 25, 16), ANCHOR, [cover]).primary == "U0ALICE"
    assert at(PLATFORM, "platform", utc(2026, 3, 25, 11, 59), ANCHOR, [cover]).next_primary == "U0CAROL"
    # Covering the secondary leaves the primary as it is.
    second = Cover("U0CAROL", utc(2026, 3, 25, 12), utc(2026, 3, 25, 16), replaces="U0BOB")
    assert at(PLATFORM, "platform", utc(2026, 3, 25, 13), ANCHOR, [second]).secondary == "U0CAROL"


def test_a_persons_current_or_next_shift() -> None:
    mine = shift_of(PLATFORM, "U0EVE", utc(2026, 3, 25, 12), ANCHOR)
    assert mine is not None and mine.started == utc(2026, 3, 26, 0)  # Eve is Dan's secondary in the night layer
    assert shift_of(PLATFORM, "U0NOBODY", utc(2026, 3, 25, 12), ANCHOR, limit=50) is None


def test_check_config_warns_of_a_gap_with_the_team_hours_and_lead() -> None:
    sun = team('schedules: [{name: night, layers: [{rotation: [U0N1], hours: "22:00-06:00"}]}]\nlead: U0LEAD')
    assert gaps("ops", sun, date(2026, 3, 25)) == (
        "team ops: 06:00-22:00 UTC covered by no layer and no weekly schedule (lead U0LEAD takes them: a gap)"
    )
    assert gaps("platform", PLATFORM, date(2026, 3, 25)) is None
    nothing = gaps("empty", team("lead: U0LEAD"), date(2026, 3, 25))
    assert nothing is not None and "00:00-24:00 UTC" in nothing


def test_a_gap_in_the_other_half_of_the_year_is_reported_too() -> None:
    # Berlin's 08:00-20:00 is 07:00-19:00 UTC in winter, 06:00-18:00 UTC in summer; the UTC night layer starts 20:00.
    sun = team(
        "schedules: [{name: sun, layers: [{rotation: [U0DAY], hours: '08:00-20:00', timezone: Europe/Berlin},\n"
        "                                  {rotation: [U0NIGHT], hours: '20:00-07:00', timezone: UTC}]}]\nlead: U0L"
    )
    found = gaps("ops", sun, date(2026, 1, 15))
    assert found == (
        "team ops: 19:00-20:00 UTC on days like 2026-01-15; 18:00-20:00 UTC on days like 2026-03-30 covered by "
        "no layer and no weekly schedule (lead U0L takes them: a gap)"
    )
    summer_only = team(
        "schedules: [{name: sun, layers: [{rotation: [U0DAY], hours: '07:00-20:00', timezone: Europe/Berlin},\n"
        "                                  {rotation: [U0NIGHT], hours: '19:00-06:00', timezone: UTC}]}]"
    )
    late = gaps("ops", summer_only, date(2026, 11, 1))  # covered all winter; not 18:00-19:00 UTC in summer
    assert late == (
        "team ops: 18:00-19:00 UTC on days like 2027-03-29 covered by no layer and no weekly schedule (nobody (no "
        "lead either) takes them: a gap)"
    )


def test_check_config_warns_of_a_person_primary_in_two_teams_at_the_same_hour() -> None:
    teams = {
        "a": team("schedules: [{rotation: [U0SAM]}]\nlead: U0L1"),
        "b": team('schedules: [{name: n, layers: [{rotation: [U0SAM], hours: "00:00-02:00"}]}]\nlead: U0L2'),
    }
    start = utc(2026, 3, 25, 12)
    found = double_primaries(teams, start)
    assert found[0] == "U0SAM is primary in both a and b at Thu 2026-03-26 00:00-02:00 UTC"
    assert len(found) == 7  # every night of the week compared
    assert not double_primaries({"a": teams["a"], "data": DATA}, start)
    assert warnings(config().team_map(), start, explicit=True) == []
