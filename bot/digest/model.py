"""The health digest (pure data): what was found on each cluster, what the other domains add, the open incidents."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.core.settings.teams import Owners
from bot.incidents.model import Incident
from runbooks.checklist.model import ClusterHealth, Section


class DigestPart(BaseModel):
    """One part of the digest after the clusters, under its title: checks whose findings count as problems (RDS
    backups), lines to read (maintenance today, what is firing), or both; ``problems`` counts any more it found
    (the error rate above its target)."""

    model_config = ConfigDict(frozen=True)

    key: str
    title: str
    sections: list[Section] = []
    lines: list[str] | None = None
    problems: int = 0


@dataclass(frozen=True)
class DigestSection:
    """A part of the digest, declared on the board by the domain that knows it: ``part(now)`` (None: nothing to
    show). Parts appear in ``order`` (the key metrics are 20), after the clusters and before the open incidents."""

    key: str
    order: int
    title: str
    part: Callable[[datetime], Awaitable[DigestPart | None]]


class Digest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    at: datetime
    clusters: list[ClusterHealth]
    incidents: list[Incident] | None = None  # None: the state store was not consulted
    incidents_note: str | None = None
    parts: list[DigestPart] = []
    owners: Owners | None = None  # with ``teams`` configured: the open incidents grouped by team

    def part(self, key: str) -> DigestPart | None:
        return next((p for p in self.parts if p.key == key), None)

    @property
    def problems(self) -> int:
        return (
            sum(len(s.findings) for c in self.clusters for s in c.sections)
            + sum(len(s.findings) for p in self.parts for s in p.sections)
            + sum(p.problems for p in self.parts)
            + sum(1 for c in self.clusters if not c.reachable)
        )

    @property
    def degraded_checks(self) -> int:
        return sum(1 for c in self.clusters for s in c.sections if s.failed) + sum(
            1 for p in self.parts for s in p.sections if s.failed
        )

    @property
    def healthy(self) -> bool:
        return self.problems == 0 and self.degraded_checks == 0
