"""Alertmanager's webhook payload (version 4), also what Grafana's alerting webhook sends (the same shape plus
extras, which are accepted and ignored), read into a typed model (pure). A body that is not such a payload is
refused with a one-line reason.

What comes from outside is made safe here, once: control and bidirectional-format characters (U+202E, BEL, a
newline in a label or the receiver) are taken out, label values are clipped to 1,024 characters and annotations
to 4,096, at most 64 labels and annotations an alert; a time without a time zone is UTC."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError

MAX_ALERTS = 1000
MAX_LABEL = 1024
MAX_ANNOTATION = 4096
MAX_PAIRS = 64
KEPT_FIRST = ("alertname", "severity")  # never among the labels cut past MAX_PAIRS
SenderKey = Literal["external_url", "receiver", "none"]


def clean(text: str, limit: int, *, multiline: bool = False) -> str:
    """Text from an alert as it may be shown and logged: no control or format characters (bidirectional overrides,
    zero-width marks, BEL; newlines only where ``multiline``), clipped to ``limit``."""
    kept = "".join(
        c for c in text if (c == "\n" and multiline) or unicodedata.category(c) not in ("Cc", "Cf", "Co", "Cs")
    )
    return kept[:limit]


def _pairs(limit: int, *, multiline: bool = False) -> AfterValidator:
    def apply(pairs: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        first = [(k, pairs[k]) for k in KEPT_FIRST if k in pairs]
        for key, value in [*first, *((k, v) for k, v in pairs.items() if k not in KEPT_FIRST)][:MAX_PAIRS]:
            name = clean(key, 128)
            if name:
                out[name] = clean(value, limit, multiline=multiline)
        return out

    return AfterValidator(apply)


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


Labels = Annotated[dict[str, str], _pairs(MAX_LABEL)]
Annotations = Annotated[dict[str, str], _pairs(MAX_ANNOTATION, multiline=True)]
When = Annotated[datetime | None, AfterValidator(_utc)]
Line = Annotated[str, BeforeValidator(lambda v: clean(v, 2000) if isinstance(v, str) else v)]


class BadPayload(ValueError):
    """Not an Alertmanager webhook payload; the message is one line saying why."""


class Alert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["firing", "resolved"]
    labels: Labels = Field(default_factory=dict)
    annotations: Annotations = Field(default_factory=dict)
    startsAt: When = None
    endsAt: When = None
    generatorURL: Line = ""
    fingerprint: str = Field(default="", max_length=64)

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "alert")

    @property
    def key(self) -> str:
        """Alertmanager's fingerprint, else one of the labels (Grafana and older senders may leave it out)."""
        if self.fingerprint:
            return self.fingerprint
        return hashlib.sha256(json.dumps(sorted(self.labels.items())).encode()).hexdigest()[:16]

    @property
    def instance(self) -> str | None:
        """This firing of the alert (its fingerprint and start): a re-sent alert has the same, a re-fire a new
        start. None when the sender gives no start time (a re-send cannot then be told from a re-fire)."""
        return f"{self.key}@{self.startsAt.isoformat()}" if self.startsAt and self.startsAt.year > 1 else None


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    version: str = "4"
    receiver: Annotated[str, Field(max_length=200), AfterValidator(lambda v: clean(v, 200))] = ""
    status: Literal["firing", "resolved"]
    groupKey: str = Field(default="", max_length=MAX_LABEL * 4)
    groupLabels: Labels = Field(default_factory=dict)
    commonLabels: Labels = Field(default_factory=dict)
    commonAnnotations: Annotations = Field(default_factory=dict)
    externalURL: Line = ""
    alerts: list[Alert] = Field(max_length=MAX_ALERTS)
    truncatedAlerts: int = Field(default=0, ge=0)
    _sender_key: SenderKey = PrivateAttr(default="external_url")

    def keyed(self, sender_key: SenderKey) -> Payload:
        """The payload whose group is told apart by ``sender_key`` (``alerts.sender_key``)."""
        copy = self.model_copy()
        copy._sender_key = sender_key
        return copy

    @property
    def group(self) -> str:
        """The group's stable id: its sender (by default Alertmanager's externalURL and the receiver: two
        Alertmanagers may send the same groupKey for two clusters) and its groupKey, hashed (the key is long and
        carries label values)."""
        key = self.groupKey or json.dumps([self.receiver, sorted(self.groupLabels.items())])
        if self._sender_key == "external_url" and self.externalURL:
            key = json.dumps([self.externalURL, self.receiver, key])
        elif self._sender_key == "receiver":
            key = json.dumps([self.receiver, key])
        return hashlib.sha256(key.encode()).hexdigest()[:24]

    @property
    def legacy_group(self) -> str:
        """The id earlier versions gave the group (its groupKey alone): a group in flight at an upgrade keeps its
        incident."""
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
