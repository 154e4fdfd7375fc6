"""AWS Cost Explorer: the last 14 days of unblended cost per service, in one ``GetCostAndUsage`` request (daily,
grouped by ``SERVICE``; Cost Explorer bills each request), and the week-over-week comparison the weekly report
shows (pure)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_ce.client import CostExplorerClient

PERMISSION = "ce:GetCostAndUsage"
DAYS = 14
TOP = 5


def daily_by_service(client: CostExplorerClient, end: date) -> dict[str, dict[str, float]]:
    """Per service, per day (ISO date), the unblended cost for the 14 days before ``end`` (exclusive)."""
    start = end - timedelta(days=DAYS)
    costs: dict[str, dict[str, float]] = defaultdict(dict)
    token: str | None = None
    while True:
        request: dict[str, Any] = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "DAILY",
            "Metrics": ["UnblendedCost"],
            "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        }
        if token:
            request["NextPageToken"] = token
        answer: dict[str, Any] = dict(client.get_cost_and_usage(**request))
        for result in answer.get("ResultsByTime") or []:
            day = str((result.get("TimePeriod") or {}).get("Start") or "")[:10]
            for group in result.get("Groups") or []:
                service = str((group.get("Keys") or ["?"])[0])
                metric: dict[str, Any] = dict((group.get("Metrics") or {}).get("UnblendedCost") or {})
                amount = float(metric.get("Amount") or 0.0)
                costs[service][day] = costs[service].get(day, 0.0) + amount
        token = answer.get("NextPageToken")
        if not token:
            return dict(costs)


@dataclass(frozen=True)
class ServiceCost:
    service: str
    week: float
    before: float

    @property
    def change(self) -> float:
        return self.week - self.before

    @property
    def percent(self) -> float | None:
        return None if self.before <= 0 else 100.0 * self.change / self.before


@dataclass(frozen=True)
class CostSummary:
    start: date  # the first day of the last 7
    end: date  # exclusive
    week: float
    before: float
    top: list[ServiceCost] = field(default_factory=list)
    up: list[ServiceCost] = field(default_factory=list)
    down: list[ServiceCost] = field(default_factory=list)
    anomalies: list[ServiceCost] = field(default_factory=list)


def summarize(
    costs: dict[str, dict[str, float]], end: date, *, anomaly_percent: float, anomaly_dollars: float
) -> CostSummary:
    """The last 7 days against the 7 before: totals, the top services, the biggest movers, the anomalies (a service
    that grew by more than ``anomaly_percent`` % and more than ``anomaly_dollars``)."""
    split = end - timedelta(days=7)
    rows = []
    for service, days in costs.items():
        week = sum(v for d, v in days.items() if date.fromisoformat(d) >= split)
        before = sum(v for d, v in days.items() if date.fromisoformat(d) < split)
        rows.append(ServiceCost(service, round(week, 2), round(before, 2)))
    moved = [r for r in rows if abs(r.change) >= 0.01]
    anomalies = [r for r in rows if r.change > anomaly_dollars and (r.percent is None or r.percent > anomaly_percent)]
    return CostSummary(
        start=split,
        end=end,
        week=round(sum(r.week for r in rows), 2),
        before=round(sum(r.before for r in rows), 2),
        top=sorted(rows, key=lambda r: -r.week)[:TOP],
        up=sorted((r for r in moved if r.change > 0), key=lambda r: -r.change)[:3],
        down=sorted((r for r in moved if r.change < 0), key=lambda r: r.change)[:3],
        anomalies=sorted(anomalies, key=lambda r: -r.change),
    )
