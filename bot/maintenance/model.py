"""A maintenance window (``MW-n``) and when its reminders are due (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class WindowState(StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


OVER = frozenset({WindowState.DONE, WindowState.CANCELLED})


class Step(BaseModel):
    """One line of the guide's "Scheduled Maintenance Process" checklist."""

    model_config = ConfigDict(frozen=True)

    key: str
    text: str
    when: str  # "week" (1 week before) or "day" (the day before)
    runs: bool = False  # the button does something (a backup, a check) besides ticking


CHECKLIST: tuple[Step, ...] = (
    Step(key="plan", text="Change plan reviewed", when="week"),
    Step(key="rollback", text="Rollback procedure prepared", when="week"),
    Step(key="staging", text="Tested in staging", when="week"),
    Step(key="backup", text="Backup critical data", when="day", runs=True),
    Step(key="ready", text="Verify rollback readiness", when="day", runs=True),
)
STEPS = {s.key: s for s in CHECKLIST}


class Reminder(StrEnum):
    WEEK = "week"  # re-announced 7 days before
    DAY = "day"  # re-announced the day before
    SOON = "soon"  # the owner, 15 minutes before
    START = "start"  # "starting now"
    OVERRUN = "overrun"  # the end passed and it is not done


BEFORE = {Reminder.WEEK: timedelta(days=7), Reminder.DAY: timedelta(days=1), Reminder.SOON: timedelta(minutes=15)}


class Tick(BaseModel):
    model_config = ConfigDict(frozen=True)

    by: str
    at: datetime
    note: str = ""


class Window(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int = 0
    title: str
    start: datetime  # aware
    end: datetime
    owner: str
    cluster: str | None = None
    nodes: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)  # "namespace/deployment"
    state: WindowState = WindowState.SCHEDULED
    created_at: datetime
    ticks: dict[str, Tick] = Field(default_factory=dict)
    cordoned: list[str] = Field(default_factory=list)  # nodes this window cordoned and nobody uncordoned yet
    offers: dict[str, str] = Field(default_factory=dict)  # button → opaque offer id (cordon, uncordon, drain:<node>)
    message: tuple[str, str] | None = None  # (channel, ts) of the announcement in channels.incidents
    mirror: tuple[str, str] | None = None  # the same, read-only, in channels.stakeholders
    reason: str = ""  # why it was cancelled, or the note it was closed with
    started_at: datetime | None = None
    ended_at: datetime | None = None
    suppress: bool = False  # holds pages for alerts in its scope (windows stored before this never did)
    version: int = 1

    @property
    def ref(self) -> str:
        return format_ref(self.number)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def namespaces(self) -> list[str]:
        return sorted({s.split("/", 1)[0] for s in self.services})

    @property
    def headline(self) -> str:
        return f"{self.ref}: {self.title}"

    def active(self, now: datetime) -> bool:
        """Running, or scheduled and within its time."""
        if self.state is WindowState.RUNNING:
            return True
        return self.state is WindowState.SCHEDULED and self.start <= now < self.end

    def suppressing(self, now: datetime, grace: timedelta) -> bool:
        """Holding pages now: asked to (not ``--no-suppress``), started (or its start come) and neither done nor
        cancelled, until its end plus ``grace``."""
        if not self.suppress or self.state in OVER:
            return False
        began = self.start if self.started_at is None else min(self.start, self.started_at)
        if self.state is WindowState.SCHEDULED and now < self.start:
            return False
        return began <= now < self.end + grace

    def covers(self, labels: Mapping[str, str], default_cluster: str) -> bool:
        """An alert with these labels is inside the window's scope: on its cluster (an alert without a ``cluster``
        label is on the default one), and, when the window names services or nodes, on one of them (``node``, or
        ``namespace`` with ``deployment`` or ``service``). A window naming neither covers its whole cluster."""
        if (labels.get("cluster") or default_cluster) != (self.cluster or default_cluster):
            return False
        if not self.services and not self.nodes:
            return True
        if labels.get("node") in self.nodes:
            return True
        namespace = labels.get("namespace")
        names = {labels.get("deployment"), labels.get("service")} - {None}
        return bool(namespace) and any(f"{namespace}/{name}" in self.services for name in names)

    def reminders(self) -> dict[Reminder, datetime]:
        """When each reminder is due: a re-announcement only when scheduled earlier than it."""
        due = {kind: self.start - before for kind, before in BEFORE.items() if self.created_at < self.start - before}
        return {**due, Reminder.START: self.start, Reminder.OVERRUN: self.end}


def format_ref(number: int) -> str:
    return f"MW-{number}"


def parse_ref(text: str) -> int | None:
    """``MW-3``, ``mw-3`` or ``3``; None when it is not one."""
    value = text.strip().upper().removeprefix("MW-")
    return int(value) if value.isdigit() and 0 < len(value) <= 9 else None


def member(number: int, kind: Reminder) -> str:
    """A reminder's member in the due set."""
    return f"{number}:{kind.value}"


def parse_member(value: str) -> tuple[int, Reminder] | None:
    number, _, kind = value.partition(":")
    try:
        return int(number), Reminder(kind)
    except ValueError:
        return None
