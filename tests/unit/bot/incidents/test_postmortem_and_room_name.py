from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.severity import Severity
from bot.core.timeline import TimelineEntry
from bot.incidents.model import Incident, State
from bot.incidents.postmortem import build
from bot.incidents.room_name import MAX_NAME, channel_name, slug

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_channel_names_follow_slack_rules() -> None:
    assert channel_name(42, "Checkout API returns 500s") == "inc-42-checkout-api-returns-500s"
    assert channel_name(42, "Checkout API returns 500s", attempt=2) == "inc-42-checkout-api-returns-500s-2"
    assert slug("Ünïcödé & Émojis 🔥 / Paths!") == "unicode-emojis-paths"
    long = channel_name(7, "x" * 200, attempt=12)
    assert len(long) <= MAX_NAME and long.endswith("-12") and long.startswith("inc-7-")
    assert channel_name(9, "🔥🔥🔥") == "inc-9"
    for name in (long, channel_name(1, "A_B c--d")):
        assert name == name.lower() and all(ch.isalnum() or ch in "-_" for ch in name)


def test_postmortem_sections_and_durations() -> None:
    incident = Incident(
        number=7,
        title="Checkout API returns 500s",
        severity=Severity.P1,
        state=State.RESOLVED,
        opened_by="U0ALICE",
        opened_at=T0,
        respond_by=at(15),
        commander="U0BOB",
        acknowledged_by="U0BOB",
        acknowledged_at=at(4.5),
        mitigated_by="U0BOB",
        mitigated_at=at(22),
        resolved_by="U0BOB",
        resolved_at=at(95),
    )
    timeline = [
        TimelineEntry(at=T0, actor="U0ALICE", kind="opened", text="P1: Checkout API returns 500s"),
        TimelineEntry(at=at(0.1), actor="U0BOB", kind="was paged", text="step 1: primary, at open"),
        TimelineEntry(at=at(4.5), actor="U0BOB", kind="acknowledged"),
        TimelineEntry(at=at(10), actor="U0BOB", kind="status update", text="rolling back | 2.4.1 → 2.4.0"),
        TimelineEntry(at=at(22), actor="U0BOB", kind="mitigated", text="rolled back"),
        TimelineEntry(at=at(95), actor="U0BOB", kind="resolved"),
    ]
    md = build(incident, timeline, timedelta(minutes=15), ZoneInfo("Europe/Berlin"), generated_at=at(100))
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Summary",
        "## Impact window",
        "## Time to acknowledge",
        "## Timeline",
        "## Actions taken",
        "## Root cause",
        "## Action items",
    ]
    assert "4m 30s against a 15m target — met" in md
    assert "**Impact duration (opened → resolved):** 1h 35m" in md
    assert "**Opened → mitigated:** 22m" in md and "**Mitigated → resolved:** 1h 13m" in md
    assert "2026-03-02 11:04:30 CET" in md  # Berlin time
    assert "rolling back \\| 2.4.1 → 2.4.0" in md  # table-safe
    actions = md.split("## Actions taken")[1].split("## Root cause")[0]
    assert "was paged" not in actions and "opened" not in actions and "mitigated: rolled back" in actions


def test_missed_target() -> None:
    incident = Incident(
        number=8,
        title="t",
        severity=Severity.P1,
        opened_by="U1",
        opened_at=T0,
        respond_by=at(15),
        acknowledged_by="U2",
        acknowledged_at=at(20),
    )
    md = build(incident, [], timedelta(minutes=15), ZoneInfo("UTC"), generated_at=at(30))
    assert "20m against a 15m target — missed by 5m" in md and "- none recorded" in md


def test_the_changes_before_it_are_on_the_timeline_in_order_and_not_actions() -> None:
    incident = Incident(number=9, title="t", severity=Severity.P1, opened_by="U1", opened_at=T0, respond_by=at(15))
    timeline = [TimelineEntry(at=T0, actor="U1", kind="opened", text="P1: t")]
    changes = [
        TimelineEntry(at=at(-12), actor="argocd", kind="changed", text="production/api-gateway rollout 2.4.1 → 2.4.2"),
        TimelineEntry(at=at(-50), actor="kubectl", kind="changed", text="production/payments-config ConfigMap changed"),
    ]
    md = build(incident, timeline, timedelta(minutes=15), ZoneInfo("UTC"), generated_at=at(30), changes=changes)
    rows = md.split("## Timeline")[1].split("## Actions taken")[0]
    assert rows.index("payments-config") < rows.index("api-gateway") < rows.index("P1: t")
    assert "@argocd" in rows
    assert "api-gateway" not in md.split("## Actions taken")[1]
