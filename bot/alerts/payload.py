"""Alertmanager's webhook payload (version 4), also what Grafana's alerting webhook sends (the same shape plus
extras, which are accepted and ignored), read into a typed model (pure). A body that is not such a payload is
refused with a one-line reason."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_ALERTS = 1000
MAX_LABEL = 1024


class BadPayload(ValueError):
    """Not an Alertmanager webhook payload; the message is one line saying why."""


class Alert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = ""

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "alert")

    @property
    def key(self) -> str:
        """Alertmanager's fingerprint, else one of the labels (Grafana and older senders may leave it out)."""
        if self.fingerprint:
            return self.fingerprint
        return hashlib.sha256(json.dumps(sorted(self.labels.items())).encode()).hexdigest()[:16]


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    version: str = "4"
    receiver: str = Field(default="", max_length=200)
    status: Literal["firing", "resolved"]
    groupKey: str = Field(default="", max_length=MAX_LABEL * 4)
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[Alert] = Field(max_length=MAX_ALERTS)
    truncatedAlerts: int = 0

    @property
    def group(self) -> str:
        """The group's stable id: its groupKey hashed (the key itself is long and carries label values)."""
        key = self.groupKey or json.dumps([self.receiver, sorted(self.groupLabels.items())])
        return hashlib.sha256(key.encode()).hexdigest()[:24]

    @property
    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == "resolved"]

    @property
    def source(self) -> str:
        return self.receiver or "webhook"


def parse(body: bytes) -> Payload:
    """The payload, or BadPayload naming what is wrong."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadPayload(f"the body is not JSON ({exc.msg if hasattr(exc, 'msg') else exc})") from None
    if not isinstance(data, dict):
        raise BadPayload("the body is not a JSON object")
    if "alerts" not in data:
        raise BadPayload("no 'alerts' in the payload: not an Alertmanager or Grafana webhook")
    try:
        return Payload.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadPayload(f"'{where}': {first['msg']}") from None
