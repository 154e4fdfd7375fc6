"""A team's schedule (pure): who is primary and secondary at an instant, until when, and who comes next.

A team's layers cover hours of the day (follow-the-sun), each layer's rotation turning over at the team's weekly
hand-off; where layers overlap the later one wins; hours no layer covers fall back to the weekly rotation, then to
the lead. Covers (overrides with a span) are applied on top: the person covered is replaced for exactly that span.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.settings.teams import Layer, Team
from bot.oncall.rotation import Handoff, last_handoff, next_handoff, shift_at


@dataclass(frozen=True)
class ShiftRef:
    """Where a cover or swap sits in the schedule, not when: the team's ``schedule`` (``layer``: which of its layers,
    None for its weekly rotation), the shift's ``number`` counted from the rotation's epoch (week 0 starts at the
    hand-off on the anchor day; a layer's shift is the ``block``-th run of its hours starting in that week), and the
    span within it: ``offset`` from its start for ``length`` (None: the whole shift). Resolved to instants with the
    config of the moment (``bot.oncall.shifts.span``), so a cover follows its shift when the hand-off moves."""

    schedule: str
    number: int
    layer: int | None = None
    block: int = 0
    offset: timedelta = timedelta(0)
    length: timedelta | None = None

    def to_json(self) -> dict[str, object]:
        length = None if self.length is None else self.length.total_seconds()
        return {"schedule": self.schedule, "number": self.number, "layer": self.layer, "block": self.block,
                "offset": self.offset.total_seconds(), "length": length}  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ShiftRef:
        length = data.get("length")
        return cls(schedule=str(data["schedule"]), number=int(data["number"]), layer=data.get("layer"),
                   block=int(data.get("block") or 0), offset=timedelta(seconds=float(data.get("offset") or 0)),
                   length=None if length is None else timedelta(seconds=float(length)))  # fmt: skip


@dataclass(frozen=True)
class Cover:
    """``user`` on call instead of ``replaces`` (None: instead of the primary, whoever it is) from ``start`` until
    ``until``; ``shift``: the shift it belongs to (its instants then follow the shift; None: fixed instants, as
    covers kept before covers followed their shift, and take-overs)."""

    user: str
    start: datetime
    until: datetime
    replaces: str | None = None
    by: str = ""
    kind: str = "cover"
    shift: ShiftRef | None = None

    def active(self, instant: datetime) -> bool:
        return self.start <= instant < self.until


@dataclass(frozen=True)
class Who:
    primary: str | None
    secondary: str | None
    source: str  # "weekly", "layer <schedule> <hours>", "lead", "cover"


@dataclass(frozen=True)
class TeamShift:
    """Who is on call for ``team`` from ``started`` until ``ends``, and who follows then."""

    team: str
    primary: str | None
    secondary: str | None
    lead: str | None
    source: str
    started: datetime
    ends: datetime
    next_primary: str | None
    next_secondary: str | None
    covered: tuple[Cover, ...] = ()


def _week(instant: datetime, handoff: Handoff, tz: ZoneInfo, anchor: date) -> int:
    return (last_handoff(instant, handoff, tz).astimezone(tz).date() - anchor).days // 7


def week_number(team: Team, instant: datetime, anchor: date) -> int:
    """The number of the team's week (its rotations' shift) holding ``instant``, counted from the anchor's week 0."""
    return _week(instant, Handoff.parse(team.handoff), ZoneInfo(team.timezone), anchor)


def _in_layer(layer: Layer, instant: datetime) -> bool:
    return layer.span.contains(instant.astimezone(ZoneInfo(layer.timezone)).time().replace(tzinfo=None))


def scheduled(team: Team, instant: datetime, anchor: date) -> Who:
    """Who the schedules name at ``instant``: the last layer covering it, else the weekly rotation, else the lead."""
    handoff, tz = Handoff.parse(team.handoff), ZoneInfo(team.timezone)
    week = _week(instant, handoff, tz, anchor)
    for schedule, layer in reversed(team.layers):
        if _in_layer(layer, instant):
            people = layer.rotation
            primary = people[week % len(people)]
            secondary = people[(week + 1) % len(people)] if len(people) > 1 else None
            if secondary is None:
                secondary = _weekly(team, instant, anchor).primary
            return Who(primary, secondary if secondary != primary else None, f"{schedule.name} {layer.hours}")
    weekly = _weekly(team, instant, anchor)
    if weekly.primary is not None:
        return weekly
    return Who(None, None, "lead")  # nobody scheduled: the chain pages the lead first


def _weekly(team: Team, instant: datetime, anchor: date) -> Who:
    weekly = team.weekly
    if weekly is None:
        return Who(None, None, "lead")
    shift = shift_at(instant, list(weekly.rotation), Handoff.parse(weekly.handoff), ZoneInfo(weekly.timezone), anchor)
    return Who(shift.primary, shift.secondary, weekly.name)


def _boundaries(team: Team, instant: datetime, forward: bool) -> list[datetime]:
    """The instants around ``instant`` where the schedules' answer may change: hand-offs, layers' edges."""
    handoff, tz = Handoff.parse(team.handoff), ZoneInfo(team.timezone)
    found = [next_handoff(instant, handoff, tz) if forward else last_handoff(instant, handoff, tz)]
    for _, layer in team.layers:
        zone = ZoneInfo(layer.timezone)
        day = instant.astimezone(zone).date()
        for offset in (-1, 0, 1):
            for moment in (layer.span.start, layer.span.end):
                at = datetime.combine(day + timedelta(days=offset), moment, tzinfo=zone).astimezone(UTC)
                found.append(at)
    return [b for b in found if (b > instant if forward else b <= instant)]


def apply_covers(who: Who, covers: Sequence[Cover], instant: datetime) -> tuple[Who, tuple[Cover, ...]]:
    """Covers active at ``instant``, in the order given (a later one applies after an earlier)."""
    primary, secondary, used = who.primary, who.secondary, []
    for cover in covers:
        if not cover.active(instant):
            continue
        if cover.replaces is None or cover.replaces == primary:
            primary, secondary = cover.user, (secondary if secondary != cover.user else primary)
            used.append(cover)
        elif cover.replaces == secondary and cover.user != primary:
            secondary = cover.user
            used.append(cover)
    source = "cover" if used and primary != who.primary else who.source
    return Who(primary, secondary, source), tuple(used)


def at(team: Team, name: str, instant: datetime, anchor: date, covers: Sequence[Cover] = ()) -> TeamShift:
    """The team's shift at ``instant``: who, since and until when (the next change of schedule or cover), and who
    is on call then."""
    who, used = apply_covers(scheduled(team, instant, anchor), covers, instant)
    edges = [c.start for c in covers] + [c.until for c in covers]
    ends = min([*_boundaries(team, instant, True), *(e for e in edges if e > instant)])
    started = max([*_boundaries(team, instant, False), *(e for e in edges if e <= instant)])
    after, _ = apply_covers(scheduled(team, ends, anchor), covers, ends)
    return TeamShift(
        team=name,
        primary=who.primary,
        secondary=who.secondary,
        lead=team.lead,
        source=who.source,
        started=started,
        ends=ends,
        next_primary=after.primary,
        next_secondary=after.secondary,
        covered=used,
    )


def shift_of(team: Team, person: str, instant: datetime, anchor: date, limit: int = 24 * 7 * 5) -> TeamShift | None:
    """``person``'s current shift (as primary or secondary) in ``team``, else their next within ``limit`` changes of
    the schedule; None when they have none."""
    moment = instant
    for _ in range(limit):
        shift = at(team, "", moment, anchor)
        if person in (shift.primary, shift.secondary):
            return shift
        moment = shift.ends
    return None
