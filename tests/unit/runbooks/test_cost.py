"""The weekly cost comparison (pure): totals, top services, movers, anomalies."""

from __future__ import annotations

from datetime import date, timedelta

from runbooks.aws.cost import summarize

END = date(2026, 11, 30)


def days(before: float, week: float) -> dict[str, float]:
    """7 days at ``before`` a day, then 7 at ``week`` a day."""
    return {(END - timedelta(days=14 - i)).isoformat(): (before if i < 7 else week) for i in range(14)}


def test_week_over_week_movers_and_anomalies() -> None:
    costs = {
        "Amazon EC2": days(100, 110),  # +70 (+10 %): a mover, no anomaly
        "Amazon RDS": days(20, 40),  # +140 (+100 %): anomaly
        "AWS Lambda": days(1, 2),  # +7 (+100 %) but under $50: no anomaly
        "Amazon S3": days(10, 5),  # −35
        "New thing": days(0, 10),  # +70, nothing before: anomaly
    }
    s = summarize(costs, END, anomaly_percent=30, anomaly_dollars=50)
    assert (s.week, s.before) == ((7 * 167), (7 * 131))
    assert [r.service for r in s.top] == ["Amazon EC2", "Amazon RDS", "New thing", "Amazon S3", "AWS Lambda"]
    assert [r.service for r in s.up] == ["Amazon RDS", "Amazon EC2", "New thing"]
    assert [(r.service, r.change) for r in s.down] == [("Amazon S3", -35.0)]
    assert [r.service for r in s.anomalies] == ["Amazon RDS", "New thing"]
    assert s.anomalies[0].percent == 100.0 and s.anomalies[1].percent is None
