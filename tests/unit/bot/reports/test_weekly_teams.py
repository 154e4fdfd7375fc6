"""The weekly report's reliability grouped by team when ``teams`` is configured; unchanged without (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.settings.teams import Owns, Team, owners
from bot.core.severity import Severity
from bot.incidents.model import Incident
from bot.incidents.render import severity_lines
from bot.reports.weekly import Access, Reliability, Weekly, reliability_lines

END = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TEAMS = {"platform": Team(owns=Owns(namespaces=["kube-system"])), "data": Team(owns=Owns(namespaces=["kafka"]))}


def incident(n: int, team: str | None, severity: Severity = Severity.P2) -> Incident:
    opened = END - timedelta(days=n)
    return Incident(number=n, title=f"incident {n}", severity=severity, opened_by="U0X", opened_at=opened,
                    respond_by=opened + timedelta(minutes=30), team=team)  # fmt: skip


INCIDENTS = [incident(1, None, Severity.P1), incident(2, "data"), incident(3, "data"), incident(4, "platform")]


def report(reliability: Reliability) -> Weekly:
    return Weekly(END - timedelta(days=7), END, None, "off", Access(), reliability)


def test_reliability_groups_incidents_by_team() -> None:
    paged = {1: 2, 3: 1}  # INC-1 paged twice (the default team's), INC-3 once (data's)
    week = Reliability(incidents=INCIDENTS, pages=3, paged=paged, owners=owners(TEAMS, "platform"))
    lines = reliability_lines(report(week))
    assert lines[0] == "_data_: 2 incident(s), 1 page(s)"
    assert lines[1:2] == [f"    {ln}" for ln in severity_lines(INCIDENTS[1:3])]
    assert lines[2] == "_platform (and what no team owns)_: 2 incident(s), 2 page(s)"
    assert lines[3:5] == [f"    {ln}" for ln in severity_lines([INCIDENTS[0], INCIDENTS[3]])]
    assert lines[5].startswith("Pages sent: 3")


def test_without_teams_reliability_is_as_before() -> None:
    plain = reliability_lines(report(Reliability(incidents=INCIDENTS, pages=3)))
    assert plain[:-2] == severity_lines(INCIDENTS)
    none = reliability_lines(report(Reliability(owners=owners(TEAMS, None))))
    assert none[0] == "✅ No incidents this week."
