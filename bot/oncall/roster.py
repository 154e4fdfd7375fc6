"""Who is on call for each team at any instant: its schedules (``bot.oncall.schedule``), its rotation anchor, its
covers, and (for the default team) the ``/oncall override``."""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.errors import UserError
from bot.core.settings.config import OnCallConfig
from bot.core.settings.teams import IMPLICIT, Team, implicit_team
from bot.oncall import schedule, shifts
from bot.oncall.model import OnCallNow
from bot.oncall.rotation import Handoff, Shift, anchor_for
from bot.oncall.schedule import Cover
from bot.oncall.store import OnCallStore

OVERRIDE_CACHE_SECONDS = 1.0

log = logging.getLogger(__name__)


class UnknownTeam(UserError):
    """A team name that is not in the config."""


class Roster:
    """Reads are cheap enough for every page: the anchors never change once set, and the override and covers are
    re-read at most once a second (a burst of pages shares one read)."""

    def __init__(
        self,
        config: OnCallConfig,
        store: OnCallStore,
        *,
        teams: dict[str, Team] | None = None,
        default_team: str | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.teams = teams or {IMPLICIT: implicit_team(config)}
        self.default = default_team or next(iter(self.teams))
        home = self.teams[self.default]
        self.tz = ZoneInfo(home.timezone)
        self.handoff = Handoff.parse(home.handoff)
        self._anchors: dict[str, date] = {n: t.rotation_start for n, t in self.teams.items() if t.rotation_start}
        self._override: tuple[float, dict[str, Any] | None] | None = None
        self._covers: dict[str, tuple[float, list[Cover]]] = {}
        self._gone: set[str] = set()

    def team(self, name: str | None) -> tuple[str, Team]:
        """The team called ``name`` (None: the default); an unknown name is refused naming the teams."""
        key = name or self.default
        found = self.teams.get(key)
        if found is None:
            raise UnknownTeam(f"`{str(name)[:30]}` is not a team; the teams are: {', '.join(self.teams)}.")
        return key, found

    def owner(self, stored: str | None) -> str:
        """The team an incident (or anything stored) named: itself, or the default team once the config no longer has
        it (renamed or removed), so the incident is still paged and shown."""
        if stored is None or stored in self.teams:
            return stored or self.default
        if stored not in self._gone:
            self._gone.add(stored)
            log.warning("team %r is no longer in the config; its incidents are team %s's", stored[:30], self.default)
        return self.default

    def teams_of(self, person: str) -> list[str]:
        """The teams ``person`` is in (rotations, layers, lead), in the config's order."""
        return [name for name, team in self.teams.items() if person in team.members]

    async def anchor(self, name: str, instant: datetime) -> date:
        if name not in self._anchors:
            team = self.teams[name]
            default = anchor_for(instant, Handoff.parse(team.handoff), ZoneInfo(team.timezone))
            self._anchors[name] = await self.store.anchor(default, None if name == IMPLICIT else name)
        return self._anchors[name]

    async def now(self, instant: datetime, team: str | None = None) -> OnCallNow:
        """Who is on call in ``team`` (a name chat gave is checked with ``team()`` first; a stored one that is gone
        from the config is the default team's)."""
        name = self.owner(team)
        found = self.teams[name]
        anchor = await self.anchor(name, instant)
        shift = schedule.at(found, name, instant, anchor, await self.covers(name, instant))
        override = await self._current_override(instant) if name == self.default else None
        primary = override["user"] if override else shift.primary
        secondary = shift.secondary if shift.secondary != primary else shift.primary
        started, ends = shift.started, shift.ends
        return OnCallNow(
            shift=Shift(shift.primary, shift.secondary, started, ends, shift.next_primary, shift.next_secondary),
            primary=primary,
            secondary=secondary,
            lead=found.lead,
            override_until=datetime.fromisoformat(override["until"]) if override else None,
            override_by=override["by"] if override else None,
            team=name,
            source="override" if override else shift.source,
            covered=shift.covered,
        )

    async def every(self, instant: datetime) -> list[OnCallNow]:
        return [await self.now(instant, name) for name in self.teams]

    async def covers(self, team: str, instant: datetime) -> list[Cover]:
        """The team's covers at the instants of their shifts with this config (a cover follows its shift when the
        hand-off moves)."""
        cached = self._covers.get(team)
        if cached is None or time.monotonic() - cached[0] > OVERRIDE_CACHE_SECONDS:
            cached = self._covers[team] = (time.monotonic(), await self.store.covers(team))
        found, anchor = self.teams[team], await self.anchor(team, instant)
        return [shifts.placed(found, anchor, cover) for cover in cached[1]]

    async def _current_override(self, instant: datetime) -> dict[str, Any] | None:
        cached = self._override
        if cached is None or time.monotonic() - cached[0] > OVERRIDE_CACHE_SECONDS:
            cached = self._override = (time.monotonic(), await self.store.override(instant))
        override = cached[1]
        return override if override and datetime.fromisoformat(override["until"]) > instant else None

    def forget_override(self) -> None:
        """After this replica changed the override or a cover: read them afresh next time."""
        self._override = None
        self._covers.clear()
