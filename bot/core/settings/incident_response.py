"""Config sections of incident response (pure): channels, severities, escalation, on-call, permissions, incident
channels (rooms), status-update reminders."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bot.core.settings.types import (
    ChannelId,
    Duration,
    HttpUrl,
    Strict,
    TimeZoneName,
    UserId,
    UserOrGroupId,
    duration,
)
from bot.core.severity import Severity

_HANDOFF = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+([01][0-9]|2[0-3]):([0-5][0-9])$", re.IGNORECASE)


def handoff_text(value: str) -> str:
    """A weekly hand-off time, ``mon 09:00``, as stored (lower case)."""
    if not _HANDOFF.match(value.strip()):
        raise ValueError(f"{value!r} is not a weekly hand-off time; write a weekday and 24h time, e.g. 'mon 09:00'")
    return value.strip().lower()


class Channels(Strict):
    incidents: ChannelId
    digest: ChannelId | None = None
    stakeholders: ChannelId | None = None


class SeverityPolicy(Strict):
    ack_within: timedelta | Literal["next_business_day"]

    @field_validator("ack_within", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return value if value == "next_business_day" else duration(value)


DEFAULT_SEVERITIES: dict[Severity, SeverityPolicy] = {
    Severity.P1: SeverityPolicy(ack_within=timedelta(minutes=15)),
    Severity.P2: SeverityPolicy(ack_within=timedelta(hours=1)),
    Severity.P3: SeverityPolicy(ack_within=timedelta(hours=4)),
    Severity.P4: SeverityPolicy(ack_within="next_business_day"),
}


VENDOR_TEXT_MAX = 300
VENDOR_LINKS_MAX = 5


class VendorLine(Strict):
    """The guide's "Vendor Support" line, on a P1's announcement: ``text``, then each link by its name."""

    text: str = Field(default="AWS Support: open a case in the console", max_length=VENDOR_TEXT_MAX)
    links: dict[str, HttpUrl] = Field(
        default_factory=lambda: {"AWS Support": "https://console.aws.amazon.com/support/home"},
        max_length=VENDOR_LINKS_MAX,
    )

    @field_validator("links")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not name.strip() or len(name) > 80 or any(c in name for c in "<>|"):
                raise ValueError(f"{name!r} is not a link name; 1 to 80 characters, none of < > |")
        return value


class Escalation(Strict):
    repeat_every: Duration = timedelta(minutes=10)
    poll_interval: Duration = timedelta(seconds=1)
    claim_lease: Duration = timedelta(seconds=60)
    retry_failed_page_after: Duration = timedelta(seconds=30)
    # Called (and DMed) once per incident when the chain's last step is paged unacknowledged, or by
    # `/incident escalate INC-n emergency`; numbers from paging.contacts or verified self-added ones.
    emergency_contacts: dict[Severity, list[UserId]] = Field(default_factory=dict)
    vendor_line: VendorLine = Field(default_factory=VendorLine)


class OnCallConfig(Strict):
    timezone: TimeZoneName = "UTC"
    handoff: str = "mon 09:00"
    rotation: list[UserId] = Field(default_factory=list)
    lead: UserId | None = None
    rotation_start: date | None = Field(
        default=None, description="a hand-off day on which rotation[0] was primary; default: the first start"
    )

    @field_validator("handoff")
    @classmethod
    def _handoff(cls, value: str) -> str:
        return handoff_text(value)


class Permissions(Strict):
    responders: list[UserOrGroupId] = Field(default_factory=list)
    operators: list[UserOrGroupId] = Field(default_factory=list)


class IncidentChannels(Strict):
    """``incident_channels: true`` or a mapping with these keys."""

    enabled: bool = False
    min_severity: Severity = Severity.P4
    archive_on_close: bool = True
    private: bool = False  # private channels (needs the groups:write scope): only the invited can read

    @model_validator(mode="before")
    @classmethod
    def _from_bool(cls, value: Any) -> Any:
        return {"enabled": value} if isinstance(value, bool) else value

    def wanted(self, severity: Severity) -> bool:
        """P1 is the highest: a channel for severities at or above ``min_severity``."""
        return self.enabled and severity.value <= self.min_severity.value


class Updates(Strict):
    remind_after: Duration = timedelta(minutes=30)
    remind_severities: list[Severity] = Field(default_factory=lambda: [Severity.P1, Severity.P2])
