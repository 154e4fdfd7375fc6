"""What ``check-config`` warns about the teams' schedules (pure): a person primary in two teams at the same hour, and
hours of a day that no layer or weekly schedule of a team covers (its lead takes them: still a gap)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from math import lcm
from zoneinfo import ZoneInfo

from bot.core.settings.teams import Team
from bot.oncall.rotation import Handoff, anchor_for
from bot.oncall.schedule import scheduled

MAX_WEEKS = 12  # rotations are compared over their common cycle, up to this many weeks
MAX_LISTED = 60
DAY_MINUTES = 24 * 60


def _anchor(team: Team, start: datetime, known: date | None = None) -> date:
    """The team's week 0: its ``rotation_start``, else as the bot fixed it (``known``), else the week of ``start``
    (as the bot fixes it on its first start)."""
    return team.rotation_start or known or anchor_for(start, Handoff.parse(team.handoff), ZoneInfo(team.timezone))


def _cycle(teams: dict[str, Team]) -> int:
    sizes = [len(s.rotation) for t in teams.values() for s in t.schedules if s.rotation]
    sizes += [len(layer.rotation) for t in teams.values() for _, layer in t.layers]
    return min(lcm(*sizes), MAX_WEEKS) if sizes else 1


def double_primaries(teams: dict[str, Team], start: datetime, known: Mapping[str, date] | None = None) -> list[str]:
    """Each span (hour by hour, over the rotations' common cycle from ``start``) where one person is primary in
    two teams, as a line naming the person, the teams and the hours (UTC). ``known``: the teams' week 0 as the bot
    fixed it in Redis."""
    if len(teams) < 2:
        return []
    anchors = {name: _anchor(team, start, (known or {}).get(name)) for name, team in teams.items()}
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    spans: dict[tuple[str, str, str], list[list[datetime]]] = {}
    for hour in range(_cycle(teams) * 7 * 24):
        moment = first + timedelta(hours=hour)
        seen: dict[str, str] = {}
        for name, team in teams.items():
            who = scheduled(team, moment, anchors[name])
            person = who.primary
            if person is None or who.source == "lead":
                continue
            if person in seen:
                runs = spans.setdefault((person, seen[person], name), [])
                if runs and runs[-1][1] == moment:
                    runs[-1][1] = moment + timedelta(hours=1)
                else:
                    runs.append([moment, moment + timedelta(hours=1)])
            else:
                seen[person] = name
    lines = [
        f"{person} is primary in both {a} and {b} at {_span(s, e)}"
        for (person, a, b), runs in spans.items()
        for s, e in runs
    ]
    if len(lines) > MAX_LISTED:
        lines = [*lines[:MAX_LISTED], f"… and {len(lines) - MAX_LISTED} more spans like these"]
    return lines


def _span(start: datetime, end: datetime) -> str:
    if end - start <= timedelta(days=1) and (start.date() == end.date() or end.time() == time(0)):
        until = "24:00" if end.time() == time(0) else f"{end:%H:%M}"
        return f"{start:%a %Y-%m-%d %H:%M}-{until} UTC"
    return f"{start:%a %Y-%m-%d %H:%M} – {end:%a %Y-%m-%d %H:%M} UTC"


def gaps(name: str, team: Team, day: date) -> str | None:
    """The hours (in UTC) that neither a layer nor a weekly schedule of ``team`` covers, as a line; None when every
    hour is covered. Checked on ``day`` and on a day of each other offset its layers' timezones take in the year
    from it (summer time moves a layer's hours in UTC)."""
    if team.weekly is not None:
        return None
    found: dict[str, date] = {}
    for when in _offset_days(team, day):
        holes = _holes(team, when)
        if holes:
            found.setdefault(", ".join(f"{_clock(a)}-{_clock(b)}" for a, b in holes), when)
    if not found:
        return None
    if list(found.values()) == [day]:  # the same hours all year
        hours = f"{next(iter(found))} UTC"
    else:
        hours = "; ".join(f"{h} UTC on days like {d.isoformat()}" for h, d in found.items())
    who = f"lead {team.lead}" if team.lead else "nobody (no lead either)"
    return f"team {name}: {hours} covered by no layer and no weekly schedule ({who} takes them: a gap)"


def _offset_days(team: Team, day: date) -> list[date]:
    """``day``, then the first day of each other combination of UTC offsets the layers' timezones have in the year
    from it."""
    zones = [ZoneInfo(z) for z in dict.fromkeys(layer.timezone for _, layer in team.layers)]
    seen: set[tuple[timedelta | None, ...]] = set()
    days = []
    for n in range(366):
        when = day + timedelta(days=n)
        midnight = datetime.combine(when, time(0), tzinfo=UTC)
        offsets = tuple(midnight.astimezone(zone).utcoffset() for zone in zones)
        if offsets not in seen:
            seen.add(offsets)
            days.append(when)
    return days


def _holes(team: Team, day: date) -> list[tuple[int, int]]:
    covered = [False] * DAY_MINUTES
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    for _, layer in team.layers:
        zone = ZoneInfo(layer.timezone)
        offset = int(midnight.astimezone(zone).utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
        begin, end = layer.span.minutes()
        for minute in range(begin, end):
            covered[(minute - offset) % DAY_MINUTES] = True
    return _runs([not c for c in covered])


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    start = None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i))
            start = None
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == DAY_MINUTES:  # one hole across midnight
        runs = [(runs[-1][0], runs[0][1] + DAY_MINUTES), *runs[1:-1]]
    return runs


def _clock(minute: int) -> str:
    if minute == DAY_MINUTES:
        return "24:00"
    minute %= DAY_MINUTES
    return f"{minute // 60:02d}:{minute % 60:02d}"


def warnings(
    teams: dict[str, Team], start: datetime, *, explicit: bool, anchors: Mapping[str, date] | None = None
) -> list[str]:
    """Every warning about the schedules, from ``start`` on. ``explicit``: teams from the config's ``teams``
    (the implicit one of the ``oncall`` section is not said to have gaps); ``anchors``: the week 0 the bot fixed."""
    found = [g for name, team in teams.items() if (g := gaps(name, team, start.date()))] if explicit else []
    return found + double_primaries(teams, start, anchors)
