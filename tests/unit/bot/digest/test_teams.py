"""The digest's open incidents grouped by team when ``teams`` is configured; unchanged without (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.core.settings.teams import Owns, Team, owners
from bot.core.severity import Severity
from bot.digest import render, text
from bot.digest.model import Digest
from bot.incidents.model import Incident

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
