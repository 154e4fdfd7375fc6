"""Tickets (pure): an incident's ticket in an issue tracker, the marker that finds it again, the keys people type,
what a tracker can do (:class:`Tracker`) and the two ways a tracker fails."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from bot.core.errors import DependencyError, UserError
from bot.core.settings.tickets import STAGES, Stage
from bot.core.severity import Severity

TRACKER_NAMES = {"jira": "Jira", "github": "GitHub", "linear": "Linear"}
JIRA_KEY = re.compile(r"^([A-Z][A-Z0-9_]{1,9})-([1-9][0-9]{0,9})$")
GITHUB_KEY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100})#([1-9][0-9]{0,9})$")
LINEAR_KEY = re.compile(r"^([A-Z][A-Z0-9]{0,6})-([1-9][0-9]{0,9})$")
FORMS = {"jira": "OPS-1234", "github": "org/repo#56", "linear": "ENG-78"}
TITLE_MAX = 250
COMMENT_MAX = 4000


def marker(ref: str) -> str:
    """What the bot leaves on an incident's ticket to find it again: a Jira label, a line in a GitHub or Linear body."""
    return f"chatops-{ref}"


def marker_line(ref: str) -> str:
    return f"<!-- {marker(ref)} -->"


@dataclass(frozen=True)
class Ticket:
    """A ticket as the tracker named it: ``key`` as people write it (OPS-1234, org/repo#56, ENG-78), ``id`` as its
    API does (Jira's and GitHub's are the key's parts; Linear's a UUID)."""

    tracker: str
    key: str
    url: str
    id: str = ""


@dataclass(frozen=True)
class NewTicket:
    """What goes on a new ticket."""

    ref: str  # INC-42, marked on it
    title: str
    severity: Severity
    body: str
    labels: list[str] = field(default_factory=list)
    action: bool = False  # an action item (Jira: tickets.jira.action_issue_type), not the incident's ticket
    relates_to: Ticket | None = None  # an action item's incident ticket
    assignee: str | None = None  # the tracker's user (``Tracker.user_of``), an action item's owner


class TrackerDown(DependencyError):
    """The tracker did not answer, or answered 429/5xx: tried again later (the message names it and why)."""


class TrackerRefused(DependencyError):
    """The tracker refused (401, 403, 404, 400): not tried again until someone asks; the message says what to fix."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class Tracker(Protocol):
    """What the bot does in a tracker. Every call raises ``TrackerDown`` or ``TrackerRefused``."""

    name: str  # "jira", "github", "linear"

    async def create(self, new: NewTicket) -> Ticket: ...

    async def user_of(self, email: str) -> str | None:
        """The tracker's user with that email, as an assignee is named (None: none, or the tracker cannot say)."""
        ...

    async def find(self, ref: str) -> Ticket | None:
        """The ticket carrying ``ref``'s marker, if the tracker shows one."""
        ...

    async def get(self, key: str) -> Ticket | None:
        """The ticket of that key (validated), or None when there is none."""
        ...

    async def mark(self, ticket: Ticket, ref: str) -> None:
        """Put ``ref``'s marker on an existing ticket (one linked by hand)."""
        ...

    async def move(self, ticket: Ticket, stage: Stage) -> str | None:
        """Move the ticket to the stage's status; what it is now (None when the stage is not mapped)."""
        ...

    async def reprioritize(self, ticket: Ticket, severity: Severity) -> None: ...

    async def comment(self, ticket: Ticket, text: str) -> None: ...

    async def status(self, ticket: Ticket) -> str:
        """Its status as the tracker shows it ("In Progress", "closed")."""
        ...


def parse_key(tracker: str, text: str) -> str:
    """A ticket key typed in chat, checked against the tracker's form before any call (UserError otherwise)."""
    value = text.strip()
    pattern = {"jira": JIRA_KEY, "github": GITHUB_KEY, "linear": LINEAR_KEY}[tracker]
    if len(value) > 160 or not pattern.match(value):
        shown = value[:40].replace("`", "'")
        raise UserError(f"`{shown}` is not a {TRACKER_NAMES[tracker]} key; write it like {FORMS[tracker]}.")
    return value


def stage_of(kind: str) -> Stage | None:
    """The ticket's stage for a timeline entry's kind (acknowledged, mitigated, …), or None. An incident whose alerts
    fire again after a machine's mitigation is back at work: its ticket is reopened."""
    if kind == "firing again":
        return "reopened"
    return next((stage for stage in STAGES if stage == kind), None)


def home_of(tracker: str, key: str) -> str:
    """Where a key (checked by :func:`parse_key`) lives: its Jira project, GitHub repository or Linear team."""
    return key.rsplit("#", 1)[0] if tracker == "github" else key.rsplit("-", 1)[0]


FORWARD: tuple[Stage, ...] = ("acknowledged", "mitigated", "resolved", "closed")
MADE = "open"  # the stage recorded for a ticket as it was made
PLACE: dict[str, int] = {MADE: 0, "reopened": 1} | {stage: i for i, stage in enumerate(FORWARD, 1)}


def stages_to(synced: str | None, now: Stage | None) -> list[Stage]:
    """The moves that bring a ticket last sent to ``synced`` where the incident is (``now``; None: open), every stage
    between in order (a workflow moves one step at a time, and a stage skipped may be the one mapped, as resolved to
    Done on the way to closed). Back from mitigated or later (reopened, firing again): ``reopened`` first, then the
    stages forward from there (a reopened ticket is at work again, as an acknowledged one)."""
    was, goal = PLACE.get(synced or MADE, 0), PLACE[now or MADE]
    if goal > was:
        return list(FORWARD[was:goal])
    if goal < was and was > PLACE["acknowledged"]:
        return ["reopened", *FORWARD[PLACE["acknowledged"] : goal]]
    return []


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ActionItem(BaseModel):
    """A follow-up of an incident (``/incident action``): kept in Redis, and a ticket of its own when a tracker is
    set up (linked to the incident's ticket)."""

    model_config = ConfigDict(frozen=True)

    number: int  # the incident's
    index: int  # 1, 2, … within it
    text: str
    owner: str | None = None
    due: date | None = None
    by: str
    at: datetime
    done_at: datetime | None = None
    ticket_key: str | None = None
    ticket_url: str | None = None
    ticket_id: str = ""
    ticket_status: str | None = None  # as the tracker last said it

    @property
    def ref(self) -> str:
        """``INC-42-A1``: its marker on its ticket is ``chatops-INC-42-A1``."""
        return f"INC-{self.number}-A{self.index}"

    @property
    def ticket(self) -> Ticket | None:
        return Ticket("", self.ticket_key, self.ticket_url or "", self.ticket_id) if self.ticket_key else None

    def overdue(self, today: date) -> bool:
        return self.done_at is None and self.due is not None and self.due < today


DONE_STATUSES = {"done", "closed", "resolved", "canceled", "cancelled", "completed", "won't do", "duplicate"}


def is_done(status: str | None) -> bool:
    return (status or "").strip().casefold() in DONE_STATUSES
