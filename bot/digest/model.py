"""The health digest (pure data): what was found on each cluster, the key metrics, the open incidents."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.incidents.model import Incident
from runbooks.checklist.model import ClusterHealth, Section
from runbooks.prometheus.model import KeyMetrics


class Digest(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    clusters: list[ClusterHealth]
    incidents: list[Incident] | None = None  # None: the state store was not consulted
    incidents_note: str | None = None
    metrics: KeyMetrics | None = None  # None: Prometheus is not configured
    account: list[Section] = []  # checks outside the clusters (RDS backups), when AWS is configured
    account_name: str = "AWS"
    maintenance: list[str] | None = None  # today's maintenance windows, one line each (None: not consulted)
    alerts: list[str] | None = None  # firing now in Alertmanager, one line per alert name (None: not connected)

    @property
    def problems(self) -> int:
        return (
            sum(len(s.findings) for c in self.clusters for s in c.sections)
            + sum(len(s.findings) for s in self.account)
            + sum(1 for c in self.clusters if not c.reachable)
            + (1 if self.metrics is not None and self.metrics.error_rate_breached else 0)
        )

    @property
    def degraded_checks(self) -> int:
        return sum(1 for c in self.clusters for s in c.sections if s.failed) + sum(1 for s in self.account if s.failed)

    @property
    def healthy(self) -> bool:
        return self.problems == 0 and self.degraded_checks == 0
