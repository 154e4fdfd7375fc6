from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.core.severity import Severity
from bot.core.timeline import TimelineEntry
from bot.incidents.model import Incident, State
from bot.incidents.render import announcement_blocks, list_blocks, timeline_blocks

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def make(n: int, title: str = "t") -> Incident:
    return Incident(
        number=n, title=title, severity=Severity.P2, opened_by="U1", opened_at=T0, respond_by=T0 + timedelta(hours=1)
    )


def test_blocks_stay_inside_slack_limits_for_huge_lists() -> None:
    incidents = [make(i, "x" * 150) for i in range(1, 5001)]
    blocks = [b.to_dict() for b in list_blocks(incidents, T0)]  # to_dict() validates Slack's limits
    assert len(blocks) <= 50
    assert "and 4980 more" in json.dumps(blocks)
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)


def test_timeline_is_paginated() -> None:
    entries = [TimelineEntry(at=T0, actor="U1", kind="note", text="y" * 400) for _ in range(500)]
    blocks = [b.to_dict() for b in timeline_blocks(make(1), entries, 500)]
    assert len(blocks) <= 50 and "Page 1 of 13 (500 entries)" in json.dumps(blocks)
    assert "/incident timeline INC-1 2" in json.dumps(blocks)
    last = [b.to_dict() for b in timeline_blocks(make(1), entries, 500, page=13)]
    text = json.dumps(last)
    assert "Page 13 of 13" in text and "next:" not in text and text.count("y" * 400) == 20


def test_announcement_offers_only_the_postmortem_when_closed() -> None:
    closed = make(3).model_copy(update={"state": State.CLOSED})
    (actions,) = [b.to_dict() for b in announcement_blocks(closed, T0) if b.to_dict()["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["incident_postmortem"]
