"""Config sections of the security audit and the weekly report (pure)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from bot.core.settings.types import (
    Cron,
    Strict,
)

# The Security Audit's checks (runbooks.checklist.security.CHECKS; a unit test keeps the two equal).
AuditCheck = Literal["privileged", "root", "default-sa", "exposed", "rbac", "host"]


class SecurityException(Strict):
    """An accepted finding: ``match`` is a glob on ``namespace/Kind/name`` (``kube-system/*``)."""

    match: str = Field(min_length=1, max_length=253)
    checks: list[AuditCheck] = Field(default_factory=list, description="empty: every check")
    reason: str = Field(min_length=1, max_length=300)
    until: date | None = None  # the day it stops silencing (none: until removed)


class Security(Strict):
    cron: Cron = "0 9 1-7 * 1"  # the first Monday of the month, 09:00 in digest.timezone
    exceptions: list[SecurityException] = Field(default_factory=list)


class Reports(Strict):
    weekly_cron: Cron = "0 9 * * 1"  # Monday 09:00 in digest.timezone
    anomaly_percent: float = Field(default=30.0, gt=0)  # a service grew by more than this…
    anomaly_dollars: float = Field(default=50.0, ge=0)  # …and by more than this much, week over week
