"""Config of teams (pure): each team's channel, user group, what it owns (alerts are routed to it), its schedules
(a weekly rotation, and layers covering hours of the day: follow-the-sun) and its lead; ``default_team`` takes what
nobody owns. Without ``teams`` the single ``oncall`` section is one implicit team (:data:`IMPLICIT`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Annotated, TypeVar

from pydantic import AfterValidator, Field, field_validator, model_validator

from bot.core.ids import GROUP_ID
from bot.core.settings.incident_response import OnCallConfig, handoff_text
from bot.core.settings.types import ChannelId, Strict, TimeZoneName, UserId

IMPLICIT = "oncall"  # the one team the ``oncall`` section makes when ``teams`` is not set
# ``/oncall <word>``'s commands: a team so named could not be shown by ``/oncall <team>``.
RESERVED = frozenset({"help", "handoff", "cover", "swap", "override", "phone", "test", "team", "teams", "all"})
TEAM_NAME = re.compile(r"^[a-z][a-z0-9-]{0,29}$")
_HOURS = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])\s*-\s*([01][0-9]|2[0-4]):([0-5][0-9])$")
DEFAULT_HANDOFF = "mon 09:00"
T = TypeVar("T")


@dataclass(frozen=True)
class Hours:
    """Hours of a day, ``00:00-08:00``; may wrap midnight (``22:00-06:00``); ``24:00`` ends at midnight."""

    start: time
    end: time  # time(0) with ``to_midnight`` for 24:00

    @classmethod
    def parse(cls, text: str) -> Hours:
        found = _HOURS.match(text.strip())
        if not found:
            raise ValueError(f"{text!r} is not hours of a day; write them as 00:00-08:00 (may wrap: 22:00-06:00)")
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        if h2 == 24 and m2:
            raise ValueError(f"{text!r}: a day ends at 24:00")
        start, end = time(h1, m1), time(h2 % 24, m2)
        if start == end:
            raise ValueError(f"{text!r} covers no hours (or all: leave hours out of a weekly schedule instead)")
        return cls(start, end)

    def minutes(self) -> tuple[int, int]:
        """Start and end as minutes of the day (the end past the start, beyond 1440 when it wraps)."""
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        return start, end if end > start else end + 1440

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        end = "24:00" if self.end == time(0) else self.end.strftime("%H:%M")
        return f"{self.start.strftime('%H:%M')}-{end}"


def _hours(value: str) -> str:
    Hours.parse(value)
    return value.strip()


def _group_id(value: str) -> str:
    if not GROUP_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack user group id (like S0123ABCD)")
    return value


class Owns(Strict):
    """What a team owns: an alert whose labels or namespace match goes to it (labels first, then namespaces, then
    RDS instances)."""

    namespaces: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    rds: list[str] = Field(default_factory=list)


class Layer(Strict):
    rotation: list[UserId] = Field(min_length=1)
    hours: Annotated[str, AfterValidator(_hours)]
    timezone: TimeZoneName = "UTC"

    @property
    def span(self) -> Hours:
        return Hours.parse(self.hours)


class Schedule(Strict):
    """A weekly rotation (``rotation``, ``handoff``, ``timezone``) or ``layers`` covering hours of the day."""

    name: str = Field(default="weekly", min_length=1, max_length=40)
    rotation: list[UserId] = Field(default_factory=list)
    handoff: str = DEFAULT_HANDOFF
    timezone: TimeZoneName = "UTC"
    rotation_start: date | None = None
    layers: list[Layer] = Field(default_factory=list)

    _handoff = field_validator("handoff")(classmethod(lambda cls, v: handoff_text(v)))

    @model_validator(mode="after")
    def _one_kind(self) -> Schedule:
        if bool(self.rotation) == bool(self.layers):
            raise ValueError(f"schedule {self.name!r}: give either a weekly rotation or layers (one of them)")
        return self


class Team(Strict):
    channel: ChannelId | None = None  # where its hand-off and cover requests go (default: channels.incidents)
    user_group: Annotated[str, AfterValidator(_group_id)] | None = None
    owns: Owns = Field(default_factory=Owns)
    schedules: list[Schedule] = Field(default_factory=list)
    lead: UserId | None = None

    @property
    def weekly(self) -> Schedule | None:
        return next((s for s in self.schedules if s.rotation), None)

    @property
    def layers(self) -> list[tuple[Schedule, Layer]]:
        """Every layer in order (a later one wins where they overlap)."""
        return [(s, layer) for s in self.schedules for layer in s.layers]

    @property
    def handoff(self) -> str:
        """The team's hand-off: its weekly schedule's (layers' rotations turn over at it too)."""
        weekly = self.weekly
        return weekly.handoff if weekly else DEFAULT_HANDOFF

    @property
    def timezone(self) -> str:
        weekly = self.weekly
        return weekly.timezone if weekly else "UTC"

    @property
    def local_timezone(self) -> str:
        """Where the team's people read times of day (``until 18:00``, a swap's date): its weekly schedule's
        timezone, else its first layer's."""
        weekly = self.weekly
        layers = self.layers
        return weekly.timezone if weekly else (layers[0][1].timezone if layers else "UTC")

    @property
    def rotation_start(self) -> date | None:
        weekly = self.weekly
        return weekly.rotation_start if weekly else next((s.rotation_start for s in self.schedules), None)

    @property
    def members(self) -> list[str]:
        """Everyone of its rotations and layers, and its lead, in order, once each."""
        people = [p for s in self.schedules for p in s.rotation]
        people += [p for _, layer in self.layers for p in layer.rotation]
        people += [self.lead] if self.lead else []
        return list(dict.fromkeys(people))


def namespace_owner(teams: Mapping[str, Team], service: str | None) -> str | None:
    """The first team owning the namespace of ``service`` (``namespace[/workload]``); None: nobody's (or no
    service): the default team's."""
    namespace = (service or "").partition("/")[0]
    return next((name for name, team in teams.items() if namespace and namespace in team.owns.namespaces), None)


def implicit_team(oncall: OnCallConfig) -> Team:
    """The ``oncall`` section as a team (its weekly rotation and lead)."""
    schedules = []
    if oncall.rotation:
        schedules.append(
            Schedule(
                name="weekly",
                rotation=list(oncall.rotation),
                handoff=oncall.handoff,
                timezone=oncall.timezone,
                rotation_start=oncall.rotation_start,
            )
        )
    return Team(schedules=schedules, lead=oncall.lead)


def check_teams(teams: dict[str, Team], default_team: str | None, oncall: OnCallConfig) -> None:
    """The team names, ``default_team`` naming one, and not both ``oncall.rotation`` and ``teams``."""
    for name, team in teams.items():
        if not TEAM_NAME.match(name):
            raise ValueError(f"teams: {name!r} is not a team name (lowercase letters, digits and -, up to 30)")
        if name in RESERVED:
            raise ValueError(f"teams: {name!r} is an /oncall command (`/oncall {name}`); name the team otherwise")
        for schedule in team.schedules:
            if sum(s.name == schedule.name for s in team.schedules) > 1:
                raise ValueError(f"teams.{name}: two schedules are named {schedule.name!r}; give each its own name")
        if sum(bool(s.rotation) for s in team.schedules) > 1:
            raise ValueError(f"teams.{name}: one weekly rotation per team (the others would be ignored); "
                             "make the others layers with hours")  # fmt: skip
    if teams and oncall.rotation:
        raise ValueError("oncall.rotation and teams are both set: move the rotation into a team's schedules")
    if default_team is not None and default_team not in (list(teams) or [IMPLICIT]):
        known = ", ".join(teams) or IMPLICIT
        raise ValueError(f"default_team {default_team!r} is not a team; the teams are: {known}")


@dataclass(frozen=True)
class Owners:
    """Who owns what, for the sections that group by team (the digest's open incidents, the weekly report's
    reliability, the change feed): the teams in the config's order, ``default`` taking what nobody owns."""

    order: tuple[str, ...]
    default: str
    namespaces: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (team, the namespaces it owns), in order

    def known(self, team: str | None) -> str:
        """The team itself when it is one, else the default team's (None, or a team no longer configured)."""
        return team if team in self.order else self.default

    def of_namespace(self, namespace: str | None) -> str:
        """The first team owning the namespace, else the default team."""
        return next((name for name, owned in self.namespaces if namespace in owned), self.default)

    def group(self, items: Iterable[T], team_of: Callable[[T], str | None]) -> list[tuple[str, list[T]]]:
        """The items by team, each keeping its order: teams in the config's order, the default team (with what
        nobody owns) last; teams with nothing left out."""
        found: dict[str, list[T]] = {}
        for item in items:
            found.setdefault(self.known(team_of(item)), []).append(item)
        ordered = [t for t in self.order if t != self.default] + [self.default]
        return [(team, found[team]) for team in ordered if team in found]

    def heading(self, team: str) -> str:
        return f"{team} (and what no team owns)" if team == self.default else team


def owners(teams: Mapping[str, Team], default_team: str | None) -> Owners | None:
    """The teams as :class:`Owners`; None without ``teams`` (one implicit team: nothing is grouped)."""
    if not teams:
        return None
    default = default_team or next(iter(teams))
    spaces = tuple((name, tuple(team.owns.namespaces)) for name, team in teams.items())
    return Owners(order=tuple(teams), default=default, namespaces=spaces)
