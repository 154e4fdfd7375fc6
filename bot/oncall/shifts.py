"""Covers and swaps by the shift they belong to (pure): a span of instants located in a team's schedule
(:class:`ShiftRef`), and a reference resolved back to instants with the config of the moment. A team's weekly
rotation turns over at its hand-off, so its shift ``n`` is week ``n`` from the anchor (the rotation's epoch); a
layer's shift is one run of its hours in such a week. When the hand-off moves ("mon 09:00" → "tue 10:00") shift
``n`` moves, and what covers it moves with it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.settings.teams import Layer, Schedule, Team
from bot.oncall.rotation import Handoff
from bot.oncall.schedule import Cover, ShiftRef, at, week_number

Span = tuple[datetime, datetime]


def week_start(team: Team, anchor: date, number: int) -> datetime:
    """When the team's week ``number`` begins: its hand-off in the week starting on the anchor day + 7 × number."""
    handoff, tz = Handoff.parse(team.handoff), ZoneInfo(team.timezone)
    day = anchor + timedelta(days=7 * number + (handoff.weekday - anchor.weekday()) % 7)
    return datetime.combine(day, handoff.at, tzinfo=tz).astimezone(UTC)


def _blocks(team: Team, layer: Layer, anchor: date, number: int) -> list[Span]:
    """The runs of the layer's hours starting in week ``number``, in order."""
    begin, end = week_start(team, anchor, number), week_start(team, anchor, number + 1)
    zone, span = ZoneInfo(layer.timezone), layer.span
    first = begin.astimezone(zone).date() - timedelta(days=1)
    found = []
    for offset in range(10):
        day = first + timedelta(days=offset)
        start = datetime.combine(day, span.start, tzinfo=zone)
        stop = datetime.combine(day + timedelta(days=1 if span.end <= span.start else 0), span.end, tzinfo=zone)
        if begin <= start.astimezone(UTC) < end:
            found.append((start.astimezone(UTC), stop.astimezone(UTC)))
    return found


def _layer_at(team: Team, instant: datetime) -> tuple[Schedule, int, Layer] | None:
    """The layer answering at ``instant`` (the last one covering it), with its schedule and index there."""
    for schedule in reversed(team.schedules):
        for index in reversed(range(len(schedule.layers))):
            layer = schedule.layers[index]
            if layer.span.contains(instant.astimezone(ZoneInfo(layer.timezone)).time().replace(tzinfo=None)):
                return schedule, index, layer
    return None


def locate(team: Team, anchor: date, start: datetime, until: datetime, *, whole: bool = False) -> ShiftRef | None:
    """The shift holding ``start`` (a layer's run of hours, else the weekly rotation's week) and the span's place in
    it (``whole``: the shift itself); None when no schedule names anyone then (the lead's hours)."""
    number = week_number(team, start, anchor)
    found = _layer_at(team, start)
    if found is not None:
        schedule, index, layer = found
        for week in (number - 1, number):
            for block, (begin, end) in enumerate(_blocks(team, layer, anchor, week)):
                if begin <= start < end:
                    return _ref(ShiftRef(schedule.name, week, index, block), begin, start, until, whole)
        return None
    weekly = team.weekly
    if weekly is None:
        return None
    return _ref(ShiftRef(weekly.name, number), week_start(team, anchor, number), start, until, whole)


def _ref(shift: ShiftRef, begin: datetime, start: datetime, until: datetime, whole: bool) -> ShiftRef:
    """``shift`` (the whole shift beginning at ``begin``), or the span's place in it."""
    return shift if whole else replace(shift, offset=start - begin, length=until - start)


def span(team: Team, anchor: date, ref: ShiftRef) -> Span | None:
    """The instants of ``ref`` with this config; None when its schedule or layer is gone."""
    schedule = next((s for s in team.schedules if s.name == ref.schedule), None)
    if schedule is None:
        return None
    if ref.layer is None:
        if not schedule.rotation:
            return None
        shift = week_start(team, anchor, ref.number), week_start(team, anchor, ref.number + 1)
    else:
        if ref.layer >= len(schedule.layers):
            return None
        blocks = _blocks(team, schedule.layers[ref.layer], anchor, ref.number)
        if ref.block >= len(blocks):
            return None
        shift = blocks[ref.block]
    if ref.length is None:
        return shift
    start = shift[0] + ref.offset
    return start, start + ref.length


def placed(team: Team, anchor: date, cover: Cover) -> Cover:
    """``cover`` at the instants of its shift with this config (kept as stored when it has no shift, or its
    schedule is gone)."""
    found = span(team, anchor, cover.shift) if cover.shift is not None else None
    return cover if found is None else replace(cover, start=found[0], until=found[1])


def next_primary(team: Team, person: str, after: datetime, anchor: date, limit: int = 24 * 7 * 5) -> ShiftRef | None:
    """The first whole shift from ``after`` in which the schedules make ``person`` primary."""
    moment = after
    for _ in range(limit):
        shift = at(team, "", moment, anchor)
        if shift.primary == person:
            return locate(team, anchor, moment, shift.ends, whole=True)
        moment = shift.ends
    return None
