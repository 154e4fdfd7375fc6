"""What other domains add to the incident flow, declared on the board (``bot.core.board``):

- :class:`IncidentSteps`: what happens in the request itself when an incident opens, stops needing a response
  (acknowledged, mitigated, resolved, closed) or changes severity (escalation arms, cancels and moves its pages);
- :class:`AfterIncidentChange`: what follows a change once Slack has been answered and the announcement shows it
  (the status page asks whether to resolve publicly too);
- :class:`AfterOpened`: what follows a new incident's announcement (the change feed's "What changed");
- :class:`PostmortemActions`: the action items the post-mortem draft lists (tickets');
- :class:`OpenedDuring`: something going on when an incident opens, kept on it and named on its announcement
  (a maintenance window);
- :class:`AnnouncementButtons`: buttons of another domain on the announcement (the status page's);
- :class:`PagingHold`: paging held for an incident while something lasts (a maintenance window whose scope covers
  the alerts): the escalator pages nobody of the chain, and when the hold ends the chain is paged
  (``bot.incidents.holds``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import ButtonElement

from bot.core.severity import Severity
from bot.core.timeline import TimelineEntry
from bot.incidents.model import AlertOrigin, Hold, Incident

Step = Callable[[Incident], Awaitable[None]]


@dataclass(frozen=True)
class IncidentSteps:
    """Called once the change is stored, before the person is answered; a state store failure here is logged (the
    stored change stands, and the domain heals itself: escalation re-checks and re-arms)."""

    key: str
    opened: Step | None = None
    stopped: Step | None = None
    severity_changed: Step | None = None
    order: int = 0
    team_changed: Step | None = None  # handed over to another team (``/incident team INC-n data``)


@dataclass(frozen=True)
class AfterIncidentChange:
    """Called after every change, in the background, once the announcement has it; failures are logged."""

    key: str
    changed: Callable[[Incident, TimelineEntry], Awaitable[None]]
    order: int = 0


@dataclass(frozen=True)
class AfterOpened:
    """Called once a new incident's announcement (and its room) is posted, in the background; failures are logged
    (the change feed posts what changed before it in its thread)."""

    key: str
    opened: Step
    order: int = 0


@dataclass(frozen=True)
class PostmortemActions:
    """``rows(incident)``: the post-mortem draft's action items (what, owner, due), from the domain that keeps them
    (tickets)."""

    key: str
    rows: Callable[[Incident], Awaitable[list[tuple[str, str, str]]]]
    order: int = 0


@dataclass(frozen=True)
class OpenedDuring:
    """``now(at)``: what is going on at ``at`` ("MW-3: Postgres minor upgrade"), or None."""

    key: str
    emoji: str
    label: str
    now: Callable[[datetime], Awaitable[str | None]]
    order: int = 0


@dataclass(frozen=True)
class AnnouncementButtons:
    """``buttons(incident)``: this domain's buttons on the incident's announcement as it stands (pure)."""

    key: str
    buttons: Callable[[Incident], list[ButtonElement]]
    order: int = 0


@dataclass(frozen=True)
class PagingHold:
    """Paging held while something lasts.

    - ``hold(at, severity, alert)``: asked as an incident opens (before it is stored): a ``Hold`` to keep on it
      (who is paged all the same, what is shown), or None. The first declaration that holds wins.
    - ``ended(hold, at)``: None while a hold it gave lasts, else why it ended ("closed"); asked by the poller for
      every incident it holds (and at once when the holder calls ``bot.incidents.holds.PagingHolds.sweep``). Once
      ended, the chain is paged as for a new incident (unless someone responded meanwhile).
    - ``told(incident)``: in the background, once a held incident is announced (the window's thread says so);
      ``released(incident)``: once its hold ended. Failures are logged.
    """

    key: str
    hold: Callable[[datetime, Severity, AlertOrigin | None], Awaitable[Hold | None]]
    ended: Callable[[Hold, datetime], Awaitable[str | None]]
    told: Step | None = None
    released: Step | None = None
    order: int = 0
