"""Velero's objects as the bot reads them (pure): Backups, Restores, Schedules and BackupStorageLocations from raw
``velero.io/v1`` JSON, and how often a Schedule runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from runbooks.kube.objects import Obj, parse_time

DONE = "Completed"
TERMINAL = frozenset({"Completed", "PartiallyFailed", "Failed", "FailedValidation"})
SCHEDULE_LABEL = "velero.io/schedule-name"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DESCRIPTORS = {
    "@yearly": timedelta(days=365),
    "@annually": timedelta(days=365),
    "@monthly": timedelta(days=31),
    "@weekly": timedelta(days=7),
    "@daily": timedelta(days=1),
    "@midnight": timedelta(days=1),
    "@hourly": timedelta(hours=1),
}
_GO_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(h|m|s|ms)")
_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def descriptor_interval(expression: str) -> timedelta | None:
    """``@daily``, ``@every 6h``…: the interval a robfig/cron descriptor names (None for a 5-field expression)."""
    text = expression.strip().lower()
    if text in DESCRIPTORS:
        return DESCRIPTORS[text]
    if text.startswith("@every "):
        parts = _GO_DURATION.findall(text.removeprefix("@every ").replace(" ", ""))
        seconds = sum(float(n) * _GO_UNITS[u] for n, u in parts)
        return timedelta(seconds=seconds) if seconds > 0 else None
    return None


class BackupInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    phase: str
    started: datetime | None = None
    completed: datetime | None = None
    expires: datetime | None = None
    items_total: int | None = None
    items_done: int | None = None
    errors: int = 0
    warnings: int = 0
    namespaces: list[str] = []
    selector: dict[str, str] = {}
    schedule: str | None = None
    failure: str | None = None  # failureReason or validation errors
    created: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.phase in TERMINAL

    @property
    def when(self) -> datetime | None:
        return self.completed or self.started or self.created


class RestoreInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    backup: str
    phase: str
    items_total: int | None = None
    items_done: int | None = None
    errors: int = 0
    warnings: int = 0
    failure: str | None = None

    @property
    def finished(self) -> bool:
        return self.phase in TERMINAL


class ScheduleInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    cron: str
    paused: bool = False
    last_backup: datetime | None = None
    namespaces: list[str] = []


class LocationInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    phase: str
    message: str | None = None


def _failure(status: dict[str, Any]) -> str | None:
    problems = [str(status["failureReason"])] if status.get("failureReason") else []
    problems += [str(v) for v in status.get("validationErrors") or []]
    return "; ".join(problems) or None


def backup_info(obj: Obj) -> BackupInfo:
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    progress = status.get("progress") or {}
    return BackupInfo(
        name=str(meta.get("name", "?")),
        phase=str(status.get("phase") or "New"),
        started=parse_time(status.get("startTimestamp")),
        completed=parse_time(status.get("completionTimestamp")),
        expires=parse_time(status.get("expiration")),
        items_total=progress.get("totalItems"),
        items_done=progress.get("itemsBackedUp"),
        errors=int(status.get("errors") or 0),
        warnings=int(status.get("warnings") or 0),
        namespaces=list(spec.get("includedNamespaces") or []),
        selector=dict((spec.get("labelSelector") or {}).get("matchLabels") or {}),
        schedule=(meta.get("labels") or {}).get(SCHEDULE_LABEL),
        failure=_failure(status),
        created=parse_time(meta.get("creationTimestamp")),
    )


def restore_info(obj: Obj) -> RestoreInfo:
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    progress = status.get("progress") or {}
    return RestoreInfo(
        name=str(meta.get("name", "?")),
        backup=str(spec.get("backupName", "?")),
        phase=str(status.get("phase") or "New"),
        items_total=progress.get("totalItems"),
        items_done=progress.get("itemsRestored"),
        errors=int(status.get("errors") or 0),
        warnings=int(status.get("warnings") or 0),
        failure=_failure(status),
    )


def schedule_info(obj: Obj) -> ScheduleInfo:
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    return ScheduleInfo(
        name=str(meta.get("name", "?")),
        cron=str(spec.get("schedule") or ""),
        paused=bool(spec.get("paused")),
        last_backup=parse_time(status.get("lastBackup")),
        namespaces=list((spec.get("template") or {}).get("includedNamespaces") or []),
    )


def location_info(obj: Obj) -> LocationInfo:
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    return LocationInfo(
        name=str(meta.get("name", "?")), phase=str(status.get("phase") or "Unknown"), message=status.get("message")
    )
