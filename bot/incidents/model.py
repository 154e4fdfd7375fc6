"""Incident data (pure): states, actions, the incident record and its timeline entries."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from bot.core.severity import Severity

TITLE_MAX = 150
DESCRIPTION_MAX = 2000
INCIDENT_REF = re.compile(r"^(?:inc-?|#)?([0-9]{1,9})$", re.IGNORECASE | re.ASCII)


class State(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    MITIGATE = "mitigate"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"


def format_ref(number: int) -> str:
    return f"INC-{number}"


def parse_ref(text: str) -> int | None:
    """``INC-42``, ``inc-42``, ``#42`` or ``42`` → 42; anything else → None."""
    match = INCIDENT_REF.match(text.strip())
    if not match:
        return None
    number = int(match.group(1))
    return number if number > 0 else None


class AlertOrigin(BaseModel):
    """Where an incident opened from alerts came from (an Alertmanager or Grafana alert group)."""

    model_config = ConfigDict(frozen=True)

    receiver: str
    group: str  # the hashed groupKey: the group's incident is found by it
    labels: dict[str, str] = Field(default_factory=dict)  # the group's common labels
    runbook_url: str | None = None
    generator_url: str | None = None
    source_url: str | None = None  # Alertmanager's externalURL
    firing: int = 0  # alerts firing when it opened
    previous: int | None = None  # the group's earlier incident, resolved since
    channel: str | None = None  # announced here (the route's channel) instead of channels.incidents
    storm: bool = False  # the incident that gathers an alert storm's groups

    @property
    def actor(self) -> str:
        return f"Alertmanager (receiver {self.receiver})"


MAINTENANCE_LABEL = "maintenance"  # the label of a During that earlier versions stored as ``maintenance``


def _label(during: Any) -> Any:
    return during.get("label") if isinstance(during, dict) else getattr(during, "label", None)


class During(BaseModel):
    """Something going on when the incident opened, named on its announcement ("🛠️ Opened during maintenance
    *MW-3: Postgres minor upgrade*"); declared by the domain that knows (``bot.incidents.steps.OpenedDuring``)."""

    model_config = ConfigDict(frozen=True)

    emoji: str
    label: str
    text: str


class Hold(BaseModel):
    """Paging held for an incident by the domain that asked (``bot.incidents.steps.PagingHold``): nobody of the
    escalation chain is paged while it lasts, except ``page`` (once, at open); when it ends the chain is paged
    as for a new incident, the response deadline counted from then."""

    model_config = ConfigDict(frozen=True)

    key: str  # the declaration that holds it ("maintenance")
    ref: str  # what holds it ("MW-3")
    text: str  # why, as shown ("MW-3: Postgres minor upgrade, alerts on cluster prod")
    page: list[str] = Field(default_factory=list)  # paged at once all the same (the window's owner, for a P1)
    released_at: datetime | None = None
    released_why: str = ""


class Incident(BaseModel):
    """One incident as stored. ``version`` increases by one with every change."""

    model_config = ConfigDict(frozen=True)

    number: int
    title: str
    description: str = ""
    severity: Severity
    state: State = State.OPEN
    opened_by: str
    opened_at: datetime
    respond_by: datetime
    commander: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    mitigated_by: str | None = None
    mitigated_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None
    room: str | None = Field(default=None, description="the incident's own channel, when incident_channels is on")
    last_update_at: datetime | None = None
    postmortem_at: datetime | None = None
    during: list[During] = Field(default_factory=list, description="what was going on when it opened")
    alert: AlertOrigin | None = Field(default=None, description="opened from an alert group")
    held: Hold | None = Field(default=None, description="paging held when it opened (a maintenance window)")
    service: str | None = Field(default=None, description="what it is about: `namespace` or `namespace/workload`")
    statuspage_id: str | None = Field(default=None, description="its incident on the public status page")
    statuspage_status: str | None = Field(default=None, description="that incident's status there (resolved, …)")
    statuspage_components: list[str] = Field(default_factory=list, description="the components it marked down")
    ticket_key: str | None = Field(default=None, description="its ticket in the issue tracker (OPS-1234, org/repo#5)")
    ticket_url: str | None = Field(default=None, description="that ticket's page")
    team: str | None = Field(default=None, description="the team it belongs to (None: the default team)")
    handovers: int = Field(default=0, description="times handed over to another team: its paging chain's generation")
    version: int = 1

    @model_validator(mode="before")
    @classmethod
    def _stored_before(cls, data: Any) -> Any:
        """Incidents stored by earlier versions: the room was ``channel``; the maintenance window it opened during had
        a field of its own before ``during``."""
        if isinstance(data, dict) and ("maintenance" in data or "channel" in data):
            data = dict(data)
            if "channel" in data:
                data.setdefault("room", data.pop("channel"))
            window = data.pop("maintenance", None)
            during = list(data.get("during") or [])
            if window and not any(_label(d) == MAINTENANCE_LABEL for d in during):
                data["during"] = [*during, {"emoji": "🛠️", "label": MAINTENANCE_LABEL, "text": window}]
        return data

    @model_serializer(mode="wrap")
    def _readable_before(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Also written as earlier versions read them (``channel``, ``maintenance``), so replicas of the last release
        keep the room and the window during a rolling upgrade; read back, the fields above win."""
        data: dict[str, Any] = handler(self)
        data["channel"] = self.room
        data["maintenance"] = next((d.text for d in self.during if d.label == MAINTENANCE_LABEL), None)
        return data

    @property
    def ref(self) -> str:
        return format_ref(self.number)

    @property
    def active(self) -> bool:
        return self.state is not State.CLOSED

    @property
    def paging_held(self) -> bool:
        """Nobody of the chain is paged yet: a hold that has not ended."""
        return self.held is not None and self.held.released_at is None

    @property
    def pages_from(self) -> datetime:
        """When paging began: at open, or when its hold ended (the response deadline counts from here)."""
        return self.held.released_at if self.held is not None and self.held.released_at else self.opened_at
