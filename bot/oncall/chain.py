"""The escalation chain (pure): who is paged at each step, and when.

Step 1 pages the primary at open; step 2 the secondary at the response deadline; step 3 the
lead one window later; after the last person, the last step is paged again every ``repeat_every``.
People missing from the config, or the same person twice, are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.incidents.model import Incident

ROLES = ("primary", "secondary", "lead")


@dataclass(frozen=True)
class Target:
    role: str
    user: str


def targets(primary: str | None, secondary: str | None, lead: str | None) -> list[Target]:
    """The chain, in order, without gaps or repeats."""
    out: list[Target] = []
    for role, user in zip(ROLES, (primary, secondary, lead), strict=True):
        if user and user not in {t.user for t in out}:
            out.append(Target(role, user))
    return out


def target_for(step: int, chain: list[Target]) -> Target | None:
    """Who step ``step`` (1-based) pages: past the end of the chain, the last person again."""
    if not chain or step < 1:
        return None
    return chain[min(step, len(chain)) - 1]


def step_due(incident: Incident, step: int, chain_length: int, window: timedelta, repeat_every: timedelta) -> datetime:
    """When step ``step`` is due for ``incident``.

    ``window`` is the time each further person gets (the severity's ``ack_within``, or
    ``repeat_every`` where that is "next business day").
    """
    if step <= 1:
        return incident.opened_at
    if step == 2:
        return incident.respond_by
    last_distinct = max(chain_length, 2)
    if step <= last_distinct:
        return incident.respond_by + (step - 2) * window
    base = incident.respond_by + (last_distinct - 2) * window
    return base + (step - last_distinct) * repeat_every


def restarted(incident: Incident, respond_by: datetime) -> Incident:
    """``incident`` as its chain sees it when it started again (handed over to another team): the first person
    paged then has until ``respond_by`` (the severity's deadline from the restart), however long ago it opened or
    was meant to be answered."""
    if incident.respond_by >= respond_by:
        return incident
    return incident.model_copy(update={"respond_by": respond_by})


def waited(incident: Incident, now: datetime) -> timedelta:
    return max(now - incident.opened_at, timedelta(0))
