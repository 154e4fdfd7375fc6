"""The digest grouped by team when ``teams`` is configured (its open incidents, and each cluster section's findings in
namespaces); unchanged without (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.core.settings.teams import Owns, Team, owners
from bot.core.severity import Severity
from bot.digest import render, text
from bot.digest.model import Digest
from bot.incidents.model import Incident
from runbooks.checklist.model import ClusterHealth, Finding, Section

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
TEAMS = {"platform": Team(owns=Owns(namespaces=["kube-system"])), "data": Team(owns=Owns(namespaces=["kafka"]))}


def incident(n: int, team: str | None) -> Incident:
    opened = NOW - timedelta(hours=n)
    return Incident(number=n, title=f"incident {n}", severity=Severity.P2, opened_by="U0X", opened_at=opened,
                    respond_by=opened + timedelta(minutes=30), team=team)  # fmt: skip


INCIDENTS = [incident(1, None), incident(2, "data"), incident(3, "platform"), incident(4, "data")]


def section(digest: Digest) -> str:
    (last,) = [b.to_dict() for b in render.blocks(digest)][-1:]
    return str(last["text"]["text"])


def test_open_incidents_group_by_team_the_default_team_last() -> None:
    digest = Digest(at=NOW, clusters=[], incidents=INCIDENTS, owners=owners(TEAMS, "platform"))
    body = section(digest)
    head, data, platform = body.split("\n*")
    assert head == "*Open incidents*"
    assert data.startswith("data* (2)") and "INC-2" in data and "INC-4" in data and "INC-1" not in data
    assert platform.startswith("platform (and what no team owns)* (2)")
    assert "INC-1" in platform and "INC-3" in platform
    plain = text.text(digest)
    assert "Open incidents\n  data (2)\n  • " in plain and "\n  platform (and what no team owns) (2)\n" in plain


def test_without_teams_the_open_incidents_are_as_before() -> None:
    plain = Digest(at=NOW, clusters=[], incidents=INCIDENTS)
    assert section(plain) == "*Open incidents*\n" + "\n".join(text.incident_lines(INCIDENTS, NOW))
    assert "(2)" not in json.dumps([b.to_dict() for b in render.blocks(plain)])
    grouped = Digest(at=NOW, clusters=[], incidents=[], owners=owners(TEAMS, None))
    assert section(grouped) == "*Open incidents*\n✅ none open"  # nothing open: no headings
    unread = Digest(at=NOW, clusters=[], incidents_note="down", owners=owners(TEAMS, None))
    assert section(unread) == "*Open incidents*\n⚠️ down"


def cluster(*sections: Section) -> ClusterHealth:
    return ClusterHealth(name="prod", reachable=True, version="1.29", sections=list(sections))


PODS = Section(key="pods", title="Pods not Running or Succeeded", findings=[
    Finding(namespace="kafka", name="broker-0", why="CrashLoopBackOff", rank=3),
    Finding(namespace="production", name="api-1", why="CrashLoopBackOff", rank=3),
    Finding(namespace="kube-system", name="coredns-1", why="Pending", rank=2),
    Finding(namespace="kafka", name="broker-1", why="Pending", rank=2),
])  # fmt: skip
NODES = Section(key="nodes", title="Nodes", findings=[Finding(namespace=None, name="ip-10-0-1-14", why="NotReady")])


def test_a_clusters_findings_in_namespaces_group_by_the_team_that_owns_them() -> None:
    digest = Digest(at=NOW, clusters=[cluster(PODS, NODES)], incidents=[], owners=owners(TEAMS, "platform"))
    shown = [b.to_dict()["text"]["text"] for b in render.blocks(digest) if b.to_dict().get("type") == "section"]
    pods = next(t for t in shown if t.startswith("*Pods not Running"))
    assert pods.split("\n") == [
        "*Pods not Running or Succeeded* (4)",
        "*data* (2)",
        "• `kafka/broker-0` — CrashLoopBackOff",
        "• `kafka/broker-1` — Pending",
        "*platform (and what no team owns)* (2)",  # kube-system is platform's; production is nobody's
        "• `production/api-1` — CrashLoopBackOff",
        "• `kube-system/coredns-1` — Pending",
    ]
    nodes = next(t for t in shown if t.startswith("*Nodes*"))
    assert nodes == "*Nodes* (1)\n• `ip-10-0-1-14` — NotReady"  # no namespace: no owner, no headings
    plain = text.text(digest)
    assert "  Pods not Running or Succeeded (4)\n    data (2)\n    • kafka/broker-0 — CrashLoopBackOff\n" in plain


def test_a_cut_section_counts_each_teams_findings_in_full_and_names_whose_the_rest_are() -> None:
    many = Section(key="pods", title="Pods", findings=[
        Finding(namespace="kafka" if i % 2 else "kube-system", name=f"p{i}", why="Pending") for i in range(30)
    ] + [Finding(namespace="kafka", name="late", why="Pending", rank=1)])  # fmt: skip
    lines = text.section_text(many, owners(TEAMS, "platform")).split("\n")
    assert "*data* (16)" in lines and "*platform (and what no team owns)* (15)" in lines
    assert sum(line.startswith("• ") for line in lines) == text.MAX_LINES
    assert lines[-1] == "…and 19 more (data 10, platform 9)"
    only_platform_shown = Section(key="pods", title="Pods", findings=[
        *(Finding(namespace="kube-system", name=f"p{i}", why="Pending") for i in range(12)),
        Finding(namespace="kafka", name="broker-0", why="Pending"),
    ])  # fmt: skip
    cut = text.section_text(only_platform_shown, owners(TEAMS, "platform")).split("\n")
    assert "*data* (1)" not in cut and cut[-1] == "…and 1 more (data 1)"  # data's one finding is still named


def test_without_teams_a_clusters_findings_are_as_before() -> None:
    lines = text.section_text(PODS).split("\n")
    assert lines[1:] == [f"• `{f.ref}` — {f.why}" for f in PODS.findings]
